// ctest-links: juleseg_segment juleseg_base
// The full-covariance Gaussian mixture on synthetic data with a known answer: two long, thin, parallel clusters
// that k-means cuts across (it halves the long axis) and a mixture separates.
#include <QtTest>

#include <cmath>
#include <random>
#include <vector>

#include "core/base/Errors.h"
#include "core/segment/GaussianMixture.h"

using namespace jseg;

namespace {

struct Data {
  std::vector<float> x;  // n x 2
  std::vector<int> truth;
};

// Cluster c: x ~ N(0, 10^2), y ~ N(3c, 0.5^2); 60 % of the rows in cluster 0.
Data parallelBars(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  Data d;
  for (int i = 0; i < n; ++i) {
    const int c = u(rng) < 0.6f ? 0 : 1;
    d.x.push_back(10.f * g(rng));
    d.x.push_back(3.f * float(c) + 0.5f * g(rng));
    d.truth.push_back(c);
  }
  return d;
}

// Share of rows whose label matches the truth under the better of the two label permutations.
double agreement(const std::vector<int32_t>& labels, const std::vector<int>& truth) {
  int same = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) same += labels[i] == truth[i];
  const double a = double(same) / double(truth.size());
  return std::max(a, 1 - a);
}

GaussianMixtureOptions options(int k, int threads) {
  GaussianMixtureOptions o;
  o.init.k = k;
  o.init.seed = 7;
  o.init.restarts = 4;
  o.init.threads = threads;
  return o;
}

} // namespace

class TestGaussianMixture : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void separatesWhatKMeansCuts() {
    const Data d = parallelBars(20000, 1);
    KMeansOptions ko = options(2, 2).init;
    const KMeansResult km = KMeans(ko).fit(d.x.data(), d.truth.size(), 2);
    const GaussianMixtureResult gm = GaussianMixture(options(2, 2)).fit(d.x.data(), d.truth.size(), 2);
    QVERIFY2(agreement(km.labels, d.truth) < 0.75, "k-means was expected to cut the bars across");
    QVERIFY(agreement(gm.labels, d.truth) > 0.99);
    // Parameters: weights 0.6 / 0.4, means (0, 0) / (0, 3), variances 100 and 0.25 (2 % tolerance on the sample).
    const int first = gm.means[1] < gm.means[3] ? 0 : 1, second = 1 - first;
    QVERIFY(std::abs(gm.weights[first] - 0.6) < 0.02);
    QVERIFY(std::abs(gm.means[2 * first + 1] - 0.0) < 0.05);
    QVERIFY(std::abs(gm.means[2 * second + 1] - 3.0) < 0.05);
    QVERIFY(std::abs(gm.covariances[4 * first + 0] / 100.0 - 1.0) < 0.05);
    QVERIFY(std::abs(gm.covariances[4 * first + 3] / 0.25 - 1.0) < 0.1);
    QVERIFY(gm.iterations >= 2);
  }

  void bicPrefersTheTrueK() {
    const Data d = parallelBars(5000, 2);
    const double one = GaussianMixture(options(1, 2)).fit(d.x.data(), d.truth.size(), 2).bic;
    const double two = GaussianMixture(options(2, 2)).fit(d.x.data(), d.truth.size(), 2).bic;
    QVERIFY(two < one);
    QCOMPARE(GaussianMixture::parameterCount(2, 2), 11.0);  // 1 weight + 2 x 2 means + 2 x 3 covariances
  }

  void sameResultOnAnyThreadCount() {
    const Data d = parallelBars(12000, 3);
    const GaussianMixtureResult a = GaussianMixture(options(3, 1)).fit(d.x.data(), d.truth.size(), 2);
    const GaussianMixtureResult b = GaussianMixture(options(3, 4)).fit(d.x.data(), d.truth.size(), 2);
    QVERIFY(a.labels == b.labels);
    QCOMPARE(a.logLikelihood, b.logLikelihood);
    QCOMPARE(a.iterations, b.iterations);
  }

  void logDensitiesPickTheLabels() {
    const Data d = parallelBars(3000, 4);
    const GaussianMixtureResult gm = GaussianMixture(options(2, 2)).fit(d.x.data(), d.truth.size(), 2);
    const std::vector<float> lp = GaussianMixture::logDensities(gm, d.x.data(), d.truth.size(), 2);
    int agree = 0;
    for (std::size_t i = 0; i < d.truth.size(); ++i) agree += (lp[2 * i + 1] > lp[2 * i] ? 1 : 0) == gm.labels[i];
    QVERIFY(agree >= int(d.truth.size()) - 2);  // the labels are those of the last E step
  }

  void refusesTooFewRows() {
    std::vector<float> x{0.f, 1.f};
    QVERIFY_THROWS_EXCEPTION(InputError, GaussianMixture(options(3, 1)).fit(x.data(), 2, 1));
  }
};

QTEST_APPLESS_MAIN(TestGaussianMixture)
#include "test_gaussian_mixture.moc"
