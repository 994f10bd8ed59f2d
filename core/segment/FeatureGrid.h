#pragma once
// The segmentation grid: patch centres on a lattice of step `stride` over the volume, the subset whose
// centre voxel lies in the threshold window [lo, hi], and one feature row per such point.
//
// Lattice rule: the first patch starts at voxel 0 on each axis, so lattice point (i, j, l) is the patch
// with corner (i, j, l) * stride and centre corner + extent / 2 (the voxel just past the middle for an
// even extent); only patches that lie fully inside the volume are on the lattice. The last
// (dim - extent) mod stride voxels of each axis therefore start no patch; LabelProjector can fill them.
// 2D networks (extent 1 in z) use z stride 1: every slice is one lattice layer.
// A region of interest (a Mask on the volume's grid) restricts the points further: only centres inside both
// the roi and the window are computed. The grid keeps the roi, so that painting and statistics can leave
// voxels outside it alone (inRegion); the window test stays separate, on the intensities.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/Errors.h"
#include "core/base/Volume.h"

namespace jseg {

// Sub-box of the volume (voxel index, begin inclusive, end exclusive) whose voxels may be grid centres.
struct GridRegion {
  std::array<int64_t, 3> begin{0, 0, 0};
  std::array<int64_t, 3> end{0, 0, 0};  // all zero = the whole volume
  bool whole() const { return end[0] == 0 && end[1] == 0 && end[2] == 0; }
};

struct FeatureGrid {
  Geometry geom;                             // the volume's
  std::array<int, 3> extent{0, 0, 0};        // patch size per axis (x, y, z)
  std::array<int, 3> stride{1, 1, 1};        // lattice step per axis
  std::array<int64_t, 3> latticeDims{0, 0, 0};  // lattice points per axis (masked or not)
  std::array<int64_t, 3> firstCentre{0, 0, 0};  // voxel centre of lattice point (0, 0, 0) = extent / 2
  float lo = 0, hi = 0;                      // threshold window on the centre voxel
  std::shared_ptr<const Mask> roi;           // region of interest (null = the whole volume), the volume's dims

  // Per computed point, in ascending lattice order (z slowest):
  std::vector<std::array<int32_t, 3>> centres;  // voxel index of the patch centre
  std::vector<int64_t> lattice;                 // (l * latticeDims[1] + j) * latticeDims[0] + i

  int dim = 0;                  // features per point (network features, + 1 with the intensity column)
  std::vector<float> features;  // count() x dim, row-major

  bool hasIntensityColumn = false;  // intensity columns are appended, the last `intensityColumns` of a row
  int intensityColumns = 0;         // one per channel (appendIntensityColumns), 1 from appendIntensityColumn
  double intensityWeight = 0, intensityMean = 0, intensityStd = 1;  // of the (first) appended column

  std::size_t count() const { return centres.size(); }
  const float* row(std::size_t i) const { return features.data() + i * static_cast<std::size_t>(dim); }
  std::array<int64_t, 3> cornerOf(std::size_t i) const {
    return {centres[i][0] - extent[0] / 2, centres[i][1] - extent[1] / 2, centres[i][2] - extent[2] / 2};
  }
  // Calls f(x, y, z) for each voxel of point i's stride-sized block (centred on its patch centre, as the
  // projector paints it) that lies inside the volume.
  template <class F>
  void forEachBlockVoxel(std::size_t i, F&& f) const {
    const auto& c = centres[i];
    std::array<int64_t, 3> b{}, e{};
    for (int a = 0; a < 3; ++a) {
      b[a] = std::max<int64_t>(0, c[a] - stride[a] / 2);
      e[a] = std::min<int64_t>(geom.dims[a], c[a] - stride[a] / 2 + stride[a]);
    }
    for (int64_t z = b[2]; z < e[2]; ++z)
      for (int64_t y = b[1]; y < e[1]; ++y)
        for (int64_t x = b[0]; x < e[0]; ++x) f(x, y, z);
  }
  // Whether voxel (x, y, z) lies in the region of interest (always true without one). Not the window test.
  bool inRegion(int64_t x, int64_t y, int64_t z) const { return !roi || roi->inside[geom.index(x, y, z)]; }
  bool inRegion(std::size_t voxelIndex) const { return !roi || roi->inside[voxelIndex]; }

  std::size_t latticeCount() const {
    return static_cast<std::size_t>(latticeDims[0]) * static_cast<std::size_t>(latticeDims[1]) *
           static_cast<std::size_t>(latticeDims[2]);
  }

