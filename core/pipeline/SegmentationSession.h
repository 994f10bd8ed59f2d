#pragma once
// The method's workflow, once (design.md §2): a SegmentationSession owns the inputs (volume, ground truth),
// the model, the feature grid, the K sweep and the labels, and offers one method per stage:
//
//   openVolume / openDemo / loadTruth  ->  train | loadModel  ->  extractFeatures  ->  sweepK / previewK
//     ->  paint  ->  score  ->  writeOutputs
//
// `juleseg-cli run` calls the stages in order; the GUI's SessionController runs each as a job. Neither front
// end assembles the pipeline, so they cannot disagree: the same parameters and seed give the same labels.
//
// Threads: every stage copies the parameters and the state it reads when it starts and publishes its result
// when it ends, under a lock, so a preview may run on one worker while another stage runs on a second.
// Stages that change state (train, loadModel, extractFeatures, sweepK, paint) are meant to run one at a time.
// A new volume discards everything derived from the old one; a new model discards the features and labels.
//
// Errors: InputError for bad inputs or a stage called before the one it needs, ResourceError when features
// would not fit in memory (the message proposes a larger stride), CancelledError on cancel.
// Torch-free header.
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/eval/EvaluationBattery.h"
#include "core/io/LabelOutputs.h"
#include "core/io/ReadOptions.h"
#include "core/jule/JuleTrainer.h"
#include "core/params/ParameterSchema.h"
#include "core/segment/FeatureGrid.h"
#include "core/segment/KSweep.h"
#include "core/segment/NetworkAgreement.h"

namespace jseg {

// Where the volume came from: recorded in the model, run.json and the project.
struct SessionInput {
  std::string path;  // empty for the demo
  bool demo = false;
  ReadOptions read;
  std::string maskPath;  // the region of interest, when one was given
  std::vector<std::string> channelPaths;  // channels after the first
  std::string name() const { return demo ? "demo:phantom" : path; }
};

struct OutputOptions {
  std::string folder;     // created when missing; replaced as a whole (see writeOutputs)
  bool overlays = true;   // overlay PNGs of the mid slices and of every axial slice
  bool saveModel = false; // also write the session's model as model.pt (a run that trained)
};

// What a reopened project brings besides the session's own state (volume, inputs, parameters, model, labels).
struct OpenedProject {
  std::vector<LabelInfo> table;                   // label names and colours as saved
  nlohmann::json view = nlohmann::json::object(); // the front end's view state, as saved
  bool inputChanged = false;                      // the input's SHA-256 differs from the saved one
};

// What training should take on this machine, before it starts.
struct TrainingEstimate {
  double seconds = -1;         // about; the trainer's ETA during training is measured
  int epochs = 0;              // planned epochs over all periods (and the final pass), per network
  double patchesPerSecond = 0; // measured training throughput of the network on synthetic patches
  std::string device;          // "cpu" or "cuda"
  std::string precision;       // "fp32" or "bf16", as resolved for this machine
  int threads = 0;             // LibTorch threads on a CPU
  std::string where;           // for people: "CPU (2 threads, bf16)", "CUDA (fp32)"
};

class SegmentationSession {
public:
  using Log = std::function<void(const std::string&)>;

  explicit SegmentationSession(const Parameters& params = Parameters());
  // The preset a front end starts from on this machine: paper with a CUDA GPU,
  // fast on a CPU only (paper trains for hours there, fast in minutes).
  static std::string defaultPreset();
  // The time training with `params` should take here: the period plan (from about n/4 initial clusters, JULE's
  // usual start) times the network's training throughput, measured once per network, patch and device (~2 s).
  static TrainingEstimate estimateTraining(const Parameters& params, const TaskContext* ctx = nullptr);
  // Where the networks of `params` will run, resolved on this machine: "CPU (2 threads, bf16)", "CUDA (fp32)".
  // InputError for a device this build cannot use.
  static std::string computeDescription(const Parameters& params);
  ~SegmentationSession();
  SegmentationSession(const SegmentationSession&) = delete;
  SegmentationSession& operator=(const SegmentationSession&) = delete;

