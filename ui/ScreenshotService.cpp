#include "ui/ScreenshotService.h"

#include <QPainter>
#include <algorithm>

#include "ui/MainWindow.h"
#include "ui/PlanesView.h"
#include "ui/SliceView.h"

namespace jseg::ui {

QImage ScreenshotService::capture(const QString& target, int scale) const {
  scale = std::clamp(scale, 1, kMaxScale);
  const QString t = target.toLower();
  if (t == "window") return composeWindow(scale);
  if (t == "3d") return w_->planesView()->grabImage(scale);
  for (auto k : {ViewKind::Axial, ViewKind::Coronal, ViewKind::Sagittal})
    if (t == QString(viewKindName(k)).toLower()) return w_->sliceView(k)->grabImage(scale);
  return {};
}

QImage ScreenshotService::composeWindow(int scale) const {
  // Qt cannot see into the native VTK windows: grab the widgets, then draw each
  // view's own read-back on top.
  QImage img = w_->grab().toImage().convertToFormat(QImage::Format_RGB32);
  img.setDevicePixelRatio(1);
  if (scale > 1) img = img.scaled(img.size() * scale, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
  const double s = double(img.width()) / std::max(1, w_->width());
  QPainter p(&img);
  for (VtkView* v : w_->findChildren<VtkView*>()) {
    if (!v->isVisible()) continue;
    QImage shot = v->grabImage(scale);
    if (shot.isNull()) continue;
    const QPoint pos = v->mapTo(w_, QPoint(0, 0));
    p.drawImage(QRectF(pos.x() * s, pos.y() * s, v->width() * s, v->height() * s), shot);
  }
  return img;
}

} // namespace jseg::ui
