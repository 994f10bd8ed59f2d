// juleseg-cli train VOLUME --threshold lo:hi -o model.pt: samples patches, runs JULE (seed paper §2),
// saves the model (model.pt + model.json).
// juleseg-cli cluster-images STACK.tif --clusters N [--labels labels.txt]: JULE on one 2D image per TIFF page
// with the image2d network; prints the cluster count, the time and the NMI against the labels.
#include "cli/TrainCommands.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "core/base/Errors.h"
#include "cli/CliCommon.h"
#include "cli/Interrupts.h"
#include "cli/ProgressBar.h"
#include "core/eval/Nmi.h"
#include "core/io/AtomicFile.h"
#include "core/io/TiffStackReader.h"
#include "core/jule/JuleTrainer.h"
#include "core/jule/ModelFile.h"
#include "core/jule/PatchSampler.h"
#include "core/params/ParameterSchema.h"
#include "core/pipeline/SegmentationPipeline.h"
#include "core/pipeline/SegmentationSession.h"

namespace jseg::cli {

namespace {

const std::vector<std::string>& juleParameterNames() {
  static const std::vector<std::string> names = {
      "patches", "patch_size", "patch_depth", "patch_depth_from_spacing", "clusters", "network", "device", "precision", "seed",
      "threads", "standardize_patches",
      "eta", "knn", "kc", "lambda", "lambda_min_clusters", "faithful_triangular_knn", "fast_row_update",
      "recluster_final", "epochs_per_period", "batch_size", "learning_rate", "momentum", "dampening",
      "weight_decay", "lr_gamma", "lr_power", "margin", "triplet_gamma", "negatives", "anchor_only_gradient",
      "final_pass", "bn_train_features", "initial_clusters", "max_epochs", "network_channels"};
  return names;
}

// Event sink + progress for the CLI: period summaries as lines, the bar with the trainer's ETA.
struct TrainReporter {
  ProgressBar bar;
  double eta = -1;
  bool quiet;
  TrainReporter(const std::string& task, bool q) : bar(task, q), quiet(q) {}

