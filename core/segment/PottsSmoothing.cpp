#include "core/segment/PottsSmoothing.h"

#include <cmath>
#include <limits>
#include <string>

#include "core/base/Errors.h"

namespace jseg {

PottsSmoothing::PottsSmoothing(double weight, int maxSweeps) : weight_(weight), maxSweeps_(maxSweeps) {
  if (!(weight >= 0) || !std::isfinite(weight)) throw InputError("the Potts weight must be 0 or more");
  if (maxSweeps < 1) throw InputError("Potts smoothing needs at least one sweep");
}

PottsResult PottsSmoothing::apply(const std::array<int64_t, 3>& dims, const std::vector<int64_t>& lattice,
                                  const float* features, int dim, std::vector<int32_t>& labels, int k,
                                  const TaskContext* ctx) const {
  PottsResult result;
  const std::size_t n = labels.size();
  if (!active() || n == 0 || k < 2 || dim < 1) return result;
  if (lattice.size() != n) throw InputError("Potts smoothing: one lattice index per label is needed");
  const std::size_t d = std::size_t(dim), kk = std::size_t(k);

  // The labels' means and the mean squared distance to them: the clustering's own centres and spread.
  std::vector<double> sums(kk * d, 0.0);
  std::vector<std::size_t> sizes(kk, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const int l = labels[i];
    if (l < 0 || l >= k) throw InputError("Potts smoothing: label " + std::to_string(l) + " is not in 0.." + std::to_string(k - 1));
    ++sizes[std::size_t(l)];
    for (std::size_t c = 0; c < d; ++c) sums[std::size_t(l) * d + c] += features[i * d + c];
  }
  std::vector<float> centres(kk * d, 0.f);
  for (std::size_t l = 0; l < kk; ++l)
    for (std::size_t c = 0; c < d; ++c) centres[l * d + c] = sizes[l] ? float(sums[l * d + c] / double(sizes[l])) : 0.f;
  auto distance = [&](std::size_t i, std::size_t l) {
    double s = 0;
    for (std::size_t c = 0; c < d; ++c) {
      const double t = double(features[i * d + c]) - centres[l * d + c];
      s += t * t;
    }
    return s;
  };
  double spread = 0;
  for (std::size_t i = 0; i < n; ++i) spread += distance(i, std::size_t(labels[i]));
  spread /= double(n);
  if (!(spread > 0)) return result;  // every point sits on its centre: nothing is ambiguous
  const double unit = 1.0 / (2.0 * spread);

  // Where each lattice point's label is (-1: no point there).
  const std::size_t latticeCount = std::size_t(dims[0] * dims[1] * dims[2]);
  std::vector<int32_t> pointAt(latticeCount, -1);
  for (std::size_t i = 0; i < n; ++i) pointAt[std::size_t(lattice[i])] = int32_t(i);
  const std::vector<int32_t> input = labels;

  std::vector<double> cost(kk);
  for (int sweep = 0; sweep < maxSweeps_; ++sweep) {
    checkCancel(ctx);
    std::size_t changedThisSweep = 0;
    for (int parity = 0; parity < 2; ++parity)
      for (std::size_t i = 0; i < n; ++i) {
        const int64_t at = lattice[i];
        const int64_t x = at % dims[0], y = (at / dims[0]) % dims[1], z = at / (dims[0] * dims[1]);
        if (int((x + y + z) & 1) != parity) continue;
        // Disagreement cost per label: weight for each neighbour holding another label.
        int neighbours = 0;
        std::fill(cost.begin(), cost.end(), 0.0);
        auto visit = [&](int64_t other) {
          const int32_t j = pointAt[std::size_t(other)];
          if (j < 0) return;
          ++neighbours;
          cost[std::size_t(labels[std::size_t(j)])] -= weight_;
        };
        if (x > 0) visit(at - 1);
        if (x + 1 < dims[0]) visit(at + 1);
        if (y > 0) visit(at - dims[0]);
        if (y + 1 < dims[1]) visit(at + dims[0]);
        if (z > 0) visit(at - dims[0] * dims[1]);
        if (z + 1 < dims[2]) visit(at + dims[0] * dims[1]);
        const int current = labels[i];
        int best = current;
        double bestCost = std::numeric_limits<double>::infinity();
        for (std::size_t l = 0; l < kk; ++l) {
          if (!sizes[l]) continue;  // an empty cluster has no centre to go to
          const double c = distance(i, l) * unit + weight_ * neighbours + cost[l];
          // Ties keep the current label, so that the result does not depend on the label numbering.
          if (c < bestCost || (c == bestCost && int(l) == current)) bestCost = c, best = int(l);
        }
        if (best != current) labels[i] = best, ++changedThisSweep;
      }
    result.sweeps = sweep + 1;
    reportProgress(ctx, double(sweep + 1) / maxSweeps_, "smoothing labels");
    if (changedThisSweep == 0) break;
  }
  for (std::size_t i = 0; i < n; ++i) result.changed += labels[i] != input[i];
  return result;
}

PottsResult PottsSmoothing::apply(const FeatureGrid& grid, std::vector<int32_t>& labels, int k,
                                  const TaskContext* ctx) const {
  if (labels.size() != grid.count()) throw InputError("Potts smoothing: one label per grid point is needed");
  return apply(grid.latticeDims, grid.lattice, grid.features.data(), grid.dim, labels, k, ctx);
}

PottsResult PottsSmoothing::apply(LabelVolume& volumeLabels, const std::vector<const Volume*>& channels, int k,
                                  const TaskContext* ctx) const {
  if (!active() || channels.empty()) return {};
  const std::size_t voxels = volumeLabels.labels.size();
  for (const Volume* vol : channels)
    if (vol->voxels.size() != voxels) throw InputError("Potts smoothing: a channel is not on the labels' grid");
  std::vector<std::size_t> labelled;
  std::vector<int32_t> labels;
  for (std::size_t v = 0; v < voxels; ++v)
    if (volumeLabels.labels[v] > 0) labelled.push_back(v), labels.push_back(int32_t(volumeLabels.labels[v]) - 1);
  const std::size_t n = labelled.size();
  // Each channel standardised over the labelled voxels, as the multi-channel k-means baseline sees them.
  const std::vector<float> rows = standardisedChannelRows(channels, labelled);
  const std::vector<int64_t> at(labelled.begin(), labelled.end());
  const auto& dims = volumeLabels.geom.dims;
  const PottsResult r = apply({dims[0], dims[1], dims[2]}, at, rows.data(), int(channels.size()), labels, k, ctx);
  for (std::size_t i = 0; i < n; ++i) volumeLabels.labels[labelled[i]] = uint16_t(labels[i] + 1);
  return r;
}

} // namespace jseg
