#pragma once
// JULE's recurrent loop (jule-reference.md §1.1, §8) with Moriya et al.'s extension (seed paper §2.2):
//   period 0: cluster the raw patches (rows renormalised to norm <= 1) into the initial 1-NN clusters;
//   then repeat: train the CNN `epochsPerPeriod` epochs on the current labels (triplet loss), extract
//   features, merge min(ceil(η·nc), nc − C) pairs (AgglomerativeClustering), until nc <= C;
//   then (finalPass, the paper's extension) train one more period on the final labels;
//   optionally (reclusterFinal, JULE-RC) re-cluster from scratch on the final features.
// maxEpochs caps all training; when it is reached before C, merging continues on fixed features so the
// result still has C clusters. Torch-free header (pimpl): the GUI and CLI include it.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/Progress.h"
#include "core/jule/AgglomerativeClustering.h"
#include "core/jule/ModelFile.h"
#include "core/jule/NetworkSpec.h"

namespace jseg {

class Parameters;
struct ParameterValues;
struct PatchSet;

struct JuleOptions {
  NetworkSpec network;
  int clusters = 100;            // C
  double eta = 0.9;
  int epochsPerPeriod = 20;
  int batchSize = 100;
  double learningRate = 0.01, momentum = 0.9, dampening = 0.9, weightDecay = 5e-5;
  double lrGamma = 1e-4, lrPower = 0.75;  // "inv": lr·(1 + γ·iter)^(−power), iter global over all periods
  double margin = 0.2, tripletGamma = 1.0;
  int negatives = 20;
  bool anchorOnlyGradient = true;  // reference: only the anchor gets gradient
  bool finalPass = true;           // Moriya et al.: train once more on the final labels
  bool reclusterFinal = false;     // JULE-RC
  bool bnTrainModeFeatures = false;  // reference quirk: cluster on features from BN in training mode
  bool initialFromNetwork = false;   // period 0 clusters the untrained network's features, not raw patches
  int maxEpochs = 1000;
  uint64_t seed = 1;
  std::string device = "auto";
  std::string precision = "auto";  // "auto" | "fp32" | "bf16" (ComputePrecision.h)
  int threads = 0;
  GdlOptions gdl;

  // From the parameter schema (network from `network` and `patch_size`).
  static JuleOptions fromParameters(const Parameters& p);
  static JuleOptions fromParameters(const ParameterValues& v);
  static double learningRateAt(double base, double gamma, double power, int64_t iteration);
};

// Typed events for front ends (GUI live view, CLI progress bar).
struct PeriodEvent {   // a training period has finished (period 0 = training on the initial clusters)
  int period = 0;
  int clusters = 0;    // clusters the period trained on
  double loss = 0;     // mean triplet loss of its last epoch
  int epochs = 0;      // epochs in this period
  double seconds = 0;  // wall time of the period (training + the clustering before it)
  double patchesPerS = 0;  // training throughput (forward + backward)
  double etaS = -1;    // estimated seconds left
  bool finalPass = false;
};
struct MergeEvent {
  int period = 0;
  int clustersLeft = 0, mergesDone = 0, mergesPlanned = 0;
};
struct EpochEvent {
  int period = 0;
  int epoch = 0;        // global epoch counter (1-based, after the epoch)
  int epochInPeriod = 0;
  double loss = 0;
  double seconds = 0;
};
struct ClusterSizesEvent {
  int period = 0;
  std::vector<int> sizes;  // descending
};
struct NetworkStartEvent {  // with `networks` > 1: the next network starts training (1-based)
  int network = 1;
  int networks = 1;
};
using JuleEvent = std::variant<PeriodEvent, MergeEvent, EpochEvent, ClusterSizesEvent, NetworkStartEvent>;
using JuleEventSink = std::function<void(const JuleEvent&)>;
nlohmann::json toJson(const JuleEvent& e);  // {"type":"period"|"merge"|"epoch"|"cluster_sizes"|"network", ...}

struct JuleResult {
  JuleModel model;                  // trained network (on the training device), spec, history
  std::vector<int> labels;          // final labels 0..C-1 of the training samples
  std::vector<int> labelsAtStop;    // labels when merging reached C (JULE-SF), before RC
  std::vector<PeriodEvent> history;
  int epochs = 0;
  double seconds = 0;
};

class JuleTrainer {
public:
  explicit JuleTrainer(JuleOptions options, JuleEventSink sink = {});
  ~JuleTrainer();
  JuleTrainer(const JuleTrainer&) = delete;
  JuleTrainer& operator=(const JuleTrainer&) = delete;

  // samples: n x network.inputVoxels() floats (already standardised; with network.inChannels > 1 each sample
  // is its channels one after the other). CancelledError via ctx.
  JuleResult run(const float* samples, int n, const TaskContext* ctx = nullptr);
  // Convenience: trains on a PatchSet and records its standardisation in the model (per channel when the
  // network takes several). InputError when the set's patch size or channel count is not the network's.
  JuleResult run(const PatchSet& patches, const TaskContext* ctx = nullptr);

  // Estimated training epochs still to run from nc clusters (periods until C under η, plus final pass).
  static int estimateRemainingEpochs(int nc, const JuleOptions& o);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace jseg
