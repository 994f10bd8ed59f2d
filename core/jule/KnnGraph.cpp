#include "core/jule/KnnGraph.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <thread>

#include "core/base/Errors.h"

namespace jseg {

int resolveThreads(int requested) {
  if (requested > 0) return requested;
  const unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? int(hc) : 1;
}

namespace {

// Keeps the `cap` smallest (approximate distance, index) pairs seen for one query row.
struct CandidateRow {
  float* val;
  int* idx;
  int cap;
  int count = 0;
  int worst = 0;

  bool worse(float v1, int i1, float v2, int i2) const { return v1 > v2 || (v1 == v2 && i1 > i2); }
  void findWorst() {
    worst = 0;
    for (int t = 1; t < count; ++t)
      if (worse(val[t], idx[t], val[worst], idx[worst])) worst = t;
  }
  void offer(float v, int i) {
    if (count < cap) {
      val[count] = v;
      idx[count] = i;
      if (++count == cap) findWorst();
      return;
    }
    if (worse(val[worst], idx[worst], v, i)) {
      val[worst] = v;
      idx[worst] = i;
      findWorst();
    }
  }
};

} // namespace

KnnLists exactKnn(const float* queries, int nq, const float* refs, int nr, int d, int k, bool excludeSelf,
                  int threads, const TaskContext* ctx) {
  if (nq < 0 || nr < 0 || d <= 0 || k < 0) throw InputError("k-NN search: invalid sizes");
  threads = resolveThreads(threads);
  const int avail = excludeSelf ? nr - 1 : nr;
  k = std::max(0, std::min(k, avail));
  KnnLists out;
  out.n = nq;
  out.k = k;
  if (nq == 0 || k == 0) return out;
  out.index.assign(size_t(nq) * k, -1);
  out.dist2.assign(size_t(nq) * k, 0.0);

  // A few more candidates than needed absorb the GEMM's rounding before the exact re-ranking.
  const int cap = std::min(avail, k + std::max(8, k / 2));
  openblas_set_num_threads(threads);

  std::vector<float> qn(static_cast<size_t>(nq)), rn(static_cast<size_t>(nr));
  auto sqnorm = [d](const float* v) {
    double s = 0;
    for (int t = 0; t < d; ++t) s += double(v[t]) * double(v[t]);
    return float(s);
  };
  parallelRange(nq, threads, [&](int b, int e) {
    for (int i = b; i < e; ++i) qn[size_t(i)] = sqnorm(queries + size_t(i) * d);
  });
  parallelRange(nr, threads, [&](int b, int e) {
    for (int i = b; i < e; ++i) rn[size_t(i)] = sqnorm(refs + size_t(i) * d);
  });

  // Exact re-ranking of the candidates in double.
  auto rerank = [&](const CandidateRow* rowsOf, int first, int count) {
    parallelRange(count, threads, [&](int b, int e) {
      std::vector<std::pair<double, int>> ex;
      for (int r = b; r < e; ++r) {
        const int gi = first + r;
        const CandidateRow& row = rowsOf[r];
        ex.clear();
        for (int t = 0; t < row.count; ++t)
          ex.emplace_back(squaredDistance(queries + size_t(gi) * d, refs + size_t(row.idx[t]) * d, d), row.idx[t]);
        std::sort(ex.begin(), ex.end());
        for (int t = 0; t < k; ++t) {
          out.index[size_t(gi) * k + t] = ex[size_t(t)].second;
          out.dist2[size_t(gi) * k + t] = ex[size_t(t)].first;
        }
      }
    });
  };

  // Tiles small enough that a cancel is seen within a fraction of a second even at d = 27^3.
  const int qb = std::min(nq, d > 2048 ? 512 : 1024);

  if (excludeSelf && queries == refs && nq == nr) {
    // Self-join: d2 is symmetric, so only tiles on or above the block diagonal are computed and each
    // feeds the candidate lists of both its rows and its columns (half the GEMM work).
    const int n = nq;
    std::vector<float> tile(static_cast<size_t>(qb) * qb);
    std::vector<float> candVal(static_cast<size_t>(n) * cap);
    std::vector<int> candIdx(static_cast<size_t>(n) * cap);
    std::vector<CandidateRow> rows;
    rows.reserve(size_t(n));
    for (int r = 0; r < n; ++r) rows.push_back(CandidateRow{&candVal[size_t(r) * cap], &candIdx[size_t(r) * cap], cap});
    const int blocks = (n + qb - 1) / qb;
    const double tiles = double(blocks) * (blocks + 1) / 2;
    int done = 0;
    for (int i0 = 0; i0 < n; i0 += qb) {
      const int ic = std::min(qb, n - i0);
      for (int j0 = i0; j0 < n; j0 += qb) {
        checkCancel(ctx);
        const int jc = std::min(qb, n - j0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ic, jc, d, -2.0f, queries + size_t(i0) * d, d,
                    refs + size_t(j0) * d, d, 0.0f, tile.data(), jc);
        parallelRange(ic, threads, [&](int b, int e) {
          for (int r = b; r < e; ++r) {
            const int gi = i0 + r;
            const float* t = &tile[size_t(r) * jc];
            CandidateRow& row = rows[size_t(gi)];
            for (int c = 0; c < jc; ++c)
              if (j0 + c != gi) row.offer(qn[size_t(gi)] + rn[size_t(j0 + c)] + t[c], j0 + c);
          }
        });
        if (j0 != i0)
          parallelRange(jc, threads, [&](int b, int e) {
            for (int r = 0; r < ic; ++r) {
              const int gi = i0 + r;
              const float* t = &tile[size_t(r) * jc];
              for (int c = b; c < e; ++c) rows[size_t(j0 + c)].offer(qn[size_t(gi)] + rn[size_t(j0 + c)] + t[c], gi);
            }
          });
        reportProgress(ctx, 0.9 * (++done) / tiles, "k-NN search");
      }
    }
    for (int r0 = 0; r0 < n; r0 += qb) {
      checkCancel(ctx);
      rerank(&rows[size_t(r0)], r0, std::min(qb, n - r0));
    }
    reportProgress(ctx, 1.0, "k-NN search");
    return out;
  }

  const double flopCap = 1.6e10;
  int rb = int(std::min<double>(flopCap / (2.0 * qb * d), double(1 << 22) / qb));
  rb = std::max(256, std::min(rb, nr));
  std::vector<float> tile(static_cast<size_t>(qb) * rb);
  std::vector<float> candVal(static_cast<size_t>(qb) * cap);
  std::vector<int> candIdx(static_cast<size_t>(qb) * cap);
  std::vector<CandidateRow> rows;

  for (int q0 = 0; q0 < nq; q0 += qb) {
    const int qc = std::min(qb, nq - q0);
    rows.clear();
    for (int r = 0; r < qc; ++r) rows.push_back(CandidateRow{&candVal[size_t(r) * cap], &candIdx[size_t(r) * cap], cap});
    for (int r0 = 0; r0 < nr; r0 += rb) {
      checkCancel(ctx);
      const int rc = std::min(rb, nr - r0);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, qc, rc, d, -2.0f, queries + size_t(q0) * d, d,
                  refs + size_t(r0) * d, d, 0.0f, tile.data(), rc);
      parallelRange(qc, threads, [&](int b, int e) {
        for (int r = b; r < e; ++r) {
          const int gi = q0 + r;
          const float* t = &tile[size_t(r) * rc];
          const float qv = qn[size_t(gi)];
          CandidateRow& row = rows[size_t(r)];
          for (int c = 0; c < rc; ++c) {
            const int gj = r0 + c;
            if (excludeSelf && gj == gi) continue;
            row.offer(qv + rn[size_t(gj)] + t[c], gj);
          }
        }
      });
    }
    rerank(rows.data(), q0, qc);
    reportProgress(ctx, double(q0 + qc) / nq, "k-NN search");
  }
  return out;
}

