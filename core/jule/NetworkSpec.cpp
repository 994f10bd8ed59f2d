#include "core/jule/NetworkSpec.h"

#include <algorithm>
#include <cmath>

#include "core/base/Errors.h"

namespace jseg {

namespace {
int pooled(int size, int pool, bool ceilMode) {
  return ceilMode ? (size - pool + pool - 1) / pool + 1 : (size - pool) / pool + 1;
}

// Per-layer z extents: each convolution takes its kernel along z while the depth allows, at least 1, and
// pools along z only where the pooling fits. Derived from the spec rather than stored, so a model file
// written before depths existed (cubic input) gives back exactly its layers.
struct DepthPlan {
  std::vector<int> kernel, pool;
  int output = 1;
};

DepthPlan depthPlan(const NetworkSpec& s) {
  DepthPlan p;
  int d = s.depth();
  for (const auto& c : s.convs) {
    const int k = s.spatialDims == 3 ? std::max(1, std::min(c.kernel, d)) : 1;
    d = d - k + 1;
    p.kernel.push_back(k);
    int pz = 1;
    if (c.poolAfter && s.spatialDims == 3 && d >= s.poolSize) pz = s.poolSize;
    if (c.poolAfter && pz > 1) d = pooled(d, pz, s.poolCeil);
    p.pool.push_back(pz);
  }
  p.output = d;
  return p;
}
} // namespace

int NetworkSpec::depth() const { return spatialDims == 3 ? (inputDepth > 0 ? inputDepth : inputSize) : 1; }

int NetworkSpec::trunkOutputDepth() const { return depthPlan(*this).output; }

int NetworkSpec::kernelDepth(std::size_t layer) const { return depthPlan(*this).kernel.at(layer); }

int NetworkSpec::poolDepth(std::size_t layer) const { return depthPlan(*this).pool.at(layer); }

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
  return v * t * t * trunkOutputDepth();
}

int NetworkSpec::spatialVoxels() const { return inputSize * inputSize * depth(); }

int NetworkSpec::inputVoxels() const { return inChannels * spatialVoxels(); }

double NetworkSpec::macsPerSample() const {
  double macs = 0;
  const DepthPlan dp = depthPlan(*this);
  int s = inputSize, sz = depth(), cin = inChannels;
  for (std::size_t i = 0; i < convs.size(); ++i) {
    const auto& c = convs[i];
    s = s - c.kernel + 1;
    sz = sz - dp.kernel[i] + 1;
    double out = double(s) * s * sz, k = double(c.kernel) * c.kernel * dp.kernel[i];
    macs += out * c.channels * cin * k;
    cin = c.channels;
    if (c.poolAfter) s = pooled(s, poolSize, poolCeil);
    if (dp.pool[i] > 1) sz = pooled(sz, dp.pool[i], poolCeil);
  }
  macs += double(flatSize()) * featureDim;
  return macs;
}

NetworkSpec NetworkSpec::byName(const std::string& name, int patchSize) { return byName(name, patchSize, 0); }

NetworkSpec NetworkSpec::byName(const std::string& name, int patchSize, int depth) {
  NetworkSpec s;
  s.name = name;
  s.inputSize = patchSize;
  // Stored only when it differs, so a cubic model's description stays what it always was.
  s.inputDepth = depth == patchSize ? 0 : depth;
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
  if (depth < 0) throw InputError("network " + name + ": patch depth " + std::to_string(depth) + " is negative");
  s.trunkOutputSize();  // validates the patch size
  return s;
}

std::vector<std::string> NetworkSpec::names() { return {"paper3d", "fast3d", "small3d", "local3d", "image2d"}; }

nlohmann::json NetworkSpec::toJson() const {
  nlohmann::json convJson = nlohmann::json::array();
  for (const auto& c : convs)
    convJson.push_back({{"channels", c.channels}, {"kernel", c.kernel}, {"pool_after", c.poolAfter}});
  nlohmann::json j = {{"name", name},         {"spatial_dims", spatialDims}, {"input_size", inputSize},
                      {"in_channels", inChannels}, {"convs", convJson}, {"pool_size", poolSize},
                      {"pool_ceil", poolCeil},    {"feature_dim", featureDim}, {"global_pool", globalPool},
                      {"flat_size", flatSize()}};
  // Written only for a non-cubic input, so cubic models keep their old description byte for byte.
  if (inputDepth > 0 && inputDepth != inputSize) j["input_depth"] = inputDepth;
  return j;
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
    s.inputDepth = j.value("input_depth", 0);       // absent for cubic inputs and in older models
    for (const auto& c : j.at("convs"))
      s.convs.push_back({c.at("channels").get<int>(), c.at("kernel").get<int>(), c.at("pool_after").get<bool>()});
    if ((s.spatialDims != 2 && s.spatialDims != 3) || s.inputSize < 1 || s.inputDepth < 0 || s.inChannels < 1 ||
        s.poolSize < 1 ||
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
