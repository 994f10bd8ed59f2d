// Timings of the agglomerative half of JULE: k-NN graph, 1-NN chain initialisation and GDL merging down
// to 100 clusters for 10,000 x 160-d unit-norm features (eta 0.9 and 0.2), and the period-0 k-NN on
// raw 27^3 patches (10,000 x 19,683). Prints JSON; `--quick` skips the raw-patch k-NN.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jule/AgglomerativeClustering.h"
#include "core/jule/KnnGraph.h"

using namespace jseg;

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Noisy mixture of `groups` directions, rows scaled to unit norm (like the network's L2-normalised output).
std::vector<float> unitMixture(int n, int d, int groups, double noise, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> centres(size_t(groups) * d);
  for (auto& c : centres) c = g(rng);
  std::vector<float> x(size_t(n) * d);
  std::vector<double> v(static_cast<size_t>(d));
  for (int i = 0; i < n; ++i) {
    const int k = int(rng() % uint64_t(groups));
    double norm = 0;
    for (int t = 0; t < d; ++t) {
      v[size_t(t)] = centres[size_t(k) * d + t] + noise * g(rng);
      norm += v[size_t(t)] * v[size_t(t)];
    }
    norm = std::sqrt(norm);
    for (int t = 0; t < d; ++t) x[size_t(i) * d + t] = float(v[size_t(t)] / norm);
  }
  return x;
}

nlohmann::json clusterRun(const std::vector<float>& x, int n, int d, double eta, int target, int threads,
                          bool fast = true) {
  GdlOptions o;
  o.threads = threads;
  o.fastRowUpdate = fast;
  AgglomerativeClustering agg(o);
  int periods = 0, lastDone = -1;
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<int> labels = agg.cluster(x.data(), n, d, target, eta, [&](const MergeProgress& p) {
    if (p.mergesDone <= lastDone) ++periods;
    lastDone = p.mergesDone;
  });
  const double total = since(t0);
  int nc = 0;
  for (int l : labels) nc = std::max(nc, l + 1);
  const AggTimings& t = agg.lastTimings();
  return {{"eta", eta},
          {"target", target},
          {"clusters", nc},
          {"periods", periods + 1},
          {"merges", agg.lastMerges().size()},
          {"isolated_merges", agg.lastIsolatedMerges().size()},
          {"fallback_merges", agg.lastFallbackMerges()},
          {"sigma2", agg.lastSigma2()},
          {"seconds_knn", t.knn},
          {"seconds_init_and_tables", t.graph},
          {"seconds_merge", t.merge},
          {"seconds_total", total}};
}

} // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int threads = 0;
  for (int a = 1; a < argc; ++a) {
    if (!std::strcmp(argv[a], "--quick")) quick = true;
    if (!std::strcmp(argv[a], "--threads") && a + 1 < argc) threads = std::atoi(argv[++a]);
  }
  nlohmann::json out;
  out["threads"] = resolveThreads(threads);
  out["hardware_concurrency"] = std::thread::hardware_concurrency();

  const int n = 10000, d = 160;
  const std::vector<float> x = unitMixture(n, d, 100, 1.5, 1);
  {
    GdlOptions o;
    o.threads = threads;
    AgglomerativeClustering agg(o);
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<int> init = agg.initialise(x.data(), n, d);
    int nc = 0;
    for (int l : init) nc = std::max(nc, l + 1);
    out["features_160"] = {{"n", n},
                           {"d", d},
                           {"initial_clusters", nc},
                           {"seconds_knn", agg.lastTimings().knn},
                           {"seconds_chains", agg.lastTimings().graph},
                           {"seconds_initialise", since(t0)}};
    // One period on these initial clusters (what JuleTrainer does after the first 20 epochs).
    const auto t1 = std::chrono::steady_clock::now();
    const std::vector<int> next = agg.mergePeriod(x.data(), n, d, init, 0.9, 100);
    out["features_160"]["first_period_eta_0.9"] = {{"merges", agg.lastMerges().size()},
                                                   {"seconds_tables", agg.lastTimings().graph},
                                                   {"seconds_merge", agg.lastTimings().merge},
                                                   {"seconds_total", since(t1)}};
  }
  out["cluster_to_100_eta_0.9"] = clusterRun(x, n, d, 0.9, 100, threads);
  out["cluster_to_100_eta_0.2"] = clusterRun(x, n, d, 0.2, 100, threads);
  out["cluster_to_100_eta_0.9_exact_rows"] = clusterRun(x, n, d, 0.9, 100, threads, false);
  out["cluster_to_10_eta_0.9_exact_rows"] = clusterRun(x, n, d, 0.9, 10, threads, false);
  out["cluster_to_10_eta_0.9"] = clusterRun(x, n, d, 0.9, 10, threads);
  {
    // Singletons down to 100: the sparse tables must cope with 10,000 clusters.
    GdlOptions o;
    o.threads = threads;
    AgglomerativeClustering agg(o);
    std::vector<int> single(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) single[size_t(i)] = i;
    const auto t0 = std::chrono::steady_clock::now();
    agg.mergePeriod(x.data(), n, d, single, 0.99, 100);
    out["singletons_one_period_eta_0.99"] = {{"merges", agg.lastMerges().size()},
                                             {"isolated_merges", agg.lastIsolatedMerges().size()},
                                             {"seconds_tables", agg.lastTimings().graph},
                                             {"seconds_merge", agg.lastTimings().merge},
                                             {"seconds_total", since(t0)}};
  }

  if (!quick) {
    const int dr = 27 * 27 * 27;
    const std::vector<float> raw = unitMixture(n, dr, 50, 1.5, 2);
    const auto t0 = std::chrono::steady_clock::now();
    const KnnGraph g = KnnGraph::build(raw.data(), n, dr, 20, 1.0, threads);
    out["raw_patches_knn"] = {{"n", n}, {"d", dr}, {"k", g.k()}, {"sigma2", g.sigma2()}, {"seconds", since(t0)}};
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
