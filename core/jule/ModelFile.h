#pragma once
// A trained patch network and everything needed to use it again (torch-free header).
// On disk: `model.pt` (torch::save of the module's parameters and buffers) and `model.json` beside it
// (same name, extension .json): network spec, all parameters, seed, the patch standardisation (mean,
// std per input channel) that segmentation must reapply, the channels' names, versions and the training
// history, the device and the precision it was trained in. A model.json written before channels existed has none of the channel fields: it is read as one
// channel "intensity" with the scalar patch mean/std. A model of several networks
// (parameter `networks`) stores the others as `model.net2.pt`, `model.net3.pt`, ... listed in the JSON.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/Errors.h"
#include "core/jule/NetworkSpec.h"

namespace jseg {

class PatchNetworkImpl;  // include core/jule/PatchNetwork.h to use the network

struct JuleModel {
  NetworkSpec spec;
  std::shared_ptr<PatchNetworkImpl> network;  // on the CPU after load()
  // With `networks` > 1: the other networks, trained on the same patches from seeds seed+1, seed+2, ...
  // Segmentation puts the features of all of them side by side (each scaled by 1/sqrt(count)).
  std::vector<std::shared_ptr<PatchNetworkImpl>> moreNetworks;
  double patchMean = 0, patchStd = 1;         // channel 0: input = (intensity - mean) / std
  // Per input channel when spec.inChannels > 1: input c = (volume c - channelMean[c]) / channelStd[c]
  // (patchMean/patchStd then repeat channel 0's). A one-channel model uses patchMean/patchStd only, so code
  // that sets those keeps working; inputMeans()/inputStds() give the values for any channel count.
  std::vector<double> channelMean, channelStd;
  // What each channel is ("flair", "t1c"), for messages and for matching volumes to channels on reuse.
  std::vector<std::string> channelNames{"intensity"};
  bool standardized = false;
  nlohmann::json parameters = nlohmann::json::object();  // the Parameters used (toJson())
  nlohmann::json trainedOn = nlohmann::json::object();   // the volume it learned from: input, dims, spacing_mm
  uint64_t seed = 1;
  nlohmann::json history = nlohmann::json::array();      // one object per training period
  std::string device = "cpu";                            // where it was trained
  std::string precision = "fp32";                        // convolutions' format in training (resolved: fp32|bf16)
  double trainSeconds = 0;

  int channels() const { return spec.inChannels; }
  // {patchMean}/{patchStd} for one channel, else channelMean/channelStd (InputError when they do not have
  // spec.inChannels entries). They are returned whether or not `standardized` is set: callers check it.
  // (Inline: segmentation code that links no model-file I/O uses them.)
  std::vector<double> inputMeans() const { return perChannel(channelMean, patchMean, "mean"); }
  std::vector<double> inputStds() const { return perChannel(channelStd, patchStd, "std"); }
  // channelNames when there is one per channel, else "intensity" (one channel) or "channel 1", "channel 2", ...
  std::vector<std::string> inputNames() const {
    if (int(channelNames.size()) == channels()) return channelNames;
    if (channels() == 1) return {"intensity"};
    std::vector<std::string> names;
    for (int c = 1; c <= channels(); ++c) names.push_back("channel " + std::to_string(c));
    return names;
  }

  std::vector<std::shared_ptr<PatchNetworkImpl>> networks() const {
    std::vector<std::shared_ptr<PatchNetworkImpl>> all{network};
    all.insert(all.end(), moreNetworks.begin(), moreNetworks.end());
    return all;
  }

private:
  std::vector<double> perChannel(const std::vector<double>& values, double single, const char* what) const {
    if (channels() == 1) return {single};
    if (int(values.size()) == channels()) return values;
    throw InputError("the model has " + std::to_string(values.size()) + " patch " + what + " values for its " +
                     std::to_string(channels()) + " input channels");
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
