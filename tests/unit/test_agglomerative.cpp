// ctest-links: juleseg_jule juleseg_base
// Agglomerative clustering (GDL as in JULE's reference code): the optimised sparse implementation against
// a brute-force transcription of the reference (dense W, dense A_us/A_s, full column sort per merge),
// hand-computed small cases, the eta schedule, cancellation and clustering quality.
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "core/base/Errors.h"
#include "core/base/Progress.h"
#include "core/jule/AgglomerativeClustering.h"
#include "core/jule/KnnGraph.h"

using namespace jseg;

namespace {

using Pairs = std::vector<std::pair<int, int>>;

// ------------------------------------------------------------------------------------------------
// Brute-force reference. Follows agg_clustering.lua / affinity.lua / agg_clustering.c step by step
// (0-based), with the tie rules of AgglomerativeClustering.h: lower row wins inside a sorted column,
// the first column wins in max(), lower index wins among equal distances.
// ------------------------------------------------------------------------------------------------
class RefGdl {
public:
  RefGdl(const std::vector<float>& x, int n, int d, const GdlOptions& o) : x_(x), n_(n), d_(d), o_(o) {
    // knn.knn(X, X, K_s+1) with self excluded explicitly, all pairs in double.
    k_ = std::min(o.ks, n - 1);
    idx_.assign(size_t(n), {});
    std::vector<double> d2row(static_cast<size_t>(n) * k_);
    for (int i = 0; i < n; ++i) {
      std::vector<std::pair<double, int>> all;
      for (int j = 0; j < n; ++j)
        if (j != i) all.emplace_back(squaredDistance(&x[size_t(i) * d], &x[size_t(j) * d], d), j);
      std::sort(all.begin(), all.end());
      for (int t = 0; t < k_; ++t) {
        idx_[size_t(i)].push_back(all[size_t(t)].second);
        d2row[size_t(i) * k_ + t] = all[size_t(t)].first;
      }
    }
    double sum = 0;
    for (double v : d2row) sum += v;
    sigma2_ = o.sigmaScale * (sum / double(d2row.size()));
    W_.assign(size_t(n) * n, 0.0);  // dense n x n, directed
    for (int i = 0; i < n; ++i)
      for (int t = 0; t < k_; ++t)
        W_[size_t(i) * n + idx_[size_t(i)][size_t(t)]] = std::exp(-d2row[size_t(i) * k_ + t] / sigma2_);
  }

  double sigma2() const { return sigma2_; }
  const std::vector<std::vector<int>>& knn() const { return idx_; }

  // agg_clustering.init
  std::vector<int> init() const {
    std::vector<int> visited(static_cast<size_t>(n_), -1);
    int count = 0;
    for (int i = 0; i < n_; ++i) {
      int cur = i;
      std::vector<int> pos;
      while (visited[size_t(cur)] == -1) {
        pos.push_back(cur);
        int neighbor = cur;
        for (int nb : idx_[size_t(cur)]) {
          neighbor = nb;
          if (nb != cur) break;
        }
        visited[size_t(cur)] = -2;
        cur = neighbor;
        if (int(pos.size()) > o_.chainGuard) break;
      }
      if (visited[size_t(cur)] < 0) visited[size_t(cur)] = count++;
      for (int p : pos) visited[size_t(p)] = visited[size_t(cur)];
    }
    return visited;
  }

  // updateLabels for iter > 0: compute4cluster (+ isolated fix) and agg_clustering.run.
  std::vector<int> period(const std::vector<int>& labels, double eta, int target) {
    merges.clear();
    isolated.clear();
    staleMerges = 0;
    int nc = 0;
    for (int l : labels) nc = std::max(nc, l + 1);
    Y_.assign(size_t(nc), {});
    for (int i = 0; i < n_; ++i) Y_[size_t(labels[size_t(i)])].push_back(i);
    T_ = nc;
    computeCAff();
    if (o_.isolatedClusterFix && double(nc) > double(o_.isolatedFactor) * target) isolatedFix();
    int nonEmpty = 0;
    for (auto& y : Y_) nonEmpty += y.empty() ? 0 : 1;
    const int iterations = int(std::min(std::ceil(double(nonEmpty) * eta), double(nonEmpty - target)));
    for (int t = 0; t < iterations; ++t) {
      int a, b;
      if (!search(a, b)) break;
      merges.emplace_back(a, b);
      if (Y_[size_t(a)].empty() || Y_[size_t(b)].empty()) ++staleMerges;
      if (o_.fastRowUpdate)
        stepFast(a, b);
      else
        stepExact(a, b);
    }
    std::vector<int> out(static_cast<size_t>(n_));
    int next = 0;
    for (int s = 0; s < T_; ++s) {
      if (Y_[size_t(s)].empty()) continue;
      for (int m : Y_[size_t(s)]) out[size_t(m)] = next;
      ++next;
    }
    return out;
  }

