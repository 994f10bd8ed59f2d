#include "core/pipeline/SegmentationPipeline.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "core/base/Errors.h"
#include "core/baselines/IntensityBaselines.h"
#include "core/demo/Phantom.h"
#include "core/eval/Nmi.h"
#include "core/io/AtomicFile.h"
#include "core/io/LabelOutputs.h"
#include "core/io/NiftiIO.h"
#include "core/io/TiffStackReader.h"
#include "core/io/VolumeReader.h"
#include "core/jule/ModelFile.h"
#include "core/jule/PatchSampler.h"
#include "core/jule/TorchRuntime.h"
#include "core/project/Project.h"
#include "core/project/Sha256.h"
#include "core/segment/DenseFeatureExtractor.h"
#include "core/segment/FeatureSmoothing.h"
#include "core/segment/KMeans.h"
#include "core/segment/KSweep.h"
#include "core/segment/LabelProjector.h"
#include "core/segment/ModelFeatures.h"

namespace jseg {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Maps a stage's own progress [0,1] onto [from, to] of the whole run.
TaskContext stageContext(const TaskContext* parent, double from, double to, const std::string& stage) {
  TaskContext c;
  if (!parent) return c;
  c.cancel = parent->cancel;
  ProgressFn up = parent->progress;
  if (up)
    c.progress = [up, from, to, stage](double f, const std::string& m) {
      up(f < 0 ? -1 : from + (to - from) * std::clamp(f, 0.0, 1.0), stage + ": " + m);
    };
  return c;
}

} // namespace

void finishFeatures(FeatureGrid& grid, const Volume& vol, const Parameters& params, const TaskContext* ctx) {
  FeatureSmoothing(params.getInt("feature_smoothing"), params.getInt("threads")).apply(grid, ctx);
  if (params.getBool("feature_intensity")) grid.appendIntensityColumn(vol, params.getDouble("intensity_weight"));
}

FeatureGrid blockMeanGrid(const Volume& vol, const FeatureGrid& layout) {
  FeatureGrid g = layout;
  g.dim = 1;
  g.hasIntensityColumn = false;
  g.features.assign(g.count(), 0.f);
  for (std::size_t i = 0; i < g.count(); ++i) {
    double sum = 0;
    int64_t n = 0;
    g.forEachBlockVoxel(i, [&](int64_t x, int64_t y, int64_t z) {
      const float v = vol.at(x, y, z);
      if (v < g.lo || v > g.hi) return;
      sum += v;
      ++n;
    });
    const auto& c = g.centres[i];
    g.features[i] = static_cast<float>(n ? sum / double(n) : vol.at(c[0], c[1], c[2]));
  }
  return g;
}

namespace {

// k-means on the grid features with parameter-driven options; labels per grid point.
KMeansResult clusterGrid(const FeatureGrid& grid, int k, const Parameters& p, const TaskContext* ctx) {
  KMeansOptions o;
  o.k = k;
  o.restarts = p.getInt("kmeans_restarts");
  o.maxIterations = p.getInt("kmeans_max_iter");
  o.seed = static_cast<uint64_t>(p.getInt("seed"));
  o.threads = p.getInt("threads");
  if (grid.count() < static_cast<std::size_t>(k))
    throw InputError("only " + std::to_string(grid.count()) + " grid points lie in the threshold window, fewer than K = " +
                     std::to_string(k) + "; lower the stride or widen the threshold");
  return KMeans(o).fit(grid.features.data(), grid.count(), grid.dim, ctx);
}

LabelVolume paintGridKMeans(const FeatureGrid& g, const Volume& vol, int k, const Parameters& p, bool fill,
                            const TaskContext* ctx) {
  KMeansResult r = clusterGrid(g, k, p, ctx);
  ProjectionOptions po;
  po.fillUncovered = fill;
  return LabelProjector(po).project(g, r.labels.data(), k, vol, ctx).labels;
}

// The fair baseline for strided labels (data README): k-means on the mean intensity of each grid point's
// stride-sized block, painted with the same projector as JULE.
LabelVolume blockMeanKMeans(const Volume& vol, const FeatureGrid& layout, int k, const Parameters& p,
                            bool fill, const TaskContext* ctx) {
  return paintGridKMeans(blockMeanGrid(vol, layout), vol, k, p, fill, ctx);
}

// The fair baseline for feature_smoothing: the same block-mean intensities, smoothed exactly as the features
// are, so a gain of JULE over it is the features' doing, not the smoothing's.
LabelVolume smoothedIntensityKMeans(const Volume& vol, const FeatureGrid& layout, int k, const Parameters& p,
                                    const TaskContext* ctx) {
  FeatureGrid g = blockMeanGrid(vol, layout);
  FeatureSmoothing(p.getInt("feature_smoothing"), p.getInt("threads")).apply(g, ctx);
  return paintGridKMeans(g, vol, k, p, true, ctx);
}

std::string fmt(double v, int precision = 4) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(precision) << v;
  return o.str();
}

} // namespace

