// How JULE's result on the demo phantom depends on the seed: for each seed, the fast preset (plus any
// --set overrides) is trained and segmented at stride 5, then the same model segments at stride 1; NMI of
// JULE and the baselines per seed, their mean and spread, and the time. JSON on stdout; never fails on time.
// Usage: bench_phantom_seeds [--seeds 1,2,3] [--preset fast] [--set name=value ...] [--ensembles 2,3]
//   e.g. --set clusters=3 --set epochs_per_period=10   (values are read as JSON, else as text)
// --keep DIR: trains into DIR/seed<S> and keeps the models there; a model already there is reused.
// --ensembles m,...: also segments at stride 1 with the features of every m of the trained networks side by
// side (each network's unit-norm features scaled by 1/sqrt(m), so every network weighs the same), to measure
// whether combining independently trained networks steadies the result.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/demo/Phantom.h"
#include "core/eval/Nmi.h"
#include "core/jule/ModelFile.h"
#include "core/jule/TorchRuntime.h"
#include "core/segment/DenseFeatureExtractor.h"
#include "core/segment/KMeans.h"
#include "core/segment/LabelProjector.h"
#include "core/params/ParameterSchema.h"
#include "bench/SessionRun.h"
#include "core/pipeline/SegmentationPipeline.h"

using namespace jseg;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

using bench::scoreOf;

nlohmann::json summary(const std::vector<double>& v) {
  double mean = 0, sq = 0;
  for (double x : v) mean += x;
  mean /= double(v.size());
  for (double x : v) sq += (x - mean) * (x - mean);
  double lo = v.front(), hi = v.front();
  for (double x : v) lo = std::min(lo, x), hi = std::max(hi, x);
  return {{"mean", mean}, {"sd", v.size() > 1 ? std::sqrt(sq / double(v.size() - 1)) : 0.0}, {"min", lo}, {"max", hi}};
}

// Every m-element subset of 0..n-1, in lexicographic order.
std::vector<std::vector<int>> subsets(int n, int m) {
  std::vector<std::vector<int>> out;
  std::vector<int> idx(static_cast<std::size_t>(m));
  for (int i = 0; i < m; ++i) idx[std::size_t(i)] = i;
  while (m <= n) {
    out.push_back(idx);
    int i = m - 1;
    while (i >= 0 && idx[std::size_t(i)] == n - m + i) --i;
    if (i < 0) break;
    ++idx[std::size_t(i)];
    for (int j = i + 1; j < m; ++j) idx[std::size_t(j)] = idx[std::size_t(j - 1)] + 1;
  }
  return out;
}

