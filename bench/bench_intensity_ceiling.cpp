// bench-links: juleseg_core
// How far can intensity take a segmentation, and how much room is left for learned features? For a volume
// with a truth of three tissues and each stride s, on the pipeline's own grid (patch size w, threshold) this
// prints as JSON lines:
//   block_mean_kmeans_nmi   k-means (K = 3) on each grid point's s^3 block-mean intensity, painted: the fair
//                           baseline JULE must beat at stride s (at s = 1 it is voxel k-means);
//   best_thresholds_nmi     the best pair of thresholds on those block means, chosen WITH the truth: no
//                           method that reads only block-mean intensity can do better;
//   oracle_nmi              each block takes its true majority label: no method that paints s^3 blocks can
//                           do better;
//   kmeans_cuts             where k-means put its two cuts, next to the best thresholds.
// NMI here is over the truth voxels the blocks paint (covered_share says what share of all truth voxels that
// is); the pipeline also fills the few voxels no block reaches, which moves figures by < 0.001 on mni152.
// Usage: bench_intensity_ceiling VOLUME TRUTH LO:HI [--patch-size W] [--strides 5,2,1]
#include <algorithm>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/eval/Nmi.h"
#include "core/io/NiftiIO.h"
#include "core/io/VolumeReader.h"
#include "core/pipeline/SegmentationPipeline.h"
#include "core/segment/KMeans.h"

using namespace jseg;
using json = nlohmann::json;

