#include "core/segment/GaussianMixture.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/base/Errors.h"
#include "core/base/ParallelFor.h"

namespace jseg {

namespace {

constexpr std::size_t kChunkRows = 4096;  // fixed, so sums do not depend on the thread count
constexpr double kLog2Pi = 1.8378770664093453;

// One component ready for density evaluation: the Cholesky factor of its covariance.
struct Component {
  std::vector<double> mean;
  std::vector<double> cholesky;  // d x d, lower triangle
  double logNormaliser = 0;      // log weight - (d log 2 pi + log det) / 2
};

// Lower Cholesky factor of a (symmetric) matrix; false when it is not positive definite.
bool choleskyLower(const std::vector<double>& a, int d, std::vector<double>& l) {
  l.assign(std::size_t(d) * std::size_t(d), 0.0);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j <= i; ++j) {
      double s = a[std::size_t(i) * std::size_t(d) + std::size_t(j)];
      for (int m = 0; m < j; ++m) s -= l[std::size_t(i) * std::size_t(d) + std::size_t(m)] * l[std::size_t(j) * std::size_t(d) + std::size_t(m)];
      if (i == j) {
        if (!(s > 0)) return false;
        l[std::size_t(i) * std::size_t(d) + std::size_t(i)] = std::sqrt(s);
      } else {
        l[std::size_t(i) * std::size_t(d) + std::size_t(j)] = s / l[std::size_t(j) * std::size_t(d) + std::size_t(j)];
      }
    }
  return true;
}

std::vector<Component> prepare(const GaussianMixtureResult& m) {
  const int d = m.d;
  std::vector<Component> comps(std::size_t(m.k));
  for (int c = 0; c < m.k; ++c) {
    Component& comp = comps[std::size_t(c)];
    comp.mean.assign(m.means.begin() + std::ptrdiff_t(c) * d, m.means.begin() + std::ptrdiff_t(c + 1) * d);
    std::vector<double> cov(m.covariances.begin() + std::ptrdiff_t(c) * d * d,
                            m.covariances.begin() + std::ptrdiff_t(c + 1) * d * d);
    // A covariance that lost definiteness to rounding gets a growing ridge until it factors.
    double ridge = 1e-9;
    while (!choleskyLower(cov, d, comp.cholesky)) {
      for (int i = 0; i < d; ++i) cov[std::size_t(i) * std::size_t(d) + std::size_t(i)] += ridge;
      ridge *= 10;
    }
    double logDet = 0;
    for (int i = 0; i < d; ++i) logDet += 2 * std::log(comp.cholesky[std::size_t(i) * std::size_t(d) + std::size_t(i)]);
    const double w = std::max(m.weights[std::size_t(c)], std::numeric_limits<double>::min());
    comp.logNormaliser = std::log(w) - 0.5 * (d * kLog2Pi + logDet);
  }
  return comps;
}

// log(weight) + log density of row x under each component, into out[0..k).
void rowLogDensities(const std::vector<Component>& comps, const float* x, int d, std::vector<double>& work, double* out) {
  work.resize(std::size_t(d));
  for (std::size_t c = 0; c < comps.size(); ++c) {
    const Component& comp = comps[c];
    // Forward substitution L y = x - mean; the Mahalanobis distance is |y|^2.
    double maha = 0;
    for (int i = 0; i < d; ++i) {
      double s = double(x[i]) - comp.mean[std::size_t(i)];
      const double* li = comp.cholesky.data() + std::size_t(i) * std::size_t(d);
      for (int j = 0; j < i; ++j) s -= li[j] * work[std::size_t(j)];
      work[std::size_t(i)] = s / li[i];
      maha += work[std::size_t(i)] * work[std::size_t(i)];
    }
    out[c] = comp.logNormaliser - 0.5 * maha;
  }
}

// Sufficient statistics of one chunk of rows under responsibilities.
struct ChunkSums {
  std::vector<double> weight;  // k
  std::vector<double> first;   // k x d
  std::vector<double> second;  // k x d x d (lower triangle used)
  double logLikelihood = 0;
};

// M-step: weights, means and covariances from summed statistics.
void maximise(const ChunkSums& s, std::size_t n, int d, const std::vector<double>& floor, GaussianMixtureResult& m) {
  const int k = m.k;
  for (int c = 0; c < k; ++c) {
    const double nc = s.weight[std::size_t(c)];
    m.weights[std::size_t(c)] = nc / double(n);
    double* mean = m.means.data() + std::size_t(c) * std::size_t(d);
    double* cov = m.covariances.data() + std::size_t(c) * std::size_t(d) * std::size_t(d);
    if (nc <= 1e-12) {  // an empty component keeps its mean and gets the floor as covariance
      std::fill(cov, cov + std::size_t(d) * std::size_t(d), 0.0);
      for (int i = 0; i < d; ++i) cov[std::size_t(i) * std::size_t(d) + std::size_t(i)] = floor[std::size_t(i)];
      continue;
    }
    for (int i = 0; i < d; ++i) mean[i] = s.first[std::size_t(c) * std::size_t(d) + std::size_t(i)] / nc;
    const double* sec = s.second.data() + std::size_t(c) * std::size_t(d) * std::size_t(d);
    for (int i = 0; i < d; ++i)
      for (int j = 0; j <= i; ++j) {
        const double v = sec[std::size_t(i) * std::size_t(d) + std::size_t(j)] / nc - mean[i] * mean[j];
        cov[std::size_t(i) * std::size_t(d) + std::size_t(j)] = v;
        cov[std::size_t(j) * std::size_t(d) + std::size_t(i)] = v;
      }
    for (int i = 0; i < d; ++i) cov[std::size_t(i) * std::size_t(d) + std::size_t(i)] += floor[std::size_t(i)];
  }
}

void addOuter(const float* x, int d, double r, double* first, double* second) {
  for (int i = 0; i < d; ++i) {
    const double ri = r * double(x[i]);
    first[i] += ri;
    double* row = second + std::size_t(i) * std::size_t(d);
    for (int j = 0; j <= i; ++j) row[j] += ri * double(x[j]);
  }
}

} // namespace

