#include "core/base/SystemMemory.h"

#include <fstream>
#include <string>

namespace jseg {

uint64_t availableMemoryBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  uint64_t kb = 0;
  while (in >> key >> kb) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return kb * 1024;  // the kernel reports kB
  }
  return 0;
}

} // namespace jseg
