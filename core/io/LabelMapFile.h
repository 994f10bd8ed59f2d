#pragma once
// Opening a saved segmentation with the names and colours that travel with it, whatever juleseg or another
// tool wrote: a result folder, a 3D Slicer .seg.nrrd, a NIfTI label map with an ITK-SNAP label file (or a
// label_table.json, or a Slicer .ctbl) beside it, or a label TIFF with an ImageJ LUT.
#include <string>
#include <vector>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/io/LabelOutputs.h"

namespace jseg {

struct LabelMap {
  LabelVolume labels;
  // One entry per label id present in the volume (ascending); ids the file names nothing for get defaults.
  std::vector<LabelInfo> table;
  std::string labelsPath;  // the voxel file read
  std::string tablePath;   // where the names came from ("" when defaults)
};

// A folder is read as a juleseg result: labels.nii.gz (else labels.seg.nrrd, labels.tif). Beside a NIfTI file
// the names come from, in this order: <stem>.itksnap.txt, labels.itksnap.txt, label_table.json, <stem>.ctbl,
// labels.ctbl. InputError for what cannot be read.
LabelMap readLabelMap(const std::string& path, const TaskContext* ctx = nullptr);

// The table's entries for the ids present in `labels`, in id order, completed with defaults.
std::vector<LabelInfo> tableForLabels(const LabelVolume& labels, const std::vector<LabelInfo>& table);

} // namespace jseg
