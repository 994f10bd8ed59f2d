#pragma once
// The tuning panel, built from the one parameter schema (core/params): a preset combo, the threshold
// window with the histogram and the live mask preview, then one group box per schema group with the
// advanced parameters behind a collapsible section. Tooltips are the schema's help texts.
#include <QStringList>
#include <QWidget>
#include <map>
#include <string>

#include "core/params/ParameterSchema.h"
#include "ui/VolumeStats.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;

namespace jseg::ui {

class HistogramWidget;

class ParameterPanel : public QWidget {
  Q_OBJECT
public:
  explicit ParameterPanel(QWidget* parent = nullptr);

  // Current values; InputError (from the schema's validation) when they are inconsistent.
  Parameters parameters() const;
  void setParameters(const Parameters& p);
  // The preset the values are ("custom" when none).
  QString presetName() const;
  void applyPreset(const std::string& name);
  void setStats(const VolumeStats& s);
  // The volume's channels (the first's name first): a selector above the histogram shows one channel's histogram
  // (and the views show that channel). The window applies to the first channel only, so its fields are enabled
  // only while the first is shown. Hidden with one channel.
  void setChannels(const QStringList& names);
  void showChannelHistogram(int channel, const VolumeStats& s);
  void setThreshold(double lo, double hi);
  double thresholdLo() const;
  double thresholdHi() const;
  bool showMask() const;
  bool showGrid() const;
  void setShowGrid(bool on);
  void setShowMask(bool on);
  // Sets one schema parameter's editor (InputError for an unknown name or a bad value).
  void setValue(const std::string& name, const nlohmann::json& value);
  // What the editor of `name` shows (not validated against the other parameters).
  nlohmann::json value(const std::string& name) const;

Q_SIGNALS:
  void thresholdChanged(double lo, double hi);
  void maskVisibilityChanged(bool on);
  void gridChanged(bool show, int stride, int patchSize);
  void parametersChanged();
  void channelChosen(int channel);

private:
  QWidget* editorFor(const ParamSpec& spec);
  void setEditorValue(const std::string& name, const nlohmann::json& v);
  void emitGrid();
  Parameters editorValues() const;  // what the editors show, not validated
  // Names the preset the current values equal (threshold aside) in the combo, or "custom".
  void syncPresetName();

  QComboBox* preset_ = nullptr;
  QComboBox* channel_ = nullptr;
  VolumeStats firstChannelStats_;
  HistogramWidget* histogram_ = nullptr;
  QDoubleSpinBox* lo_ = nullptr;
  QDoubleSpinBox* hi_ = nullptr;
  QCheckBox* showMask_ = nullptr;
  QCheckBox* showGrid_ = nullptr;
  std::map<std::string, QWidget*> editors_;
  bool updating_ = false;
};

} // namespace jseg::ui
