#include "core/io/SlicerColorTable.h"

#include <fstream>
#include <sstream>

#include "core/base/Errors.h"
#include "core/io/AtomicFile.h"
#include "core/io/LabelDescriptionLines.h"

namespace jseg {

namespace {
std::string withoutSpaces(std::string name) {
  for (char& c : name)
    if (c == ' ' || c == '\t') c = '_';
  return name.empty() ? std::string("_") : name;
}
} // namespace

void writeSlicerColorTable(const std::vector<LabelInfo>& table, const std::string& path) {
  int maxId = 0;
  for (const LabelInfo& l : table) maxId = std::max(maxId, l.id);
  std::ostringstream s;
  s << "# Color table written by juleseg " JULESEG_VERSION "\n# " << maxId + 1 << " values\n";
  s << "0 Background 0 0 0 0\n";
  for (const LabelInfo& l : table)
    if (l.id > 0)
      s << l.id << ' ' << withoutSpaces(l.name) << ' ' << int(l.rgb[0]) << ' ' << int(l.rgb[1]) << ' '
        << int(l.rgb[2]) << ' ' << (l.visible ? 255 : 0) << '\n';
  writeFileAtomically(path, s.str());
}

std::vector<LabelInfo> readSlicerColorTable(const std::string& path) {
  std::vector<LabelInfo> table;
  forEachLabelDescriptionLine(path, "the Slicer colour table", [&](const std::string& line, int lineNo) {
    std::istringstream s(line);
    int id = 0, r = 0, g = 0, b = 0, a = 255;
    std::string name;
    if (!(s >> id >> name >> r >> g >> b) || !validLabelEntry(id, r, g, b))
      throw InputError(path + " line " + std::to_string(lineNo) + " is not a colour table line (index name R G B A): " +
                       line);
    s >> a;
    if (id == 0) return;
    table.push_back({id, name, {uint8_t(r), uint8_t(g), uint8_t(b)}, a > 0});
  });
  return table;
}

} // namespace jseg
