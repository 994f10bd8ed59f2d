#pragma once
// Exact k-nearest-neighbour search and the directed sample graph W of JULE (jule-reference.md §2.1).
// Candidates are found with a blocked float GEMM (|x|^2 + |y|^2 - 2 x.y), then the distances of a few
// extra candidates per row are recomputed exactly in double so that the ranking does not depend on the
// GEMM's rounding (and equals a plain double brute force bit for bit).
#include <algorithm>
#include <thread>
#include <vector>

#include "core/base/Progress.h"

namespace jseg {

// Squared Euclidean distance in double with four interleaved partial sums (summed in a fixed order, so the
// result is reproducible; brute-force references in the tests call this same function).
template <class T>
inline double squaredDistance(const T* a, const T* b, int d) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int k = 0;
  for (; k + 4 <= d; k += 4) {
    const double e0 = double(a[k]) - double(b[k]);
    const double e1 = double(a[k + 1]) - double(b[k + 1]);
    const double e2 = double(a[k + 2]) - double(b[k + 2]);
    const double e3 = double(a[k + 3]) - double(b[k + 3]);
    s0 += e0 * e0;
    s1 += e1 * e1;
    s2 += e2 * e2;
    s3 += e3 * e3;
  }
  for (; k < d; ++k) {
    const double e = double(a[k]) - double(b[k]);
    s0 += e * e;
  }
  return (s0 + s1) + (s2 + s3);
}

// k nearest neighbours of each query row, nearest first; ties in distance go to the lower index.
struct KnnLists {
  int n = 0;                  // number of query rows
  int k = 0;                  // neighbours per row
  std::vector<int> index;     // n*k reference indices
  std::vector<double> dist2;  // n*k exact squared distances
};

// Exact k-NN of `queries` (nq x d, row-major) among `refs` (nr x d). With `excludeSelf`, query i never
// returns reference i (used when queries == refs, also with duplicate points). k is clamped to the number
// of available references. threads <= 0 means all cores. Cancellable between GEMM tiles.
KnnLists exactKnn(const float* queries, int nq, const float* refs, int nr, int d, int k, bool excludeSelf,
                  int threads = 0, const TaskContext* ctx = nullptr);

// Directed graph W[i][j] = exp(-d2(i,j)/sigma2) for j among the K_s nearest neighbours of i (i excluded),
// sigma2 = sigmaScale * mean of those d2 (JULE's a = 1). W is not symmetrised (as in the reference).
class KnnGraph {
public:
  static KnnGraph build(const float* x, int n, int d, int ks, double sigmaScale, int threads = 0,
                        const TaskContext* ctx = nullptr);

  int size() const { return n_; }
  int k() const { return knn_.k; }
  double sigma2() const { return sigma2_; }
  const KnnLists& knn() const { return knn_; }
  // Nearest neighbour of i (i excluded), -1 when n == 1.
  int nearest(int i) const { return knn_.k > 0 ? knn_.index[size_t(i) * knn_.k] : -1; }

  // Out-edges of i sorted by target index; in-edges of j sorted by source index.
  int outBegin(int i) const { return outStart_[i]; }
  int outEnd(int i) const { return outStart_[i + 1]; }
  int outTarget(int e) const { return outTarget_[e]; }
  double outWeight(int e) const { return outWeight_[e]; }
  int inBegin(int j) const { return inStart_[j]; }
  int inEnd(int j) const { return inStart_[j + 1]; }
  int inSource(int e) const { return inSource_[e]; }
  double inWeight(int e) const { return inWeight_[e]; }

  // Builds W from given neighbour lists (tests use it to share one k-NN between implementations).
  static KnnGraph fromKnn(KnnLists knn, double sigmaScale);

private:
  int n_ = 0;
  double sigma2_ = 0;
  KnnLists knn_;
  std::vector<int> outStart_, outTarget_, inStart_, inSource_;
  std::vector<double> outWeight_, inWeight_;
};

// Number of worker threads for `requested` (<= 0: all cores).
int resolveThreads(int requested);

// Runs fn(begin, end) over [0, count) split into at most `threads` contiguous chunks (fn must not throw).
template <class Fn>
void parallelRange(int count, int threads, Fn&& fn) {
  threads = std::max(1, std::min(threads, count / 16 + 1));
  if (threads == 1) {
    fn(0, count);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(size_t(threads - 1));
  const int chunk = (count + threads - 1) / threads;
  for (int t = 1; t < threads; ++t) {
    const int b = t * chunk, e = std::min(count, b + chunk);
    if (b < e) pool.emplace_back([&fn, b, e] { fn(b, e); });
  }
  fn(0, std::min(count, chunk));
  for (auto& th : pool) th.join();
}

} // namespace jseg
