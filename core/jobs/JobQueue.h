#pragma once
// The engine's job queue (design.md §2): long work (load, train, extract features, cluster, save) runs
// on worker threads with progress, typed events and cancel tokens. Front ends subscribe: the GUI
// re-emits events as queued Qt signals, the CLI draws a progress bar. Jobs sharing a coalesce key
// supersede each other (a newer preview request cancels the stale one instead of queueing behind it).
#include <chrono>
#include <condition_variable>
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
  explicit JobQueue(int workers = 2);
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

  // Waits until no job is queued or running; false on timeout.
  bool waitIdle(double timeoutSeconds = -1);
  // Waits for one job to end; returns its final state (Failed/Cancelled/Finished) or Running on timeout.
  JobState wait(uint64_t id, double timeoutSeconds = -1);
  std::vector<JobInfo> jobs() const;
  JobInfo job(uint64_t id) const;

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

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable changed_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::map<uint64_t, std::shared_ptr<Job>> all_;
  int running_ = 0;
  bool stopping_ = false;
  uint64_t nextId_ = 1;
  std::vector<std::thread> workers_;

  mutable std::mutex listenerMutex_;
  std::map<int, Listener> listeners_;
  int nextListener_ = 1;
};

} // namespace jseg
