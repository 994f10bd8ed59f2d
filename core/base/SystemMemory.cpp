#include "core/base/SystemMemory.h"

#include <fstream>
#include <sstream>
#include <string>
#include <sys/resource.h>

namespace jseg {

namespace {

uint64_t memAvailable() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  uint64_t kb = 0;
  while (in >> key >> kb) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return kb * 1024;  // the kernel reports kB
  }
  return 0;
}

// A number from a cgroup file; 0 for "max", a missing file or an absurd value (no limit).
uint64_t readLimit(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return 0;
  try {
    const unsigned long long v = std::stoull(text);
    return v >= (1ull << 60) ? 0 : uint64_t(v);
  } catch (...) {
    return 0;
  }
}

// Room left in the cgroup this process belongs to (0 = no limit found).
uint64_t cgroupRoom() {
  std::ifstream cg("/proc/self/cgroup");
  std::string line;
  while (std::getline(cg, line)) {
    // v2: "0::/path"; v1: "N:memory:/path"
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    std::string base;
    std::string limitFile, usageFile;
    if (controllers.empty()) {
      base = "/sys/fs/cgroup" + path;
      limitFile = "/memory.max";
      usageFile = "/memory.current";
    } else if (controllers.find("memory") != std::string::npos) {
      base = "/sys/fs/cgroup/memory" + path;
      limitFile = "/memory.limit_in_bytes";
      usageFile = "/memory.usage_in_bytes";
    } else {
      continue;
    }
    // A limit may sit on any ancestor; the tightest counts. Inside a container the path is often "/".
    uint64_t best = 0;
    for (std::string dir = base; dir.size() >= std::string("/sys/fs/cgroup").size();) {
      const uint64_t limit = readLimit(dir + limitFile);
      if (limit) {
        const uint64_t used = readLimit(dir + usageFile);
        const uint64_t room = limit > used ? limit - used : 1;
        if (!best || room < best) best = room;
      }
      const auto slash = dir.find_last_of('/');
      if (slash == std::string::npos || slash == 0) break;
      dir.resize(slash);
    }
    if (best) return best;
  }
  return 0;
}

// Address space left under RLIMIT_AS (0 = unlimited).
uint64_t addressSpaceRoom() {
  rlimit r{};
  if (getrlimit(RLIMIT_AS, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return 0;
  std::ifstream in("/proc/self/status");
  std::string key;
  uint64_t vmKb = 0;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmSize:", 0) == 0) std::istringstream(line.substr(7)) >> vmKb;
  const uint64_t used = vmKb * 1024;
  return r.rlim_cur > used ? uint64_t(r.rlim_cur) - used : 1;
}

struct Tightest {
  uint64_t bytes = 0;
  std::string name;
  void offer(uint64_t b, const char* n) {
    if (b && (!bytes || b < bytes)) {
      bytes = b;
      name = n;
    }
  }
};

Tightest tightest() {
  Tightest t;
  t.offer(memAvailable(), "free memory");
  t.offer(cgroupRoom(), "the container's memory limit (memory.max)");
  t.offer(addressSpaceRoom(), "the address-space limit (ulimit -v)");
  return t;
}

} // namespace

uint64_t availableMemoryBytes() { return tightest().bytes; }

std::string availableMemoryLimitName() { return tightest().name; }

} // namespace jseg