// Stride-1 NMI of k-means on the side-by-side features of several networks.
nlohmann::json ensembleRuns(const std::vector<std::string>& modelPaths, const std::vector<int>& seeds,
                            const std::vector<int>& sizes, const Parameters& base) {
  const Phantom ph = makeDemoPhantom();
  const float lo = ph.suggestedLo, hi = ph.suggestedHi;
  const ParameterValues params = base.values();
  const Volume filled = params.fillOutsideWindow ? fillOutsideWindow(ph.volume, lo, hi, params.fillRule) : ph.volume;
  std::vector<FeatureGrid> grids;
  for (const auto& path : modelPaths) {
    JuleModel model = ModelFile::load(path);
    DenseFeatureOptions fo;
    fo.inputMean = model.standardized ? model.patchMean : 0.0;
    fo.inputStd = model.standardized ? model.patchStd : 1.0;
    DenseFeatureExtractor ex(model.network, fo);
    FeatureGrid g = ex.layout(ph.volume, 1, lo, hi);
    ex.compute(g, filled);
    grids.push_back(std::move(g));
  }
  nlohmann::json out = nlohmann::json::array();
  for (int m : sizes) {
    if (m < 1 || m > int(grids.size())) continue;
    std::vector<double> scores;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& subset : subsets(int(grids.size()), m)) {
      const auto t0 = Clock::now();
      FeatureGrid g = grids[std::size_t(subset[0])];
      const int d = grids[0].dim;
      const std::size_t n = g.count();
      g.dim = d * m;
      g.features.assign(n * std::size_t(g.dim), 0.f);
      const float w = float(1.0 / std::sqrt(double(m)));
      for (int j = 0; j < m; ++j) {
        const auto& src = grids[std::size_t(subset[std::size_t(j)])].features;
        for (std::size_t i = 0; i < n; ++i)
          for (int c = 0; c < d; ++c) g.features[i * std::size_t(g.dim) + std::size_t(j * d + c)] = w * src[i * std::size_t(d) + std::size_t(c)];
      }
      finishFeatures(g, ph.volume, base);  // feature_smoothing and feature_intensity, as the pipeline does
      KMeansOptions ko;
      ko.k = params.k;
      ko.restarts = params.kmeansRestarts;
      ko.maxIterations = params.kmeansMaxIter;
      ko.seed = uint64_t(params.seed);
      KMeansResult km = KMeans(ko).fit(g.features.data(), n, g.dim);
      ProjectionOptions po;
      po.fillUncovered = true;
      const double v = scoreSegmentation(LabelProjector(po).project(g, km.labels.data(), ko.k, ph.volume).labels, ph.truth).nmi;
      scores.push_back(v);
      nlohmann::json members = nlohmann::json::array();
      for (int i : subset) members.push_back(seeds[std::size_t(i)]);
      rows.push_back({{"seeds", members}, {"jule_stride1", v}, {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()}});
      std::cerr << rows.back().dump() << std::endl;
    }
    out.push_back({{"networks", m}, {"runs", rows}, {"jule_stride1", summary(scores)}});
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<int> seeds = {1, 2, 3};
  std::string preset = "fast";
  std::vector<std::pair<std::string, std::string>> overrides;
  std::vector<int> ensembleSizes;
  std::string keep;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seeds") && i + 1 < argc) {
      seeds.clear();
      std::stringstream ss(argv[++i]);
      for (std::string s; std::getline(ss, s, ',');) seeds.push_back(std::stoi(s));
    } else if (!std::strcmp(argv[i], "--keep") && i + 1 < argc) {
      keep = argv[++i];
    } else if (!std::strcmp(argv[i], "--ensembles") && i + 1 < argc) {
      std::stringstream ss(argv[++i]);
      for (std::string s; std::getline(ss, s, ',');) ensembleSizes.push_back(std::stoi(s));
    } else if (!std::strcmp(argv[i], "--preset") && i + 1 < argc) {
      preset = argv[++i];
    } else if (!std::strcmp(argv[i], "--set") && i + 1 < argc) {
      std::string kv = argv[++i];
      auto eq = kv.find('=');
      if (eq == std::string::npos) {
        std::cerr << "bench_phantom_seeds: --set expects name=value\n";
        return 2;
      }
      overrides.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
  }
  try {
    TorchRuntime::configureThreads(0);
    Parameters base = Parameters::preset(preset);
    nlohmann::json setJson = nlohmann::json::object();
    for (const auto& [name, text] : overrides) {
      nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
      if (value.is_discarded()) value = text;
      base.set(name, value);
      setJson[name] = value;
    }
    const fs::path work =
        keep.empty() ? fs::temp_directory_path() / ("bench_phantom_seeds_" + std::to_string(::getpid())) : fs::path(keep);
    nlohmann::json runs = nlohmann::json::array();
    std::vector<double> jule5, jule1;
    std::vector<std::string> modelPaths;
    double intensityKMeans = 0;
    for (int seed : seeds) {
      Parameters p = base;
      p.set("seed", seed);
      p.set("stride", 5);
      bench::SessionRunInput in;
      in.outDir = (work / ("seed" + std::to_string(seed))).string();
      const std::string kept = (fs::path(in.outDir) / "model.pt").string();
      if (!keep.empty() && fs::exists(kept)) {
        fs::copy_file(kept, kept + ".kept", fs::copy_options::overwrite_existing);
        fs::copy_file(fs::path(in.outDir) / "model.json", fs::path(kept + ".kept").replace_extension(".json"),
                      fs::copy_options::overwrite_existing);
        in.model = kept + ".kept";
      }
      const auto t0 = Clock::now();
      const nlohmann::json trained = bench::runSession(p, in);
      const double trainS = std::chrono::duration<double>(Clock::now() - t0).count();
      Parameters p1 = p;
      p1.set("stride", 1);
      bench::SessionRunInput in1 = in;
      in1.model = (fs::path(in.outDir) / "model.pt").string();
      modelPaths.push_back(in1.model);
      in1.outDir = in.outDir + "-stride1";
      in1.untrained = false;
      const nlohmann::json dense = bench::runSession(p1, in1);
      jule5.push_back(scoreOf(trained, "jule"));
      jule1.push_back(scoreOf(dense, "jule"));
      intensityKMeans = scoreOf(trained, "intensity_kmeans");  // seeded too: it differs by < 0.001
      nlohmann::json run = {{"seed", seed},
                            {"jule_stride5", jule5.back()},
                            {"jule_stride1", jule1.back()},
                            {"untrained_stride5", scoreOf(trained, "untrained_network")},
                            {"block_mean_stride5", scoreOf(trained, "block_mean_kmeans")},
                            {"intensity_kmeans", intensityKMeans},
                            {"seconds", trainS}};
      if (trained["nmi"].contains("jule_training_clusters"))
        run["jule_training_clusters"] = trained["nmi"]["jule_training_clusters"];
      runs.push_back(run);
      std::cerr << run.dump() << std::endl;
    }
    nlohmann::json ensembles = ensembleSizes.empty() ? nlohmann::json() : ensembleRuns(modelPaths, seeds, ensembleSizes, base);
    if (keep.empty()) fs::remove_all(work);
    nlohmann::json out = {{"preset", preset},
                          {"overrides", setJson},
                          {"intensity_kmeans_last_seed", intensityKMeans},
                          {"goal_jule_at_least", intensityKMeans + 0.2},
                          {"runs", runs},
                          {"jule_stride5", summary(jule5)},
                          {"jule_stride1", summary(jule1)}};
    if (!ensembles.is_null()) out["ensembles"] = ensembles;
    std::cout << out.dump(2) << std::endl;
  } catch (const std::exception& e) {
    std::cout << nlohmann::json{{"error", e.what()}}.dump() << std::endl;
    return 1;
  }
  return 0;
}
