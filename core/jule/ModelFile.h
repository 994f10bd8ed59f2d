#pragma once
// A trained patch network and everything needed to use it again (torch-free header).
// On disk: `model.pt` (torch::save of the module's parameters and buffers) and `model.json` beside it
// (same name, extension .json): network spec, all parameters, seed, the patch standardisation (mean,
// std) that segmentation must reapply, versions and the training history. A model of several networks
// (parameter `networks`) stores the others as `model.net2.pt`, `model.net3.pt`, ... listed in the JSON.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jule/NetworkSpec.h"

namespace jseg {

class PatchNetworkImpl;  // include core/jule/PatchNetwork.h to use the network

struct JuleModel {
  NetworkSpec spec;
  std::shared_ptr<PatchNetworkImpl> network;  // on the CPU after load()
  // With `networks` > 1: the other networks, trained on the same patches from seeds seed+1, seed+2, ...
  // Segmentation puts the features of all of them side by side (each scaled by 1/sqrt(count)).
  std::vector<std::shared_ptr<PatchNetworkImpl>> moreNetworks;
  double patchMean = 0, patchStd = 1;         // input = (intensity - mean) / std
  bool standardized = false;
  nlohmann::json parameters = nlohmann::json::object();  // the Parameters used (toJson())
  nlohmann::json trainedOn = nlohmann::json::object();   // the volume it learned from: input, dims, spacing_mm
  uint64_t seed = 1;
  nlohmann::json history = nlohmann::json::array();      // one object per training period
  std::string device = "cpu";                            // where it was trained
  double trainSeconds = 0;

  std::vector<std::shared_ptr<PatchNetworkImpl>> networks() const {
    std::vector<std::shared_ptr<PatchNetworkImpl>> all{network};
    all.insert(all.end(), moreNetworks.begin(), moreNetworks.end());
    return all;
  }
};

class ModelFile {
public:
  // Writes both files atomically (no half-written output); throws InputError for an unwritable path.
  static void save(const JuleModel& model, const std::string& ptPath);
  // InputError for a missing/corrupt file or a JSON that does not match the weights.
  static JuleModel load(const std::string& ptPath);
  static std::string jsonPathFor(const std::string& ptPath);  // "x/model.pt" -> "x/model.json"
  static std::string memberPathFor(const std::string& ptPath, int member);  // member 2: "x/model.net2.pt"
  static nlohmann::json describe(const JuleModel& model);     // the JSON written beside the weights
};

} // namespace jseg
