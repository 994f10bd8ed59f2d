#pragma once
// The evaluation battery: with a ground truth, JULE's labels are scored side by side with what a user could
// have had without JULE, at the same K, stride and window (seed paper §3 compares with intensity k-means):
//   intensity_kmeans, multi_otsu          voxel-level intensity baselines (one channel);
//   kmeans_all_channels, kmeans_<name>,   with several channels: k-means on all channels (each standardised),
//   multi_otsu, multi_otsu_<name>         on each channel alone, and multi-Otsu on the first (multi_otsu) and
//                                         on each added channel;
//   block_mean_kmeans                     k-means on each grid block's mean intensity (the fair baseline
//                                         for strided labels; only when stride > 1);
//   smoothed_intensity_kmeans             those block means smoothed as the features are (only with
//                                         feature_smoothing), so a gain over it is the features' doing;
//   untrained_network                     as many untrained networks as the model has, features finished
//                                         the same way, so a gain over it is the training's doing.
// Torch-free header.
#include <string>
#include <vector>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/params/ParameterSchema.h"
#include "core/segment/FeatureGrid.h"

namespace jseg {

struct JuleModel;

struct MethodScore {
  std::string method;  // "jule", then the battery's names above
  double nmi = 0;
};

struct EvaluationInputs {
  const Volume* volume = nullptr;         // intensities (labels and baselines); the first channel
  std::vector<const Volume*> moreChannels;  // co-registered channels after the first, same grid
  std::vector<std::string> channelNames;    // one per channel, the first's included
  std::vector<const Volume*> networkInputs;  // what the networks see: every channel, or its filled copy
  const LabelVolume* truth = nullptr;
  const FeatureGrid* layout = nullptr;    // JULE's grid: stride, window and block layout
  const JuleModel* model = nullptr;       // for the untrained networks' architecture; null skips them
  const Mask* roi = nullptr;              // region of interest: baselines and NMI inside it only
  Parameters params;
  int k = 3;
  float lo = 0, hi = 0;
};

struct NamedLabels {
  std::string method;
  LabelVolume labels;
};

// The voxel-level baselines alone (what a user gets without any network): needs volume, channels, params (seed,
// k-means settings), k, lo, hi and roi. Labels 0 outside the window and the region.
std::vector<NamedLabels> voxelBaselines(const EvaluationInputs& in, const TaskContext* ctx = nullptr);

// NMI of every baseline that applies, in the order listed above. Cancellable.
std::vector<MethodScore> runEvaluationBattery(const EvaluationInputs& in, const TaskContext* ctx = nullptr);

} // namespace jseg
