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
#include <functional>
#include <vector>

#include <torch/torch.h>

#include "core/jule/NetworkSpec.h"

namespace jseg {

class PatchNetworkImpl : public torch::nn::Module {
public:
  explicit PatchNetworkImpl(const NetworkSpec& spec);
  // N x C x d x w x w -> N x featureDim, L2-normalised rows (C = spec.inChannels, d = spec.depth()).
  torch::Tensor forward(torch::Tensor x);
  // Conv blocks (conv, BN, ReLU, pool where set) before flatten: N x C x t_z x t x t (t_z = 1 for 2D).
  torch::Tensor trunk(torch::Tensor x);
  // Flatten, linear, L2 normalise.
  torch::Tensor head(torch::Tensor trunkOut);
  const NetworkSpec& spec() const { return spec_; }
  // Called with each block's output inside trunk() (training uses it to check for cancel between layers
  // and to hook the backward pass); empty by default.
  std::function<void(torch::Tensor&)> afterBlock;

  std::vector<torch::nn::Conv3d> convs;
  std::vector<torch::nn::BatchNorm3d> bns;
  torch::nn::Linear fc{nullptr};

private:
  torch::Tensor trunk2d(torch::Tensor x);
  NetworkSpec spec_;
};
TORCH_MODULE(PatchNetwork);

} // namespace jseg
