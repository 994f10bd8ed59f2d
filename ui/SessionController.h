#pragma once
// The GUI's one door to the engine (design.md §2): it owns the SegmentationSession and runs each of its stages
// as a job, then reports the outcome as typed Qt signals on the GUI thread. Widgets never call the session or
// the engine's internals themselves, so the GUI runs exactly the stages `juleseg-cli run` runs.
//
// One stage job (load, train, features, paint) runs at a time; previews and saves may run beside it. Results
// reach the session only if it still holds what the job started from (a stale job's result is dropped).
#include <QObject>
#include <QPointer>
#include <QString>
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/Volume.h"
#include "core/io/LabelOutputs.h"
#include "core/io/ReadOptions.h"
#include "core/params/ParameterSchema.h"
#include "ui/JobBridge.h"
#include "ui/KPickerPanel.h"
#include "ui/VolumeStats.h"

namespace jseg {
class SegmentationSession;
struct DicomSeriesInfo;
}

namespace jseg::ui {

class SessionController : public QObject {
  Q_OBJECT
public:
  explicit SessionController(JobBridge* jobs, QObject* parent = nullptr);
  ~SessionController() override;

  // ---- stages (each a job; the outcome arrives as a signal)
  void openPath(const QString& path, const ReadOptions& options = {});
  void openDemo();
  void loadTruth(const QString& path);
  // A region of interest on the volume's grid (non-zero = inside): every later stage stays inside it.
  void loadMask(const QString& path);
  // A co-registered volume on the same grid (another contrast) for the networks and the baselines.
  void addChannel(const QString& path);
  // The threshold mask of the open volume, inside the region of interest when there is one (previews coalesce: a
  // newer window supersedes an older one).
  void previewMask(double lo, double hi);
  void train(const Parameters& params);
  // The model's training parameters replace those of `params`; its segmentation-time ones stay (the session's
  // loadModel). A stage job: modelChanged, then modelLoaded.
  void loadModel(const QString& path, const Parameters& params);
  void saveModel(const QString& path);
  // Features on the stride grid, then the K sweep (K = 2..10) for the picker.
  void extractFeatures(const Parameters& params);
  // Labels of the blocks on the three slices through `cursor`; a newer request supersedes an older one.
  void previewK(int k, const std::array<int64_t, 3>& cursor);
  void applyK(int k, const Parameters& params);
  // Label volume (NIfTI, or TIFF by extension) plus its names and colours as PATH.labels.json.
  // Also .seg.nrrd (3D Slicer) and .dcm (a DICOM Segmentation, for a DICOM series); beside a NIfTI file its ITK-SNAP
  // label descriptions (STEM.itksnap.txt), in a TIFF the colours as an ImageJ LUT.
  void saveLabels(const QString& path, const std::vector<LabelInfo>& table);
  // A saved label map (a result folder, NIfTI with a label file beside it, .seg.nrrd, label TIFF) on the volume's
  // grid, for comparing runs or continuing from a saved result: arrives as labelsOpened with its names and colours.
  void openLabels(const QString& path);
  // File > Save project: PATH (.juleseg) with the model and `labels` beside it and the window's `view` state (a job;
  // the session's saveProject).
  void saveProject(const QString& path, std::shared_ptr<const LabelVolume> labels, const std::vector<LabelInfo>& table,
                   const nlohmann::json& view);
  // File > Open project and `juleseg PROJECT.juleseg` (a stage job): volumeOpened, then modelChanged when it has a
  // model, labelsOpened when it has labels, then projectOpened with the saved view state.
  void openProject(const QString& path);
  // What training with `params` should take on this machine (a job beside the stages; a newer request supersedes
  // an older one): arrives as trainingEstimated.
  void estimateTraining(const Parameters& params);
  void cancelStage();

