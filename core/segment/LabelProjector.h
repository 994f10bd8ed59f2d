#pragma once
// Paints k-means labels of grid points back onto the volume (seed paper §2.5): the stride-sized block
// around each computed grid point takes that point's cluster.
//
// Block rule: a point with centre c paints, per axis, voxels [c - s/2, c - s/2 + s) (integer s/2): centred
// for odd s; for even s the centre voxel has s/2 voxels before it and s/2 - 1 after it. Blocks of
// neighbouring lattice points tile without gaps or overlap; stride 1 paints one voxel per point.
// Only voxels inside the threshold window [lo, hi] are painted (others stay 0 even inside a block), and
// blocks of lattice points that were not computed (centre outside the window or region) stay 0.
//
// Region of interest: when the grid has one (FeatureGrid::roi), voxels outside it are 0 in every projection,
// also inside a painted block, and fillUncovered never fills them; the window rule above is unchanged.
//
// Label numbers: clusters are renumbered 1..K by the mean intensity of the voxels they painted,
// ascending, so colours do not depend on k-means' arbitrary order; clusters that painted nothing come
// last, in cluster order.
//
// fillUncovered: voxels in the window that no lattice block covers (a border of about w/2 voxels where
// patches do not fit, plus the remainder of the stride) take the label of the nearest computed lattice
// point (Euclidean voxel distance, searched within 2 lattice steps of the nearest lattice point; none
// there leaves 0).
#include <cstdint>
#include <vector>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/segment/FeatureGrid.h"

namespace jseg {

struct ProjectionOptions {
  bool fillUncovered = false;
};

struct Projection {
  LabelVolume labels;
  std::vector<int> clusterToLabel;        // cluster index -> label 1..K
  std::vector<double> labelMeanIntensity;  // per label 1..K at [label - 1]; NaN for a label with no voxel
  std::vector<int64_t> labelVoxels;        // per label 1..K at [label - 1]
};

class LabelProjector {
public:
  explicit LabelProjector(ProjectionOptions options = {}) : opt_(options) {}

  // clusters: one value in 0..k-1 per grid point. InputError when sizes disagree or a value is out of range.
  Projection project(const FeatureGrid& grid, const int32_t* clusters, int k, const Volume& vol,
                     const TaskContext* ctx = nullptr) const;

private:
  ProjectionOptions opt_;
};

} // namespace jseg
