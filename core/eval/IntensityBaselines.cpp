#include "core/eval/IntensityBaselines.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

#include "core/base/Errors.h"

namespace jseg {

namespace {

void checkRegion(const Volume& v, const Mask* roi) {
  if (roi && roi->inside.size() != v.voxels.size())
    throw InputError("the region of interest is not on the volume's grid");
}

void checkArguments(const Volume& v, float lo, float hi, int k) {
  if (v.voxels.empty()) throw InputError("the volume is empty");
  if (lo > hi) {
    std::ostringstream o;
    o << "threshold low " << lo << " is above threshold high " << hi;
    throw InputError(o.str());
  }
  if (k < 2) throw InputError("K must be at least 2 (got " + std::to_string(k) + ")");
}

bool isIntegerType(PixelType t) { return t != PixelType::Float32 && t != PixelType::Float64; }

// Weighted 1-D samples: distinct values (or bin means) with their voxel counts.
// The voxels a baseline sees: inside [lo, hi] and, when a region of interest is given, inside it.
struct Window {
  float lo, hi;
  const Mask* roi;
  bool holds(std::size_t i, float x) const { return x >= lo && x <= hi && (!roi || roi->inside[i]); }
};

struct WeightedValues {
  std::vector<double> value;
  std::vector<double> weight;
};

WeightedValues collectValues(const Volume& v, const Window& win, std::size_t maxDistinct) {
  WeightedValues w;
  const auto [mn, mx] = [&] {
    float a = std::numeric_limits<float>::max(), b = std::numeric_limits<float>::lowest();
    for (std::size_t i = 0; i < v.voxels.size(); ++i)
      if (const float x = v.voxels[i]; win.holds(i, x)) {
        a = std::min(a, x);
        b = std::max(b, x);
      }
    return std::pair<float, float>(a, b);
  }();
  if (mn > mx) return w;  // empty mask
  const double span = double(mx) - double(mn);
  const bool integral = isIntegerType(v.originalType) && span < double(maxDistinct);
  if (integral) {
    // Integer volumes: one bin per level is exact.
    const std::size_t nbins = static_cast<std::size_t>(span) + 1;
    std::vector<double> count(nbins, 0);
    for (std::size_t i = 0; i < v.voxels.size(); ++i)
      if (const float x = v.voxels[i]; win.holds(i, x)) count[static_cast<std::size_t>(std::lround(double(x) - double(mn)))] += 1;
    for (std::size_t b = 0; b < nbins; ++b)
      if (count[b] > 0) {
        w.value.push_back(double(mn) + double(b));
        w.weight.push_back(count[b]);
      }
    return w;
  }
  const std::size_t nbins = maxDistinct;
  std::vector<double> count(nbins, 0), sum(nbins, 0);
  const double scale = span > 0 ? double(nbins - 1) / span : 0.0;
  for (std::size_t i = 0; i < v.voxels.size(); ++i)
    if (const float x = v.voxels[i]; win.holds(i, x)) {
      auto b = static_cast<std::size_t>((double(x) - double(mn)) * scale);
      count[b] += 1;
      sum[b] += x;
    }
  for (std::size_t b = 0; b < nbins; ++b)
    if (count[b] > 0) {
      w.value.push_back(sum[b] / count[b]);
      w.weight.push_back(count[b]);
    }
  return w;
}

// Lloyd iterations on sorted weighted 1-D data; centres stay sorted, so assignment is by midpoints.
// Stops when the summed squared centre shift falls below tolerance * variance of the data, the usual
// convention (scikit-learn's `tol`), which the paper-style reference figures were computed with.
double lloyd1d(const WeightedValues& w, std::vector<double>& centres, int maxIterations, double tolerance) {
  const std::size_t n = w.value.size();
  const int k = static_cast<int>(centres.size());
  double inertia = 0;
  double sw = 0, swx = 0, swx2 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sw += w.weight[i];
    swx += w.weight[i] * w.value[i];
    swx2 += w.weight[i] * w.value[i] * w.value[i];
  }
  const double variance = sw > 0 ? std::max(0.0, swx2 / sw - (swx / sw) * (swx / sw)) : 0.0;
  const double shiftLimit = tolerance * variance;
  for (int it = 0; it < maxIterations; ++it) {
    std::sort(centres.begin(), centres.end());
    std::vector<double> sum(k, 0), cnt(k, 0);
    inertia = 0;
    int c = 0;
    for (std::size_t i = 0; i < n; ++i) {
      while (c + 1 < k && std::fabs(w.value[i] - centres[c + 1]) < std::fabs(w.value[i] - centres[c])) ++c;
      sum[c] += w.value[i] * w.weight[i];
      cnt[c] += w.weight[i];
      inertia += w.weight[i] * (w.value[i] - centres[c]) * (w.value[i] - centres[c]);
    }
    double shift = 0;
    for (int j = 0; j < k; ++j) {
      if (cnt[j] <= 0) continue;  // an empty cluster keeps its centre
      double m = sum[j] / cnt[j];
      shift += (m - centres[j]) * (m - centres[j]);
      centres[j] = m;
    }
    if (shift <= shiftLimit) break;
  }
  std::sort(centres.begin(), centres.end());
  return inertia;
}

// Greedy k-means++ (Arthur & Vassilvitskii; 2 + ln k candidates per step, keeping the one that lowers the
// potential most), the variant common libraries use, so single runs are comparable with published figures.
std::vector<double> kmeansPlusPlus1d(const WeightedValues& w, int k, std::mt19937_64& rng) {
  std::vector<double> centres;
  std::discrete_distribution<std::size_t> first(w.weight.begin(), w.weight.end());
  centres.push_back(w.value[first(rng)]);
  const int trials = 2 + static_cast<int>(std::log(double(k)));
  std::vector<double> d2(w.value.size());
  for (std::size_t i = 0; i < w.value.size(); ++i)
    d2[i] = w.weight[i] * (w.value[i] - centres[0]) * (w.value[i] - centres[0]);
  while (static_cast<int>(centres.size()) < k) {
    double total = std::accumulate(d2.begin(), d2.end(), 0.0);
    if (total <= 0) {
      centres.push_back(centres.back());  // fewer distinct values than k
      continue;
    }
    std::discrete_distribution<std::size_t> next(d2.begin(), d2.end());
    double bestPotential = std::numeric_limits<double>::max();
    double bestCentre = centres.back();
    for (int t = 0; t < trials; ++t) {
      const double c = w.value[next(rng)];
      double potential = 0;
      for (std::size_t i = 0; i < w.value.size(); ++i)
        potential += std::min(d2[i], w.weight[i] * (w.value[i] - c) * (w.value[i] - c));
      if (potential < bestPotential) {
        bestPotential = potential;
        bestCentre = c;
      }
    }
    centres.push_back(bestCentre);
    for (std::size_t i = 0; i < w.value.size(); ++i)
      d2[i] = std::min(d2[i], w.weight[i] * (w.value[i] - bestCentre) * (w.value[i] - bestCentre));
  }
  return centres;
}

LabelVolume paintByBoundaries(const Volume& v, const Window& win, const std::vector<double>& upper) {
  // upper[i] = inclusive upper boundary of class i+1; the last class takes everything above.
  LabelVolume l = makeLabelVolume(v.geom);
  for (std::size_t i = 0; i < v.voxels.size(); ++i) {
    float x = v.voxels[i];
    if (!win.holds(i, x)) continue;
    std::size_t c = static_cast<std::size_t>(std::lower_bound(upper.begin(), upper.end(), double(x)) - upper.begin());
    l.labels[i] = static_cast<uint16_t>(c + 1);
  }
  return l;
}

// The window both baselines work in, after checking the arguments and the region.
Window checkedWindow(const Volume& v, float lo, float hi, int k, const Mask* roi) {
  checkArguments(v, lo, hi, k);
  checkRegion(v, roi);
  return {lo, hi, roi};
}

} // namespace

