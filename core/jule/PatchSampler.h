#pragma once
// Random training patches for JULE (seed paper §2.3). A patch is a w x w x w cube (w odd) whose centre
// voxel intensity lies in [lo, hi] and which lies FULLY inside the volume: centres closer than w/2 to a
// border are never drawn (no padding). Centres are distinct and drawn uniformly from all valid ones
// with a seeded std::mt19937_64. The patches are then standardised with the mean and standard
// deviation of all sampled intensities (paper: "centralize them"); the same (mean, std) must be applied
// at segmentation time, so they are returned (and stored in the model file). Off = raw intensities.
#include <array>
#include <cstdint>
#include <vector>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/params/UnboundedThreshold.h"

namespace jseg {

struct PatchSamplerOptions {
  int patchSize = 27;  // w, odd
  int count = 10000;   // n_s
  double lo = -kUnboundedThreshold, hi = kUnboundedThreshold;  // centre-voxel threshold, inclusive
  uint64_t seed = 1;
  bool standardize = true;
};

struct PatchSet {
  int patchSize = 0;
  int count = 0;
  std::vector<float> data;                     // count x w^3, each patch z-major, x fastest (as Volume)
  std::vector<std::array<int64_t, 3>> centres; // (x, y, z) of each patch's centre voxel
  double mean = 0, std = 1;                    // standardisation applied: (v - mean) / std
  bool standardized = false;
  int64_t candidates = 0;                      // how many valid centres the volume had
  const float* patch(int i) const { return data.data() + static_cast<std::size_t>(i) * patchVoxels(); }
  std::size_t patchVoxels() const { return std::size_t(patchSize) * patchSize * patchSize; }
};

class PatchSampler {
public:
  // InputError: w even or larger than the volume, no valid centre, fewer valid centres than `count`.
  static PatchSet sample(const Volume& volume, const PatchSamplerOptions& options, const TaskContext* ctx = nullptr);
  // Number of valid centres (threshold and border rule) without sampling.
  static int64_t countCandidates(const Volume& volume, int patchSize, double lo, double hi);
  // Copies the w^3 patch centred at c (must be valid) into out (w^3 floats), raw intensities.
  static void extract(const Volume& volume, const std::array<int64_t, 3>& c, int patchSize, float* out);
  // Mean and population standard deviation of the values (std 1 when the values are constant).
  static std::array<double, 2> meanStd(const std::vector<float>& values);
  // values = (values - mean) / std
  static void standardizeInPlace(std::vector<float>& values, double mean, double std);
};

} // namespace jseg
