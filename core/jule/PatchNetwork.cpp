#include "core/jule/PatchNetwork.h"

#include "core/jule/MixedPrecisionConv.h"

namespace jseg {

namespace F = torch::nn::functional;

PatchNetworkImpl::PatchNetworkImpl(const NetworkSpec& spec) : spec_(spec) {
  spec_.trunkOutputSize();  // throws for an input too small for the layers
  int cin = spec_.inChannels;
  for (std::size_t i = 0; i < spec_.convs.size(); ++i) {
    const auto& c = spec_.convs[i];
    const int kd = spec_.kernelDepth(i);
    auto conv = torch::nn::Conv3d(torch::nn::Conv3dOptions(cin, c.channels, {kd, c.kernel, c.kernel}).bias(true));
    auto bn = torch::nn::BatchNorm3d(torch::nn::BatchNormOptions(c.channels).eps(1e-5).momentum(0.1));
    convs.push_back(register_module("conv" + std::to_string(i + 1), conv));
    bns.push_back(register_module("bn" + std::to_string(i + 1), bn));
    cin = c.channels;
  }
  fc = register_module("fc", torch::nn::Linear(spec_.flatSize(), spec_.featureDim));

  torch::NoGradGuard noGrad;
  for (auto& c : convs) {
    c->weight.normal_(0.0, 0.01);
    c->bias.zero_();
  }
  for (auto& b : bns) {
    b->weight.uniform_(0.0, 1.0);
    b->bias.zero_();
  }
  fc->weight.normal_(0.0, 0.01);
  fc->bias.zero_();
}

torch::Tensor PatchNetworkImpl::trunk(torch::Tensor x) { return trunk(std::move(x), spec_.poolCeil, precision_, {}); }

torch::Tensor PatchNetworkImpl::trunk(torch::Tensor x, bool poolCeil, Precision precision,
                                      const std::function<void()>& betweenLayers) {
  if (x.dim() == 4) x = x.unsqueeze(2);  // N x C x h x w image batch -> depth 1
  if (spec_.spatialDims == 2) return trunk2d(x);
  // Blocked tensors carry no autograd history here and batch norm must use its running statistics (folded
  // into the convolution), so only eval mode without gradients takes that path.
  // fp32 keeps the plain module arithmetic: folding batch norm changes rounding, which JULE's merges amplify into
  // other clusters, and fp32 must give the results of earlier versions byte for byte.
  if (precision == Precision::Bf16 && !is_training() && !torch::GradMode::is_enabled() && x.device().is_cpu())
    return blockedInferenceTrunk(std::move(x), poolCeil, precision, betweenLayers);
  return trainingTrunk(std::move(x), poolCeil, precision, betweenLayers);
}

bool PatchNetworkImpl::layerInBf16(std::size_t layer, bool training, Precision precision) const {
  (void)training;  // the same plan in both: training's weight gradients are fp32 (MixedPrecisionConv.h)
  return precision == Precision::Bf16 && spec_.spatialDims == 3 && layer < convs.size();
}

torch::Tensor PatchNetworkImpl::trainingTrunk(torch::Tensor x, bool poolCeil, Precision precision,
                                              const std::function<void()>& betweenLayers) {
  for (std::size_t i = 0; i < convs.size(); ++i) {
    auto& conv = convs[i];
    if (layerInBf16(i, true, precision)) {
      x = mixedPrecisionConv3d(x, conv->weight, conv->bias);
    } else {
      x = conv->forward(x.to(torch::kFloat32));
    }
    // Batch norm takes bf16 input with fp32 affine parameters and running statistics.
    x = torch::relu(bns[i]->forward(x));
    if (spec_.convs[i].poolAfter) {
      const int p = spec_.poolSize, pz = spec_.poolDepth(i);
      x = F::max_pool3d(x.to(torch::kFloat32), F::MaxPool3dFuncOptions({pz, p, p}).stride({pz, p, p}).ceil_mode(poolCeil));
    }
    if (afterBlock) afterBlock(x);
    if (betweenLayers) betweenLayers();
  }
  return x.to(torch::kFloat32);
}

torch::Tensor PatchNetworkImpl::blockedInferenceTrunk(torch::Tensor x, bool poolCeil, Precision precision,
                                                      const std::function<void()>& betweenLayers) {
  auto layerType = [&](std::size_t i) { return layerInBf16(i, false, precision) ? torch::kBFloat16 : torch::kFloat32; };
  x = x.to(torch::kFloat32).contiguous().to_mkldnn(layerType(0));
  for (std::size_t i = 0; i < convs.size(); ++i) {
    if (i > 0 && x.scalar_type() != layerType(i)) x = x.to_dense().to_mkldnn(layerType(i));
    // Eval-mode batch norm is an affine map per channel: folded into the convolution's weights and bias, it
    // costs no pass over the activations (oneDNN takes fp32 dense weights for fp32 and bf16 inputs alike).
    auto& conv = convs[i];
    auto& bn = bns[i];
    const torch::Tensor scale = bn->weight / torch::sqrt(bn->running_var + bn->options.eps());
    const torch::Tensor w = conv->weight * scale.view({-1, 1, 1, 1, 1});
    const torch::Tensor b = (conv->bias - bn->running_mean) * scale + bn->bias;
    x = torch::relu(F::conv3d(x, w.contiguous(), F::Conv3dFuncOptions().bias(b)));
    if (spec_.convs[i].poolAfter) {
      const int p = spec_.poolSize, pz = spec_.poolDepth(i);
      x = F::max_pool3d(x, F::MaxPool3dFuncOptions({pz, p, p}).stride({pz, p, p}).ceil_mode(poolCeil));
    }
    if (afterBlock) afterBlock(x);
    if (betweenLayers) betweenLayers();
  }
  return x.to_dense().to(torch::kFloat32);
}

// Depth-1 3D convolutions hit a slow generic CPU path in LibTorch (measured 8x slower than conv2d), so 2D
// specs run the same parameters through the 2D kernels and give back a depth-1 5D tensor.
torch::Tensor PatchNetworkImpl::trunk2d(torch::Tensor x) {
  x = x.squeeze(2);
  for (std::size_t i = 0; i < convs.size(); ++i) {
    x = F::conv2d(x, convs[i]->weight.squeeze(2), F::Conv2dFuncOptions().bias(convs[i]->bias));
    auto& bn = bns[i];
    x = torch::batch_norm(x, bn->weight, bn->bias, bn->running_mean, bn->running_var, is_training(),
                          bn->options.momentum().value(), bn->options.eps(), at::globalContext().userEnabledCuDNN());
    if (is_training()) bn->num_batches_tracked += 1;
    x = torch::relu(x);
    if (spec_.convs[i].poolAfter)
      x = F::max_pool2d(x, F::MaxPool2dFuncOptions(spec_.poolSize).stride(spec_.poolSize).ceil_mode(spec_.poolCeil));
    if (afterBlock) afterBlock(x);
  }
  return x.unsqueeze(2);
}

torch::Tensor PatchNetworkImpl::head(torch::Tensor trunkOut) {
  auto y = fc->forward(spec_.globalPool ? trunkOut.mean({2, 3, 4}) : trunkOut.flatten(1));
  return F::normalize(y, F::NormalizeFuncOptions().p(2).dim(1).eps(1e-10));
}

torch::Tensor PatchNetworkImpl::forward(torch::Tensor x) { return forward(std::move(x), precision_); }

torch::Tensor PatchNetworkImpl::forward(torch::Tensor x, Precision precision) {
  return head(trunk(std::move(x), spec_.poolCeil, precision, {}));
}

} // namespace jseg
