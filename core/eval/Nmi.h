#pragma once
// Agreement between a segmentation and a ground truth: normalised mutual information
// NMI = MI / sqrt(H(truth) * H(prediction)) (Strehl & Ghosh; natural log, as the JULE code and the seed paper),
// and the contingency table it is computed from.
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/Volume.h"

namespace jseg {

struct ContingencyTable {
  std::vector<int> truthLabels;                // row label values
  std::vector<int> predictedLabels;            // column label values
  std::vector<std::vector<int64_t>> counts;    // [row][column]
  int64_t total = 0;
  std::string toText() const;                  // aligned table for the CLI
};

ContingencyTable contingencyTable(const std::vector<int>& truth, const std::vector<int>& predicted);
double nmi(const ContingencyTable& t);
double nmi(const std::vector<int>& truth, const std::vector<int>& predicted);

struct SegmentationScore {
  double nmi = 0;
  int64_t voxels = 0;
  ContingencyTable table;
};

// Which voxels count: by default those with truth > 0; with `mask`, those inside it; `slices` (indices along
// `axis`, 0 = x, 1 = y, 2 = z) restricts further to those slices, as the paper's 7 annotated slices.
struct EvaluationRegion {
  const Mask* mask = nullptr;
  std::vector<int64_t> slices;
  int axis = 2;
};

// Throws InputError when the grids differ or the region is empty.
SegmentationScore scoreSegmentation(const LabelVolume& predicted, const LabelVolume& truth,
                                    const EvaluationRegion& region = {});

} // namespace jseg
