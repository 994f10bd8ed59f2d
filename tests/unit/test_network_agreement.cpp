// ctest-links: juleseg_segment juleseg_base
// The networks' agreement (NetworkAgreement), a criterion without truth, on synthetic grids with a known
// answer: a 20^3 volume whose halves are two regions, three networks' feature blocks side by side. Networks
// that see the regions agree (NMI 1), a network of pure noise agrees with nobody (NMI ~0); big grids are thinned
// to every 2nd lattice point and still give the same answer.
#include <QtTest>

#include <cmath>
#include <random>
#include <vector>

#include "core/base/Errors.h"
#include "core/params/ParameterSchema.h"
#include "core/segment/FeatureGrid.h"
#include "core/segment/NetworkAgreement.h"

using namespace jseg;

namespace {

constexpr int kSide = 20;

Volume halves() {
  Volume v;
  v.geom.dims = {kSide, kSide, kSide};
  v.geom.spacing = {1, 1, 1};
  v.voxels.assign(std::size_t(kSide) * kSide * kSide, 0.f);
  for (int z = 0; z < kSide; ++z)
    for (int y = 0; y < kSide; ++y)
      for (int x = kSide / 2; x < kSide; ++x) v.voxels[v.geom.index(x, y, z)] = 1.f;
  return v;
}

// One block per entry of `seesRegions`: 2 columns each, the region (+-1 along column 0) plus noise of sd 0.2 when
// true, pure noise of sd 1 when false; every block scaled by 1/sqrt(networks) as ModelFeatures writes them.
FeatureGrid gridWithBlocks(const Volume& v, const std::vector<bool>& seesRegions, uint64_t seed) {
  FeatureGrid g = FeatureGrid::layout(v, {1, 1, 1}, 1, -1.f, 2.f);
  const int n = int(seesRegions.size()), block = 2;
  g.dim = n * block;
  g.features.assign(g.count() * std::size_t(g.dim), 0.f);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.f, 1.f);
  const float scale = float(1 / std::sqrt(double(n)));
  for (std::size_t p = 0; p < g.count(); ++p) {
    const float region = g.centres[p][0] < kSide / 2 ? -1.f : 1.f;
    for (int m = 0; m < n; ++m) {
      float* f = g.features.data() + p * std::size_t(g.dim) + std::size_t(m * block);
      if (seesRegions[std::size_t(m)]) {
        f[0] = scale * (region + 0.2f * noise(rng));
        f[1] = scale * 0.2f * noise(rng);
      } else {
        f[0] = scale * noise(rng);
        f[1] = scale * noise(rng);
      }
    }
  }
  return g;
}

Parameters plain() {
  Parameters p;
  p.set("feature_whitening", 0);
  p.set("feature_smoothing", 0);
  p.set("seed", 5);
  return p;
}

} // namespace