  JuleEventSink sink() {
    return [this](const JuleEvent& e) {
      if (const auto* p = std::get_if<PeriodEvent>(&e)) {
        eta = p->etaS;
        std::ostringstream o;
        o << (p->finalPass ? "final pass" : "period " + std::to_string(p->period)) << ": " << p->clusters
          << " clusters, " << p->epochs << " epochs, loss " << std::fixed << std::setprecision(4) << p->loss << ", "
          << std::setprecision(1) << p->seconds << " s, " << std::setprecision(0) << p->patchesPerS
          << " patches/s";
        if (!quiet) bar.println(o.str());
      } else if (const auto* n = std::get_if<NetworkStartEvent>(&e)) {
        if (!quiet) bar.println("network " + std::to_string(n->network) + " of " + std::to_string(n->networks));
      } else if (const auto* c = std::get_if<ClusterSizesEvent>(&e)) {
        std::ostringstream o;
        o << "clusters after period " << c->period << ": " << c->sizes.size();
        if (!c->sizes.empty()) o << " (largest " << c->sizes.front() << ", smallest " << c->sizes.back() << ")";
        if (!quiet) bar.println(o.str());
      }
    };
  }
  TaskContext context(std::shared_ptr<const CancelToken> cancel) {
    TaskContext ctx;
    ctx.cancel = std::move(cancel);
    ctx.progress = [this](double f, const std::string& m) { bar.update(f, m, -1); };
    return ctx;
  }
};

struct TrainArgs {
  std::string volume, threshold, output, preset, mask;
  std::vector<std::string> channels;
  VolumeOptions volumeOptions;
  bool quiet = false;
  Parameters params;
};

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void runTrain(TrainArgs& a) {
  if (a.output.empty() || !endsWith(a.output, ".pt"))
    throw InputError("-o must name the model file to write, ending in .pt (model.json is written beside it)");
  {
    // Fail before hours of training, not after.
    std::error_code ec;
    auto parent = std::filesystem::path(a.output).parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
      throw InputError(a.output + ": the folder " + parent.string() + " does not exist");
  }
  // Without --threshold (and without --mask) every voxel may centre a training patch.
  if (!a.threshold.empty()) applyThresholdText(a.params, a.threshold);
  a.params.validate();
  (void)JuleOptions::fromParameters(a.params);  // a bad combination fails before the volume loads

  // The session's own train stage, so `train` and `run` (and the GUI) give the same model, input preparation
  // and record of where it came from included.
  SegmentationSession session(a.params);
  SessionInput input;
  input.path = a.volume;
  input.read = a.volumeOptions.toReadOptions();
  session.setVolume(std::make_shared<Volume>(loadVolume(a.volume, a.volumeOptions, a.quiet)), input);
  if (!a.mask.empty()) session.loadMask(a.mask);
  for (const auto& c : a.channels) session.addChannel(c);
  session.windowVoxels();
  // Ctrl-C and SIGTERM cancel through the process's token (checked within a second): no half-written model.
  auto token = interruptToken();
  TrainReporter rep("train", a.quiet);
  session.setLog([&rep](const std::string& line) { rep.bar.println(line); });
  TaskContext ctx = rep.context(token);
  JuleResult r = session.train(rep.sink(), &ctx);
  rep.bar.finish("trained");
  session.saveModel(a.output);
  std::cout << "final clusters: " << (r.labels.empty() ? 0 : *std::max_element(r.labels.begin(), r.labels.end()) + 1)
            << "\nepochs: " << r.epochs << "\ntime: " << std::fixed << std::setprecision(1) << r.seconds << " s"
            << "\ndevice: " << r.model.device << "\nprecision: " << r.model.precision << "\nwrote " << a.output << " and " << ModelFile::jsonPathFor(a.output);
  for (std::size_t m = 0; m < r.model.moreNetworks.size(); ++m)
    std::cout << (m == 0 ? ", networks 2.. in " : ", ") << ModelFile::memberPathFor(a.output, int(m) + 2);
  std::cout << "\n";
}

// --- cluster-images ---------------------------------------------------------------------------------

struct ClusterImagesArgs {
  std::string stack, labels, output;
  int clusters = 0;
  bool quiet = false;
  Parameters params;
};

std::vector<int> readLabelFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw InputError(path + ": cannot open the labels file");
  std::vector<int> out;
  std::string line;
  int lineNo = 0;
  while (std::getline(f, line)) {
    ++lineNo;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      std::size_t used = 0;
      int v = std::stoi(line, &used);
      if (line.find_first_not_of(" \t\r", used) != std::string::npos) throw std::invalid_argument("x");
      out.push_back(v);
    } catch (const std::exception&) {
      throw InputError(path + ":" + std::to_string(lineNo) + ": expected one integer label per line");
    }
  }
  return out;
}

