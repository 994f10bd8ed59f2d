#pragma once
// Feature smoothing (parameter `feature_smoothing`, not in the paper, off by default): each grid point's
// features become the mean of the features of the grid points within r voxels of it along every axis (a
// cube of side 2r + 1, cut to the points that exist: inside the threshold window and the volume).
//
// Why: on the demo phantom the features of one tissue spread widely from patch to patch (the low-intensity
// tissue two to three times wider than the others), and k-means then splits that tissue instead of
// separating the tissues, although a linear probe separates them. Averaging neighbouring patches shrinks
// the spread inside a region and leaves region means alone. It blurs boundaries by up to r voxels, so it
// suits wide regions (micro-CT tissues), not a 1 mm cortex.
//
// The radius is in voxels so that it means the same at every stride: on the lattice it is floor(r / stride)
// steps (0 steps: nothing changes). The box is separable, so the cost is a few passes over the lattice per
// feature column, whatever r is, and it runs column by column so the extra memory is a few lattice-sized
// float buffers per thread. Torch-free header.
#include <array>
#include <cstdint>

#include "core/base/Progress.h"
#include "core/segment/FeatureGrid.h"

namespace jseg {

class FeatureSmoothing {
public:
  explicit FeatureSmoothing(int radiusVoxels, int threads = 0);

  // Lattice steps the radius spans at `stride` (0 = nothing to do), and per axis of a grid.
  int latticeRadius(int stride) const;
  std::array<int, 3> latticeRadii(const FeatureGrid& grid) const;
  // Extra bytes apply() holds at its peak for this grid.
  uint64_t workingBytes(const FeatureGrid& grid) const;
  // Smooths grid.features in place. An intensity column (feature_intensity), if already there, is left as it
  // is: it is there to keep detail finer than the patch. Cancellable between columns.
  void apply(FeatureGrid& grid, const TaskContext* ctx = nullptr) const;

private:
  int radius_;
  int threads_;
};

} // namespace jseg
