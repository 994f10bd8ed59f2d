#include "core/params/OptionText.h"

#include <sstream>
#include <vector>

#include "core/base/Errors.h"
#include "core/params/UnboundedThreshold.h"

namespace jseg {

double parseNumber(const std::string& text, const std::string& what) {
  try {
    std::size_t used = 0;
    double v = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return v;
  } catch (const std::exception&) {
    throw InputError("cannot read '" + text + "' as a number for " + what);
  }
}

std::array<float, 2> parseThreshold(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos) throw InputError("threshold '" + text + "' must be lo:hi, e.g. 1:255");
  std::string a = text.substr(0, colon), b = text.substr(colon + 1);
  float lo = a.empty() ? float(-kUnboundedThreshold) : float(parseNumber(a, "the threshold's low end"));
  float hi = b.empty() ? float(kUnboundedThreshold) : float(parseNumber(b, "the threshold's high end"));
  if (lo > hi) throw InputError("threshold " + text + ": low end " + a + " is above high end " + b);
  return {lo, hi};
}

std::array<double, 3> parseSpacing(const std::string& text) {
  std::vector<double> v;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(parseNumber(item, "--spacing"));
  if (v.size() == 1) v = {v[0], v[0], v[0]};
  if (v.size() != 3) throw InputError("--spacing needs one number or three (x,y,z), got '" + text + "'");
  for (double s : v)
    if (!(s > 0) || s > 1e6) throw InputError("--spacing values must be positive millimetres, got '" + text + "'");
  return {v[0], v[1], v[2]};
}

} // namespace jseg
