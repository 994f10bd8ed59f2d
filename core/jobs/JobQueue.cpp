#include "core/jobs/JobQueue.h"

#include <algorithm>
#include <exception>

namespace jseg {

const char* jobStateName(JobState s) {
  switch (s) {
    case JobState::Queued: return "queued";
    case JobState::Running: return "running";
    case JobState::Finished: return "finished";
    case JobState::Failed: return "failed";
    case JobState::Cancelled: return "cancelled";
  }
  return "?";
}

namespace {
double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
bool isTerminal(JobState s) { return s == JobState::Finished || s == JobState::Failed || s == JobState::Cancelled; }
} // namespace

JobQueue::JobQueue(int workers, size_t historyLimit) : historyLimit_(historyLimit) {
  workers = std::max(1, workers);
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { workerLoop(); });
}

JobQueue::~JobQueue() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    for (auto& [id, job] : live_) job->cancel->cancel();
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

uint64_t JobQueue::submit(const JobOptions& options, JobFn fn) {
  auto job = std::make_shared<Job>();
  job->options = options;
  job->fn = std::move(fn);
  job->cancel = std::make_shared<CancelToken>();
  JobEvent queued;
  std::vector<std::shared_ptr<Job>> superseded;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job->info.id = nextId_++;
    job->info.name = options.name;
    job->info.state = JobState::Queued;
    if (!options.coalesceKey.empty()) {
      // A newer request with the same key makes older ones stale: drop queued ones, cancel running ones.
      for (auto it = queue_.begin(); it != queue_.end();) {
        if ((*it)->options.coalesceKey == options.coalesceKey) {
          (*it)->cancel->cancel();
          superseded.push_back(*it);
          ++releasing_;
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
      for (auto& [id, other] : live_)
        if (other->info.state == JobState::Running && other->options.coalesceKey == options.coalesceKey)
          other->cancel->cancel();
    }
    live_[job->info.id] = job;
    // Stable by priority: insert after every job of the same or higher priority.
    auto pos = std::find_if(queue_.begin(), queue_.end(),
                            [&](const std::shared_ptr<Job>& q) { return q->options.priority < options.priority; });
    queue_.insert(pos, job);
    queued.jobId = job->info.id;
    queued.jobName = job->info.name;
    queued.kind = JobEvent::Kind::Queued;
  }
  if (!superseded.empty()) cancelTakenOff(std::move(superseded), "superseded");
  publish(queued);
  wake_.notify_one();
  changed_.notify_all();
  return queued.jobId;
}

void JobQueue::cancel(uint64_t id) {
  std::vector<std::shared_ptr<Job>> takenOff;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(id);
    if (it == live_.end()) return;
    auto job = it->second;
    job->cancel->cancel();
    auto q = std::find(queue_.begin(), queue_.end(), job);
    if (q != queue_.end()) {
      queue_.erase(q);
      ++releasing_;
      takenOff.push_back(job);
    }
    // A running job ends itself at its next checkCancel(); runJob() releases it then.
  }
  if (!takenOff.empty()) cancelTakenOff(std::move(takenOff), "cancelled before it started");
}

void JobQueue::cancelTakenOff(std::vector<std::shared_ptr<Job>> jobs, const std::string& why) {
  // No worker can reach these jobs any more, so their closures are ours to destroy; outside the lock,
  // because what they captured may be large or have destructors that call back into the queue.
  for (auto& job : jobs) job->fn = nullptr;
  std::vector<JobEvent> events;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& job : jobs) {
      job->info.state = JobState::Cancelled;
      job->info.message = why;
      retire(job);
      --releasing_;
      JobEvent e;
      e.jobId = job->info.id;
      e.jobName = job->info.name;
      e.kind = JobEvent::Kind::Cancelled;
      e.message = why;
      events.push_back(std::move(e));
    }
  }
  for (const auto& e : events) publish(e);
  changed_.notify_all();
}

void JobQueue::retire(const std::shared_ptr<Job>& job) {
  live_.erase(job->info.id);
  history_.push_back(job->info);
  pruneHistory();
}

void JobQueue::pruneHistory() {
  while (history_.size() > historyLimit_) history_.pop_front();
}

void JobQueue::setHistoryLimit(size_t limit) {
  std::lock_guard<std::mutex> lock(mutex_);
  historyLimit_ = limit;
  pruneHistory();
}

size_t JobQueue::historyLimit() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return historyLimit_;
}

void JobQueue::cancelAll() {
  std::vector<uint64_t> ids;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [id, job] : live_) ids.push_back(id);
  }
  for (auto id : ids) cancel(id);
}

int JobQueue::subscribe(Listener listener) {
  std::lock_guard<std::mutex> lock(listenerMutex_);
  int token = nextListener_++;
  listeners_[token] = std::move(listener);
  return token;
}

void JobQueue::unsubscribe(int token) {
  std::lock_guard<std::mutex> lock(listenerMutex_);
  listeners_.erase(token);
}

void JobQueue::publish(const JobEvent& e) {
  std::lock_guard<std::mutex> lock(listenerMutex_);
  for (auto& [token, l] : listeners_) l(e);
}