  // One line per notable step ("mask: 1234 voxels ..."), for the CLI's output and the GUI's status bar.
  void setLog(Log log);

  // The parameters the next stage uses (validated). A stage copies them when it starts.
  Parameters parameters() const;
  void setParameters(const Parameters& params);
  // The threshold window in effect, as floats, the way every stage tests voxels.
  std::array<float, 2> window() const;

  // ---- inputs
  void openVolume(const std::string& path, const ReadOptions& read = {}, const TaskContext* ctx = nullptr);
  // The built-in phantom with its ground truth; an unset (unbounded) threshold becomes the phantom's own.
  void openDemo();
  void setVolume(std::shared_ptr<const Volume> volume, SessionInput input,
                 std::shared_ptr<const LabelVolume> truth = nullptr);
  // A ground truth on the volume's grid: a NIfTI label volume, or any volume of non-negative integers.
  void loadTruth(const std::string& path, const TaskContext* ctx = nullptr);
  void setTruth(std::shared_ptr<const LabelVolume> truth);
  // A region of interest on the volume's grid (non-zero = inside): training patches, the segmentation grid, every
  // baseline and every NMI are restricted to it (and to the window); labels outside it are 0. InputError when its
  // dims or geometry differ from the volume's.
  void loadMask(const std::string& path, const TaskContext* ctx = nullptr);
  void setRoi(std::shared_ptr<const Mask> roi, const std::string& path = {});
  std::shared_ptr<const Mask> roi() const;
  // A co-registered volume on the same grid (another MR contrast): the networks and the baselines see every
  // channel; the threshold window applies to the first. InputError when its grid differs.
  void addChannel(const std::string& path, const TaskContext* ctx = nullptr);
  void addChannel(std::shared_ptr<const Volume> channel, const std::string& name);
  // Every channel after the first, and the names of all (the first's included: its file name without extension).
  std::vector<std::shared_ptr<const Volume>> moreChannels() const;
  std::vector<std::string> channelNames() const;
  std::shared_ptr<const Volume> volume() const;
  std::shared_ptr<const LabelVolume> truth() const;
  SessionInput input() const;
  // Voxels inside the window (and the region of interest); InputError when there is no volume or none lies inside.
  std::size_t windowVoxels() const;

  // ---- model
  // Samples the training patches and runs JULE (`networks` times). With a truth, also logs how pure JULE's
  // clusters of the training patches are.
  JuleResult train(const JuleEventSink& events = {}, const TaskContext* ctx = nullptr);
  // A saved model; its training parameters (network, patch size, input preparation, ...) replace the session's,
  // segmentation-time ones (window, stride, K, smoothing, seed, threads) stay. Returns what changed, as text.
  std::vector<std::string> loadModel(const std::string& path);
  // Writes the model (and its member networks); returns the files written.
  std::vector<std::string> saveModel(const std::string& path);
  std::shared_ptr<const JuleModel> model() const;
  std::string modelPath() const;  // where the model was loaded from or last saved ("" while only in memory)

  // ---- features
  // Dense features of the model on the stride grid, finished (smoothing, intensity column). Checks the memory
  // plan first.
  void extractFeatures(const TaskContext* ctx = nullptr);
  std::shared_ptr<const FeatureGrid> features() const;
  // With several networks: how far their own segmentations agree at the parameters' K (NetworkAgreement.h), a
  // criterion that needs no truth, measured by extractFeatures. networks = 0 with one network or no features.
  NetworkAgreementResult networkAgreement() const;

  // ---- K
  // k-means for K = kMin..kMax (kMax capped at the grid's size): inertia, silhouette and centroids.
  std::shared_ptr<const KSweepResult> sweepK(int kMin, int kMax, const TaskContext* ctx = nullptr);
  std::shared_ptr<const KSweepResult> sweep() const;
  // Labels of the grid blocks that touch one of the three slices through `cursor` (the rest 0), with the
  // sweep's centroids for K (k-means fitted on the spot for a K outside the sweep). Does not change the session.
  LabelVolume previewK(int k, const std::array<int64_t, 3>& cursor, const TaskContext* ctx = nullptr);
  // k-means with K on every grid point, painted on the whole volume: the session's labels.
  std::shared_ptr<const LabelVolume> paint(int k, const TaskContext* ctx = nullptr);
  std::shared_ptr<const LabelVolume> labels() const;
  int labelsK() const;  // 0 before paint

