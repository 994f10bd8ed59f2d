#include "ui/JobBridge.h"

#include <QMetaObject>
#include <QThread>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace jseg::ui {

JobBridge::JobBridge(int workers, QObject* parent) : QObject(parent), queue_(std::make_unique<JobQueue>(workers)) {
  qRegisterMetaType<jseg::JobEvent>("jseg::JobEvent");
  // Listeners run on worker threads; hop to this object's thread before anything else happens.
  token_ = queue_->subscribe([this](const JobEvent& e) {
    QMetaObject::invokeMethod(
        this, [this, e] { deliver(e); }, Qt::QueuedConnection);
  });
}

JobBridge::~JobBridge() {
  queue_->unsubscribe(token_);
  queue_->cancelAll();
  queue_.reset();  // joins the workers while callbacks_ still exists
}

namespace {
// Background work yields to the GUI thread, so drawing and input stay smooth while a job saturates the
// cores. Threads the job starts (LibTorch/OpenMP pools) inherit the niceness.
void lowerCurrentThreadPriority() {
#ifdef __linux__
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
#endif
}
} // namespace

uint64_t JobBridge::submit(const JobOptions& options, JobFn work, Callbacks callbacks) {
  uint64_t id = queue_->submit(options, [work = std::move(work)](JobContext& ctx) {
    lowerCurrentThreadPriority();
    work(ctx);
  });
  Q_ASSERT(QThread::currentThread() == thread());
  // Nothing to run at the end means nothing to keep until then.
  if (callbacks.finished || callbacks.failed || callbacks.cancelled) callbacks_[id] = std::move(callbacks);
  return id;
}

int JobBridge::activeCount() const {
  int n = 0;
  for (const auto& j : queue_->jobs())
    if (j.state == JobState::Queued || j.state == JobState::Running) ++n;
  return n;
}

void JobBridge::deliver(const JobEvent& e) {
  Q_EMIT jobEvent(e);
  bool final = e.kind == JobEvent::Kind::Finished || e.kind == JobEvent::Kind::Failed ||
               e.kind == JobEvent::Kind::Cancelled;
  if (!final) return;
  auto it = callbacks_.find(e.jobId);
  if (it == callbacks_.end()) return;
  // Taken out of the map before running: a callback may submit or cancel jobs (re-entering callbacks_),
  // and whatever the callbacks captured is freed when `cb` goes out of scope below.
  Callbacks cb = std::move(it->second);
  callbacks_.erase(it);
  if (e.kind == JobEvent::Kind::Finished && cb.finished) cb.finished();
  else if (e.kind == JobEvent::Kind::Failed && cb.failed) cb.failed(QString::fromStdString(e.message));
  else if (e.kind == JobEvent::Kind::Cancelled && cb.cancelled) cb.cancelled();
}

} // namespace jseg::ui
