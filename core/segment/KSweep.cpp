#include "core/segment/KSweep.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>
#include <string>

#include "core/base/Errors.h"

namespace jseg {

int KSweepResult::bestBySilhouette() const {
  int best = 0;
  double bestS = -2;
  for (const auto& e : entries)
    if (e.silhouette > bestS) {
      bestS = e.silhouette;
      best = e.k;
    }
  return best;
}

KSweepResult kSweep(const float* data, std::size_t n, int d, const KSweepOptions& options,
                    const TaskContext* ctx) {
  if (options.kMin < 1 || options.kMax < options.kMin)
    throw InputError("K range " + std::to_string(options.kMin) + ".." + std::to_string(options.kMax) +
                     " is empty or starts below 1");
  if (n < static_cast<std::size_t>(options.kMax))
    throw InputError("the K sweep up to " + std::to_string(options.kMax) + " needs at least that many points, but " +
                     std::to_string(n) + " lie in the mask");
  KSweepResult out;
  // A seeded sample without replacement (partial Fisher-Yates), sorted so its rows are read in order.
  std::size_t m = std::min(n, std::max<std::size_t>(2, options.silhouetteSample));
  {
    std::vector<std::size_t> idx(n);
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    std::mt19937_64 rng(options.kmeans.seed ^ 0x5111u);
    for (std::size_t i = 0; i < m; ++i) {
      std::uniform_int_distribution<std::size_t> u(i, n - 1);
      std::swap(idx[i], idx[u(rng)]);
    }
    idx.resize(m);
    std::sort(idx.begin(), idx.end());
    out.sample = std::move(idx);
  }
  std::vector<float> sampleRows(m * static_cast<std::size_t>(d));
  for (std::size_t i = 0; i < m; ++i)
    std::copy_n(data + out.sample[i] * d, d, sampleRows.begin() + static_cast<std::ptrdiff_t>(i * d));

  // Interactive sweeps fit on a seeded subsample (k-means centroids settle long before every row is used)
  // and then score inertia over all rows with one assignment pass.
  std::vector<float> fitRows;
  const float* fitData = data;
  std::size_t fitN = n;
  if (options.fitSample > 0 && n > options.fitSample) {
    std::vector<std::size_t> idx(n);
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    std::mt19937_64 rng(options.kmeans.seed ^ 0xF175u);
    for (std::size_t i = 0; i < options.fitSample; ++i) {
      std::uniform_int_distribution<std::size_t> u(i, n - 1);
      std::swap(idx[i], idx[u(rng)]);
    }
    idx.resize(options.fitSample);
    std::sort(idx.begin(), idx.end());
    fitRows.resize(idx.size() * static_cast<std::size_t>(d));
    for (std::size_t i = 0; i < idx.size(); ++i)
      std::copy_n(data + idx[i] * d, d, fitRows.begin() + static_cast<std::ptrdiff_t>(i * d));
    fitData = fitRows.data();
    fitN = idx.size();
  }
  std::vector<int32_t> allLabels(fitN == n ? 0 : n);

  const int count = options.kMax - options.kMin + 1;
  for (int k = options.kMin; k <= options.kMax; ++k) {
    checkCancel(ctx);
    auto t0 = std::chrono::steady_clock::now();
    KMeansOptions ko = options.kmeans;
    ko.k = k;
    // Sub-progress of one K maps into its slice of the sweep.
    TaskContext sub;
    if (ctx) {
      sub.cancel = ctx->cancel;
      int done = k - options.kMin;
      sub.progress = [ctx, done, count](double f, const std::string& msg) {
        ctx->report((done + std::max(0.0, f)) / count, msg);
      };
    }
    KMeansResult r = KMeans(ko).fit(fitData, fitN, d, ctx ? &sub : nullptr);
    if (fitN != n) {
      KMeans::assign(data, n, d, r.centroids.data(), k, allLabels.data(), nullptr, ko.threads);
      r.inertia = KMeans::inertia(data, n, d, r.centroids.data(), allLabels.data(), ko.threads);
      r.labels = allLabels;
    }
    std::vector<int32_t> sampleLabels(m);
    for (std::size_t i = 0; i < m; ++i) sampleLabels[i] = r.labels[out.sample[i]];
    KSweepEntry e;
    e.k = k;
    e.centroids = std::move(r.centroids);
    e.inertia = r.inertia;
    e.silhouette = KMeans::silhouette(sampleRows.data(), m, d, sampleLabels.data(), k);
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.entries.push_back(std::move(e));
  }
  reportProgress(ctx, 1.0, "K sweep done");
  return out;
}

} // namespace jseg
