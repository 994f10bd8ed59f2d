#pragma once
// Where the window's docks go and how large the window starts. The window
// starts at a size that fits the screen it opens on (a fixed 1400×880 ran off a
// 1024×700 or 2×-scaled screen). On a wide window the Tuning dock is on the
// left, Training / K picker / Labels are tabbed on the right and Jobs is at the
// bottom; on a narrow one every dock is a tab on the right, so the four views
// keep most of the window. Docks can be moved and closed but not torn off into
// floating windows by accident, and each panel sits in a scroll area so a dock
// can shrink below its panel's natural size.
#include <QSize>
#include <Qt>

class QDockWidget;
class QMainWindow;
class QScreen;
class QWidget;

namespace jseg::ui {

class DockLayout {
public:
  // Below this window width the docks share one tabbed column on the right.
  static constexpr int kCompactWidth = 1300;

  static QDockWidget* addDock(QMainWindow* window, const QString& title, const char* objectName, QWidget* panel,
                              Qt::DockWidgetArea area);
  // 90 % of the screen's available area, at most 1400×880 logical pixels.
  static QSize initialWindowSize(const QScreen* screen);
  // Places the docks named TuningDock, TrainingDock, KPickerDock, LabelsDock
  // and JobsDock for a window of `size`.
  static void arrange(QMainWindow* window, QSize size);
};

} // namespace jseg::ui