void runClusterImages(ClusterImagesArgs& a) {
  if (a.clusters < 2) throw InputError("--clusters must be at least 2");
  Volume v = TiffStackReader::read(a.stack);
  const int w = static_cast<int>(v.dims()[0]), h = static_cast<int>(v.dims()[1]);
  const int n = static_cast<int>(v.dims()[2]);
  if (w != h)
    throw InputError(a.stack + ": pages are " + std::to_string(w) + "x" + std::to_string(h) +
                     "; cluster-images needs square pages");
  if (a.clusters >= n)
    throw InputError("--clusters " + std::to_string(a.clusters) + " must be fewer than the " + std::to_string(n) +
                     " images");
  std::vector<int> truth;
  if (!a.labels.empty()) {
    truth = readLabelFile(a.labels);
    if (static_cast<int>(truth.size()) != n)
      throw InputError(a.labels + " has " + std::to_string(truth.size()) + " labels but " + a.stack + " has " +
                       std::to_string(n) + " pages");
  }
  JuleOptions jo = JuleOptions::fromParameters(a.params);
  jo.network = NetworkSpec::byName("image2d", w);
  jo.clusters = a.clusters;

  std::vector<float> samples = std::move(v.voxels);  // page-major, x fastest: one sample per page
  auto ms = PatchSampler::meanStd(samples);
  PatchSampler::standardizeInPlace(samples, ms[0], ms[1]);

  // Ctrl-C and SIGTERM cancel through the process's token (checked within a second): no half-written model.
  auto token = interruptToken();
  TrainReporter rep("cluster-images", a.quiet);
  TaskContext ctx = rep.context(token);
  JuleTrainer trainer(jo, rep.sink());
  JuleResult r = trainer.run(samples.data(), n, &ctx);
  rep.bar.finish("done");
  int nc = r.labels.empty() ? 0 : *std::max_element(r.labels.begin(), r.labels.end()) + 1;
  std::cout << "images: " << n << " of " << w << "x" << h << "\nclusters: " << nc << "\nepochs: " << r.epochs
            << "\ntime: " << std::fixed << std::setprecision(1) << r.seconds << " s\n";
  if (!truth.empty()) {
    std::cout << "NMI: " << std::setprecision(4) << nmi(truth, r.labels) << "\n";
    if (jo.reclusterFinal) std::cout << "NMI before re-clustering (SF): " << nmi(truth, r.labelsAtStop) << "\n";
  }
  if (!a.output.empty()) {
    std::ostringstream o;
    for (int l : r.labels) o << l << "\n";
    writeFileAtomically(a.output, o.str());
    std::cout << "wrote " << a.output << "\n";
  }
}

} // namespace

void registerTrainCommand(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Learn patch features with JULE (seed paper §2) and save the model");
  cmd->add_option("volume", a->volume, "input volume (NIfTI, TIFF, DICOM folder)")->required();
  a->volumeOptions.add(cmd);
  cmd->add_option("--threshold", a->threshold,
                  "centre-voxel intensity range lo:hi of training patches (default: the whole range)");
  cmd->add_option("--mask", a->mask, "region of interest (non-zero = inside): patch centres inside it only");
  cmd->add_option("--channel", a->channels,
                  "a co-registered volume on the same grid (another contrast), repeatable: the network sees every "
                  "channel (the first only with --network-channels first); the threshold applies to the first");
  cmd->add_option("-o,--output", a->output, "model file to write (.pt; model.json is written beside it)")->required();
  // Defined before the schema options: CLI11 applies options in definition order, so explicit
  // parameters override the preset.
  cmd->add_option_function<std::string>(
      "--preset", [a](const std::string& p) { a->params.applyPreset(p); }, "paper (default), fast or texture");
  addSchemaOptions(cmd, a->params, juleParameterNames());
  cmd->add_flag("-q,--quiet", a->quiet, "no progress output");
  cmd->callback([a] { runTrain(*a); });
}

void registerClusterImagesCommand(CLI::App& app) {
  auto a = std::make_shared<ClusterImagesArgs>();
  // Documented defaults for image sets (measured on the digits, see the report in README): the reference
  // JULE settings except 2D network image2d.
  auto* cmd = app.add_subcommand("cluster-images", "JULE on a stack of 2D images (one image per TIFF page)");
  cmd->add_option("stack", a->stack, "multi-page TIFF, one sample per page")->required();
  cmd->add_option("--clusters", a->clusters, "number of clusters C")->required();
  cmd->add_option("--labels", a->labels, "text file with one ground-truth label per page: print NMI");
  cmd->add_option("-o,--output", a->output, "write the predicted labels, one per line");
  addSchemaOptions(cmd, a->params,
                   {"seed", "device", "precision", "threads", "eta", "knn", "kc", "recluster_final", "epochs_per_period",
                    "batch_size", "learning_rate", "margin", "triplet_gamma", "negatives", "anchor_only_gradient",
                    "final_pass", "bn_train_features", "max_epochs"});
  cmd->add_flag("-q,--quiet", a->quiet, "no progress output");
  cmd->callback([a] { runClusterImages(*a); });
}

} // namespace jseg::cli
