#include "core/segment/KMeans.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include <cblas.h>

#include "core/base/Errors.h"
#include "core/base/ParallelFor.h"

namespace jseg {

int resolveThreadCount(int threads) {
  if (threads > 0) return threads;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

namespace {

// Rows per GEMM call: 16k x 160 floats (10 MB) stay in the last-level cache, so the assignment pass that
// follows the GEMM reads them from cache, not memory.
constexpr std::size_t kBlockRows = 16384;
// Rows per partial sum: fixed, so the summation order (hence the result) does not depend on threads.
constexpr std::size_t kSubRows = 2048;

float squaredDistance(const float* a, const float* b, int d) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int j = 0;
  for (; j + 4 <= d; j += 4) {
    float e0 = a[j] - b[j], e1 = a[j + 1] - b[j + 1], e2 = a[j + 2] - b[j + 2], e3 = a[j + 3] - b[j + 3];
    s0 += e0 * e0;
    s1 += e1 * e1;
    s2 += e2 * e2;
    s3 += e3 * e3;
  }
  for (; j < d; ++j) {
    float e = a[j] - b[j];
    s0 += e * e;
  }
  return (s0 + s1) + (s2 + s3);
}

std::vector<float> rowNorms(const float* data, std::size_t n, int d, int threads) {
  std::vector<float> out(n);
  std::size_t chunks = (n + kSubRows - 1) / kSubRows;
  parallelFor(chunks, threads, [&](std::size_t c) {
    std::size_t a = c * kSubRows, b = std::min(n, a + kSubRows);
    for (std::size_t i = a; i < b; ++i) {
      const float* x = data + i * static_cast<std::size_t>(d);
      float s = 0;
      for (int j = 0; j < d; ++j) s += x[j] * x[j];
      out[i] = s;
    }
  });
  return out;
}

// One assignment pass over all rows. With sums/counts non-null it also accumulates each cluster's sum
// and size. Returns the number of rows whose label changed (labels hold the previous ones on entry;
// a negative entry counts as changed).
std::size_t assignPass(const float* data, std::size_t n, int d, const float* xnorm, const float* centroids, int k,
                       int32_t* labels, float* dist2, std::vector<double>* sums, std::vector<int64_t>* counts,
                       int threads) {
  std::vector<float> cnorm(static_cast<std::size_t>(k));
  for (int j = 0; j < k; ++j) {
    const float* c = centroids + static_cast<std::size_t>(j) * d;
    float s = 0;
    for (int t = 0; t < d; ++t) s += c[t] * c[t];
    cnorm[j] = s;
  }
  const std::size_t kd = static_cast<std::size_t>(k) * d;
  if (sums) {
    sums->assign(kd, 0.0);
    counts->assign(static_cast<std::size_t>(k), 0);
  }
  std::vector<float> dots(kBlockRows * static_cast<std::size_t>(k));
  const std::size_t subPerBlock = kBlockRows / kSubRows;
  std::vector<double> subSums(sums ? subPerBlock * kd : 0);
  std::vector<int64_t> subCounts(sums ? subPerBlock * k : 0);
  std::vector<std::size_t> subChanged(subPerBlock);
  std::size_t changed = 0;

  for (std::size_t b0 = 0; b0 < n; b0 += kBlockRows) {
    std::size_t rows = std::min(kBlockRows, n - b0);
    const float* xb = data + b0 * static_cast<std::size_t>(d);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), k, d, 1.0f, xb, d, centroids, d,
                0.0f, dots.data(), k);
    std::size_t subs = (rows + kSubRows - 1) / kSubRows;
    parallelFor(subs, threads, [&](std::size_t s) {
      std::size_t a = s * kSubRows, e = std::min(rows, a + kSubRows);
      double* ps = sums ? subSums.data() + s * kd : nullptr;
      int64_t* pc = sums ? subCounts.data() + s * k : nullptr;
      if (ps) {
        std::fill(ps, ps + kd, 0.0);
        std::fill(pc, pc + k, 0);
      }
      std::size_t ch = 0;
      for (std::size_t r = a; r < e; ++r) {
        std::size_t i = b0 + r;
        const float* dr = dots.data() + r * static_cast<std::size_t>(k);
        int best = 0;
        float bestD = std::numeric_limits<float>::infinity();
        for (int j = 0; j < k; ++j) {
          float dj = xnorm[i] + cnorm[j] - 2.0f * dr[j];
          if (dj < bestD) {
            bestD = dj;
            best = j;
          }
        }
        if (labels[i] != best) ++ch;
        labels[i] = best;
        if (dist2) dist2[i] = std::max(0.0f, bestD);
        if (ps) {
          const float* x = data + i * static_cast<std::size_t>(d);
          double* acc = ps + static_cast<std::size_t>(best) * d;
          for (int t = 0; t < d; ++t) acc[t] += x[t];
          ++pc[best];
        }
      }
      subChanged[s] = ch;
    });
    for (std::size_t s = 0; s < subs; ++s) {
      changed += subChanged[s];
      if (sums) {
        const double* ps = subSums.data() + s * kd;
        for (std::size_t t = 0; t < kd; ++t) (*sums)[t] += ps[t];
        for (int j = 0; j < k; ++j) (*counts)[j] += subCounts[s * k + j];
      }
    }
  }
  return changed;
}

