#pragma once
// Text forms of option values that both command lines (juleseg-cli and the GUI's) accept, so an option is
// spelled the same in both: "lo:hi" windows (either side empty = unbounded) and "x,y,z" spacings.
#include <array>
#include <string>

namespace jseg {

// "lo:hi" -> {lo, hi}. InputError when unreadable or lo > hi.
std::array<float, 2> parseThreshold(const std::string& text);
// "x,y,z" or one number -> spacing in mm. InputError when unreadable or not positive.
std::array<double, 3> parseSpacing(const std::string& text);
// Sets threshold_lo/hi from "lo:hi"; an empty side stays unbounded (kUnboundedThreshold).
class Parameters;
void applyThresholdText(Parameters& params, const std::string& text);
// "[lo, hi]" for messages, "the whole intensity range" when unbounded on both sides.
std::string describeWindow(double lo, double hi);
// A number, or InputError naming `what`.
double parseNumber(const std::string& text, const std::string& what);

} // namespace jseg