  std::vector<int> cluster(int target, double eta) {
    std::vector<int> labels = init();
    Pairs all;
    int nc = *std::max_element(labels.begin(), labels.end()) + 1;
    while (nc > target) {
      labels = period(labels, eta, target);
      all.insert(all.end(), merges.begin(), merges.end());
      const int before = nc;
      nc = *std::max_element(labels.begin(), labels.end()) + 1;
      if (nc >= before) break;
    }
    merges = all;
    return labels;
  }

  Pairs merges, isolated;
  int staleMerges = 0;  // merges in the loop that picked an emptied slot (stale A_s entry)

private:
  double& us(int r, int c) { return Aus_[size_t(r) * T_ + c]; }
  double& as(int r, int c) { return As_[size_t(r) * T_ + c]; }
  double w(int i, int j) const { return W_[size_t(i) * n_ + j]; }
  double sz(int s) const { return double(Y_[size_t(s)].size()); }
  std::vector<int> sorted(int s) const {
    std::vector<int> v = Y_[size_t(s)];
    std::sort(v.begin(), v.end());
    return v;
  }

  void computeCAff() {
    Aus_.assign(size_t(T_) * T_, 0.0);
    As_.assign(size_t(T_) * T_, 0.0);
    for (int i = 0; i < T_; ++i)
      for (int j = i + 1; j < T_; ++j) {
        const std::vector<int> yi = sorted(i), yj = sorted(j);
        double aij = 0;  // paths C_j -> m -> C_j through m in C_i
        for (int m : yi) {
          double sji = 0, sij = 0;
          for (int nn : yj) {
            sji += w(nn, m);
            sij += w(m, nn);
          }
          aij += sji * sij;
        }
        double aji = 0;
        for (int m : yj) {
          double sji = 0, sij = 0;
          for (int nn : yi) {
            sji += w(m, nn);
            sij += w(nn, m);
          }
          aji += sij * sji;
        }
        us(j, i) = aij;
        us(i, j) = aji;
        as(i, j) = aij / (sz(j) * sz(j)) + aji / (sz(i) * sz(i));
      }
  }

  std::vector<float> centroids() const {
    std::vector<float> c(static_cast<size_t>(T_) * d_, 0.0f);
    for (int s = 0; s < T_; ++s) {
      if (Y_[size_t(s)].empty()) continue;
      std::vector<double> acc(static_cast<size_t>(d_), 0.0);
      for (int m : sorted(s))
        for (int t = 0; t < d_; ++t) acc[size_t(t)] += x_[size_t(m) * d_ + t];
      for (int t = 0; t < d_; ++t) c[size_t(s) * d_ + t] = float(acc[size_t(t)] / sz(s));
    }
    return c;
  }

  void refreshAs(int a) {
    for (int i = 0; i < T_; ++i) {
      if (Y_[size_t(i)].empty() || i == a) {
        as(i, a) = 0;
        as(a, i) = 0;
      } else if (i < a) {
        as(i, a) = us(a, i) / (sz(a) * sz(a)) + us(i, a) / (sz(i) * sz(i));
      } else {
        as(a, i) = us(a, i) / (sz(a) * sz(a)) + us(i, a) / (sz(i) * sz(i));
      }
    }
  }

  void isolatedFix() {
    const std::vector<float> c = centroids();
    std::vector<std::vector<int>> cidx(static_cast<size_t>(T_));  // knn over centroids with k = nc
    for (int i = 0; i < T_; ++i) {
      std::vector<std::pair<double, int>> all;
      for (int j = 0; j < T_; ++j) all.emplace_back(squaredDistance(&c[size_t(i) * d_], &c[size_t(j) * d_], d_), j);
      std::sort(all.begin(), all.end());
      for (auto& p : all) cidx[size_t(i)].push_back(p.second);
    }
    for (int i = 0; i < T_; ++i) {
      double colSum = 0, rowSum = 0;
      for (int r = 0; r < T_; ++r) colSum += us(r, i);
      for (int cc = 0; cc < T_; ++cc) rowSum += us(i, cc);
      if (colSum != 0 || rowSum != 0) continue;
      int idxB = -1;
      for (int j : cidx[size_t(i)])
        if (j != i) {
          idxB = j;
          break;
        }
      if (idxB < 0) continue;
      const int a = std::min(i, idxB), b = std::max(i, idxB);
      if (Y_[size_t(a)].empty() && Y_[size_t(b)].empty()) continue;  // documented deviation (0/0)
      isolated.emplace_back(a, b);
      // merge_two_clusters
      for (int r = 0; r < T_; ++r) us(r, a) += us(r, b);
      const double ratio = sz(a) / (sz(a) + sz(b));
      for (int cc = 0; cc < T_; ++cc) us(a, cc) = us(a, cc) * ratio + us(b, cc) * (1.0 - ratio);
      us(a, a) = 0;
      for (int r = 0; r < T_; ++r) us(r, b) = 0;
      for (int cc = 0; cc < T_; ++cc) us(b, cc) = 0;
      for (int m : Y_[size_t(b)]) Y_[size_t(a)].push_back(m);
      Y_[size_t(b)].clear();
      refreshAs(a);
    }
  }