// Squared distance of every row to one point, in parallel.
void distancesTo(const float* data, std::size_t n, int d, const float* p, float* out, int threads) {
  std::size_t chunks = (n + kSubRows - 1) / kSubRows;
  parallelFor(chunks, threads, [&](std::size_t c) {
    std::size_t a = c * kSubRows, b = std::min(n, a + kSubRows);
    for (std::size_t i = a; i < b; ++i) out[i] = squaredDistance(data + i * static_cast<std::size_t>(d), p, d);
  });
}

std::size_t sampleByWeight(const std::vector<float>& w, double total, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, total);
  double r = u(rng), acc = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    acc += w[i];
    if (acc > r) return i;
  }
  // Rounding may leave r just above the last partial sum: take the last row with weight.
  for (std::size_t i = w.size(); i-- > 0;)
    if (w[i] > 0) return i;
  return 0;
}

// Greedy k-means++ (Arthur & Vassilvitskii with 2 + ln k candidate trials per centre, the variant most
// libraries use): every centre after the first is the candidate, drawn with probability proportional to
// D^2, that lowers the potential most.
std::vector<float> kmeansPlusPlus(const float* data, std::size_t n, int d, int k, std::mt19937_64& rng,
                                  int threads) {
  std::vector<float> centres(static_cast<std::size_t>(k) * d);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  std::size_t first = pick(rng);
  std::copy_n(data + first * d, d, centres.begin());
  std::vector<float> closest(n), cand(n), best(n);
  distancesTo(data, n, d, data + first * d, closest.data(), threads);
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  for (int c = 1; c < k; ++c) {
    double total = 0;
    for (float v : closest) total += v;
    double bestPot = std::numeric_limits<double>::infinity();
    std::size_t bestIdx = 0;
    for (int t = 0; t < trials; ++t) {
      std::size_t idx = total > 0 ? sampleByWeight(closest, total, rng) : pick(rng);
      distancesTo(data, n, d, data + idx * d, cand.data(), threads);
      double pot = 0;
      for (std::size_t i = 0; i < n; ++i) {
        cand[i] = std::min(cand[i], closest[i]);
        pot += cand[i];
      }
      if (pot < bestPot) {
        bestPot = pot;
        bestIdx = idx;
        best.swap(cand);
      }
    }
    closest.swap(best);
    std::copy_n(data + bestIdx * d, d, centres.begin() + static_cast<std::ptrdiff_t>(c) * d);
  }
  return centres;
}

} // namespace