namespace {

constexpr int kTissues = 3;
constexpr int kBins = 1024;  // resolution of the threshold search over the block-mean range

double round4(double v) { return std::round(v * 10000) / 10000; }

// NMI of a 3 x 3 table [predicted][truth] of voxel counts.
double tableNmi(const std::array<std::array<int64_t, kTissues>, kTissues>& t) {
  ContingencyTable c;
  for (int i = 0; i < kTissues; ++i) {
    c.truthLabels.push_back(i + 1);
    c.predictedLabels.push_back(i);
  }
  c.counts.assign(kTissues, std::vector<int64_t>(kTissues, 0));
  for (int p = 0; p < kTissues; ++p)
    for (int r = 0; r < kTissues; ++r) {
      c.counts[std::size_t(r)][std::size_t(p)] = t[std::size_t(p)][std::size_t(r)];
      c.total += t[std::size_t(p)][std::size_t(r)];
    }
  return nmi(c);
}

json measure(const Volume& vol, const LabelVolume& truth, float lo, float hi, int w, int stride) {
  const FeatureGrid layout = FeatureGrid::layout(vol, {w, w, w}, stride, lo, hi);
  const FeatureGrid g = blockMeanGrid(vol, layout);
  const std::size_t n = g.count();

  // Truth counts of the voxels each point's block paints (the same block blockMeanGrid averages).
  std::vector<std::array<int64_t, kTissues>> counts(n, std::array<int64_t, kTissues>{0, 0, 0});
  int64_t covered = 0, truthVoxels = 0;
  for (uint16_t t : truth.labels) truthVoxels += (t > 0 && t <= kTissues) ? 1 : 0;
  for (std::size_t i = 0; i < n; ++i) {
    g.forEachBlockVoxel(i, [&](int64_t x, int64_t y, int64_t z) {
      const float v = vol.at(x, y, z);
      if (v < lo || v > hi) return;
      const uint16_t t = truth.labels[vol.geom.index(x, y, z)];
      if (t == 0 || t > kTissues) return;
      ++counts[i][t - 1];
      ++covered;
    });
  }

  // k-means on the block means, scored on the same voxels.
  KMeansOptions ko;
  ko.k = kTissues;
  ko.restarts = 4;
  const KMeansResult km = KMeans(ko).fit(g.features.data(), n, 1);
  std::vector<int> order(kTissues);
  for (int k = 0; k < kTissues; ++k) order[std::size_t(k)] = k;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return km.centroids[std::size_t(a)] < km.centroids[std::size_t(b)]; });
  std::array<std::array<int64_t, kTissues>, kTissues> kmTable{}, oracleTable{};
  for (std::size_t i = 0; i < n; ++i) {
    for (int t = 0; t < kTissues; ++t) kmTable[std::size_t(km.labels[i])][std::size_t(t)] += counts[i][std::size_t(t)];
    const int major = int(std::max_element(counts[i].begin(), counts[i].end()) - counts[i].begin());
    for (int t = 0; t < kTissues; ++t) oracleTable[std::size_t(major)][std::size_t(t)] += counts[i][std::size_t(t)];
  }
  std::vector<double> cuts;
  for (int k = 0; k + 1 < kTissues; ++k)
    cuts.push_back(round4(0.5 * (km.centroids[std::size_t(order[std::size_t(k)])] +
                                 km.centroids[std::size_t(order[std::size_t(k + 1)])])));

  // Best pair of thresholds: bin the block means, accumulate truth counts, try every pair of bin edges.
  const auto [minIt, maxIt] = std::minmax_element(g.features.begin(), g.features.end());
  const double vmin = *minIt, width = std::max(1e-12, (double(*maxIt) - vmin) / kBins);
  std::vector<std::array<int64_t, kTissues>> cum(kBins + 1, std::array<int64_t, kTissues>{0, 0, 0});
  for (std::size_t i = 0; i < n; ++i) {
    const int b = std::min(kBins - 1, int((g.features[i] - vmin) / width));
    for (int t = 0; t < kTissues; ++t) cum[std::size_t(b) + 1][std::size_t(t)] += counts[i][std::size_t(t)];
  }
  for (int b = 1; b <= kBins; ++b)
    for (int t = 0; t < kTissues; ++t) cum[std::size_t(b)][std::size_t(t)] += cum[std::size_t(b) - 1][std::size_t(t)];
  double best = -1;
  int bestA = 0, bestB = 0;
  for (int a = 1; a < kBins; ++a)
    for (int b = a + 1; b < kBins; ++b) {
      std::array<std::array<int64_t, kTissues>, kTissues> tab{};
      for (int t = 0; t < kTissues; ++t) {
        tab[0][std::size_t(t)] = cum[std::size_t(a)][std::size_t(t)];
        tab[1][std::size_t(t)] = cum[std::size_t(b)][std::size_t(t)] - cum[std::size_t(a)][std::size_t(t)];
        tab[2][std::size_t(t)] = cum[kBins][std::size_t(t)] - cum[std::size_t(b)][std::size_t(t)];
      }
      const double v = tableNmi(tab);
      if (v > best) {
        best = v;
        bestA = a;
        bestB = b;
      }
    }

  return {{"stride", stride},
          {"patch_size", w},
          {"grid_points", n},
          {"covered_share", round4(truthVoxels ? double(covered) / double(truthVoxels) : 0.0)},
          {"block_mean_kmeans_nmi", round4(tableNmi(kmTable))},
          {"kmeans_cuts", cuts},
          {"best_thresholds_nmi", round4(best)},
          {"best_thresholds", {round4(vmin + bestA * width), round4(vmin + bestB * width)}},
          {"oracle_nmi", round4(tableNmi(oracleTable))}};
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: bench_intensity_ceiling VOLUME TRUTH LO:HI [--patch-size W] [--strides 5,2,1]\n";
    return 2;
  }
  int w = 15;  // the fast preset's patch: its grid leaves w/2 voxels at each border
  std::vector<int> strides{5, 2, 1};
  for (int a = 4; a + 1 < argc; a += 2) {
    const std::string arg = argv[a];
    if (arg == "--patch-size") w = std::stoi(argv[a + 1]);
    if (arg == "--strides") {
      strides.clear();
      std::stringstream ss(argv[a + 1]);
      for (std::string s; std::getline(ss, s, ',');) strides.push_back(std::stoi(s));
    }
  }
  try {
    const std::string threshold = argv[3];
    const auto colon = threshold.find(':');
    if (colon == std::string::npos) throw std::runtime_error("threshold must be LO:HI");
    const float lo = std::stof(threshold.substr(0, colon)), hi = std::stof(threshold.substr(colon + 1));
    const Volume vol = readVolume(argv[1]);
    const LabelVolume truth = NiftiIO::readLabels(argv[2]);
    if (truth.maxLabel() != kTissues) throw std::runtime_error("the truth must hold labels 1..3");
    if (truth.geom.dims != vol.geom.dims) throw std::runtime_error("the truth and the volume differ in size");
    for (int s : strides) std::cout << measure(vol, truth, lo, hi, w, s).dump() << std::endl;
  } catch (const std::exception& e) {
    std::cout << json{{"error", e.what()}}.dump() << std::endl;
    return 1;
  }
  return 0;
}
