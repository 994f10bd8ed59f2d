#include "core/jule/ModelFile.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <torch/torch.h>

#include "core/base/Errors.h"
#include "core/io/AtomicFile.h"
#include "core/jule/PatchNetwork.h"
#include "core/jule/TorchRuntime.h"

namespace jseg {

namespace fs = std::filesystem;

namespace {
constexpr const char* kFormat = "juleseg-model";
// Version 2: several input channels. One-channel models still say 1, so that older juleseg reads them; a
// multi-channel one says 2, so that older juleseg refuses it with "newer juleseg" instead of a weight mismatch.
constexpr int kFormatVersion = 2;
int formatVersionFor(const JuleModel& m) { return m.spec.inChannels > 1 ? 2 : 1; }

void saveWeights(PatchNetworkImpl& network, const NetworkSpec& spec, const std::string& tempPath,
                 const std::string& path) {
  try {
    // Always stored as CPU tensors so a model trained on a GPU loads anywhere.
    auto copy = std::make_shared<PatchNetworkImpl>(spec);
    {
      torch::NoGradGuard ng;
      auto src = network.named_parameters(true);
      for (auto& p : copy->named_parameters(true)) p.value().copy_(src[p.key()].to(torch::kCPU));
      auto srcB = network.named_buffers(true);
      for (auto& b : copy->named_buffers(true)) b.value().copy_(srcB[b.key()].to(torch::kCPU));
    }
    // Serialised in memory first: LibTorch's file writer finishes the archive in a destructor, and a write error
    // there (disk full) calls std::terminate. Our own write reports the system's reason instead.
    std::ostringstream bytes(std::ios::binary);
    torch::save(copy, bytes);
    writeFileBytes(tempPath, bytes.str(), path);
  } catch (const c10::Error& e) {
    throw WriteError("cannot write " + path + ": cannot serialise the model weights (" +
                     std::string(e.what_without_backtrace()).substr(0, 200) + ")");
  }
}

std::shared_ptr<PatchNetworkImpl> loadWeights(const NetworkSpec& spec, const std::string& path,
                                              const std::string& jsonPath) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw InputError(path + ": no such model file (" + jsonPath + " lists it)");
  auto net = std::make_shared<PatchNetworkImpl>(spec);
  try {
    torch::load(net, path, torch::Device(torch::kCPU));
  } catch (const c10::Error& e) {
    throw InputError(path + ": cannot read the weights or they do not match " + jsonPath + " (" +
                     std::string(e.what_without_backtrace()).substr(0, 200) + ")");
  }
  net->eval();
  return net;
}
} // namespace

std::string ModelFile::jsonPathFor(const std::string& ptPath) {
  fs::path p(ptPath);
  return p.replace_extension(".json").string();
}

std::string ModelFile::memberPathFor(const std::string& ptPath, int member) {
  fs::path p(ptPath);
  return p.replace_extension(".net" + std::to_string(member) + p.extension().string()).string();
}

nlohmann::json ModelFile::describe(const JuleModel& m) {
  const auto means = m.inputMeans(), stds = m.inputStds();
  return {{"format", kFormat},
          {"format_version", formatVersionFor(m)},
          {"juleseg_version", JULESEG_VERSION},
          {"torch_version", TorchRuntime::torchVersion()},
          {"network", m.spec.toJson()},
          {"parameters", m.parameters},
          {"trained_on", m.trainedOn},
          {"seed", m.seed},
          // mean/std: channel 0's, which is all that readers from before channels know.
          {"patch", {{"mean", means[0]}, {"std", stds[0]}, {"standardized", m.standardized},
                     {"size", m.spec.inputSize}, {"channel_means", means}, {"channel_stds", stds}}},
          {"channel_names", m.inputNames()},
          {"device", m.device},
          {"precision", m.precision},
          {"train_seconds", m.trainSeconds},
          {"history", m.history},
          {"networks", 1 + m.moreNetworks.size()}};  // members 2.. in memberPathFor(ptPath, i)
}