// Multi-source breadth-first search from every voxel in the window over the 6-neighbourhood: each outside
// voxel takes the value of the inside voxel its wave came from (nearest in the city-block metric), so a patch
// at the specimen's edge sees its own tissue continued instead of a step to a constant of no tissue.
Volume fillOutsideWindowNearest(const Volume& vol, float lo, float hi) {
  Volume filled = vol;
  const auto& d = vol.geom.dims;
  const std::size_t n = vol.voxels.size();
  std::vector<uint8_t> done(n, 0);
  std::vector<std::size_t> frontier, next;
  for (std::size_t i = 0; i < n; ++i)
    if (vol.voxels[i] >= lo && vol.voxels[i] <= hi) {
      done[i] = 1;
      frontier.push_back(i);
    }
  if (frontier.empty()) return filled;
  const int64_t nx = d[0], ny = d[1], nz = d[2];
  while (!frontier.empty()) {
    next.clear();
    for (std::size_t i : frontier) {
      const int64_t x = int64_t(i % std::size_t(nx)), y = int64_t((i / std::size_t(nx)) % std::size_t(ny)),
                    z = int64_t(i / (std::size_t(nx) * std::size_t(ny)));
      static const int64_t step[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
      for (const auto& st : step) {
        const int64_t X = x + st[0], Y = y + st[1], Z = z + st[2];
        if (X < 0 || Y < 0 || Z < 0 || X >= nx || Y >= ny || Z >= nz) continue;
        const std::size_t j = std::size_t((Z * ny + Y) * nx + X);
        if (done[j]) continue;
        done[j] = 1;
        filled.voxels[j] = filled.voxels[i];
        next.push_back(j);
      }
    }
    frontier.swap(next);
  }
  return filled;
}

Volume fillOutsideWindow(const Volume& vol, float lo, float hi, const std::string& rule) {
  if (rule == "nearest") return fillOutsideWindowNearest(vol, lo, hi);
  Volume filled = vol;
  double sum = 0;
  std::size_t n = 0;
  for (float v : vol.voxels)
    if (v >= lo && v <= hi) sum += v, ++n;
  const float fill = n ? static_cast<float>(sum / double(n)) : 0.f;
  for (auto& v : filled.voxels)
    if (!(v >= lo && v <= hi)) v = fill;
  return filled;
}

PatchSet sampleTrainingPatches(const Volume& vol, const Volume& net, const Parameters& params, float lo, float hi,
                               const TaskContext* ctx) {
  PatchSamplerOptions so;
  so.patchSize = params.getInt("patch_size");
  so.count = params.getInt("patches");
  so.lo = lo;
  so.hi = hi;
  so.seed = static_cast<uint64_t>(params.getInt("seed"));
  so.standardize = params.getBool("standardize_patches");
  PatchSet patches = PatchSampler::sample(vol, so, ctx);  // centres chosen on the real intensities
  if (&net != &vol) {
    // Same centres, patches cut from the filled volume, standardised again.
    for (int i = 0; i < patches.count; ++i)
      PatchSampler::extract(net, patches.centres[i], so.patchSize,
                            patches.data.data() + std::size_t(i) * patches.patchVoxels());
    if (so.standardize) {
      auto ms = PatchSampler::meanStd(patches.data);
      PatchSampler::standardizeInPlace(patches.data, ms[0], ms[1]);
      patches.mean = ms[0];
      patches.std = ms[1];
    }
  }
  return patches;
}

JuleResult trainJuleNetworks(const PatchSet& patches, const Parameters& params, const JuleEventSink& events,
                             const TaskContext* ctx) {
  const int count = params.getInt("networks");
  JuleResult first;
  for (int m = 0; m < count; ++m) {
    JuleOptions o = JuleOptions::fromParameters(params);
    o.seed += uint64_t(m);
    TaskContext c = stageContext(ctx, double(m) / count, double(m + 1) / count,
                                 "network " + std::to_string(m + 1) + "/" + std::to_string(count));
    if (count > 1 && events) events(NetworkStartEvent{m + 1, count});
    JuleTrainer trainer(o, events);
    JuleResult r = trainer.run(patches, count > 1 && ctx ? &c : ctx);
    if (m == 0) {
      first = std::move(r);
      continue;
    }
    first.model.moreNetworks.push_back(r.model.network);
    first.epochs += r.epochs;
    first.seconds += r.seconds;
    first.model.trainSeconds += r.model.trainSeconds;
  }
  return first;
}

PipelineReport runSegmentationPipeline(const Parameters& requested, const PipelineInputs& in, const JuleEventSink& events,
                                       const TaskContext* ctx, const std::function<void(const std::string&)>& logFn) {
  Parameters params = requested;  // a loaded model may fix how its input is prepared (below)
  auto log = [&](const std::string& s) {
    if (logFn) logFn(s);
  };
  params.validate();
  if (in.outDir.empty()) throw InputError("no output folder given (-o DIR)");
  if (in.kSweep && ((*in.kSweep)[0] < 2 || (*in.kSweep)[1] < (*in.kSweep)[0] || (*in.kSweep)[1] > 64))
    throw InputError("K sweep range must be a:b with 2 <= a <= b <= 64");

  PipelineReport report;
  json timings = json::object();
  const auto t0 = Clock::now();

  // 1. Volume (and a truth when known).
  auto t = Clock::now();
  Volume vol;
  std::optional<LabelVolume> truth;
  float lo = float(params.getDouble("threshold_lo")), hi = float(params.getDouble("threshold_hi"));
  if (in.demo) {
    Phantom ph = makeDemoPhantom();
    vol = std::move(ph.volume);
    truth = std::move(ph.truth);
    // The phantom's background must stay out of the mask unless the user set a threshold.
    if (lo <= -1e37f) lo = ph.suggestedLo;
    if (hi >= 1e37f) hi = ph.suggestedHi;
    log("demo phantom " + std::to_string(vol.geom.dims[0]) + "^3, threshold " + fmt(lo, 0) + ":" + fmt(hi, 0));
  } else {
    TaskContext c = stageContext(ctx, 0.0, 0.03, "load");
    vol = readVolume(in.volumePath, in.read, &c);
    for (const auto& w : vol.warnings) log("warning: " + w);
  }
  if (!in.truthPath.empty()) {
    truth = NiftiIO::looksLikeNifti(in.truthPath) ? NiftiIO::readLabels(in.truthPath) : LabelVolume{};
    if (truth->labels.empty()) throw InputError(in.truthPath + ": ground truth must be a NIfTI label volume");
    if (truth->geom.dims != vol.geom.dims) throw InputError("ground truth " + in.truthPath + " does not match the volume's dims");
  }
  timings["load_s"] = since(t);
  const Mask mask = thresholdMask(vol, lo, hi);
  const std::size_t inMask = mask.count();
  if (inMask == 0) throw InputError("no voxel lies in the threshold window " + fmt(lo, 3) + ":" + fmt(hi, 3));
  log("mask: " + std::to_string(inMask) + " voxels in [" + fmt(lo, 2) + ", " + fmt(hi, 2) + "]");
  // Only now that the input is known to be good, so a failed input leaves no empty result folder.
  std::error_code ec;
  fs::create_directories(in.outDir, ec);
  if (ec || !fs::is_directory(in.outDir)) throw InputError("cannot create output folder " + in.outDir + ": " + ec.message());

  // 2. Model: loaded (first, because it fixes how its input is prepared), or trained below.
  TorchRuntime::configureThreads(params.getInt("threads"));
  JuleModel model;
  t = Clock::now();
  if (!in.modelPath.empty()) {
    model = ModelFile::load(in.modelPath);
    log("model " + in.modelPath + " (" + model.spec.name + ", " + std::to_string(model.networks().size()) +
        (model.networks().size() == 1 ? " network" : " networks") + ", trained on " + model.device + ")");
    // Like the patch standardisation, the fill outside the window is part of what the network was trained
    // to see: features of a differently prepared volume would be meaningless.
    for (const char* name : {"fill_outside_window", "fill_rule"}) {
      if (!model.parameters.is_object() || !model.parameters.contains(name)) continue;
      if (model.parameters[name] != params.toJson()[name])
        log(std::string(name) + " = " + model.parameters[name].dump() + " from the model (requested " +
            params.toJson()[name].dump() + ")");
      params.set(name, model.parameters[name]);
    }
    params.set("networks", int(model.networks().size()));  // what run.json and the project record
  }

  // The network sees `net` (the volume, or with the background replaced); labels and statistics use `vol`.
  Volume filled;
  if (params.getBool("fill_outside_window")) {
    filled = fillOutsideWindow(vol, lo, hi, params.getString("fill_rule"));
    log("outside the window filled (" + params.getString("fill_rule") + ")");
  }
  const Volume& net = params.getBool("fill_outside_window") ? filled : vol;

  json scores = json::object();  // NMI against the truth, when one is known

  if (in.modelPath.empty()) {
    TaskContext sc = stageContext(ctx, 0.03, 0.08, "patches");
    PatchSet patches = sampleTrainingPatches(vol, net, params, lo, hi, &sc);
    log("sampled " + std::to_string(patches.count) + " patches of " + std::to_string(patches.patchSize) + "^3 from " +
        std::to_string(patches.candidates) + " candidates");
    TaskContext tc = stageContext(ctx, 0.08, 0.75, "JULE");
    JuleResult jr = trainJuleNetworks(patches, params, events, &tc);
    model = std::move(jr.model);
    model.parameters = params.toJson();
    ModelFile::save(model, (fs::path(in.outDir) / "model.pt").string());
    report.writtenFiles.push_back((fs::path(in.outDir) / "model.pt").string());
    for (std::size_t m = 0; m < model.moreNetworks.size(); ++m)
      report.writtenFiles.push_back(ModelFile::memberPathFor((fs::path(in.outDir) / "model.pt").string(), int(m) + 2));
    log("JULE: " + std::to_string(jr.epochs) + " epochs, " + std::to_string(jr.history.size()) + " periods" +
        (params.getInt("networks") > 1 ? " per network, " + std::to_string(params.getInt("networks")) + " networks, "
                                       : std::string(", ")) +
        fmt(jr.seconds, 1) + " s");
    if (truth) {
      // How pure JULE's own clusters are tells whether a poor segmentation comes from the clustering of the
      // training patches or from the later k-means on the features.
      std::vector<int> centreTruth, clusterOf;
      for (int i = 0; i < patches.count; ++i) {
        const auto& c = patches.centres[std::size_t(i)];
        const int label = truth->labels[vol.geom.index(int(c[0]), int(c[1]), int(c[2]))];
        if (label == 0) continue;
        centreTruth.push_back(label);
        clusterOf.push_back(jr.labels[std::size_t(i)]);
      }
      if (!centreTruth.empty()) {
        const double v = nmi(centreTruth, clusterOf);
        scores["jule_training_clusters"] = v;
        log("JULE's " + std::to_string(params.getInt("clusters")) + " clusters of the training patches: NMI " + fmt(v) +
            " against the truth at their centres");
      }
    }
  }
  timings["train_s"] = since(t);

  // 3. Dense features on the stride grid.
  t = Clock::now();
  const int stride = params.getInt("stride");
  ModelFeatures extractor(model, params.getInt("threads"));
  FeatureGrid grid = extractor.layout(vol, stride, lo, hi);  // window tested on the real intensities
  FeaturePlan plan = extractor.plan(grid);
  const FeatureSmoothing smoothing(params.getInt("feature_smoothing"), params.getInt("threads"));
  plan.memory.workingBytes = std::max(plan.memory.workingBytes, smoothing.workingBytes(grid));
  plan.memory.require("features at stride " + std::to_string(stride),
                      "use a larger stride (--stride " + std::to_string(std::min(stride * 2, params.getInt("patch_size"))) +
                          ") or a smaller region");
  log("features: " + std::to_string(grid.count()) + " grid points at stride " + std::to_string(stride) + ", " +
      plan.memory.describe());
  {
    TaskContext fc = stageContext(ctx, 0.75, 0.92, "features");
    extractor.compute(grid, net, &fc);
  }
  if (params.getInt("feature_smoothing") > 0)
    log("feature smoothing over " + std::to_string(params.getInt("feature_smoothing")) + " voxels (" +
        std::to_string(smoothing.latticeRadius(stride)) + " grid steps)");
  {
    TaskContext sc = stageContext(ctx, 0.92, 0.92, "features");
    finishFeatures(grid, vol, params, &sc);
  }
  timings["features_s"] = since(t);

  // 4. K sweep and k-means.
  t = Clock::now();
  int k = params.getInt("k");
  json sweepJson = json::array();
  if (in.kSweep) {
    KSweepOptions ko;
    ko.kMin = (*in.kSweep)[0];
    ko.kMax = (*in.kSweep)[1];
    ko.kmeans.restarts = params.getInt("kmeans_restarts");
    ko.kmeans.maxIterations = params.getInt("kmeans_max_iter");
    ko.kmeans.seed = static_cast<uint64_t>(params.getInt("seed"));
    TaskContext kc = stageContext(ctx, 0.92, 0.95, "K sweep");
    KSweepResult sweep = kSweep(grid.features.data(), grid.count(), grid.dim, ko, &kc);
    log("K sweep:   K   inertia        silhouette");
    for (const auto& e : sweep.entries) {
      std::ostringstream o;
      o << "          " << std::setw(2) << e.k << "  " << std::setw(13) << fmt(e.inertia, 2) << "  " << fmt(e.silhouette, 4);
      log(o.str());
      sweepJson.push_back({{"k", e.k}, {"inertia", e.inertia}, {"silhouette", e.silhouette}, {"seconds", e.seconds}});
    }
    if (in.kFromSweep) k = sweep.bestBySilhouette();
    log("K = " + std::to_string(k) + (in.kFromSweep ? " (best silhouette)" : ""));
  }
  TaskContext kmc = stageContext(ctx, 0.95, 0.97, "k-means");
  KMeansResult km = clusterGrid(grid, k, params, &kmc);
  ProjectionOptions po;
  po.fillUncovered = true;  // patches cannot be centred within w/2 of the border; those voxels take the nearest label
  Projection proj = LabelProjector(po).project(grid, km.labels.data(), k, vol, &kmc);
  report.labels = proj.labels;
  report.k = k;
  timings["kmeans_s"] = since(t);

  // 5. Scores against a truth, side by side with the baselines at the same stride.
  if (truth) {
    t = Clock::now();
    auto score = [&](const std::string& name, const LabelVolume& l) {
      double v = scoreSegmentation(l, *truth).nmi;
      report.scores.push_back({name, v});
      scores[name] = v;
    };
    score("jule", proj.labels);
    const uint64_t seed = static_cast<uint64_t>(params.getInt("seed"));
    score("intensity_kmeans", intensityKMeans(vol, lo, hi, k, seed).labels);
    score("multi_otsu", multiOtsu(vol, lo, hi, k).labels);
    if (stride > 1) score("block_mean_kmeans", blockMeanKMeans(vol, grid, k, params, true, ctx));
    if (smoothing.latticeRadius(stride) > 0)
      score("smoothed_intensity_kmeans", smoothedIntensityKMeans(vol, grid, k, params, ctx));
    if (in.compareUntrained) {
      TaskContext uc = stageContext(ctx, 0.97, 0.99, "untrained network");
      // As many untrained networks as the model has, side by side, so the comparison is like for like.
      JuleModel untrained = model;
      untrained.network = makeRandomNetwork(model.spec, seed, false);
      for (std::size_t m = 0; m < untrained.moreNetworks.size(); ++m)
        untrained.moreNetworks[m] = makeRandomNetwork(model.spec, seed + m + 1, false);
      ModelFeatures random(untrained, params.getInt("threads"));
      FeatureGrid rg = random.layout(vol, stride, lo, hi);
      random.compute(rg, net, &uc);
      finishFeatures(rg, vol, params, &uc);
      KMeansResult rk = clusterGrid(rg, k, params, &uc);
      score("untrained_network", LabelProjector(po).project(rg, rk.labels.data(), k, vol, &uc).labels);
    }
    timings["scores_s"] = since(t);
    log("NMI (K = " + std::to_string(k) + ", stride " + std::to_string(stride) + ", voxels with truth > 0):");
    for (const auto& s : report.scores) {
      std::ostringstream o;
      o << "  " << std::left << std::setw(27) << s.method << fmt(s.nmi);
      log(o.str());
    }
  }

  // 6. Outputs.
  t = Clock::now();
  const fs::path out(in.outDir);
  auto wrote = [&](const fs::path& p) { report.writtenFiles.push_back(p.string()); };
  NiftiIO::writeLabels(proj.labels, (out / "labels.nii.gz").string());
  wrote(out / "labels.nii.gz");
  writeTiffLabels(proj.labels, (out / "labels.tif").string());
  wrote(out / "labels.tif");
  auto table = defaultLabelTable(k);
  writeLabelTableJson(table, (out / "label_table.json").string());
  wrote(out / "label_table.json");
  writeStatisticsCsv(computeLabelStatistics(vol, proj.labels), table, (out / "statistics.csv").string());
  wrote(out / "statistics.csv");
  if (in.writeOverlays) {
    fs::create_directories(out / "overlays");
    OverlayStyle style;
    const auto& d = vol.geom.dims;
    writeOverlayPng(vol, proj.labels, table, SliceAxis::Z, d[2] / 2, style, (out / "overlay_axial_mid.png").string());
    writeOverlayPng(vol, proj.labels, table, SliceAxis::Y, d[1] / 2, style, (out / "overlay_coronal_mid.png").string());
    writeOverlayPng(vol, proj.labels, table, SliceAxis::X, d[0] / 2, style, (out / "overlay_sagittal_mid.png").string());
    wrote(out / "overlay_axial_mid.png");
    TaskContext oc = stageContext(ctx, 0.99, 1.0, "overlays");
    int n = writeOverlayPngs(vol, proj.labels, table, SliceAxis::Z, style, (out / "overlays").string(), "axial", &oc);
    log("overlays: " + std::to_string(n) + " axial PNGs in " + (out / "overlays").string());
  }
  timings["write_s"] = since(t);
  timings["total_s"] = since(t0);

  // The project beside the outputs reruns this exactly: `juleseg-cli run --project OUTDIR/project.juleseg`.
  Project project;
  project.demo = in.demo;
  if (!in.demo) {
    project.inputPath = fs::absolute(in.volumePath).string();
    project.inputSha256 = sha256OfPath(in.volumePath);
  }
  project.read = in.read;
  project.parameters = params;
  project.parameters.set("k", k);
  project.parameters.set("threshold_lo", double(lo));
  project.parameters.set("threshold_hi", double(hi));
  project.k = k;
  project.labels = table;
  project.modelFile = in.modelPath.empty() ? "model.pt" : fs::absolute(in.modelPath).string();
  project.labelFile = "labels.nii.gz";
  project.versions = {{"juleseg", JULESEG_VERSION}, {"torch", TorchRuntime::torchVersion()}};
  project.save((out / "project.juleseg").string());
  wrote(out / "project.juleseg");

  json run;
  run["juleseg_version"] = JULESEG_VERSION;
  run["torch_version"] = TorchRuntime::torchVersion();
  run["device"] = model.device;
  run["input"] = in.demo ? "demo:phantom" : in.volumePath;
  run["dims"] = vol.geom.dims;
  run["spacing_mm"] = vol.geom.spacing;
  run["threshold"] = {lo, hi};
  run["parameters"] = params.toJson();
  run["seed"] = params.getInt("seed");
  run["model"] = in.modelPath.empty() ? (out / "model.pt").string() : in.modelPath;
  run["k"] = k;
  run["grid_points"] = grid.count();
  run["feature_mode"] = plan.mode == FeatureMode::Dense ? "dense" : "per-patch";
  run["k_sweep"] = sweepJson;
  run["nmi"] = scores;
  if (!in.truthPath.empty()) run["truth"] = in.truthPath;
  run["timings"] = timings;
  run["outputs"] = report.writtenFiles;
  writeFileAtomically((out / "run.json").string(), run.dump(2) + "\n");
  report.writtenFiles.push_back((out / "run.json").string());
  report.runJson = run;
  reportProgress(ctx, 1.0, "done");
  return report;
}

} // namespace jseg
