// ctest-links: juleseg_segment juleseg_base
// k-means, silhouette and the K sweep on synthetic blobs with known answers.
#include <QtTest>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "core/base/Errors.h"
#include "core/segment/KMeans.h"
#include "core/segment/KSweep.h"

using namespace jseg;

namespace {

struct Blobs {
  std::vector<float> x;
  std::vector<int> truth;
  std::size_t n = 0;
  int d = 0;
};

// k Gaussian blobs (sigma 1) whose centres are 20 apart on random axes: far enough to be recovered exactly.
Blobs makeBlobs(int k, int perBlob, int d, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  Blobs b;
  b.d = d;
  std::vector<std::vector<float>> centres(k, std::vector<float>(d, 0.0f));
  for (int c = 0; c < k; ++c) centres[c][c % d] += 20.0f * float(1 + c / d);
  for (int i = 0; i < perBlob; ++i)
    for (int c = 0; c < k; ++c) {
      for (int t = 0; t < d; ++t) b.x.push_back(centres[c][t] + g(rng));
      b.truth.push_back(c);
    }
  b.n = b.truth.size();
  return b;
}

// True when the labels are the truth up to a renaming of clusters.
bool samePartition(const std::vector<int32_t>& labels, const std::vector<int>& truth) {
  std::map<int, int> fwd, back;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    auto f = fwd.emplace(truth[i], labels[i]).first;
    auto r = back.emplace(labels[i], truth[i]).first;
    if (f->second != labels[i] || r->second != truth[i]) return false;
  }
  return true;
}

double bruteInertia(const std::vector<float>& x, int d, const std::vector<float>& c, const std::vector<int32_t>& l) {
  double s = 0;
  for (std::size_t i = 0; i < l.size(); ++i)
    for (int t = 0; t < d; ++t) {
      double e = double(x[i * d + t]) - double(c[std::size_t(l[i]) * d + t]);
      s += e * e;
    }
  return s;
}

double bruteSilhouette(const std::vector<float>& x, int d, const std::vector<int32_t>& l, int k) {
  const std::size_t n = l.size();
  std::vector<int> size(k, 0);
  for (auto v : l) ++size[v];
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> sum(k, 0.0);
    for (std::size_t j = 0; j < n; ++j) {
      if (i == j) continue;
      double s = 0;
      for (int t = 0; t < d; ++t) {
        double e = double(x[i * d + t]) - double(x[j * d + t]);
        s += e * e;
      }
      sum[l[j]] += std::sqrt(s);
    }
    if (size[l[i]] <= 1) continue;
    double a = sum[l[i]] / (size[l[i]] - 1), b = 1e300;
    for (int c = 0; c < k; ++c)
      if (c != l[i] && size[c] > 0) b = std::min(b, sum[c] / size[c]);
    total += (b - a) / std::max(a, b);
  }
  return total / double(n);
}

} // namespace

