#include "core/segment/ModelFeatures.h"

#include <cmath>

#include "core/base/Errors.h"

namespace jseg {

ModelFeatures::ModelFeatures(const JuleModel& model, int threads, Precision precision) : channelNames_(model.inputNames()) {
  DenseFeatureOptions fo;
  fo.inputMean = model.standardized ? model.patchMean : 0.0;
  fo.inputStd = model.standardized ? model.patchStd : 1.0;
  if (model.channels() > 1) {
    fo.channelMean = model.standardized ? model.inputMeans() : std::vector<double>(channelNames_.size(), 0.0);
    fo.channelStd = model.standardized ? model.inputStds() : std::vector<double>(channelNames_.size(), 1.0);
  }
  fo.threads = threads;
  fo.precision = precision;
  for (const auto& net : model.networks()) {
    if (!net) throw InputError("the model has a missing network");
    extractors_.push_back(std::make_unique<DenseFeatureExtractor>(net, fo));
  }
}

ModelFeatures::~ModelFeatures() = default;

FeatureGrid ModelFeatures::layout(const Volume& vol, int stride, float lo, float hi) const {
  return extractors_.front()->layout(vol, stride, lo, hi);
}

FeatureGrid ModelFeatures::layout(const Volume& vol, int stride, float lo, float hi,
                                  std::shared_ptr<const Mask> roi) const {
  return extractors_.front()->layout(vol, stride, lo, hi, GridRegion{}, std::move(roi));
}

FeaturePlan ModelFeatures::plan(const FeatureGrid& grid) const {
  FeaturePlan p = extractors_.front()->plan(grid);
  const uint64_t n = extractors_.size();
  if (n > 1) {
    p.memory.workingBytes += p.memory.resultBytes;
    p.memory.resultBytes *= n;
    p.memory.seconds *= double(n);
    p.denseMacs *= double(n);
    p.perPatchMacs *= double(n);
  }
  return p;
}

void ModelFeatures::compute(FeatureGrid& grid, const Volume& input, const TaskContext* ctx) const {
  compute(grid, std::vector<const Volume*>{&input}, ctx);
}

void ModelFeatures::compute(FeatureGrid& grid, const std::vector<const Volume*>& inputs, const TaskContext* ctx) const {
  if (inputs.size() != channelNames_.size()) {
    std::string names;
    for (const auto& c : channelNames_) names += (names.empty() ? "" : ", ") + c;
    throw InputError("the model was trained on " + std::to_string(channelNames_.size()) + " channel" +
                     (channelNames_.size() == 1 ? "" : "s") + " (" + names + ") but " + std::to_string(inputs.size()) +
                     " volume" + (inputs.size() == 1 ? " was" : "s were") + " given");
  }
  const std::size_t n = extractors_.size();
  if (n == 1) {
    extractors_.front()->compute(grid, inputs, ctx);
    return;
  }
  std::vector<float> all;
  int memberDim = 0;
  for (std::size_t m = 0; m < n; ++m) {
    TaskContext sub;
    if (ctx) {
      sub.cancel = ctx->cancel;
      if (ctx->progress)
        sub.progress = [ctx, m, n](double f, const std::string& msg) {
          ctx->progress(f < 0 ? -1 : (double(m) + f) / double(n),
                        "network " + std::to_string(m + 1) + "/" + std::to_string(n) + ": " + msg);
        };
    }
    FeatureGrid member = grid;  // same lattice; its own features
    member.features.clear();
    extractors_[m]->compute(member, inputs, ctx ? &sub : nullptr);
    if (m == 0) {
      memberDim = member.dim;
      all.assign(grid.count() * n * std::size_t(memberDim), 0.f);
    }
    const float scale = float(1.0 / std::sqrt(double(n)));
    const std::size_t stride = n * std::size_t(memberDim);
    for (std::size_t i = 0; i < grid.count(); ++i) {
      const float* src = member.features.data() + i * std::size_t(memberDim);
      float* dst = all.data() + i * stride + m * std::size_t(memberDim);
      for (int c = 0; c < memberDim; ++c) dst[c] = scale * src[c];
    }
  }
  grid.features.swap(all);
  grid.dim = int(n) * memberDim;
}

} // namespace jseg
