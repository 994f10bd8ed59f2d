#pragma once
// Reading the plain-text label descriptions other tools write (ITK-SNAP's label file, Slicer's colour table):
// both are one label per line, with blank lines and '#' comments between. The line loop and the range checks
// live here once; each reader parses its own columns.
#include <fstream>
#include <string>

#include "core/base/Errors.h"

namespace jseg {

// Calls parse(line, lineNumber) for each line that is neither blank nor a comment. `what` names the file in the
// error when it cannot be opened ("the ITK-SNAP label file").
template <class Parse>
void forEachLabelDescriptionLine(const std::string& path, const std::string& what, Parse&& parse) {
  std::ifstream in(path);
  if (!in) throw InputError("cannot open " + what + " " + path);
  std::string line;
  for (int lineNo = 1; std::getline(in, line); ++lineNo) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    parse(line, lineNo);
  }
}

// A label value a label map can hold and an 8-bit RGB colour.
inline bool validLabelEntry(int id, int r, int g, int b) {
  return id >= 0 && id <= 65535 && r >= 0 && r <= 255 && g >= 0 && g <= 255 && b >= 0 && b <= 255;
}

} // namespace jseg
