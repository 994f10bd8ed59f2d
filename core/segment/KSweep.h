#pragma once
// k-means for every K in a range, for the K picker: centroids and inertia on all rows, plus the exact
// silhouette on one seeded sample of rows (the same sample for every K, so the scores compare).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/base/Progress.h"
#include "core/segment/KMeans.h"

namespace jseg {

struct KSweepOptions {
  int kMin = 2;
  int kMax = 10;
  KMeansOptions kmeans;                 // k is overridden per entry; seed shared by all K
  std::size_t silhouetteSample = 2000;  // rows scored by the silhouette (all rows when fewer)
  // k-means of each K is fitted on this many seeded random rows (0 = all rows), then inertia is computed
  // over all rows: keeps a 2..10 sweep of 10^5-10^6 points interactive.
  std::size_t fitSample = 20000;
};

struct KSweepEntry {
  int k = 0;
  std::vector<float> centroids;  // k x d
  double inertia = 0;
  double silhouette = 0;  // mean silhouette on the sample, in [-1, 1]
  double seconds = 0;     // k-means + silhouette for this K
};

struct KSweepResult {
  std::vector<KSweepEntry> entries;  // kMin..kMax in order
  std::vector<std::size_t> sample;   // row indices the silhouette used
  int bestBySilhouette() const;      // K with the largest silhouette (the smallest K on ties); 0 if empty
};

// InputError when kMin < 1, kMax < kMin or fewer rows than kMax.
KSweepResult kSweep(const float* data, std::size_t n, int d, const KSweepOptions& options,
                    const TaskContext* ctx = nullptr);

} // namespace jseg
