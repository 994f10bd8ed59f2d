#include "core/pipeline/SegmentationSession.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "core/base/Errors.h"
#include "core/demo/Phantom.h"
#include "core/eval/Nmi.h"
#include "core/io/AtomicFile.h"
#include "core/io/DicomSeriesReader.h"
#include "core/io/DicomSegWriter.h"
#include "core/io/ItkSnapLabelFile.h"
#include "core/io/LabelOutputs.h"
#include "core/io/NiftiIO.h"
#include "core/io/OutputFolderTransaction.h"
#include "core/io/SlicerColorTable.h"
#include "core/io/SlicerSegmentationFile.h"
#include "core/io/TiffStackReader.h"
#include "core/io/VolumeReader.h"
#include "core/jule/ComputePrecision.h"
#include "core/jule/ModelFile.h"
#include "core/jule/TorchRuntime.h"
#include "core/pipeline/RunMemoryPlan.h"
#include "core/pipeline/SegmentationPipeline.h"
#include "core/project/Project.h"
#include "core/project/Sha256.h"
#include "core/segment/FeatureSmoothing.h"
#include "core/segment/GridClustering.h"
#include "core/segment/KMeans.h"
#include "core/segment/LabelProjector.h"
#include "core/segment/ModelFeatures.h"

namespace jseg {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string fmt(double v, int precision = 4) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(precision) << v;
  return o.str();
}

// "network agreement at K = 3: ..." for the log: the criterion and what it means, so a user can read it without
// the docs.
std::string describeAgreement(const NetworkAgreementResult& a) {
  std::string pairs;
  for (double v : a.pairs) pairs += (pairs.empty() ? "" : ", ") + fmt(v, 3);
  return "network agreement at K = " + std::to_string(a.k) + ": NMI " + fmt(a.mean, 3) + " between the " +
         std::to_string(a.networks) + " networks' own segmentations (pairs " + pairs + "; " +
         std::to_string(a.points) + " grid points" +
         (a.thinning > 1 ? ", every " + (a.thinning == 2 ? std::string("2nd") : std::to_string(a.thinning) + "th") +
                               " along each axis"
                         : "") +
         "). Needs no truth: 1 = the same regions whatever the seed, low = they depend on it";
}

// Parameters chosen when segmenting, not when training: a loaded model leaves them as the user set them.
const std::set<std::string>& segmentationTimeParameters() {
  static const std::set<std::string> names = {"threshold_lo",    "threshold_hi",      "stride",           "k",
                                              "kmeans_restarts", "kmeans_max_iter",   "feature_smoothing", "feature_intensity",
                                              "feature_whitening", "intensity_weight", "intensity_channels", "potts_weight", "seed",             "threads",
                                              "device",          "precision"};
  return names;
}

// patch_depth_from_spacing needs the volume, so it is resolved on the local copy a run works with: the
// session's own parameters keep "from the spacing", and a volume of another spacing resolves it anew.
template <class Log>
Parameters withPatchDepthFromSpacing(Parameters p, const std::shared_ptr<const Volume>& vol, const Log& log) {
  if (!vol || !p.values().patchDepthFromSpacing) return p;
  const int d = PatchSampler::depthForSpacing(p.values().patchSize, vol->geom.spacing);
  p.set("patch_depth", d);
  log("patch depth " + std::to_string(d) + " from the spacing");
  return p;
}

// The channels a trained model's networks take follow the model, not the current network_channels setting (a
// training-time choice the user may have changed since): a model of one channel sees the first volume only.
Parameters withModelChannels(Parameters p, const JuleModel* m) {
  if (m) p.set("network_channels", m->channels() == 1 ? "first" : "all");
  return p;
}

// "…/flair.nii.gz" -> "flair": how a channel is named in the model, the baselines and run.json.
std::string channelNameOf(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  if (name.empty()) name = fs::path(path).parent_path().filename().string();
  for (const char* ext : {".gz", ".nii", ".tiff", ".tif", ".dcm"})
    if (name.size() > std::strlen(ext) && name.compare(name.size() - std::strlen(ext), std::string::npos, ext) == 0)
      name.resize(name.size() - std::strlen(ext));
  for (auto& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '_';
  return name.empty() ? "channel" : name;
}

} // namespace

struct SegmentationSession::State {
  Parameters params;
  SessionInput input;
  std::shared_ptr<const Volume> volume;
  std::shared_ptr<const LabelVolume> truth;
  std::string truthPath;  // "" for the phantom's own truth
  std::shared_ptr<const Mask> roi;
  std::vector<std::shared_ptr<const Volume>> moreChannels;
  std::vector<std::string> channelNames{"intensity"};
  Clock::time_point opened = Clock::now();
  // The networks' input channels (the volume's, or their copies filled outside the window) and what for.
  std::vector<std::shared_ptr<const Volume>> filled;
  std::string filledFor;
  std::shared_ptr<const JuleModel> model;
  std::string modelPath;
  std::shared_ptr<const FeatureGrid> grid;
  FeatureMode featureMode = FeatureMode::Dense;
  NetworkAgreementResult agreement;  // of the features' networks (networks = 0: one network)
  std::shared_ptr<const KSweepResult> sweep;
  std::map<int, std::vector<float>> extraCentroids;  // previews of K outside the sweep
  std::shared_ptr<const LabelVolume> labels;
  int k = 0;
  json scores = json::object();
  json timings = json::object();

  void dropFeatures() {
    grid.reset();
    agreement = {};
    sweep.reset();
    extraCentroids.clear();
    dropLabels();
  }
  void dropLabels() {
    labels.reset();
    k = 0;
    for (auto it = scores.begin(); it != scores.end();)
      it = it.key() == "jule_training_clusters" ? std::next(it) : scores.erase(it);
  }
};

std::string SegmentationSession::defaultPreset() { return TorchRuntime::cudaAvailable() ? "paper" : "fast"; }