KnnGraph KnnGraph::build(const float* x, int n, int d, int ks, double sigmaScale, int threads,
                         const TaskContext* ctx) {
  if (ks < 1) throw InputError("K_s (neighbours in the sample graph) must be at least 1");
  return fromKnn(exactKnn(x, n, x, n, d, ks, true, threads, ctx), sigmaScale);
}

KnnGraph KnnGraph::fromKnn(KnnLists knn, double sigmaScale) {
  KnnGraph g;
  g.n_ = knn.n;
  const int n = knn.n, k = knn.k;
  double sum = 0;
  for (size_t t = 0; t < knn.dist2.size(); ++t) sum += knn.dist2[t];
  g.sigma2_ = knn.dist2.empty() ? 0.0 : sigmaScale * (sum / double(knn.dist2.size()));
  auto weight = [&](double d2) {
    // All neighbours at distance 0 (duplicates only) would give 0/0; treat them as maximally similar.
    return g.sigma2_ > 0 ? std::exp(-d2 / g.sigma2_) : 1.0;
  };

  g.outStart_.assign(size_t(n) + 1, 0);
  g.outTarget_.resize(size_t(n) * k);
  g.outWeight_.resize(size_t(n) * k);
  std::vector<int> inCount(static_cast<size_t>(n) + 1, 0);
  std::vector<std::pair<int, double>> row(static_cast<size_t>(k));
  for (int i = 0; i < n; ++i) {
    g.outStart_[size_t(i) + 1] = (i + 1) * k;
    for (int t = 0; t < k; ++t) {
      const int j = knn.index[size_t(i) * k + t];
      row[size_t(t)] = {j, weight(knn.dist2[size_t(i) * k + t])};
      ++inCount[size_t(j) + 1];
    }
    std::sort(row.begin(), row.end());
    for (int t = 0; t < k; ++t) {
      g.outTarget_[size_t(i) * k + t] = row[size_t(t)].first;
      g.outWeight_[size_t(i) * k + t] = row[size_t(t)].second;
    }
  }
  g.inStart_.assign(size_t(n) + 1, 0);
  for (int j = 0; j < n; ++j) g.inStart_[size_t(j) + 1] = g.inStart_[size_t(j)] + inCount[size_t(j) + 1];
  g.inSource_.resize(size_t(n) * k);
  g.inWeight_.resize(size_t(n) * k);
  std::vector<int> fill(g.inStart_.begin(), g.inStart_.end() - 1);
  for (int i = 0; i < n; ++i)  // ascending sources, so every in-list ends up sorted by source
    for (int e = g.outStart_[size_t(i)]; e < g.outStart_[size_t(i) + 1]; ++e) {
      const int j = g.outTarget_[size_t(e)];
      g.inSource_[size_t(fill[size_t(j)])] = i;
      g.inWeight_[size_t(fill[size_t(j)]++)] = g.outWeight_[size_t(e)];
    }
  g.knn_ = std::move(knn);
  return g;
}

} // namespace jseg
