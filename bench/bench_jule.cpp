// JULE timings (JSON on stdout; never fails on time):
//  - training throughput (patches/s, forward + backward + SGD step) vs forward-only throughput and FLOP rate
//    of the same networks (paper3d 27^3, fast3d 15^3, image2d 8x8);
//  - wall time of the fast preset on mni152/t1.nii.gz with threshold 1:255, and the paper preset's
//    projected time from one measured epoch when a full run would exceed an hour.
//  - per network and precision (fp32, bf16): GFLOP/s counted analytically (forward 2 * MACs per sample,
//    training 3x forward) and their fraction of a peak measured at start (measureConvPeak, ~1 s per precision).
// Usage: bench_jule [--quick] [--skip-fast] [--shared DIR] [--precision fp32,bf16] [--network NAME] [--rounds N]
//        (--precision: the presets' precisions; --network: one network's throughput; --rounds: fp32/bf16 pairs)
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/Errors.h"
#include "core/io/VolumeReader.h"
#include "core/jule/JuleTrainer.h"
#include "core/jule/PatchSampler.h"
#include "core/jule/TorchRuntime.h"
#include "core/params/ParameterSchema.h"

using namespace jseg;
using Clock = std::chrono::steady_clock;

namespace {
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

nlohmann::json throughput(const NetworkSpec& spec, int batch, double seconds, Precision precision, double peakGflops) {
  auto r = measureNetworkThroughput(spec, batch, seconds, "cpu", precision);
  return {{"network", spec.name}, {"input", spec.inputSize}, {"batch", batch}, {"precision", r.precision},
          {"gmac_per_sample", spec.macsPerSample() / 1e9},
          {"forward_samples_per_s", r.forwardSamplesPerS}, {"forward_gflops", r.forwardGflops},
          {"forward_peak_fraction", r.forwardGflops / peakGflops},
          {"train_samples_per_s", r.trainSamplesPerS}, {"train_forward_gflops", r.trainGflopsForwardEquiv},
          {"train_gflops", r.trainGflops}, {"train_peak_fraction", r.trainGflops / peakGflops},
          {"train_over_forward", r.trainSamplesPerS / r.forwardSamplesPerS}};
}

nlohmann::json runPreset(const std::string& preset, const Volume& v, bool projectOnly, const std::string& precision) {
  Parameters p = Parameters::preset(preset);
  p.set("threshold_lo", 1.0);
  p.set("threshold_hi", 255.0);
  p.set("device", "cpu");
  p.set("precision", precision);
  const ParameterValues pv = p.values();
  JuleOptions o = JuleOptions::fromParameters(pv);
  PatchSamplerOptions so;
  so.patchSize = pv.patchSize;
  so.count = pv.patches;
  so.lo = 1;
  so.hi = 255;
  so.seed = static_cast<uint64_t>(pv.seed);
  auto t0 = Clock::now();
  PatchSet ps = PatchSampler::sample(v, so);
  double sampleS = since(t0);
  nlohmann::json out = {{"preset", preset}, {"precision", precision}, {"patches", so.count}, {"patch_size", so.patchSize},
                        {"network", o.network.name}, {"clusters", o.clusters},
                        {"epochs_per_period", o.epochsPerPeriod}, {"sample_seconds", sampleS}};
  if (projectOnly) o.maxEpochs = 1;  // one epoch + the clustering, then extrapolate
  nlohmann::json periods = nlohmann::json::array();
  int initialClusters = 0;
  double firstEpochS = 0;
  JuleTrainer t(o, [&](const JuleEvent& e) {
    if (std::holds_alternative<PeriodEvent>(e)) periods.push_back(toJson(e));
    if (const auto* ee = std::get_if<EpochEvent>(&e))
      if (ee->epoch == 1) firstEpochS = ee->seconds;
    if (const auto* cs = std::get_if<ClusterSizesEvent>(&e))
      if (cs->period == 0 && initialClusters == 0) initialClusters = int(cs->sizes.size());
  });
  JuleResult r = t.run(ps);
  out["initial_clusters"] = initialClusters;
  out["periods"] = periods;
  out["epochs"] = r.epochs;
  if (projectOnly) {
    JuleOptions full = JuleOptions::fromParameters(pv);
    int epochs = JuleTrainer::estimateRemainingEpochs(initialClusters, full);
    out["first_epoch_seconds"] = firstEpochS;
    out["projected_epochs"] = epochs;
    out["projected_hours"] = (epochs * firstEpochS) / 3600.0;
  } else {
    out["train_seconds"] = r.seconds;
    out["total_seconds"] = r.seconds + sampleS;
  }
  return out;
}
} // namespace

int main(int argc, char** argv) {
  bool quick = false, skipFast = false;
  std::string shared = "../shared/data";
  std::vector<std::string> presetPrecisions{"fp32", "bf16"};
  std::string onlyNetwork;  // --network NAME: throughput of that network only
  int rounds = 1;           // --rounds N: repeat the fp32/bf16 pairs (A/B interleaved under shared load)
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--skip-fast")) skipFast = true;
    else if (!std::strcmp(argv[i], "--shared") && i + 1 < argc) shared = argv[++i];
    else if (!std::strcmp(argv[i], "--network") && i + 1 < argc) onlyNetwork = argv[++i];
    else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--precision") && i + 1 < argc) {
      presetPrecisions.clear();
      std::stringstream list(argv[++i]);
      for (std::string item; std::getline(list, item, ',');) presetPrecisions.push_back(item);
    }
  }
  try {
    TorchRuntime::configureThreads(0);
    nlohmann::json out;
    out["threads"] = TorchRuntime::threads();
    out["torch"] = TorchRuntime::torchVersion();
    out["cpu_fast_bf16"] = ComputePrecision::cpuHasFastBf16();
    out["precision_auto"] = ComputePrecision::name(ComputePrecision::resolve("auto"));
    double secs = quick ? 1.0 : 4.0;
    // Precisions interleaved per network, so that load from other processes hits both alike.
    const std::vector<Precision> precisions{Precision::Fp32, Precision::Bf16};
    std::map<Precision, double> peak;
    nlohmann::json peaks = nlohmann::json::object();
    for (Precision pr : precisions) {
      peak[pr] = measureConvPeak(pr, 1.0).gflops;
      peaks[ComputePrecision::name(pr)] = peak[pr];
    }
    out["conv_peak_gflops"] = peaks;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& spec : {NetworkSpec::byName("paper3d", 27), NetworkSpec::byName("fast3d", 15),
                             NetworkSpec::byName("small3d", 15), NetworkSpec::byName("local3d", 9),
                             NetworkSpec::byName("image2d", 8)})
      for (int round = 0; round < rounds; ++round)
        for (Precision pr : precisions)
          if (onlyNetwork.empty() || onlyNetwork == spec.name) rows.push_back(throughput(spec, 100, secs, pr, peak[pr]));
    out["throughput"] = rows;
    if (!skipFast) {
      Volume v = readVolume(shared + "/mni152/t1.nii.gz");
      for (const auto& pr : presetPrecisions) {
        out["fast_preset_mni152_" + pr] = runPreset("fast", v, false, pr);
        out["paper_preset_mni152_" + pr] = runPreset("paper", v, true, pr);
      }
    }
    std::cout << out.dump(2) << std::endl;
  } catch (const std::exception& e) {
    std::cout << nlohmann::json{{"error", e.what()}}.dump() << std::endl;
    return 1;
  }
  return 0;
}