TrainingEstimate SegmentationSession::estimateTraining(const Parameters& params, const TaskContext* ctx) {
  const JuleOptions o = JuleOptions::fromParameters(params);
  const ParameterValues v = params.values();
  TrainingEstimate e;
  TorchRuntime::configureThreads(v.threads);
  e.device = TorchRuntime::resolveDevice(o.device);
  const Precision precision = ComputePrecision::resolve(o.precision, e.device);
  e.precision = ComputePrecision::name(precision);
  e.threads = TorchRuntime::threads();
  e.where = computeDescription(params);
  // Measured once per network shape, device and precision: the benchmark takes the cores for a few seconds.
  static std::mutex cacheMutex;
  static std::map<std::string, double> throughput;
  const std::string key = o.network.toJson().dump() + "@" + e.device + "#" + std::to_string(TorchRuntime::threads()) +
                          "/" + e.precision;
  double perSecond = 0;
  {
    std::lock_guard<std::mutex> lock(cacheMutex);
    if (auto it = throughput.find(key); it != throughput.end()) perSecond = it->second;
  }
  if (perSecond <= 0) {
    reportProgress(ctx, -1, "measuring the network's speed");
    // A small batch keeps the measurement to a few steps even for the paper network on a CPU.
    perSecond =
        measureNetworkThroughput(o.network, std::clamp(o.batchSize, 1, 16), 0.5, e.device, precision).trainSamplesPerS;
    std::lock_guard<std::mutex> lock(cacheMutex);
    throughput[key] = perSecond;
  }
  e.patchesPerSecond = perSecond;
  const int initialClusters = std::max(o.clusters + 1, v.patches / 4);
  e.epochs = std::min(JuleTrainer::estimateRemainingEpochs(initialClusters, o), o.maxEpochs);
  if (perSecond > 0) e.seconds = double(e.epochs) * v.patches / perSecond * std::max(1, v.networks);
  return e;
}

std::string SegmentationSession::computeDescription(const Parameters& params) {
  const ParameterValues v = params.values();
  TorchRuntime::configureThreads(v.threads);
  const std::string device = TorchRuntime::resolveDevice(v.device);
  const std::string precision = ComputePrecision::name(ComputePrecision::resolve(v.precision, device));
  if (device == "cpu")
    return "CPU (" + std::to_string(TorchRuntime::threads()) + (TorchRuntime::threads() == 1 ? " thread, " : " threads, ") +
           precision + ")";
  return "CUDA (" + precision + ")";
}

SegmentationSession::SegmentationSession(const Parameters& params) : s_(std::make_unique<State>()) {
  params.validate();
  s_->params = params;
}

SegmentationSession::~SegmentationSession() = default;

void SegmentationSession::setLog(Log log) { log_ = std::move(log); }

void SegmentationSession::log(const std::string& line) const {
  if (log_) log_(line);
}

Parameters SegmentationSession::parameters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_->params;
}

void SegmentationSession::setParameters(const Parameters& params) {
  params.validate();
  std::lock_guard<std::mutex> lock(mutex_);
  s_->params = params;
}

std::array<float, 2> SegmentationSession::window() const {
  const ParameterValues v = parameters().values();
  return {float(v.thresholdLo), float(v.thresholdHi)};
}

// ---------------------------------------------------------------- inputs

void SegmentationSession::openVolume(const std::string& path, const ReadOptions& read, const TaskContext* ctx) {
  const auto t0 = Clock::now();
  auto v = std::make_shared<Volume>(readVolume(path, read, ctx));
  for (const auto& w : v->warnings) log("warning: " + w);
  SessionInput in;
  in.path = path;
  in.read = read;
  setVolume(std::move(v), in);
  std::lock_guard<std::mutex> lock(mutex_);
  s_->timings["load_s"] = since(t0);
  s_->opened = t0;
}

void SegmentationSession::openDemo() {
  Phantom ph = makeDemoPhantom();
  Parameters p = parameters();
  // The phantom's background must stay out of the window unless the user set one.
  if (isUnboundedLow(p.values().thresholdLo)) p.set("threshold_lo", double(ph.suggestedLo));
  if (isUnboundedHigh(p.values().thresholdHi)) p.set("threshold_hi", double(ph.suggestedHi));
  setParameters(p);
  const auto w = window();
  log("demo phantom " + std::to_string(ph.volume.geom.dims[0]) + "^3, threshold " + fmt(w[0], 0) + ":" + fmt(w[1], 0));
  if (ph.volume.description.empty()) ph.volume.description = "demo phantom";
  SessionInput in;
  in.demo = true;
  setVolume(std::make_shared<Volume>(std::move(ph.volume)), in, std::make_shared<LabelVolume>(std::move(ph.truth)));
}

void SegmentationSession::setVolume(std::shared_ptr<const Volume> volume, SessionInput input,
                                    std::shared_ptr<const LabelVolume> truth) {
  std::lock_guard<std::mutex> lock(mutex_);
  s_->volume = std::move(volume);
  s_->input = std::move(input);
  s_->truth = std::move(truth);
  s_->truthPath.clear();
  s_->roi.reset();
  s_->moreChannels.clear();
  s_->channelNames = {s_->input.demo || s_->input.path.empty() ? std::string("intensity") : channelNameOf(s_->input.path)};
  s_->opened = Clock::now();
  s_->filled.clear();
  s_->filledFor.clear();
  s_->dropFeatures();
  s_->scores = json::object();
  s_->timings = json::object();
  // A model stays: it may be applied to another volume (a batch, or the GUI's next file).
}

void SegmentationSession::loadTruth(const std::string& path, const TaskContext* ctx) {
  requireVolume();
  auto t = std::make_shared<LabelVolume>(readLabelVolume(path, ctx));
  requireSameGrid(t->geom, volume()->geom, "ground truth " + path);
  setTruth(std::move(t));
  std::lock_guard<std::mutex> lock(mutex_);
  s_->truthPath = path;
}

void SegmentationSession::loadMask(const std::string& path, const TaskContext* ctx) {
  requireVolume();
  const LabelVolume labels = readLabelVolume(path, ctx);
  requireSameGrid(labels.geom, volume()->geom, "mask " + path);
  auto roi = std::make_shared<Mask>(maskFromLabels(labels, "mask " + path));
  roi->geom = volume()->geom;
  log("mask " + path + ": " + std::to_string(roi->count()) + " voxels inside");
  setRoi(std::move(roi), path);
}

void SegmentationSession::setRoi(std::shared_ptr<const Mask> roi, const std::string& path) {
  if (roi) requireSameGrid(roi->geom, volume()->geom, "mask " + path);
  std::lock_guard<std::mutex> lock(mutex_);
  s_->roi = std::move(roi);
  s_->input.maskPath = s_->roi ? path : std::string();
  s_->filled.clear();
  s_->filledFor.clear();
  s_->dropFeatures();
}

