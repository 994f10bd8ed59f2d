#include "ui/DockLayout.h"

#include <QDockWidget>
#include <QMainWindow>
#include <QScreen>
#include <QScrollArea>
#include <QTabWidget>
#include <algorithm>

namespace jseg::ui {

QDockWidget* DockLayout::addDock(QMainWindow* window, const QString& title, const char* objectName, QWidget* panel,
                                 Qt::DockWidgetArea area) {
  auto* dock = new QDockWidget(title, window);
  dock->setObjectName(objectName);
  dock->setFeatures(QDockWidget::DockWidgetClosable | QDockWidget::DockWidgetMovable);
  auto* scroll = new QScrollArea;
  scroll->setWidget(panel);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setMinimumWidth(160);
  dock->setWidget(scroll);
  window->addDockWidget(area, dock);
  return dock;
}

QSize DockLayout::initialWindowSize(const QScreen* screen) {
  const QSize wanted(1400, 880);
  if (!screen) return wanted;
  const QSize avail = screen->availableGeometry().size();
  return QSize(std::min(wanted.width(), int(avail.width() * 0.9)),
               std::min(wanted.height(), int(avail.height() * 0.9)));
}

void DockLayout::arrange(QMainWindow* w, QSize size) {
  auto dock = [w](const char* name) { return w->findChild<QDockWidget*>(name); };
  QDockWidget* tune = dock("TuningDock");
  QDockWidget* train = dock("TrainingDock");
  QDockWidget* kpick = dock("KPickerDock");
  QDockWidget* labels = dock("LabelsDock");
  QDockWidget* jobs = dock("JobsDock");
  if (!tune || !train || !kpick || !labels || !jobs) return;
  const bool compact = size.width() < kCompactWidth;
  // Moving a dock hides it; what the user (or a test) had closed stays closed.
  bool visible[5];
  int i = 0;
  for (auto* d : {tune, train, kpick, labels, jobs}) visible[i++] = !d->isHidden();
  for (auto* d : {tune, train, kpick, labels, jobs}) w->removeDockWidget(d);
  if (compact) {
    w->addDockWidget(Qt::RightDockWidgetArea, tune);
    for (auto* d : {train, kpick, labels, jobs}) {
      w->addDockWidget(Qt::RightDockWidgetArea, d);
      w->tabifyDockWidget(tune, d);
    }
    // Five tabs do not fit under a narrow column ("T…", "Jo…"): they run down
    // its right edge instead.
    w->setTabPosition(Qt::RightDockWidgetArea, QTabWidget::East);
    w->resizeDocks({tune}, {std::max(280, size.width() * 28 / 100)}, Qt::Horizontal);
  } else {
    w->setTabPosition(Qt::RightDockWidgetArea, QTabWidget::South);
    w->addDockWidget(Qt::LeftDockWidgetArea, tune);
    w->addDockWidget(Qt::RightDockWidgetArea, train);
    w->addDockWidget(Qt::RightDockWidgetArea, kpick);
    w->addDockWidget(Qt::RightDockWidgetArea, labels);
    w->tabifyDockWidget(train, kpick);
    w->tabifyDockWidget(kpick, labels);
    w->addDockWidget(Qt::BottomDockWidgetArea, jobs);
    w->resizeDocks({tune, train}, {size.width() * 22 / 100, size.width() * 26 / 100}, Qt::Horizontal);
    w->resizeDocks({jobs}, {190}, Qt::Vertical); // five rows and the buttons
  }
  i = 0;
  for (auto* d : {tune, train, kpick, labels, jobs}) d->setVisible(visible[i++]);
  // Narrow: the threshold comes first; wide: Tuning has its own column and
  // Training leads the right one.
  if (compact)
    tune->raise();
  else
    train->raise();
}

} // namespace jseg::ui
