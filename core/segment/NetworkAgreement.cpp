#include "core/segment/NetworkAgreement.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "core/base/Errors.h"
#include "core/eval/Nmi.h"
#include "core/segment/GridClustering.h"

namespace jseg {

namespace {

// The grid's lattice and points on every f-th lattice point along each axis (features left empty), and which of
// the grid's points they are.
FeatureGrid thinnedLayout(const FeatureGrid& grid, int f, std::vector<std::size_t>& kept) {
  if (f < 1) throw InputError("thinning factor must be at least 1");
  // The layout only: copying the whole grid would copy its features too (2 GB on a whole brain, three networks).
  FeatureGrid g;
  g.geom = grid.geom;
  g.extent = grid.extent;
  g.stride = grid.stride;
  g.latticeDims = grid.latticeDims;
  g.firstCentre = grid.firstCentre;
  g.lo = grid.lo;
  g.hi = grid.hi;
  g.roi = grid.roi;
  kept.clear();
  for (int a = 0; a < 3; ++a) {
    g.latticeDims[a] = (grid.latticeDims[a] + f - 1) / f;
    g.stride[a] = grid.stride[a] * f;
  }
  const int64_t nx = grid.latticeDims[0], ny = grid.latticeDims[1];
  for (std::size_t p = 0; p < grid.count(); ++p) {
    const int64_t at = grid.lattice[p];
    const int64_t i = at % nx, j = (at / nx) % ny, l = at / (nx * ny);
    if (i % f || j % f || l % f) continue;
    kept.push_back(p);
    g.centres.push_back(grid.centres[p]);
    g.lattice.push_back((l / f * g.latticeDims[1] + j / f) * g.latticeDims[0] + i / f);
  }
  return g;
}

} // namespace

FeatureGrid NetworkAgreement::thinned(const FeatureGrid& grid, int f) {
  std::vector<std::size_t> kept;
  FeatureGrid g = thinnedLayout(grid, f, kept);
  g.dim = grid.dim;
  const std::size_t dim = std::size_t(grid.dim);
  g.features.resize(kept.size() * dim);
  for (std::size_t p = 0; p < kept.size(); ++p)
    std::copy_n(grid.row(kept[p]), dim, g.features.data() + p * dim);
  return g;
}

NetworkAgreementResult NetworkAgreement::measure(const FeatureGrid& raw, int networks,
                                                 const std::vector<const Volume*>& channels, const Parameters& params,
                                                 int k, const TaskContext* ctx) const {
  const auto t0 = std::chrono::steady_clock::now();
  NetworkAgreementResult r;
  if (networks < 2) return r;
  if (raw.dim % networks != 0 || raw.hasIntensityColumn)
    throw InputError("network agreement needs " + std::to_string(networks) +
                     " equal blocks of unfinished features, got " + std::to_string(raw.dim) + " columns");
  int f = 1;
  while (raw.count() / (std::size_t(f) * f * f) > maxPoints_) f *= 2;
  // Only one network's block of the (thinned) points is held at a time: on the demo phantom (269,000 points,
  // three networks of 160 features) that is 172 MB beside the grid's 516 MB, less than the feature pass's buffers
  // that are freed before this runs, so the features' memory plan still bounds the peak.
  std::vector<std::size_t> kept;
  const FeatureGrid layout = thinnedLayout(raw, f, kept);
  const int blockDim = raw.dim / networks;
  // ModelFeatures scales each block by 1/sqrt(networks); undo it so that a block is what one network alone
  // gives (it matters where nothing rescales afterwards, e.g. beside an intensity column of a given weight).
  const float unscale = float(std::sqrt(double(networks)));
  std::vector<std::vector<int>> labels;
  for (int m = 0; m < networks; ++m) {
    checkCancel(ctx);
    reportProgress(ctx, double(m) / networks, "network agreement: network " + std::to_string(m + 1));
    FeatureGrid g = layout;
    g.dim = blockDim;
    g.features.resize(kept.size() * std::size_t(blockDim));
    for (std::size_t p = 0; p < kept.size(); ++p) {
      const float* src = raw.row(kept[p]) + std::size_t(m) * std::size_t(blockDim);
      float* dst = g.features.data() + p * std::size_t(blockDim);
      for (int c = 0; c < blockDim; ++c) dst[c] = unscale * src[c];
    }
    TaskContext sub = stageContext(ctx, double(m) / networks, double(m + 1) / networks, "");
    finishFeatures(g, channels, params, ctx ? &sub : nullptr);
    const KMeansResult km = clusterGrid(g, k, params, ctx ? &sub : nullptr);
    labels.emplace_back(km.labels.begin(), km.labels.end());
  }
  for (int a = 0; a < networks; ++a)
    for (int b = a + 1; b < networks; ++b) r.pairs.push_back(nmi(labels[std::size_t(a)], labels[std::size_t(b)]));
  double sum = 0;
  for (double v : r.pairs) sum += v;
  r.networks = networks;
  r.k = k;
  r.points = kept.size();
  r.thinning = f;
  r.mean = sum / double(r.pairs.size());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

} // namespace jseg
