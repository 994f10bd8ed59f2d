#pragma once
// How much memory the system can give us, for refusing jobs (and reads) that would not fit before they start.
#include <cstdint>
#include <string>

namespace jseg {

// What this process may still allocate: the least of MemAvailable (/proc/meminfo), the cgroup's room
// (memory.max - memory.current, v2 or v1) and the address space left under RLIMIT_AS (ulimit -v) beside what the
// process already maps. 0 when none can be read (callers then skip their check).
uint64_t availableMemoryBytes();

// Which of the limits above is the tightest: "free memory", "the container's memory limit" or "ulimit -v".
std::string availableMemoryLimitName();

} // namespace jseg