double GaussianMixture::parameterCount(int k, int d) {
  return double(k - 1) + double(k) * d + double(k) * d * (d + 1) / 2.0;
}

std::vector<float> GaussianMixture::logDensities(const GaussianMixtureResult& model, const float* data, std::size_t n,
                                                 int threads) {
  const std::vector<Component> comps = prepare(model);
  const int k = model.k, d = model.d;
  std::vector<float> out(n * std::size_t(k));
  const std::size_t chunks = (n + kChunkRows - 1) / kChunkRows;
  parallelFor(chunks, resolveThreadCount(threads), [&](std::size_t ch) {
    std::vector<double> work;
    std::vector<double> lp(static_cast<std::size_t>(k));
    for (std::size_t r = ch * kChunkRows; r < std::min(n, (ch + 1) * kChunkRows); ++r) {
      rowLogDensities(comps, data + r * std::size_t(d), d, work, lp.data());
      for (int c = 0; c < k; ++c) out[r * std::size_t(k) + std::size_t(c)] = float(lp[std::size_t(c)]);
    }
  });
  return out;
}

GaussianMixtureResult GaussianMixture::fit(const float* data, std::size_t n, int d, const TaskContext* ctx) const {
  const int k = opt_.init.k;
  if (k < 1 || d < 1) throw InputError("a Gaussian mixture needs K >= 1 and at least one feature");
  if (n < std::size_t(k))
    throw InputError("a Gaussian mixture with K = " + std::to_string(k) + " needs at least as many rows, got " + std::to_string(n));
  const int threads = resolveThreadCount(opt_.init.threads);
  const std::size_t chunks = (n + kChunkRows - 1) / kChunkRows;
  const std::size_t kd = std::size_t(k) * std::size_t(d), kdd = kd * std::size_t(d);

  // Covariance floor per feature, from that feature's variance (scale-free: a feature measured in other units
  // gets the same relative floor).
  std::vector<double> floor(std::size_t(d), opt_.regularisation);
  {
    std::vector<double> sum(std::size_t(d), 0.0), sq(std::size_t(d), 0.0);
    for (std::size_t r = 0; r < n; ++r)
      for (int j = 0; j < d; ++j) {
        const double v = data[r * std::size_t(d) + std::size_t(j)];
        sum[std::size_t(j)] += v;
        sq[std::size_t(j)] += v * v;
      }
    for (int j = 0; j < d; ++j) {
      const double mu = sum[std::size_t(j)] / double(n), var = sq[std::size_t(j)] / double(n) - mu * mu;
      if (var > 0) floor[std::size_t(j)] = opt_.regularisation * var;
    }
  }

  GaussianMixtureResult m;
  m.k = k;
  m.d = d;
  m.weights.assign(std::size_t(k), 0.0);
  m.means.assign(kd, 0.0);
  m.covariances.assign(kdd, 0.0);

  auto sumChunks = [&](const std::vector<ChunkSums>& parts) {
    ChunkSums total{std::vector<double>(std::size_t(k), 0.0), std::vector<double>(kd, 0.0), std::vector<double>(kdd, 0.0), 0};
    for (const ChunkSums& p : parts) {
      for (std::size_t i = 0; i < std::size_t(k); ++i) total.weight[i] += p.weight[i];
      for (std::size_t i = 0; i < kd; ++i) total.first[i] += p.first[i];
      for (std::size_t i = 0; i < kdd; ++i) total.second[i] += p.second[i];
      total.logLikelihood += p.logLikelihood;
    }
    return total;
  };
  auto emptySums = [&] {
    return ChunkSums{std::vector<double>(std::size_t(k), 0.0), std::vector<double>(kd, 0.0), std::vector<double>(kdd, 0.0), 0};
  };

  // Start: k-means' hard assignments.
  const KMeansResult km = KMeans(opt_.init).fit(data, n, d, ctx);
  {
    std::vector<ChunkSums> parts(chunks, emptySums());
    parallelFor(chunks, threads, [&](std::size_t ch) {
      ChunkSums& p = parts[ch];
      for (std::size_t r = ch * kChunkRows; r < std::min(n, (ch + 1) * kChunkRows); ++r) {
        const std::size_t c = std::size_t(km.labels[r]);
        p.weight[c] += 1;
        addOuter(data + r * std::size_t(d), d, 1.0, p.first.data() + c * std::size_t(d), p.second.data() + c * std::size_t(d) * std::size_t(d));
      }
    });
    maximise(sumChunks(parts), n, d, floor, m);
  }

  double previous = -std::numeric_limits<double>::infinity();
  m.labels.assign(n, 0);
  for (int it = 0; it < opt_.maxIterations; ++it) {
    if (ctx) ctx->checkCancel();
    const std::vector<Component> comps = prepare(m);
    std::vector<ChunkSums> parts(chunks, emptySums());
    parallelFor(chunks, threads, [&](std::size_t ch) {
      ChunkSums& p = parts[ch];
      std::vector<double> work;
    std::vector<double> lp(static_cast<std::size_t>(k));
      for (std::size_t r = ch * kChunkRows; r < std::min(n, (ch + 1) * kChunkRows); ++r) {
        const float* x = data + r * std::size_t(d);
        rowLogDensities(comps, x, d, work, lp.data());
        const double top = *std::max_element(lp.begin(), lp.end());
        double z = 0;
        for (double v : lp) z += std::exp(v - top);
        const double logZ = top + std::log(z);
        p.logLikelihood += logZ;
        int best = 0;
        for (int c = 0; c < k; ++c) {
          if (lp[std::size_t(c)] > lp[std::size_t(best)]) best = c;
          const double resp = std::exp(lp[std::size_t(c)] - logZ);
          if (resp < 1e-12) continue;
          p.weight[std::size_t(c)] += resp;
          addOuter(x, d, resp, p.first.data() + std::size_t(c) * std::size_t(d),
                   p.second.data() + std::size_t(c) * std::size_t(d) * std::size_t(d));
        }
        m.labels[r] = best;
      }
    });
    const ChunkSums total = sumChunks(parts);
    m.logLikelihood = total.logLikelihood;
    m.iterations = it + 1;
    const double gain = (total.logLikelihood - previous) / double(n);
    previous = total.logLikelihood;
    // Stop after an E step, so that the labels and the likelihood belong to the parameters returned.
    if (gain < opt_.tolerance || it + 1 >= opt_.maxIterations) break;
    maximise(total, n, d, floor, m);
  }
  m.bic = -2 * m.logLikelihood + parameterCount(k, d) * std::log(double(n));
  return m;
}

} // namespace jseg
