#pragma once
// 3D Slicer's segmentation file (.seg.nrrd): a labelmap NRRD (one layer, gzip) whose key/value header lines
// (Segment{N}_ID, _Name, _Color, _LabelValue, ...) tell Slicer's Segmentations module which voxel value is which
// named, coloured segment. Geometry is written in LPS (`space: left-posterior-superior`), as Slicer stores it.
#include <string>
#include <vector>

#include "core/base/Volume.h"
#include "core/io/LabelOutputs.h"

namespace jseg {

// One segment per table entry with id > 0 (label values as in `labels`); the voxel type is unsigned char when
// every label is below 256, else unsigned short. Written atomically.
void writeSlicerSegmentation(const LabelVolume& labels, const std::vector<LabelInfo>& table, const std::string& path);

struct SlicerSegmentation {
  LabelVolume labels;
  std::vector<LabelInfo> table;  // from the Segment{N}_ fields of layer 0
};
// A single-layer labelmap .seg.nrrd (or a plain 3D integer NRRD: an empty table), raw or gzip encoded.
// InputError for overlapping layers, other types or a header that does not parse.
SlicerSegmentation readSlicerSegmentation(const std::string& path);

} // namespace jseg
