#include "ui/VolumeStats.h"

#include <algorithm>
#include <cmath>

namespace jseg::ui {

VolumeStats VolumeStats::compute(const Volume& v, int numBins) {
  VolumeStats s;
  auto r = v.range();
  s.min = r[0];
  s.max = r[1];
  s.bins.assign(std::max(1, numBins), 0);
  for (float x : v.voxels) {
    if (!std::isfinite(x)) continue;
    ++s.bins[s.binOf(x)];
  }
  return s;
}

int VolumeStats::binOf(float value) const {
  const int n = int(bins.size());
  if (!(max > min)) return 0;
  int b = int((double(value) - min) / (double(max) - min) * n);
  return std::clamp(b, 0, n - 1);
}

float VolumeStats::binCenter(int i) const {
  const int n = int(bins.size());
  return float(min + (i + 0.5) * (double(max) - min) / n);
}

float VolumeStats::percentile(double percent) const {
  uint64_t total = 0;
  for (auto b : bins) total += b;
  if (total == 0) return min;
  const double target = total * percent / 100.0;
  uint64_t acc = 0;
  for (std::size_t i = 0; i < bins.size(); ++i) {
    acc += bins[i];
    if (acc >= target) return binCenter(int(i));
  }
  return max;
}

QString describeVolume(const QString& name, const Volume& v, const VolumeStats& stats) {
  const auto& g = v.geom;
  return QString("%1: %2 × %3 × %4 voxels, %5 × %6 × %7 mm%8, %9, range %10 … %11")
      .arg(name)
      .arg(g.dims[0])
      .arg(g.dims[1])
      .arg(g.dims[2])
      .arg(g.spacing[0], 0, 'g', 4)
      .arg(g.spacing[1], 0, 'g', 4)
      .arg(g.spacing[2], 0, 'g', 4)
      .arg(g.spacingKnown ? "" : " (assumed)")
      .arg(pixelTypeName(v.originalType))
      .arg(stats.min)
      .arg(stats.max);
}

} // namespace jseg::ui
