#include "ui/SlicePanel.h"

#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QVBoxLayout>

namespace jseg::ui {

SlicePanel::SlicePanel(ViewerModel* model, ViewKind kind, QWidget* parent) : QWidget(parent), model_(model) {
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(1, 1, 1, 1);
  lay->setSpacing(1);
  title_ = new QLabel(viewKindName(kind));
  title_->setStyleSheet("font-weight: bold; padding-left: 3px;");
  // The title's text changes with the slice; it must not make the splitter re-divide the views.
  title_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
  view_ = new SliceView(model, kind);
  slider_ = new QSlider(Qt::Horizontal);
  slider_->setToolTip(QString("%1 slice").arg(viewKindName(kind)));
  lay->addWidget(title_);
  lay->addWidget(view_, 1);
  lay->addWidget(slider_);
  connect(slider_, &QSlider::valueChanged, this, [this](int v) {
    auto c = model_->cursor();
    c[model_->axes(view_->kind()).sliceAxis] = v;
    model_->setCursor(c);
  });
  connect(model_, &ViewerModel::cursorChanged, this, &SlicePanel::sync);
  connect(model_, &ViewerModel::volumeChanged, this, &SlicePanel::sync);
  sync();
}

void SlicePanel::sync() {
  const QSignalBlocker block(slider_);
  if (!model_->hasVolume()) {
    slider_->setRange(0, 0);
    title_->setText(viewKindName(view_->kind()));
    return;
  }
  int axis = model_->axes(view_->kind()).sliceAxis;
  int n = int(model_->volume()->dims()[axis]);
  slider_->setRange(0, n - 1);
  slider_->setValue(int(model_->cursor()[axis]));
  // Slices count from 1, as in ITK-SNAP and Slicer's slice numbers (the voxel
  // read-out keeps 0-based indices).
  title_->setText(
      QString("%1 — slice %2 of %3").arg(viewKindName(view_->kind())).arg(model_->cursor()[axis] + 1).arg(n));
}

} // namespace jseg::ui
