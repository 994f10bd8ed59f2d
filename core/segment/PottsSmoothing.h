#pragma once
// Potts smoothing of the final labels (parameter `potts_weight`, not in the paper, off by default): iterated
// conditional modes (Besag 1986) on the lattice the labels live on. Each point takes the label k that minimises
//
//     |x - c_k|^2 / (2 s^2)  +  weight * (number of its 6 lattice neighbours whose label is not k)
//
// where x is the point's feature row, c_k the mean row of label k and s^2 the mean squared distance of a point
// to its own label's mean. Dividing by s^2 makes the first term unit-free and independent of the number of
// feature columns, so one weight means the same for 16 whitened CNN features and for a single intensity: that
// is what lets the evaluation battery apply exactly this step to every baseline (issue 13: spatial
// regularisation must not favour JULE in the comparison).
//
// Why: k-means labels every point on its own, so noise leaves isolated points and ragged boundaries in wide
// regions; a neighbour costs `weight` units of that normalised distance, so a point changes label only when
// the distances to two centres are close and its neighbours mostly hold the other label. The means and s^2 stay
// those of the input labels (the clustering's centres), so a region is never moved, only cleaned.
//
// Points are updated in two half-sweeps (lattice parity even, then odd); 6-neighbours always have the other
// parity, so each half-sweep depends only on the previous one: deterministic, whatever the thread count. Stops
// when a sweep changes nothing or after `maxSweeps`. Torch-free header.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/segment/FeatureGrid.h"

namespace jseg {

struct PottsResult {
  int sweeps = 0;           // full sweeps run
  std::size_t changed = 0;  // points whose final label differs from the input's
};

class PottsSmoothing {
public:
  explicit PottsSmoothing(double weight, int maxSweeps = 10);

  bool active() const { return weight_ > 0; }

  // `labels` (0..k-1) of n points at lattice indices `lattice` ((z * dims[1] + y) * dims[0] + x) of a dense
  // lattice, each with `dim` features (row-major), smoothed in place.
  PottsResult apply(const std::array<int64_t, 3>& dims, const std::vector<int64_t>& lattice, const float* features,
                    int dim, std::vector<int32_t>& labels, int k, const TaskContext* ctx = nullptr) const;
  // On a feature grid's lattice and rows.
  PottsResult apply(const FeatureGrid& grid, std::vector<int32_t>& labels, int k, const TaskContext* ctx = nullptr) const;
  // On a label volume (1..k inside, 0 = unlabelled, left alone) whose features are the voxels' intensities in
  // `channels` (the volume's grid), each standardised over the labelled voxels.
  PottsResult apply(LabelVolume& labels, const std::vector<const Volume*>& channels, int k,
                    const TaskContext* ctx = nullptr) const;

private:
  double weight_;
  int maxSweeps_;
};

} // namespace jseg
