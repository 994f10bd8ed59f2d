#include "core/jule/AgglomerativeClustering.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <string>
#include <unordered_map>

#include "core/base/Errors.h"
#include "core/jule/KnnGraph.h"

namespace jseg {

namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Order of candidates inside a column: larger affinity first, then the lower row index.
inline bool better(double v1, int r1, double v2, int r2) { return v1 > v2 || (v1 == v2 && r1 < r2); }

struct Entry {
  double v;
  int row;
};

// The best few candidates of one column of the affinity table, kept up to date entry by entry so that
// a merge does not re-sort whole columns. Invariant: `e` holds the |e| best non-zero entries of the
// column (best first); when `complete`, it holds all of them. Usable when complete or |e| >= K_c.
struct ColumnTop {
  std::vector<Entry> e;
  bool complete = false;
  bool dirty = true;
};

using SparseRow = std::unordered_map<int, double>;

// Cluster tables of one period: the reference's Y (members), A_us (unnormalised directed path sums) and
// A_s (symmetric GDL affinity, stored for i<j), as sparse maps, with the reference's update rules.
class GdlTables {
public:
  GdlTables(const KnnGraph& g, const float* x, int d, const GdlOptions& o, int threads)
      : g_(g), x_(x), d_(d), opt_(o), threads_(threads),
        kc_(std::max(1, o.kc)), cap_(2 * std::max(1, o.kc) + 2) {}

  void setup(const std::vector<int>& labels, int nc);
  void isolatedFix(int target, std::vector<std::pair<int, int>>& log, const TaskContext* ctx);
  void runMerges(int iterations, std::vector<std::pair<int, int>>& log, const MergeCallback& cb,
                 const TaskContext* ctx);
  int nonEmpty() const { return nonEmpty_; }
  int fallbacks() const { return fallbacks_; }
  std::vector<int> labels() const;

private:
  // --- A_us -------------------------------------------------------------------------------------
  double usGet(int r, int c) const {
    const auto it = rows_[size_t(r)].find(c);
    return it == rows_[size_t(r)].end() ? 0.0 : it->second;
  }
  void usSet(int r, int c, double v) {
    if (v == 0.0) {
      rows_[size_t(r)].erase(c);
      cols_[size_t(c)].erase(r);
    } else {
      rows_[size_t(r)][c] = v;
      cols_[size_t(c)][r] = v;
    }
  }
  void usClearRow(int r) {
    std::vector<int> keys;
    for (const auto& kv : rows_[size_t(r)]) keys.push_back(kv.first);
    for (int c : keys) usSet(r, c, 0.0);
  }
  void usClearCol(int c) {
    std::vector<int> keys;
    for (const auto& kv : cols_[size_t(c)]) keys.push_back(kv.first);
    for (int r : keys) usSet(r, c, 0.0);
  }
  // --- A_s ----------------------------------------------------------------------------------------
  void asSet(int x, int y, double v);
  void notify(int col, int row, double v);
  void recomputeTop(int col);
  bool isCandidate(int row, int col) const { return opt_.faithfulTriangularKnn ? row < col : row != col; }
  double columnAff(int col, bool lambdaOn);

  int size(int s) const { return int(members_[size_t(s)].size()); }
  void columnAdd(int a, int b);          // A_us[:,a] += A_us[:,b]  (exact)
  void refresh(int a);                   // recompute A_s{a,i} for all i
  void moveMembers(int a, int b);        // C_a += C_b, C_b = {}
  void mergeFast(int a, int b);          // reference run_step_fast
  void mergeExact(int a, int b);         // reference run_step
  void mergeWeighted(int a, int b);      // reference merge_two_clusters (isolated-cluster fix)
  void compact(int b);                   // swap-with-last
  bool search(int& a, int& b);
  bool fallbackPair(int& a, int& b);
  std::vector<float> centroids() const;
  SparseRow exactRow(int a) const;

