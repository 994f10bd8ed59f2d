// ctest-links: juleseg_segment juleseg_base
// FeatureSmoothing (parameter feature_smoothing) on hand-made grids: the mean over the grid points within
// r voxels, points outside the window left out of the mean, the radius in voxels at a coarser stride, the
// intensity column kept, and agreement with a brute-force mean on a random masked grid. Also which channels'
// intensity columns finishFeatures appends (intensity_channels).
#include <QtTest>

#include <cmath>
#include <random>
#include <vector>

#include "core/base/Errors.h"
#include "core/segment/FeatureGrid.h"
#include "core/segment/FeatureSmoothing.h"
#include "core/segment/GridClustering.h"

using namespace jseg;

namespace {

Volume makeVolume(int nx, int ny, int nz, float value) {
  Volume v;
  v.geom.dims = {nx, ny, nz};
  v.voxels.assign(v.geom.voxelCount(), value);
  return v;
}

// One-voxel patches, so every voxel in the window is a grid point at stride 1.
FeatureGrid gridOf(const Volume& v, int stride, int dim, const std::vector<float>& features) {
  FeatureGrid g = FeatureGrid::layout(v, {1, 1, 1}, stride, 1, 1000);
  g.dim = dim;
  g.features = features;
  return g;
}

// The mean the smoothing must give, by looking at every other point.
// The radius in lattice steps is r / stride per axis (a one-voxel patch keeps stride 1 along z).
std::vector<float> bruteForce(const FeatureGrid& g, int r, int columns) {
  const int64_t rx = r / g.stride[0], ry = r / g.stride[1], rz = r / g.stride[2];
  std::vector<float> out = g.features;
  const int64_t nx = g.latticeDims[0], ny = g.latticeDims[1];
  for (std::size_t i = 0; i < g.count(); ++i) {
    const int64_t xi = g.lattice[i] % nx, yi = g.lattice[i] / nx % ny, zi = g.lattice[i] / (nx * ny);
    for (int c = 0; c < columns; ++c) {
      double sum = 0;
      int n = 0;
      for (std::size_t j = 0; j < g.count(); ++j) {
        const int64_t xj = g.lattice[j] % nx, yj = g.lattice[j] / nx % ny, zj = g.lattice[j] / (nx * ny);
        if (std::abs(xi - xj) > rx || std::abs(yi - yj) > ry || std::abs(zi - zj) > rz)
          continue;
        sum += g.features[j * std::size_t(g.dim) + std::size_t(c)];
        ++n;
      }
      out[i * std::size_t(g.dim) + std::size_t(c)] = float(sum / n);
    }
  }
  return out;
}

void compareWithin(const std::vector<float>& a, const std::vector<float>& b, float tol) {
  QCOMPARE(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::abs(a[i] - b[i]) > tol) QFAIL(qPrintable(QString("entry %1: %2 vs %3").arg(i).arg(a[i]).arg(b[i])));
}

} // namespace