  // ---- scores against the truth
  // NMI of the labels ("jule") and of the evaluation battery (untrained networks when `untrained`).
  std::vector<MethodScore> score(bool untrained = true, const TaskContext* ctx = nullptr);
  // NMI of the labels alone (cheap), or nullopt without labels or truth.
  std::optional<double> labelsNmi() const;

  // InputError when fewer than k distinct intensities lie in the window (one channel only): k regions cannot
  // be found there. paint() checks it; a run checks it before training.
  void requireLevelsFor(int k) const;

  // ---- memory
  // The whole run's memory plan (training when `train`, features, k-means up to kMax, outputs) against what the
  // process may allocate; ResourceError with a stride that fits when it does not. Returns the plan as text.
  std::string requireMemoryPlan(bool train, int kMax) const;

  // ---- outputs
  // labels.nii.gz, labels.tif (ImageJ LUT), label_table.json, labels.itksnap.txt, labels.seg.nrrd, labels.ctbl,
  // labels.dcm (DICOM input), statistics.csv, overlays, project.juleseg, run.json (and model.pt with saveModel).
  // The folder is a transaction: everything is written into a hidden sibling that replaces the folder at the end,
  // so until then an earlier result stays as it was, and a failure or a cancel leaves nothing.
  // Returns the files written (with the model's, if it belongs to the folder).
  std::vector<std::string> writeOutputs(const OutputOptions& options, const TaskContext* ctx = nullptr);
  // The labels as NIfTI (with ITK-SNAP's label file beside it), TIFF (ImageJ LUT), Slicer .seg.nrrd or, for DICOM
  // input, a DICOM Segmentation (by extension), with their table beside them (PATH.labels.json); labels and
  // table appear together or neither does.
  void saveLabels(const std::string& path, const std::vector<LabelInfo>& table, const TaskContext* ctx = nullptr);

  // ---- project (the GUI's File > Save project / Open project, `juleseg PROJECT.juleseg`)
  // Writes PATH (.juleseg) with the model (STEM.model.pt) and `labels` (STEM.labels.nii.gz; the session's painted
  // labels when null) beside it, when there are any, and the inputs, parameters, K, label names and colours and
  // the front end's `view` state. Returns the files written.
  std::vector<std::string> saveProject(const std::string& path, std::shared_ptr<const LabelVolume> labels,
                                       const std::vector<LabelInfo>& table, const nlohmann::json& view,
                                       const TaskContext* ctx = nullptr);
  // Reopens a saved project: its input (volume or demo, region of interest, channels), parameters, model and labels
  // (as the session's labels, with its K). InputError when a file it names is missing or does not fit the volume.
  OpenedProject openProject(const std::string& path, const TaskContext* ctx = nullptr);

private:
  struct State;
  std::vector<std::string> writeOutputFiles(const OutputOptions& options, class OutputFolderTransaction& tx,
                                            const std::filesystem::path& out, const TaskContext* ctx);
  void log(const std::string& line) const;
  // The channels the networks take (network_channels: every channel, or the first volume only) and their names.
  std::vector<std::shared_ptr<const Volume>> networkChannels(const ParameterValues& v, std::shared_ptr<const Volume> vol) const;
  std::vector<std::string> networkChannelNames(const ParameterValues& v) const;
  // Those channels as the networks see them: filled outside the window and region when fill_outside_window is on.
  std::vector<std::shared_ptr<const Volume>> networkInputs(const Parameters& p, std::shared_ptr<const Volume> vol);
  static std::vector<const Volume*> raw(const std::vector<std::shared_ptr<const Volume>>& volumes);
  void requireVolume() const;

  mutable std::mutex mutex_;
  std::unique_ptr<State> s_;
  Log log_;
};

} // namespace jseg