bool JobQueue::waitIdle(double timeoutSeconds) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto idle = [&] { return queue_.empty() && running_ == 0 && releasing_ == 0; };
  if (timeoutSeconds < 0) {
    changed_.wait(lock, idle);
    return true;
  }
  return changed_.wait_for(lock, std::chrono::duration<double>(timeoutSeconds), idle);
}

namespace {
// Ids are issued in order and never reused, so an issued id that is neither live nor in the history ended
// long enough ago to be pruned.
JobInfo prunedInfo(uint64_t id) {
  JobInfo info;
  info.id = id;
  info.state = JobState::Finished;
  info.fraction = 1;
  info.message = "pruned from the job history";
  return info;
}
} // namespace

JobState JobQueue::wait(uint64_t id, double timeoutSeconds) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto it = live_.find(id);
  if (it == live_.end()) {
    if (id == 0 || id >= nextId_) return JobState::Failed;
    for (auto h = history_.rbegin(); h != history_.rend(); ++h)
      if (h->id == id) return h->state;
    return prunedInfo(id).state;
  }
  // The job leaves live_ when it ends, so hold it and watch its own state.
  auto job = it->second;
  auto done = [&] { return isTerminal(job->info.state); };
  if (timeoutSeconds < 0) changed_.wait(lock, done);
  else if (!changed_.wait_for(lock, std::chrono::duration<double>(timeoutSeconds), done))
    return JobState::Running;
  return job->info.state;
}

std::vector<JobInfo> JobQueue::jobs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<JobInfo> out(history_.begin(), history_.end());
  for (const auto& [id, job] : live_) out.push_back(job->info);
  std::sort(out.begin(), out.end(), [](const JobInfo& a, const JobInfo& b) { return a.id < b.id; });
  return out;
}

JobInfo JobQueue::job(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(id);
  if (it != live_.end()) return it->second->info;
  for (auto h = history_.rbegin(); h != history_.rend(); ++h)
    if (h->id == id) return *h;
  if (id == 0 || id >= nextId_) return JobInfo{};
  return prunedInfo(id);
}

void JobQueue::workerLoop() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = queue_.front();
      queue_.pop_front();
      job->info.state = JobState::Running;
      job->started = std::chrono::steady_clock::now();
      ++running_;
    }
    runJob(job);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --running_;
    }
    changed_.notify_all();
  }
}

void JobQueue::runJob(const std::shared_ptr<Job>& job) {
  const uint64_t id = job->info.id;
  const std::string name = job->info.name;
  JobEvent started;
  started.jobId = id;
  started.jobName = name;
  started.kind = JobEvent::Kind::Started;
  started.fraction = 0;
  publish(started);

  JobContext ctx;
  ctx.id_ = id;
  ctx.cancel_ = job->cancel;
  ctx.task_.cancel = job->cancel;
  ctx.task_.progress = [this, job, id, name](double fraction, const std::string& message) {
    const double elapsed = secondsSince(job->started);
    double eta = -1;
    // A linear extrapolation is crude, but engines with a better model emit their own ETA as data.
    if (fraction > 0.02 && fraction <= 1.0) eta = elapsed * (1.0 - fraction) / fraction;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job->info.fraction = fraction;
      job->info.message = message;
      job->info.elapsedSeconds = elapsed;
      job->info.etaSeconds = eta;
      // Throttle: front ends do not need more than ~20 updates a second.
      auto now = std::chrono::steady_clock::now();
      if (now - job->lastProgressEvent < std::chrono::milliseconds(50) && fraction < 1.0) return;
      job->lastProgressEvent = now;
    }
    JobEvent e;
    e.jobId = id;
    e.jobName = name;
    e.kind = JobEvent::Kind::Progress;
    e.fraction = fraction;
    e.message = message;
    e.elapsedSeconds = elapsed;
    e.etaSeconds = eta;
    publish(e);
  };
  ctx.emitData_ = [this, job, id, name](const nlohmann::json& data) {
    JobEvent e;
    e.jobId = id;
    e.jobName = name;
    e.kind = JobEvent::Kind::Data;
    e.data = data;
    e.elapsedSeconds = secondsSince(job->started);
    publish(e);
  };

  JobEvent end;
  end.jobId = id;
  end.jobName = name;
  JobState state = JobState::Finished;
  try {
    job->cancel->throwIfCancelled();
    job->fn(ctx);
    end.kind = JobEvent::Kind::Finished;
    end.fraction = 1;
  } catch (const CancelledError&) {
    state = JobState::Cancelled;
    end.kind = JobEvent::Kind::Cancelled;
    end.message = "cancelled";
  } catch (const std::exception& ex) {
    state = JobState::Failed;
    end.kind = JobEvent::Kind::Failed;
    end.message = ex.what();
  } catch (...) {
    state = JobState::Failed;
    end.kind = JobEvent::Kind::Failed;
    end.message = "unknown error";
  }
  end.elapsedSeconds = secondsSince(job->started);
  // Only this worker touches a running job's closure. Destroying it before the end becomes visible means
  // whoever waits on the job (or reacts to its terminal event) finds what it captured already freed.
  job->fn = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job->info.state = state;
    job->info.elapsedSeconds = end.elapsedSeconds;
    job->info.etaSeconds = -1;
    if (state == JobState::Finished) job->info.fraction = 1;
    if (state == JobState::Failed) job->info.error = end.message;
    retire(job);
  }
  publish(end);
}

} // namespace jseg