  double colView(int i, int j) {
    if (o_.faithfulTriangularKnn) return as(i, j);
    return i == j ? 0.0 : as(std::min(i, j), std::max(i, j));
  }

  bool search(int& a, int& b) {
    // torch.sort(A_s, 1, true): every column sorted in full, at every merge.
    std::vector<double> aff(static_cast<size_t>(T_));
    std::vector<int> top(static_cast<size_t>(T_));
    for (int j = 0; j < T_; ++j) {
      std::vector<std::pair<double, int>> col;
      for (int i = 0; i < T_; ++i) col.emplace_back(colView(i, j), i);
      std::sort(col.begin(), col.end(), [](const auto& p, const auto& q) {
        return p.first > q.first || (p.first == q.first && p.second < q.second);
      });
      top[size_t(j)] = col[0].second;
      double v = col[0].first;
      if (T_ > o_.lambdaMinClusters && o_.kc >= 2)
        for (int k = 2; k <= o_.kc; ++k) v += o_.lambda * (col[0].first - col[size_t(k - 1)].first) / double(o_.kc - 1);
      aff[size_t(j)] = v;
    }
    int jb = 0;
    for (int j = 1; j < T_; ++j)
      if (aff[size_t(j)] > aff[size_t(jb)]) jb = j;
    if (!(aff[size_t(jb)] > 0)) return fallback(a, b);
    a = std::min(top[size_t(jb)], jb);
    b = std::max(top[size_t(jb)], jb);
    return true;
  }

  bool fallback(int& a, int& b) {
    int nonEmpty = 0, s = -1;
    for (int i = 0; i < T_; ++i)
      if (!Y_[size_t(i)].empty()) {
        ++nonEmpty;
        if (s < 0 || sz(i) < sz(s)) s = i;
      }
    if (nonEmpty < 2) return false;
    const std::vector<float> c = centroids();
    int best = -1;
    double bestD = 0;
    for (int j = 0; j < T_; ++j) {
      if (j == s || Y_[size_t(j)].empty()) continue;
      const double dd = squaredDistance(&c[size_t(s) * d_], &c[size_t(j) * d_], d_);
      if (best < 0 || dd < bestD) {
        best = j;
        bestD = dd;
      }
    }
    a = std::min(s, best);
    b = std::max(s, best);
    return true;
  }

  void stepFast(int a, int b) {
    for (int r = 0; r < T_; ++r) us(r, a) += us(r, b);
    for (int c = 0; c < T_; ++c) us(a, c) += us(b, c);
    for (int m : Y_[size_t(b)]) Y_[size_t(a)].push_back(m);
    Y_[size_t(b)].clear();
    refreshAs(a);
    const int L = T_ - 1;
    if (b != L) {
      for (int c = 0; c < T_; ++c) us(b, c) = us(L, c);
      for (int r = 0; r < T_; ++r) us(r, b) = us(r, L);
      us(b, b) = 0;
      for (int i = 0; i <= b; ++i) as(i, b) = as(i, L);
      for (int k = b; k <= L; ++k) as(b, k) = as(k, L);
      as(b, b) = 0;
      for (int m : Y_[size_t(L)]) Y_[size_t(b)].push_back(m);
    }
    // shrink to (T-1) x (T-1)
    std::vector<double> nus(static_cast<size_t>(L) * L), nas(static_cast<size_t>(L) * L);
    for (int r = 0; r < L; ++r)
      for (int c = 0; c < L; ++c) {
        nus[size_t(r) * L + c] = us(r, c);
        nas[size_t(r) * L + c] = as(r, c);
      }
    Aus_.swap(nus);
    As_.swap(nas);
    Y_.pop_back();
    T_ = L;
  }