  const KnnGraph& g_;
  const float* x_;
  int d_;
  GdlOptions opt_;
  int threads_;
  int kc_, cap_;
  int T_ = 0;  // table size (slots, empty ones included, as the reference's #Y_t)
  int nonEmpty_ = 0;
  int fallbacks_ = 0;
  std::vector<std::vector<int>> members_;
  std::vector<int> slotOf_;
  std::vector<SparseRow> rows_, cols_, nbr_;
  std::vector<ColumnTop> tops_;
  std::vector<int> stamp_;
  int stampValue_ = 0;
};

void GdlTables::setup(const std::vector<int>& labels, int nc) {
  const int n = g_.size();
  T_ = nc;
  members_.assign(size_t(nc), {});
  slotOf_ = labels;
  for (int i = 0; i < n; ++i) members_[size_t(labels[size_t(i)])].push_back(i);  // ascending
  nonEmpty_ = nc;
  rows_.assign(size_t(nc), {});
  cols_.assign(size_t(nc), {});
  nbr_.assign(size_t(nc), {});
  tops_.assign(size_t(nc), {});
  stamp_.assign(size_t(nc), -1);

  // A_us[r][c] = sum over m in C_c (ascending) of in_m[r] * out_m[r] (jule-reference §5), one column per
  // task so the sums keep the same order as a dense loop.
  std::vector<std::vector<std::pair<int, double>>> colEntries(static_cast<size_t>(nc));
  parallelRange(nc, threads_, [&](int c0, int c1) {
    std::vector<double> inAcc(static_cast<size_t>(nc)), outAcc(static_cast<size_t>(nc)), colAcc(static_cast<size_t>(nc));
    std::vector<int> inStamp(static_cast<size_t>(nc), -1), outStamp(static_cast<size_t>(nc), -1), colStamp(static_cast<size_t>(nc), -1);
    std::vector<int> touchedIn, touchedCol;
    for (int c = c0; c < c1; ++c) {
      touchedCol.clear();
      for (int m : members_[size_t(c)]) {
        touchedIn.clear();
        for (int e = g_.inBegin(m); e < g_.inEnd(m); ++e) {
          const int r = slotOf_[size_t(g_.inSource(e))];
          if (inStamp[size_t(r)] != m) {
            inStamp[size_t(r)] = m;
            inAcc[size_t(r)] = 0.0;
            touchedIn.push_back(r);
          }
          inAcc[size_t(r)] += g_.inWeight(e);
        }
        for (int e = g_.outBegin(m); e < g_.outEnd(m); ++e) {
          const int r = slotOf_[size_t(g_.outTarget(e))];
          if (outStamp[size_t(r)] != m) {
            outStamp[size_t(r)] = m;
            outAcc[size_t(r)] = 0.0;
          }
          outAcc[size_t(r)] += g_.outWeight(e);
        }
        for (int r : touchedIn) {
          if (r == c || outStamp[size_t(r)] != m) continue;
          const double p = inAcc[size_t(r)] * outAcc[size_t(r)];
          if (colStamp[size_t(r)] != c) {
            colStamp[size_t(r)] = c;
            colAcc[size_t(r)] = 0.0;
            touchedCol.push_back(r);
          }
          colAcc[size_t(r)] += p;
        }
      }
      auto& out = colEntries[size_t(c)];
      for (int r : touchedCol)
        if (colAcc[size_t(r)] != 0.0) out.emplace_back(r, colAcc[size_t(r)]);
    }
  });
  for (int c = 0; c < nc; ++c)
    for (const auto& [r, v] : colEntries[size_t(c)]) usSet(r, c, v);

  for (int x = 0; x < nc; ++x)
    for (const auto& kv : rows_[size_t(x)]) {
      const int y = kv.first;
      if (y == x) continue;
      const double v = kv.second / (double(size(x)) * size(x)) + usGet(y, x) / (double(size(y)) * size(y));
      if (v != 0.0) {
        nbr_[size_t(x)][y] = v;
        nbr_[size_t(y)][x] = v;
      }
    }
}

void GdlTables::asSet(int x, int y, double v) {
  if (x == y) return;
  auto& nx = nbr_[size_t(x)];
  const auto it = nx.find(y);
  const double old = it == nx.end() ? 0.0 : it->second;
  if (old == v) return;
  if (v == 0.0) {
    nx.erase(it);
    nbr_[size_t(y)].erase(x);
  } else {
    nx[y] = v;
    nbr_[size_t(y)][x] = v;
  }
  if (opt_.faithfulTriangularKnn) {
    notify(std::max(x, y), std::min(x, y), v);
  } else {
    notify(y, x, v);
    notify(x, y, v);
  }
}

void GdlTables::notify(int col, int row, double v) {
  ColumnTop& t = tops_[size_t(col)];
  if (t.dirty) return;
  auto& e = t.e;
  int p = -1;
  for (int q = 0; q < int(e.size()); ++q)
    if (e[size_t(q)].row == row) {
      p = q;
      break;
    }
  if (p >= 0) e.erase(e.begin() + p);
  bool insert = false;
  if (v > 0.0) {
    if (t.complete) {
      insert = true;
    } else if (e.empty()) {
      t.dirty = true;  // nothing left to compare with
      return;
    } else {
      insert = better(v, row, e.back().v, e.back().row);
    }
  }
  if (insert) {
    size_t q = 0;
    while (q < e.size() && better(e[q].v, e[q].row, v, row)) ++q;
    e.insert(e.begin() + long(q), Entry{v, row});
    if (int(e.size()) > cap_) {
      e.pop_back();
      t.complete = false;
    }
  }
  if (!t.complete && int(e.size()) < kc_) t.dirty = true;
}

void GdlTables::recomputeTop(int col) {
  ColumnTop& t = tops_[size_t(col)];
  t.e.clear();
  for (const auto& [row, v] : nbr_[size_t(col)])
    if (v > 0.0 && isCandidate(row, col)) t.e.push_back(Entry{v, row});
  auto cmp = [](const Entry& p, const Entry& q) { return better(p.v, p.row, q.v, q.row); };
  if (int(t.e.size()) > cap_) {
    std::partial_sort(t.e.begin(), t.e.begin() + cap_, t.e.end(), cmp);
    t.e.resize(size_t(cap_));
    t.complete = false;
  } else {
    std::sort(t.e.begin(), t.e.end(), cmp);
    t.complete = true;
  }
  t.dirty = false;
}

double GdlTables::columnAff(int col, bool lambdaOn) {
  if (tops_[size_t(col)].dirty) recomputeTop(col);
  const auto& e = tops_[size_t(col)].e;
  if (e.empty()) return 0.0;
  const double a1 = e[0].v;
  double aff = a1;
  // aff = A1 + lambda/(K_c-1) * sum_{k=2..K_c} (A1 - Ak), accumulated in the reference's order.
  if (lambdaOn && kc_ >= 2)
    for (int k = 2; k <= kc_; ++k) {
      const double ak = k - 1 < int(e.size()) ? e[size_t(k - 1)].v : 0.0;
      aff += opt_.lambda * (a1 - ak) / double(kc_ - 1);
    }
  return aff;
}

bool GdlTables::search(int& a, int& b) {
  const bool lambdaOn = T_ > opt_.lambdaMinClusters;
  double best = 0.0;
  int bestCol = -1;
  for (int j = 0; j < T_; ++j) {
    const double aff = columnAff(j, lambdaOn);
    if (aff > best) {
      best = aff;
      bestCol = j;
    }
  }
  if (bestCol < 0) return fallbackPair(a, b);
  const int i = tops_[size_t(bestCol)].e[0].row;
  a = std::min(i, bestCol);
  b = std::max(i, bestCol);
  return true;
}

std::vector<float> GdlTables::centroids() const {
  std::vector<float> c(static_cast<size_t>(T_) * d_, 0.0f);
  std::vector<double> acc(static_cast<size_t>(d_));
  std::vector<int> mem;
  for (int s = 0; s < T_; ++s) {
    if (members_[size_t(s)].empty()) continue;  // stays at the origin; callers skip empty slots
    mem = members_[size_t(s)];
    std::sort(mem.begin(), mem.end());
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int m : mem) {
      const float* xm = x_ + size_t(m) * d_;
      for (int t = 0; t < d_; ++t) acc[size_t(t)] += xm[t];
    }
    for (int t = 0; t < d_; ++t) c[size_t(s) * d_ + t] = float(acc[size_t(t)] / double(mem.size()));
  }
  return c;
}

