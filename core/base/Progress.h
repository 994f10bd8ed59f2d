#pragma once
// Progress reporting and cooperative cancellation for long operations. Core functions take a
// `TaskContext*` (may be null); they call `report()` now and then and `checkCancel()` often enough
// that a cancel takes effect within a second.
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "core/base/Errors.h"

namespace jseg {

class CancelToken {
public:
  void cancel() { flag_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return flag_.load(std::memory_order_relaxed); }
  void throwIfCancelled() const {
    if (cancelled()) throw CancelledError();
  }

private:
  std::atomic<bool> flag_{false};
};

// fraction in [0,1] (negative = unknown); message names the current stage.
using ProgressFn = std::function<void(double fraction, const std::string& message)>;

struct TaskContext {
  ProgressFn progress;                        // may be empty
  std::shared_ptr<const CancelToken> cancel;  // may be null

  void report(double fraction, const std::string& message) const {
    if (progress) progress(fraction, message);
  }
  void checkCancel() const {
    if (cancel) cancel->throwIfCancelled();
  }
};

// Helpers for functions that take an optional context.
inline void reportProgress(const TaskContext* ctx, double fraction, const std::string& message) {
  if (ctx) ctx->report(fraction, message);
}
inline void checkCancel(const TaskContext* ctx) {
  if (ctx) ctx->checkCancel();
}

// A stage of a longer task: its own progress [0,1] lands on [from, to] of the parent's, its messages are
// prefixed with the stage's name (unless empty), and it shares the parent's cancel token. Empty when parent is null.
inline TaskContext stageContext(const TaskContext* parent, double from, double to, const std::string& stage) {
  TaskContext c;
  if (!parent) return c;
  c.cancel = parent->cancel;
  if (ProgressFn up = parent->progress)
    c.progress = [up, from, to, stage](double f, const std::string& m) {
      up(f < 0 ? -1 : from + (to - from) * (f > 1 ? 1 : f), stage.empty() ? m : stage + ": " + m);
    };
  return c;
}

} // namespace jseg
