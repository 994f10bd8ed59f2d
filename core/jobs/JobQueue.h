#pragma once
// The engine's job queue (design.md §2): long work (load, train, extract features, cluster, save) runs
// on worker threads with progress, typed events and cancel tokens. Front ends subscribe: the GUI
// re-emits events as queued Qt signals, the CLI draws a progress bar. Jobs sharing a coalesce key
// supersede each other (a newer preview request cancels the stale one instead of queueing behind it).
//
// A job's closure is destroyed as soon as the job ends (finished, failed, cancelled, superseded), before
// its terminal event is published and before wait()/waitIdle() can return: the GUI re-submits a K preview
// on every slice scroll, each capturing a full-size label volume, and keeping ended closures would keep
// every one of those volumes alive. For the same reason only the last historyLimit() ended jobs' JobInfo
// is kept; queued and running jobs are always listed.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/Progress.h"

namespace jseg {

enum class JobState { Queued, Running, Finished, Failed, Cancelled };
const char* jobStateName(JobState s);

struct JobEvent {
  enum class Kind {
    Queued,     // accepted
    Started,    // a worker picked it up
    Progress,   // fraction/message changed
    Data,       // typed payload, e.g. {"type":"period","clusters":..,"loss":..,"seconds":..}
    Finished,
    Failed,     // message = the error's text (what a dialog shows)
    Cancelled,
  };
  uint64_t jobId = 0;
  std::string jobName;
  Kind kind = Kind::Progress;
  double fraction = -1;       // [0,1], -1 unknown
  std::string message;
  double elapsedSeconds = 0;
  double etaSeconds = -1;     // -1 unknown
  nlohmann::json data;        // for Kind::Data
};

struct JobInfo {
  uint64_t id = 0;
  std::string name;
  JobState state = JobState::Queued;
  double fraction = -1;
  std::string message;
  double elapsedSeconds = 0;
  double etaSeconds = -1;
  std::string error;
};

// Handed to a running job. Its TaskContext can be passed to any core function.
class JobContext {
public:
  const TaskContext& task() const { return task_; }
  void progress(double fraction, const std::string& message) const { task_.report(fraction, message); }
  void emitData(const nlohmann::json& data) const { emitData_(data); }
  bool cancelled() const { return cancel_->cancelled(); }
  void checkCancel() const { cancel_->throwIfCancelled(); }
  uint64_t id() const { return id_; }

private:
  friend class JobQueue;
  uint64_t id_ = 0;
  TaskContext task_;
  std::shared_ptr<CancelToken> cancel_;
  std::function<void(const nlohmann::json&)> emitData_;
};

using JobFn = std::function<void(JobContext&)>;

struct JobOptions {
  std::string name;          // shown in the jobs panel / progress bar
  int priority = 0;          // higher runs first among queued jobs
  std::string coalesceKey;   // non-empty: cancels queued/running jobs with the same key
};

class JobQueue {
public:
  // Enough rows for a jobs panel to show what just happened, few enough that a long GUI session of
  // previews costs nothing.
  static constexpr size_t kDefaultHistoryLimit = 50;

  explicit JobQueue(int workers = 2, size_t historyLimit = kDefaultHistoryLimit);
  ~JobQueue();  // cancels everything and joins the workers
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  uint64_t submit(const JobOptions& options, JobFn fn);
  void cancel(uint64_t id);
  void cancelAll();

  using Listener = std::function<void(const JobEvent&)>;
  // Listeners are called on worker threads (and on the submitting thread for Queued); keep them short.
  int subscribe(Listener listener);
  void unsubscribe(int token);

  // Waits until no job is queued or running and every ended job's closure has been destroyed; false on
  // timeout.
  bool waitIdle(double timeoutSeconds = -1);
  // Waits for one job to end; returns its final state (Failed/Cancelled/Finished) or Running on timeout.
  // An id pruned from the history returns Finished at once (see job()); an id never issued returns Failed.
  JobState wait(uint64_t id, double timeoutSeconds = -1);
  // Queued and running jobs plus the last historyLimit() ended ones, in id (submission) order.
  std::vector<JobInfo> jobs() const;
  // An id pruned from the history gives an info with that id, an empty name, state Finished and
  // message "pruned from the job history": the job ended long ago and its listeners saw the real outcome
  // then. An id never issued gives a default JobInfo (id 0).
  JobInfo job(uint64_t id) const;

  // How many ended jobs jobs() remembers; lowering it prunes the oldest at once.
  void setHistoryLimit(size_t limit);
  size_t historyLimit() const;

private:
  struct Job {
    JobInfo info;
    JobOptions options;
    JobFn fn;
    std::shared_ptr<CancelToken> cancel;
    std::chrono::steady_clock::time_point started;
    std::chrono::steady_clock::time_point lastProgressEvent;
  };
  void workerLoop();
  void publish(const JobEvent& e);
  void runJob(const std::shared_ptr<Job>& job);
  // Ends jobs already taken off queue_ (and counted in releasing_) as Cancelled with `why`; call without
  // the lock held.
  void cancelTakenOff(std::vector<std::shared_ptr<Job>> jobs, const std::string& why);
  // With the lock held: moves an ended job from live_ into the bounded history.
  void retire(const std::shared_ptr<Job>& job);
  void pruneHistory();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable changed_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::map<uint64_t, std::shared_ptr<Job>> live_;  // queued or running
  std::deque<JobInfo> history_;                    // ended, oldest first, at most historyLimit_
  size_t historyLimit_;
  int running_ = 0;
  // Taken off the queue by cancel/supersede, closure not yet destroyed; counts as busy for waitIdle().
  int releasing_ = 0;
  bool stopping_ = false;
  uint64_t nextId_ = 1;
  std::vector<std::thread> workers_;

  mutable std::mutex listenerMutex_;
  std::map<int, Listener> listeners_;
  int nextListener_ = 1;
};

} // namespace jseg
