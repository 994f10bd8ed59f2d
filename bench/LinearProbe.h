#pragma once
// For benches: a supervised linear probe (LDA) of feature rows against a truth. Each row goes to the class whose
// mean is nearest under the pooled within-class covariance, both fitted with the truth. It bounds what a linear
// reading of the features can reach with equal-covariance classes, so it tells whether a poor segmentation is the
// features' fault (the probe fails too) or the clustering's (the probe succeeds).
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace jseg::bench {

// rows: n x d; truth: n labels in 1..classes (0 = no truth, left out of the fit). Returns 0-based classes.
inline std::vector<int32_t> ldaProbe(const float* rows, int64_t n, int64_t d, const std::vector<int64_t>& truth,
                                     int classes) {
  torch::Tensor X = torch::from_blob(const_cast<float*>(rows), {n, d}, torch::kFloat).to(torch::kDouble);
  torch::Tensor T = torch::from_blob(const_cast<int64_t*>(truth.data()), {n}, torch::kLong).clone();
  torch::Tensor within = torch::zeros({d, d}, torch::kDouble);
  std::vector<torch::Tensor> means;
  for (int64_t c = 1; c <= classes; ++c) {
    torch::Tensor Xc = X.index({T.eq(c)});
    torch::Tensor mu = Xc.size(0) > 0 ? Xc.mean(0) : torch::full({d}, 1e150, torch::kDouble);
    if (Xc.size(0) > 0) within += (Xc - mu).t().mm(Xc - mu);
    means.push_back(mu);
  }
  within = within / double(n) + 1e-6 * torch::eye(d, torch::kDouble);
  torch::Tensor inv = torch::linalg::inv(within);
  torch::Tensor best = torch::full({n}, 1e300, torch::kDouble), pred = torch::zeros({n}, torch::kLong);
  for (int64_t c = 0; c < classes; ++c) {
    torch::Tensor Z = X - means[std::size_t(c)];
    torch::Tensor dist = (Z.mm(inv) * Z).sum(1);
    torch::Tensor closer = dist.lt(best);
    best = torch::where(closer, dist, best);
    pred = torch::where(closer, torch::full({n}, c, torch::kLong), pred);
  }
  torch::Tensor p = pred.to(torch::kInt).contiguous();
  return std::vector<int32_t>(p.data_ptr<int32_t>(), p.data_ptr<int32_t>() + n);
}

} // namespace jseg::bench