  void stepExact(int a, int b) {
    for (int r = 0; r < T_; ++r) us(r, a) += us(r, b);
    for (int m : Y_[size_t(b)]) Y_[size_t(a)].push_back(m);
    Y_[size_t(b)].clear();
    const std::vector<int> ya = sorted(a);
    for (int i = 0; i < T_; ++i) {
      if (Y_[size_t(i)].empty() || i == a) continue;
      double s = 0;  // sum(W[C_a,C_i] @ W[C_i,C_a])
      for (int m : sorted(i)) {
        double in = 0, out = 0;
        for (int p : ya) in += w(p, m);
        for (int q : ya) out += w(m, q);
        s += in * out;
      }
      us(a, i) = s;
    }
    us(a, a) = 0;
    for (int r = 0; r < T_; ++r) us(r, b) = 0;
    for (int c = 0; c < T_; ++c) us(b, c) = 0;
    refreshAs(a);
    for (int r = 0; r < T_; ++r) as(r, b) = 0;
    for (int c = 0; c < T_; ++c) as(b, c) = 0;
  }

  const std::vector<float>& x_;
  int n_, d_, k_;
  GdlOptions o_;
  double sigma2_ = 0;
  std::vector<std::vector<int>> idx_;
  std::vector<double> W_;
  std::vector<std::vector<int>> Y_;
  int T_ = 0;
  std::vector<double> Aus_, As_;
};

// Noisy mixture: `groups` random centres, points around them, rows renormalised to norm <= 1.
std::vector<float> mixture(int n, int d, int groups, double spread, uint64_t seed, std::vector<int>* truth = nullptr,
                           double centreScale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> centres(static_cast<size_t>(groups) * d);
  for (auto& c : centres) c = g(rng) * centreScale;
  std::vector<float> x(static_cast<size_t>(n) * d);
  if (truth) truth->assign(size_t(n), 0);
  for (int i = 0; i < n; ++i) {
    const int k = int(rng() % uint64_t(groups));
    if (truth) (*truth)[size_t(i)] = k;
    double norm = 0;
    for (int t = 0; t < d; ++t) {
      const double v = centres[size_t(k) * d + t] + spread * g(rng);
      x[size_t(i) * d + t] = float(v);
      norm += v * v;
    }
    norm = std::sqrt(norm);
    if (norm > 1)  // torch renorm(2, 1, 1)
      for (int t = 0; t < d; ++t) x[size_t(i) * d + t] = float(x[size_t(i) * d + t] / norm);
  }
  return x;
}

// NMI = MI / sqrt(H1 H2), natural log (the reference's evaluate.lua).
double nmi(const std::vector<int>& a, const std::vector<int>& b) {
  const double n = double(a.size());
  std::map<int, double> pa, pb;
  std::map<std::pair<int, int>, double> pab;
  for (size_t i = 0; i < a.size(); ++i) {
    pa[a[i]] += 1;
    pb[b[i]] += 1;
    pab[{a[i], b[i]}] += 1;
  }
  double ha = 0, hb = 0, mi = 0;
  for (auto& [k, c] : pa) ha -= c / n * std::log(c / n);
  for (auto& [k, c] : pb) hb -= c / n * std::log(c / n);
  for (auto& [k, c] : pab) mi += c / n * std::log((c / n) / ((pa[k.first] / n) * (pb[k.second] / n)));
  if (ha <= 0 || hb <= 0) return ha == hb ? 1.0 : 0.0;
  return mi / std::sqrt(ha * hb);
}

int countClusters(const std::vector<int>& labels) {
  return labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1;
}

} // namespace

class TestAgglomerative : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void knnMatchesBruteForce();
  void knnQueriesAgainstOtherSet();
  void knnExcludesSelfWithDuplicates();
  void sigmaAndChainsOnALine();
  void chainGuardSplitsLongChains();
  void etaSchedule();
  void matchesReferencePeriods();
  void matchesReferenceClusterLoop();
  void isolatedFixMatchesReference();
  void exactModeDiffersFromFast();
  void cancelStopsQuickly();
  void separatedBlobsNmi();
  void rejectsBadInput();
};

