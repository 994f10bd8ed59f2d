#pragma once
// The main window's menus and toolbar (File, View, Segment, Help), the recent-files list and the commands that
// only write what is on screen (overlay PNGs, statistics, screenshots). Every action calls the window's or
// the session controller's public API, so the menus add no workflow of their own.
#include <QList>
#include <QObject>
#include <QString>
#include <memory>
#include <vector>

#include "core/base/Volume.h"
#include "core/io/LabelOutputs.h"

class QAction;
class QMenu;

namespace jseg::ui {

class MainWindow;

class MainMenus : public QObject {
  Q_OBJECT
public:
  // `viewMenu` already lists the docks; the view commands are appended to it.
  MainMenus(MainWindow* window, QMenu* viewMenu);
  void addRecent(const QString& path);
  void updateActions(bool hasVolume, bool hasLabels, bool hasModel);

private:
  void updateRecentMenu();
  void saveOverlayPng(bool allSlices);
  void saveStatistics();
  void saveScreenshot(const QString& target);
  // File dialogs start in the folder last used (QSettings "lastDir") and
  // remember the one chosen.
  static QString startPath(const QString& fileName);
  static QString remember(const QString& chosen);
  // File > Open labels: the label map becomes the overlay, its names and colours the labels panel's.
  void showOpenedLabels(std::shared_ptr<const LabelVolume> labels, const std::vector<LabelInfo>& table,
                        const std::vector<LabelStatistics>& stats, const QString& path);

  MainWindow* w_;
  QMenu* recentMenu_ = nullptr;
  QMenu* viewMenu_ = nullptr;
  QList<QAction*> needVolume_, needLabels_;
  QAction* saveModelAction_ = nullptr;
};

} // namespace jseg::ui
