#include "core/jule/MixedPrecisionConv.h"

namespace jseg {

namespace {

class MixedPrecisionConv3dFunction : public torch::autograd::Function<MixedPrecisionConv3dFunction> {
public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor input, torch::Tensor weight,
                               torch::Tensor bias) {
    // The input as given (fp32 for a first layer or after pooling): the weight gradient reads it in fp32.
    ctx->save_for_backward({input, weight});
    ctx->saved_data["bias_size"] = bias.size(0);
    return at::conv3d(input.to(torch::kBFloat16), weight.to(torch::kBFloat16), bias.to(torch::kBFloat16));
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list gradOutputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& input = saved[0];
    const torch::Tensor& weight = saved[1];
    const torch::Tensor grad = gradOutputs[0].contiguous();
    const std::vector<int64_t> ones{1, 1, 1}, zeros{0, 0, 0};
    const std::vector<int64_t> biasSizes{ctx->saved_data["bias_size"].toInt()};
    torch::Tensor gradInput;
    if (ctx->needs_input_grad(0)) {
      gradInput = std::get<0>(at::convolution_backward(grad.to(torch::kBFloat16), input.to(torch::kBFloat16),
                                                       weight.to(torch::kBFloat16), biasSizes, ones, zeros, ones,
                                                       false, zeros, 1, {true, false, false}))
                      .to(input.scalar_type());
    }
    auto [unused, gradWeight, gradBias] =
        at::convolution_backward(grad.to(torch::kFloat32), input.to(torch::kFloat32), weight, biasSizes, ones, zeros,
                                 ones, false, zeros, 1, {false, true, true});
    (void)unused;
    return {gradInput, gradWeight, gradBias};
  }
};

} // namespace

torch::Tensor mixedPrecisionConv3d(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias) {
  return MixedPrecisionConv3dFunction::apply(input, weight, bias);
}

} // namespace jseg