void SegmentationSession::addChannel(const std::string& path, const TaskContext* ctx) {
  requireVolume();
  auto v = std::make_shared<const Volume>(readVolume(path, {}, ctx));
  addChannel(v, channelNameOf(path));
  std::lock_guard<std::mutex> lock(mutex_);
  s_->input.channelPaths.push_back(path);
}

void SegmentationSession::addChannel(std::shared_ptr<const Volume> channel, const std::string& name) {
  requireVolume();
  requireSameGrid(channel->geom, volume()->geom, "channel " + name);
  std::lock_guard<std::mutex> lock(mutex_);
  std::string unique = name;
  for (int i = 2; std::find(s_->channelNames.begin(), s_->channelNames.end(), unique) != s_->channelNames.end(); ++i)
    unique = name + "_" + std::to_string(i);
  s_->moreChannels.push_back(std::move(channel));
  s_->channelNames.push_back(unique);
  s_->filled.clear();
  s_->filledFor.clear();
  s_->dropFeatures();
}

std::vector<std::shared_ptr<const Volume>> SegmentationSession::moreChannels() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_->moreChannels;
}

std::vector<std::string> SegmentationSession::channelNames() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_->channelNames;
}

std::shared_ptr<const Mask> SegmentationSession::roi() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_->roi;
}

void SegmentationSession::setTruth(std::shared_ptr<const LabelVolume> truth) {
  std::lock_guard<std::mutex> lock(mutex_);
  s_->truth = std::move(truth);
}

std::shared_ptr<const Volume> SegmentationSession::volume() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_->volume;
}

std::shared_ptr<const LabelVolume> SegmentationSession::truth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_->truth;
}

SessionInput SegmentationSession::input() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_->input;
}

void SegmentationSession::requireVolume() const {
  if (!volume()) throw InputError("no volume is open");
}

std::size_t SegmentationSession::windowVoxels() const {
  requireVolume();
  const auto w = window();
  const Mask m = thresholdMask(*volume(), w[0], w[1]);
  const auto r = roi();
  std::size_t n = 0;
  for (std::size_t i = 0; i < m.inside.size(); ++i) n += m.inside[i] && (!r || r->inside[i]);
  if (n == 0)
    throw InputError("no voxel lies in the threshold window " + fmt(w[0], 3) + ":" + fmt(w[1], 3) +
                     (r ? " inside the mask" : ""));
  return n;
}

std::vector<std::shared_ptr<const Volume>> SegmentationSession::networkChannels(const ParameterValues& v,
                                                                               std::shared_ptr<const Volume> vol) const {
  std::vector<std::shared_ptr<const Volume>> channels{std::move(vol)};
  if (v.networkChannels == "first") return channels;
  const auto more = moreChannels();
  channels.insert(channels.end(), more.begin(), more.end());
  return channels;
}

std::vector<std::string> SegmentationSession::networkChannelNames(const ParameterValues& v) const {
  auto names = channelNames();
  if (v.networkChannels == "first" && names.size() > 1) names.resize(1);
  return names;
}

std::vector<std::shared_ptr<const Volume>> SegmentationSession::networkInputs(const Parameters& p,
                                                                             std::shared_ptr<const Volume> vol) {
  const ParameterValues v = p.values();
  const auto channels = networkChannels(v, vol);
  if (!v.fillOutsideWindow) return channels;
  const std::string key =
      fmt(v.thresholdLo, 9) + ":" + fmt(v.thresholdHi, 9) + ":" + v.fillRule + ":" + std::to_string(channels.size());
  const auto r = roi();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (s_->filled.size() == channels.size() && s_->filledFor == key && s_->volume == vol) return s_->filled;
  }
  // Every channel is filled outside the same voxels: the first channel's window inside the region.
  Mask inside = thresholdMask(*vol, float(v.thresholdLo), float(v.thresholdHi));
  if (r)
    for (std::size_t i = 0; i < inside.inside.size(); ++i) inside.inside[i] &= r->inside[i];
  std::vector<std::shared_ptr<const Volume>> filled;
  for (const auto& c : channels) filled.push_back(std::make_shared<const Volume>(fillOutsideRegion(*c, inside, v.fillRule)));
  log("outside the window filled (" + v.fillRule + ")");
  std::lock_guard<std::mutex> lock(mutex_);
  if (s_->volume == vol) {
    s_->filled = filled;
    s_->filledFor = key;
  }
  return filled;
}

std::vector<const Volume*> SegmentationSession::raw(const std::vector<std::shared_ptr<const Volume>>& volumes) {
  std::vector<const Volume*> out;
  for (const auto& v : volumes) out.push_back(v.get());
  return out;
}

// ---------------------------------------------------------------- model

