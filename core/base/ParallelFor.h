#pragma once
// Runs fn(i) for i in [0, count) on `threads` threads, the caller being one of them. Work is handed out one
// index at a time, so callers that need results independent of the thread count give each index its own
// output slot and combine the slots in index order afterwards.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace jseg {

inline void parallelFor(std::size_t count, int threads, const std::function<void(std::size_t)>& fn) {
  const int t = static_cast<int>(std::min<std::size_t>(count, static_cast<std::size_t>(std::max(1, threads))));
  if (t <= 1) {
    for (std::size_t i = 0; i < count; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < count; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(t - 1));
  for (int i = 1; i < t; ++i) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

} // namespace jseg