  // ---- state (GUI thread)
  bool busy() const { return stageJob_ != 0; }
  QString busyWith() const { return stageName_; }
  bool hasVolume() const;
  bool hasModel() const;
  bool hasFeatures() const;
  std::shared_ptr<const LabelVolume> labels() const;  // painted on the whole volume, or null
  std::shared_ptr<const LabelVolume> truth() const;
  std::optional<double> labelsNmi() const;  // of the painted labels against the truth, when both are there
  // Why the painted labels leave slices near the faces empty ("" when they do not): unlabelledEdgeNote.
  QString unlabelledEdges() const { return unlabelledEdges_; }
  QStringList channelNames() const;
  std::shared_ptr<const Volume> channel(int index) const;  // 0 = the volume
  // Its histogram is computed as a job; channelShown brings the channel and its statistics for display.
  void showChannel(int index);
  Parameters parameters() const;  // the session's (after a demo or a loaded model, what they set)
  // "small3d on 15³ patches, 1 network, trained on demo:phantom (96×96×96), fast-like settings: ..."
  QString modelDescription() const;
  // "Networks agree: NMI 0.72 at K = 3 (3 networks, …)" after features from several networks; empty otherwise.
  QString agreementDescription() const;
  // How the load asks the user for a spacing the file lacks (GUI dialog); unset keeps 1 mm, flagged.
  void setSpacingResolver(std::function<std::optional<std::array<double, 3>>(const QString& path)> f) {
    resolveSpacing_ = std::move(f);
  }
  SegmentationSession& session() { return *session_; }  // tests and scripted runs

Q_SIGNALS:
  void busyChanged(bool busy);
  void volumeOpened(std::shared_ptr<const jseg::Volume> volume, jseg::ui::VolumeStats stats, const QString& name,
                    bool hasTruth);
  void seriesChoiceNeeded(const QString& path, const std::vector<jseg::DicomSeriesInfo>& series,
                          const jseg::ReadOptions& options);
  void loadFailed(const QString& message);
  void maskReady(std::shared_ptr<const jseg::Mask> mask);
  void truthLoaded(bool ok);
  void roiLoaded(bool ok, const QString& path);
  void channelAdded(bool ok, const QString& path);
  void channelShown(int index, std::shared_ptr<const jseg::Volume> channel, const jseg::ui::VolumeStats& stats);
  void trainingEvent(const nlohmann::json& event);
  void trainingFinished(bool ok);
  void modelChanged();
  // The end of loadModel (after modelChanged when it worked).
  void modelLoaded(bool ok, const QString& path);
  void featuresReady(bool ok, const std::vector<jseg::ui::KCurvePoint>& curve, int suggestedK);
  void previewReady(std::shared_ptr<const jseg::LabelVolume> labels, int k);
  void labelsPainted(bool ok, int k, const std::vector<jseg::LabelStatistics>& stats);
  void labelsSaved(bool ok, const QString& path);
  void labelsOpened(std::shared_ptr<const jseg::LabelVolume> labels, const std::vector<jseg::LabelInfo>& table,
                    const std::vector<jseg::LabelStatistics>& stats, const QString& path);
  // Open labels failed (after `failed` brought the message): scripted runs stop
  // waiting.
  void labelsOpenFailed(const QString& path);
  void modelSaved(bool ok, const QString& path);
  void projectSaved(bool ok, const QString& path);
  void trainingEstimated(double seconds, int epochs, double patchesPerSecond, const QString& device);
  void projectOpened(bool ok, const QString& path, const nlohmann::json& view);
  // A stage failed: a title for the dialog and the engine's message.
  void failed(const QString& title, const QString& message);
  void status(const QString& message);

private:
  using Work = std::function<void(JobContext&)>;
  // A stage job: one at a time, `done` on success, `ended(ok, cancelled)` always.
  void runStage(const std::string& name, Work work, std::function<void()> done,
                std::function<void(bool ok, bool cancelled, const QString& error)> ended);
  void finishVolume(std::shared_ptr<Volume> v, const VolumeStats& stats, const QString& path,
                    const ReadOptions& options);

  QPointer<JobBridge> jobs_;
  std::unique_ptr<SegmentationSession> session_;
  uint64_t stageJob_ = 0;
  uint64_t stageGeneration_ = 0;
  QString stageName_;
  QString unlabelledEdges_;
  std::function<std::optional<std::array<double, 3>>(const QString&)> resolveSpacing_;
};

} // namespace jseg::ui