void TestAgglomerative::knnMatchesBruteForce() {
  struct Case { int n, d, k; };
  for (const Case c : {Case{300, 8, 20}, Case{5000, 6, 10}, Case{700, 300, 15}}) {
    const std::vector<float> x = mixture(c.n, c.d, 7, 0.3, 11u + uint64_t(c.n));
    const KnnLists knn = exactKnn(x.data(), c.n, x.data(), c.n, c.d, c.k, true, 2);
    QCOMPARE(knn.k, c.k);
    const int step = c.n > 1000 ? 37 : 1;
    for (int i = 0; i < c.n; i += step) {
      std::vector<std::pair<double, int>> all;
      for (int j = 0; j < c.n; ++j)
        if (j != i) all.emplace_back(squaredDistance(&x[size_t(i) * c.d], &x[size_t(j) * c.d], c.d), j);
      std::partial_sort(all.begin(), all.begin() + c.k, all.end());
      for (int t = 0; t < c.k; ++t) {
        QCOMPARE(knn.index[size_t(i) * c.k + t], all[size_t(t)].second);
        QCOMPARE(knn.dist2[size_t(i) * c.k + t], all[size_t(t)].first);
      }
    }
  }
}

void TestAgglomerative::knnQueriesAgainstOtherSet() {
  // Queries that are not the reference set (the isolated fix's centroid search): no self exclusion.
  const int nr = 3000, nq = 70, d = 9, k = 3;
  const std::vector<float> refs = mixture(nr, d, 5, 0.3, 8);
  const std::vector<float> q = mixture(nq, d, 5, 0.3, 9);
  const KnnLists knn = exactKnn(q.data(), nq, refs.data(), nr, d, k, false, 2);
  for (int i = 0; i < nq; ++i) {
    std::vector<std::pair<double, int>> all;
    for (int j = 0; j < nr; ++j) all.emplace_back(squaredDistance(&q[size_t(i) * d], &refs[size_t(j) * d], d), j);
    std::partial_sort(all.begin(), all.begin() + k, all.end());
    for (int t = 0; t < k; ++t) QCOMPARE(knn.index[size_t(i) * k + t], all[size_t(t)].second);
  }
}

void TestAgglomerative::knnExcludesSelfWithDuplicates() {
  // Points 0,1,2 identical, 3 elsewhere: the nearest of 1 is 0 (distance 0, lower index), never itself.
  const std::vector<float> x = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.9f, 0.1f};
  const KnnLists knn = exactKnn(x.data(), 4, x.data(), 4, 2, 2, true, 1);
  QCOMPARE(knn.index[2], 0);  // row 1
  QCOMPARE(knn.index[3], 2);
  QCOMPARE(knn.dist2[2], 0.0);
  QCOMPARE(knn.index[0], 1);  // row 0
  QCOMPARE(knn.index[4], 0);  // row 2
  QCOMPARE(knn.index[5], 1);
}

void TestAgglomerative::sigmaAndChainsOnALine() {
  // Two groups on a line: 0,1,3 and 10,11,13; K_s = 2.
  // Neighbour d^2: p0 {1,9}, p1 {1,4}, p2 {4,9}, p3 {1,9}, p4 {1,4}, p5 {4,9} -> sigma^2 = 56/12.
  const std::vector<float> x = {0, 1, 3, 10, 11, 13};
  GdlOptions o;
  o.ks = 2;
  AgglomerativeClustering agg(o);
  const std::vector<int> labels = agg.initialise(x.data(), 6, 1);
  QCOMPARE(agg.lastSigma2(), 56.0 / 12.0);
  QCOMPARE(labels, (std::vector<int>{0, 0, 0, 1, 1, 1}));

  const KnnGraph g = KnnGraph::build(x.data(), 6, 1, 2, 1.0, 1);
  QCOMPARE(g.nearest(2), 1);
  QCOMPARE(g.nearest(5), 4);
  // Out-edges of p2 sorted by target: p0 (d^2 9), p1 (d^2 4).
  QCOMPARE(g.outTarget(g.outBegin(2)), 0);
  QVERIFY(std::abs(g.outWeight(g.outBegin(2)) - std::exp(-9.0 / (56.0 / 12.0))) < 1e-15);
  QVERIFY(std::abs(g.outWeight(g.outBegin(2) + 1) - std::exp(-4.0 / (56.0 / 12.0))) < 1e-15);
  // In-edges of p0 come from p1 and p2 (ascending sources).
  QCOMPARE(g.inEnd(0) - g.inBegin(0), 2);
  QCOMPARE(g.inSource(g.inBegin(0)), 1);
  QCOMPARE(g.inSource(g.inBegin(0) + 1), 2);

  GdlOptions o2 = o;
  o2.sigmaScale = 2.0;
  AgglomerativeClustering agg2(o2);
  agg2.initialise(x.data(), 6, 1);
  QCOMPARE(agg2.lastSigma2(), 2.0 * 56.0 / 12.0);
}

