#pragma once
// What a job will need before it starts (design.md §4): bytes it will hold and a rough time, compared
// with the memory the system has available, so that a job too big is refused with advice instead of
// swapping or being killed.
#include <cstdint>
#include <string>

namespace jseg {

struct MemoryEstimate {
  uint64_t resultBytes = 0;   // kept after the job (e.g. the feature grid)
  uint64_t workingBytes = 0;  // transient buffers at the peak (e.g. one slab of activations)
  uint64_t availableBytes = 0;  // MemAvailable when estimated (0 = unknown)
  double seconds = 0;          // rough duration (0 = unknown)
  uint64_t totalBytes() const { return resultBytes + workingBytes; }
  // Leaves a quarter of the available memory to the rest of the program and the system.
  bool fits() const { return availableBytes == 0 || totalBytes() <= availableBytes / 4 * 3; }
  std::string describe() const;  // "needs 1.2 GB (features 0.9 GB + buffers 0.3 GB) of 20.1 GB available, ~40 s"
  // Throws ResourceError with describe() and `advice` when it does not fit.
  void require(const std::string& what, const std::string& advice) const;
};

// MemAvailable from /proc/meminfo in bytes; 0 when it cannot be read.
uint64_t memAvailableBytes();
std::string formatBytes(uint64_t bytes);  // "512 MB", "1.5 GB"

} // namespace jseg
