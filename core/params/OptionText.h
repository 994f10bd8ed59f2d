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
// A number, or InputError naming `what`.
double parseNumber(const std::string& text, const std::string& what);

} // namespace jseg
