// Segmentation benchmarks (JSON on stdout): dense vs per-patch CNN features on the same grid, k-means K = 3
// on 1,000,000 x 160 features, and a K sweep 2..10 on 100,000 points. Never fails on time.
// Features run per precision (fp32, bf16, interleaved) with GFLOP/s counted analytically (2 x the plan's
// multiply-adds) and their fraction of a convolution peak measured at start (measureConvPeak, ~1 s each).
// Usage: bench_segment [--quick]   (--quick: smaller sizes, for a smoke run)
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <map>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/jule/NetworkSpec.h"
#include "core/jule/TorchRuntime.h"
#include "core/segment/DenseFeatureExtractor.h"
#include "core/segment/KMeans.h"
#include "core/segment/KSweep.h"

using namespace jseg;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double peakRssMB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // kB on Linux
}

Volume syntheticVolume(int nx, int ny, int nz) {
  Volume v;
  v.geom.dims = {nx, ny, nz};
  v.voxels.resize(v.geom.voxelCount());
  std::mt19937_64 rng(1);
  std::normal_distribution<float> g(0.0f, 15.0f);
  for (int z = 0; z < nz; ++z)
    for (int y = 0; y < ny; ++y)
      for (int x = 0; x < nx; ++x)
        v.at(x, y, z) = 100.0f + 30.0f * std::sin(0.15f * x) * std::cos(0.1f * y + 0.07f * z) + g(rng);
  return v;
}

// Unit-norm rows around `k` random directions (like L2-normalised CNN features).
std::vector<float> featureBlobs(std::size_t n, int d, int k, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> centres(std::size_t(k) * d);
  for (auto& c : centres) c = g(rng);
  std::vector<float> x(n * d);
  for (std::size_t i = 0; i < n; ++i) {
    const float* c = centres.data() + (i % k) * d;
    float* r = x.data() + i * d;
    double s = 0;
    for (int t = 0; t < d; ++t) {
      r[t] = c[t] + 1.2f * g(rng);
      s += double(r[t]) * r[t];
    }
    float inv = float(1.0 / std::sqrt(s));
    for (int t = 0; t < d; ++t) r[t] *= inv;
  }
  return x;
}

// Upper bound of any dense scheme's speed-up over per-patch inference, counted in multiply-accumulates.
// Per patch, layer l computes out_l^3 positions. Dense, neighbouring grid points share them; per grid point
// a layer must still compute min(stride, out_l)^3 positions (after pooling, each of the pool phases holds
// every 2nd point, spaced `stride` pooled units apart, so the same count holds per phase).
// At stride 5 on paper3d, conv2 (7^3 outputs per patch) keeps 5^3 per point, so no dense method can be 10x.
double macRatioBound(const NetworkSpec& spec, int stride) {
  double perPatch = 0, dense = 0;
  int size = spec.inputSize, cin = 1;
  for (const auto& c : spec.convs) {
    size = size - c.kernel + 1;
    const double perPosition = double(c.channels) * cin * std::pow(double(c.kernel), 3);
    perPatch += std::pow(double(size), 3) * perPosition;
    dense += std::pow(double(std::min(size, stride)), 3) * perPosition;
    cin = c.channels;
    if (c.poolAfter) size = (size - spec.poolSize) / spec.poolSize + 1;
  }
  const double linear = double(spec.flatSize()) * spec.featureDim;
  return (perPatch + linear) / (dense + linear);
}

