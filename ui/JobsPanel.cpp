#include "ui/JobsPanel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <cmath>
#include <iterator>

namespace jseg::ui {

QString formatSeconds(double s) {
  if (s < 0) return QStringLiteral("—");
  if (s < 60) return QString("%1 s").arg(s, 0, 'f', s < 10 ? 1 : 0);
  if (s < 3600) return QString("%1 min %2 s").arg(int(s) / 60).arg(int(s) % 60);
  return QString("%1 h %2 min").arg(int(s) / 3600).arg((int(s) % 3600) / 60);
}

namespace {
// The row's state word lives under this role; the State column also shows the
// job's latest message.
constexpr int kStateRole = Qt::UserRole + 1;
QString stateOf(const QTreeWidgetItem* item) { return item->data(1, kStateRole).toString(); }

// Running jobs first, then queued ones, then the ended ones; newest first
// within each, so the job that is working is at the top of the list instead of
// scrolled away under a column of finished previews.
class JobRow : public QTreeWidgetItem {
public:
  bool operator<(const QTreeWidgetItem& other) const override {
    const int ra = rank(*this), rb = rank(other);
    if (ra != rb) return ra < rb;
    return data(0, Qt::UserRole).toULongLong() > other.data(0, Qt::UserRole).toULongLong();
  }

private:
  static int rank(const QTreeWidgetItem& item) {
    const QString st = stateOf(&item);
    return st == "Running" ? 0 : st == "Queued" ? 1 : 2;
  }
};
bool isEndedRow(const QTreeWidgetItem* item) {
  const QString st = stateOf(item);
  return st == "Finished" || st == "Failed" || st == "Cancelled";
}
// The ETA has its own column: a message's own "ETA 2m52s" would be a second,
// different estimate.
QString withoutEta(const std::string& message) {
  static const QRegularExpression eta(R"([,;]?\s*\(?\bETA\b[^,;)]*\)?)");
  return QString::fromStdString(message).remove(eta).trimmed();
}
} // namespace

JobsPanel::JobsPanel(JobBridge* jobs, QWidget* parent) : QWidget(parent), jobs_(jobs) {
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(2, 2, 2, 2);
  tree_ = new QTreeWidget;
  tree_->setColumnCount(5);
  tree_->setHeaderLabels({"Job", "State", "Progress", "Elapsed", "ETA"});
  tree_->setRootIsDecorated(false);
  tree_->setMinimumHeight(90);
  tree_->header()->setStretchLastSection(false);
  tree_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  tree_->header()->setSectionResizeMode(1, QHeaderView::Stretch);
  tree_->setColumnWidth(2, 90);
  tree_->setColumnWidth(3, 70);
  tree_->setColumnWidth(4, 70);
  lay->addWidget(tree_);
  auto* row = new QHBoxLayout;
  auto* cancel = new QPushButton("Cancel");
  cancel->setToolTip("Cancel the selected job (or every running job when none is selected); nothing half-written "
                     "is left behind");
  auto* clear = new QPushButton("Clear finished");
  clear->setToolTip("Remove finished, failed and cancelled jobs from the list");
  row->addWidget(cancel);
  row->addWidget(clear);
  row->addStretch();
  lay->addLayout(row);
  connect(cancel, &QPushButton::clicked, this, [this] {
    auto sel = tree_->selectedItems();
    if (sel.isEmpty()) {
      jobs_->cancelAll();
      return;
    }
    for (auto* it : sel) jobs_->cancel(it->data(0, Qt::UserRole).toULongLong());
  });
  connect(clear, &QPushButton::clicked, this, [this] {
    for (auto it = items_.begin(); it != items_.end();) it = isEndedRow(it->second) ? removeRow(it) : std::next(it);
  });
  connect(jobs_, &JobBridge::jobEvent, this, &JobsPanel::onEvent);
  // Elapsed time moves every second, not only when a job reports progress.
  auto* tick = new QTimer(this);
  tick->setInterval(1000);
  connect(tick, &QTimer::timeout, this, &JobsPanel::tickElapsed);
  tick->start();
}

void JobsPanel::tickElapsed() {
  for (auto& [id, clock] : running_) {
    auto it = items_.find(id);
    if (it != items_.end()) it->second->setText(3, formatSeconds(clock.base + clock.since.elapsed() / 1000.0));
  }
}

JobsPanel::Rows::iterator JobsPanel::removeRow(Rows::iterator it) {
  delete it->second;  // the view deletes the row's progress bar with it
  bars_.erase(it->first);
  running_.erase(it->first);
  return items_.erase(it);
}

void JobsPanel::pruneEndedRows(uint64_t justEnded) {
  // items_ is in id order, so the oldest ended rows go first; queued and running rows always stay, and so
  // does the row that just ended (a long job submitted early must not vanish the moment it finishes).
  size_t ended = 0;
  for (const auto& row : items_)
    if (isEndedRow(row.second)) ++ended;
  const size_t limit = jobs_->queue().historyLimit();
  for (auto it = items_.begin(); it != items_.end() && ended > limit;) {
    if (it->first != justEnded && isEndedRow(it->second)) {
      it = removeRow(it);
      --ended;
    } else {
      ++it;
    }
  }
}

void JobsPanel::onEvent(const JobEvent& e) {
  if (e.kind == JobEvent::Kind::Data) return;
  QTreeWidgetItem*& item = items_[e.jobId];
  if (!item) {
    // Newest first: the job just started is at the top, where the list is
    // scrolled to.
    item = new JobRow;
    tree_->insertTopLevelItem(0, item);
    item->setText(0, QString::fromStdString(e.jobName));
    item->setToolTip(0, QString::fromStdString(e.jobName));
    item->setData(0, Qt::UserRole, QVariant::fromValue<qulonglong>(e.jobId));
    auto* bar = new QProgressBar;
    bar->setRange(0, 1000);
    bar->setValue(0);
    bar->setTextVisible(true);
    bars_[e.jobId] = bar;
    tree_->setItemWidget(item, 2, bar);
  }
  QProgressBar* bar = bars_[e.jobId];
  auto setState = [item](const QString& state, const QString& message = {}) {
    item->setData(1, kStateRole, state);
    item->setText(1, message.isEmpty() ? state : state + ": " + message);
    item->setToolTip(1, item->text(1));
  };
  switch (e.kind) {
    case JobEvent::Kind::Queued:
      setState("Queued");
      break;
    case JobEvent::Kind::Started:
      setState("Running");
      break;
    case JobEvent::Kind::Progress:
      setState("Running", withoutEta(e.message));
      break;
    case JobEvent::Kind::Finished:
      setState("Finished");
      bar->setRange(0, 1000);
      bar->setValue(1000);
      break;
    case JobEvent::Kind::Failed:
      setState("Failed", QString::fromStdString(e.message));
      break;
    case JobEvent::Kind::Cancelled:
      setState("Cancelled");
      break;
    default:
      break;
  }
  if (e.kind == JobEvent::Kind::Progress || e.kind == JobEvent::Kind::Started) {
    if (e.fraction >= 0) {
      bar->setRange(0, 1000);
      bar->setValue(int(std::lround(e.fraction * 1000)));
    } else {
      bar->setRange(0, 0);  // busy indicator
    }
    bar->setFormat("%p%");
  }
  if (e.kind == JobEvent::Kind::Failed) {
    item->setToolTip(1, QString::fromStdString(e.message));
    bar->setRange(0, 1000);
    bar->setFormat("failed");
  }
  if (e.kind == JobEvent::Kind::Cancelled) {
    bar->setRange(0, 1000);
    bar->setFormat("cancelled");
  }
  item->setText(3, formatSeconds(e.elapsedSeconds));
  bool ended = e.kind == JobEvent::Kind::Finished || e.kind == JobEvent::Kind::Failed ||
               e.kind == JobEvent::Kind::Cancelled;
  if (ended) {
    running_.erase(e.jobId);
  } else if (e.kind == JobEvent::Kind::Started || e.kind == JobEvent::Kind::Progress) {
    RunningClock& clock = running_[e.jobId];
    clock.base = std::max(0.0, e.elapsedSeconds);
    clock.since.start();
  }
  item->setText(4, ended ? QString() : formatSeconds(e.etaSeconds));
  // Previews run at every threshold drag or K change; keep only the latest ended row of each job name so the
  // list shows what matters. Failures stay until cleared (their tooltip holds the error) or until they are
  // the oldest of more than historyLimit() ended rows.
  if (ended) {
    const QString name = item->text(0);
    for (auto it = items_.begin(); it != items_.end();) {
      const QString st = stateOf(it->second);
      const bool endedOk = st == "Finished" || st == "Cancelled";
      if (it->first != e.jobId && it->second->text(0) == name && endedOk) it = removeRow(it);
      else ++it;
    }
    pruneEndedRows(e.jobId);
  }
  tree_->sortItems(0, Qt::AscendingOrder);
  // A job that starts is at the top now: show it, however far down the list was
  // scrolled.
  if (e.kind == JobEvent::Kind::Started) tree_->scrollToTop();
}

} // namespace jseg::ui