class TestKMeans : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void recoversBlobsExactly() {
    for (int d : {2, 160}) {
      Blobs b = makeBlobs(4, 500, d, 7);
      KMeansOptions o;
      o.k = 4;
      o.seed = 3;
      KMeansResult r = KMeans(o).fit(b.x.data(), b.n, d);
      QCOMPARE(r.labels.size(), b.n);
      QVERIFY2(samePartition(r.labels, b.truth), qPrintable(QString("d=%1").arg(d)));
      QCOMPARE(r.k, 4);
      QCOMPARE(int(r.centroids.size()), 4 * d);
    }
  }

  void oneDimensionalWorks() {
    std::vector<float> x;
    std::vector<int> truth;
    std::mt19937_64 rng(1);
    std::normal_distribution<float> g(0.0f, 0.5f);
    for (int i = 0; i < 300; ++i)
      for (int c = 0; c < 3; ++c) {
        x.push_back(10.0f * c + g(rng));
        truth.push_back(c);
      }
    KMeansOptions o;
    o.k = 3;
    KMeansResult r = KMeans(o).fit(x.data(), x.size(), 1);
    QVERIFY(samePartition(r.labels, truth));
    std::vector<float> c = r.centroids;
    std::sort(c.begin(), c.end());
    QVERIFY(std::abs(c[0] - 0.0f) < 0.2f && std::abs(c[1] - 10.0f) < 0.2f && std::abs(c[2] - 20.0f) < 0.2f);
  }

  void sameSeedSameResultAnyThreads() {
    // Overlapping blobs so that restarts and iterations matter.
    std::mt19937_64 rng(5);
    std::normal_distribution<float> g(0.0f, 1.0f);
    const int d = 16;
    std::vector<float> x(30000 * d);
    for (auto& v : x) v = g(rng);
    KMeansOptions o;
    o.k = 5;
    o.seed = 11;
    o.threads = 1;
    KMeansResult a = KMeans(o).fit(x.data(), 30000, d);
    o.threads = 2;
    KMeansResult b = KMeans(o).fit(x.data(), 30000, d);
    QVERIFY(a.labels == b.labels);
    QVERIFY(a.centroids == b.centroids);
    QCOMPARE(a.inertia, b.inertia);
    o.seed = 12;
    KMeansResult c = KMeans(o).fit(x.data(), 30000, d);
    QVERIFY(c.centroids != a.centroids);  // the seed is really used
  }

  void inertiaMatchesBruteForce() {
    Blobs b = makeBlobs(3, 400, 10, 9);
    KMeansOptions o;
    o.k = 5;  // more clusters than blobs: a non-trivial optimum
    o.tolerance = 0;  // iterate to a fixed point, where centroids are exactly the means of their rows
    KMeansResult r = KMeans(o).fit(b.x.data(), b.n, b.d);
    double brute = bruteInertia(b.x, b.d, r.centroids, r.labels);
    QVERIFY2(std::abs(r.inertia - brute) <= 1e-9 * brute, qPrintable(QString("%1 vs %2").arg(r.inertia).arg(brute)));
    // Every label is the nearest centroid (Lloyd's fixed point).
    std::vector<int32_t> again(b.n);
    KMeans::assign(b.x.data(), b.n, b.d, r.centroids.data(), 5, again.data());
    QVERIFY(again == r.labels);
    // Each centroid is the mean of its rows.
    for (int c = 0; c < 5; ++c) {
      double sum = 0;
      int cnt = 0;
      for (std::size_t i = 0; i < b.n; ++i)
        if (r.labels[i] == c) {
          sum += b.x[i * b.d];
          ++cnt;
        }
      QVERIFY(cnt > 0);
      QVERIFY(std::abs(sum / cnt - r.centroids[std::size_t(c) * b.d]) < 1e-4);
    }
  }

  void silhouetteMatchesBruteForce() {
    std::mt19937_64 rng(2);
    std::normal_distribution<float> g(0.0f, 1.0f);
    const int d = 5, n = 300, k = 3;
    std::vector<float> x(n * d);
    std::vector<int32_t> l(n);
    for (int i = 0; i < n; ++i) {
      l[i] = i % k;
      for (int t = 0; t < d; ++t) x[i * d + t] = g(rng) + (t == 0 ? 2.0f * l[i] : 0.0f);
    }
    l[0] = 2;  // an uneven split
    double fast = KMeans::silhouette(x.data(), n, d, l.data(), k);
    double brute = bruteSilhouette(x, d, l, k);
    QVERIFY2(std::abs(fast - brute) < 1e-5, qPrintable(QString("%1 vs %2").arg(fast).arg(brute)));
    QVERIFY(fast > 0.1 && fast < 0.9);
    // A singleton cluster scores 0 for its point.
    std::vector<float> tiny{0, 0, 0.1f, 0, 10, 0};
    std::vector<int32_t> tl{0, 0, 1};
    double s = KMeans::silhouette(tiny.data(), 3, 2, tl.data(), 2);
    double a0 = 0.1, b0 = std::hypot(10.0, 0.0), b1 = std::hypot(9.9, 0.0);
    double expect = ((b0 - a0) / b0 + (b1 - a0) / b1 + 0.0) / 3.0;
    QVERIFY(std::abs(s - expect) < 1e-5);
  }

  void sweepPicksTrueK() {
    Blobs b = makeBlobs(4, 1000, 12, 21);
    KSweepOptions o;
    o.kMin = 2;
    o.kMax = 7;
    o.kmeans.restarts = 2;
    KSweepResult r = kSweep(b.x.data(), b.n, b.d, o);
    QCOMPARE(int(r.entries.size()), 6);
    QCOMPARE(r.bestBySilhouette(), 4);
    QCOMPARE(int(r.sample.size()), 2000);
    for (std::size_t i = 0; i < r.entries.size(); ++i) {
      QCOMPARE(r.entries[i].k, int(i) + 2);
      QCOMPARE(int(r.entries[i].centroids.size()), r.entries[i].k * b.d);
    }
    // Inertia at the true K is far below K = 3 and close to n * d (unit-variance blobs).
    QVERIFY(r.entries[2].inertia < 0.2 * r.entries[1].inertia);
    QVERIFY(std::abs(r.entries[2].inertia / double(b.n * b.d) - 1.0) < 0.05);
  }

  void badInputs() {
    std::vector<float> x{1, 2, 3};
    KMeansOptions o;
    o.k = 4;
    QVERIFY_THROWS_EXCEPTION(InputError, KMeans(o).fit(x.data(), 3, 1));
    KSweepOptions s;
    s.kMin = 3;
    s.kMax = 2;
    QVERIFY_THROWS_EXCEPTION(InputError, kSweep(x.data(), 3, 1, s));
    // Identical rows: K clusters still come out, inertia 0.
    std::vector<float> same(40, 1.0f);
    o.k = 3;
    KMeansResult r = KMeans(o).fit(same.data(), 20, 2);
    QCOMPARE(r.inertia, 0.0);
  }

  void cancelStops() {
    Blobs b = makeBlobs(3, 1000, 4, 1);
    auto token = std::make_shared<CancelToken>();
    token->cancel();
    TaskContext ctx;
    ctx.cancel = token;
    KMeansOptions o;
    QVERIFY_THROWS_EXCEPTION(CancelledError, KMeans(o).fit(b.x.data(), b.n, b.d, &ctx));
  }
};

QTEST_GUILESS_MAIN(TestKMeans)
#include "test_kmeans.moc"
