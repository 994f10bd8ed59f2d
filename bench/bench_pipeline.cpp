// The full `fast` pipeline on mni152/t1.nii.gz (threshold 1:255, K = 3), end to end as `juleseg-cli run`
// does it (load, train, dense features, k-means, projection, outputs), at stride 5 and at stride 1: wall
// time, per-stage timings and peak memory. Each run happens in its own child process so that its peak
// resident memory (wait4's ru_maxrss) is its own and not the maximum of everything before it.
// JSON on stdout; never fails on time.
// Usage: bench_pipeline [--shared DIR] [--strides 5,1] [--truth]   (--truth: also score NMI, which adds the
//        baselines' time to the run, so it is off by default)
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
#include "bench/SessionRun.h"

using namespace jseg;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Runs in the child: the pipeline once, its run.json timings written to `resultPath`.
int runOnce(const std::string& shared, int stride, bool truth, const fs::path& outDir, const fs::path& resultPath) {
  try {
    TorchRuntime::configureThreads(0);
    Parameters p = Parameters::preset("fast");
    p.set("threshold_lo", 1.0);
    p.set("threshold_hi", 255.0);
    p.set("stride", stride);
    p.set("device", "cpu");
    bench::SessionRunInput in;
    in.volume = shared + "/mni152/t1.nii.gz";
    in.outDir = outDir.string();
    in.untrained = false;
    if (truth) in.truth = shared + "/mni152/labels.nii.gz";
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

nlohmann::json measure(const std::string& shared, int stride, bool truth, const fs::path& work) {
  const fs::path outDir = work / ("stride" + std::to_string(stride));
  const fs::path resultPath = work / ("stride" + std::to_string(stride) + ".json");
  std::cout.flush();
  const auto t0 = Clock::now();
  const pid_t pid = fork();
  if (pid == 0) _exit(runOnce(shared, stride, truth, outDir, resultPath));
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  nlohmann::json out = {{"stride", stride}, {"wall_s", wall}, {"peak_rss_mb", double(usage.ru_maxrss) / 1024.0},
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
  std::string shared = "../shared/data";
  std::vector<int> strides = {5, 1};
  bool truth = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--shared") && i + 1 < argc) shared = argv[++i];
    else if (!std::strcmp(argv[i], "--truth")) truth = true;
    else if (!std::strcmp(argv[i], "--strides") && i + 1 < argc) {
      strides.clear();
      std::stringstream ss(argv[++i]);
      for (std::string s; std::getline(ss, s, ',');) strides.push_back(std::atoi(s.c_str()));
    }
  }
  if (!fs::exists(shared + "/mni152/t1.nii.gz")) {
    std::cout << nlohmann::json{{"error", "mni152/t1.nii.gz not found under " + shared}}.dump() << std::endl;
    return 1;
  }
  // The children load LibTorch themselves; the parent only forks and waits, so its threads do not matter.
  const fs::path work = fs::temp_directory_path() / ("bench_pipeline_" + std::to_string(getpid()));
  fs::create_directories(work);
  nlohmann::json out = {{"volume", "mni152/t1.nii.gz"}, {"preset", "fast"}, {"threshold", "1:255"}, {"k", 3},
                        {"cores", int(sysconf(_SC_NPROCESSORS_ONLN))}};
  nlohmann::json runs = nlohmann::json::array();
  for (int s : strides) {
    runs.push_back(measure(shared, s, truth, work));
    std::cerr << runs.back().dump() << std::endl;
  }
  out["runs"] = runs;
  fs::remove_all(work);
  std::cout << out.dump(2) << std::endl;
  return 0;
}