void KMeans::assign(const float* data, std::size_t n, int d, const float* centroids, int k, int32_t* labels,
                    float* dist2, int threads) {
  if (n == 0) return;
  threads = resolveThreadCount(threads);
  auto xnorm = rowNorms(data, n, d, threads);
  std::fill(labels, labels + n, -1);
  assignPass(data, n, d, xnorm.data(), centroids, k, labels, dist2, nullptr, nullptr, threads);
}

double KMeans::inertia(const float* data, std::size_t n, int d, const float* centroids, const int32_t* labels,
                       int threads) {
  threads = resolveThreadCount(threads);
  std::size_t chunks = (n + kSubRows - 1) / kSubRows;
  std::vector<double> part(chunks, 0.0);
  parallelFor(chunks, threads, [&](std::size_t c) {
    std::size_t a = c * kSubRows, b = std::min(n, a + kSubRows);
    double s = 0;
    for (std::size_t i = a; i < b; ++i) {
      const float* x = data + i * static_cast<std::size_t>(d);
      const float* m = centroids + static_cast<std::size_t>(labels[i]) * d;
      for (int t = 0; t < d; ++t) {
        double e = double(x[t]) - double(m[t]);
        s += e * e;
      }
    }
    part[c] = s;
  });
  double total = 0;
  for (double v : part) total += v;
  return total;
}

KMeansResult KMeans::fit(const float* data, std::size_t n, int d, const TaskContext* ctx) const {
  const int k = opt_.k;
  if (k < 1 || d < 1) throw InputError("k-means needs k >= 1 and at least one feature");
  if (n < static_cast<std::size_t>(k))
    throw InputError("k-means with K = " + std::to_string(k) + " needs at least " + std::to_string(k) +
                     " points, but only " + std::to_string(n) + " lie in the mask; lower K or widen the threshold");
  const int threads = resolveThreadCount(opt_.threads);
  const int restarts = std::max(1, opt_.restarts);
  const int maxIter = std::max(1, opt_.maxIterations);
  const std::size_t kd = static_cast<std::size_t>(k) * d;

  auto xnorm = rowNorms(data, n, d, threads);
  // Mean per-feature variance sets the scale of the convergence test.
  double meanVar = 0;
  {
    std::vector<double> mean(d, 0.0), sq(d, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const float* x = data + i * static_cast<std::size_t>(d);
      for (int t = 0; t < d; ++t) {
        mean[t] += x[t];
        sq[t] += double(x[t]) * x[t];
      }
    }
    for (int t = 0; t < d; ++t) {
      double m = mean[t] / double(n);
      meanVar += std::max(0.0, sq[t] / double(n) - m * m);
    }
    meanVar /= d;
  }
  const double shiftTol = opt_.tolerance * meanVar;

  std::mt19937_64 rng(opt_.seed);
  KMeansResult best;
  best.inertia = std::numeric_limits<double>::infinity();
  std::vector<int32_t> labels(n);
  std::vector<float> dist2(n);
  std::vector<double> sums;
  std::vector<int64_t> counts;

  for (int r = 0; r < restarts; ++r) {
    checkCancel(ctx);
    std::vector<float> c = kmeansPlusPlus(data, n, d, k, rng, threads);
    std::fill(labels.begin(), labels.end(), -1);
    int it = 0;
    for (; it < maxIter; ++it) {
      checkCancel(ctx);
      reportProgress(ctx, (r + double(it) / maxIter) / restarts,
                     "k-means K=" + std::to_string(k) + " restart " + std::to_string(r + 1) + "/" +
                         std::to_string(restarts) + " iteration " + std::to_string(it + 1));
      std::size_t changed =
          assignPass(data, n, d, xnorm.data(), c.data(), k, labels.data(), dist2.data(), &sums, &counts, threads);
      if (changed == 0 && it > 0) break;
      std::vector<float> nc(kd);
      // Empty clusters take the rows farthest from their centroids, so K regions always come out.
      std::vector<char> used;
      for (int j = 0; j < k; ++j) {
        if (counts[j] > 0) {
          for (int t = 0; t < d; ++t) nc[static_cast<std::size_t>(j) * d + t] =
              static_cast<float>(sums[static_cast<std::size_t>(j) * d + t] / double(counts[j]));
        } else {
          if (used.empty()) used.assign(n, 0);
          std::size_t far = 0;
          float farD = -1;
          for (std::size_t i = 0; i < n; ++i)
            if (!used[i] && dist2[i] > farD) {
              farD = dist2[i];
              far = i;
            }
          used[far] = 1;
          std::copy_n(data + far * d, d, nc.begin() + static_cast<std::ptrdiff_t>(j) * d);
        }
      }
      double shift = 0;
      for (std::size_t t = 0; t < kd; ++t) shift += double(nc[t] - c[t]) * double(nc[t] - c[t]);
      c.swap(nc);
      if (shift <= shiftTol) {
        ++it;
        break;
      }
    }
    // Labels consistent with the final centroids, and the inertia measured directly.
    assignPass(data, n, d, xnorm.data(), c.data(), k, labels.data(), nullptr, nullptr, nullptr, threads);
    double in = inertia(data, n, d, c.data(), labels.data(), threads);
    if (in < best.inertia) {
      best.inertia = in;
      best.centroids = c;
      best.labels = labels;
      best.iterations = std::min(it, maxIter);
      best.bestRestart = r;
    }
  }
  best.k = k;
  best.d = d;
  reportProgress(ctx, 1.0, "k-means K=" + std::to_string(k) + " done");
  return best;
}

