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

JobQueue::JobQueue(int workers) {
  workers = std::max(1, workers);
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { workerLoop(); });
}

JobQueue::~JobQueue() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    for (auto& [id, job] : all_) job->cancel->cancel();
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
  std::vector<JobEvent> superseded;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job->info.id = nextId_++;
    job->info.name = options.name;
    job->info.state = JobState::Queued;
    if (!options.coalesceKey.empty()) {
      // A newer request with the same key makes older ones stale: drop queued ones, cancel running ones.
      for (auto it = queue_.begin(); it != queue_.end();) {
        if ((*it)->options.coalesceKey == options.coalesceKey) {
          (*it)->info.state = JobState::Cancelled;
          JobEvent e;
          e.jobId = (*it)->info.id;
          e.jobName = (*it)->info.name;
          e.kind = JobEvent::Kind::Cancelled;
          e.message = "superseded";
          superseded.push_back(e);
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
      for (auto& [id, other] : all_)
        if (other->info.state == JobState::Running && other->options.coalesceKey == options.coalesceKey)
          other->cancel->cancel();
    }
    all_[job->info.id] = job;
    // Stable by priority: insert after every job of the same or higher priority.
    auto pos = std::find_if(queue_.begin(), queue_.end(),
                            [&](const std::shared_ptr<Job>& q) { return q->options.priority < options.priority; });
    queue_.insert(pos, job);
    queued.jobId = job->info.id;
    queued.jobName = job->info.name;
    queued.kind = JobEvent::Kind::Queued;
  }
  for (const auto& e : superseded) publish(e);
  publish(queued);
  wake_.notify_one();
  changed_.notify_all();
  return queued.jobId;
}

void JobQueue::cancel(uint64_t id) {
  JobEvent e;
  bool removedQueued = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = all_.find(id);
    if (it == all_.end()) return;
    auto& job = it->second;
    job->cancel->cancel();
    auto q = std::find(queue_.begin(), queue_.end(), job);
    if (q != queue_.end()) {
      queue_.erase(q);
      job->info.state = JobState::Cancelled;
      removedQueued = true;
      e.jobId = id;
      e.jobName = job->info.name;
      e.kind = JobEvent::Kind::Cancelled;
      e.message = "cancelled before it started";
    }
  }
  if (removedQueued) {
    publish(e);
    changed_.notify_all();
  }
}

void JobQueue::cancelAll() {
  std::vector<uint64_t> ids;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [id, job] : all_)
      if (!isTerminal(job->info.state)) ids.push_back(id);
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
  auto idle = [&] { return queue_.empty() && running_ == 0; };
  if (timeoutSeconds < 0) {
    changed_.wait(lock, idle);
    return true;
  }
  return changed_.wait_for(lock, std::chrono::duration<double>(timeoutSeconds), idle);
}

JobState JobQueue::wait(uint64_t id, double timeoutSeconds) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto it = all_.find(id);
  if (it == all_.end()) return JobState::Failed;
  auto job = it->second;
  auto done = [&] { return isTerminal(job->info.state); };
  if (timeoutSeconds < 0) changed_.wait(lock, done);
  else if (!changed_.wait_for(lock, std::chrono::duration<double>(timeoutSeconds), done))
    return JobState::Running;
  return job->info.state;
}

std::vector<JobInfo> JobQueue::jobs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<JobInfo> out;
  for (const auto& [id, job] : all_) out.push_back(job->info);
  return out;
}

JobInfo JobQueue::job(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = all_.find(id);
  return it == all_.end() ? JobInfo{} : it->second->info;
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
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job->info.state = state;
    job->info.elapsedSeconds = end.elapsedSeconds;
    if (state == JobState::Finished) job->info.fraction = 1;
    if (state == JobState::Failed) job->info.error = end.message;
  }
  publish(end);
}

} // namespace jseg
