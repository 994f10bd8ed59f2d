#include "core/segment/MemoryEstimate.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/base/Errors.h"
#include "core/base/SystemMemory.h"

namespace jseg {

uint64_t memAvailableBytes() { return availableMemoryBytes(); }

std::string formatBytes(uint64_t bytes) {
  char buf[64];
  double b = double(bytes);
  if (b >= 1e9)
    std::snprintf(buf, sizeof buf, "%.1f GB", b / 1e9);
  else if (b >= 1e6)
    std::snprintf(buf, sizeof buf, "%.0f MB", b / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.0f kB", b / 1e3);
  return buf;
}

std::string MemoryEstimate::describe() const {
  std::ostringstream s;
  s << "needs " << formatBytes(totalBytes()) << " (result " << formatBytes(resultBytes) << " + buffers "
    << formatBytes(workingBytes) << ")";
  if (availableBytes) s << " of " << formatBytes(availableBytes) << " available";
  if (seconds > 0) s << ", about " << (seconds < 10 ? std::to_string(int(seconds * 10) / 10.0).substr(0, 3)
                                                     : std::to_string(int(seconds + 0.5)))
                     << " s";
  return s.str();
}

void MemoryEstimate::require(const std::string& what, const std::string& advice) const {
  if (fits()) return;
  throw ResourceError(what + " " + describe() + ", which does not fit; " + advice);
}

} // namespace jseg