// No pair has a positive affinity (the graph falls apart into more pieces than the target): the reference
// has no defined behaviour here. Merge the smallest cluster into the one with the nearest centroid.
bool GdlTables::fallbackPair(int& a, int& b) {
  if (nonEmpty_ < 2) return false;
  ++fallbacks_;
  const std::vector<float> c = centroids();
  int s = -1;
  for (int i = 0; i < T_; ++i)
    if (size(i) > 0 && (s < 0 || size(i) < size(s))) s = i;
  int best = -1;
  double bestD = 0;
  for (int j = 0; j < T_; ++j) {
    if (j == s || size(j) == 0) continue;
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

void GdlTables::columnAdd(int a, int b) {
  std::vector<std::pair<int, double>> colB(cols_[size_t(b)].begin(), cols_[size_t(b)].end());
  for (const auto& [r, v] : colB) usSet(r, a, usGet(r, a) + v);
}

void GdlTables::moveMembers(int a, int b) {
  if (size(a) > 0 && size(b) > 0) --nonEmpty_;
  auto& ma = members_[size_t(a)];
  for (int m : members_[size_t(b)]) {
    ma.push_back(m);
    slotOf_[size_t(m)] = a;
  }
  members_[size_t(b)].clear();
}

void GdlTables::refresh(int a) {
  ++stampValue_;
  std::vector<int> keys;
  auto collect = [&](const SparseRow& row) {
    for (const auto& kv : row)
      if (stamp_[size_t(kv.first)] != stampValue_) {
        stamp_[size_t(kv.first)] = stampValue_;
        keys.push_back(kv.first);
      }
  };
  collect(rows_[size_t(a)]);
  collect(cols_[size_t(a)]);
  collect(nbr_[size_t(a)]);
  const double na = size(a);
  for (int i : keys) {
    if (i == a) continue;
    double v = 0.0;
    if (size(i) > 0 && na > 0)
      v = usGet(a, i) / (na * na) + usGet(i, a) / (double(size(i)) * size(i));
    asSet(a, i, v);
  }
}

void GdlTables::compact(int b) {
  const int last = T_ - 1;
  tops_[size_t(b)].dirty = true;
  tops_[size_t(last)].dirty = true;
  // Old row/column b are overwritten by the last cluster's (or dropped when b is the last).
  usClearRow(b);
  usClearCol(b);
  {
    std::vector<int> keys;
    for (const auto& kv : nbr_[size_t(b)]) keys.push_back(kv.first);
    for (int k : keys) asSet(b, k, 0.0);
  }
  if (b != last) {
    const SparseRow rowL = rows_[size_t(last)], colL = cols_[size_t(last)], nbL = nbr_[size_t(last)];
    usClearRow(last);
    usClearCol(last);
    for (const auto& [c, v] : rowL)
      if (c != last) usSet(b, c, v);
    for (const auto& [r, v] : colL)
      if (r != last) usSet(r, b, v);
    for (const auto& kv : nbL) asSet(last, kv.first, 0.0);
    for (const auto& [k, v] : nbL)
      if (k != b) asSet(b, k, v);
    members_[size_t(b)] = std::move(members_[size_t(last)]);
    for (int m : members_[size_t(b)]) slotOf_[size_t(m)] = b;
  }
  rows_.pop_back();
  cols_.pop_back();
  nbr_.pop_back();
  members_.pop_back();
  tops_.pop_back();
  --T_;
}

void GdlTables::mergeFast(int a, int b) {
  columnAdd(a, b);
  {
    std::vector<std::pair<int, double>> rowB(rows_[size_t(b)].begin(), rows_[size_t(b)].end());
    for (const auto& [c, v] : rowB) usSet(a, c, usGet(a, c) + v);  // approximate (drops cross terms)
  }
  moveMembers(a, b);
  refresh(a);
  compact(b);
}

// A_us[a][c] = sum over m in C_c (ascending) of in_m[a] * out_m[a], from the sparse graph.
SparseRow GdlTables::exactRow(int a) const {
  std::vector<int> ms;
  std::vector<char> seen(size_t(g_.size()), 0);
  for (int nidx : members_[size_t(a)]) {
    for (int e = g_.outBegin(nidx); e < g_.outEnd(nidx); ++e)
      if (!seen[size_t(g_.outTarget(e))]) {
        seen[size_t(g_.outTarget(e))] = 1;
        ms.push_back(g_.outTarget(e));
      }
    for (int e = g_.inBegin(nidx); e < g_.inEnd(nidx); ++e)
      if (!seen[size_t(g_.inSource(e))]) {
        seen[size_t(g_.inSource(e))] = 1;
        ms.push_back(g_.inSource(e));
      }
  }
  std::sort(ms.begin(), ms.end());
  SparseRow row;
  for (int m : ms) {
    const int c = slotOf_[size_t(m)];
    if (c == a) continue;
    double in = 0.0, out = 0.0;
    for (int e = g_.inBegin(m); e < g_.inEnd(m); ++e)
      if (slotOf_[size_t(g_.inSource(e))] == a) in += g_.inWeight(e);
    for (int e = g_.outBegin(m); e < g_.outEnd(m); ++e)
      if (slotOf_[size_t(g_.outTarget(e))] == a) out += g_.outWeight(e);
    const double p = in * out;
    if (p != 0.0) row[c] += p;
  }
  return row;
}

void GdlTables::mergeExact(int a, int b) {
  columnAdd(a, b);
  moveMembers(a, b);
  const SparseRow row = exactRow(a);
  {
    std::vector<int> keys;
    for (const auto& kv : rows_[size_t(a)]) keys.push_back(kv.first);
    for (int c : keys)
      if (c != a && size(c) > 0 && !row.count(c)) usSet(a, c, 0.0);
  }
  for (const auto& [c, v] : row) usSet(a, c, v);
  usSet(a, a, 0.0);
  usClearCol(b);
  usClearRow(b);
  refresh(a);
  std::vector<int> keys;
  for (const auto& kv : nbr_[size_t(b)]) keys.push_back(kv.first);
  for (int k : keys) asSet(b, k, 0.0);
}

void GdlTables::mergeWeighted(int a, int b) {
  const double na = size(a), nb = size(b);
  columnAdd(a, b);
  const double ratio = na / (na + nb);
  {
    ++stampValue_;
    std::vector<int> keys;
    for (const SparseRow* r : {&rows_[size_t(a)], &rows_[size_t(b)]})
      for (const auto& kv : *r)
        if (stamp_[size_t(kv.first)] != stampValue_) {
          stamp_[size_t(kv.first)] = stampValue_;
          keys.push_back(kv.first);
        }
    std::vector<double> vals;
    for (int c : keys) vals.push_back(usGet(a, c) * ratio + usGet(b, c) * (1.0 - ratio));
    for (size_t q = 0; q < keys.size(); ++q) usSet(a, keys[q], vals[q]);
  }
  usSet(a, a, 0.0);
  usClearCol(b);
  usClearRow(b);
  moveMembers(a, b);
  refresh(a);  // A_s of b is left as it was, as in the reference
}

void GdlTables::isolatedFix(int target, std::vector<std::pair<int, int>>& log, const TaskContext* ctx) {
  if (!opt_.isolatedClusterFix || double(T_) <= double(opt_.isolatedFactor) * target) return;
  std::vector<int> iso;
  for (int i = 0; i < T_; ++i)
    if (rows_[size_t(i)].empty() && cols_[size_t(i)].empty()) iso.push_back(i);
  if (iso.empty()) return;
  // Nearest other centroid of the clusters as they were before the fix (the reference's centroid k-NN).
  const std::vector<float> c = centroids();
  std::vector<int> nearest(static_cast<size_t>(T_), -2);
  {
    std::vector<float> q(iso.size() * size_t(d_));
    for (size_t t = 0; t < iso.size(); ++t)
      std::copy_n(&c[size_t(iso[t]) * d_], d_, &q[t * d_]);
    const KnnLists nn = exactKnn(q.data(), int(iso.size()), c.data(), T_, d_, 2, false, threads_, ctx);
    for (size_t t = 0; t < iso.size(); ++t)
      for (int r = 0; r < nn.k; ++r)
        if (nn.index[t * nn.k + r] != iso[t]) {
          nearest[size_t(iso[t])] = nn.index[t * nn.k + r];
          break;
        }
  }
  auto nearestOf = [&](int i) {
    if (nearest[size_t(i)] != -2) return nearest[size_t(i)];
    int best = -1;
    double bestD = 0;
    for (int j = 0; j < T_; ++j) {
      if (j == i) continue;
      const double dd = squaredDistance(&c[size_t(i) * d_], &c[size_t(j) * d_], d_);
      if (best < 0 || dd < bestD) {
        best = j;
        bestD = dd;
      }
    }
    nearest[size_t(i)] = best;
    return best;
  };
  for (int i = 0; i < T_; ++i) {
    if ((i & 255) == 0) checkCancel(ctx);
    if (!rows_[size_t(i)].empty() || !cols_[size_t(i)].empty()) continue;
    const int j = nearestOf(i);
    if (j < 0) continue;
    const int a = std::min(i, j), b = std::max(i, j);
    // Two empty slots would divide 0 by 0 in the reference; there is nothing to merge.
    if (size(a) == 0 && size(b) == 0) continue;
    mergeWeighted(a, b);
    log.emplace_back(a, b);
  }
}

void GdlTables::runMerges(int iterations, std::vector<std::pair<int, int>>& log, const MergeCallback& cb,
                          const TaskContext* ctx) {
  const auto t0 = Clock::now();
  auto lastReport = t0;
  for (int t = 0; t < iterations; ++t) {
    if ((t & 63) == 0) checkCancel(ctx);
    int a = -1, b = -1;
    if (!search(a, b)) break;
    log.emplace_back(a, b);
    if (opt_.fastRowUpdate)
      mergeFast(a, b);
    else
      mergeExact(a, b);
    const bool last = t + 1 == iterations;
    if (last || (t + 1) % 100 == 0 || secondsSince(lastReport) > 0.2) {
      lastReport = Clock::now();
      if (cb) cb(MergeProgress{nonEmpty_, t + 1, iterations, secondsSince(t0)});
      reportProgress(ctx, double(t + 1) / iterations, "merging clusters");
    }
  }
}

std::vector<int> GdlTables::labels() const {
  std::vector<int> newId(static_cast<size_t>(T_), -1);
  int next = 0;
  for (int s = 0; s < T_; ++s)
    if (!members_[size_t(s)].empty()) newId[size_t(s)] = next++;
  std::vector<int> out(size_t(g_.size()));
  for (int s = 0; s < T_; ++s)
    for (int m : members_[size_t(s)]) out[size_t(m)] = newId[size_t(s)];
  return out;
}

void validateFeatures(const float* f, int n, int d) {
  if (n < 1) throw InputError("agglomerative clustering needs at least one sample");
  if (d < 1) throw InputError("agglomerative clustering needs a feature dimension of at least 1");
  if (!f) throw InputError("agglomerative clustering: no feature data");
  const size_t total = size_t(n) * size_t(d);
  for (size_t t = 0; t < total; ++t)
    if (!std::isfinite(f[t]))
      throw InputError("agglomerative clustering: feature " + std::to_string(t / size_t(d)) +
                       " contains a NaN or infinite value");
}

// Maps arbitrary non-negative labels to 0..nc-1 keeping their order.
int compactLabels(std::vector<int>& labels) {
  std::vector<int> vals(labels);
  std::sort(vals.begin(), vals.end());
  vals.erase(std::unique(vals.begin(), vals.end()), vals.end());
  for (int& l : labels) l = int(std::lower_bound(vals.begin(), vals.end(), l) - vals.begin());
  return int(vals.size());
}

} // namespace

AgglomerativeClustering::AgglomerativeClustering(GdlOptions o) : opt_(o) {
  if (opt_.ks < 1) throw InputError("K_s (neighbours in the sample graph) must be at least 1");
  if (opt_.kc < 1) throw InputError("K_c (local-structure neighbours) must be at least 1");
  if (!(opt_.sigmaScale > 0)) throw InputError("the sigma scale a must be positive");
  if (!(opt_.lambda >= 0)) throw InputError("lambda must be zero or positive");
  if (opt_.chainGuard < 1) throw InputError("the 1-NN chain guard must be at least 1");
  if (opt_.isolatedFactor < 0) throw InputError("the isolated-cluster factor must not be negative");
}

int AgglomerativeClustering::mergesForPeriod(int nc, double eta, int target) {
  const double unfold = std::ceil(double(nc) * eta);
  const double valid = double(nc) - double(target);
  const double it = std::min(unfold, valid);
  return it > 0 ? int(it) : 0;
}

namespace {

std::vector<int> chainLabels(const KnnGraph& g, int guard) {
  const int n = g.size();
  std::vector<int> visited(static_cast<size_t>(n), -1);
  int count = 0;
  std::vector<int> pos;
  for (int i = 0; i < n; ++i) {
    int cur = i;
    pos.clear();
    while (visited[size_t(cur)] == -1) {
      pos.push_back(cur);
      const int nb = g.nearest(cur);
      visited[size_t(cur)] = -2;
      cur = nb < 0 ? cur : nb;
      if (int(pos.size()) > guard) break;  // the reference's safety break (#pos > 50)
    }
    if (visited[size_t(cur)] < 0) visited[size_t(cur)] = count++;
    for (int p : pos) visited[size_t(p)] = visited[size_t(cur)];
  }
  return visited;
}

} // namespace


struct AgglomerativeClustering::Impl {
  // Every call starts afresh: introspection is about the last call only. Builds the sample graph.
  static KnnGraph startCall(AgglomerativeClustering& self, const float* features, int n, int d, const TaskContext* ctx) {
    self.timings_ = {};
    self.merges_.clear();
    self.isolated_.clear();
    self.fallbacks_ = 0;
    auto t0 = Clock::now();
    KnnGraph g = KnnGraph::build(features, n, d, self.opt_.ks, self.opt_.sigmaScale, self.opt_.threads, ctx);
    self.timings_.knn = secondsSince(t0);
    self.sigma2_ = g.sigma2();
    return g;
  }

  static std::vector<int> period(AgglomerativeClustering& self, const KnnGraph& g, const float* x, int d,
                                 std::vector<int> labels, double eta, int target, const MergeCallback& cb,
                                 const TaskContext* ctx) {
    const int nc = compactLabels(labels);
    const int threads = resolveThreads(self.opt_.threads);
    auto t0 = Clock::now();
    GdlTables tables(g, x, d, self.opt_, threads);
    tables.setup(labels, nc);
    tables.isolatedFix(target, self.isolated_, ctx);
    self.timings_.graph += secondsSince(t0);
    t0 = Clock::now();
    const int iterations = mergesForPeriod(tables.nonEmpty(), eta, target);
    if (iterations > 0) tables.runMerges(iterations, self.merges_, cb, ctx);
    self.fallbacks_ += tables.fallbacks();
    self.timings_.merge += secondsSince(t0);
    return tables.labels();
  }
};

std::vector<int> AgglomerativeClustering::initialise(const float* features, int n, int d, const TaskContext* ctx) {
  validateFeatures(features, n, d);
  const KnnGraph g = Impl::startCall(*this, features, n, d, ctx);
  auto t0 = Clock::now();
  std::vector<int> labels = chainLabels(g, opt_.chainGuard);
  timings_.graph = secondsSince(t0);
  return labels;
}

std::vector<int> AgglomerativeClustering::mergePeriod(const float* features, int n, int d,
                                                      const std::vector<int>& labels, double eta, int target,
                                                      const MergeCallback& cb, const TaskContext* ctx) {
  validateFeatures(features, n, d);
  if (int(labels.size()) != n) throw InputError("agglomerative clustering: one label per sample is needed");
  for (int l : labels)
    if (l < 0) throw InputError("agglomerative clustering: labels must not be negative");
  if (!(eta > 0 && eta <= 1)) throw InputError("the unrolling rate eta must be in (0, 1]");
  if (target < 1) throw InputError("the target number of clusters must be at least 1");
  const KnnGraph g = Impl::startCall(*this, features, n, d, ctx);
  return Impl::period(*this, g, features, d, labels, eta, target, cb, ctx);
}

std::vector<int> AgglomerativeClustering::cluster(const float* features, int n, int d, int target, double eta,
                                                  const MergeCallback& cb, const TaskContext* ctx) {
  validateFeatures(features, n, d);
  if (!(eta > 0 && eta <= 1)) throw InputError("the unrolling rate eta must be in (0, 1]");
  if (target < 1) throw InputError("the target number of clusters must be at least 1");
  AggTimings total;
  auto t0 = Clock::now();
  // The features do not change between periods here, so one graph serves them all.
  const KnnGraph g = KnnGraph::build(features, n, d, opt_.ks, opt_.sigmaScale, opt_.threads, ctx);
  total.knn = secondsSince(t0);
  sigma2_ = g.sigma2();
  t0 = Clock::now();
  std::vector<int> labels = chainLabels(g, opt_.chainGuard);
  total.graph = secondsSince(t0);
  int nc = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1;
  std::vector<std::pair<int, int>> allMerges, allIsolated;
  fallbacks_ = 0;
  while (nc > target) {
    checkCancel(ctx);
    timings_ = {};
    merges_.clear();
    isolated_.clear();
    labels = Impl::period(*this, g, features, d, labels, eta, target, cb, ctx);
    allMerges.insert(allMerges.end(), merges_.begin(), merges_.end());
    allIsolated.insert(allIsolated.end(), isolated_.begin(), isolated_.end());
    total.graph += timings_.graph;
    total.merge += timings_.merge;
    const int before = nc;
    nc = *std::max_element(labels.begin(), labels.end()) + 1;
    if (nc >= before) break;  // no progress possible (e.g. a single cluster left)
  }
  merges_ = std::move(allMerges);
  isolated_ = std::move(allIsolated);
  timings_ = total;
  return labels;
}

} // namespace jseg
