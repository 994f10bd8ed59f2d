#pragma once
// k-means on feature rows (n x d float, row-major): k-means++ seeding, several seeded restarts (least
// inertia wins), Lloyd iterations whose distances come from a GEMM (|x|^2 + |c|^2 - 2 x.c, OpenBLAS) in
// row chunks so that millions of 160-d rows need no n x k table. Results depend on the seed only, not on
// the thread count: partial sums are kept per fixed-size chunk and added in chunk order.
// Also: exact silhouette (for the K sweep) and a K sweep that reports inertia and silhouette per K.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/base/Progress.h"

namespace jseg {

struct KMeansOptions {
  int k = 3;
  int restarts = 4;         // k-means++ initialisations; the least inertia wins
  int maxIterations = 100;  // per restart
  // Stop when the summed squared centroid shift falls below tolerance * (mean per-feature variance),
  // the same relative criterion as scikit-learn, or when no assignment changes.
  double tolerance = 1e-4;
  uint64_t seed = 1;
  int threads = 0;  // 0 = all cores
};

struct KMeansResult {
  int k = 0;
  int d = 0;
  std::vector<float> centroids;  // k x d, row-major
  std::vector<int32_t> labels;   // n, in 0..k-1
  double inertia = 0;            // sum of squared distances to the assigned centroid (double, direct)
  int iterations = 0;            // of the winning restart
  int bestRestart = 0;
};

class KMeans {
public:
  explicit KMeans(KMeansOptions options) : opt_(options) {}

  // InputError for k < 1, d < 1, or fewer rows than k.
  KMeansResult fit(const float* data, std::size_t n, int d, const TaskContext* ctx = nullptr) const;

  // Nearest centroid per row (ties: lowest index); dist2 (may be null) receives the squared distance.
  static void assign(const float* data, std::size_t n, int d, const float* centroids, int k, int32_t* labels,
                     float* dist2 = nullptr, int threads = 0);
  // Sum of squared distances of the rows to their centroids, computed directly in double.
  static double inertia(const float* data, std::size_t n, int d, const float* centroids, const int32_t* labels,
                        int threads = 0);
  // Exact mean silhouette (Euclidean) of a labelling: O(n^2 d), meant for samples of a few thousand rows.
  // Points alone in their cluster score 0 (Rousseeuw's convention); fewer than 2 non-empty clusters gives 0.
  static double silhouette(const float* data, std::size_t n, int d, const int32_t* labels, int k);

private:
  KMeansOptions opt_;
};

int resolveThreadCount(int threads);

} // namespace jseg
