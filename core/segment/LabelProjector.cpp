#include "core/segment/LabelProjector.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "core/base/Errors.h"

namespace jseg {

namespace {

// Index of the computed point at a lattice position, or -1 (grid.lattice is ascending).
int64_t pointAt(const FeatureGrid& g, int64_t i, int64_t j, int64_t l) {
  if (i < 0 || j < 0 || l < 0 || i >= g.latticeDims[0] || j >= g.latticeDims[1] || l >= g.latticeDims[2]) return -1;
  int64_t key = (l * g.latticeDims[1] + j) * g.latticeDims[0] + i;
  auto it = std::lower_bound(g.lattice.begin(), g.lattice.end(), key);
  if (it == g.lattice.end() || *it != key) return -1;
  return it - g.lattice.begin();
}

} // namespace

Projection LabelProjector::project(const FeatureGrid& grid, const int32_t* clusters, int k, const Volume& vol,
                                   const TaskContext* ctx) const {
  if (grid.geom.dims != vol.geom.dims)
    throw InputError("the feature grid was computed on a volume of another size than the one to label");
  if (grid.roi && (grid.roi->geom.dims != vol.geom.dims || grid.roi->inside.size() != vol.voxels.size()))
    throw InputError("the feature grid's region of interest does not have the dims of the volume to label");
  if (k < 1 || k > 65535) throw InputError("K must be in 1..65535 (got " + std::to_string(k) + ")");
  const std::size_t n = grid.count();
  for (std::size_t i = 0; i < n; ++i)
    if (clusters[i] < 0 || clusters[i] >= k)
      throw InputError("cluster index " + std::to_string(clusters[i]) + " out of range 0.." + std::to_string(k - 1));

  Projection out;
  out.labels = makeLabelVolume(vol.geom);
  auto& lab = out.labels.labels;
  const auto& dims = vol.geom.dims;
  const float lo = grid.lo, hi = grid.hi;
  // Window and region of interest: the only voxels that may take a label.
  auto inside = [&](std::size_t idx) {
    float v = vol.voxels[idx];
    return v >= lo && v <= hi && grid.inRegion(idx);
  };

  // Paint cluster + 1; renumbered by intensity below.
  for (std::size_t p = 0; p < n; ++p) {
    if ((p & 0xFFF) == 0) {
      checkCancel(ctx);
      reportProgress(ctx, 0.8 * double(p) / double(n), "painting labels");
    }
    std::array<int64_t, 3> b{}, e{};
    for (int a = 0; a < 3; ++a) {
      int s = grid.stride[a];
      b[a] = std::max<int64_t>(0, grid.centres[p][a] - s / 2);
      e[a] = std::min<int64_t>(dims[a], grid.centres[p][a] - s / 2 + s);
    }
    const auto value = static_cast<uint16_t>(clusters[p] + 1);
    for (int64_t z = b[2]; z < e[2]; ++z)
      for (int64_t y = b[1]; y < e[1]; ++y) {
        std::size_t row = vol.geom.index(0, y, z);
        for (int64_t x = b[0]; x < e[0]; ++x)
          if (inside(row + x)) lab[row + x] = value;
      }
  }

  if (opt_.fillUncovered && n > 0) {
    // Voxel range covered by lattice blocks, per axis.
    std::array<int64_t, 3> cb{}, ce{};
    for (int a = 0; a < 3; ++a) {
      int s = grid.stride[a];
      cb[a] = grid.firstCentre[a] - s / 2;
      ce[a] = grid.firstCentre[a] + (grid.latticeDims[a] - 1) * s - s / 2 + s;
    }
    auto nearestLattice = [&](int a, int64_t v) {
      double t = double(v - grid.firstCentre[a]) / grid.stride[a];
      int64_t i = static_cast<int64_t>(std::llround(t));
      return std::clamp<int64_t>(i, 0, grid.latticeDims[a] - 1);
    };
    for (int64_t z = 0; z < dims[2]; ++z) {
      checkCancel(ctx);
      bool zIn = z >= cb[2] && z < ce[2];
      for (int64_t y = 0; y < dims[1]; ++y) {
        bool yzIn = zIn && y >= cb[1] && y < ce[1];
        std::size_t row = vol.geom.index(0, y, z);
        for (int64_t x = 0; x < dims[0]; ++x) {
          if (yzIn && x >= cb[0] && x < ce[0]) {
            x = ce[0] - 1;  // covered by a block: painted or deliberately left 0
            continue;
          }
          if (!inside(row + x)) continue;
          int64_t ni = nearestLattice(0, x), nj = nearestLattice(1, y), nl = nearestLattice(2, z);
          int64_t best = -1;
          double bestD = std::numeric_limits<double>::infinity();
          for (int64_t dl = -2; dl <= 2; ++dl)
            for (int64_t dj = -2; dj <= 2; ++dj)
              for (int64_t di = -2; di <= 2; ++di) {
                int64_t p = pointAt(grid, ni + di, nj + dj, nl + dl);
                if (p < 0) continue;
                double dx = double(grid.centres[p][0] - x), dy = double(grid.centres[p][1] - y),
                       dz = double(grid.centres[p][2] - z);
                double d2 = dx * dx + dy * dy + dz * dz;
                if (d2 < bestD) {
                  bestD = d2;
                  best = p;
                }
              }
          if (best >= 0) lab[row + x] = static_cast<uint16_t>(clusters[best] + 1);
        }
      }
    }
  }

  // Mean intensity per cluster over the voxels it painted, then labels by ascending mean.
  checkCancel(ctx);
  reportProgress(ctx, 0.9, "ordering labels by intensity");
  std::vector<double> sum(static_cast<std::size_t>(k), 0.0);
  std::vector<int64_t> cnt(static_cast<std::size_t>(k), 0);
  for (std::size_t i = 0; i < lab.size(); ++i)
    if (lab[i]) {
      sum[lab[i] - 1] += vol.voxels[i];
      ++cnt[lab[i] - 1];
    }
  std::vector<int> order(static_cast<std::size_t>(k));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if ((cnt[a] > 0) != (cnt[b] > 0)) return cnt[a] > 0;
    if (cnt[a] == 0) return false;
    return sum[a] / double(cnt[a]) < sum[b] / double(cnt[b]);
  });
  out.clusterToLabel.assign(static_cast<std::size_t>(k), 0);
  out.labelMeanIntensity.assign(static_cast<std::size_t>(k), std::numeric_limits<double>::quiet_NaN());
  out.labelVoxels.assign(static_cast<std::size_t>(k), 0);
  std::vector<uint16_t> remap(static_cast<std::size_t>(k) + 1, 0);
  for (int r = 0; r < k; ++r) {
    int c = order[r];
    out.clusterToLabel[c] = r + 1;
    remap[c + 1] = static_cast<uint16_t>(r + 1);
    out.labelVoxels[r] = cnt[c];
    if (cnt[c] > 0) out.labelMeanIntensity[r] = sum[c] / double(cnt[c]);
  }
  for (auto& v : lab) v = remap[v];
  reportProgress(ctx, 1.0, "labels painted");
  return out;
}

} // namespace jseg
