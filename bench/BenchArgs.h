#pragma once
// Command-line helpers shared by the benches.
#include <sstream>
#include <string>
#include <vector>

namespace jseg::bench {

// "a,b,,c" -> {"a", "b", "c"}: the comma lists of --seeds, --cases, --presets, --strides.
inline std::vector<std::string> splitCommaList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string t; std::getline(ss, t, ',');)
    if (!t.empty()) out.push_back(t);
  return out;
}

} // namespace jseg::bench
