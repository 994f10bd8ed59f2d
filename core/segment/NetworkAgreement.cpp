#include "core/segment/NetworkAgreement.h"

#include <chrono>
#include <cmath>
#include <string>

#include "core/base/Errors.h"
#include "core/eval/Nmi.h"
#include "core/segment/GridClustering.h"

namespace jseg {

FeatureGrid NetworkAgreement::thinned(const FeatureGrid& grid, int f) {
  if (f < 1) throw InputError("thinning factor must be at least 1");
  FeatureGrid g = grid;
  if (f == 1) return g;
  g.centres.clear();
  g.lattice.clear();
  g.features.clear();
  for (int a = 0; a < 3; ++a) {
    g.latticeDims[a] = (grid.latticeDims[a] + f - 1) / f;
    g.stride[a] = grid.stride[a] * f;
  }
  const int64_t nx = grid.latticeDims[0], ny = grid.latticeDims[1];
  const std::size_t dim = std::size_t(grid.dim);
  for (std::size_t p = 0; p < grid.count(); ++p) {
    const int64_t at = grid.lattice[p];
    const int64_t i = at % nx, j = (at / nx) % ny, l = at / (nx * ny);
    if (i % f || j % f || l % f) continue;
    g.centres.push_back(grid.centres[p]);
    g.lattice.push_back((l / f * g.latticeDims[1] + j / f) * g.latticeDims[0] + i / f);
    g.features.insert(g.features.end(), grid.features.begin() + std::ptrdiff_t(p * dim),
                      grid.features.begin() + std::ptrdiff_t((p + 1) * dim));
  }
  return g;
}

NetworkAgreementResult NetworkAgreement::measure(const FeatureGrid& raw, int networks, const Volume& vol,
                                                 const Parameters& params, int k, const TaskContext* ctx) const {
  const auto t0 = std::chrono::steady_clock::now();
  NetworkAgreementResult r;
  if (networks < 2) return r;
  if (raw.dim % networks != 0 || raw.hasIntensityColumn)
    throw InputError("network agreement needs " + std::to_string(networks) +
                     " equal blocks of unfinished features, got " + std::to_string(raw.dim) + " columns");
  int f = 1;
  while (raw.count() / (std::size_t(f) * f * f) > maxPoints_) f *= 2;
  // Thinning first keeps the copy small; only one network's block is held at a time beside it.
  const FeatureGrid base = thinned(raw, f);
  const int blockDim = raw.dim / networks;
  // ModelFeatures scales each block by 1/sqrt(networks); undo it so that a block is what one network alone
  // gives (it matters where nothing rescales afterwards, e.g. beside an intensity column of a given weight).
  const float unscale = float(std::sqrt(double(networks)));
  std::vector<std::vector<int>> labels;
  for (int m = 0; m < networks; ++m) {
    checkCancel(ctx);
    reportProgress(ctx, double(m) / networks, "network agreement: network " + std::to_string(m + 1));
    FeatureGrid g = base;
    g.dim = blockDim;
    g.features.assign(base.count() * std::size_t(blockDim), 0.f);
    for (std::size_t p = 0; p < base.count(); ++p)
      for (int c = 0; c < blockDim; ++c)
        g.features[p * std::size_t(blockDim) + std::size_t(c)] =
            unscale * base.features[p * std::size_t(raw.dim) + std::size_t(m * blockDim + c)];
    TaskContext sub = stageContext(ctx, double(m) / networks, double(m + 1) / networks, "");
    finishFeatures(g, vol, params, ctx ? &sub : nullptr);
    const KMeansResult km = clusterGrid(g, k, params, ctx ? &sub : nullptr);
    labels.emplace_back(km.labels.begin(), km.labels.end());
  }
  for (int a = 0; a < networks; ++a)
    for (int b = a + 1; b < networks; ++b) r.pairs.push_back(nmi(labels[std::size_t(a)], labels[std::size_t(b)]));
  double sum = 0;
  for (double v : r.pairs) sum += v;
  r.networks = networks;
  r.k = k;
  r.points = base.count();
  r.thinning = f;
  r.mean = sum / double(r.pairs.size());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

} // namespace jseg
