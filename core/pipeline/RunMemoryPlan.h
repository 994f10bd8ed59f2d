#pragma once
// One memory plan for a whole run (training, features, k-means, outputs), made before anything is computed
// or written, against what the process may still allocate (free memory, the cgroup's memory.max, ulimit -v).
// A run that would not fit is refused at once with a stride the same plan says fits, instead of failing after
// training with a model written, or ending in std::bad_alloc.
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/Volume.h"
#include "core/params/ParameterSchema.h"

namespace jseg {

struct RunMemoryPlan {
  uint64_t trainingBytes = 0;  // patches, their features and graph, one batch of activations
  uint64_t featureBytes = 0;   // the feature grid (all networks, smoothing copy) and one tile of activations
  uint64_t kmeansBytes = 0;    // assignments and distances of k-means / the K sweep
  uint64_t outputBytes = 0;    // the label volume and its encoders
  uint64_t availableBytes = 0; // what the process may still allocate (0 = unknown)
  std::string limitName;       // which limit `availableBytes` comes from
  uint64_t gridPoints = 0;

  // The peak: stages run one after another, but the feature grid stays while k-means and outputs run.
  uint64_t peakBytes() const;
  bool fits() const;  // with a quarter of the available memory left to the rest of the program
  std::string describe() const;

  // The plan of a run on `channels` volumes (first = the thresholded one) with `p`; `train` when a model will be
  // trained, `kMax` the largest K k-means will fit.
  static RunMemoryPlan make(const Parameters& p, const std::vector<const Volume*>& channels, const Mask* roi,
                            bool train, int kMax);
  // make(), and ResourceError naming the need, the limit and a stride that fits (or why none does).
  static RunMemoryPlan require(const Parameters& p, const std::vector<const Volume*>& channels, const Mask* roi,
                               bool train, int kMax);
};

} // namespace jseg
