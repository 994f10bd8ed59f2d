#pragma once
// Dock listing queued, running and finished jobs with progress bars, elapsed time and ETA; the
// selected (or any running) job can be cancelled.
#include <QWidget>
#include <map>

#include "ui/JobBridge.h"

class QTreeWidget;
class QTreeWidgetItem;
class QProgressBar;

namespace jseg::ui {

class JobsPanel : public QWidget {
  Q_OBJECT
public:
  JobsPanel(JobBridge* jobs, QWidget* parent = nullptr);

private:
  void onEvent(const JobEvent& e);
  JobBridge* jobs_;
  QTreeWidget* tree_;
  std::map<uint64_t, QTreeWidgetItem*> items_;
  std::map<uint64_t, QProgressBar*> bars_;
};

QString formatSeconds(double s);

} // namespace jseg::ui
