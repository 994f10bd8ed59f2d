#include "ui/ParameterPanel.h"

#include "core/pipeline/SegmentationSession.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "core/base/Errors.h"
#include "ui/HistogramWidget.h"

namespace jseg::ui {

namespace {
const QString kCustomPreset = QStringLiteral("custom");  // values that match no preset

QString tip(const ParamSpec& s) {
  return QString("<b>%1</b> (%2)<br>%3").arg(QString::fromStdString(s.label), QString::fromStdString(s.cliFlag()),
                                           QString::fromStdString(s.help).toHtmlEscaped());
}
} // namespace

ParameterPanel::ParameterPanel(QWidget* parent) : QWidget(parent) {
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(4, 4, 4, 4);

  auto* presetRow = new QFormLayout;
  preset_ = new QComboBox;
  preset_->setObjectName("presetCombo");
  for (const auto& p : parameterPresets()) {
    preset_->addItem(QString::fromStdString(p.name));
    preset_->setItemData(preset_->count() - 1, QString::fromStdString(p.help), Qt::ToolTipRole);
  }
  preset_->setToolTip("Load a preset: paper = Moriya et al.'s settings (hours on a CPU), fast = minutes on a CPU, "
                       "texture = fast on small patches with a label per voxel and smoothed features");
  presetRow->addRow("Preset", preset_);
  lay->addLayout(presetRow);

  // Threshold window with histogram: the first thing a user tunes, so it is always visible.
  auto* maskBox = new QGroupBox("Mask");
  auto* maskLay = new QVBoxLayout(maskBox);
  channel_ = new QComboBox;
  channel_->setToolTip("Channel shown in the views and the histogram; the window applies to the first channel");
  channel_->hide();
  connect(channel_, &QComboBox::currentIndexChanged, this, [this](int i) {
    if (!updating_ && i >= 0) Q_EMIT channelChosen(i);
  });
  maskLay->addWidget(channel_);
  histogram_ = new HistogramWidget;
  maskLay->addWidget(histogram_);
  auto* form = new QFormLayout;
  auto mkThr = [&](const char* name) {
    const ParamSpec& s = paramSpec(name);
    auto* sb = new QDoubleSpinBox;
    sb->setRange(-1e9, 1e9);
    sb->setDecimals(2);
    sb->setToolTip(tip(s));
    sb->setKeyboardTracking(false);
    form->addRow(QString::fromStdString(s.label), sb);
    return sb;
  };
  lo_ = mkThr("threshold_lo");
  hi_ = mkThr("threshold_hi");
  maskLay->addLayout(form);
  showMask_ = new QCheckBox("Show mask overlay");
  showMask_->setChecked(false); // off at load: the tint hides the image until
                                // the user looks at the window
  showMask_->setToolTip(
      "Tint the voxels inside [low, high] amber on the "
      "slices (updated while you drag; key M)");
  maskLay->addWidget(showMask_);
  lay->addWidget(maskBox);

  // Every other schema parameter, grouped; advanced ones under a toggle per group.
  std::vector<std::string> groups;
  for (const auto& s : parameterSchema())
    if (s.group != "Mask" && std::find(groups.begin(), groups.end(), s.group) == groups.end()) groups.push_back(s.group);
  for (const auto& g : groups) {
    auto* box = new QGroupBox(QString::fromStdString(g));
    auto* bl = new QVBoxLayout(box);
    auto* basic = new QFormLayout;
    auto* advWidget = new QWidget;
    auto* adv = new QFormLayout(advWidget);
    adv->setContentsMargins(0, 0, 0, 0);
    int nAdv = 0;
    for (const auto& s : parameterSchema()) {
      if (s.group != g) continue;
      QWidget* ed = editorFor(s);
      if (s.name == "k") {
        // K has one control, the K picker's (MainWindow keeps this hidden editor in step with it), so the
        // parameters read here still carry it.
        ed->setParent(this);
        ed->hide();
        continue;
      }
      auto* label = new QLabel(QString::fromStdString(s.label));
      label->setToolTip(tip(s));
      (s.advanced ? adv : basic)->addRow(label, ed);
      if (s.advanced) ++nAdv;
    }
    bl->addLayout(basic);
    if (g == "Segmentation") {
      showGrid_ = new QCheckBox("Show sampling grid");
      showGrid_->setToolTip("Draw the patch centres at the current stride on the slices, and the patch size as a "
                            "square around the crosshair");
      bl->addWidget(showGrid_);
      connect(showGrid_, &QCheckBox::toggled, this, [this] { emitGrid(); });
    }
    if (nAdv > 0) {
      auto* toggle = new QToolButton;
      toggle->setText(QString("Advanced (%1)").arg(nAdv));
      toggle->setCheckable(true);
      toggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
      toggle->setArrowType(Qt::RightArrow);
      toggle->setAutoRaise(true);
      advWidget->setVisible(false);
      connect(toggle, &QToolButton::toggled, this, [toggle, advWidget](bool on) {
        advWidget->setVisible(on);
        toggle->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
      });
      bl->addWidget(toggle);
      bl->addWidget(advWidget);
    }
    lay->addWidget(box);
  }
  lay->addStretch();

  connect(preset_, &QComboBox::currentTextChanged, this, [this](const QString& name) {
    if (!updating_ && name != kCustomPreset) applyPreset(name.toStdString());
  });
  // After any edit, or a model whose training settings were copied in, the combo must not keep claiming
  // a preset the values no longer are.
  connect(this, &ParameterPanel::parametersChanged, this, &ParameterPanel::syncPresetName);
  auto thrChanged = [this] {
    if (updating_) return;
    histogram_->setRange(lo_->value(), hi_->value());
    Q_EMIT thresholdChanged(lo_->value(), hi_->value());
  };
  connect(lo_, &QDoubleSpinBox::valueChanged, this, thrChanged);
  connect(hi_, &QDoubleSpinBox::valueChanged, this, thrChanged);
  connect(histogram_, &HistogramWidget::rangeEdited, this, [this](double lo, double hi) {
    updating_ = true;
    lo_->setValue(lo);
    hi_->setValue(hi);
    updating_ = false;
    Q_EMIT thresholdChanged(lo_->value(), hi_->value());
  });
  connect(showMask_, &QCheckBox::toggled, this, &ParameterPanel::maskVisibilityChanged);
  setParameters(Parameters::preset(SegmentationSession::defaultPreset()));
}

QWidget* ParameterPanel::editorFor(const ParamSpec& s) {
  QWidget* w = nullptr;
  switch (s.type) {
    case ParamType::Int: {
      auto* sb = new QSpinBox;
      sb->setRange(int(std::max(-2147483647.0, s.min)), int(std::min(2147483647.0, s.max)));
      sb->setKeyboardTracking(false);
      connect(sb, &QSpinBox::valueChanged, this, [this, name = s.name] {
        if (updating_) return;
        if (name == "stride" || name == "patch_size") emitGrid();
        Q_EMIT parametersChanged();
      });
      w = sb;
      break;
    }
    case ParamType::Double: {
      auto* sb = new QDoubleSpinBox;
      sb->setRange(s.min, s.max);
      double mag = std::abs(s.defaultValue.get<double>());
      sb->setDecimals(mag > 0 && mag < 1e-3 ? 7 : 4);
      sb->setSingleStep(mag > 0 ? mag / 10 : 0.1);
      sb->setKeyboardTracking(false);
      connect(sb, &QDoubleSpinBox::valueChanged, this, [this] {
        if (!updating_) Q_EMIT parametersChanged();
      });
      w = sb;
      break;
    }
    case ParamType::Bool: {
      auto* cb = new QCheckBox;
      connect(cb, &QCheckBox::toggled, this, [this] {
        if (!updating_) Q_EMIT parametersChanged();
      });
      w = cb;
      break;
    }
    case ParamType::Choice: {
      auto* cb = new QComboBox;
      for (const auto& c : s.choices) cb->addItem(QString::fromStdString(c));
      connect(cb, &QComboBox::currentTextChanged, this, [this] {
        if (!updating_) Q_EMIT parametersChanged();
      });
      w = cb;
      break;
    }
  }
  w->setToolTip(tip(s));
  w->setObjectName(QString::fromStdString("param_" + s.name));
  editors_[s.name] = w;
  return w;
}

void ParameterPanel::setEditorValue(const std::string& name, const nlohmann::json& v) {
  auto it = editors_.find(name);
  if (it == editors_.end()) return;
  if (auto* sb = qobject_cast<QSpinBox*>(it->second)) sb->setValue(v.get<int>());
  else if (auto* ds = qobject_cast<QDoubleSpinBox*>(it->second)) ds->setValue(v.get<double>());
  else if (auto* cb = qobject_cast<QCheckBox*>(it->second)) cb->setChecked(v.get<bool>());
  else if (auto* co = qobject_cast<QComboBox*>(it->second)) co->setCurrentText(QString::fromStdString(v.get<std::string>()));
}

void ParameterPanel::setParameters(const Parameters& p) {
  updating_ = true;
  for (const auto& s : parameterSchema()) setEditorValue(s.name, p.get(s.name));
  updating_ = false;
  emitGrid();
  Q_EMIT parametersChanged();
}

void ParameterPanel::applyPreset(const std::string& name) {
  // A preset replaces the tuned values but keeps the threshold the user chose for this volume.
  double lo = lo_->value(), hi = hi_->value();
  Parameters p = Parameters::preset(name);
  setParameters(p);
  updating_ = true;
  preset_->setCurrentText(QString::fromStdString(name));
  lo_->setValue(lo);
  hi_->setValue(hi);
  updating_ = false;
}

Parameters ParameterPanel::parameters() const {
  Parameters p = editorValues();
  p.validate();
  return p;
}

Parameters ParameterPanel::editorValues() const {
  Parameters p;
  for (const auto& [name, w] : editors_) {
    if (auto* sb = qobject_cast<QSpinBox*>(w)) p.set(name, sb->value());
    else if (auto* ds = qobject_cast<QDoubleSpinBox*>(w)) p.set(name, ds->value());
    else if (auto* cb = qobject_cast<QCheckBox*>(w)) p.set(name, cb->isChecked());
    else if (auto* co = qobject_cast<QComboBox*>(w)) p.set(name, co->currentText().toStdString());
  }
  p.set("threshold_lo", lo_->value());
  p.set("threshold_hi", hi_->value());
  return p;
}

void ParameterPanel::setChannels(const QStringList& names) {
  updating_ = true;
  const int current = std::max(0, channel_->currentIndex());
  channel_->clear();
  for (const auto& n : names) channel_->addItem("Channel: " + n);
  channel_->setCurrentIndex(current < names.size() ? current : 0);
  channel_->setVisible(names.size() > 1);
  updating_ = false;
}

void ParameterPanel::showChannelHistogram(int channel, const VolumeStats& s) {
  histogram_->setStats(channel == 0 ? firstChannelStats_ : s);
  lo_->setEnabled(channel == 0);
  hi_->setEnabled(channel == 0);
}

void ParameterPanel::setStats(const VolumeStats& s) {
  firstChannelStats_ = s;
  lo_->setEnabled(true);
  hi_->setEnabled(true);
  histogram_->setStats(s);
  double span = double(s.max) - s.min;
  int decimals = span >= 100 ? 1 : (span >= 1 ? 3 : 5);
  for (auto* sb : {lo_, hi_}) {
    sb->setDecimals(decimals);
    sb->setSingleStep(span > 0 ? span / 200 : 1);
  }
}

void ParameterPanel::setThreshold(double lo, double hi) {
  updating_ = true;
  lo_->setValue(lo);
  hi_->setValue(hi);
  updating_ = false;
  histogram_->setRange(lo_->value(), hi_->value());
  Q_EMIT thresholdChanged(lo_->value(), hi_->value());
}

double ParameterPanel::thresholdLo() const { return lo_->value(); }
double ParameterPanel::thresholdHi() const { return hi_->value(); }
bool ParameterPanel::showMask() const { return showMask_->isChecked(); }
bool ParameterPanel::showGrid() const { return showGrid_ && showGrid_->isChecked(); }

void ParameterPanel::setShowMask(bool on) { showMask_->setChecked(on); }

void ParameterPanel::setShowGrid(bool on) {
  if (showGrid_) showGrid_->setChecked(on);
}

void ParameterPanel::setValue(const std::string& name, const nlohmann::json& value) {
  // Not validated as a whole: values set one at a time (a model's settings) pass through states where,
  // e.g., the patch size no longer fits the previous network.
  Parameters p = editorValues();
  p.set(name, value);
  setEditorValue(name, p.get(name));
  syncPresetName();
}

QString ParameterPanel::presetName() const { return preset_->currentText(); }

void ParameterPanel::syncPresetName() {
  auto same = [](const nlohmann::json& a, const nlohmann::json& b) {
    if (a.is_number() && b.is_number()) {
      // Spin boxes round to their decimals; a relative tolerance keeps 5e-05 equal to itself.
      const double x = a.get<double>(), y = b.get<double>();
      return std::abs(x - y) <= 1e-6 * std::max({1e-12, std::abs(x), std::abs(y)});
    }
    return a == b;
  };
  QString match = kCustomPreset;
  try {
    const Parameters current = editorValues();
    for (const auto& pr : parameterPresets()) {
      const Parameters preset = Parameters::preset(pr.name);
      bool equal = true;
      for (const auto& s : parameterSchema())
        if (s.name != "threshold_lo" && s.name != "threshold_hi" && !same(preset.get(s.name), current.get(s.name))) {
          equal = false;
          break;
        }
      if (equal) {
        match = QString::fromStdString(pr.name);
        break;
      }
    }
  } catch (const std::exception&) {
    // Inconsistent values (being edited) are not any preset.
  }
  if (preset_->findText(match) < 0) preset_->addItem(match);
  const bool was = updating_;
  updating_ = true;
  preset_->setCurrentText(match);
  updating_ = was;
}

void ParameterPanel::emitGrid() {
  auto* stride = qobject_cast<QSpinBox*>(editors_["stride"]);
  auto* patch = qobject_cast<QSpinBox*>(editors_["patch_size"]);
  if (!stride || !patch || !showGrid_) return;
  Q_EMIT gridChanged(showGrid_->isChecked(), stride->value(), patch->value());
}

nlohmann::json ParameterPanel::value(const std::string& name) const { return editorValues().get(name); }

} // namespace jseg::ui
