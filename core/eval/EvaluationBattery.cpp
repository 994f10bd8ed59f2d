#include "core/eval/EvaluationBattery.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/eval/IntensityBaselines.h"
#include "core/eval/Nmi.h"
#include "core/jule/ModelFile.h"
#include "core/jule/ComputePrecision.h"
#include "core/segment/DenseFeatureExtractor.h"
#include "core/segment/FeatureSmoothing.h"
#include "core/segment/GridClustering.h"
#include "core/segment/ModelFeatures.h"
#include "core/segment/PottsSmoothing.h"

namespace jseg {

namespace {

LabelVolume paintGridKMeans(const FeatureGrid& g, const Volume& vol, int k, const Parameters& p, const TaskContext* ctx) {
  KMeansResult r = clusterGrid(g, k, p, ctx);
  return paintClusters(g, r.labels, k, vol, ctx);
}

// The first channel (the volume) and the ones after it.
std::vector<const Volume*> allChannels(const EvaluationInputs& in) {
  std::vector<const Volume*> channels{in.volume};
  channels.insert(channels.end(), in.moreChannels.begin(), in.moreChannels.end());
  return channels;
}

LabelVolume untrainedNetworkLabels(const EvaluationInputs& in, const TaskContext* ctx) {
  const ParameterValues v = in.params.values();
  const uint64_t seed = static_cast<uint64_t>(v.seed);
  JuleModel untrained = *in.model;
  untrained.network = makeRandomNetwork(in.model->spec, seed, false);
  for (std::size_t m = 0; m < untrained.moreNetworks.size(); ++m)
    untrained.moreNetworks[m] = makeRandomNetwork(in.model->spec, seed + m + 1, false);
  ModelFeatures random(untrained, v.threads, ComputePrecision::resolve(v.precision));
  FeatureGrid rg = random.layout(*in.volume, in.layout->stride[0], in.lo, in.hi, in.layout->roi);
  random.compute(rg, in.networkInputs, ctx);
  finishFeatures(rg, allChannels(in), in.params, ctx);
  return paintGridKMeans(rg, *in.volume, in.k, in.params, ctx);
}

// The voxels the baselines see: inside the first channel's window and the region of interest.
Mask baselineRegion(const EvaluationInputs& in) {
  Mask m = thresholdMask(*in.volume, in.lo, in.hi);
  if (in.roi)
    for (std::size_t i = 0; i < m.inside.size(); ++i) m.inside[i] &= in.roi->inside[i];
  return m;
}

// k-means on every channel at once, each standardised over the region so that no channel dominates by its units.
LabelVolume allChannelKMeans(const EvaluationInputs& in, const Mask& region, const TaskContext* ctx) {
  const std::vector<const Volume*> channels = allChannels(in);
  const int c = int(channels.size());
  std::vector<std::size_t> voxels;
  for (std::size_t i = 0; i < region.inside.size(); ++i)
    if (region.inside[i]) voxels.push_back(i);
  const std::vector<float> rows = standardisedChannelRows(channels, voxels);
  const KMeansResult km = KMeans(kmeansOptions(in.params, in.k)).fit(rows.data(), voxels.size(), c, ctx);
  // Labels 1..K in the order of the clusters' first-channel means, as every other method numbers them.
  std::vector<int> order(std::size_t(in.k));
  for (int j = 0; j < in.k; ++j) order[std::size_t(j)] = j;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return km.centroids[std::size_t(a) * c] < km.centroids[std::size_t(b) * c]; });
  std::vector<uint16_t> labelOf(std::size_t(in.k));
  for (int r = 0; r < in.k; ++r) labelOf[std::size_t(order[std::size_t(r)])] = uint16_t(r + 1);
  LabelVolume out = makeLabelVolume(in.volume->geom);
  for (std::size_t r = 0; r < voxels.size(); ++r) out.labels[voxels[r]] = labelOf[std::size_t(km.labels[r])];
  return out;
}

} // namespace

std::vector<NamedLabels> voxelBaselines(const EvaluationInputs& in, const TaskContext* ctx) {
  const ParameterValues v = in.params.values();
  const uint64_t seed = static_cast<uint64_t>(v.seed);
  // potts_weight: each baseline's labels are smoothed as JULE's are, on the channels it clustered.
  const PottsSmoothing potts(v.pottsWeight);
  std::vector<NamedLabels> out;
  auto add = [&](const std::string& name, LabelVolume labels, const std::vector<const Volume*>& sawChannels) {
    potts.apply(labels, sawChannels, in.k, ctx);
    out.push_back({name, std::move(labels)});
  };
  if (in.moreChannels.empty()) {
    add("intensity_kmeans", intensityKMeans(*in.volume, in.lo, in.hi, in.k, seed, 1, 300, 1e-4, ctx, in.roi).labels, {in.volume});
    add("multi_otsu", multiOtsu(*in.volume, in.lo, in.hi, in.k, ctx, in.roi).labels, {in.volume});
    return out;
  }
  const Mask region = baselineRegion(in);
  const std::vector<const Volume*> channels = allChannels(in);
  add("kmeans_all_channels", allChannelKMeans(in, region, ctx), channels);
  const float lowest = -std::numeric_limits<float>::max(), highest = std::numeric_limits<float>::max();
  auto nameOf = [&](std::size_t ch) {
    return ch < in.channelNames.size() ? in.channelNames[ch] : "channel" + std::to_string(ch + 1);
  };
  for (std::size_t ch = 0; ch < channels.size(); ++ch)
    add("kmeans_" + nameOf(ch), intensityKMeans(*channels[ch], lowest, highest, in.k, seed, 1, 300, 1e-4, ctx, &region).labels,
        {channels[ch]});
  add("multi_otsu", multiOtsu(*in.volume, in.lo, in.hi, in.k, ctx, in.roi).labels, {in.volume});
  // Multi-Otsu on each added channel too: the best threshold cut of T1c inside a glioma (0.325 in pat0006) beats
  // k-means on it, and the best baseline a user could have had is what JULE must be measured against.
  for (std::size_t ch = 1; ch < channels.size(); ++ch)
    add("multi_otsu_" + nameOf(ch), multiOtsu(*channels[ch], lowest, highest, in.k, ctx, &region).labels, {channels[ch]});
  return out;
}

std::vector<MethodScore> runEvaluationBattery(const EvaluationInputs& in, const TaskContext* ctx) {
  std::vector<MethodScore> out;
  EvaluationRegion region;
  region.mask = in.roi;
  auto score = [&](const std::string& name, const LabelVolume& labels) {
    out.push_back({name, scoreSegmentation(labels, *in.truth, region).nmi});
  };
  const Parameters& p = in.params;
  const ParameterValues v = p.values();
  const int stride = v.stride;
  for (const auto& b : voxelBaselines(in, ctx)) score(b.method, b.labels);
  if (stride > 1) score("block_mean_kmeans", paintGridKMeans(blockMeanGrid(*in.volume, *in.layout), *in.volume, in.k, p, ctx));
  const FeatureSmoothing smoothing(v.featureSmoothing, v.threads);
  if (smoothing.latticeRadius(stride) > 0) {
    FeatureGrid g = blockMeanGrid(*in.volume, *in.layout);
    smoothing.apply(g, ctx);
    score("smoothed_intensity_kmeans", paintGridKMeans(g, *in.volume, in.k, p, ctx));
  }
  if (in.model) score("untrained_network", untrainedNetworkLabels(in, ctx));
  return out;
}

} // namespace jseg