IntensityKMeansResult intensityKMeans(const Volume& v, float lo, float hi, int k, uint64_t seed, int restarts,
                                      int maxIterations, double tolerance, const TaskContext* ctx, const Mask* roi) {
  const Window win = checkedWindow(v, lo, hi, k, roi);
  reportProgress(ctx, 0.0, "intensity k-means: histogram");
  WeightedValues w = collectValues(v, win, 65536);
  if (w.value.empty()) throw InputError("no voxel lies inside the threshold mask");
  std::mt19937_64 rng(seed);
  IntensityKMeansResult best;
  best.inertia = std::numeric_limits<double>::max();
  for (int r = 0; r < std::max(1, restarts); ++r) {
    checkCancel(ctx);
    auto centres = kmeansPlusPlus1d(w, k, rng);
    double inertia = lloyd1d(w, centres, maxIterations, tolerance);
    if (inertia < best.inertia) {
      best.inertia = inertia;
      best.centres = centres;
    }
    reportProgress(ctx, 0.1 + 0.8 * (r + 1) / std::max(1, restarts), "intensity k-means");
  }
  // Nearest centre == below the midpoint between neighbouring centres (ties go to the lower one).
  std::vector<double> upper;
  for (int j = 0; j + 1 < k; ++j) upper.push_back(0.5 * (best.centres[j] + best.centres[j + 1]));
  best.labels = paintByBoundaries(v, win, upper);
  reportProgress(ctx, 1.0, "intensity k-means done");
  return best;
}

