#pragma once
// Intensity histogram (log counts) with the threshold window [lo, hi] drawn on it. Dragging a
// boundary line moves it; a click elsewhere moves the nearer boundary there.
#include <QWidget>

#include "ui/VolumeStats.h"

namespace jseg::ui {

class HistogramWidget : public QWidget {
  Q_OBJECT
public:
  explicit HistogramWidget(QWidget* parent = nullptr);
  void setStats(const VolumeStats& s);
  void setRange(double lo, double hi);
  QSize sizeHint() const override { return {260, 90}; }

Q_SIGNALS:
  void rangeEdited(double lo, double hi);

protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent*) override { dragging_ = -1; }

private:
  double xToValue(double x) const;
  double valueToX(double v) const;
  VolumeStats stats_;
  double lo_ = 0, hi_ = 0;
  int dragging_ = -1;  // 0 = lo, 1 = hi
};

} // namespace jseg::ui
