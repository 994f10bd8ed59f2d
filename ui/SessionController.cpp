#include "ui/SessionController.h"

#include "ui/LabelCoverage.h"

#include <algorithm>

#include <QFileInfo>
#include <sstream>

#include "core/base/Errors.h"
#include "core/io/DicomSeriesReader.h"
#include "core/io/LabelMapFile.h"
#include "core/io/VolumeReader.h"
#include "core/pipeline/SegmentationSession.h"

namespace jseg::ui {

namespace {
// The K picker's sweep: enough to see the elbow and the silhouette's peak, fast on 10^6 grid points.
constexpr int kSweepMin = 2, kSweepMax = 10;

QString fileNameOf(const QString& path) { return QFileInfo(path).fileName(); }
} // namespace

SessionController::SessionController(JobBridge* jobs, QObject* parent)
    : QObject(parent), jobs_(jobs), session_(std::make_unique<SegmentationSession>()) {
  session_->setLog([this](const std::string& line) {
    // Called on worker threads: hand the line to the GUI thread.
    QMetaObject::invokeMethod(this, [this, l = QString::fromStdString(line)] { Q_EMIT status(l); }, Qt::QueuedConnection);
  });
}

SessionController::~SessionController() {
  // Jobs hold references to the session: stop them before it goes (the bridge may already be gone when both die
  // with their window, which then has stopped the jobs itself).
  if (jobs_) {
    jobs_->cancelAll();
    jobs_->queue().waitIdle(10);
  }
}

bool SessionController::hasVolume() const { return session_->volume() != nullptr; }
bool SessionController::hasModel() const { return session_->model() != nullptr; }
bool SessionController::hasFeatures() const { return session_->features() != nullptr; }
std::shared_ptr<const LabelVolume> SessionController::labels() const { return session_->labels(); }
std::shared_ptr<const LabelVolume> SessionController::truth() const { return session_->truth(); }
std::optional<double> SessionController::labelsNmi() const { return session_->labelsNmi(); }
QStringList SessionController::channelNames() const {
  QStringList out;
  for (const auto& n : session_->channelNames()) out << QString::fromStdString(n);
  return out;
}

std::shared_ptr<const Volume> SessionController::channel(int index) const {
  if (index <= 0) return session_->volume();
  const auto more = session_->moreChannels();
  return std::size_t(index) <= more.size() ? more[std::size_t(index) - 1] : nullptr;
}

void SessionController::showChannel(int index) {
  auto v = channel(index);
  if (!v) return;
  auto stats = std::make_shared<VolumeStats>();
  JobOptions jo;
  jo.name = "Show channel " + std::to_string(index + 1);
  jo.coalesceKey = "channel-display";
  jo.priority = 20;
  jobs_->submit(jo, [v, stats](JobContext&) { *stats = VolumeStats::compute(*v); },
                {[this, index, v, stats] {
                   if (channel(index) == v) Q_EMIT channelShown(index, v, *stats);
                 },
                 {},
                 {}});
}

Parameters SessionController::parameters() const { return session_->parameters(); }

QString SessionController::agreementDescription() const {
  const NetworkAgreementResult a = session_->networkAgreement();
  if (a.networks < 2) return {};
  return QString("Networks agree: NMI %1 at K = %2 (%3 networks' own segmentations; 1 = the same regions whatever "
                 "the seed)")
      .arg(a.mean, 0, 'f', 2)
      .arg(a.k)
      .arg(a.networks);
}

QString SessionController::modelDescription() const {
  const auto m = session_->model();
  if (!m) return {};
  const auto& p = m->parameters;
  std::ostringstream o;
  o << m->spec.name << " on " << m->spec.inputSize << "³ patches, " << m->networks().size()
    << (m->networks().size() == 1 ? " network" : " networks");
  if (m->trainedOn.contains("input")) {
    o << ", trained on " << m->trainedOn["input"].get<std::string>();
    if (m->trainedOn.contains("dims")) {
      const auto& d = m->trainedOn["dims"];
      o << " (" << d[0] << "×" << d[1] << "×" << d[2] << ")";
    }
  }
  if (p.is_object() && p.contains("patches"))
    o << "; " << p.value("patches", 0) << " patches, C = " << p.value("clusters", 0) << ", "
      << p.value("epochs_per_period", 0) << " epochs a period, seed " << p.value("seed", 0)
      << (p.value("fill_outside_window", false) ? ", filled outside the window" : "");
  const std::string path = session_->modelPath();
  if (!path.empty()) o << " — " << path;
  return QString::fromStdString(o.str());
}

void SessionController::runStage(const std::string& name, Work work, std::function<void()> done,
                                 std::function<void(bool, bool, const QString&)> ended) {
  JobOptions jo;
  jo.name = name;
  jo.priority = 10;
  stageName_ = QString::fromStdString(name);
  // A stage cancelled in favour of a newer one ends after the newer one started: only the newest clears busy.
  const uint64_t generation = ++stageGeneration_;
  // Busy is cleared before the outcome is announced (the result first, then the end), so whatever reacts can
  // start the next stage.
  auto finish = [this, ended, done, generation](bool ok, bool cancelled, const QString& error) {
    if (generation == stageGeneration_) {
      stageJob_ = 0;
      stageName_.clear();
      Q_EMIT busyChanged(false);
    }
    if (ok && done) done();
    if (ended) ended(ok, cancelled, error);
  };
  stageJob_ = jobs_->submit(jo, std::move(work),
                            {[finish] { finish(true, false, {}); }, [finish](const QString& msg) { finish(false, false, msg); },
                             [finish] { finish(false, true, {}); }});
  Q_EMIT busyChanged(true);
}

void SessionController::cancelStage() {
  if (stageJob_) jobs_->cancel(stageJob_);
}

// ---------------------------------------------------------------- inputs

void SessionController::openPath(const QString& path, const ReadOptions& options) {
  cancelStage();
  struct Result {
    std::shared_ptr<Volume> volume;
    VolumeStats stats;
    std::vector<DicomSeriesInfo> series;  // set when the user must choose one
  };
  auto result = std::make_shared<Result>();
  const std::string p = path.toStdString();
  runStage(
      "Load " + fileNameOf(path).toStdString(),
      [result, p, options](JobContext& ctx) {
        if (options.series.empty() && detectVolumeFormat(p) == VolumeFormat::Dicom) {
          ctx.progress(-1, "scanning DICOM files");
          auto series = DicomSeriesReader::listSeries(p, &ctx.task());
          if (series.size() > 1) {
            result->series = std::move(series);
            return;
          }
        }
        result->volume = std::make_shared<Volume>(readVolume(p, options, &ctx.task()));
        ctx.checkCancel();
        ctx.progress(0.99, "histogram");
        result->stats = VolumeStats::compute(*result->volume);  // a pass over every voxel: not on the GUI thread
      },
      [this, result, path, options] {
        if (!result->series.empty()) Q_EMIT seriesChoiceNeeded(path, result->series, options);
        else finishVolume(result->volume, result->stats, path, options);
      },
      [this, path](bool ok, bool cancelled, const QString& error) {
        if (ok) return;
        Q_EMIT loadFailed(cancelled ? QString("cancelled") : error);
        if (!cancelled) Q_EMIT failed("Could not open " + fileNameOf(path), error);
      });
}

void SessionController::finishVolume(std::shared_ptr<Volume> v, const VolumeStats& stats, const QString& path,
                                     const ReadOptions& options) {
  if (!v->geom.spacingKnown && resolveSpacing_) {
    if (auto s = resolveSpacing_(path)) {
      v->geom.spacing = *s;
      v->geom.spacingKnown = true;
      // The reader's "no spacing, 1 mm assumed" is no longer true: the user
      // just gave one.
      auto& w = v->warnings;
      w.erase(
          std::remove_if(w.begin(), w.end(), [](const std::string& m) { return m.find("1 mm") != std::string::npos; }),
          w.end());
    }
  }
  SessionInput in;
  in.path = path.toStdString();
  in.read = options;
  session_->setVolume(v, in);
  Q_EMIT volumeOpened(v, stats, fileNameOf(path), false);
}

void SessionController::openDemo() {
  cancelStage();
  auto stats = std::make_shared<VolumeStats>();
  runStage(
      "Make demo phantom",
      [this, stats](JobContext& ctx) {
        ctx.progress(-1, "generating");
        // The phantom brings its own window unless one is set: forget the previous volume's.
        Parameters p = session_->parameters();
        for (const char* name : {"threshold_lo", "threshold_hi"}) p.set(name, paramSpec(name).defaultValue);
        session_->setParameters(p);
        session_->openDemo();
        *stats = VolumeStats::compute(*session_->volume());
      },
      [this, stats] { Q_EMIT volumeOpened(session_->volume(), *stats, "demo phantom", true); },
      [this](bool ok, bool cancelled, const QString& error) {
        if (ok) return;
        Q_EMIT loadFailed(cancelled ? QString("cancelled") : error);
        if (!cancelled) Q_EMIT failed("Could not make the demo volume", error);
      });
}

void SessionController::previewMask(double lo, double hi) {
  auto vol = session_->volume();
  if (!vol) return;
  auto roi = session_->roi();
  auto mask = std::make_shared<Mask>();
  JobOptions jo;
  jo.name = "Mask preview";
  jo.coalesceKey = "mask-preview";
  jo.priority = 20;
  jobs_->submit(jo,
                [vol, roi, lo, hi, mask](JobContext&) {
                  *mask = thresholdMask(*vol, float(lo), float(hi));
                  if (roi)
                    for (std::size_t i = 0; i < mask->inside.size(); ++i) mask->inside[i] &= roi->inside[i];
                },
                {[this, vol, mask] {
                   if (session_->volume() == vol) Q_EMIT maskReady(mask);  // else a newer volume replaced it
                 },
                 {},
                 {}});
}

void SessionController::loadMask(const QString& path) {
  if (busy() || !hasVolume()) return;
  const std::string p = path.toStdString();
  runStage(
      "Load mask " + fileNameOf(path).toStdString(), [this, p](JobContext& ctx) { session_->loadMask(p, &ctx.task()); },
      {},
      [this, path](bool ok, bool cancelled, const QString& error) {
        if (!ok && !cancelled) Q_EMIT failed("Could not use " + fileNameOf(path) + " as a mask", error);
        Q_EMIT roiLoaded(ok, path);
      });
}

void SessionController::addChannel(const QString& path) {
  if (busy() || !hasVolume()) return;
  const std::string p = path.toStdString();
  runStage(
      "Add channel " + fileNameOf(path).toStdString(), [this, p](JobContext& ctx) { session_->addChannel(p, &ctx.task()); },
      {},
      [this, path](bool ok, bool cancelled, const QString& error) {
        if (!ok && !cancelled) Q_EMIT failed("Could not add " + fileNameOf(path) + " as a channel", error);
        Q_EMIT channelAdded(ok, path);
      });
}

void SessionController::loadTruth(const QString& path) {
  JobOptions jo;
  jo.name = "Load ground truth " + fileNameOf(path).toStdString();
  const std::string p = path.toStdString();
  jobs_->submit(jo, [this, p](JobContext& ctx) { session_->loadTruth(p, &ctx.task()); },
                {[this] { Q_EMIT truthLoaded(true); },
                 [this, path](const QString& msg) {
                   Q_EMIT failed("Could not load " + fileNameOf(path), msg);
                   Q_EMIT truthLoaded(false);
                 },
                 [this] { Q_EMIT truthLoaded(false); }});
}

// ---------------------------------------------------------------- model

void SessionController::train(const Parameters& params) {
  if (busy() || !hasVolume()) return;
  session_->setParameters(params);
  runStage(
      "Train JULE (" + std::to_string(params.getInt("patches")) + " patches, C = " +
          std::to_string(params.getInt("clusters")) + ")",
      [this](JobContext& ctx) {
        session_->train([&ctx](const JuleEvent& ev) { ctx.emitData(toJson(ev)); }, &ctx.task());
      },
      [this] { Q_EMIT modelChanged(); },
      [this](bool ok, bool cancelled, const QString& error) {
        if (!ok && !cancelled) Q_EMIT failed("Training failed", error);
        Q_EMIT trainingFinished(ok);
      });
}

void SessionController::loadModel(const QString& path, const Parameters& params) {
  if (busy()) return;
  session_->setParameters(params);
  const std::string p = path.toStdString();
  // Reading a model (LibTorch deserialisation, member networks) is file work: a job like every load.
  runStage(
      "Load model " + fileNameOf(path).toStdString(), [this, p](JobContext&) { session_->loadModel(p); },
      [this] { Q_EMIT modelChanged(); },
      [this, path](bool ok, bool cancelled, const QString& error) {
        if (!ok && !cancelled) Q_EMIT failed("Could not load the model", error);
        Q_EMIT modelLoaded(ok, path);
      });
}

void SessionController::saveModel(const QString& path) {
  JobOptions jo;
  jo.name = "Save model " + fileNameOf(path).toStdString();
  const std::string p = path.toStdString();
  jobs_->submit(jo, [this, p](JobContext&) { session_->saveModel(p); },
                {[this, path] { Q_EMIT modelSaved(true, path); Q_EMIT modelChanged(); },
                 [this, path](const QString& msg) {
                   Q_EMIT failed("Could not save the model", msg);
                   Q_EMIT modelSaved(false, path);
                 },
                 [this, path] { Q_EMIT modelSaved(false, path); }});
}

// ---------------------------------------------------------------- features and K

void SessionController::extractFeatures(const Parameters& params) {
  if (busy() || !hasVolume() || !hasModel()) return;
  session_->setParameters(params);
  auto curve = std::make_shared<std::vector<KCurvePoint>>();
  auto best = std::make_shared<int>(0);
  runStage(
      "Features at stride " + std::to_string(params.getInt("stride")) + " + k-means K = " + std::to_string(kSweepMin) +
          ".." + std::to_string(kSweepMax),
      [this, curve, best](JobContext& ctx) {
        // Features take most of the time; the sweep the rest.
        TaskContext fc = stageContext(&ctx.task(), 0.0, 0.8, "features");
        session_->extractFeatures(&fc);
        TaskContext kc = stageContext(&ctx.task(), 0.8, 1.0, "k-means");
        auto sweep = session_->sweepK(kSweepMin, kSweepMax, &kc);
        for (const auto& e : sweep->entries) curve->push_back({e.k, e.inertia, e.silhouette});
        *best = sweep->bestBySilhouette();
      },
      {},
      [this, curve, best](bool ok, bool cancelled, const QString& error) {
        if (!ok && !cancelled) Q_EMIT failed("Feature extraction failed", error);
        Q_EMIT featuresReady(ok, ok ? *curve : std::vector<KCurvePoint>{}, ok ? *best : 0);
      });
}

void SessionController::previewK(int k, const std::array<int64_t, 3>& cursor) {
  if (!hasFeatures()) return;
  auto out = std::make_shared<LabelVolume>();
  auto grid = session_->features();
  JobOptions jo;
  jo.name = "Preview K = " + std::to_string(k);
  jo.coalesceKey = "k-preview";
  jo.priority = 20;
  jobs_->submit(jo, [this, k, cursor, out](JobContext& ctx) { *out = session_->previewK(k, cursor, &ctx.task()); },
                {[this, out, k, grid] {
                   // Features replaced or labels painted meanwhile: this preview is stale.
                   if (session_->features() != grid || session_->labels()) return;
                   Q_EMIT previewReady(out, k);
                 },
                 [this](const QString& msg) { Q_EMIT failed("Preview failed", msg); },
                 {}});
}

void SessionController::applyK(int k, const Parameters& params) {
  if (busy() || !hasFeatures()) return;
  Parameters p = session_->parameters();
  // Only the settings k-means reads: a changed stride or network would need new features first.
  for (const char* name : {"kmeans_restarts", "kmeans_max_iter", "potts_weight", "seed", "threads"}) p.set(name, params.get(name));
  session_->setParameters(p);
  auto stats = std::make_shared<std::vector<LabelStatistics>>();
  auto edges = std::make_shared<QString>();
  const int patchSize = p.getInt("patch_size");
  runStage(
      "Paint labels K = " + std::to_string(k),
      [this, k, stats, edges, patchSize](JobContext& ctx) {
        auto labels = session_->paint(k, &ctx.task());
        ctx.progress(0.95, "statistics");
        *stats = computeLabelStatistics(*session_->volume(), *labels);
        *edges = unlabelledEdgeNote(*labels, patchSize);
      },
      {},
      [this, k, stats, edges](bool ok, bool cancelled, const QString& error) {
        unlabelledEdges_ = ok ? *edges : QString();
        if (!ok && !cancelled) Q_EMIT failed("Painting labels failed", error);
        Q_EMIT labelsPainted(ok, k, *stats);
      });
}

// ---------------------------------------------------------------- outputs

void SessionController::saveLabels(const QString& path, const std::vector<LabelInfo>& table) {
  auto labels = session_->labels();
  if (!labels) return;
  const std::string p = path.toStdString();
  JobOptions jo;
  jo.name = "Save " + fileNameOf(path).toStdString();
  jobs_->submit(
      jo,
      [this, p, table](JobContext& ctx) {
        // The session writes the labels and the names and colours the user chose as one result: both or neither.
        session_->saveLabels(p, table, &ctx.task());
      },
      {[this, path] { Q_EMIT labelsSaved(true, path); },
       [this, path](const QString& msg) {
         Q_EMIT failed("Could not save the labels", msg);
         Q_EMIT labelsSaved(false, path);
       },
       [this, path] { Q_EMIT labelsSaved(false, path); }});
}

void SessionController::openLabels(const QString& path) {
  const auto volume = session_->volume();
  if (!volume) return;
  const std::string p = path.toStdString();
  auto map = std::make_shared<LabelMap>();
  auto stats = std::make_shared<std::vector<LabelStatistics>>();
  JobOptions jo;
  jo.name = "Open labels " + fileNameOf(path).toStdString();
  jobs_->submit(jo,
                [volume, p, map, stats](JobContext& ctx) {
                  *map = readLabelMap(p, &ctx.task());
                  requireSameGrid(map->labels.geom, volume->geom, "the label map " + map->labelsPath);
                  *stats = computeLabelStatistics(*volume, map->labels);
                },
                {[this, map, stats, path] {
                   Q_EMIT labelsOpened(std::make_shared<const LabelVolume>(std::move(map->labels)), map->table, *stats,
                                       path);
                 },
                 [this, path](const QString& msg) {
                   Q_EMIT failed("Could not open the labels " + fileNameOf(path), msg);
                   Q_EMIT labelsOpenFailed(path);
                 },
                 [] {}});
}

void SessionController::estimateTraining(const Parameters& params) {
  JobOptions jo;
  jo.name = "Estimate training time";
  jo.coalesceKey = "training-estimate";
  auto estimate = std::make_shared<TrainingEstimate>();
  jobs_->submit(
      jo,
      [params, estimate](JobContext& ctx) { *estimate = SegmentationSession::estimateTraining(params, &ctx.task()); },
      {[this, estimate] {
         Q_EMIT trainingEstimated(estimate->seconds, estimate->epochs, estimate->patchesPerSecond,
                                  QString::fromStdString(estimate->where));
       },
       [](const QString&) {}, [] {}});
}

// ---------------------------------------------------------------- project

void SessionController::saveProject(const QString& path, std::shared_ptr<const LabelVolume> labels,
                                    const std::vector<LabelInfo>& table, const nlohmann::json& view) {
  if (!session_->volume()) return;
  JobOptions jo;
  jo.name = "Save project " + fileNameOf(path).toStdString();
  const std::string p = path.toStdString();
  SegmentationSession* session = session_.get();
  jobs_->submit(
      jo,
      [session, p, labels, table, view](JobContext& ctx) { session->saveProject(p, labels, table, view, &ctx.task()); },
      {[this, path] { Q_EMIT projectSaved(true, path); },
       [this, path](const QString& msg) {
         Q_EMIT failed("Could not save the project " + fileNameOf(path), msg);
         Q_EMIT projectSaved(false, path);
       },
       [this, path] { Q_EMIT projectSaved(false, path); }});
}

void SessionController::openProject(const QString& path) {
  cancelStage();
  struct Result {
    OpenedProject project;
    VolumeStats stats;
    std::vector<LabelStatistics> labelStats;
  };
  auto result = std::make_shared<Result>();
  const std::string p = path.toStdString();
  runStage(
      "Open project " + fileNameOf(path).toStdString(),
      [this, result, p](JobContext& ctx) {
        result->project = session_->openProject(p, &ctx.task());
        ctx.checkCancel();
        const auto volume = session_->volume();
        result->stats = VolumeStats::compute(*volume);
        if (const auto labels = session_->labels()) result->labelStats = computeLabelStatistics(*volume, *labels);
      },
      [this, result, path] {
        const SessionInput in = session_->input();
        Q_EMIT volumeOpened(session_->volume(), result->stats,
                            in.demo ? QString("demo phantom") : fileNameOf(QString::fromStdString(in.path)),
                            session_->truth() != nullptr);
        if (session_->model()) Q_EMIT modelChanged();
        if (const auto labels = session_->labels()) {
          std::vector<LabelInfo> table = result->project.table;
          if (table.empty()) table = defaultLabelTable(session_->labelsK());
          Q_EMIT labelsOpened(labels, table, result->labelStats, path);
        }
        if (result->project.inputChanged)
          Q_EMIT status("The project's volume changed since the project was saved (SHA-256 differs)");
        Q_EMIT projectOpened(true, path, result->project.view);
      },
      [this, path](bool ok, bool cancelled, const QString& error) {
        if (ok) return;
        if (!cancelled) Q_EMIT failed("Could not open the project " + fileNameOf(path), error);
        Q_EMIT projectOpened(false, path, nlohmann::json::object());
      });
}

} // namespace jseg::ui
