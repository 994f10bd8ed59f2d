#pragma once
// A trained patch network and everything needed to use it again (torch-free header).
// On disk: `model.pt` (torch::save of the module's parameters and buffers) and `model.json` beside it
// (same name, extension .json): network spec, all parameters, seed, the patch standardisation (mean,
// std) that segmentation must reapply, versions and the training history.
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/jule/NetworkSpec.h"

namespace jseg {

class PatchNetworkImpl;  // include core/jule/PatchNetwork.h to use the network

struct JuleModel {
  NetworkSpec spec;
  std::shared_ptr<PatchNetworkImpl> network;  // on the CPU after load()
  double patchMean = 0, patchStd = 1;         // input = (intensity - mean) / std
  bool standardized = false;
  nlohmann::json parameters = nlohmann::json::object();  // the Parameters used (toJson())
  uint64_t seed = 1;
  nlohmann::json history = nlohmann::json::array();      // one object per training period
  std::string device = "cpu";                            // where it was trained
  double trainSeconds = 0;
};

class ModelFile {
public:
  // Writes both files atomically (no half-written output); throws InputError for an unwritable path.
  static void save(const JuleModel& model, const std::string& ptPath);
  // InputError for a missing/corrupt file or a JSON that does not match the weights.
  static JuleModel load(const std::string& ptPath);
  static std::string jsonPathFor(const std::string& ptPath);  // "x/model.pt" -> "x/model.json"
  static nlohmann::json describe(const JuleModel& model);     // the JSON written beside the weights
};

} // namespace jseg
