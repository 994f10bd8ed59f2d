#pragma once
// The whole method end to end, headless (seed paper §2): volume -> threshold mask -> JULE training (or a
// saved model) -> dense features on the stride grid -> k-means (optionally a K sweep) -> labels painted on
// the volume -> outputs. The CLI's `run` drives it; the GUI runs the same stages one job at a time.
// Torch-free header.
#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/io/ReadOptions.h"
#include "core/jule/JuleTrainer.h"
#include "core/jule/PatchSampler.h"
#include "core/params/ParameterSchema.h"
#include "core/segment/FeatureGrid.h"

namespace jseg {

struct PipelineInputs {
  std::string volumePath;        // empty with demo = true
  bool demo = false;             // the built-in phantom (and its ground truth)
  ReadOptions read;
  std::string modelPath;         // non-empty: use this trained model instead of training
  std::string truthPath;         // non-empty: NMI against this ground truth (demo: the phantom's own truth)
  std::string outDir;            // where every output goes (created)
  std::optional<std::array<int, 2>> kSweep;  // K range to score by inertia and silhouette
  bool kFromSweep = false;       // pick K by the best silhouette of the sweep instead of parameter k
  bool compareUntrained = true;  // with a truth: also score an untrained network's features (same stride)
  bool writeOverlays = true;
};

struct MethodScore {
  std::string method;  // "jule", "intensity_kmeans", "multi_otsu", "block_mean_kmeans", "smoothed_intensity_kmeans",
                      // "untrained_network"
  double nmi = 0;
};

struct PipelineReport {
  nlohmann::json runJson;              // what run.json holds
  std::vector<MethodScore> scores;     // when a truth is known
  LabelVolume labels;
  std::vector<std::string> writtenFiles;
  int k = 0;
};

// Stages shared with the GUI, so both front ends feed the network the same thing.
// fill_outside_window: a copy of the volume with voxels outside [lo, hi] replaced by the mean of those inside.
// rule "nearest": each outside voxel takes the value of the nearest voxel inside (the tissue continues).
Volume fillOutsideWindow(const Volume& vol, float lo, float hi, const std::string& rule = "mean");
Volume fillOutsideWindowNearest(const Volume& vol, float lo, float hi);
// Training patches: centres drawn on `vol` (threshold), voxels cut from `net` (vol itself or its filled copy).
PatchSet sampleTrainingPatches(const Volume& vol, const Volume& net, const Parameters& params, float lo, float hi,
                               const TaskContext* ctx = nullptr);

// Each grid point's mean intensity over its stride-sized block (voxels inside the window), as a 1-column grid:
// what block-mean k-means, the fair baseline for strided labels, clusters.
FeatureGrid blockMeanGrid(const Volume& vol, const FeatureGrid& layout);

// What k-means sees, after the networks' features are on the grid: feature_smoothing, then the
// feature_intensity column (intensities of `vol`). Used for the JULE features and for the untrained baseline.
void finishFeatures(FeatureGrid& grid, const Volume& vol, const Parameters& params, const TaskContext* ctx = nullptr);

// JULE on `patches` once per network of the `networks` parameter, from seeds seed, seed+1, ... (same
// patches). Returns the first network's result (its labels and history) with the others' networks in
// model.moreNetworks; epochs and seconds are summed. Progress is split evenly; every network's events go to
// `events`.
JuleResult trainJuleNetworks(const PatchSet& patches, const Parameters& params, const JuleEventSink& events = {},
                             const TaskContext* ctx = nullptr);

// Raises InputError for bad parameters or inputs, ResourceError when the features would not fit in memory
// (the message proposes a larger stride), CancelledError on cancel. Files appear only when complete.
PipelineReport runSegmentationPipeline(const Parameters& params, const PipelineInputs& inputs,
                                       const JuleEventSink& events = {}, const TaskContext* ctx = nullptr,
                                       const std::function<void(const std::string&)>& log = {});

} // namespace jseg
