#pragma once
// The GUI's side of the engine's job queue: worker-thread events are re-emitted as queued Qt signals,
// so widgets are only ever touched on the GUI thread. A job can carry GUI-thread callbacks that run
// when it ends (the usual way a result reaches the window). Callbacks often capture the job's result (a
// mask, a label volume), so they are dropped as soon as the job's terminal event has been delivered; the
// work closure itself is dropped by the queue when the job ends.
#include <QObject>
#include <functional>
#include <map>
#include <memory>

#include "core/jobs/JobQueue.h"

Q_DECLARE_METATYPE(jseg::JobEvent)

namespace jseg::ui {

class JobBridge : public QObject {
  Q_OBJECT
public:
  explicit JobBridge(int workers = 1, QObject* parent = nullptr);
  ~JobBridge() override;

  struct Callbacks {
    std::function<void()> finished;                  // the job returned normally
    std::function<void(const QString&)> failed;      // the job threw; the error's text
    std::function<void()> cancelled;                 // cancelled (or superseded by a newer preview)
  };
  // Call on this object's thread: the terminal event is delivered there too, so it always finds the
  // callbacks already registered.
  uint64_t submit(const JobOptions& options, JobFn work, Callbacks callbacks = {});
  void cancel(uint64_t id) { queue_->cancel(id); }
  void cancelAll() { queue_->cancelAll(); }
  JobQueue& queue() { return *queue_; }
  // Jobs that are queued or running now.
  int activeCount() const;
  // Jobs whose callbacks still wait for a terminal event (for tests and leak checks).
  size_t pendingCallbacks() const { return callbacks_.size(); }

Q_SIGNALS:
  void jobEvent(const jseg::JobEvent& event);

private:
  void deliver(const JobEvent& e);

  std::unique_ptr<JobQueue> queue_;
  int token_ = 0;
  std::map<uint64_t, Callbacks> callbacks_;
};

} // namespace jseg::ui
