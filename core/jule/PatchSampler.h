#pragma once
// Random training patches for JULE (seed paper §2.3). A patch is a w x w x d box (w, d odd; d = w, a cube, unless
// patchDepth is set) whose centre voxel intensity lies in [lo, hi] and which lies FULLY inside the volume:
// centres closer than w/2 (d/2 along z) to a border are never drawn (no padding). Centres are distinct and drawn uniformly from all valid ones
// with a seeded std::mt19937_64. The patches are then standardised with the mean and standard
// deviation of all sampled intensities (paper: "centralize them"); the same (mean, std) must be applied
// at segmentation time, so they are returned (and stored in the model file). Off = raw intensities.
//
// Several channels (co-registered volumes on one grid, e.g. FLAIR + T1c): the centres are drawn on
// channel 0 exactly as for one volume (its window, the same draws), every channel's cube is cut at each
// centre, and each channel is standardised with its own mean and deviation, because channels of
// different modalities share no intensity scale. A region of interest restricts the centres further.
#include <array>
#include <cstdint>
#include <vector>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/params/UnboundedThreshold.h"

namespace jseg {

struct PatchSamplerOptions {
  int patchSize = 27;  // w, odd
  // d, odd: the patch's extent along z (0 = w). Thin anisotropic stacks (20 slices of 10:1 electron
  // microscopy) cannot hold a cube as deep as it is wide, so patches are then w x w x d.
  int patchDepth = 0;
  int count = 10000;   // n_s
  double lo = -kUnboundedThreshold, hi = kUnboundedThreshold;  // centre-voxel threshold on channel 0, inclusive
  uint64_t seed = 1;
  bool standardize = true;
  // Centres only where roi->inside is set (in addition to the window); null = everywhere. Must have the
  // volume's dims. Not owned: it must outlive the sample() call.
  const Mask* roi = nullptr;
};

struct PatchSet {
  int patchSize = 0;
  int patchDepth = 0;  // extent along z; 0 = patchSize
  int count = 0;
  int channels = 1;
  // count x channels x w^2 d: per patch, channel by channel; each channel's cube z-major, x fastest (as Volume)
  std::vector<float> data;
  std::vector<std::array<int64_t, 3>> centres; // (x, y, z) of each patch's centre voxel
  double mean = 0, std = 1;                    // channel 0's standardisation: (v - mean) / std
  std::vector<double> channelMean, channelStd; // per channel (channel 0 = mean, std); empty when not standardised
  bool standardized = false;
  int64_t candidates = 0;                      // how many valid centres the volume had
  // With neighbour_positives: per patch, a second patch centred a few voxels away (same window and region),
  // cut and standardised alike; JULE treats each pair as a positive pair. Empty, or count x patchValues().
  std::vector<float> neighbours;
  const float* patch(int i) const { return data.data() + static_cast<std::size_t>(i) * patchValues(); }
  const float* patch(int i, int channel) const { return patch(i) + static_cast<std::size_t>(channel) * patchVoxels(); }
  int depth() const { return patchDepth > 0 ? patchDepth : patchSize; }
  // Voxels of one channel of a patch (w^2 d).
  std::size_t patchVoxels() const { return std::size_t(patchSize) * patchSize * depth(); }
  // Floats per patch (channels * w^3): the distance between consecutive patches in `data`.
  std::size_t patchValues() const { return std::size_t(channels) * patchVoxels(); }
};

class PatchSampler {
public:
  // InputError: w even or larger than the volume, no valid centre, fewer valid centres than `count`, a roi of
  // other dims. One channel: the same as the multi-channel overload with {&volume}.
  static PatchSet sample(const Volume& volume, const PatchSamplerOptions& options, const TaskContext* ctx = nullptr);
  // channels[0] decides the centres (window and roi); every channel must have channel 0's dims (InputError
  // naming the channel otherwise). Standardisation is per channel.
  static PatchSet sample(const std::vector<const Volume*>& channels, const PatchSamplerOptions& options,
                         const TaskContext* ctx = nullptr);
  // Number of valid centres (threshold, border rule and roi when given) without sampling.
  // patchDepth 0 = patchSize (a cube).
  static int64_t countCandidates(const Volume& volume, int patchSize, double lo, double hi, const Mask* roi = nullptr,
                                 int patchDepth = 0);
  // Copies the w x w x d patch centred at c (must be valid) into out (w^2 d floats), raw intensities;
  // patchDepth 0 = patchSize.
  static void extract(const Volume& volume, const std::array<int64_t, 3>& c, int patchSize, float* out,
                      int patchDepth = 0);
  // Every channel's w x w x d patch centred at c, one after the other, into out (channels * w^2 d floats).
  static void extract(const std::vector<const Volume*>& channels, const std::array<int64_t, 3>& c, int patchSize,
                      float* out, int patchDepth = 0);
  // InputError when a w x w x d patch (d = 0: w) does not fit the volume's dims, naming the axis and a size
  // that fits. Shared with dense extraction so training and segmentation refuse with the same words.
  static void checkFits(const std::array<int64_t, 3>& dims, int patchSize, int patchDepth = 0);
  // The patch depth covering about the physical extent of patchSize in-plane voxels along z (parameter
  // patch_depth_from_spacing): the odd number nearest patchSize * spacing_xy / spacing_z (spacing_xy the
  // mean of x and y), at least 3 and at most 63 (the parameter's range). Spacings must be positive.
  static int depthForSpacing(int patchSize, const std::array<double, 3>& spacing);
  // Mean and population standard deviation of the values (std 1 when the values are constant).
  static std::array<double, 2> meanStd(const std::vector<float>& values);
  // values = (values - mean) / std
  static void standardizeInPlace(std::vector<float>& values, double mean, double std);
  // Standardises each channel of `patches.data` with its own mean and deviation over all patches, recording
  // them (channelMean/channelStd, mean/std = channel 0's, standardized). For patches re-cut from other
  // volumes at the same centres. With one channel it equals meanStd + standardizeInPlace on all of data.
  static void standardizeChannels(PatchSet& patches);
};

} // namespace jseg
