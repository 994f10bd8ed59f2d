#include "core/segment/FeatureWhitening.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include <torch/torch.h>

#include "core/base/Errors.h"
#include "core/base/ParallelFor.h"

namespace jseg {

namespace {

int resolveThreads(int threads) {
  return threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
}

} // namespace

FeatureWhitening::FeatureWhitening(int components, int threads, std::size_t maxSamples)
    : components_(components), threads_(resolveThreads(threads)), maxSamples_(std::max<std::size_t>(2, maxSamples)) {
  if (components < 0) throw InputError("feature whitening: the number of components must not be negative");
}

WhiteningResult FeatureWhitening::apply(FeatureGrid& grid, const TaskContext* ctx) const {
  if (grid.hasIntensityColumn)
    throw std::logic_error("FeatureWhitening: whiten before the intensity column is appended");
  return apply(grid.features, grid.count(), grid.dim, ctx);
}

WhiteningResult FeatureWhitening::apply(std::vector<float>& rows, std::size_t count, int& dim,
                                        const TaskContext* ctx) const {
  WhiteningResult r;
  if (components_ == 0 || count < 2 || dim < 1) return r;
  const std::size_t d = std::size_t(dim);
  const std::size_t step = (count + maxSamples_ - 1) / maxSamples_;  // >= 1
  const std::size_t samples = (count + step - 1) / step;

  // Mean and covariance of the sampled rows, in double. Rows are summed in fixed chunks whose partial sums
  // are combined in chunk order, so the result does not depend on the thread count.
  constexpr std::size_t kChunk = 4096;
  const std::size_t chunks = (samples + kChunk - 1) / kChunk;
  std::vector<std::vector<double>> partialSum(chunks, std::vector<double>(d, 0.0));
  std::vector<std::vector<double>> partialCross(chunks);
  parallelFor(chunks, threads_, [&](std::size_t c) {
    std::vector<double>& s = partialSum[c];
    std::vector<double>& x = partialCross[c];
    x.assign(d * d, 0.0);
    std::vector<double> v(d);
    for (std::size_t k = c * kChunk; k < std::min(samples, (c + 1) * kChunk); ++k) {
      const float* row = rows.data() + k * step * d;
      for (std::size_t a = 0; a < d; ++a) v[a] = row[a], s[a] += v[a];
      for (std::size_t a = 0; a < d; ++a) {
        const double va = v[a];
        double* xa = x.data() + a * d;
        for (std::size_t b = a; b < d; ++b) xa[b] += va * v[b];
      }
    }
  });
  checkCancel(ctx);
  std::vector<double> mean(d, 0.0), cov(d * d, 0.0);
  for (std::size_t c = 0; c < chunks; ++c) {
    for (std::size_t a = 0; a < d; ++a) mean[a] += partialSum[c][a];
    for (std::size_t i = 0; i < d * d; ++i) cov[i] += partialCross[c][i];
  }
  const double n = double(samples);
  for (auto& m : mean) m /= n;
  for (std::size_t a = 0; a < d; ++a)
    for (std::size_t b = a; b < d; ++b) {
      const double c = cov[a * d + b] / n - mean[a] * mean[b];
      cov[a * d + b] = cov[b * d + a] = c;
    }

  // Eigenvectors of the covariance, largest eigenvalue last (LAPACK's order).
  const torch::Tensor C = torch::from_blob(cov.data(), {int64_t(d), int64_t(d)}, torch::kDouble).clone();
  auto [evals, evecs] = torch::linalg::eigh(C, "L");
  evals = evals.contiguous();
  evecs = evecs.contiguous();
  const double* lambda = evals.data_ptr<double>();
  const double* vecs = evecs.data_ptr<double>();  // column j = eigenvector j
  double total = 0;
  for (std::size_t j = 0; j < d; ++j) total += std::max(0.0, lambda[j]);
  const double largest = std::max(0.0, lambda[d - 1]);
  int keep = 0;
  for (int j = int(d) - 1; j >= 0 && keep < components_; --j, ++keep)
    if (!(lambda[j] > 1e-9 * largest)) break;
  if (keep == 0) return r;  // constant features: nothing to whiten, leave them as they are

  // Projection matrix W (d x keep): eigenvector / sqrt(eigenvalue), largest component first.
  std::vector<double> W(d * std::size_t(keep));
  double kept = 0;
  for (int k = 0; k < keep; ++k) {
    const std::size_t j = d - 1 - std::size_t(k);
    kept += lambda[j];
    const double scale = 1.0 / std::sqrt(lambda[j]);
    for (std::size_t a = 0; a < d; ++a) W[a * std::size_t(keep) + std::size_t(k)] = vecs[a * d + j] * scale;
  }
  std::vector<double> offset(std::size_t(keep), 0.0);  // mean . W, subtracted after projecting
  for (std::size_t a = 0; a < d; ++a)
    for (int k = 0; k < keep; ++k) offset[std::size_t(k)] += mean[a] * W[a * std::size_t(keep) + std::size_t(k)];

  std::vector<float> out(count * std::size_t(keep));
  const std::size_t blocks = (count + kChunk - 1) / kChunk;
  parallelFor(blocks, threads_, [&](std::size_t bIdx) {
    std::vector<double> acc(static_cast<std::size_t>(keep), 0.0);
    for (std::size_t i = bIdx * kChunk; i < std::min(count, (bIdx + 1) * kChunk); ++i) {
      std::fill(acc.begin(), acc.end(), 0.0);
      const float* row = rows.data() + i * d;
      for (std::size_t a = 0; a < d; ++a) {
        const double v = row[a];
        const double* w = W.data() + a * std::size_t(keep);
        for (int k = 0; k < keep; ++k) acc[std::size_t(k)] += v * w[k];
      }
      float* o = out.data() + i * std::size_t(keep);
      for (int k = 0; k < keep; ++k) o[k] = float(acc[std::size_t(k)] - offset[std::size_t(k)]);
    }
  });
  checkCancel(ctx);
  rows.swap(out);
  dim = keep;
  r.components = keep;
  r.explainedVariance = total > 0 ? kept / total : 0.0;
  return r;
}

} // namespace jseg