nlohmann::json featureRun(const std::string& net, int w, int stride, const Volume& vol, const GridRegion& region,
                          Precision precision, double peakGflops) {
  auto network = makeRandomNetwork(NetworkSpec::byName(net, w), 1, true);
  DenseFeatureOptions o;
  o.inputMean = 100;
  o.inputStd = 30;
  o.precision = precision;
  o.mode = FeatureMode::Dense;
  DenseFeatureExtractor dense(network, o);
  o.mode = FeatureMode::PerPatch;
  DenseFeatureExtractor perPatch(network, o);
  FeatureGrid a = dense.layout(vol, stride, -1e9f, 1e9f, region);
  FeatureGrid b = a;
  FeaturePlan plan = dense.plan(a);
  // The first run on new tensor shapes pays oneDNN's kernel generation; both are reported.
  auto t0 = Clock::now();
  dense.compute(a, vol);
  double tFirst = since(t0);
  t0 = Clock::now();
  dense.compute(a, vol);
  double td = since(t0);
  t0 = Clock::now();
  perPatch.compute(b, vol);
  double tp = since(t0);
  double diff = 0;
  for (std::size_t i = 0; i < a.features.size(); ++i) diff = std::max(diff, double(std::abs(a.features[i] - b.features[i])));
  const double denseGflops = 2.0 * plan.denseMacs / td / 1e9, perPatchGflops = 2.0 * plan.perPatchMacs / tp / 1e9;
  return {{"network", net},
          {"precision", ComputePrecision::name(precision)},
          {"dense_gflops", denseGflops},
          {"dense_peak_fraction", denseGflops / peakGflops},
          {"per_patch_gflops", perPatchGflops},
          {"per_patch_peak_fraction", perPatchGflops / peakGflops},
          {"patch", w},
          {"stride", stride},
          {"points", a.count()},
          {"tiles", plan.tiles},
          {"dense_first_s", tFirst},
          {"dense_s", td},
          {"per_patch_s", tp},
          {"speedup", tp / td},
          {"mac_bound_speedup", macRatioBound(NetworkSpec::byName(net, w), stride)},
          {"max_abs_diff", diff},
          {"dense_points_per_s", double(a.count()) / td},
          {"per_patch_points_per_s", double(b.count()) / tp},
          {"estimated_dense_s", plan.memory.seconds},
          {"estimated_bytes", plan.memory.totalBytes()},
          {"auto_mode", dense.plan(a).mode == FeatureMode::Dense ? "dense" : "per-patch"}};
}

} // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  TorchRuntime::configureThreads(0);
  nlohmann::json out;
  out["threads"] = TorchRuntime::threads();
  out["cores"] = std::thread::hardware_concurrency();

  // 1. Features: the same grid both ways, in each precision.
  std::map<Precision, double> peak;
  for (Precision pr : {Precision::Fp32, Precision::Bf16}) {
    peak[pr] = measureConvPeak(pr, 1.0).gflops;
    out["conv_peak_gflops"][ComputePrecision::name(pr)] = peak[pr];
  }
  out["precision_auto"] = ComputePrecision::name(ComputePrecision::resolve("auto"));
  {
    Volume vol = quick ? syntheticVolume(48, 48, 40) : syntheticVolume(96, 96, 64);
    out["features_volume"] = {vol.geom.dims[0], vol.geom.dims[1], vol.geom.dims[2]};
    nlohmann::json runs = nlohmann::json::array();
    for (Precision pr : {Precision::Fp32, Precision::Bf16}) {
      GridRegion centre;  // stride 1 and 2: per-patch on the whole volume would take far too long
      centre.begin = {vol.geom.dims[0] / 2 - 8, vol.geom.dims[1] / 2 - 8, vol.geom.dims[2] / 2 - 6};
      centre.end = {vol.geom.dims[0] / 2 + 8, vol.geom.dims[1] / 2 + 8, vol.geom.dims[2] / 2 + 6};
      runs.push_back(featureRun("paper3d", 27, 5, vol, {}, pr, peak[pr]));
      runs.push_back(featureRun("paper3d", 27, 2, vol, centre, pr, peak[pr]));
      if (quick) centre.end = {centre.begin[0] + 6, centre.begin[1] + 6, centre.begin[2] + 6};
      runs.push_back(featureRun("paper3d", 27, 1, vol, centre, pr, peak[pr]));
      runs.push_back(featureRun("fast3d", 15, 5, vol, {}, pr, peak[pr]));
    }
    out["features"] = runs;
    std::cerr << out.dump(2) << std::endl;
  }

  // 2. k-means K = 3 on 1,000,000 x 160.
  {
    const std::size_t n = quick ? 100000 : 1000000;
    const int d = 160;
    std::vector<float> x = featureBlobs(n, d, 3, 2);
    KMeansOptions o;
    o.k = 3;
    auto t0 = Clock::now();
    KMeansResult r = KMeans(o).fit(x.data(), n, d);
    double t = since(t0);
    out["kmeans"] = {{"n", n},          {"d", d},
                     {"k", 3},          {"restarts", o.restarts},
                     {"seconds", t},    {"iterations_best", r.iterations},
                     {"inertia", r.inertia}, {"peak_rss_mb", peakRssMB()}};
    std::cerr << out["kmeans"].dump() << std::endl;
  }

  // 3. K sweep 2..10 on 100,000 points (silhouette on 2,000).
  {
    const std::size_t n = quick ? 20000 : 100000;
    const int d = 160;
    std::vector<float> x = featureBlobs(n, d, 4, 3);
    for (int restarts : {1, 4}) {
      KSweepOptions o;
      o.kMin = 2;
      o.kMax = 10;
      o.kmeans.restarts = restarts;
      auto t0 = Clock::now();
      KSweepResult r = kSweep(x.data(), n, d, o);
      double t = since(t0);
      nlohmann::json per = nlohmann::json::array();
      for (const auto& e : r.entries)
        per.push_back({{"k", e.k}, {"seconds", e.seconds}, {"inertia", e.inertia}, {"silhouette", e.silhouette}});
      out["ksweep_restarts_" + std::to_string(restarts)] = {
          {"n", n}, {"d", d}, {"seconds", t}, {"best_k_by_silhouette", r.bestBySilhouette()}, {"true_k", 4}, {"per_k", per}};
    }
  }
  out["peak_rss_mb"] = peakRssMB();
  std::cout << out.dump(2) << std::endl;
  return 0;
}
