#pragma once
// A valid, stride-1 3D convolution for training in bf16 whose weight gradient is computed in fp32.
//
// Measured with oneDNN verbose (LibTorch 1.13, AVX512-BF16, paper3d, batch 100): oneDNN's jit_bf16 kernels run
// the forward pass and the input gradient ~2x faster than fp32, but its bf16 backward-weights pass is 2x slower
// than fp32 on conv2 (11^3 -> 7^3: 783 ms against 386 ms per call) and 20x slower on conv3 (7^3 -> 3^3: 808 ms
// against 40 ms), and for conv1 (one input channel) it is a slow gemm. So each pass runs where it is fastest:
// forward and input gradient in bf16, weight and bias gradients in fp32 from the saved input and the upcast
// output gradient (both small next to the convolution's work). Parameters stay fp32 masters.
// Include only from .cpp files (LibTorch).
#include <torch/torch.h>

namespace jseg {

// input: any floating type (fp32 or bf16), N x C x D x H x W; weight, bias: fp32. Returns bf16.
torch::Tensor mixedPrecisionConv3d(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias);

} // namespace jseg
