// bench-links: juleseg_core juleseg_eval torch
// Exploration (issue 13): which features and which clustering back-end separate a glioma's sub-regions?
// For one case (FLAIR [+ T1c] inside tumour_mask) and one seed, trains JULE with the texture preset (or loads
// DIR/model-*.pt), extracts its features at stride 1 unsmoothed, then clusters several feature sets with k-means
// and a full-covariance Gaussian mixture and prints NMI against tumour_labels as JSON lines.
// Usage: bench_tumour_explore CASE_DIR {both|flair} SEED MODEL_DIR
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/eval/Nmi.h"
#include "core/pipeline/SegmentationSession.h"
#include "core/segment/FeatureSmoothing.h"
#include "core/segment/GaussianMixture.h"
#include "core/segment/GridClustering.h"

using namespace jseg;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

double round3(double v) { return std::round(v * 1000) / 1000; }

// Standardised intensities of each channel at the grid's centres, as a grid of `channels` columns.
FeatureGrid intensityGrid(const FeatureGrid& layout, const std::vector<const Volume*>& channels) {
  FeatureGrid g = layout;
  const int c = int(channels.size());
  g.dim = c;
  g.hasIntensityColumn = false;
  g.features.assign(g.count() * std::size_t(c), 0.f);
  for (int ch = 0; ch < c; ++ch) {
    double sum = 0, sq = 0;
    for (std::size_t i = 0; i < g.count(); ++i) {
      const auto& p = g.centres[i];
      const double v = channels[std::size_t(ch)]->at(p[0], p[1], p[2]);
      sum += v;
      sq += v * v;
    }
    const double mean = sum / double(g.count()), sd = std::sqrt(std::max(1e-12, sq / double(g.count()) - mean * mean));
    for (std::size_t i = 0; i < g.count(); ++i) {
      const auto& p = g.centres[i];
      g.features[i * std::size_t(c) + std::size_t(ch)] = float((channels[std::size_t(ch)]->at(p[0], p[1], p[2]) - mean) / sd);
    }
  }
  return g;
}

FeatureGrid smoothed(FeatureGrid g, int r) {
  FeatureSmoothing(r, 0).apply(g);
  return g;
}

// Columns side by side.
FeatureGrid concat(const std::vector<const FeatureGrid*>& parts) {
  FeatureGrid g = *parts[0];
  int d = 0;
  for (auto* p : parts) d += p->dim;
  g.dim = d;
  g.features.assign(g.count() * std::size_t(d), 0.f);
  for (std::size_t i = 0; i < g.count(); ++i) {
    int o = 0;
    for (auto* p : parts) {
      for (int j = 0; j < p->dim; ++j) g.features[i * std::size_t(d) + std::size_t(o + j)] = p->row(i)[j];
      o += p->dim;
    }
  }
  return g;
}