  // Lays out the lattice and the masked points (features left empty). InputError when the volume is smaller
  // than a patch or the stride is not positive; an empty mask gives zero points (the caller decides).
  static FeatureGrid layout(const Volume& vol, std::array<int, 3> extent, int stride, float lo, float hi,
                            const GridRegion& region = {}) {
    return layout(vol, extent, stride, lo, hi, region, nullptr);
  }
  // The same with a region of interest: points only where roi is inside (roi null = everywhere). InputError
  // when the roi's dims are not the volume's.
  static FeatureGrid layout(const Volume& vol, std::array<int, 3> extent, int stride, float lo, float hi,
                            const GridRegion& region, std::shared_ptr<const Mask> roi) {
    FeatureGrid g;
    if (roi && (roi->geom.dims != vol.geom.dims || roi->inside.size() != vol.geom.voxelCount()))
      throw InputError("the region of interest (" + std::to_string(roi->geom.dims[0]) + "x" +
                       std::to_string(roi->geom.dims[1]) + "x" + std::to_string(roi->geom.dims[2]) +
                       ") does not have the volume's dims (" + std::to_string(vol.geom.dims[0]) + "x" +
                       std::to_string(vol.geom.dims[1]) + "x" + std::to_string(vol.geom.dims[2]) + ")");
    g.geom = vol.geom;
    g.extent = extent;
    if (stride < 1) throw InputError("stride must be at least 1 (got " + std::to_string(stride) + ")");
    g.stride = {stride, stride, extent[2] == 1 ? 1 : stride};
    g.lo = lo;
    g.hi = hi;
    g.roi = std::move(roi);
    const auto& dims = vol.geom.dims;
    for (int a = 0; a < 3; ++a) {
      if (dims[a] < extent[a])
        throw InputError("the volume (" + std::to_string(dims[0]) + "x" + std::to_string(dims[1]) + "x" +
                         std::to_string(dims[2]) + ") is smaller than one patch (" + std::to_string(extent[0]) +
                         "x" + std::to_string(extent[1]) + "x" + std::to_string(extent[2]) +
                         "); use a smaller patch size");
      g.latticeDims[a] = (dims[a] - extent[a]) / g.stride[a] + 1;
      g.firstCentre[a] = extent[a] / 2;
    }
    std::array<int64_t, 3> rb{0, 0, 0}, re = dims;
    if (!region.whole())
      for (int a = 0; a < 3; ++a) {
        rb[a] = std::max<int64_t>(0, region.begin[a]);
        re[a] = std::min<int64_t>(dims[a], region.end[a]);
      }
    for (int64_t l = 0; l < g.latticeDims[2]; ++l) {
      int64_t z = g.firstCentre[2] + l * g.stride[2];
      if (z < rb[2] || z >= re[2]) continue;
      for (int64_t j = 0; j < g.latticeDims[1]; ++j) {
        int64_t y = g.firstCentre[1] + j * g.stride[1];
        if (y < rb[1] || y >= re[1]) continue;
        for (int64_t i = 0; i < g.latticeDims[0]; ++i) {
          int64_t x = g.firstCentre[0] + i * g.stride[0];
          if (x < rb[0] || x >= re[0]) continue;
          const std::size_t idx = vol.geom.index(x, y, z);
          const float v = vol.voxels[idx];
          if (!(v >= lo && v <= hi) || !g.inRegion(idx)) continue;
          g.centres.push_back({static_cast<int32_t>(x), static_cast<int32_t>(y), static_cast<int32_t>(z)});
          g.lattice.push_back((l * g.latticeDims[1] + j) * g.latticeDims[0] + i);
        }
      }
    }
    return g;
  }

  // feature_intensity: appends the centre voxel's intensity of each of `channels`, each standardised over the grid
  // points (zero mean, unit deviation) and scaled by `weight`, one column per channel; the CNN rows are unit-norm
  // (or whitened), so `weight` is each channel's influence relative to them. Why every channel: with FLAIR + T1c
  // the regions of a glioma follow T1c's intensity more than FLAIR's, and only the first channel's column would
  // leave that out.
  void appendIntensityColumns(const std::vector<const Volume*>& channels, double weight) {
    if (hasIntensityColumn) throw InputError("the grid already has intensity columns");
    const std::size_t n = count();
    const int add = int(channels.size());
    std::vector<float> out(n * static_cast<std::size_t>(dim + add));
    for (std::size_t i = 0; i < n; ++i)
      std::copy_n(features.data() + i * dim, dim, out.data() + i * (dim + add));
    for (int ch = 0; ch < add; ++ch) {
      const Volume& vol = *channels[std::size_t(ch)];
      double sum = 0, sq = 0;
      for (const auto& c : centres) {
        double v = vol.at(c[0], c[1], c[2]);
        sum += v;
        sq += v * v;
      }
      const double mean = n ? sum / double(n) : 0.0;
      const double var = n ? std::max(0.0, sq / double(n) - mean * mean) : 0.0;
      const double sd = var > 0 ? std::sqrt(var) : 1.0;
      if (ch == 0) intensityMean = mean, intensityStd = sd;
      for (std::size_t i = 0; i < n; ++i) {
        double v = vol.at(centres[i][0], centres[i][1], centres[i][2]);
        out[i * (dim + add) + dim + ch] = static_cast<float>(weight * (v - mean) / sd);
      }
    }
    intensityWeight = weight;
    features.swap(out);
    dim += add;
    intensityColumns = add;
    hasIntensityColumn = add > 0;
  }
  // The same for one volume (one column).
  void appendIntensityColumn(const Volume& vol, double weight) { appendIntensityColumns({&vol}, weight); }
};

} // namespace jseg
