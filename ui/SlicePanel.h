#pragma once
// A slice view with its title and a slider for the slice number.
#include <QWidget>

#include "ui/SliceView.h"

class QLabel;
class QSlider;

namespace jseg::ui {

class SlicePanel : public QWidget {
  Q_OBJECT
public:
  SlicePanel(ViewerModel* model, ViewKind kind, QWidget* parent = nullptr);
  SliceView* view() const { return view_; }
  QSlider* slider() const { return slider_; }

private:
  void sync();
  ViewerModel* model_;
  SliceView* view_;
  QSlider* slider_;
  QLabel* title_;
};

} // namespace jseg::ui
