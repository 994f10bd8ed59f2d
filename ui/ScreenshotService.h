#pragma once
// Screenshots of one view (axial, coronal, sagittal, 3D) or of the whole
// window, magnified ×1–×4: the VTK views render again at that resolution, the
// Qt widgets around them are scaled. Used by File > Save screenshot and by
// `juleseg --screenshot OUT.png --view V --scale N`.
#include <QImage>
#include <QString>
#include <QStringList>

namespace jseg::ui {

class MainWindow;

class ScreenshotService {
public:
  explicit ScreenshotService(MainWindow* window) : w_(window) {}
  // "axial", "coronal", "sagittal", "3d", "window".
  static QStringList targets() { return {"axial", "coronal", "sagittal", "3d", "window"}; }
  static constexpr int kMaxScale = 4;
  // Null image for an unknown target or a view that cannot be read back (no X
  // display).
  QImage capture(const QString& target, int scale = 1) const;

private:
  QImage composeWindow(int scale) const;
  MainWindow* w_;
};

} // namespace jseg::ui