class TestNetworkAgreement : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void networksThatSeeTheRegionsAgreeNoiseDoesNot() {
    const Volume v = halves();
    const FeatureGrid g = gridWithBlocks(v, {true, true, false}, 1);
    const auto r = NetworkAgreement().measure(g, 3, {&v}, plain(), 2);
    QCOMPARE(r.networks, 3);
    QCOMPARE(r.k, 2);
    QCOMPARE(r.points, std::size_t(kSide) * kSide * kSide);
    QCOMPARE(r.thinning, 1);
    QCOMPARE(r.pairs.size(), std::size_t(3));  // (0,1), (0,2), (1,2)
    QVERIFY2(r.pairs[0] > 0.95, qPrintable(QString::number(r.pairs[0])));
    QVERIFY2(r.pairs[1] < 0.02, qPrintable(QString::number(r.pairs[1])));
    QVERIFY2(r.pairs[2] < 0.02, qPrintable(QString::number(r.pairs[2])));
    QVERIFY(std::abs(r.mean - (r.pairs[0] + r.pairs[1] + r.pairs[2]) / 3) < 1e-12);
  }

  void identicalNetworksAgreeExactly() {
    const Volume v = halves();
    FeatureGrid g = gridWithBlocks(v, {true, true}, 2);
    for (std::size_t p = 0; p < g.count(); ++p)  // network 1 := network 0
      for (int c = 0; c < 2; ++c) g.features[p * 4 + 2 + std::size_t(c)] = g.features[p * 4 + std::size_t(c)];
    const auto r = NetworkAgreement().measure(g, 2, {&v}, plain(), 2);
    QCOMPARE(r.pairs.size(), std::size_t(1));
    QVERIFY(std::abs(r.mean - 1.0) < 1e-9);
  }

  void finishingIsAppliedToEachNetwork() {
    // Noise of sd 1.2 around +-1 hides the halves voxel by voxel (two networks with independent noise agree
    // little); smoothing each network's block over 3 voxels, as the whole grid is smoothed, recovers them.
    const Volume v = halves();
    FeatureGrid g = gridWithBlocks(v, {true, true}, 3);
    std::mt19937_64 rng(9);
    std::normal_distribution<float> noise(0.f, 1.2f);
    for (std::size_t p = 0; p < g.count(); ++p) {
      g.features[p * 4] += noise(rng);
      g.features[p * 4 + 2] += noise(rng);
    }
    Parameters smooth = plain();
    smooth.set("feature_smoothing", 3);
    const double raw = NetworkAgreement().measure(g, 2, {&v}, plain(), 2).mean;
    const double smoothed = NetworkAgreement().measure(g, 2, {&v}, smooth, 2).mean;
    QVERIFY2(raw < 0.5, qPrintable(QString::number(raw)));
    QVERIFY2(smoothed > 0.9, qPrintable(QString::number(smoothed)));
  }

  void bigGridsAreThinnedOnTheLattice() {
    const Volume v = halves();
    const FeatureGrid g = gridWithBlocks(v, {true, true, false}, 4);
    const auto r = NetworkAgreement(1000).measure(g, 3, {&v}, plain(), 2);
    QCOMPARE(r.thinning, 2);
    QCOMPARE(r.points, std::size_t(1000));  // every 2nd of 20 along each axis
    QVERIFY(r.pairs[0] > 0.95);
    QVERIFY(r.pairs[1] < 0.05);

    const FeatureGrid t = NetworkAgreement::thinned(g, 2);
    QCOMPARE(t.count(), std::size_t(1000));
    QCOMPARE(t.stride[0], 2);
    QCOMPARE(t.latticeDims[2], int64_t(10));
    for (std::size_t p = 0; p < t.count(); ++p) {
      const auto& c = t.centres[p];
      QVERIFY(c[0] % 2 == 0 && c[1] % 2 == 0 && c[2] % 2 == 0);
      QCOMPARE(t.lattice[p], int64_t((c[2] / 2 * 10 + c[1] / 2) * 10 + c[0] / 2));
      const std::size_t src = v.geom.index(c[0], c[1], c[2]);  // g holds every voxel, in index order
      QCOMPARE(t.features[p * 6 + 5], g.features[src * 6 + 5]);
    }
  }

  void oneNetworkHasNothingToCompare() {
    const Volume v = halves();
    const auto r = NetworkAgreement().measure(gridWithBlocks(v, {true}, 5), 1, {&v}, plain(), 2);
    QCOMPARE(r.networks, 0);
    QVERIFY(r.pairs.empty());
  }

  void blocksMustDivideTheColumns() {
    const Volume v = halves();
    FeatureGrid g = gridWithBlocks(v, {true, true}, 6);  // 4 columns
    QVERIFY_THROWS_EXCEPTION(InputError, NetworkAgreement().measure(g, 3, {&v}, plain(), 2));
  }
};

QTEST_GUILESS_MAIN(TestNetworkAgreement)
#include "test_network_agreement.moc"
