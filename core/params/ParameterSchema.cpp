#include "core/params/ParameterSchema.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/base/Errors.h"

namespace jseg {

using nlohmann::json;

std::string ParamSpec::cliFlag() const {
  std::string f = "--" + name;
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

namespace {

ParamSpec intParam(std::string name, int def, int lo, int hi, std::string group, std::string label, std::string help,
                   bool advanced = false) {
  return {std::move(name), ParamType::Int, def, double(lo), double(hi), {}, std::move(group), std::move(label),
          std::move(help), advanced};
}
ParamSpec dblParam(std::string name, double def, double lo, double hi, std::string group, std::string label,
                   std::string help, bool advanced = false) {
  return {std::move(name), ParamType::Double, def, lo, hi, {}, std::move(group), std::move(label), std::move(help),
          advanced};
}
ParamSpec boolParam(std::string name, bool def, std::string group, std::string label, std::string help,
                    bool advanced = false) {
  return {std::move(name), ParamType::Bool, def, 0, 1, {}, std::move(group), std::move(label), std::move(help),
          advanced};
}
ParamSpec choiceParam(std::string name, std::string def, std::vector<std::string> choices, std::string group,
                      std::string label, std::string help, bool advanced = false) {
  return {std::move(name), ParamType::Choice, def, 0, 0, std::move(choices), std::move(group), std::move(label),
          std::move(help), advanced};
}

constexpr double kHuge = 3.0e38;  // "no limit" for thresholds (JSON has no infinity)

} // namespace

const std::vector<ParamSpec>& parameterSchema() {
  static const std::vector<ParamSpec> schema = {
      // Mask
      dblParam("threshold_lo", -kHuge, -kHuge, kHuge, "Mask", "Threshold low",
               "Lowest intensity of a patch's centre voxel to include it (inclusive). Separates the scanned "
               "specimen from the background; everything outside [low, high] gets label 0."),
      dblParam("threshold_hi", kHuge, -kHuge, kHuge, "Mask", "Threshold high",
               "Highest intensity of a patch's centre voxel to include it (inclusive)."),
      // Patches
      intParam("patch_size", 27, 5, 63, "Patches", "Patch size w",
               "Edge length w of the cubic patches (voxels) the network sees. The paper uses 27; it must match "
               "the network (27 for paper3d, 15 for fast3d)."),
      intParam("patches", 10000, 100, 200000, "Patches", "Training patches n_s",
               "Number of random patches JULE learns from (paper: 10,000). Training time grows linearly."),
      intParam("stride", 5, 1, 63, "Segmentation", "Stride s",
               "Grid step between patches at segmentation; each s×s×s block takes its patch's label "
               "(paper: 5). Stride 1 gives a label per voxel."),
      boolParam("fill_outside_window", false, "Patches", "Fill outside the window",
                "Replace voxels outside [low, high] by the mean of those inside before patches are cut, for "
                "training and segmentation alike, so that patches at the specimen's edge are not dominated by the "
                "background. Off reproduces the paper.",
                true),
      choiceParam("fill_rule", "mean", {"mean", "nearest"}, "Patches", "Fill rule",
                  "What fill_outside_window puts outside [low, high]: mean = the mean of the voxels inside; "
                  "nearest = the value of the nearest voxel inside, so a tissue at the edge continues instead "
                  "of meeting a step to a value of no tissue.",
                  true),
      boolParam("standardize_patches", true, "Patches", "Standardise patches",
                "Subtract the mean and divide by the standard deviation of the sampled intensities (paper "
                "§2.3). Off reproduces the reference JULE code, which feeds raw values.",
                true),
      // Network
      choiceParam("network", "paper3d", {"paper3d", "fast3d", "small3d", "local3d"}, "Network", "Network",
                  "paper3d: 3 conv 5³×50, pool after conv1, FC 1350→160 (Moriya et al.). fast3d: same layout "
                  "on 15³ patches without pooling. small3d: 25 channels, for quick trials. local3d: 3 conv "
                  "3³×25 for small patches (w = 7..11), for structures a few voxels thick."),
      boolParam("global_pool", false, "Network", "Global average pooling",
                "Average the last convolution's outputs over the patch before the linear layer, so features "
                "measure how much of each pattern a patch holds rather than where it lies (texture). Off is "
                "the paper's flatten.",
                true),
      intParam("networks", 1, 1, 16, "Network", "Networks",
               "How many networks JULE trains on the same patches (seeds seed, seed+1, ...); segmentation "
               "clusters their features side by side. One network's result varies with the seed; several "
               "steady it at the cost of training time. 1 is the paper."),
      choiceParam("device", "auto", {"auto", "cpu", "cuda"}, "Network", "Device",
                  "Where the network runs: auto uses CUDA when this build's LibTorch has it and a GPU is present."),
      // JULE clustering (forward pass)
      intParam("clusters", 100, 2, 100000, "Clustering", "Final clusters C",
               "JULE stops merging at this many clusters (paper: 100, or 10 for one specimen)."),
      intParam("knn", 20, 2, 200, "Clustering", "Graph neighbours K_s",
               "Neighbours per sample in the affinity graph (JULE: 20).", true),
      intParam("kc", 5, 2, 50, "Clustering", "Local neighbours K_c",
               "Clusters compared in the local-structure term of the merge criterion (JULE: 5).", true),
      dblParam("lambda", 1.0, 0.0, 100.0, "Clustering", "λ",
               "Weight of the local-structure term (the reference code hard-wires 1).", true),
      intParam("lambda_min_clusters", 100, 0, 1000000, "Clustering", "λ active above",
               "The local-structure term is used only while more clusters than this remain (reference code: "
               "100).",
               true),
      dblParam("eta", 0.9, 0.01, 1.0, "Clustering", "Unrolling rate η",
               "Fraction of the clusters merged in each period (JULE README: 0.9 except for faces, 0.2).", true),
      boolParam("faithful_triangular_knn", true, "Clustering", "Reference neighbour lists",
                "Use the reference code's upper-triangular cluster neighbour lists; off uses the full "
                "symmetric affinity row as the paper describes.",
                true),
      boolParam("fast_row_update", true, "Clustering", "Approximate row update",
                "Reproduce the reference code's approximate affinity update after a merge; off recomputes the "
                "merged cluster's affinities exactly.",
                true),
      choiceParam("initial_clusters", "raw", {"raw", "network"}, "Clustering", "Initial clusters from",
                  "What period 0 clusters: raw patch voxels (JULE) or the untrained network's features, which "
                  "respond to texture that raw-voxel distances see as noise.",
                  true),
      boolParam("recluster_final", false, "Clustering", "Re-cluster at the end (RC)",
                "After training, re-run agglomerative clustering from scratch on the final features (JULE-RC).",
                true),
      // Training (backward pass)
      intParam("epochs_per_period", 20, 1, 200, "Training", "Epochs per period",
               "CNN epochs between two clustering updates (JULE: 20).", true),
      intParam("batch_size", 100, 8, 4096, "Training", "Batch size", "Mini-batch size (JULE: 100).", true),
      dblParam("learning_rate", 0.01, 1e-6, 1.0, "Training", "Learning rate", "Base SGD learning rate (JULE: 0.01).",
               true),
      dblParam("momentum", 0.9, 0.0, 0.999, "Training", "Momentum", "SGD momentum (JULE: 0.9).", true),
      dblParam("dampening", 0.9, 0.0, 1.0, "Training", "Dampening",
               "SGD dampening; Torch7's optim.sgd uses the momentum value (0.9).", true),
      dblParam("weight_decay", 5e-5, 0.0, 1.0, "Training", "Weight decay", "L2 weight decay on all parameters (5e-5).",
               true),
      dblParam("lr_gamma", 1e-4, 0.0, 1.0, "Training", "LR decay γ", "\"inv\" schedule: lr·(1+γ·iter)^(−power).",
               true),
      dblParam("lr_power", 0.75, 0.0, 4.0, "Training", "LR decay power", "\"inv\" schedule power (0.75).", true),
      dblParam("margin", 0.2, 0.0, 4.0, "Training", "Triplet margin", "Margin of the triplet hinge loss (JULE: 0.2).",
               true),
      dblParam("triplet_gamma", 1.0, 0.0, 10.0, "Training", "Triplet γ",
               "Weight of the positive distance in the triplet loss (JULE: 1).", true),
      intParam("negatives", 20, 1, 100, "Training", "Negatives per pair",
               "Negatives drawn for each positive pair in a batch (JULE: 20).", true),
      boolParam("anchor_only_gradient", true, "Training", "Anchor-only gradient",
                "Reproduce the reference code, where only the anchor receives gradient (γ = 1); off uses the "
                "full triplet gradient.",
                true),
      boolParam("final_pass", true, "Training", "Train on final labels",
                "Moriya et al.'s extension: one more training period on the final cluster labels.", true),
      boolParam("bn_train_features", false, "Training", "BN in training mode for clustering",
                "Reproduce the reference code, which clusters on features computed with batch norm in training "
                "mode (statistics of consecutive batches); off uses the running statistics (eval mode).",
                true),
      intParam("max_epochs", 1000, 1, 100000, "Training", "Max epochs", "Upper bound on CNN epochs (JULE: 1000).",
               true),
      // Segmentation
      intParam("k", 3, 2, 64, "Segmentation", "Regions K", "Number of regions k-means divides the features into "
                                                          "(paper: 3)."),
      intParam("kmeans_restarts", 4, 1, 100, "Segmentation", "k-means restarts",
               "k-means++ initialisations tried; the one with the least inertia wins.", true),
      intParam("kmeans_max_iter", 100, 1, 10000, "Segmentation", "k-means iterations", "Iteration cap per restart.",
               true),
      intParam("feature_smoothing", 0, 0, 50, "Segmentation", "Feature smoothing",
               "Before k-means, replace each grid point's features by their mean over the grid points within this "
               "many voxels along each axis (0 = off, the paper). Steadies wide regions whose patches vary; blurs "
               "boundaries by as much. Has no effect below the stride."),
      boolParam("feature_intensity", false, "Segmentation", "Add centre intensity",
                "Append the patch centre's standardised intensity to the CNN features before k-means, so fine "
                "structures below the patch scale are kept.",
                true),
      dblParam("intensity_weight", 1.0, 0.0, 100.0, "Segmentation", "Intensity weight",
               "Scale of the appended centre intensity relative to the unit-norm CNN features.", true),
      // Reproducibility
      intParam("seed", 1, 0, 2147483647, "General", "Seed", "Seed of every random choice (patches, weights, "
                                                           "batches, k-means)."),
      intParam("threads", 0, 0, 1024, "General", "Threads", "CPU threads (0 = all cores).", true),
  };
  return schema;
}

const ParamSpec& paramSpec(const std::string& name) {
  for (const auto& p : parameterSchema())
    if (p.name == name) return p;
  throw InputError("unknown parameter '" + name + "'");
}

const std::vector<Preset>& parameterPresets() {
  static const std::vector<Preset> presets = {
      {"paper", "Moriya et al. 2018: 10,000 patches of 27³, C = 100, stride 5, K = 3 (hours on a CPU).", json::object()},
      {"fast",
       "Minutes on 2 CPU cores: 2,000 patches of 15³ through the small3d network (25 channels, no pooling), "
       "C = 20, 5 epochs a period, initial clusters from the untrained network's features and the background "
       "filled before patches are cut (both measured on the demo phantom, stride 5: JULE NMI 0.29 -> 0.63). "
       "Training on mni152 (threshold 1:255) takes 1.5-9 min on 2 cores (quiet to shared) vs. a projected "
       "2-8 h for the paper preset.",
       {{"network", "small3d"},
        {"patch_size", 15},
        {"patches", 2000},
        {"clusters", 20},
        {"epochs_per_period", 5},
        {"initial_clusters", "network"},
        {"fill_outside_window", true}}},
      {"texture",
       "For regions that are wide and differ by texture more than by mean intensity (micro-CT tissues, the demo "
       "phantom): the fast preset's training with the local3d network on 9³ patches, a label per voxel "
       "(stride 1) and features smoothed over 3 voxels before k-means. Demo phantom, seeds 1-6: JULE NMI "
       "0.82-0.86 against intensity k-means 0.61. Not for 1 mm brain MRI, whose cortex is thinner than the "
       "smoothing.",
       {{"network", "local3d"},
        {"patch_size", 9},
        {"patches", 2000},
        {"clusters", 20},
        {"epochs_per_period", 5},
        {"initial_clusters", "network"},
        {"fill_outside_window", true},
        {"stride", 1},
        {"feature_smoothing", 3}}},
  };
  return presets;
}

Parameters::Parameters() {
  values_ = json::object();
  for (const auto& p : parameterSchema()) values_[p.name] = p.defaultValue;
}

Parameters Parameters::preset(const std::string& name) {
  Parameters p;
  p.applyPreset(name);
  return p;
}

void Parameters::applyPreset(const std::string& name) {
  for (const auto& pr : parameterPresets()) {
    if (pr.name != name) continue;
    for (auto it = pr.overrides.begin(); it != pr.overrides.end(); ++it) set(it.key(), it.value());
    return;
  }
  std::string names;
  for (const auto& pr : parameterPresets()) names += (names.empty() ? "" : ", ") + pr.name;
  throw InputError("unknown preset '" + name + "' (choose one of: " + names + ")");
}

namespace {
std::string rangeText(const ParamSpec& s) {
  std::ostringstream o;
  o << "[" << s.min << ", " << s.max << "]";
  return o.str();
}
} // namespace

void Parameters::set(const std::string& name, const json& value) {
  const ParamSpec& s = paramSpec(name);
  switch (s.type) {
    case ParamType::Int: {
      if (!value.is_number()) throw InputError("parameter " + name + " must be an integer");
      double d = value.get<double>();
      if (std::floor(d) != d) throw InputError("parameter " + name + " must be an integer, got " + value.dump());
      if (d < s.min || d > s.max)
        throw InputError("parameter " + name + " = " + value.dump() + " is out of range " + rangeText(s));
      values_[name] = static_cast<long long>(d);
      break;
    }
    case ParamType::Double: {
      if (!value.is_number()) throw InputError("parameter " + name + " must be a number");
      double d = value.get<double>();
      if (!std::isfinite(d) || d < s.min || d > s.max)
        throw InputError("parameter " + name + " = " + value.dump() + " is out of range " + rangeText(s));
      values_[name] = d;
      break;
    }
    case ParamType::Bool:
      if (!value.is_boolean()) throw InputError("parameter " + name + " must be true or false");
      values_[name] = value;
      break;
    case ParamType::Choice: {
      if (!value.is_string()) throw InputError("parameter " + name + " must be one of its choices");
      auto v = value.get<std::string>();
      if (std::find(s.choices.begin(), s.choices.end(), v) == s.choices.end()) {
        std::string all;
        for (const auto& c : s.choices) all += (all.empty() ? "" : ", ") + c;
        throw InputError("parameter " + name + " = '" + v + "' is not one of: " + all);
      }
      values_[name] = v;
      break;
    }
  }
}

void Parameters::setFromString(const std::string& name, const std::string& text) {
  const ParamSpec& s = paramSpec(name);
  try {
    switch (s.type) {
      case ParamType::Int:
      case ParamType::Double: {
        std::size_t used = 0;
        double d = std::stod(text, &used);
        if (used != text.size()) throw std::invalid_argument("trailing");
        if (s.type == ParamType::Int && std::floor(d) == d) set(name, static_cast<long long>(d));
        else set(name, d);
        return;
      }
      case ParamType::Bool:
        if (text == "true" || text == "1" || text == "on" || text == "yes") return set(name, true);
        if (text == "false" || text == "0" || text == "off" || text == "no") return set(name, false);
        throw std::invalid_argument("bool");
      case ParamType::Choice: return set(name, text);
    }
  } catch (const std::invalid_argument&) {
    throw InputError("parameter " + name + ": cannot read '" + text + "' as a value");
  } catch (const std::out_of_range&) {
    throw InputError("parameter " + name + ": '" + text + "' is out of range " + rangeText(s));
  }
}

const json& Parameters::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw InputError("unknown parameter '" + name + "'");
  return *it;
}
int Parameters::getInt(const std::string& name) const { return static_cast<int>(get(name).get<long long>()); }
double Parameters::getDouble(const std::string& name) const { return get(name).get<double>(); }
bool Parameters::getBool(const std::string& name) const { return get(name).get<bool>(); }
std::string Parameters::getString(const std::string& name) const { return get(name).get<std::string>(); }

Parameters Parameters::fromJson(const json& j) {
  if (!j.is_object()) throw InputError("parameters must be a JSON object");
  Parameters p;
  for (auto it = j.begin(); it != j.end(); ++it) p.set(it.key(), it.value());
  p.validate();
  return p;
}

void Parameters::validate() const {
  double lo = getDouble("threshold_lo"), hi = getDouble("threshold_hi");
  if (lo > hi) {
    std::ostringstream o;
    o << "threshold low " << lo << " is above threshold high " << hi;
    throw InputError(o.str());
  }
  int w = getInt("patch_size"), s = getInt("stride");
  if (s > w)
    throw InputError("stride " + std::to_string(s) + " is larger than the patch size " + std::to_string(w) +
                     " (the paper requires s <= w)");
  if (w % 2 == 0) throw InputError("patch size " + std::to_string(w) + " must be odd so a patch has a centre voxel");
  if (getInt("clusters") >= getInt("patches"))
    throw InputError("final clusters C = " + std::to_string(getInt("clusters")) + " must be fewer than the " +
                     std::to_string(getInt("patches")) + " training patches");
}

} // namespace jseg