void TestAgglomerative::chainGuardSplitsLongChains() {
  // 60 points with strictly decreasing gaps: every point's nearest neighbour is its right neighbour, the
  // last two are mutual. The walk from point 0 is cut after 51 nodes; 0..50 and the next node (51) get
  // label 0, the rest (52..59) ends on the mutual pair and gets label 1.
  std::vector<float> x(60);
  double pos = 0;
  for (int k = 0; k < 60; ++k) {
    x[size_t(k)] = float(pos);
    pos += 1.0 - 0.01 * k;
  }
  GdlOptions o;
  o.ks = 2;
  AgglomerativeClustering agg(o);
  const std::vector<int> labels = agg.initialise(x.data(), 60, 1);
  for (int k = 0; k < 60; ++k) QCOMPARE(labels[size_t(k)], k <= 51 ? 0 : 1);
  RefGdl ref(x, 60, 1, o);
  QCOMPARE(ref.init(), labels);

  o.chainGuard = 1000;  // without the guard the 1-NN digraph is one component
  AgglomerativeClustering agg2(o);
  const std::vector<int> one = agg2.initialise(x.data(), 60, 1);
  QCOMPARE(countClusters(one), 1);
}

void TestAgglomerative::etaSchedule() {
  QCOMPARE(AgglomerativeClustering::mergesForPeriod(2500, 0.9, 10), 2250);
  QCOMPARE(AgglomerativeClustering::mergesForPeriod(250, 0.9, 10), 225);
  QCOMPARE(AgglomerativeClustering::mergesForPeriod(25, 0.9, 10), 15);   // min(23, 15)
  QCOMPARE(AgglomerativeClustering::mergesForPeriod(101, 0.2, 10), 21);  // ceil(20.2)
  QCOMPARE(AgglomerativeClustering::mergesForPeriod(10, 0.9, 10), 0);
  QCOMPARE(AgglomerativeClustering::mergesForPeriod(7, 0.5, 10), 0);

  // On data: one period does exactly ceil(eta * nc) single-pair merges when the target is far.
  const int n = 600, d = 4;
  const std::vector<float> x = mixture(n, d, 12, 0.25, 5);
  GdlOptions o;
  o.isolatedClusterFix = false;
  AgglomerativeClustering agg(o);
  const std::vector<int> init = agg.initialise(x.data(), n, d);
  const int nc = countClusters(init);
  QVERIFY(nc > 100);
  const std::vector<int> next = agg.mergePeriod(x.data(), n, d, init, 0.2, 5);
  const int expected = int(std::ceil(nc * 0.2));
  QCOMPARE(int(agg.lastMerges().size()), expected);
  QCOMPARE(countClusters(next), nc - expected);
  // Close to the target the period stops exactly there.
  const std::vector<int> last = agg.mergePeriod(x.data(), n, d, next, 0.9, countClusters(next) - 3);
  QCOMPARE(int(agg.lastMerges().size()), 3);
  QCOMPARE(countClusters(last), countClusters(next) - 3);
}

namespace {

// Returns the number of fallback merges (no positive affinity left) so callers can check that path ran.
int compareOnePeriod(const std::vector<float>& x, int n, int d, const GdlOptions& o, const std::vector<int>& labels,
                     double eta, int target, const char* what) {
  RefGdl ref(x, n, d, o);
  AgglomerativeClustering agg(o);
  const std::vector<int> got = agg.mergePeriod(x.data(), n, d, labels, eta, target);
  const std::vector<int> want = ref.period(labels, eta, target);
  if (agg.lastMerges() != ref.merges || got != want || agg.lastIsolatedMerges() != ref.isolated) {
    size_t k = 0;
    while (k < std::min(agg.lastMerges().size(), ref.merges.size()) && agg.lastMerges()[k] == ref.merges[k]) ++k;
    qWarning("%s: merges %zu vs %zu, first difference at %zu, isolated %zu vs %zu", what, agg.lastMerges().size(),
             ref.merges.size(), k, agg.lastIsolatedMerges().size(), ref.isolated.size());
  }
  [&] {
    QCOMPARE(agg.lastIsolatedMerges(), ref.isolated);
    QCOMPARE(agg.lastMerges(), ref.merges);
    QCOMPARE(got, want);
  }();
  [&] { QCOMPARE(agg.lastSigma2(), ref.sigma2()); }();
  return agg.lastFallbackMerges();
}

} // namespace

