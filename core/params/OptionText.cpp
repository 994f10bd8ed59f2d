#include "core/params/OptionText.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "core/base/Errors.h"
#include "core/params/ParameterSchema.h"
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
  // NaN would compare false with every voxel (and print as "null"); beyond the float range it would become
  // infinity. An open end ("1:") is written as an empty side, not as a huge number.
  auto end = [&](const std::string& t, const char* which) {
    const double v = parseNumber(t, std::string("the threshold's ") + which + " end");
    if (!std::isfinite(v) || std::fabs(v) >= kUnboundedThresholdFrom)
      throw InputError("threshold '" + text + "': the " + which + " end '" + t + "' must be a finite number below 1e37 "
                       "in magnitude (leave a side empty for no limit, e.g. 1:)");
    return float(v);
  };
  float lo = a.empty() ? float(-kUnboundedThreshold) : end(a, "low");
  float hi = b.empty() ? float(kUnboundedThreshold) : end(b, "high");
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

void applyThresholdText(Parameters& params, const std::string& text) {
  const auto w = parseThreshold(text);
  // A float's nearest value to the sentinel lies just beyond it: clamp, so "1:" means "no upper limit".
  params.set("threshold_lo", std::max<double>(w[0], -kUnboundedThreshold));
  params.set("threshold_hi", std::min<double>(w[1], kUnboundedThreshold));
}

std::string describeWindow(double lo, double hi) {
  if (isUnboundedLow(lo) && isUnboundedHigh(hi)) return "the whole intensity range";
  std::ostringstream o;
  o << "[" << (isUnboundedLow(lo) ? std::string("-inf") : [&] { std::ostringstream a; a << lo; return a.str(); }())
    << ", " << (isUnboundedHigh(hi) ? std::string("inf") : [&] { std::ostringstream b; b << hi; return b.str(); }()) << "]";
  return o.str();
}

} // namespace jseg