// PCA whitening to the top `keep` components (unit variance each).
FeatureGrid whitened(const FeatureGrid& in, int keep) {
  const int64_t n = int64_t(in.count()), d = in.dim;
  torch::Tensor X = torch::from_blob(const_cast<float*>(in.features.data()), {n, d}, torch::kFloat).to(torch::kDouble);
  torch::Tensor Z = X - X.mean(0);
  auto [evals, evecs] = torch::linalg::eigh(Z.t().mm(Z) / double(n), "L");
  keep = int(std::min<int64_t>(keep, d));
  torch::Tensor top = evecs.narrow(1, d - keep, keep);
  torch::Tensor scale = evals.narrow(0, d - keep, keep).clamp_min(1e-12).rsqrt();
  torch::Tensor W = (Z.mm(top) * scale).to(torch::kFloat).contiguous();
  FeatureGrid g = in;
  g.dim = keep;
  g.features.assign(W.data_ptr<float>(), W.data_ptr<float>() + n * keep);
  return g;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: bench_tumour_explore CASE_DIR {both|flair} SEED MODEL_DIR\n";
    return 2;
  }
  const fs::path dir = argv[1];
  const bool both = std::string(argv[2]) == "both";
  const int seed = std::stoi(argv[3]);
  const fs::path modelDir = argv[4];
  fs::create_directories(modelDir);
  const fs::path modelPath = modelDir / ("model-" + dir.filename().string() + "-" + argv[2] + "-s" + std::to_string(seed) + ".pt");

  Parameters p = Parameters::preset("texture");
  p.set("seed", seed);
  SegmentationSession s(p);
  s.openVolume((dir / "flair.nii.gz").string());
  if (both) s.addChannel((dir / "t1c.nii.gz").string());
  s.loadMask((dir / "tumour_mask.nii.gz").string());
  s.loadTruth((dir / "tumour_labels.nii.gz").string());
  if (fs::exists(modelPath)) s.loadModel(modelPath.string());
  else {
    s.train();
    s.saveModel(modelPath.string());
  }
  Parameters q = s.parameters();
  q.set("feature_smoothing", 0);
  s.setParameters(q);
  s.extractFeatures();
  const FeatureGrid cnn = *s.features();
  const auto vol = s.volume();
  std::vector<const Volume*> chans{vol.get()};
  for (auto& c : s.moreChannels()) chans.push_back(c.get());
  const int k = 3;

  const FeatureGrid I = intensityGrid(cnn, chans);
  const FeatureGrid I1 = smoothed(I, 1), I2 = smoothed(I, 2), I3 = smoothed(I, 3), I5 = smoothed(I, 5);
  const FeatureGrid C3 = smoothed(cnn, 3);
  const FeatureGrid Cw = whitened(cnn, 8);
  const FeatureGrid Cw3 = smoothed(Cw, 3);
  const FeatureGrid C3w = whitened(C3, 8);
  const FeatureGrid C3w4 = whitened(C3, 4);
  const FeatureGrid Iw = whitened(I, int(chans.size()));
  const FeatureGrid I2w = whitened(I2, int(chans.size()));
  std::vector<std::pair<std::string, FeatureGrid>> sets;
  sets.push_back({"int", I});
  sets.push_back({"int_s1", I1});
  sets.push_back({"int_s2", I2});
  sets.push_back({"int_s3", I3});
  sets.push_back({"int_ms", concat({&I, &I2, &I5})});
  sets.push_back({"cnn", cnn});
  sets.push_back({"cnn_s3", C3});
  sets.push_back({"cnn_w8_s3", Cw3});
  sets.push_back({"cnn_s3_w8", C3w});
  sets.push_back({"cnn_s3_w4", C3w4});
  sets.push_back({"cnn_s3_w4+int", concat({&C3w4, &Iw})});
  sets.push_back({"cnn_s3_w8+int", concat({&C3w, &Iw})});
  sets.push_back({"cnn_s3_w4+int_s2", concat({&C3w4, &I2w})});

  EvaluationRegion region;
  const auto roi = s.roi();
  region.mask = roi.get();
  const auto truth = s.truth();
  for (auto& [name, g] : sets) {
    json line{{"case", dir.filename().string()}, {"channels", argv[2]}, {"seed", seed}, {"features", name}, {"dim", g.dim}};
    KMeansResult km = clusterGrid(g, k, q);
    line["kmeans"] = round3(scoreSegmentation(paintClusters(g, km.labels, k, *vol), *truth, region).nmi);
    if (g.dim <= 40) {
      GaussianMixtureOptions go;
      go.init = kmeansOptions(q, k);
      GaussianMixtureResult gm = GaussianMixture(go).fit(g.features.data(), g.count(), g.dim);
      line["gmm"] = round3(scoreSegmentation(paintClusters(g, gm.labels, k, *vol), *truth, region).nmi);
      line["gmm_iter"] = gm.iterations;
    }
    std::cout << line.dump() << std::endl;
  }
  return 0;
}