double KMeans::silhouette(const float* data, std::size_t n, int d, const int32_t* labels, int k) {
  if (n < 2 || k < 2) return 0.0;
  std::vector<int64_t> size(static_cast<std::size_t>(k), 0);
  for (std::size_t i = 0; i < n; ++i) ++size[labels[i]];
  int nonEmpty = 0;
  for (auto s : size) nonEmpty += s > 0;
  if (nonEmpty < 2) return 0.0;
  const int threads = resolveThreadCount(0);
  // Row blocks of the pairwise distance matrix from a GEMM; per-row sums per cluster in double.
  const std::size_t block = 256;
  std::vector<double> norms(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float* x = data + i * static_cast<std::size_t>(d);
    double s = 0;
    for (int t = 0; t < d; ++t) s += double(x[t]) * x[t];
    norms[i] = s;
  }
  std::vector<double> score(n, 0.0);
  std::vector<float> dots(block * n);
  for (std::size_t b0 = 0; b0 < n; b0 += block) {
    std::size_t rows = std::min(block, n - b0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), static_cast<int>(n), d, 1.0f,
                data + b0 * d, d, data, d, 0.0f, dots.data(), static_cast<int>(n));
    parallelFor(rows, threads, [&](std::size_t r) {
      std::size_t i = b0 + r;
      std::vector<double> perCluster(static_cast<std::size_t>(k), 0.0);
      const float* dr = dots.data() + r * n;
      for (std::size_t j = 0; j < n; ++j) {
        if (j == i) continue;
        double d2 = norms[i] + norms[j] - 2.0 * double(dr[j]);
        perCluster[labels[j]] += d2 > 0 ? std::sqrt(d2) : 0.0;
      }
      int own = labels[i];
      if (size[own] <= 1) {
        score[i] = 0.0;
        return;
      }
      double a = perCluster[own] / double(size[own] - 1);
      double b = std::numeric_limits<double>::infinity();
      for (int c = 0; c < k; ++c)
        if (c != own && size[c] > 0) b = std::min(b, perCluster[c] / double(size[c]));
      double m = std::max(a, b);
      score[i] = m > 0 ? (b - a) / m : 0.0;
    });
  }
  double total = 0;
  for (double s : score) total += s;
  return total / double(n);
}

} // namespace jseg
