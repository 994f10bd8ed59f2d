#include "core/jule/NetworkSpec.h"

#include <cmath>

#include "core/base/Errors.h"

namespace jseg {

namespace {
int pooled(int size, int pool, bool ceilMode) {
  return ceilMode ? (size - pool + pool - 1) / pool + 1 : (size - pool) / pool + 1;
}
} // namespace

int NetworkSpec::trunkOutputSize() const {
  int s = inputSize;
  for (const auto& c : convs) {
    s = s - c.kernel + 1;
    if (s < 1)
      throw InputError("network " + name + ": input size " + std::to_string(inputSize) +
                       " is too small for its convolutions");
    if (c.poolAfter) {
      if (s < poolSize)
        throw InputError("network " + name + ": input size " + std::to_string(inputSize) +
                         " is too small for its pooling");
      s = pooled(s, poolSize, poolCeil);
    }
  }
  return s;
}

int NetworkSpec::trunkChannels() const { return convs.empty() ? 1 : convs.back().channels; }

int NetworkSpec::flatSize() const {
  int t = trunkOutputSize();
  int v = trunkChannels();
  if (globalPool) return v;
  for (int i = 0; i < spatialDims; ++i) v *= t;
  return v;
}

int NetworkSpec::spatialVoxels() const {
  int v = 1;
  for (int i = 0; i < spatialDims; ++i) v *= inputSize;
  return v;
}

int NetworkSpec::inputVoxels() const { return inChannels * spatialVoxels(); }

double NetworkSpec::macsPerSample() const {
  double macs = 0;
  int s = inputSize, cin = inChannels;
  for (const auto& c : convs) {
    s = s - c.kernel + 1;
    double out = std::pow(double(s), spatialDims), k = std::pow(double(c.kernel), spatialDims);
    macs += out * c.channels * cin * k;
    cin = c.channels;
    if (c.poolAfter) s = pooled(s, poolSize, poolCeil);
  }
  macs += double(flatSize()) * featureDim;
  return macs;
}

NetworkSpec NetworkSpec::byName(const std::string& name, int patchSize) {
  NetworkSpec s;
  s.name = name;
  s.inputSize = patchSize;
  if (name == "paper3d") {
    s.convs = {{50, 5, true}, {50, 5, false}, {50, 5, false}};
  } else if (name == "fast3d") {
    s.convs = {{50, 5, false}, {50, 5, false}, {50, 5, false}};
  } else if (name == "small3d") {
    bool pool = patchSize >= 23;
    s.convs = {{25, 5, pool}, {25, 5, false}, {25, 5, false}};
  } else if (name == "local3d") {
    s.convs = {{25, 3, false}, {25, 3, false}, {25, 3, false}};
  } else if (name == "image2d") {
    s.spatialDims = 2;
    s.convs = {{50, 3, false}, {50, 3, false}};
  } else {
    std::string all;
    for (const auto& n : names()) all += (all.empty() ? "" : ", ") + n;
    throw InputError("unknown network '" + name + "' (choose one of: " + all + ")");
  }
  s.trunkOutputSize();  // validates the patch size
  return s;
}

std::vector<std::string> NetworkSpec::names() { return {"paper3d", "fast3d", "small3d", "local3d", "image2d"}; }

nlohmann::json NetworkSpec::toJson() const {
  nlohmann::json convJson = nlohmann::json::array();
  for (const auto& c : convs)
    convJson.push_back({{"channels", c.channels}, {"kernel", c.kernel}, {"pool_after", c.poolAfter}});
  return {{"name", name},         {"spatial_dims", spatialDims}, {"input_size", inputSize},
          {"in_channels", inChannels}, {"convs", convJson}, {"pool_size", poolSize},
          {"pool_ceil", poolCeil},    {"feature_dim", featureDim}, {"global_pool", globalPool},
          {"flat_size", flatSize()}};
}

NetworkSpec NetworkSpec::fromJson(const nlohmann::json& j) {
  try {
    NetworkSpec s;
    s.name = j.at("name").get<std::string>();
    s.spatialDims = j.at("spatial_dims").get<int>();
    s.inputSize = j.at("input_size").get<int>();
    s.poolSize = j.at("pool_size").get<int>();
    s.poolCeil = j.at("pool_ceil").get<bool>();
    s.featureDim = j.at("feature_dim").get<int>();
    s.globalPool = j.value("global_pool", false);  // absent in models saved before the option existed
    s.inChannels = j.value("in_channels", 1);       // absent in models saved before channels existed
    for (const auto& c : j.at("convs"))
      s.convs.push_back({c.at("channels").get<int>(), c.at("kernel").get<int>(), c.at("pool_after").get<bool>()});
    if ((s.spatialDims != 2 && s.spatialDims != 3) || s.inputSize < 1 || s.inChannels < 1 || s.poolSize < 1 ||
        s.featureDim < 1 || s.convs.empty())
      throw InputError("invalid network description");
    for (const auto& c : s.convs)
      if (c.channels < 1 || c.kernel < 1) throw InputError("invalid convolution in network description");
    s.trunkOutputSize();
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("network description is incomplete: ") + e.what());
  }
}

} // namespace jseg
