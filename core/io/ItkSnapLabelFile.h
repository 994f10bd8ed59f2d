#pragma once
// ITK-SNAP's label description file (Segmentation > Import/Export Label Descriptions), so that a label map
// opened in ITK-SNAP shows our names and colours. Lines after the comment header:
//   IDX  R G B  ALPHA  VIS  MESH  "NAME"
// with label 0 as ITK-SNAP's own "Clear Label" (transparent). Written atomically.
#include <string>
#include <vector>

#include "core/io/LabelOutputs.h"

namespace jseg {

void writeItkSnapLabelFile(const std::vector<LabelInfo>& table, const std::string& path);
// Every label line except 0 ("Clear Label"); InputError names the first line that does not parse.
std::vector<LabelInfo> readItkSnapLabelFile(const std::string& path);

} // namespace jseg
