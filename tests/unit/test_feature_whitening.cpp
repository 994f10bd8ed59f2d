// ctest-links: juleseg_segment juleseg_base
// PCA whitening of feature rows (parameter feature_whitening) on synthetic data with a known answer: the
// whitened rows have identity covariance, the components come out largest first, and k-means on the whitened
// rows finds two clusters that lie along a narrow direction while a wide, featureless direction dominates
// the raw rows (k-means on the raw rows halves the wide direction instead).
#include <QtTest>

#include <cmath>
#include <random>
#include <vector>

#include "core/segment/FeatureGrid.h"
#include "core/segment/FeatureWhitening.h"
#include "core/segment/KMeans.h"

using namespace jseg;

namespace {

struct Rows {
  std::vector<float> x;  // n x dim
  std::vector<int> truth;
  int dim = 0;
};

// dim 4: column 0 uniform on [-10, 10] (wide, no clusters), column 1 = 2 per cluster +-0.2 noise (clusters at
// 0 and 2), columns 2 and 3 small noise (0.05 and 0.01 sd) mixed with column 1 so the axes are correlated.
Rows clusteredRows(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  std::uniform_real_distribution<float> u(-10.f, 10.f);
  Rows r;
  r.dim = 4;
  for (int i = 0; i < n; ++i) {
    const int c = i % 3 == 0 ? 1 : 0;  // a third in cluster 1
    const float wide = u(rng);
    const float narrow = 2.f * float(c) + 0.2f * g(rng);
    r.x.insert(r.x.end(), {wide, narrow, 0.5f * narrow + 0.05f * g(rng), 0.01f * g(rng)});
    r.truth.push_back(c);
  }
  return r;
}

double agreement(const std::vector<int32_t>& labels, const std::vector<int>& truth) {
  int same = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) same += labels[i] == truth[i];
  const double a = double(same) / double(truth.size());
  return std::max(a, 1 - a);
}

std::vector<int32_t> kmeans2(const std::vector<float>& x, std::size_t n, int dim) {
  KMeansOptions o;
  o.k = 2;
  o.seed = 3;
  o.restarts = 4;
  return KMeans(o).fit(x.data(), n, dim).labels;
}