JuleResult SegmentationSession::train(const JuleEventSink& events, const TaskContext* ctx) {
  windowVoxels();
  const auto t0 = Clock::now();
  const Parameters p = withPatchDepthFromSpacing(parameters(), volume(), [this](const std::string& l) { log(l); });
  const ParameterValues v = p.values();
  const auto vol = volume();
  const auto truthNow = truth();
  const SessionInput in = input();
  TorchRuntime::configureThreads(v.threads);
  const float lo = float(v.thresholdLo), hi = float(v.thresholdHi);
  const auto channels = networkChannels(v, vol);
  const auto nets = networkInputs(p, vol);
  const auto r = roi();
  TaskContext sc = stageContext(ctx, 0.0, 0.07, "patches");
  PatchSet patches = sampleTrainingPatches(raw(channels), raw(nets), p, lo, hi, r.get(), ctx ? &sc : nullptr);
  const int depth = v.patchDepth > 0 ? v.patchDepth : patches.patchSize;
  log("sampled " + std::to_string(patches.count) + " patches of " + std::to_string(patches.patchSize) + "×" +
      std::to_string(patches.patchSize) + "×" + std::to_string(depth) + " from " +
      std::to_string(patches.candidates) + " candidates" +
      (patches.channels > 1 ? ", " + std::to_string(patches.channels) + " channels" : std::string()));
  log("training on " + computeDescription(p));
  TaskContext tc = stageContext(ctx, 0.07, 1.0, "JULE");
  JuleResult jr = trainJuleNetworks(patches, p, events, ctx ? &tc : nullptr);
  // The model carries everything that made it, so a later run (GUI or CLI) can prepare its input the same way
  // and a user can see where it came from.
  jr.model.parameters = p.toJson();
  jr.model.channelNames = networkChannelNames(v);
  jr.model.trainedOn = {{"input", in.name()}, {"dims", vol->geom.dims}, {"spacing_mm", vol->geom.spacing}};
  log("JULE: " + std::to_string(jr.epochs) + " epochs, " + std::to_string(jr.history.size()) + " periods" +
      (v.networks > 1 ? " per network, " + std::to_string(v.networks) + " networks, "
                                : std::string(", ")) +
      fmt(jr.seconds, 1) + " s");
  std::optional<double> purity;
  if (truthNow) {
    // How pure JULE's own clusters are tells whether a poor segmentation comes from the clustering of the
    // training patches or from the later k-means on the features.
    std::vector<int> centreTruth, clusterOf;
    for (int i = 0; i < patches.count; ++i) {
      const auto& c = patches.centres[std::size_t(i)];
      const int label = truthNow->labels[vol->geom.index(int(c[0]), int(c[1]), int(c[2]))];
      if (label == 0) continue;
      centreTruth.push_back(label);
      clusterOf.push_back(jr.labels[std::size_t(i)]);
    }
    if (!centreTruth.empty()) {
      purity = nmi(centreTruth, clusterOf);
      log("JULE's " + std::to_string(v.clusters) + " clusters of the training patches: NMI " + fmt(*purity) +
          " against the truth at their centres");
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  s_->model = std::make_shared<const JuleModel>(jr.model);
  s_->modelPath.clear();
  s_->dropFeatures();
  if (purity) s_->scores["jule_training_clusters"] = *purity;
  else s_->scores.erase("jule_training_clusters");
  s_->timings["train_s"] = since(t0);
  return jr;
}

std::vector<std::string> SegmentationSession::loadModel(const std::string& path) {
  auto model = std::make_shared<const JuleModel>(ModelFile::load(path));
  Parameters p = parameters();
  std::vector<std::string> changes;
  if (model->parameters.is_object()) {
    const json before = p.toJson();
    for (auto it = model->parameters.begin(); it != model->parameters.end(); ++it) {
      if (segmentationTimeParameters().count(it.key())) continue;
      try {
        p.set(it.key(), it.value());
      } catch (const InputError&) {
        continue;  // a parameter this version does not know: the model still works
      }
      if (before.contains(it.key()) && before[it.key()] != it.value())
        changes.push_back(it.key() + " = " + it.value().dump() + " from the model (was " + before[it.key()].dump() + ")");
    }
  }
  p.set("networks", int(model->networks().size()));  // what run.json and the project record
  if (volume()) {
    const auto names = networkChannelNames(p.values());  // the model's own network_channels is in p now
    if (int(names.size()) != model->channels()) {
      std::string modelNames, given;
      for (const auto& n : model->inputNames()) modelNames += (modelNames.empty() ? "" : ", ") + n;
      for (const auto& n : names) given += (given.empty() ? "" : ", ") + n;
      throw InputError("the model " + path + " was trained on " + std::to_string(model->channels()) + " channel" +
                       (model->channels() == 1 ? "" : "s") + " (" + modelNames + ") but " + std::to_string(names.size()) +
                       (names.size() == 1 ? " volume was" : " volumes were") + " given (" + given + ")");
    }
  }
  // The model's patch size may exceed the user's stride bound etc.: validate the combination now, not mid-run.
  p.validate();
  log("model " + path + " (" + model->spec.name + ", " + std::to_string(model->networks().size()) +
      (model->networks().size() == 1 ? " network" : " networks") + ", trained on " + model->device +
      (model->trainedOn.contains("input") ? ", from " + model->trainedOn["input"].get<std::string>() : std::string()) +
      ")");
  for (const auto& c : changes) log(c);
  std::lock_guard<std::mutex> lock(mutex_);
  s_->params = p;
  s_->model = std::move(model);
  s_->modelPath = path;
  s_->dropFeatures();
  s_->scores.erase("jule_training_clusters");
  return changes;
}

std::vector<std::string> SegmentationSession::saveModel(const std::string& path) {
  auto m = model();
  if (!m) throw InputError("no model to save: train or load one first");
  ModelFile::save(*m, path);
  std::vector<std::string> files{path, ModelFile::jsonPathFor(path)};
  for (std::size_t i = 0; i < m->moreNetworks.size(); ++i) files.push_back(ModelFile::memberPathFor(path, int(i) + 2));
  std::lock_guard<std::mutex> lock(mutex_);
  if (s_->model == m) s_->modelPath = path;
  return files;
}

std::shared_ptr<const JuleModel> SegmentationSession::model() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_->model;
}

std::string SegmentationSession::modelPath() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_->modelPath;
}

// ---------------------------------------------------------------- features

void SegmentationSession::extractFeatures(const TaskContext* ctx) {
  windowVoxels();
  const auto t0 = Clock::now();
  const Parameters p = withPatchDepthFromSpacing(parameters(), volume(), [this](const std::string& l) { log(l); });
  const ParameterValues v = p.values();
  const auto vol = volume();
  const auto m = model();
  if (!m) throw InputError("no model: train one or load one first");
  TorchRuntime::configureThreads(v.threads);
  const int stride = v.stride;
  const float lo = float(v.thresholdLo), hi = float(v.thresholdHi);
  const Precision precision = ComputePrecision::resolve(v.precision);
  ModelFeatures extractor(*m, v.threads, precision);
  const auto r = roi();
  auto grid = std::make_shared<FeatureGrid>(extractor.layout(*vol, stride, lo, hi, r));  // window on real intensities
  FeaturePlan plan = extractor.plan(*grid);
  const FeatureSmoothing smoothing(v.featureSmoothing, v.threads);
  plan.memory.workingBytes = std::max(plan.memory.workingBytes, smoothing.workingBytes(*grid));
  plan.memory.require("features at stride " + std::to_string(stride),
                      "use a larger stride (--stride " + std::to_string(std::min(stride * 2, v.patchSize)) +
                          ") or a smaller region");
  log("features: " + std::to_string(grid->count()) + " grid points at stride " + std::to_string(stride) + " (" +
      ComputePrecision::name(precision) + "), " + plan.memory.describe());
  const auto nets = networkInputs(withModelChannels(p, m.get()), vol);
  TaskContext fc = stageContext(ctx, 0.0, 0.85, "");
  extractor.compute(*grid, raw(nets), ctx ? &fc : nullptr);
  // Before the grid is finished in place: each network's own block, finished and clustered alone.
  TaskContext ac = stageContext(ctx, 0.85, 0.95, "");
  const auto more = moreChannels();
  std::vector<const Volume*> channels{vol.get()};
  for (const auto& c : more) channels.push_back(c.get());
  const NetworkAgreementResult agreement =
      NetworkAgreement().measure(*grid, int(m->networks().size()), channels, p, v.k, ctx ? &ac : nullptr);
  if (v.featureWhitening > 0)
    log("feature whitening to " + std::to_string(std::min(v.featureWhitening, grid->dim)) + " principal components");
  if (v.featureSmoothing > 0)
    log("feature smoothing over " + std::to_string(v.featureSmoothing) + " voxels (" +
        std::to_string(smoothing.latticeRadius(stride)) + " grid steps)");
  TaskContext sc = stageContext(ctx, 0.95, 1.0, "");
  finishFeatures(*grid, channels, p, ctx ? &sc : nullptr);
  if (agreement.networks > 1) log(describeAgreement(agreement));  // after the finishing it repeats per network
  std::lock_guard<std::mutex> lock(mutex_);
  if (s_->volume != vol || s_->model != m) throw CancelledError();  // superseded while it ran
  s_->dropFeatures();
  s_->grid = std::move(grid);
  s_->featureMode = plan.mode;
  s_->agreement = agreement;
  s_->timings["features_s"] = since(t0);
}

