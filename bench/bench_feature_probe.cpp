// bench-links: juleseg_core torch
// Is a poor phantom segmentation the features' fault or k-means'? For each trained model (and, for
// comparison, an untrained network of the same architecture) this computes the stride-1 features of the
// demo phantom and reports, as JSON lines:
//   kmeans_nmi     the pipeline's own result: k-means (K = 3) on the features, painted and scored;
//   lda_nmi        a supervised linear probe: each grid point goes to the nearest tissue mean under the
//                  pooled within-tissue covariance (LDA, fitted with the truth), painted and scored the same
//                  way. It bounds what any linear reading of the features can reach;
//   lda_accuracy   the probe's share of correct patch centres;
//   pcs            for the top principal components: share of variance, and each tissue's mean and sd on it,
//                  which shows whether tissues differ by more than they spread.
// Usage: bench_feature_probe MODEL.pt [MODEL.pt ...]     (e.g. from bench_phantom_seeds --keep DIR)
#include <torch/torch.h>

#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/demo/Phantom.h"
#include "core/eval/Nmi.h"
#include "core/jule/ModelFile.h"
#include "core/jule/TorchRuntime.h"
#include "core/pipeline/SegmentationPipeline.h"
#include "core/segment/DenseFeatureExtractor.h"
#include "core/segment/KMeans.h"
#include "core/segment/LabelProjector.h"

using namespace jseg;
using json = nlohmann::json;

namespace {

constexpr int kTissues = 3;

double paintedNmi(const FeatureGrid& g, const std::vector<int32_t>& labels, const Phantom& ph) {
  ProjectionOptions po;
  po.fillUncovered = true;  // as the pipeline paints
  return scoreSegmentation(LabelProjector(po).project(g, labels.data(), kTissues, ph.volume).labels, ph.truth).nmi;
}

double round3(double v) { return std::round(v * 1000) / 1000; }

json probe(const std::shared_ptr<PatchNetworkImpl>& network, const JuleModel& model, const Phantom& ph,
           const Volume& filled) {
  DenseFeatureOptions fo;
  fo.inputMean = model.standardized ? model.patchMean : 0.0;
  fo.inputStd = model.standardized ? model.patchStd : 1.0;
  DenseFeatureExtractor ex(network, fo);
  FeatureGrid g = ex.layout(ph.volume, 1, ph.suggestedLo, ph.suggestedHi);
  ex.compute(g, filled);
  const int64_t n = int64_t(g.count()), d = g.dim;
  json out;

  KMeansOptions ko;
  ko.k = kTissues;
  ko.restarts = 4;
  out["kmeans_nmi"] = paintedNmi(g, KMeans(ko).fit(g.features.data(), g.count(), g.dim).labels, ph);

  // Truth at each patch centre (0 only where the threshold lets a background voxel in).
  std::vector<int64_t> truthAt(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto& c = g.centres[std::size_t(i)];
    truthAt[std::size_t(i)] = ph.truth.labels[ph.volume.geom.index(c[0], c[1], c[2])];
  }
  torch::Tensor X = torch::from_blob(g.features.data(), {n, d}, torch::kFloat).to(torch::kDouble);
  torch::Tensor T = torch::from_blob(truthAt.data(), {n}, torch::kLong).clone();

  // LDA: class means and the pooled within-class covariance of the tissues.
  torch::Tensor within = torch::zeros({d, d}, torch::kDouble);
  std::vector<torch::Tensor> means;
  for (int64_t c = 1; c <= kTissues; ++c) {
    torch::Tensor Xc = X.index({T.eq(c)});
    torch::Tensor mu = Xc.mean(0);
    torch::Tensor Z = Xc - mu;
    within += Z.t().mm(Z);
    means.push_back(mu);
  }
  within = within / double(n) + 1e-6 * torch::eye(d, torch::kDouble);
  torch::Tensor inv = torch::linalg::inv(within);
  torch::Tensor best = torch::full({n}, 1e300, torch::kDouble), pred = torch::zeros({n}, torch::kLong);
  for (int64_t c = 0; c < kTissues; ++c) {
    torch::Tensor Z = X - means[std::size_t(c)];
    torch::Tensor dist = (Z.mm(inv) * Z).sum(1);
    torch::Tensor closer = dist.lt(best);
    best = torch::where(closer, dist, best);
    pred = torch::where(closer, torch::full({n}, c, torch::kLong), pred);
  }
  torch::Tensor tissue = T.gt(0);
  out["lda_accuracy"] = (pred + 1).eq(T).index({tissue}).to(torch::kDouble).mean().item<double>();
  std::vector<int32_t> predLabels(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) predLabels[std::size_t(i)] = int32_t(pred[i].item<int64_t>());
  out["lda_nmi"] = paintedNmi(g, predLabels, ph);

  // Principal components: variance share and the tissues' mean +- sd on each.
  torch::Tensor Z = X - X.mean(0);
  auto [evals, evecs] = torch::linalg::eigh(Z.t().mm(Z) / double(n), "L");
  const double total = evals.sum().item<double>();
  json pcs = json::array();
  for (int q = 0; q < 4; ++q) {
    torch::Tensor onPc = Z.mv(evecs.select(1, d - 1 - q));
    json tissues = json::array();
    for (int64_t c = 1; c <= kTissues; ++c) {
      torch::Tensor v = onPc.index({T.eq(c)});
      tissues.push_back({{"mean", round3(v.mean().item<double>())}, {"sd", round3(v.std().item<double>())}});
    }
    pcs.push_back({{"variance_share", round3(evals[d - 1 - q].item<double>() / total)}, {"tissues", tissues}});
  }
  out["pcs"] = pcs;
  return out;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_feature_probe MODEL.pt [MODEL.pt ...]\n";
    return 2;
  }
  try {
    TorchRuntime::configureThreads(0);
    const Phantom ph = makeDemoPhantom();
    for (int a = 1; a < argc; ++a) {
      const JuleModel model = ModelFile::load(argv[a]);
      const Volume filled = model.parameters.value("fill_outside_window", false)
                                ? fillOutsideWindow(ph.volume, ph.suggestedLo, ph.suggestedHi,
                                                    model.parameters.value("fill_rule", std::string("mean")))
                                : ph.volume;
      json out = {{"model", argv[a]}};
      out["trained"] = probe(model.network, model, ph, filled);
      out["untrained"] = probe(makeRandomNetwork(model.spec, model.seed, false), model, ph, filled);
      std::cout << out.dump() << std::endl;
    }
  } catch (const std::exception& e) {
    std::cout << json{{"error", e.what()}}.dump() << std::endl;
    return 1;
  }
  return 0;
}
