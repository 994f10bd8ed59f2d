#include "core/segment/GridClustering.h"

#include <algorithm>
#include <string>

#include "core/base/Errors.h"
#include "core/segment/FeatureSmoothing.h"
#include "core/segment/FeatureWhitening.h"
#include "core/segment/LabelProjector.h"
#include "core/segment/PottsSmoothing.h"

namespace jseg {

void finishFeatures(FeatureGrid& grid, const std::vector<const Volume*>& channels, const Parameters& params,
                    const TaskContext* ctx) {
  const ParameterValues v = params.values();
  FeatureWhitening(v.featureWhitening, v.threads).apply(grid, ctx);
  FeatureSmoothing(v.featureSmoothing, v.threads).apply(grid, ctx);
  if (v.featureIntensity) grid.appendIntensityColumns(intensityChannels(channels, v.intensityChannels), v.intensityWeight);
}

std::vector<const Volume*> intensityChannels(const std::vector<const Volume*>& channels, const std::string& which) {
  if (which == "added") return {channels.begin() + std::min<std::ptrdiff_t>(1, std::ptrdiff_t(channels.size())), channels.end()};
  return channels;
}

void finishFeatures(FeatureGrid& grid, const Volume& vol, const Parameters& params, const TaskContext* ctx) {
  finishFeatures(grid, std::vector<const Volume*>{&vol}, params, ctx);
}

KMeansOptions kmeansOptions(const Parameters& p, int k) {
  const ParameterValues v = p.values();
  KMeansOptions o;
  o.k = k;
  o.restarts = v.kmeansRestarts;
  o.maxIterations = v.kmeansMaxIter;
  o.seed = static_cast<uint64_t>(v.seed);
  o.threads = v.threads;
  return o;
}

KMeansResult clusterGrid(const FeatureGrid& grid, int k, const Parameters& p, const TaskContext* ctx, PottsResult* potts) {
  if (grid.count() < static_cast<std::size_t>(k))
    throw InputError("only " + std::to_string(grid.count()) + " grid points lie in the threshold window, fewer than K = " +
                     std::to_string(k) + "; lower the stride or widen the threshold");
  KMeansResult r = KMeans(kmeansOptions(p, k)).fit(grid.features.data(), grid.count(), grid.dim, ctx);
  const PottsResult smoothed = PottsSmoothing(p.values().pottsWeight).apply(grid, r.labels, k, ctx);
  if (potts) *potts = smoothed;
  return r;
}

LabelVolume paintClusters(const FeatureGrid& grid, const std::vector<int32_t>& clusters, int k, const Volume& vol,
                          const TaskContext* ctx) {
  ProjectionOptions po;
  po.fillUncovered = true;  // patches cannot be centred within w/2 of the border; those voxels take the nearest label
  return LabelProjector(po).project(grid, clusters.data(), k, vol, ctx).labels;
}

FeatureGrid blockMeanGrid(const Volume& vol, const FeatureGrid& layout) {
  FeatureGrid g = layout;
  g.dim = 1;
  g.hasIntensityColumn = false;
  g.features.assign(g.count(), 0.f);
  for (std::size_t i = 0; i < g.count(); ++i) {
    double sum = 0;
    int64_t n = 0;
    g.forEachBlockVoxel(i, [&](int64_t x, int64_t y, int64_t z) {
      const float v = vol.at(x, y, z);
      if (v < g.lo || v > g.hi || !g.inRegion(x, y, z)) return;
      sum += v;
      ++n;
    });
    const auto& c = g.centres[i];
    g.features[i] = static_cast<float>(n ? sum / double(n) : vol.at(c[0], c[1], c[2]));
  }
  return g;
}

} // namespace jseg
