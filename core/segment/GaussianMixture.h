#pragma once
// A Gaussian mixture with full covariances, fitted by expectation-maximisation (parameter `cluster_backend` =
// gmm). Why beside k-means: k-means cuts halfway between centroids, so a region that spreads wider than its
// neighbours (a tumour's oedema on FLAIR, grey matter on the first principal component) is split while a narrow
// one swallows the other's tail. A mixture models each region's own spread and correlations.
//
// Deterministic: initialised from k-means with the same seed (hard assignments give the first means, weights and
// covariances), every sum taken per fixed-size chunk and added in chunk order, so the result depends on the seed
// only, not on the thread count. Each covariance gets `regularisation` × (each feature's variance over all rows)
// added to its diagonal, so a region flat in one feature does not make the likelihood diverge.
// Torch-free header.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/base/Progress.h"
#include "core/segment/KMeans.h"

namespace jseg {

struct GaussianMixtureOptions {
  KMeansOptions init;           // k, seed, restarts and threads of the k-means that starts EM
  int maxIterations = 100;      // EM iterations
  double tolerance = 1e-5;      // stop when the mean log-likelihood per row gains less than this
  double regularisation = 1e-3;  // covariance floor, relative to each feature's variance
};

struct GaussianMixtureResult {
  int k = 0;
  int d = 0;
  std::vector<double> weights;      // k
  std::vector<double> means;        // k x d
  std::vector<double> covariances;  // k x d x d
  std::vector<int32_t> labels;      // n: the component of highest posterior
  double logLikelihood = 0;         // total over the rows
  double bic = 0;                   // -2 log L + parameters x ln n (lower is better)
  int iterations = 0;
};

class GaussianMixture {
public:
  explicit GaussianMixture(GaussianMixtureOptions options) : opt_(options) {}
  // InputError for k < 1, d < 1 or fewer rows than k. Cancellable between iterations.
  GaussianMixtureResult fit(const float* data, std::size_t n, int d, const TaskContext* ctx = nullptr) const;
  // Per row and component: log(weight) + log N(x | mean, covariance), n x k row-major (for spatial regularisation,
  // which trades these against the neighbours' labels).
  static std::vector<float> logDensities(const GaussianMixtureResult& model, const float* data, std::size_t n,
                                         int threads = 0);
  // Number of free parameters of a k-component, d-dimensional full-covariance mixture.
  static double parameterCount(int k, int d);

private:
  GaussianMixtureOptions opt_;
};

} // namespace jseg