void TestAgglomerative::matchesReferencePeriods() {
  int configs = 0, fallbacks = 0;
  for (int n : {60, 150, 400})
    for (uint64_t seed : {1u, 2u})
      for (bool tri : {true, false})
        for (bool fast : {true, false}) {
          const int d = 2 + int((seed * 7 + uint64_t(n)) % 15);
          const std::vector<float> x = mixture(n, d, 4 + int(seed) * 3, 0.35, seed * 1000 + uint64_t(n));
          GdlOptions o;
          o.ks = n < 100 ? 6 : 10;
          o.faithfulTriangularKnn = tri;
          o.fastRowUpdate = fast;
          o.isolatedClusterFix = false;
          // Period on the 1-NN chain clusters (above 100 clusters for n = 400: lambda term active).
          const std::vector<int> init = RefGdl(x, n, d, o).init();
          for (double eta : {0.2, 0.9}) {
            fallbacks += compareOnePeriod(x, n, d, o, init, eta, 3, "chains");
            ++configs;
          }
          // Period on an arbitrary partition (interleaved labels, many cross-cluster paths).
          std::vector<int> inter(static_cast<size_t>(n));
          for (int i = 0; i < n; ++i) inter[size_t(i)] = (i * 11) % (n / 3);
          compareOnePeriod(x, n, d, o, inter, 0.9, 2, "interleaved");
          ++configs;
        }
  // Singletons: 400 clusters of one sample, lambda active for most of the period.
  for (bool fast : {true, false}) {
    const int n = 260, d = 5;
    const std::vector<float> x = mixture(n, d, 6, 0.3, 77);
    GdlOptions o;
    o.fastRowUpdate = fast;
    o.isolatedClusterFix = false;
    std::vector<int> single(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) single[size_t(i)] = i;
    compareOnePeriod(x, n, d, o, single, 0.9, 4, "singletons");
    ++configs;
  }
  QVERIFY(configs >= 30);
  QVERIFY(fallbacks > 0);  // disconnected mixtures with a small target reach the fallback
}

void TestAgglomerative::matchesReferenceClusterLoop() {
  for (int n : {90, 400})
    for (double eta : {0.2, 0.9})
      for (bool tri : {true, false}) {
        const int d = n == 90 ? 3 : 12;
        const std::vector<float> x = mixture(n, d, 5, 0.3, uint64_t(n) * 3 + (tri ? 1 : 0));
        GdlOptions o;
        o.faithfulTriangularKnn = tri;
        const int target = 4;
        RefGdl ref(x, n, d, o);
        AgglomerativeClustering agg(o);
        const std::vector<int> got = agg.cluster(x.data(), n, d, target, eta);
        const std::vector<int> want = ref.cluster(target, eta);
        QCOMPARE(agg.lastMerges(), ref.merges);
        QCOMPARE(got, want);
        QCOMPARE(countClusters(got), target);
      }
}

void TestAgglomerative::isolatedFixMatchesReference() {
  // A sparse graph (K_s = 2..3) leaves clusters without 2-step paths to any other: the fix merges them
  // into their nearest centroid (merge_two_clusters) when nc > 20 * target; stale A_s entries of
  // emptied slots may then be picked by the merge loop, as in the reference.
  int withIsolated = 0, staleMerges = 0;
  for (int ks : {2, 3})
    for (uint64_t seed : {3u, 4u, 5u})
      for (bool fast : {true, false}) {
        const int n = 300, d = 4;
        const std::vector<float> x = mixture(n, d, 9, 0.4, seed * 31 + uint64_t(ks));
        GdlOptions o;
        o.ks = ks;
        o.fastRowUpdate = fast;
        std::vector<int> labels(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) labels[size_t(i)] = i / 2;  // 150 clusters of two neighbours-in-index
        RefGdl ref(x, n, d, o);
        AgglomerativeClustering agg(o);
        const std::vector<int> got = agg.mergePeriod(x.data(), n, d, labels, 0.9, 2);
        const std::vector<int> want = ref.period(labels, 0.9, 2);
        QCOMPARE(agg.lastIsolatedMerges(), ref.isolated);
        QCOMPARE(agg.lastMerges(), ref.merges);
        QCOMPARE(got, want);
        qInfo("iso ks=%d fast=%d iso=%zu merges=%zu stale=%d", ks, int(fast), ref.isolated.size(), ref.merges.size(), ref.staleMerges);
        withIsolated += agg.lastIsolatedMerges().empty() ? 0 : 1;
        staleMerges += ref.staleMerges;
      }
  QVERIFY(withIsolated >= 6);  // the fix really ran in most configurations
  QVERIFY(staleMerges > 0);    // and the merge loop picked an emptied slot at least once
}

