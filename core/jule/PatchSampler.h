#pragma once
// Random training patches for JULE (seed paper §2.3). A patch is a w x w x w cube (w odd) whose centre
// voxel intensity lies in [lo, hi] and which lies FULLY inside the volume: centres closer than w/2 to a
// border are never drawn (no padding). Centres are distinct and drawn uniformly from all valid ones
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
  int count = 0;
  int channels = 1;
  // count x channels x w^3: per patch, channel by channel; each channel's cube z-major, x fastest (as Volume)
  std::vector<float> data;
  std::vector<std::array<int64_t, 3>> centres; // (x, y, z) of each patch's centre voxel
  double mean = 0, std = 1;                    // channel 0's standardisation: (v - mean) / std
  std::vector<double> channelMean, channelStd; // per channel (channel 0 = mean, std); empty when not standardised
  bool standardized = false;
  int64_t candidates = 0;                      // how many valid centres the volume had
  const float* patch(int i) const { return data.data() + static_cast<std::size_t>(i) * patchValues(); }
  const float* patch(int i, int channel) const { return patch(i) + static_cast<std::size_t>(channel) * patchVoxels(); }
  // Voxels of one channel of a patch (w^3).
  std::size_t patchVoxels() const { return std::size_t(patchSize) * patchSize * patchSize; }
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
  static int64_t countCandidates(const Volume& volume, int patchSize, double lo, double hi, const Mask* roi = nullptr);
  // Copies the w^3 patch centred at c (must be valid) into out (w^3 floats), raw intensities.
  static void extract(const Volume& volume, const std::array<int64_t, 3>& c, int patchSize, float* out);
  // Every channel's w^3 patch centred at c, one after the other, into out (channels * w^3 floats).
  static void extract(const std::vector<const Volume*>& channels, const std::array<int64_t, 3>& c, int patchSize,
                      float* out);
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
