#include "core/io/ItkSnapLabelFile.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/base/Errors.h"
#include "core/io/AtomicFile.h"
#include "core/io/LabelDescriptionLines.h"

namespace jseg {

namespace {

// ITK-SNAP's own column layout, so a file we write looks like one it wrote (and diffs cleanly against it).
std::string labelLine(int id, const std::array<uint8_t, 3>& rgb, double alpha, bool visible, const std::string& name) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%5d %5d %4d %4d %8g %2d %2d    ", id, rgb[0], rgb[1], rgb[2], alpha,
                visible ? 1 : 0, visible ? 1 : 0);
  std::string quoted;
  for (char c : name) quoted += c == '"' ? '\'' : c;  // the format has no escape for a double quote
  return std::string(buf) + "\"" + quoted + "\"\n";
}

} // namespace

void writeItkSnapLabelFile(const std::vector<LabelInfo>& table, const std::string& path) {
  std::string text =
      "################################################\n"
      "# ITK-SnAP Label Description File\n"
      "# Written by juleseg " JULESEG_VERSION "\n"
      "# File format: \n"
      "# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL\n"
      "# Fields: \n"
      "#    IDX:   Zero-based index \n"
      "#    -R-:   Red color component (0..255)\n"
      "#    -G-:   Green color component (0..255)\n"
      "#    -B-:   Blue color component (0..255)\n"
      "#    -A-:   Label transparency (0.00 .. 1.00)\n"
      "#    VIS:   Label visibility (0 or 1)\n"
      "#    IDX:   Label mesh visibility (0 or 1)\n"
      "#  LABEL:   Label description \n"
      "################################################\n";
  text += labelLine(0, {0, 0, 0}, 0, false, "Clear Label");
  for (const LabelInfo& l : table)
    if (l.id > 0) text += labelLine(l.id, l.rgb, 1, l.visible, l.name);
  writeFileAtomically(path, text);
}

std::vector<LabelInfo> readItkSnapLabelFile(const std::string& path) {
  std::vector<LabelInfo> table;
  forEachLabelDescriptionLine(path, "the ITK-SNAP label file", [&](const std::string& line, int lineNo) {
    std::istringstream s(line);
    int id = 0, r = 0, g = 0, b = 0, vis = 0, mesh = 0;
    double alpha = 0;
    const auto q1 = line.find('"'), q2 = line.rfind('"');
    if (!(s >> id >> r >> g >> b >> alpha >> vis >> mesh) || q1 == std::string::npos || q2 == q1 ||
        !validLabelEntry(id, r, g, b))
      throw InputError(path + " line " + std::to_string(lineNo) +
                       " is not an ITK-SNAP label line (IDX R G B ALPHA VIS MESH \"NAME\"): " + line);
    if (id == 0) return;
    LabelInfo info;
    info.id = id;
    info.rgb = {uint8_t(r), uint8_t(g), uint8_t(b)};
    info.visible = vis != 0 && alpha > 0;
    info.name = line.substr(q1 + 1, q2 - q1 - 1);
    table.push_back(info);
  });
  return table;
}

} // namespace jseg
