#include "ui/HistogramWidget.h"

#include <QMouseEvent>
#include <QPainter>
#include <algorithm>
#include <cmath>

namespace jseg::ui {

HistogramWidget::HistogramWidget(QWidget* parent) : QWidget(parent) {
  setMinimumHeight(70);
  setToolTip("Intensity histogram (log scale). The shaded window is the threshold [low, high]: drag its edges "
             "or click to move the nearer edge.");
}

void HistogramWidget::setStats(const VolumeStats& s) {
  stats_ = s;
  update();
}

void HistogramWidget::setRange(double lo, double hi) {
  lo_ = lo;
  hi_ = hi;
  update();
}

double HistogramWidget::xToValue(double x) const {
  double t = std::clamp(x / std::max(1, width() - 1), 0.0, 1.0);
  return stats_.min + t * (double(stats_.max) - stats_.min);
}

double HistogramWidget::valueToX(double v) const {
  double span = double(stats_.max) - stats_.min;
  if (span <= 0) return 0;
  return std::clamp((v - stats_.min) / span, 0.0, 1.0) * (width() - 1);
}

void HistogramWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  if (stats_.bins.empty()) return;
  const int n = int(stats_.bins.size());
  double maxLog = 0;
  for (auto b : stats_.bins) maxLog = std::max(maxLog, std::log1p(double(b)));
  if (maxLog <= 0) return;
  const double bw = double(width()) / n;
  double xl = valueToX(lo_), xh = valueToX(hi_);
  p.fillRect(QRectF(xl, 0, std::max(1.0, xh - xl), height()), QColor(40, 170, 230, 50));
  for (int i = 0; i < n; ++i) {
    double h = std::log1p(double(stats_.bins[i])) / maxLog * (height() - 4);
    double x = i * bw;
    bool inside = stats_.binCenter(i) >= lo_ && stats_.binCenter(i) <= hi_;
    p.fillRect(QRectF(x, height() - h, std::max(1.0, bw), h), inside ? QColor(30, 140, 200) : QColor(130, 130, 130));
  }
  p.setPen(QPen(QColor(230, 120, 0), 2));
  p.drawLine(QPointF(xl, 0), QPointF(xl, height()));
  p.drawLine(QPointF(xh, 0), QPointF(xh, height()));
}

void HistogramWidget::mousePressEvent(QMouseEvent* e) {
  double x = e->position().x();
  dragging_ = std::abs(x - valueToX(lo_)) <= std::abs(x - valueToX(hi_)) ? 0 : 1;
  mouseMoveEvent(e);
}

void HistogramWidget::mouseMoveEvent(QMouseEvent* e) {
  if (dragging_ < 0) return;
  double v = xToValue(e->position().x());
  if (dragging_ == 0) lo_ = std::min(v, hi_);
  else hi_ = std::max(v, lo_);
  update();
  Q_EMIT rangeEdited(lo_, hi_);
}

} // namespace jseg::ui
