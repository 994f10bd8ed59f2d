// juleseg-cli baseline VOLUME --threshold lo:hi --k K: the seed paper's baselines (intensity k-means,
// multi-threshold Otsu) inside the threshold mask, with NMI against a ground truth when given.
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <tuple>

#include "core/base/Errors.h"
#include "cli/CliCommon.h"
#include "cli/ProgressBar.h"
#include "core/eval/Nmi.h"
#include "core/eval/EvaluationBattery.h"
#include "core/eval/IntensityBaselines.h"
#include "core/segment/PottsSmoothing.h"

namespace jseg::cli {

namespace fs = std::filesystem;

namespace {
struct BaselineArgs {
  std::string path, threshold = ":", method = "both", truth, outPrefix, mask;
  std::vector<std::string> channels;
  VolumeOptions volume;
  int k = 3;
  long long seed = 1;
  int restarts = 4;
  double potts = 0;  // potts_weight: the labels smoothed as `run` smooths JULE's and the battery's
};

void report(const std::string& name, const LabelVolume& labels, const LabelVolume* truth, const Mask* roi,
            const std::string& out, const std::string& suffix) {
  std::cout << std::left << std::setw(18) << name << (name.size() >= 18 ? " " : "");
  EvaluationRegion region;
  region.mask = roi;
  if (truth) std::cout << "NMI " << std::fixed << std::setprecision(4) << scoreSegmentation(labels, *truth, region).nmi;
  std::cout << "\n";
  if (!out.empty()) {
    saveLabels(labels, out + suffix);
    std::cout << "  wrote " << out + suffix << "\n";
  }
}

void runBaseline(const BaselineArgs& a) {
  if (a.k < 2 || a.k > 64) throw InputError("--k must be between 2 and 64 (got " + std::to_string(a.k) + ")");
  if (a.method != "kmeans" && a.method != "otsu" && a.method != "both")
    throw InputError("--method must be kmeans, otsu or both");
  // --seed and --restarts take the ranges of the schema's seed and kmeans_restarts.
  for (const auto& [flag, name, value] : {std::tuple<const char*, const char*, long long>{"--seed", "seed", a.seed},
                                          {"--restarts", "kmeans_restarts", a.restarts}}) {
    const ParamSpec& spec = paramSpec(name);
    if (value < spec.min || value > spec.max)
      throw InputError(std::string(flag) + " " + std::to_string(value) + " is out of range [" +
                       std::to_string((long long)spec.min) + ", " + std::to_string((long long)spec.max) + "]");
  }
  Parameters().set("potts_weight", a.potts);  // refused with the schema's range, as `run` refuses it
  auto [lo, hi] = parseThreshold(a.threshold);
  Volume v = loadVolume(a.path, a.volume);
  std::unique_ptr<LabelVolume> truth;
  if (!a.truth.empty()) {
    truth = std::make_unique<LabelVolume>(loadLabels(a.truth));
    requireSameGrid(truth->geom, v.geom, "ground truth " + a.truth);
  }
  std::unique_ptr<Mask> roi;
  if (!a.mask.empty()) {
    const LabelVolume m = loadLabels(a.mask);
    requireSameGrid(m.geom, v.geom, "mask " + a.mask);
    roi = std::make_unique<Mask>(maskFromLabels(m, "mask " + a.mask));
  }
  if (!a.channels.empty()) {
    // Several channels: the evaluation battery's voxel baselines (k-means on all channels, on each alone,
    // multi-Otsu on the first), exactly as `run --truth` prints them.
    std::vector<Volume> more;
    for (const auto& c : a.channels) {
      more.push_back(loadVolume(c, {}, true));
      requireSameGrid(more.back().geom, v.geom, "channel " + c);
    }
    EvaluationInputs in;
    in.volume = &v;
    for (const auto& m : more) in.moreChannels.push_back(&m);
    in.channelNames.push_back(fs::path(a.path).stem().stem().string());
    for (const auto& c : a.channels) in.channelNames.push_back(fs::path(c).stem().stem().string());
    in.params.set("seed", a.seed);
    in.params.set("kmeans_restarts", std::max(1, a.restarts));
    in.params.set("potts_weight", a.potts);
    in.k = a.k;
    in.lo = lo;
    in.hi = hi;
    in.roi = roi.get();
    for (const auto& b : voxelBaselines(in)) report(b.method, b.labels, truth.get(), roi.get(), a.outPrefix, "_" + b.method + ".nii.gz");
    return;
  }
  // Checked before any label file is written: a constant volume has nothing to separate.
  requireDistinctLevels(v, lo, hi, roi.get(), a.k);
  // Both methods run before either file is written, so a failure of the second leaves no file of the first.
  std::optional<LabelVolume> kmeans, otsu;
  if (a.method != "otsu")
    kmeans = intensityKMeans(v, lo, hi, a.k, static_cast<uint64_t>(a.seed), a.restarts, 300, 1e-4, nullptr, roi.get())
                 .labels;
  if (a.method != "kmeans") otsu = multiOtsu(v, lo, hi, a.k, nullptr, roi.get()).labels;
  const PottsSmoothing potts(a.potts);
  for (auto* labels : {&kmeans, &otsu})
    if (*labels) potts.apply(**labels, {&v}, a.k);
  if (kmeans) report("intensity k-means", *kmeans, truth.get(), roi.get(), a.outPrefix, "_kmeans.nii.gz");
  if (otsu) report("multi-Otsu", *otsu, truth.get(), roi.get(), a.outPrefix, "_otsu.nii.gz");
}
} // namespace

void registerBaselineCommand(CLI::App& app) {
  auto args = std::make_shared<BaselineArgs>();
  auto* cmd = app.add_subcommand("baseline", "Intensity k-means and multi-Otsu inside the threshold mask (paper baselines)");
  cmd->add_option("volume", args->path, "input volume")->required();
  args->volume.add(cmd);
  cmd->add_option("--threshold", args->threshold, "mask [lo:hi] on intensity, e.g. 1:255 (default: everything)");
  cmd->add_option("--k", args->k, "number of classes K (2..64)");
  cmd->add_option("--method", args->method, "kmeans, otsu or both");
  cmd->add_option("--seed", args->seed, "seed of k-means++");
  cmd->add_option("--restarts", args->restarts, "k-means++ restarts");
  cmd->add_option("--potts-weight", args->potts,
                  "smooth the labels as `run --potts-weight` smooths JULE's (iterated conditional modes; 0 = off)");
  cmd->add_option("--truth", args->truth, "ground-truth label volume: print NMI over voxels with truth > 0");
  cmd->add_option("--channel", args->channels,
                  "a co-registered volume on the same grid, repeatable: k-means on all channels (each standardised), "
                  "on each alone, and multi-Otsu on the first");
  cmd->add_option("--mask", args->mask,
                  "region of interest (non-zero = inside, on the volume's grid): baselines and NMI inside it only");
  cmd->add_option("-o,--output", args->outPrefix, "write label volumes PREFIX_kmeans.nii.gz / PREFIX_otsu.nii.gz");
  cmd->callback([args] { runBaseline(*args); });
}

} // namespace jseg::cli