std::shared_ptr<const FeatureGrid> SegmentationSession::features() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_->grid;
}

NetworkAgreementResult SegmentationSession::networkAgreement() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_->agreement;
}

// ---------------------------------------------------------------- K

std::shared_ptr<const KSweepResult> SegmentationSession::sweepK(int kMin, int kMax, const TaskContext* ctx) {
  const auto grid = features();
  if (!grid) throw InputError("no features: extract them first");
  if (kMin < 2 || kMax < kMin || kMax > 64) throw InputError("K sweep range must be a:b with 2 <= a <= b <= 64");
  const auto t0 = Clock::now();
  const Parameters p = parameters();
  KSweepOptions ko;
  ko.kMin = kMin;
  ko.kMax = int(std::min<std::size_t>(std::size_t(kMax), grid->count()));
  ko.kmeans = kmeansOptions(p, kMin);
  auto sweep = std::make_shared<const KSweepResult>(kSweep(grid->features.data(), grid->count(), grid->dim, ko, ctx));
  log("K sweep:   K   inertia        silhouette");
  for (const auto& e : sweep->entries) {
    std::ostringstream o;
    o << "          " << std::setw(2) << e.k << "  " << std::setw(13) << fmt(e.inertia, 2) << "  " << fmt(e.silhouette, 4);
    log(o.str());
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (s_->grid != grid) throw CancelledError();
  s_->sweep = sweep;
  s_->timings["k_sweep_s"] = since(t0);
  return sweep;
}

std::shared_ptr<const KSweepResult> SegmentationSession::sweep() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_->sweep;
}

LabelVolume SegmentationSession::previewK(int k, const std::array<int64_t, 3>& cursor, const TaskContext* ctx) {
  std::shared_ptr<const FeatureGrid> grid;
  std::shared_ptr<const Volume> vol;
  std::vector<float> centroids;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    grid = s_->grid;
    vol = s_->volume;
    if (s_->sweep)
      for (const auto& e : s_->sweep->entries)
        if (e.k == k) centroids = e.centroids;
    if (centroids.empty() && s_->extraCentroids.count(k)) centroids = s_->extraCentroids[k];
  }
  if (!grid || !vol) throw InputError("no features: extract them first");
  if (centroids.empty()) {
    // A K outside the sweep: fitted once on a sample, as the sweep fits its K, then kept for the next preview.
    KSweepOptions ko;
    ko.kMin = ko.kMax = k;
    ko.silhouetteSample = 2;
    ko.kmeans = kmeansOptions(parameters(), k);
    centroids = kSweep(grid->features.data(), grid->count(), grid->dim, ko, ctx).entries.at(0).centroids;
    std::lock_guard<std::mutex> lock(mutex_);
    if (s_->grid == grid) s_->extraCentroids[k] = centroids;
  }
  // Only grid points whose block touches one of the three visible slices.
  FeatureGrid sub = *grid;
  sub.centres.clear();
  sub.lattice.clear();
  sub.features.clear();
  for (std::size_t i = 0; i < grid->count(); ++i) {
    bool touches = false;
    for (int a = 0; a < 3 && !touches; ++a) {
      const int64_t b0 = grid->centres[i][a] - grid->stride[a] / 2;
      touches = cursor[a] >= b0 && cursor[a] < b0 + grid->stride[a];
    }
    if (!touches) continue;
    sub.centres.push_back(grid->centres[i]);
    sub.lattice.push_back(grid->lattice[i]);
    sub.features.insert(sub.features.end(), grid->row(i), grid->row(i) + grid->dim);
  }
  checkCancel(ctx);
  std::vector<int32_t> clusters(sub.count());
  if (sub.count() > 0) KMeans::assign(sub.features.data(), sub.count(), sub.dim, centroids.data(), k, clusters.data());
  return LabelProjector().project(sub, clusters.data(), k, *vol, ctx).labels;
}

std::shared_ptr<const LabelVolume> SegmentationSession::paint(int k, const TaskContext* ctx) {
  const auto grid = features();
  const auto vol = volume();
  if (!grid || !vol) throw InputError("no features: extract them first");
  if (k < 2 || k > 64) throw InputError("K = " + std::to_string(k) + " is out of range [2, 64]");
  requireLevelsFor(k);
  const auto t0 = Clock::now();
  const Parameters p = parameters();
  TaskContext kc = stageContext(ctx, 0.0, 0.6, "k-means");
  PottsResult potts;
  KMeansResult km = clusterGrid(*grid, k, p, ctx ? &kc : nullptr, &potts);
  if (p.values().pottsWeight > 0)
    log("label smoothing (Potts weight " + fmt(p.values().pottsWeight, 2) + "): " + std::to_string(potts.changed) +
        " of " + std::to_string(grid->count()) + " grid points changed label in " + std::to_string(potts.sweeps) +
        " sweeps");
  TaskContext pc = stageContext(ctx, 0.6, 1.0, "painting");
  auto labels = std::make_shared<const LabelVolume>(paintClusters(*grid, km.labels, k, *vol, ctx ? &pc : nullptr));
  std::lock_guard<std::mutex> lock(mutex_);
  if (s_->grid != grid) throw CancelledError();
  s_->dropLabels();
  s_->labels = labels;
  s_->k = k;
  s_->params.set("k", k);
  s_->timings["kmeans_s"] = since(t0);
  return labels;
}

