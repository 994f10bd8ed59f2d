#include "cli/ProgressBar.h"

#include "cli/Interrupts.h"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace jseg::cli {

std::string formatDuration(double s) {
  if (s < 0 || !std::isfinite(s)) return "?";
  long t = std::lround(s);
  std::ostringstream o;
  if (t >= 3600) o << t / 3600 << "h" << (t % 3600) / 60 << "m";
  else if (t >= 60) o << t / 60 << "m" << t % 60 << "s";
  else o << t << "s";
  return o.str();
}

ProgressBar::ProgressBar(std::string task, bool quiet)
    : task_(std::move(task)), quiet_(quiet), tty_(::isatty(2) != 0), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
  if (open_ && tty_) std::cerr << "\n";
}

TaskContext ProgressBar::context(std::shared_ptr<const CancelToken> cancel) {
  TaskContext ctx;
  ctx.cancel = cancel ? std::move(cancel) : std::shared_ptr<const CancelToken>(interruptToken());
  ctx.progress = [this](double f, const std::string& m) { update(f, m); };
  return ctx;
}

void ProgressBar::update(double fraction, const std::string& message, double eta) {
  if (quiet_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  const double sinceDraw = std::chrono::duration<double>(now - lastDraw_).count();
  if (open_ && sinceDraw < (tty_ ? 0.1 : 5.0) && fraction < 1.0) return;
  lastDraw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (eta < 0 && fraction > 0.01 && fraction < 1.0) eta = elapsed * (1 - fraction) / fraction;
  draw(fraction, message, eta);
}

void ProgressBar::draw(double fraction, const std::string& message, double eta) {
  std::ostringstream o;
  const int width = 30;
  if (fraction >= 0) {
    int filled = int(std::lround(std::min(1.0, fraction) * width));
    o << task_ << " [" << std::string(filled, '#') << std::string(width - filled, '.') << "] " << std::lround(fraction * 100)
      << "%";
  } else {
    o << task_ << " [working]";
  }
  if (eta >= 0) o << " ETA " << formatDuration(eta);
  if (!message.empty()) o << "  " << message;
  std::string line = o.str();
  if (tty_) {
    if (line.size() > 118) line.resize(118);
    std::cerr << "\r" << line << "\033[K" << std::flush;
  } else {
    std::cerr << line << "\n" << std::flush;
  }
  open_ = true;
}

void ProgressBar::println(const std::string& line) {
  if (quiet_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (tty_ && open_) std::cerr << "\r\033[K";
  std::cerr << line << "\n";
  open_ = false;
}

void ProgressBar::finish(const std::string& message) {
  if (quiet_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (tty_) std::cerr << "\r\033[K";
  std::cerr << task_ << ": " << message << " (" << formatDuration(elapsed) << ")\n";
  open_ = false;
}

} // namespace jseg::cli
