#pragma once
// Feature whitening (parameter `feature_whitening`, not in the paper, off by default): each grid point's
// features are replaced by their coordinates on the first N principal components of all grid points'
// features, each divided by its standard deviation (PCA whitening).
//
// Why: JULE's features are L2-normalised rows whose variance sits in a few directions, and those directions
// need not be the ones that separate regions (inside a glioma, boundary and contrast effects spread the
// features most). k-means with a Euclidean distance splits along the widest directions. After whitening every
// kept direction weighs alike, and dropping the trailing components drops directions that are mostly noise.
// Measured inside the BraTS tumours (seed 1, texture preset, N = 8): 0.036 -> 0.161 NMI on pat0001's FLAIR,
// 0.067 -> 0.151 on pat0006's; see docs/learned-features.md for every seed and case.
//
// The covariance is estimated on at most `maxSamples` grid points taken at a fixed step (deterministic, and a
// million-point grid costs no more than a small one); every point is then projected. Components whose
// variance is below 1e-9 of the largest are dropped rather than blown up. Torch-free header.
#include <cstddef>
#include <vector>

#include "core/base/Progress.h"
#include "core/segment/FeatureGrid.h"

namespace jseg {

struct WhiteningResult {
  int components = 0;             // kept (at most the requested number and the feature dimension)
  double explainedVariance = 0;   // fraction of the total variance the kept components hold
};

class FeatureWhitening {
public:
  explicit FeatureWhitening(int components, int threads = 0, std::size_t maxSamples = 200000);

  // Whitens grid.features in place (dim becomes the kept components). A no-op for 0 components or an empty
  // grid. An intensity column (feature_intensity) must not be there yet: it is appended after whitening.
  WhiteningResult apply(FeatureGrid& grid, const TaskContext* ctx = nullptr) const;

  // The same on a plain row-major count x dim matrix; returns the new dim through the result.
  WhiteningResult apply(std::vector<float>& rows, std::size_t count, int& dim, const TaskContext* ctx = nullptr) const;

private:
  int components_;
  int threads_;
  std::size_t maxSamples_;
};

} // namespace jseg
