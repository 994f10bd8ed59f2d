#pragma once
// Intensity histogram of a volume, computed once on a worker thread after loading; the histogram
// widget, the automatic window and the threshold defaults read it.
#include <QString>
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

// "brain.nii.gz: 240 × 240 × 155 voxels, 1 × 1 × 1 mm, float32, range -1.2 … 5.3" for the status bar.
QString describeVolume(const QString& name, const Volume& v, const VolumeStats& stats);

} // namespace jseg::ui
