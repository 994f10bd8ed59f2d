// A preset's full pipeline, end to end as `juleseg-cli run` does it (load, train, dense features, k-means,
// projection, outputs): wall time, per-stage timings and peak memory. By default the `fast` preset on
// mni152/t1.nii.gz (threshold 1:255, K = 3) at stride 5 and at stride 1. Each run happens in its own child
// process so that its peak resident memory (wait4's ru_maxrss) is its own and not the maximum of everything
// before it. JSON on stdout; never fails on time.
// Usage: bench_pipeline [--shared DIR] [--presets fast,texture,tissue] [--strides 5,1 | --strides preset]
//                       [--volume REL] [--channel REL] [--mask REL] [--threshold LO:HI] [--truth]
//   REL paths are relative to the shared data folder. --strides preset keeps each preset's own stride.
//   --truth also scores NMI, which adds the baselines' time to the run, so it is off by default.
//   Issue 13's budget (texture and tissue presets <= 3 min on a 240x240x155 volume on 2 cores):
//   bench_pipeline --presets texture,tissue --strides preset --volume brats/pat0006/flair.nii.gz
//                  --mask brats/pat0006/labels.nii.gz --threshold :
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jule/TorchRuntime.h"
#include "core/params/ParameterSchema.h"
#include "bench/BenchArgs.h"
#include "bench/SessionRun.h"

using namespace jseg;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Runs in the child: the pipeline once, its run.json timings written to `resultPath`.
struct BenchCase {
  std::string shared, volume = "mni152/t1.nii.gz", channel, mask, truth = "mni152/labels.nii.gz";
  std::string thresholdLo = "1", thresholdHi = "255";  // empty = unbounded
  bool scoreTruth = false;
};

// Runs in the child: the pipeline once (stride 0 = the preset's), its run.json timings written to `resultPath`.
int runOnce(const BenchCase& bc, const std::string& preset, int stride, const fs::path& outDir,
            const fs::path& resultPath) {
  try {
    TorchRuntime::configureThreads(0);
    Parameters p = Parameters::preset(preset);
    if (!bc.thresholdLo.empty()) p.set("threshold_lo", std::stod(bc.thresholdLo));
    if (!bc.thresholdHi.empty()) p.set("threshold_hi", std::stod(bc.thresholdHi));
    if (stride > 0) p.set("stride", stride);
    p.set("device", "cpu");
    bench::SessionRunInput in;
    in.volume = bc.shared + "/" + bc.volume;
    if (!bc.channel.empty()) in.channel = bc.shared + "/" + bc.channel;
    if (!bc.mask.empty()) in.mask = bc.shared + "/" + bc.mask;
    in.outDir = outDir.string();
    in.untrained = false;
    const bool truth = bc.scoreTruth && !bc.truth.empty();
    if (truth) in.truth = bc.shared + "/" + bc.truth;
    const nlohmann::json run = bench::runSession(p, in);
    nlohmann::json j = {{"timings", run.at("timings")},
                        {"grid_points", run.at("grid_points")},
                        {"feature_mode", run.at("feature_mode")}};
    if (truth) j["nmi"] = run.at("nmi");
    std::ofstream(resultPath) << j.dump();
    return 0;
  } catch (const std::exception& e) {
    std::ofstream(resultPath) << nlohmann::json{{"error", e.what()}}.dump();
    return 1;
  }
}

nlohmann::json measure(const BenchCase& bc, const std::string& preset, int stride, const fs::path& work) {
  const std::string tag = preset + "_stride" + std::to_string(stride);
  const fs::path outDir = work / tag;
  const fs::path resultPath = work / (tag + ".json");
  std::cout.flush();
  const auto t0 = Clock::now();
  const pid_t pid = fork();
  if (pid == 0) _exit(runOnce(bc, preset, stride, outDir, resultPath));
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  nlohmann::json out = {{"preset", preset}, {"stride", stride > 0 ? nlohmann::json(stride) : nlohmann::json("preset")},
                        {"wall_s", wall}, {"peak_rss_mb", double(usage.ru_maxrss) / 1024.0},
                        {"cpu_s", double(usage.ru_utime.tv_sec) + usage.ru_utime.tv_usec / 1e6 +
                                      double(usage.ru_stime.tv_sec) + usage.ru_stime.tv_usec / 1e6}};
  std::ifstream in(resultPath);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    out["pipeline"] = nlohmann::json::parse(ss.str(), nullptr, false);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) out["failed"] = true;
  return out;
}

} // namespace

int main(int argc, char** argv) {
  BenchCase bc;
  bc.shared = "../shared/data";
  std::vector<int> strides = {5, 1};  // 0 = the preset's own
  std::vector<std::string> presets = {"fast"};
  bool customVolume = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool hasValue = i + 1 < argc;
    if (a == "--shared" && hasValue) bc.shared = argv[++i];
    else if (a == "--truth") bc.scoreTruth = true;
    else if (a == "--presets" && hasValue) presets = bench::splitCommaList(argv[++i]);
    else if (a == "--volume" && hasValue) bc.volume = argv[++i], customVolume = true;
    else if (a == "--channel" && hasValue) bc.channel = argv[++i];
    else if (a == "--mask" && hasValue) bc.mask = argv[++i];
    else if (a == "--threshold" && hasValue) {
      const std::string t = argv[++i];
      const auto colon = t.find(':');
      bc.thresholdLo = t.substr(0, colon);
      bc.thresholdHi = colon == std::string::npos ? "" : t.substr(colon + 1);
    } else if (a == "--strides" && hasValue) {
      strides.clear();
      const std::string v = argv[++i];
      if (v == "preset") strides.push_back(0);
      else
        for (const auto& t : bench::splitCommaList(v)) strides.push_back(std::atoi(t.c_str()));
    } else {
      std::cerr << "bench_pipeline: unknown or incomplete option " << a << "\n";
      return 2;
    }
  }
  // A volume of one's own has no known truth unless it is one of the shared cases' (BraTS: labels.nii.gz).
  if (customVolume) bc.truth.clear();
  if (!fs::exists(bc.shared + "/" + bc.volume)) {
    std::cout << nlohmann::json{{"error", bc.volume + " not found under " + bc.shared}}.dump() << std::endl;
    return 1;
  }
  // The children load LibTorch themselves; the parent only forks and waits, so its threads do not matter.
  const fs::path work = fs::temp_directory_path() / ("bench_pipeline_" + std::to_string(getpid()));
  fs::create_directories(work);
  nlohmann::json out = {{"volume", bc.volume},
                        {"channel", bc.channel},
                        {"mask", bc.mask},
                        {"threshold", bc.thresholdLo + ":" + bc.thresholdHi},
                        {"k", 3},
                        {"cores", int(sysconf(_SC_NPROCESSORS_ONLN))}};
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& preset : presets)
    for (int s : strides) {
      runs.push_back(measure(bc, preset, s, work));
      std::cerr << runs.back().dump() << std::endl;
    }
  out["runs"] = runs;
  fs::remove_all(work);
  std::cout << out.dump(2) << std::endl;
  return 0;
}
