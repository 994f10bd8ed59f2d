// bench-links: juleseg_core torch
// Is a poor segmentation the features' fault or k-means'? For each trained model (and, for comparison, an
// untrained network of the same architecture) this computes the features on the segmentation grid of a
// volume with a known truth (the demo phantom unless --volume/--truth are given) and reports, as JSON lines:
//   kmeans_nmi     the pipeline's own result: k-means (K = the truth's tissue count) on the features,
//                  painted and scored;
//   lda_nmi        a supervised linear probe: each grid point goes to the nearest tissue mean under the
//                  pooled within-tissue covariance (LDA, fitted with the truth), painted and scored the same
//                  way. It bounds what a linear reading of the features can reach with equal-covariance
//                  tissues;
//   lda_accuracy   the probe's share of correct patch centres;
//   pcs            for the top principal components: share of variance, and each tissue's mean and sd on it,
//                  which shows whether tissues differ by more than they spread.
// With --intensity-weight W > 0 the same probes also run on the features with the centre intensity column
// appended (as feature_intensity does), and once on that column alone: if features + intensity read no
// better than intensity alone, the features hold no tissue information the intensity lacks.
// With --sweep-weights A,B,... it also reports k-means alone on features + intensity at each weight.
// Usage: bench_feature_probe [--volume V --truth T --threshold LO:HI] [--stride S] [--intensity-weight W]
//                            [--sweep-weights A,B,...] MODEL.pt [MODEL.pt ...]     (models e.g. from bench_phantom_seeds --keep DIR)
#include <torch/torch.h>

#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "bench/LinearProbe.h"
#include "core/demo/Phantom.h"
#include "core/eval/Nmi.h"
#include "core/io/NiftiIO.h"
#include "core/io/VolumeReader.h"
#include "core/jule/ModelFile.h"
#include "core/jule/TorchRuntime.h"
#include "core/pipeline/SegmentationPipeline.h"
#include "core/segment/DenseFeatureExtractor.h"
#include "core/segment/KMeans.h"
#include "core/segment/LabelProjector.h"

using namespace jseg;
using json = nlohmann::json;

namespace {

// The volume under study, its truth and the threshold of the grid.
struct Subject {
  Volume volume;
  LabelVolume truth;
  float lo = 0, hi = 0;
  int tissues = 3;
};

double paintedNmi(const FeatureGrid& g, const std::vector<int32_t>& labels, const Subject& s) {
  ProjectionOptions po;
  po.fillUncovered = true;  // as the pipeline paints
  return scoreSegmentation(LabelProjector(po).project(g, labels.data(), s.tissues, s.volume).labels, s.truth).nmi;
}

double round3(double v) { return std::round(v * 1000) / 1000; }

double kmeansNmi(const FeatureGrid& g, const std::vector<float>& rows, int64_t d, const Subject& s) {
  KMeansOptions ko;
  ko.k = s.tissues;
  ko.restarts = 4;
  return round3(paintedNmi(g, KMeans(ko).fit(rows.data(), g.count(), int(d)).labels, s));
}

// Probes the grid's feature rows X (n x d) against the truth at the grid centres.
json probeRows(const FeatureGrid& g, const std::vector<float>& rows, int64_t d, const Subject& s) {
  const int64_t n = int64_t(g.count());
  json out;
  out["kmeans_nmi"] = kmeansNmi(g, rows, d, s);

  // Truth at each patch centre (0 only where the threshold lets a background voxel in).
  std::vector<int64_t> truthAt(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto& c = g.centres[std::size_t(i)];
    truthAt[std::size_t(i)] = s.truth.labels[s.volume.geom.index(c[0], c[1], c[2])];
  }
  torch::Tensor X = torch::from_blob(const_cast<float*>(rows.data()), {n, d}, torch::kFloat).to(torch::kDouble);
  torch::Tensor T = torch::from_blob(truthAt.data(), {n}, torch::kLong).clone();

  const std::vector<int32_t> predLabels = bench::ldaProbe(rows.data(), n, d, truthAt, s.tissues);
  torch::Tensor pred = torch::from_blob(const_cast<int32_t*>(predLabels.data()), {n}, torch::kInt).to(torch::kLong);
  torch::Tensor tissue = T.gt(0);
  out["lda_accuracy"] = round3((pred + 1).eq(T).index({tissue}).to(torch::kDouble).mean().item<double>());
  out["lda_nmi"] = round3(paintedNmi(g, predLabels, s));

  // Principal components: variance share and the tissues' mean +- sd on each.
  torch::Tensor Z = X - X.mean(0);
  auto [evals, evecs] = torch::linalg::eigh(Z.t().mm(Z) / double(n), "L");
  const double total = evals.sum().item<double>();
  json pcs = json::array();
  for (int64_t q = 0; q < std::min<int64_t>(4, d); ++q) {
    torch::Tensor onPc = Z.mv(evecs.select(1, d - 1 - q));
    json tissues = json::array();
    for (int64_t c = 1; c <= s.tissues; ++c) {
      torch::Tensor v = onPc.index({T.eq(c)});
      tissues.push_back({{"mean", round3(v.mean().item<double>())}, {"sd", round3(v.std().item<double>())}});
    }
    pcs.push_back({{"variance_share", round3(evals[d - 1 - q].item<double>() / total)}, {"tissues", tissues}});
  }
  out["pcs"] = pcs;
  return out;
}

struct ProbeOptions {
  int stride = 1;
  double intensityWeight = 0;  // > 0: also probe features + centre intensity, and the intensity alone
  std::vector<double> sweepWeights;  // k-means NMI of features + intensity column at each of these weights
};

json probe(const std::shared_ptr<PatchNetworkImpl>& network, const JuleModel& model, const Subject& s,
           const Volume& filled, const ProbeOptions& po) {
  DenseFeatureOptions fo;
  fo.inputMean = model.standardized ? model.patchMean : 0.0;
  fo.inputStd = model.standardized ? model.patchStd : 1.0;
  DenseFeatureExtractor ex(network, fo);
  FeatureGrid g = ex.layout(s.volume, po.stride, s.lo, s.hi);
  ex.compute(g, filled);
  json out = {{"features", probeRows(g, g.features, g.dim, s)}};
  if (!po.sweepWeights.empty()) {
    json sweep = json::array();
    for (double w : po.sweepWeights) {
      FeatureGrid gw = g;
      gw.appendIntensityColumn(s.volume, w);
      sweep.push_back({{"intensity_weight", w}, {"kmeans_nmi", kmeansNmi(gw, gw.features, gw.dim, s)}});
    }
    out["weight_sweep"] = sweep;
  }
  if (po.intensityWeight > 0) {
    g.appendIntensityColumn(s.volume, po.intensityWeight);
    out["features_and_intensity"] = probeRows(g, g.features, g.dim, s);
  }
  return out;
}

// The centre intensity alone (standardised), on the same grid as the models' features.
json probeIntensity(const JuleModel& model, const Subject& s, const ProbeOptions& po) {
  DenseFeatureExtractor ex(model.network, DenseFeatureOptions{});
  FeatureGrid g = ex.layout(s.volume, po.stride, s.lo, s.hi);
  g.dim = 0;
  g.features.clear();
  g.appendIntensityColumn(s.volume, 1.0);
  return probeRows(g, g.features, g.dim, s);
}

Subject loadSubject(const std::string& volume, const std::string& truth, const std::string& threshold) {
  Subject s;
  if (volume.empty()) {
    Phantom ph = makeDemoPhantom();
    s.volume = std::move(ph.volume);
    s.truth = std::move(ph.truth);
    s.lo = ph.suggestedLo;
    s.hi = ph.suggestedHi;
  } else {
    if (truth.empty() || threshold.find(':') == std::string::npos)
      throw std::runtime_error("--volume needs --truth and --threshold LO:HI");
    s.volume = readVolume(volume);
    s.truth = NiftiIO::readLabels(truth);
    s.lo = std::stof(threshold.substr(0, threshold.find(':')));
    s.hi = std::stof(threshold.substr(threshold.find(':') + 1));
  }
  s.tissues = s.truth.maxLabel();
  return s;
}

} // namespace

