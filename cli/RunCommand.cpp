// juleseg-cli run VOLUME... --threshold lo:hi -o OUTDIR: the whole method headless (train or load a model,
// dense features, k-means or a K sweep, labels, overlays, statistics, run.json, project.juleseg), with a
// progress bar. Several volumes form a batch: one trained model (--model or a project's), one output
// folder each, failures reported and skipped, a summary at the end.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <variant>

#include "core/base/Errors.h"
#include "cli/CliCommon.h"
#include "cli/ProgressBar.h"
#include "core/pipeline/SegmentationSession.h"
#include "core/project/Project.h"

namespace jseg::cli {

namespace fs = std::filesystem;

namespace {

struct RunArgs {
  std::vector<std::string> volumes;
  std::string threshold, model, truth, out, kSweep, project, mask;
  std::vector<std::string> channels;
  bool demo = false, quiet = false, noOverlays = false, noUntrained = false;
  VolumeOptions volumeOptions;
  Parameters params;
};

std::string describe(const JuleEvent& e) {
  if (auto p = std::get_if<PeriodEvent>(&e)) {
    std::ostringstream o;
    o << (p->finalPass ? "final pass" : "period " + std::to_string(p->period)) << ": " << p->clusters
      << " clusters, loss " << std::fixed << std::setprecision(4) << p->loss << ", " << p->epochs << " epochs, "
      << std::setprecision(1) << p->seconds << " s, " << std::setprecision(0) << p->patchesPerS << " patches/s";
    return o.str();
  }
  if (auto n = std::get_if<NetworkStartEvent>(&e))
    return "network " + std::to_string(n->network) + " of " + std::to_string(n->networks);
  return {};
}

// A saved project supplies the parameters, the trained model and (unless volumes are given, as in a batch
// or a SLURM array task) the input, so a rerun paints the same labels.
void loadProject(RunArgs& a) {
  Project p = Project::load(a.project);
  if (a.volumes.empty() && !a.demo) {
    a.demo = p.demo;
    if (!p.demo) a.volumes = {p.inputPath};
    std::error_code ec;
    if (!p.demo && !fs::exists(p.inputPath, ec))
      throw InputError("the project's input " + p.inputPath + " no longer exists (moved or deleted?): give the volume "
                       "on the command line");
    if (!p.demo && !p.inputUnchanged())
      std::cerr << "warning: " << p.inputPath << " changed since the project was saved (SHA-256 differs)\n";
    if (!p.read.series.empty() && a.volumeOptions.series.empty()) a.volumeOptions.series = p.read.series;
    if (!p.maskPath.empty() && a.mask.empty()) a.mask = p.maskPath;
    if (a.channels.empty()) a.channels = p.channelPaths;
    if (p.read.spacing && a.volumeOptions.spacing.empty()) {
      const auto& s = *p.read.spacing;
      std::ostringstream o;
      o << std::setprecision(17) << s[0] << "," << s[1] << "," << s[2];
      a.volumeOptions.spacing = o.str();
    }
  }
  const int threads = a.params.getInt("threads");  // machine-specific: the caller's choice wins
  a.params = p.parameters;
  if (threads > 0) a.params.set("threads", threads);
  std::string model = Project::resolve(a.project, p.modelFile);
  if (a.model.empty() && !model.empty() && fs::exists(model)) a.model = model;
  if (a.threshold.empty()) {
    std::ostringstream o;
    o << std::setprecision(9) << p.parameters.getDouble("threshold_lo") << ":" << p.parameters.getDouble("threshold_hi");
    a.threshold = o.str();
  }
}

// What one volume's run needs besides the parameters.
struct RunTarget {
  std::string volume;  // empty with --demo
  std::string out;
};

std::optional<std::array<int, 2>> kSweepRange(const RunArgs& a) {
  if (a.kSweep.empty()) return std::nullopt;
  const std::string usage = "--k-sweep '" + a.kSweep + "' must be a:b with integers 2 <= a <= b <= 64, e.g. 2:10";
  const auto colon = a.kSweep.find(':');
  if (colon == std::string::npos) throw InputError(usage);
  double r[2];
  try {
    r[0] = parseNumber(a.kSweep.substr(0, colon), "--k-sweep");
    r[1] = parseNumber(a.kSweep.substr(colon + 1), "--k-sweep");
  } catch (const InputError&) {
    throw InputError(usage);
  }
  if (r[0] != std::floor(r[0]) || r[1] != std::floor(r[1]) || r[0] < 2 || r[1] > 64 || r[0] > r[1])
    throw InputError(usage);
  return std::array<int, 2>{int(r[0]), int(r[1])};
}

// The session's stages in order, with the run's share of the progress bar for each.
void runOne(const RunArgs& a, const RunTarget& target) {
  ProgressBar bar("run", a.quiet);
  TaskContext ctx = bar.context();
  auto println = [&bar](const std::string& s) { bar.println(s); };
  auto events = [&bar](const JuleEvent& e) {
    std::string line = describe(e);
    if (!line.empty()) bar.println(line);
  };
  const auto sweepRange = kSweepRange(a);
  SegmentationSession session(a.params);
  session.setLog(println);

  if (a.demo) session.openDemo();
  else {
    TaskContext c = stageContext(&ctx, 0.0, 0.03, "load");
    session.openVolume(target.volume, a.volumeOptions.toReadOptions(), &c);
  }
  if (!a.mask.empty()) session.loadMask(a.mask);
  for (const auto& c : a.channels) session.addChannel(c);
  if (!a.truth.empty()) session.loadTruth(a.truth);
  if (!a.model.empty()) session.loadModel(a.model);  // before any output: a model of other channels is refused
  const auto w = session.window();
  println("segmenting " + std::to_string(session.windowVoxels()) + " voxels: " + describeWindow(w[0], w[1]) +
          (a.mask.empty() ? "" : " inside the mask"));
  session.requireLevelsFor(session.parameters().getInt("k"));
  // The whole run's memory, before anything is trained or written: a run that cannot fit is refused now.
  println("memory: " + session.requireMemoryPlan(a.model.empty(), sweepRange ? std::max((*sweepRange)[1],
                                                   session.parameters().getInt("k")) : session.parameters().getInt("k")));
  // Nothing is written before the end: writeOutputs replaces the output folder as a whole (the model included).
  if (a.model.empty()) {
    TaskContext c = stageContext(&ctx, 0.03, 0.75, "train");
    session.train(events, &c);
  }
  TaskContext fc = stageContext(&ctx, 0.75, 0.92, "features");
  session.extractFeatures(&fc);
  int k = session.parameters().getInt("k");
  if (sweepRange) {
    TaskContext c = stageContext(&ctx, 0.92, 0.95, "K sweep");
    session.sweepK((*sweepRange)[0], (*sweepRange)[1], &c);
  }
  TaskContext kc = stageContext(&ctx, 0.95, 0.97, "k-means");
  session.paint(k, &kc);
  std::vector<MethodScore> scores;
  if (session.truth()) {
    TaskContext c = stageContext(&ctx, 0.97, 0.99, "scores");
    scores = session.score(!a.noUntrained, &c);
  }
  OutputOptions out;
  out.folder = target.out;
  out.overlays = !a.noOverlays;
  out.saveModel = a.model.empty();
  TaskContext oc = stageContext(&ctx, 0.99, 1.0, "outputs");
  const auto written = session.writeOutputs(out, &oc);
  bar.finish("K = " + std::to_string(k));
  std::cout << "outputs in " << target.out << ":\n";
  for (const auto& f : written) std::cout << "  " << f << "\n";
  if (!scores.empty()) {
    std::cout << "NMI (K = " << k << "):\n";
    for (const auto& s : scores)
      std::cout << "  " << std::left << std::setw(27) << s.method << std::fixed << std::setprecision(4) << s.nmi << "\n";
  }
}

// Output folder of one batch member: the input's name without extensions, made unique.
std::string batchFolder(const std::string& out, const std::string& input, std::vector<std::string>& used) {
  std::string stem = fs::path(input).filename().string();
  if (stem.empty()) stem = fs::path(input).parent_path().filename().string();
  for (const char* ext : {".gz", ".nii", ".tiff", ".tif"})
    if (stem.size() > std::strlen(ext) && stem.compare(stem.size() - std::strlen(ext), std::string::npos, ext) == 0)
      stem.resize(stem.size() - std::strlen(ext));
  std::string name = stem;
  for (int i = 2; std::find(used.begin(), used.end(), name) != used.end(); ++i) name = stem + "_" + std::to_string(i);
  used.push_back(name);
  return (fs::path(out) / name).string();
}

int runRun(RunArgs& a) {
  if (!a.project.empty()) loadProject(a);
  if (a.demo == !a.volumes.empty()) throw InputError("give either VOLUME(s) or --demo");
  // Without --threshold (and without --mask) the whole volume is the specimen.
  if (!a.threshold.empty()) applyThresholdText(a.params, a.threshold);
  a.params.validate();
  kSweepRange(a);  // a bad range is refused before any work
  if (a.demo || a.volumes.size() == 1) {
    runOne(a, {a.demo ? std::string() : a.volumes[0], a.out});
    return 0;
  }
  // Batch: one model for all, so results are comparable across the cohort.
  if (a.model.empty())
    throw InputError("a batch of " + std::to_string(a.volumes.size()) +
                     " volumes needs one trained model: train it first (juleseg-cli train ... -o model.pt) and pass "
                     "--model, or pass --project");
  if (!a.truth.empty()) throw InputError("--truth applies to a single volume, not a batch");
  std::vector<std::string> used, failed;
  int ok = 0;
  for (std::size_t i = 0; i < a.volumes.size(); ++i) {
    const RunTarget one{a.volumes[i], batchFolder(a.out, a.volumes[i], used)};
    std::cerr << "[" << i + 1 << "/" << a.volumes.size() << "] " << a.volumes[i] << "\n";
    try {
      runOne(a, one);
      ++ok;
    } catch (const CancelledError&) {
      throw;
    } catch (const Error& e) {
      // Most messages name the file already; the path is added only where one does not.
      const std::string msg = std::string(e.what()).find(a.volumes[i]) != std::string::npos
                                  ? std::string(e.what())
                                  : a.volumes[i] + ": " + e.what();
      std::cerr << "juleseg-cli: error: " << msg << "\n";
      failed.push_back(msg);
    }
  }
  std::cout << "batch: " << ok << " of " << a.volumes.size() << " volumes segmented into " << a.out << "\n";
  for (const auto& f : failed) std::cout << "  failed: " << f << "\n";
  return failed.empty() ? 0 : 2;
}

} // namespace

void registerRunCommand(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "Segment volumes end to end: JULE features + k-means, labels and reports");
  cmd->add_option("volumes", a->volumes,
                  "input volume(s) (NIfTI, TIFF file or folder, DICOM folder); several = a batch with one --model, "
                  "one output folder each");
  cmd->add_flag("--demo", a->demo, "use the built-in demo phantom (with its ground truth) instead of a file");
  a->volumeOptions.add(cmd);
  cmd->add_option("--threshold", a->threshold,
                  "centre-voxel window lo:hi that separates specimen from background (default: the whole range)");
  cmd->add_option("--mask", a->mask,
                  "region of interest (non-zero = inside, on the volume's grid): training, grid, baselines and NMI "
                  "inside it only; labels 0 outside");
  cmd->add_option("--channel", a->channels,
                  "a co-registered volume on the same grid (another contrast), repeatable: the networks (unless "
                  "--network-channels first) and the baselines see every channel; the threshold applies to the first");
  cmd->add_option("-o,--output", a->out, "output folder")->required();
  cmd->add_option("--model", a->model, "use this trained model (.pt) instead of training");
  cmd->add_option("--project", a->project,
                  "rerun a saved project (.juleseg): its parameters, model and (without VOLUME) its input");
  cmd->add_option("--truth", a->truth, "ground-truth labels (NIfTI): print NMI of JULE and the baselines");
  cmd->add_option("--k-sweep", a->kSweep, "score K = a..b by inertia and silhouette, e.g. 2:10");
  // Defined before the schema options: CLI11 applies options in definition order, so explicit
  // parameters override the preset.
  cmd->add_option_function<std::string>(
      "--preset", [a](const std::string& p) { a->params.applyPreset(p); }, "paper (default), fast or texture");
  std::vector<std::string> names;
  for (const auto& s : parameterSchema())
    if (s.name != "threshold_lo" && s.name != "threshold_hi") names.push_back(s.name);
  addSchemaOptions(cmd, a->params, names);
  cmd->add_flag("--no-overlays", a->noOverlays, "skip the overlay PNGs");
  cmd->add_flag("--no-untrained", a->noUntrained, "with --truth: skip scoring an untrained network");
  cmd->add_flag("-q,--quiet", a->quiet, "no progress output");
  cmd->callback([a] {
    int rc = runRun(*a);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

} // namespace jseg::cli
