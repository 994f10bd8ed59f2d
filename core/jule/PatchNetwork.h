#pragma once
// The patch CNN (LibTorch). Only code that really runs the network includes this header; everything
// the GUI and CLI see is torch-free (NetworkSpec.h, JuleTrainer.h, ModelFile.h).
//
// Block: Conv3d(valid, stride 1) -> BatchNorm3d(eps 1e-5, momentum 0.1) -> ReLU [-> MaxPool3d(poolSize)],
// head: flatten -> Linear(flat, featureDim) -> L2 normalisation (eps 1e-10), as in JULE's Torch models.
// 2D specs use depth-1 kernels and pools, input N x C x 1 x h x w (N x C x h x w is accepted too), where
// C = spec.inChannels (1 for a single volume).
// Initialisation follows JULE (jule-reference.md §4): conv/linear weights ~ N(0, 0.01), biases 0,
// BN weight ~ U(0,1), BN bias 0. It draws from torch's default generator: seed it (torch::manual_seed)
// before constructing for reproducible weights.
//
// Precision and layout (issue 18, measured with oneDNN verbose on LibTorch 1.13, AVX512-BF16 CPU):
//  - Training keeps plain NCDHW tensors: ChannelsLast3d is ignored by 1.13's oneDNN 3D convolution (it still
//    reorders to its blocked layout), and oneDNN-blocked (to_mkldnn) tensors have no 3D batch norm in training
//    mode (reshaping to 2D for it reorders to plain anyway). With bf16, every convolution's forward pass and
//    input gradient, and the batch norm and ReLU after it, run in bf16 (oneDNN's jit_bf16 kernels), while the
//    weight gradients are computed in fp32 (MixedPrecisionConv.h: oneDNN's bf16 backward-weights kernels are
//    2-20x slower here, a slow gemm for conv1's single input channel); weights stay fp32 masters. Max-pooling
//    runs in fp32 (1.13 has no bf16 CPU max_pool3d for plain tensors).
//  - Inference in bf16 (eval mode without autograd: feature extraction, the trainer's features) runs the whole
//    trunk in oneDNN's blocked layout: one reorder in, one out, no per-layer plain <-> blocked round trips, batch
//    norm folded into the convolutions, every layer bf16 (oneDNN pools bf16 blocked tensors). fp32 inference keeps
//    the plain module arithmetic so that it reproduces earlier versions' clusters byte for byte (the blocked fp32
//    path differs by ~1e-7 per value, which JULE's merges amplify).
#include <functional>
#include <vector>

#include <torch/torch.h>

#include "core/jule/ComputePrecision.h"
#include "core/jule/NetworkSpec.h"

namespace jseg {

class PatchNetworkImpl : public torch::nn::Module {
public:
  explicit PatchNetworkImpl(const NetworkSpec& spec);
  // N x C x d x w x w -> N x featureDim, L2-normalised rows (C = spec.inChannels, d = spec.depth()).
  torch::Tensor forward(torch::Tensor x);
  // The same in the given precision instead of precision() (callers that share the network, such as feature
  // extraction, pass theirs rather than changing it).
  torch::Tensor forward(torch::Tensor x, Precision precision);
  // Conv blocks (conv, BN, ReLU, pool where set) before flatten: N x C x t_z x t x t (t_z = 1 for 2D).
  torch::Tensor trunk(torch::Tensor x);
  // The same with the pooling's ceil mode given and `betweenLayers` called after each block (dense features
  // pool with floor: see DenseFeatureExtractor.h). Returns fp32, plain layout.
  torch::Tensor trunk(torch::Tensor x, bool poolCeil, Precision precision, const std::function<void()>& betweenLayers);
  // Flatten, linear, L2 normalise.
  torch::Tensor head(torch::Tensor trunkOut);
  // Precision of the convolutions (see the header comment); fp32 by default. Parameters stay fp32 either way,
  // so saving, loading and the optimiser do not depend on it.
  void setPrecision(Precision p) { precision_ = p; }
  Precision precision() const { return precision_; }
  // Whether conv layer i runs in bf16 when training (with autograd) or in inference.
  bool layerInBf16(std::size_t layer, bool training, Precision precision) const;
  const NetworkSpec& spec() const { return spec_; }
  // Called with each block's output inside trunk() (training uses it to check for cancel between layers
  // and to hook the backward pass); empty by default.
  std::function<void(torch::Tensor&)> afterBlock;

  std::vector<torch::nn::Conv3d> convs;
  std::vector<torch::nn::BatchNorm3d> bns;
  torch::nn::Linear fc{nullptr};

private:
  torch::Tensor trunk2d(torch::Tensor x);
  torch::Tensor trainingTrunk(torch::Tensor x, bool poolCeil, Precision precision,
                              const std::function<void()>& betweenLayers);
  torch::Tensor blockedInferenceTrunk(torch::Tensor x, bool poolCeil, Precision precision,
                                      const std::function<void()>& betweenLayers);
  NetworkSpec spec_;
  Precision precision_ = Precision::Fp32;
};
TORCH_MODULE(PatchNetwork);

} // namespace jseg