void ModelFile::save(const JuleModel& m, const std::string& ptPath) {
  if (!m.network) throw InputError("no trained network to save");
  fs::path parent = fs::path(ptPath).parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::is_directory(parent, ec))
    throw InputError(ptPath + ": the folder " + parent.string() + " does not exist");
  const std::string jsonPath = jsonPathFor(ptPath);
  if (jsonPath == ptPath) throw InputError(ptPath + ": the model file must not end in .json");

  const auto nets = m.networks();
  std::vector<std::unique_ptr<AtomicFile>> weights;
  for (std::size_t i = 0; i < nets.size(); ++i) {
    const std::string path = i == 0 ? ptPath : memberPathFor(ptPath, int(i) + 1);
    if (!nets[i]) throw InputError(path + ": network " + std::to_string(i + 1) + " of the model is missing");
    weights.push_back(std::make_unique<AtomicFile>(path));
    saveWeights(*nets[i], m.spec, weights.back()->tempPath(), path);
  }
  AtomicFile js(jsonPath);
  writeFileBytes(js.tempPath(), describe(m).dump(2) + "\n", jsonPath);
  for (auto& w : weights) w->commit();
  js.commit();
}

JuleModel ModelFile::load(const std::string& ptPath) {
  std::error_code ec;
  if (!fs::is_regular_file(ptPath, ec)) throw InputError(ptPath + ": no such model file");
  const std::string jsonPath = jsonPathFor(ptPath);
  std::ifstream f(jsonPath, std::ios::binary);
  if (!f) throw InputError(jsonPath + ": missing (a model needs its .json description beside the .pt weights)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(jsonPath + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object() || j.value("format", "") != kFormat)
    throw InputError(jsonPath + ": not a juleseg model description");
  if (j.value("format_version", 0) > kFormatVersion)
    throw InputError(jsonPath + ": written by a newer juleseg (model format " +
                     std::to_string(j.value("format_version", 0)) + ")");
  JuleModel m;
  try {
    m.spec = NetworkSpec::fromJson(j.at("network"));
    const auto& p = j.at("patch");
    m.patchMean = p.at("mean").get<double>();
    m.patchStd = p.at("std").get<double>();
    m.standardized = p.at("standardized").get<bool>();
    // Absent before channels existed: one channel, the scalar mean/std.
    m.channelMean = p.value("channel_means", std::vector<double>{m.patchMean});
    m.channelStd = p.value("channel_stds", std::vector<double>{m.patchStd});
    m.channelNames = j.value("channel_names", std::vector<std::string>{});
    m.parameters = j.value("parameters", nlohmann::json::object());
    m.trainedOn = j.value("trained_on", nlohmann::json::object());
    m.seed = j.value("seed", uint64_t(1));
    m.history = j.value("history", nlohmann::json::array());
    m.device = j.value("device", std::string("cpu"));
    m.precision = j.value("precision", std::string("fp32"));  // absent before issue 18: everything ran fp32
    m.trainSeconds = j.value("train_seconds", 0.0);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(jsonPath + ": incomplete model description (" + e.what() + ")");
  }
  const auto channels = std::size_t(m.spec.inChannels);
  if (m.channelMean.size() != channels || m.channelStd.size() != channels)
    throw InputError(jsonPath + ": the network takes " + std::to_string(channels) + " input channels but the patch "
                     "standardisation has " + std::to_string(m.channelMean.size()) + " means and " +
                     std::to_string(m.channelStd.size()) + " standard deviations");
  if (channels == 1) {
    m.channelMean.clear();  // one channel: patchMean/patchStd are the values (see JuleModel)
    m.channelStd.clear();
  } else {
    m.patchMean = m.channelMean[0];
    m.patchStd = m.channelStd[0];
  }
  if (m.precision != "fp32" && m.precision != "bf16")
    throw InputError(jsonPath + ": unknown precision '" + m.precision + "' (fp32 or bf16)");
  if (!(m.patchStd > 0)) throw InputError(jsonPath + ": patch std must be positive");
  for (double sd : m.channelStd)
    if (!(sd > 0)) throw InputError(jsonPath + ": every channel's patch std must be positive");
  if (m.channelNames.size() != channels) m.channelNames = m.inputNames();
  int count = 1;
  try {
    count = j.value("networks", 1);
  } catch (const nlohmann::json::exception&) {
    count = 0;
  }
  if (count < 1 || count > 16) throw InputError(jsonPath + ": \"networks\" must be 1 to 16 (the parameter's range)");
  m.network = loadWeights(m.spec, ptPath, jsonPath);
  for (int i = 2; i <= count; ++i) m.moreNetworks.push_back(loadWeights(m.spec, memberPathFor(ptPath, i), jsonPath));
  return m;
}

} // namespace jseg
