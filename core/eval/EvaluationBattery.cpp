#include "core/eval/EvaluationBattery.h"

#include "core/eval/IntensityBaselines.h"
#include "core/eval/Nmi.h"
#include "core/jule/ModelFile.h"
#include "core/segment/DenseFeatureExtractor.h"
#include "core/segment/FeatureSmoothing.h"
#include "core/segment/GridClustering.h"
#include "core/segment/ModelFeatures.h"

namespace jseg {

namespace {

LabelVolume paintGridKMeans(const FeatureGrid& g, const Volume& vol, int k, const Parameters& p, const TaskContext* ctx) {
  KMeansResult r = clusterGrid(g, k, p, ctx);
  return paintClusters(g, r.labels, k, vol, ctx);
}

LabelVolume untrainedNetworkLabels(const EvaluationInputs& in, const TaskContext* ctx) {
  const ParameterValues v = in.params.values();
  const uint64_t seed = static_cast<uint64_t>(v.seed);
  JuleModel untrained = *in.model;
  untrained.network = makeRandomNetwork(in.model->spec, seed, false);
  for (std::size_t m = 0; m < untrained.moreNetworks.size(); ++m)
    untrained.moreNetworks[m] = makeRandomNetwork(in.model->spec, seed + m + 1, false);
  ModelFeatures random(untrained, v.threads);
  FeatureGrid rg = random.layout(*in.volume, in.layout->stride[0], in.lo, in.hi);
  random.compute(rg, *in.networkInput, ctx);
  finishFeatures(rg, *in.volume, in.params, ctx);
  return paintGridKMeans(rg, *in.volume, in.k, in.params, ctx);
}

} // namespace

std::vector<MethodScore> runEvaluationBattery(const EvaluationInputs& in, const TaskContext* ctx) {
  std::vector<MethodScore> out;
  EvaluationRegion region;
  region.mask = in.roi;
  auto score = [&](const std::string& name, const LabelVolume& labels) {
    out.push_back({name, scoreSegmentation(labels, *in.truth, region).nmi});
  };
  const Parameters& p = in.params;
  const ParameterValues v = p.values();
  const uint64_t seed = static_cast<uint64_t>(v.seed);
  const int stride = v.stride;
  score("intensity_kmeans", intensityKMeans(*in.volume, in.lo, in.hi, in.k, seed, 1, 300, 1e-4, ctx, in.roi).labels);
  score("multi_otsu", multiOtsu(*in.volume, in.lo, in.hi, in.k, ctx, in.roi).labels);
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
