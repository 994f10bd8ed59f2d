#pragma once
// Intensity histogram of a volume, computed once on a worker thread after loading; the histogram
// widget, the automatic window and the threshold defaults read it.
#include <cstdint>
#include <vector>

#include "core/base/Volume.h"

namespace jseg::ui {

struct VolumeStats {
  float min = 0, max = 0;
  std::vector<uint64_t> bins;  // equal-width bins over [min, max]

  static VolumeStats compute(const Volume& v, int numBins = 256);
  // Intensity below which `percent` % of the voxels lie (bin resolution).
  float percentile(double percent) const;
  float binCenter(int i) const;
  int binOf(float value) const;
};

} // namespace jseg::ui
