#pragma once
// A progress bar with ETA on stderr for the command line. On a terminal it redraws one line; otherwise
// (CI logs, pipes) it prints a line at most every few seconds so logs stay readable.
#include <chrono>
#include <mutex>
#include <string>

#include "core/base/Progress.h"

namespace jseg::cli {

class ProgressBar {
public:
  explicit ProgressBar(std::string task, bool quiet = false);
  ~ProgressBar();
  // fraction in [0,1] or negative for unknown; etaSeconds < 0 lets the bar extrapolate.
  void update(double fraction, const std::string& message, double etaSeconds = -1);
  void println(const std::string& line);  // a line above the bar (period summaries etc.)
  void finish(const std::string& message = "done");
  TaskContext context(std::shared_ptr<const CancelToken> cancel = nullptr);

private:
  void draw(double fraction, const std::string& message, double eta);
  std::string task_;
  bool quiet_;
  bool tty_;
  bool open_ = false;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point start_, lastDraw_;
};

std::string formatDuration(double seconds);

} // namespace jseg::cli
