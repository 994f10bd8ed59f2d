#pragma once
// Agreement between the networks of an ensemble (parameter `networks` > 1): a quality criterion that needs no
// truth.
//
// Why: the networks are trained on the same patches from seeds seed, seed+1, ..., so each one alone is a draw
// of what JULE learns on this volume. Where the regions the method finds are real, every draw finds them; where
// the features only follow noise or the seed, the draws disagree. Issue 13 asks that choices be backed by a
// criterion the tool can compute without labels, and "stability across seeds" is one; the ensemble gives it
// for the price of k-means per network, not of training again.
//
// How: each network's block of feature columns (ModelFeatures lays them side by side) is finished exactly as
// the whole grid is (feature_whitening, feature_smoothing, the intensity columns) and clustered with the same
// k-means into K regions; the criterion is the mean NMI over all pairs of networks of their labels on the grid
// points. Grids of more than `maxPoints` points are first thinned to every 2nd (4th, ...) lattice point along
// each axis, which keeps the cost a few seconds on a whole brain at stride 1 (the smoothing radius stays in
// voxels). Deterministic: no sampling other than that fixed thinning. Torch-free header.
#include <cstddef>
#include <vector>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/params/ParameterSchema.h"
#include "core/segment/FeatureGrid.h"

namespace jseg {

struct NetworkAgreementResult {
  int networks = 0;            // 0 when there was nothing to compare (one network)
  int k = 0;
  std::size_t points = 0;      // grid points the labels were compared on (after thinning)
  int thinning = 1;            // every thinning-th lattice point along each axis
  std::vector<double> pairs;   // NMI of networks (0,1), (0,2), ..., (n-2,n-1)
  double mean = 0;             // mean of pairs; 1 = every network finds the same regions
  double seconds = 0;
};

class NetworkAgreement {
public:
  explicit NetworkAgreement(std::size_t maxPoints = 300000) : maxPoints_(maxPoints) {}

  // `raw`: a grid of `networks` equal blocks of unfinished features side by side (each block scaled by
  // 1/sqrt(networks), as ModelFeatures writes them). `params` gives the finishing and k-means settings; `k`
  // the number of regions. Returns networks = 0 for one network. InputError when dim is not a multiple of
  // networks or when fewer points than K remain. `channels`: the volume and its further channels, for the
  // intensity columns (feature_intensity).
  NetworkAgreementResult measure(const FeatureGrid& raw, int networks, const std::vector<const Volume*>& channels,
                                 const Parameters& params, int k, const TaskContext* ctx = nullptr) const;

  // The grid's points on every f-th lattice point along each axis (stride f times the grid's), features
  // copied; the lattice indices are those of the coarser lattice. f = 1 returns a copy.
  static FeatureGrid thinned(const FeatureGrid& grid, int f);

private:
  std::size_t maxPoints_;
};

} // namespace jseg
