#pragma once
// How much memory the system can give us, for refusing jobs (and reads) that would not fit before they start.
#include <cstdint>

namespace jseg {

// MemAvailable from /proc/meminfo in bytes; 0 when it cannot be read (callers then skip their check).
uint64_t availableMemoryBytes();

} // namespace jseg