// Covariance matrix (dim x dim) and means of row-major rows.
std::vector<double> covariance(const std::vector<float>& x, std::size_t n, int dim, std::vector<double>& mean) {
  mean.assign(std::size_t(dim), 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (int a = 0; a < dim; ++a) mean[std::size_t(a)] += x[i * std::size_t(dim) + std::size_t(a)];
  for (auto& m : mean) m /= double(n);
  std::vector<double> c(std::size_t(dim * dim), 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (int a = 0; a < dim; ++a)
      for (int b = 0; b < dim; ++b)
        c[std::size_t(a * dim + b)] += (x[i * std::size_t(dim) + std::size_t(a)] - mean[std::size_t(a)]) *
                                       (x[i * std::size_t(dim) + std::size_t(b)] - mean[std::size_t(b)]);
  for (auto& v : c) v /= double(n);
  return c;
}

} // namespace

class TestFeatureWhitening : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void whitenedRowsHaveIdentityCovariance() {
    Rows r = clusteredRows(30000, 1);
    int dim = r.dim;
    const WhiteningResult w = FeatureWhitening(3, 2).apply(r.x, 30000, dim);
    QCOMPARE(w.components, 3);
    QCOMPARE(dim, 3);
    QCOMPARE(r.x.size(), std::size_t(30000 * 3));
    std::vector<double> mean;
    const auto c = covariance(r.x, 30000, dim, mean);
    for (int a = 0; a < 3; ++a) {
      QVERIFY2(std::abs(mean[std::size_t(a)]) < 1e-4, qPrintable(QString("mean %1").arg(mean[std::size_t(a)])));
      for (int b = 0; b < 3; ++b)
        QVERIFY2(std::abs(c[std::size_t(a * 3 + b)] - (a == b ? 1.0 : 0.0)) < 1e-4,
                 qPrintable(QString("cov[%1][%2] = %3").arg(a).arg(b).arg(c[std::size_t(a * 3 + b)])));
    }
    // Column 0's variance (400/12 = 33.3) is almost all of the total (33.3 + 0.9 * 1.25 + ...): the kept three
    // components hold everything but the 0.01-sd column.
    QVERIFY2(w.explainedVariance > 0.99999 && w.explainedVariance < 1.0,
             qPrintable(QString::number(w.explainedVariance, 'g', 10)));
  }

  void kmeansFindsTheNarrowClustersOnlyAfterWhitening() {
    Rows r = clusteredRows(20000, 2);
    const double raw = agreement(kmeans2(r.x, 20000, r.dim), r.truth);
    QVERIFY2(raw < 0.7, qPrintable(QString("raw k-means agreement %1").arg(raw)));  // halves column 0
    int dim = r.dim;
    FeatureWhitening(2, 2).apply(r.x, 20000, dim);
    QCOMPARE(dim, 2);
    const double white = agreement(kmeans2(r.x, 20000, dim), r.truth);
    QVERIFY2(white > 0.99, qPrintable(QString("whitened k-means agreement %1").arg(white)));
  }

  void moreComponentsThanColumnsKeepsEveryColumn() {
    Rows r = clusteredRows(5000, 3);
    int dim = r.dim;
    const WhiteningResult w = FeatureWhitening(16, 1).apply(r.x, 5000, dim);
    QCOMPARE(w.components, 4);
    QCOMPARE(dim, 4);
    QVERIFY(std::abs(w.explainedVariance - 1.0) < 1e-9);
  }

  void constantColumnsAreDroppedNotAmplified() {
    // Two informative columns and two constant ones: only two components survive.
    std::vector<float> x;
    std::mt19937_64 rng(4);
    std::normal_distribution<float> g(0.f, 1.f);
    for (int i = 0; i < 2000; ++i) x.insert(x.end(), {g(rng), 5.f, 3.f * g(rng), -1.f});
    int dim = 4;
    const WhiteningResult w = FeatureWhitening(4, 1).apply(x, 2000, dim);
    QCOMPARE(w.components, 2);
    QCOMPARE(dim, 2);
    for (float v : x) QVERIFY(std::isfinite(v) && std::abs(v) < 10.f);
  }

  void resultDoesNotDependOnTheThreadCount() {
    Rows a = clusteredRows(50000, 5), b = a;
    int da = a.dim, db = b.dim;
    FeatureWhitening(3, 1).apply(a.x, 50000, da);
    FeatureWhitening(3, 2).apply(b.x, 50000, db);
    QCOMPARE(da, db);
    QVERIFY(a.x == b.x);  // byte for byte
  }

  void subsampledCovarianceIsCloseToTheFullOne() {
    Rows a = clusteredRows(40000, 6), b = a;
    int da = a.dim, db = b.dim;
    FeatureWhitening(2, 2).apply(a.x, 40000, da);           // all rows
    FeatureWhitening(2, 2, 4000).apply(b.x, 40000, db);     // every 10th row
    // Same components up to sign: compare absolute values of the first component.
    double worst = 0;
    for (std::size_t i = 0; i < 40000; ++i) worst = std::max(worst, double(std::abs(std::abs(a.x[i * 2]) - std::abs(b.x[i * 2]))));
    QVERIFY2(worst < 0.1, qPrintable(QString("largest difference %1").arg(worst)));
  }

  void gridKeepsItsPointsAndRejectsAnIntensityColumn() {
    FeatureGrid g;
    g.centres.resize(1000);
    g.dim = 4;
    Rows r = clusteredRows(1000, 7);
    g.features = r.x;
    FeatureWhitening(2).apply(g);
    QCOMPARE(g.dim, 2);
    QCOMPARE(g.features.size(), std::size_t(2000));
    g.hasIntensityColumn = true;
    QVERIFY_EXCEPTION_THROWN(FeatureWhitening(2).apply(g), std::logic_error);
    FeatureGrid untouched = g;
    FeatureWhitening(0).apply(untouched.features, untouched.count(), untouched.dim);  // 0 = off
    QVERIFY(untouched.features == g.features);
  }
};

QTEST_GUILESS_MAIN(TestFeatureWhitening)
#include "test_feature_whitening.moc"
