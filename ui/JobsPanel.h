#pragma once
// Dock listing queued, running and finished jobs with progress bars, elapsed time and ETA; the
// selected (or any running) job can be cancelled. Like the queue's own history it keeps every queued or
// running row but only the latest JobQueue::historyLimit() ended ones, so a session of previews does not
// grow the list (and its progress-bar widgets) without end.
#include <QElapsedTimer>
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
  using Rows = std::map<uint64_t, QTreeWidgetItem*>;
  void onEvent(const JobEvent& e);
  // Drops the row's item and its progress bar; returns the next entry of items_.
  Rows::iterator removeRow(Rows::iterator it);
  void pruneEndedRows(uint64_t justEnded);
  void tickElapsed();
  // Elapsed seconds of a running job at its last event, and the time since.
  struct RunningClock {
    double base = 0;
    QElapsedTimer since;
  };
  JobBridge* jobs_;
  QTreeWidget* tree_;
  Rows items_;
  std::map<uint64_t, QProgressBar*> bars_;
  std::map<uint64_t, RunningClock> running_;
};

QString formatSeconds(double s);

} // namespace jseg::ui
