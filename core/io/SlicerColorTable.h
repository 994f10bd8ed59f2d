#pragma once
// 3D Slicer's colour table file (.ctbl: "index name R G B A" lines after "#" comments), which Slicer loads as a
// colour node for a labelmap volume. Names cannot hold spaces there, so spaces are written as underscores.
#include <string>
#include <vector>

#include "core/io/LabelOutputs.h"

namespace jseg {

// Index 0 is written as a transparent "Background"; invisible labels get alpha 0. Written atomically.
void writeSlicerColorTable(const std::vector<LabelInfo>& table, const std::string& path);
// Every entry except index 0; InputError names the first line that does not parse.
std::vector<LabelInfo> readSlicerColorTable(const std::string& path);

} // namespace jseg