std::shared_ptr<const LabelVolume> SegmentationSession::labels() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_->labels;
}

int SegmentationSession::labelsK() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_->k;
}

// ---------------------------------------------------------------- scores

std::optional<double> SegmentationSession::labelsNmi() const {
  const auto l = labels();
  const auto t = truth();
  if (!l || !t) return std::nullopt;
  EvaluationRegion region;
  const auto r = roi();
  region.mask = r.get();
  return scoreSegmentation(*l, *t, region).nmi;
}

std::vector<MethodScore> SegmentationSession::score(bool untrained, const TaskContext* ctx) {
  const auto l = labels();
  const auto t = truth();
  if (!t) throw InputError("no ground truth to score against");
  if (!l) throw InputError("no labels to score: paint them first");
  const auto t0 = Clock::now();
  const Parameters p = parameters();
  const ParameterValues v = p.values();
  const auto vol = volume();
  EvaluationInputs in;
  in.volume = vol.get();
  const auto m = model();
  const auto nets = networkInputs(withModelChannels(p, m.get()), vol);
  in.networkInputs = raw(nets);
  const auto more = moreChannels();
  in.moreChannels = raw(more);
  in.channelNames = channelNames();
  in.truth = t.get();
  const auto grid = features();
  in.layout = grid.get();
  in.model = untrained ? m.get() : nullptr;
  in.params = p;
  const auto r = roi();
  in.roi = r.get();
  in.k = labelsK();
  const auto w = window();
  in.lo = w[0];
  in.hi = w[1];
  EvaluationRegion region;
  region.mask = r.get();
  std::vector<MethodScore> scores{{"jule", scoreSegmentation(*l, *t, region).nmi}};
  for (auto& s : runEvaluationBattery(in, ctx)) scores.push_back(std::move(s));
  log("NMI (K = " + std::to_string(in.k) + ", stride " + std::to_string(v.stride) + ", voxels with truth > 0):");
  for (const auto& s : scores) {
    std::ostringstream o;
    o << "  " << std::left << std::setw(27) << s.method << fmt(s.nmi);
    log(o.str());
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& s : scores) s_->scores[s.method] = s.nmi;
  s_->timings["scores_s"] = since(t0);
  return scores;
}

// ---------------------------------------------------------------- outputs

void SegmentationSession::requireLevelsFor(int k) const {
  requireVolume();
  // With several channels, voxels of one level in the first may still differ in the others.
  if (!moreChannels().empty()) return;
  const auto w = window();
  const auto r = roi();
  requireDistinctLevels(*volume(), w[0], w[1], r.get(), k);
}

std::string SegmentationSession::requireMemoryPlan(bool train, int kMax) const {
  requireVolume();
  const Parameters p = withPatchDepthFromSpacing(parameters(), volume(), [](const std::string&) {});
  const auto vol = volume();
  const auto more = moreChannels();
  std::vector<const Volume*> channels{vol.get()};
  for (const auto& c : more) channels.push_back(c.get());
  const auto r = roi();
  return RunMemoryPlan::require(p, channels, r.get(), train, kMax).describe();
}