int main(int argc, char** argv) {
  std::string volume, truth, threshold;
  ProbeOptions po;
  std::vector<std::string> models;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    const bool hasValue = a + 1 < argc;
    if (arg == "--volume" && hasValue) volume = argv[++a];
    else if (arg == "--truth" && hasValue) truth = argv[++a];
    else if (arg == "--threshold" && hasValue) threshold = argv[++a];
    else if (arg == "--stride" && hasValue) po.stride = std::stoi(argv[++a]);
    else if (arg == "--intensity-weight" && hasValue) po.intensityWeight = std::stod(argv[++a]);
    else if (arg == "--sweep-weights" && hasValue) {
      std::stringstream ss(argv[++a]);
      for (std::string w; std::getline(ss, w, ',');) po.sweepWeights.push_back(std::stod(w));
    }
    else models.push_back(arg);
  }
  if (models.empty()) {
    std::cerr << "usage: bench_feature_probe [--volume V --truth T --threshold LO:HI] [--stride S] "
                 "[--intensity-weight W] [--sweep-weights A,B,...] MODEL.pt [MODEL.pt ...]\n";
    return 2;
  }
  try {
    TorchRuntime::configureThreads(0);
    const Subject s = loadSubject(volume, truth, threshold);
    for (std::size_t m = 0; m < models.size(); ++m) {
      const JuleModel model = ModelFile::load(models[m]);
      const Volume filled = model.parameters.value("fill_outside_window", false)
                                ? fillOutsideWindow(s.volume, s.lo, s.hi,
                                                    model.parameters.value("fill_rule", std::string("mean")))
                                : s.volume;
      if (m == 0 && po.intensityWeight > 0)
        std::cout << json{{"intensity_only", probeIntensity(model, s, po)}, {"stride", po.stride}}.dump() << std::endl;
      json out = {{"model", models[m]}, {"stride", po.stride}};
      out["trained"] = probe(model.network, model, s, filled, po);
      out["untrained"] = probe(makeRandomNetwork(model.spec, model.seed, false), model, s, filled, po);
      std::cout << out.dump() << std::endl;
    }
  } catch (const std::exception& e) {
    std::cout << json{{"error", e.what()}}.dump() << std::endl;
    return 1;
  }
  return 0;
}