void TestAgglomerative::exactModeDiffersFromFast() {
  // The two update modes must both match the reference (above) and be different algorithms.
  const int n = 400, d = 6;
  const std::vector<float> x = mixture(n, d, 8, 0.35, 99);
  GdlOptions fastO, exactO;
  exactO.fastRowUpdate = false;
  AgglomerativeClustering fast(fastO), exact(exactO);
  const std::vector<int> a = fast.cluster(x.data(), n, d, 8, 0.9);
  const std::vector<int> b = exact.cluster(x.data(), n, d, 8, 0.9);
  QCOMPARE(countClusters(a), 8);
  QCOMPARE(countClusters(b), 8);
  QVERIFY(fast.lastMerges() != exact.lastMerges());
}

void TestAgglomerative::cancelStopsQuickly() {
  // Two phases: during the k-NN search of cluster() (cancel after 100 ms), and during the merges of a
  // period on 10,000 singletons (cancel as soon as the first merge progress arrives).
  const int n = 10000, d = 64;
  const std::vector<float> x = mixture(n, d, 40, 0.4, 2024);
  std::vector<int> single(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) single[size_t(i)] = i;
  for (int phase = 0; phase < 2; ++phase) {
    auto token = std::make_shared<CancelToken>();
    TaskContext ctx;
    ctx.cancel = token;
    std::atomic<bool> done{false}, merging{false};
    std::chrono::steady_clock::time_point cancelledAt;
    std::thread canceller([&] {
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
      while (!done && (phase == 0 ? std::chrono::steady_clock::now() < until : !merging.load()))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      cancelledAt = std::chrono::steady_clock::now();
      token->cancel();
    });
    bool threw = false;
    GdlOptions o;
    o.threads = 2;
    AgglomerativeClustering agg(o);
    const MergeCallback cb = [&](const MergeProgress&) { merging = true; };
    try {
      if (phase == 0)
        agg.cluster(x.data(), n, d, 10, 0.2, cb, &ctx);
      else
        agg.mergePeriod(x.data(), n, d, single, 0.99, 10, cb, &ctx);
    } catch (const CancelledError&) {
      threw = true;
    }
    const auto end = std::chrono::steady_clock::now();
    done = true;
    canceller.join();
    QVERIFY2(threw, "the run finished before the cancel");
    const double latency = std::chrono::duration<double>(end - cancelledAt).count();
    qInfo("phase %s: stopped %.3f s after the cancel", phase == 0 ? "k-NN" : "merging", latency);
    QVERIFY(latency < 1.0);
  }
}

void TestAgglomerative::separatedBlobsNmi() {
  std::vector<int> truth;
  const int n = 2000, d = 16;
  const std::vector<float> x = mixture(n, d, 10, 0.05, 42, &truth, 0.25);
  AgglomerativeClustering agg;
  int callbacks = 0, lastLeft = -1;
  const std::vector<int> labels = agg.cluster(x.data(), n, d, 10, 0.9, [&](const MergeProgress& p) {
    ++callbacks;
    lastLeft = p.clustersLeft;
  });
  QCOMPARE(countClusters(labels), 10);
  const double score = nmi(truth, labels);
  qInfo("NMI %.4f", score);
  QVERIFY(score >= 0.99);
  QVERIFY(callbacks > 0);
  QCOMPARE(lastLeft, 10);
}

void TestAgglomerative::rejectsBadInput() {
  const std::vector<float> x = {0, 1, 2, std::nanf(""), 4, 5};
  AgglomerativeClustering agg;
  QVERIFY_THROWS_EXCEPTION(InputError, agg.initialise(x.data(), 6, 1));
  const std::vector<float> ok = {0, 1, 2, 3};
  QVERIFY_THROWS_EXCEPTION(InputError, agg.mergePeriod(ok.data(), 4, 1, {0, 0, 1}, 0.5, 1));
  QVERIFY_THROWS_EXCEPTION(InputError, agg.mergePeriod(ok.data(), 4, 1, {0, 0, 1, 1}, 0.0, 1));
  QVERIFY_THROWS_EXCEPTION(InputError, agg.cluster(ok.data(), 4, 1, 0, 0.5));
  GdlOptions bad;
  bad.ks = 0;
  QVERIFY_THROWS_EXCEPTION(InputError, AgglomerativeClustering{bad});
  // One sample: one cluster, nothing to merge.
  AgglomerativeClustering one;
  QCOMPARE(one.cluster(ok.data(), 1, 1, 1, 0.9), std::vector<int>{0});
}

QTEST_GUILESS_MAIN(TestAgglomerative)
#include "test_agglomerative.moc"