MultiOtsuResult multiOtsu(const Volume& v, float lo, float hi, int k, const TaskContext* ctx, const Mask* roi) {
  const Window win = checkedWindow(v, lo, hi, k, roi);
  reportProgress(ctx, 0.0, "multi-Otsu: histogram");
  // Histogram: exact levels for integer data with few levels, else 256 bins (bin mean as its value).
  WeightedValues w = collectValues(v, win, 4096);
  if (w.value.empty()) throw InputError("no voxel lies inside the threshold mask");
  if (w.value.size() > 4096 || !isIntegerType(v.originalType)) w = collectValues(v, win, 256);
  const int L = static_cast<int>(w.value.size());
  if (L < k) throw InputError("the masked voxels have only " + std::to_string(L) + " distinct levels, fewer than K = " +
                              std::to_string(k));
  // Prefix sums give each candidate class's weight and mean in O(1).
  std::vector<double> P(L + 1, 0), S(L + 1, 0);
  for (int i = 0; i < L; ++i) {
    P[i + 1] = P[i] + w.weight[i];
    S[i + 1] = S[i] + w.weight[i] * w.value[i];
  }
  auto classScore = [&](int a, int b) {  // bins [a, b): weight * mean^2 (maximising Σ this maximises σ_B²)
    double p = P[b] - P[a];
    if (p <= 0) return 0.0;
    double s = S[b] - S[a];
    return s * s / p;
  };
  // Dynamic programming over class boundaries: best[c][j] = best score of c classes covering bins [0, j).
  const double NEG = -std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> best(k + 1, std::vector<double>(L + 1, NEG));
  std::vector<std::vector<int>> arg(k + 1, std::vector<int>(L + 1, -1));
  best[0][0] = 0;
  for (int c = 1; c <= k; ++c) {
    checkCancel(ctx);
    for (int j = c; j <= L - (k - c); ++j)
      for (int i = c - 1; i < j; ++i) {
        if (best[c - 1][i] == NEG) continue;
        double s = best[c - 1][i] + classScore(i, j);
        if (s > best[c][j]) {
          best[c][j] = s;
          arg[c][j] = i;
        }
      }
  }
  std::vector<int> cuts;  // first bin of classes 2..k
  for (int c = k, j = L; c > 1; --c) {
    j = arg[c][j];
    cuts.push_back(j);
  }
  std::reverse(cuts.begin(), cuts.end());
  MultiOtsuResult r;
  for (int cut : cuts) r.thresholds.push_back(w.value[cut - 1]);  // last value of the lower class
  // Boundary: a value equal to the threshold belongs to the lower class; for binned data the midpoint
  // between neighbouring bin values separates them.
  std::vector<double> upper;
  for (int cut : cuts) upper.push_back(0.5 * (w.value[cut - 1] + w.value[cut]));
  r.labels = paintByBoundaries(v, win, upper);
  reportProgress(ctx, 1.0, "multi-Otsu done");
  return r;
}

} // namespace jseg
