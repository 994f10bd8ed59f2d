#pragma once
// Agglomerative clustering with graph-degree linkage as JULE's reference code runs it (jule-reference.md
// §1.3-§1.5, §2, §5): a directed k-NN sample graph, initial clusters from 1-NN chains, then single-pair
// merges picked by the affinity plus the K_c local-structure term, with the reference's approximate
// ("fast") table update and swap-with-last compaction so the merge order matches the reference.
// Each quirk of the reference is a named option; the defaults reproduce the reference.
#include <functional>
#include <utility>
#include <vector>

#include "core/base/Progress.h"

namespace jseg {

struct GdlOptions {
  int ks = 20;                        // K_s neighbours in the sample graph
  int kc = 5;                         // K_c for the local-structure term
  double lambda = 1.0;                // weight of that term (reference: 1)
  int lambdaMinClusters = 100;        // term active only when nc > this (reference: 100); nc here is the
                                      // table size, slots emptied by the isolated fix included, as in T
  double sigmaScale = 1.0;            // a in sigma^2 = a * mean d^2
  bool faithfulTriangularKnn = true;  // reference: candidates of column j are rows i<j only
  bool fastRowUpdate = true;          // reference approximate row update; false = exact recompute
  bool isolatedClusterFix = true;     // reference §2.5 (applies when nc > 20*target)
  int isolatedFactor = 20;            // the fix applies when nc > isolatedFactor*target (reference: 20)
  int chainGuard = 50;                // 1-NN chain walk is cut when the path exceeds this (reference: 50)
  int threads = 0;                    // 0 = all cores
};

struct MergeProgress {
  int clustersLeft;
  int mergesDone;
  int mergesPlanned;
  double seconds;
};
using MergeCallback = std::function<void(const MergeProgress&)>;  // every ~100 merges or 0.2 s

// Timings of the last call, in seconds (0 where a stage did not run).
struct AggTimings {
  double knn = 0;       // k-NN search (GEMM + selection)
  double graph = 0;     // W, initial clusters / cluster affinity tables
  double merge = 0;     // the merges of the period
};

// Tie rule (both for the optimised code and the brute-force test reference): among equal affinities
// the lower row index wins inside a column, and the lower column index wins across columns; k-NN ties
// are broken by the lower sample index.
//
// Where the reference is undefined or numerically different (all documented, none changes a normal run):
// - tables are double (T stores float); distances are re-ranked exactly in double;
// - sample i is excluded from its own neighbours explicitly (duplicates), W = 1 when sigma^2 = 0;
// - no pair with positive affinity left (T would crash): the smallest cluster joins the cluster with the
//   nearest centroid (lastFallbackMerges() counts these);
// - the isolated fix skips pairing two empty slots (T would produce 0/0).
//
// features: row-major n x d float (the caller has renormalised rows to norm <= 1 as the reference does).
class AgglomerativeClustering {
public:
  explicit AgglomerativeClustering(GdlOptions o = {});

  // Period 0: k-NN graph + initial clusters from 1-NN chains (chainGuard); no merging. Labels 0..nc-1.
  std::vector<int> initialise(const float* features, int n, int d, const TaskContext* ctx = nullptr);

  // One period: rebuild W and cluster affinities exactly from `labels` on the new features, apply the
  // isolated fix if nc > 20*target, then merge min(ceil(eta*nc), nc-target) times one pair per step.
  // `labels` may be any non-negative ids; cluster i of the reference's list is the i-th smallest id.
  // Returns labels 0..nc'-1 (cluster order = the reference's list order after compaction). A merge that
  // picks a slot emptied by the isolated fix (stale affinity, as in the reference) removes no cluster, so
  // nc' can end above nc - merges.
  std::vector<int> mergePeriod(const float* features, int n, int d, const std::vector<int>& labels,
                               double eta, int target, const MergeCallback& cb = {},
                               const TaskContext* ctx = nullptr);

  // Convenience: initialise then mergePeriod repeatedly (eta) on fixed features until target (RC, tests).
  std::vector<int> cluster(const float* features, int n, int d, int target, double eta,
                           const MergeCallback& cb = {}, const TaskContext* ctx = nullptr);

  // sigma^2 of the last graph.
  double lastSigma2() const { return sigma2_; }
  // Merge order of the last period as (a,b) pairs (0-based, a<b, b merged into a) in the reference's
  // cluster numbering at the time of each merge (i.e. after the earlier compactions). After cluster(),
  // the merges of all its periods in sequence.
  const std::vector<std::pair<int, int>>& lastMerges() const { return merges_; }
  // Clusters merged by the isolated-cluster fix in the last period, as (isolated, target) input labels.
  const std::vector<std::pair<int, int>>& lastIsolatedMerges() const { return isolated_; }
  // Merges of the last call made by the fallback (no pair with positive affinity left: the smallest
  // cluster joins the one with the nearest centroid). The reference has no defined behaviour there.
  int lastFallbackMerges() const { return fallbacks_; }
  const AggTimings& lastTimings() const { return timings_; }
  const GdlOptions& options() const { return opt_; }

  // Number of merges a period does: min(ceil(eta*nc), nc-target), never negative.
  static int mergesForPeriod(int nc, double eta, int target);

private:
  struct Impl;
  GdlOptions opt_;
  double sigma2_ = 0;
  std::vector<std::pair<int, int>> merges_;
  std::vector<std::pair<int, int>> isolated_;
  AggTimings timings_;
  int fallbacks_ = 0;
};

} // namespace jseg