namespace {
// A test hook: JULESEG_TEST_PAUSE_BETWEEN_WRITES_MS makes the output writer wait between files (still
// cancellable), so that a test can interrupt a rerun while it writes.
void pauseBetweenWrites(const TaskContext* ctx) {
  static const long ms = [] {
    const char* e = std::getenv("JULESEG_TEST_PAUSE_BETWEEN_WRITES_MS");
    return e ? std::strtol(e, nullptr, 10) : 0L;
  }();
  for (long waited = 0; waited < ms; waited += 10) {
    checkCancel(ctx);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  checkCancel(ctx);
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
} // namespace

void SegmentationSession::saveLabels(const std::string& path, const std::vector<LabelInfo>& table,
                                     const TaskContext* ctx) {
  const auto l = labels();
  if (!l) throw InputError("no labels to save: paint them first");
  std::string lower = path;
  for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  const bool tiff = endsWith(lower, ".tif") || endsWith(lower, ".tiff");
  const bool nrrd = endsWith(lower, ".nrrd"), dicom = endsWith(lower, ".dcm");
  const bool nifti = endsWith(lower, ".nii") || endsWith(lower, ".nii.gz");
  if (!tiff && !nrrd && !dicom && !nifti)
    throw InputError("cannot tell the format of '" + path + "': use .nii, .nii.gz, .tif, .tiff, .seg.nrrd or .dcm");
  const SessionInput in = input();
  if (dicom && (in.demo || detectVolumeFormat(in.path) != VolumeFormat::Dicom))
    throw InputError("a DICOM Segmentation needs a volume read from a DICOM series; save as NIfTI or .seg.nrrd");
  // The labels and their table form one result: both are written under temporary names, then renamed; a
  // failure between the renames takes the first back out.
  const std::string tablePath = path + ".labels.json";
  AtomicFile labelsFile(path), tableFile(tablePath);
  // The writers choose compression by the name's ending, so the labels go to a temporary name that keeps it;
  // each writer itself writes atomically.
  const std::string labelsTemp =
      labelsFile.tempPath() + (endsWith(lower, ".gz") ? ".nii.gz" : tiff ? ".tif" : nrrd ? ".nrrd" : dicom ? ".dcm" : ".nii");
  struct RemoveOnExit {
    std::string path;
    ~RemoveOnExit() {
      std::error_code ec;
      fs::remove(path, ec);
    }
  } labelsTempGuard{labelsTemp};
  if (tiff) writeTiffLabels(*l, labelsTemp, table);  // with the colours as an ImageJ LUT
  else if (nrrd) writeSlicerSegmentation(*l, table, labelsTemp);
  else if (dicom) writeDicomSegmentation(*l, table, DicomSeriesReader::readSource(in.path, in.read), labelsTemp);
  else NiftiIO::writeLabels(*l, labelsTemp);
  if (::rename(labelsTemp.c_str(), labelsFile.tempPath().c_str()) != 0)
    throw WriteError(writeFailure(path, errno));
  checkCancel(ctx);
  writeLabelTableJson(table, tableFile.tempPath());
  checkCancel(ctx);
  if (nifti) {
    // ITK-SNAP reads names and colours from its own label description file beside the NIfTI. It describes the
    // table, so it may land before the labels do.
    const std::string stem = path.substr(0, path.size() - (endsWith(lower, ".nii.gz") ? 7 : 4));
    writeItkSnapLabelFile(table, stem + ".itksnap.txt");
  }
  std::error_code ec;
  std::string previous;  // an earlier labels file, kept until the table is in place
  if (fs::exists(path, ec)) {
    previous = path + ".previous-" + std::to_string(::getpid());
    fs::rename(path, previous, ec);
    if (ec) previous.clear();
  }
  try {
    labelsFile.commit();
    tableFile.commit();
  } catch (...) {
    if (!previous.empty()) fs::rename(previous, path, ec);
    else fs::remove(path, ec);
    throw;
  }
  if (!previous.empty()) fs::remove(previous, ec);
}

std::vector<std::string> SegmentationSession::writeOutputs(const OutputOptions& options, const TaskContext* ctx) {
  const auto l = labels();
  const auto vol = volume();
  if (!l || !vol) throw InputError("no labels to write: paint them first");
  if (options.folder.empty()) throw InputError("no output folder given (-o DIR)");
  if (options.saveModel && !model()) throw InputError("no model to save: train or load one first");
  OutputFolderTransaction tx(options.folder);  // where the files are written until the commit
  fs::path out = fs::path(options.folder).lexically_normal();  // where the files will be, as the user wrote it
  if (out.filename().empty()) out = out.parent_path();
  try {
    return writeOutputFiles(options, tx, out, ctx);
  } catch (const WriteError& e) {
    // The writers name the staging folder; the user knows the folder they asked for.
    std::string msg = e.what();
    for (std::size_t at; (at = msg.find(tx.staging())) != std::string::npos;)
      msg.replace(at, tx.staging().size(), out.string());
    throw WriteError(msg);
  }
}

std::vector<std::string> SegmentationSession::writeOutputFiles(const OutputOptions& options,
                                                               OutputFolderTransaction& tx, const fs::path& out,
                                                               const TaskContext* ctx) {
  const auto l = labels();
  const auto vol = volume();
  const auto m = model();
  const auto t0 = Clock::now();
  const Parameters p = parameters();
  const ParameterValues v = p.values();
  const SessionInput in = input();
  const int k = labelsK();
  const fs::path stage(tx.staging());

  std::vector<std::string> written;
  auto wrote = [&](const std::string& name) { written.push_back((out / name).string()); };
  std::string modelFile = modelPath();
  bool modelInFolder = false;
  if (options.saveModel) {
    ModelFile::save(*m, (stage / "model.pt").string());
    modelFile = (out / "model.pt").string();
    modelInFolder = true;
  } else if (!modelFile.empty() && fs::absolute(modelFile).parent_path().lexically_normal() ==
                                        fs::absolute(out).lexically_normal()) {
    // The model of the earlier result in this folder (a project's rerun): it stays part of the result.
    const fs::path src(modelFile);
    std::vector<fs::path> files{src, fs::path(ModelFile::jsonPathFor(modelFile))};
    for (std::size_t i = 0; m && i < m->moreNetworks.size(); ++i)
      files.emplace_back(ModelFile::memberPathFor(modelFile, int(i) + 2));
    for (const auto& f : files) {
      // A hard link shares the bytes (the earlier folder is replaced, its files are never changed in place).
      std::error_code ec;
      fs::create_hard_link(f, stage / f.filename(), ec);
      if (ec) fs::copy_file(f, stage / f.filename(), ec);
      if (ec) throw WriteError("cannot write " + (out / f.filename()).string() + ": " + ec.message());
    }
    modelInFolder = true;
  }
  if (modelInFolder) {
    written.push_back(modelFile);
    for (std::size_t i = 0; m && i < m->moreNetworks.size(); ++i)
      written.push_back(ModelFile::memberPathFor(modelFile, int(i) + 2));
  }
  pauseBetweenWrites(ctx);
  const auto table = defaultLabelTable(k);
  NiftiIO::writeLabels(*l, (stage / "labels.nii.gz").string());
  wrote("labels.nii.gz");
  pauseBetweenWrites(ctx);
  writeTiffLabels(*l, (stage / "labels.tif").string(), table);  // with the colours as an ImageJ LUT, for Fiji
  wrote("labels.tif");
  pauseBetweenWrites(ctx);
  writeLabelTableJson(table, (stage / "label_table.json").string());
  wrote("label_table.json");
  // Names and colours other tools read (issue 17): ITK-SNAP, 3D Slicer, DICOM viewers.
  writeItkSnapLabelFile(table, (stage / "labels.itksnap.txt").string());
  wrote("labels.itksnap.txt");
  writeSlicerSegmentation(*l, table, (stage / "labels.seg.nrrd").string());
  wrote("labels.seg.nrrd");
  writeSlicerColorTable(table, (stage / "labels.ctbl").string());
  wrote("labels.ctbl");
  if (!in.demo && detectVolumeFormat(in.path) == VolumeFormat::Dicom) {  // on the source series
    writeDicomSegmentation(*l, table, DicomSeriesReader::readSource(in.path, in.read), (stage / "labels.dcm").string());
    wrote("labels.dcm");
  }
  pauseBetweenWrites(ctx);
  writeStatisticsCsv(computeLabelStatistics(*vol, *l), table, (stage / "statistics.csv").string());
  wrote("statistics.csv");
  pauseBetweenWrites(ctx);
  if (options.overlays) {
    OverlayStyle style;
    const auto& d = vol->geom.dims;
    writeOverlayPng(*vol, *l, table, SliceAxis::Z, d[2] / 2, style, (stage / "overlay_axial_mid.png").string());
    writeOverlayPng(*vol, *l, table, SliceAxis::Y, d[1] / 2, style, (stage / "overlay_coronal_mid.png").string());
    writeOverlayPng(*vol, *l, table, SliceAxis::X, d[0] / 2, style, (stage / "overlay_sagittal_mid.png").string());
    wrote("overlay_axial_mid.png");
    int n = writeOverlayPngs(*vol, *l, table, SliceAxis::Z, style, (stage / "overlays").string(), "axial", ctx);
    log("overlays: " + std::to_string(n) + " axial PNGs in " + (out / "overlays").string());
    pauseBetweenWrites(ctx);
  }

  // The project beside the outputs reruns this exactly: `juleseg-cli run --project OUTDIR/project.juleseg`.
  Project project;
  project.demo = in.demo;
  if (!in.demo) {
    project.inputPath = fs::absolute(in.path).string();
    project.inputSha256 = sha256OfPath(in.path);
  }
  project.read = in.read;
  if (!in.maskPath.empty()) project.maskPath = fs::absolute(in.maskPath).string();
  for (const auto& c : in.channelPaths) project.channelPaths.push_back(fs::absolute(c).string());
  project.parameters = p;
  project.parameters.set("k", k);

  project.k = k;
  project.labels = table;
  project.modelFile = modelInFolder ? fs::path(modelFile).filename().string()
                                    : (modelFile.empty() ? std::string() : fs::absolute(modelFile).string());
  project.labelFile = "labels.nii.gz";
  project.versions = {{"juleseg", JULESEG_VERSION}, {"torch", TorchRuntime::torchVersion()}};
  project.save((stage / "project.juleseg").string());
  wrote("project.juleseg");
  pauseBetweenWrites(ctx);

  json run;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    s_->timings["write_s"] = since(t0);
    run["juleseg_version"] = JULESEG_VERSION;
    run["torch_version"] = TorchRuntime::torchVersion();
    run["device"] = s_->model ? s_->model->device : "cpu";
    run["input"] = in.name();
    if (!in.maskPath.empty()) run["mask"] = in.maskPath;
    run["channels"] = s_->channelNames;
    run["dims"] = vol->geom.dims;
    run["spacing_mm"] = vol->geom.spacing;
    run["threshold"] = {v.thresholdLo, v.thresholdHi};
    run["parameters"] = p.toJson();
    run["seed"] = v.seed;
    run["model"] = modelFile;
    if (s_->model && !s_->model->trainedOn.empty()) run["model_trained_on"] = s_->model->trainedOn;
    run["k"] = k;
    run["grid_points"] = s_->grid ? s_->grid->count() : 0;
    run["feature_mode"] = s_->featureMode == FeatureMode::Dense ? "dense" : "per-patch";
    json sweepJson = json::array();
    if (s_->sweep)
      for (const auto& e : s_->sweep->entries)
        sweepJson.push_back({{"k", e.k}, {"inertia", e.inertia}, {"silhouette", e.silhouette}, {"seconds", e.seconds}});
    run["k_sweep"] = sweepJson;
    if (s_->agreement.networks > 1)
      run["network_agreement"] = {{"k", s_->agreement.k},          {"mean_nmi", s_->agreement.mean},
                                  {"pairs", s_->agreement.pairs},  {"points", s_->agreement.points},
                                  {"thinning", s_->agreement.thinning}, {"seconds", s_->agreement.seconds}};
    run["nmi"] = s_->scores;
    if (!s_->truthPath.empty()) run["truth"] = s_->truthPath;
    run["timings"] = s_->timings;
    run["timings"]["total_s"] = since(s_->opened);
  }
  run["outputs"] = written;
  writeFileAtomically((stage / "run.json").string(), run.dump(2) + "\n");
  written.push_back((out / "run.json").string());
  checkCancel(ctx);  // the last moment a cancel still keeps the earlier result
  tx.commit();
  if (options.saveModel) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (s_->model == m) s_->modelPath = modelFile;
  }
  return written;
}