class TestFeatureSmoothing : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void meanOfNeighboursOnALine() {
    Volume v = makeVolume(5, 1, 1, 100);
    FeatureGrid g = gridOf(v, 1, 1, {1, 2, 3, 4, 10});
    FeatureSmoothing(1).apply(g);
    compareWithin(g.features, {1.5f, 2.f, 3.f, 17.f / 3.f, 7.f}, 1e-6f);
  }

  void pointsOutsideTheWindowAreLeftOut() {
    Volume v = makeVolume(5, 1, 1, 100);
    v.voxels[2] = 0;  // below the window: no grid point there
    FeatureGrid g = gridOf(v, 1, 1, {1, 2, 4, 10});
    QCOMPARE(g.count(), std::size_t(4));
    FeatureSmoothing(1).apply(g);
    compareWithin(g.features, {1.5f, 1.5f, 7.f, 7.f}, 1e-6f);
  }

  void radiusIsInVoxels() {
    Volume v = makeVolume(9, 1, 1, 100);
    // Stride 3: points at x = 0, 3, 6. A radius of 2 voxels spans no lattice step, so nothing changes.
    FeatureGrid g = gridOf(v, 3, 1, {3, 6, 12});
    QCOMPARE(g.count(), std::size_t(3));
    FeatureSmoothing(2).apply(g);
    compareWithin(g.features, {3.f, 6.f, 12.f}, 0.f);
    QCOMPARE(FeatureSmoothing(2).workingBytes(g), uint64_t(0));
    // A radius of 3 voxels is one lattice step.
    FeatureSmoothing(3).apply(g);
    compareWithin(g.features, {4.5f, 7.f, 9.f}, 1e-6f);
  }

  void intensityColumnIsKept() {
    Volume v = makeVolume(4, 1, 1, 100);
    v.voxels = {100, 200, 300, 400};
    FeatureGrid g = gridOf(v, 1, 1, {0, 0, 0, 8});
    g.appendIntensityColumn(v, 1.0);
    const std::vector<float> before = g.features;
    FeatureSmoothing(1).apply(g);
    QCOMPARE(g.dim, 2);
    for (std::size_t i = 0; i < 4; ++i) QCOMPARE(g.features[i * 2 + 1], before[i * 2 + 1]);
    compareWithin({g.features[0], g.features[2], g.features[4], g.features[6]}, {0.f, 0.f, 8.f / 3.f, 4.f}, 1e-6f);
  }

  void oneIntensityColumnPerChannelIsKept() {
    // feature_intensity with two channels: two standardised columns, weighted, and smoothing leaves both alone.
    Volume v = makeVolume(4, 1, 1, 100);
    v.voxels = {100, 200, 300, 400};
    Volume t1c = v;
    t1c.voxels = {10, 10, 30, 30};  // mean 20, sd 10
    FeatureGrid g = gridOf(v, 1, 1, {0, 0, 0, 8});
    g.appendIntensityColumns({&v, &t1c}, 2.0);
    QCOMPARE(g.dim, 3);
    QCOMPARE(g.intensityColumns, 2);
    QVERIFY(g.hasIntensityColumn);
    compareWithin({g.features[2], g.features[5], g.features[8], g.features[11]}, {-2.f, -2.f, 2.f, 2.f}, 1e-6f);
    const float sd = float(std::sqrt(12500.0));  // of 100..400
    QVERIFY(std::abs(g.features[1] - 2.f * (100.f - 250.f) / sd) < 1e-5f);
    const std::vector<float> before = g.features;
    FeatureSmoothing(1).apply(g);
    for (std::size_t i = 0; i < 4; ++i) {
      QCOMPARE(g.features[i * 3 + 1], before[i * 3 + 1]);
      QCOMPARE(g.features[i * 3 + 2], before[i * 3 + 2]);
    }
    compareWithin({g.features[0], g.features[3], g.features[6], g.features[9]}, {0.f, 0.f, 8.f / 3.f, 4.f}, 1e-6f);
    QVERIFY_THROWS_EXCEPTION(InputError, g.appendIntensityColumn(v, 1.0));  // once only
  }

  void addedChannelsOnlyGetIntensityColumns() {
    // intensity_channels = added: only the added channels' columns (T1c's beside features of FLAIR + T1c), none
    // with one channel; all: every channel's.
    Volume flair = makeVolume(4, 1, 1, 100);
    flair.voxels = {100, 200, 300, 400};
    Volume t1c = flair;
    t1c.voxels = {10, 10, 30, 30};  // standardised: -1, -1, 1, 1
    Parameters p;
    p.set("feature_intensity", true);
    p.set("intensity_weight", 1.5);
    p.set("intensity_channels", "added");
    FeatureGrid g = gridOf(flair, 1, 1, {0, 0, 0, 8});
    finishFeatures(g, {&flair, &t1c}, p);
    QCOMPARE(g.dim, 2);
    QCOMPARE(g.intensityColumns, 1);
    compareWithin({g.features[1], g.features[3], g.features[5], g.features[7]}, {-1.5f, -1.5f, 1.5f, 1.5f}, 1e-6f);
    FeatureGrid alone = gridOf(flair, 1, 1, {0, 0, 0, 8});
    finishFeatures(alone, {&flair}, p);
    QCOMPARE(alone.dim, 1);
    QVERIFY(!alone.hasIntensityColumn);
    compareWithin(alone.features, {0, 0, 0, 8}, 0.f);
    p.set("intensity_channels", "all");
    FeatureGrid both = gridOf(flair, 1, 1, {0, 0, 0, 8});
    finishFeatures(both, {&flair, &t1c}, p);
    QCOMPARE(both.dim, 3);
    QCOMPARE(both.features[8], 1.5f);  // point 2 (300 and 30): T1c column 1.5 x 1, FLAIR 1.5 x (300 - 250) / 111.8
    QVERIFY(std::abs(both.features[7] - float(1.5 * 50 / std::sqrt(12500.0))) < 1e-5f);
    QVERIFY_THROWS_EXCEPTION(InputError, p.set("intensity_channels", "t1c"));
  }

  void equalsBruteForceOnAMaskedVolume() {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1, 1);
    Volume v = makeVolume(11, 9, 7, 100);
    for (auto& x : v.voxels)
      if (u(rng) < -0.4f) x = 0;  // about 30% of the voxels outside the window
    for (int stride : {1, 2}) {
      FeatureGrid g = gridOf(v, stride, 3, {});
      g.features.resize(g.count() * 3);
      for (auto& f : g.features) f = u(rng);
      for (int r : {1, 2, 4}) {
        FeatureGrid a = g, b = g;
        FeatureSmoothing(r, 1).apply(a);
        FeatureSmoothing(r, 2).apply(b);
        compareWithin(a.features, bruteForce(g, r, 3), 1e-5f);
        // Threads split the columns, never a sum: the result does not depend on them.
        compareWithin(a.features, b.features, 0.f);
      }
    }
  }

  void cancelStops() {
    Volume v = makeVolume(6, 6, 6, 100);
    FeatureGrid g = gridOf(v, 1, 4, std::vector<float>(216 * 4, 1.f));
    auto token = std::make_shared<CancelToken>();
    token->cancel();
    TaskContext ctx;
    ctx.cancel = token;
    QVERIFY_THROWS_EXCEPTION(CancelledError, FeatureSmoothing(1).apply(g, &ctx));
  }

  void negativeRadiusIsRefused() { QVERIFY_THROWS_EXCEPTION(InputError, FeatureSmoothing(-1)); }
};

QTEST_GUILESS_MAIN(TestFeatureSmoothing)
#include "test_feature_smoothing.moc"