// ---------------------------------------------------------------- project

std::vector<std::string> SegmentationSession::saveProject(const std::string& path,
                                                          std::shared_ptr<const LabelVolume> labelsToSave,
                                                          const std::vector<LabelInfo>& table, const json& view,
                                                          const TaskContext* ctx) {
  requireVolume();
  const fs::path file = fs::absolute(path);
  const fs::path folder = file.parent_path();
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (!fs::is_directory(folder)) throw InputError("cannot create the folder " + folder.string() + ": " + ec.message());
  std::string stem = file.filename().string();
  if (stem.size() > 8 && stem.substr(stem.size() - 8) == ".juleseg") stem.resize(stem.size() - 8);
  const SessionInput in = input();
  if (!labelsToSave) labelsToSave = labels();

  Project project;
  project.demo = in.demo;
  if (!in.demo) {
    project.inputPath = fs::absolute(in.path).string();
    reportProgress(ctx, -1, "hashing the input");
    project.inputSha256 = sha256OfPath(in.path);
  }
  project.read = in.read;
  if (!in.maskPath.empty()) project.maskPath = fs::absolute(in.maskPath).string();
  for (const auto& c : in.channelPaths) project.channelPaths.push_back(fs::absolute(c).string());
  project.parameters = parameters();
  project.k = labelsToSave ? std::max(1, int(labelsToSave->maxLabel())) : project.parameters.getInt("k");
  project.labels = table;
  project.view = view;
  project.versions = {{"juleseg", JULESEG_VERSION}, {"torch", TorchRuntime::torchVersion()}};

  std::vector<std::string> written;
  if (model()) {
    reportProgress(ctx, -1, "saving the model");
    for (const auto& f : saveModel((folder / (stem + ".model.pt")).string())) written.push_back(f);
    project.modelFile = stem + ".model.pt";
  }
  if (labelsToSave) {
    reportProgress(ctx, -1, "saving the labels");
    NiftiIO::writeLabels(*labelsToSave, (folder / (stem + ".labels.nii.gz")).string());
    written.push_back((folder / (stem + ".labels.nii.gz")).string());
    project.labelFile = stem + ".labels.nii.gz";
  }
  project.save(file.string());
  written.push_back(file.string());
  log("project: " + file.string());
  return written;
}

OpenedProject SegmentationSession::openProject(const std::string& path, const TaskContext* ctx) {
  const Project project = Project::load(path);
  OpenedProject opened;
  opened.table = project.labels;
  opened.view = project.view;
  if (project.demo) {
    setParameters(project.parameters);
    openDemo();
  } else {
    openVolume(project.inputPath, project.read, ctx);
    opened.inputChanged = !project.inputUnchanged();
  }
  if (!project.maskPath.empty()) loadMask(project.maskPath, ctx);
  for (const auto& c : project.channelPaths) addChannel(c, ctx);
  setParameters(project.parameters);
  if (!project.modelFile.empty()) loadModel(Project::resolve(path, project.modelFile));
  if (!project.labelFile.empty()) {
    auto labels = std::make_shared<LabelVolume>(NiftiIO::readLabels(Project::resolve(path, project.labelFile)));
    const auto vol = volume();
    if (!labels->geom.sameGrid(vol->geom))
      throw InputError("the project's labels " + project.labelFile + " do not lie on the volume's grid");
    std::lock_guard<std::mutex> lock(mutex_);
    s_->labels = std::move(labels);
    s_->k = project.k;
  }
  log("project opened: " + path);
  return opened;
}

} // namespace jseg
