// ctest-links: juleseg_segment juleseg_jule juleseg_base
// Dense feature extraction equals per-patch forward() (the reference) for strides 1, 2, 5 and 27, with the
// paper's pooled network (phase handling) and the unpooled fast network, on a random volume through
// randomly initialised networks whose eval-mode batch norm has non-trivial running statistics.
#include <QtTest>

#include <cmath>
#include <random>

#include "core/base/Errors.h"
#include "core/jule/NetworkSpec.h"
#include "core/segment/DenseFeatureExtractor.h"
#include "core/segment/ModelFeatures.h"

using namespace jseg;

namespace {

// Smooth structure plus noise, so that features vary and the threshold cuts out ~30% of the centres.
Volume randomVolume(int nx, int ny, int nz, uint64_t seed) {
  Volume v;
  v.geom.dims = {nx, ny, nz};
  v.voxels.resize(v.geom.voxelCount());
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 15.0f);
  for (int z = 0; z < nz; ++z)
    for (int y = 0; y < ny; ++y)
      for (int x = 0; x < nx; ++x)
        v.at(x, y, z) = 100.0f + 20.0f * std::sin(0.3f * x) * std::cos(0.2f * y + 0.1f * z) + g(rng);
  return v;
}

struct Compared {
  std::size_t points = 0, tiles = 0;
  double maxDiff = 0;
  double featureSpread = 0;  // max over columns of the std of the feature across points
};

Compared compare(const DenseFeatureExtractor& dense, const DenseFeatureExtractor& ref, const Volume& vol, int stride,
                 const GridRegion& region = {}) {
  FeatureGrid a = dense.layout(vol, stride, 90.0f, 1e9f, region);
  FeatureGrid b = a;
  FeaturePlan plan = dense.plan(a);
  Compared c;
  c.tiles = plan.tiles;
  dense.compute(a, vol);
  ref.compute(b, vol);
  c.points = a.count();
  for (std::size_t i = 0; i < a.features.size(); ++i)
    c.maxDiff = std::max(c.maxDiff, double(std::abs(a.features[i] - b.features[i])));
  for (int f = 0; f < a.dim; ++f) {
    double s = 0, q = 0;
    for (std::size_t i = 0; i < a.count(); ++i) {
      s += a.row(i)[f];
      q += double(a.row(i)[f]) * a.row(i)[f];
    }
    double m = s / double(a.count());
    c.featureSpread = std::max(c.featureSpread, std::sqrt(std::max(0.0, q / double(a.count()) - m * m)));
  }
  return c;
}

DenseFeatureOptions options(FeatureMode mode) {
  DenseFeatureOptions o;
  o.inputMean = 100.0;
  o.inputStd = 20.0;
  o.mode = mode;
  return o;
}

} // namespace

class TestDenseFeatures : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() { vol_ = randomVolume(60, 56, 52, 4); }

  void denseEqualsPerPatch_data() {
    QTest::addColumn<QString>("network");
    QTest::addColumn<int>("stride");
    QTest::addColumn<bool>("useRegion");
    QTest::addColumn<int>("budgetMB");  // small budgets force several tiles
    QTest::newRow("paper3d s1 region") << "paper3d" << 1 << true << 768;
    QTest::newRow("paper3d s2 region") << "paper3d" << 2 << true << 768;
    QTest::newRow("paper3d s5") << "paper3d" << 5 << false << 768;
    QTest::newRow("paper3d s27") << "paper3d" << 27 << false << 768;
    QTest::newRow("paper3d s5 region tiled") << "paper3d" << 5 << true << 40;
    QTest::newRow("paper3d s1 region tiled") << "paper3d" << 1 << true << 24;
    QTest::newRow("fast3d s1 region") << "fast3d" << 1 << true << 768;
    QTest::newRow("fast3d s2 region") << "fast3d" << 2 << true << 768;
    QTest::newRow("fast3d s5") << "fast3d" << 5 << false << 768;
    QTest::newRow("fast3d s15") << "fast3d" << 15 << false << 768;
    QTest::newRow("fast3d s2 region tiled") << "fast3d" << 2 << true << 4;
    QTest::newRow("local3d s1 region") << "local3d" << 1 << true << 768;
    QTest::newRow("local3d s2 region") << "local3d" << 2 << true << 768;
    QTest::newRow("small3d+gap s1 region") << "small3d+gap" << 1 << true << 768;
    QTest::newRow("small3d+gap s5") << "small3d+gap" << 5 << false << 768;
    QTest::newRow("paper3d+gap s2 region") << "paper3d+gap" << 2 << true << 768;
  }

  void denseEqualsPerPatch() {
    QFETCH(QString, network);
    QFETCH(int, stride);
    QFETCH(bool, useRegion);
    QFETCH(int, budgetMB);
    // "+gap": the same network with global average pooling before the linear layer.
    const bool gap = network.endsWith("+gap");
    const std::string name = network.section('+', 0, 0).toStdString();
    NetworkSpec spec = NetworkSpec::byName(name, name == "paper3d" ? 27 : name == "local3d" ? 9 : 15);
    spec.globalPool = gap;
    auto net = makeRandomNetwork(spec, 17, true);
    DenseFeatureOptions o = options(FeatureMode::Dense);
    o.tileBudgetBytes = uint64_t(budgetMB) << 20;
    DenseFeatureExtractor dense(net, o);
    DenseFeatureExtractor ref(net, options(FeatureMode::PerPatch));
    GridRegion region;
    if (useRegion) {
      // Centres in a small box, to keep the per-patch reference fast.
      region.begin = {21, 19, 17};
      region.end = {stride == 1 ? 28 : 33, stride == 1 ? 25 : 31, stride == 1 ? 23 : 29};
      if (stride == 5) {
        region.begin = {13, 13, 13};
        region.end = {44, 44, 35};
      }
    }
    Compared c = compare(dense, ref, vol_, stride, region);
    qInfo("%s stride %d: %zu points in %zu tiles, max |dense - per-patch| = %.2e, feature spread %.3f",
          qPrintable(network), stride, c.points, c.tiles, c.maxDiff, c.featureSpread);
    if (budgetMB < 100) QVERIFY(c.tiles > 1);
    QVERIFY2(c.points >= 4, qPrintable(QString("only %1 grid points").arg(c.points)));
    QVERIFY2(c.maxDiff <= 1e-4, qPrintable(QString("max |dense - per-patch| = %1 over %2 points")
                                               .arg(c.maxDiff)
                                               .arg(c.points)));
    QVERIFY2(c.featureSpread > 1e-3, "features do not vary: the comparison would be vacuous");
  }

  // Thin patches (w x w x d, d < w) on a thin volume: kernels and pooling cut along z must give the dense
  // pass exactly what per-patch inference computes.
  void anisotropicDenseEqualsPerPatch_data() {
    QTest::addColumn<QString>("network");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("depth");
    QTest::addColumn<int>("stride");
    QTest::newRow("local3d 9x9x5 s1") << "local3d" << 9 << 5 << 1;
    QTest::newRow("local3d 9x9x5 s2") << "local3d" << 9 << 5 << 2;
    QTest::newRow("fast3d 15x15x5 s1") << "fast3d" << 15 << 5 << 1;
    QTest::newRow("fast3d 15x15x5 s2") << "fast3d" << 15 << 5 << 2;
    QTest::newRow("paper3d 27x27x11 s2 (z pooled)") << "paper3d" << 27 << 11 << 2;
    QTest::newRow("paper3d 27x27x5 s2 (no z pool)") << "paper3d" << 27 << 5 << 2;
  }

  void anisotropicDenseEqualsPerPatch() {
    QFETCH(QString, network);
    QFETCH(int, size);
    QFETCH(int, depth);
    QFETCH(int, stride);
    const Volume thin = randomVolume(40, 40, 12, 9);
    NetworkSpec spec = NetworkSpec::byName(network.toStdString(), size, depth);
    QCOMPARE(spec.depth(), depth);
    auto net = makeRandomNetwork(spec, 23, true);
    DenseFeatureExtractor dense(net, options(FeatureMode::Dense));
    DenseFeatureExtractor ref(net, options(FeatureMode::PerPatch));
    GridRegion region;  // centres in a box, to keep the per-patch reference fast
    region.begin = {14, 14, 0};
    region.end = {26, 26, 12};
    FeatureGrid g = dense.layout(thin, stride, 90.0f, 1e9f, region);
    QCOMPARE(g.extent[0], size);
    QCOMPARE(g.extent[2], depth);
    QCOMPARE(g.firstCentre[2], int64_t(depth / 2));
    Compared c = compare(dense, ref, thin, stride, region);
    qInfo("%s %dx%dx%d stride %d: %zu points, max |dense - per-patch| = %.2e, feature spread %.3f",
          qPrintable(network), size, size, depth, stride, c.points, c.maxDiff, c.featureSpread);
    QVERIFY2(c.points >= 4, qPrintable(QString("only %1 grid points").arg(c.points)));
    QVERIFY2(c.maxDiff <= 1e-4, qPrintable(QString("max |dense - per-patch| = %1 over %2 points")
                                               .arg(c.maxDiff)
                                               .arg(c.points)));
    QVERIFY2(c.featureSpread > 1e-3, "features do not vary: the comparison would be vacuous");
  }

  // A patch deeper than the volume names the axis and a depth that fits.
  void tooDeepPatchNamesTheAxis() {
    const Volume four = randomVolume(30, 30, 4, 3);
    auto net = makeRandomNetwork(NetworkSpec::byName("local3d", 9, 5), 1);
    DenseFeatureExtractor dense(net, options(FeatureMode::Dense));
    try {
      dense.layout(four, 1, 0.0f, 1e9f);
      QFAIL("a 5-slice patch was laid out on 4 slices");
    } catch (const InputError& e) {
      QCOMPARE(QString(e.what()),
               QString("the volume (30x30x4) has 4 slices along z but the patch needs 5; use --patch-depth 3 or less"));
    }
  }

  void gridHonoursMask() {
    NetworkSpec spec = NetworkSpec::byName("paper3d", 27);
    DenseFeatureExtractor dense(makeRandomNetwork(spec, 3, true), options(FeatureMode::Dense));
    FeatureGrid g = dense.layout(vol_, 5, 90.0f, 1e9f);
    // Independent count of lattice centres in the window.
    std::size_t expect = 0;
    for (int z = 13; z + 14 <= 52; z += 5)
      for (int y = 13; y + 14 <= 56; y += 5)
        for (int x = 13; x + 14 <= 60; x += 5) expect += vol_.at(x, y, z) >= 90.0f;
    QCOMPARE(g.count(), expect);
    QVERIFY(expect > 0 && expect < 7 * 6 * 6);  // the window really excludes some
    for (const auto& c : g.centres) QVERIFY(vol_.at(c[0], c[1], c[2]) >= 90.0f);
    dense.compute(g, vol_);
    QCOMPARE(g.dim, 160);
    // L2-normalised rows.
    for (std::size_t i = 0; i < g.count(); i += 17) {
      double s = 0;
      for (int f = 0; f < g.dim; ++f) s += double(g.row(i)[f]) * g.row(i)[f];
      QVERIFY(std::abs(s - 1.0) < 1e-4);
    }
    g.appendIntensityColumn(vol_, 2.0);
    QCOMPARE(g.dim, 161);
    double m = 0;
    for (std::size_t i = 0; i < g.count(); ++i) m += g.row(i)[160];
    QVERIFY(std::abs(m / double(g.count())) < 1e-4);  // standardised over the grid
  }

  void planAndEstimate() {
    NetworkSpec spec = NetworkSpec::byName("paper3d", 27);
    auto net = makeRandomNetwork(spec, 3, false);
    DenseFeatureExtractor autoMode(net, options(FeatureMode::Auto));
    FeatureGrid g5 = autoMode.layout(vol_, 5, 90.0f, 1e9f);
    FeaturePlan p5 = autoMode.plan(g5);
    QCOMPARE(p5.points, g5.count());
    QCOMPARE(p5.memory.resultBytes, uint64_t(g5.count()) * 160 * 4);
    QVERIFY(p5.memory.workingBytes > 0 && p5.memory.seconds > 0);
    QVERIFY(p5.memory.fits());
    FeatureGrid g1 = autoMode.layout(vol_, 1, -1e9f, 1e9f);
    QCOMPARE(autoMode.plan(g1).mode, FeatureMode::Dense);  // stride 1: dense shares nearly everything
    FeatureGrid g27 = autoMode.layout(vol_, 27, -1e9f, 1e9f);
    QCOMPARE(autoMode.plan(g27).mode, FeatureMode::PerPatch);  // 4 disjoint patches
    // A too large job is refused with advice.
    MemoryEstimate e;
    e.resultBytes = 3ull << 40;
    e.availableBytes = 1ull << 30;
    try {
      e.require("feature extraction", "use a stride of at least 9");
      QFAIL("no ResourceError");
    } catch (const ResourceError& err) {
      QVERIFY(QString(err.what()).contains("stride of at least 9"));
    }
    QVERIFY(memAvailableBytes() > 0);
    QVERIFY_THROWS_EXCEPTION(InputError, autoMode.layout(vol_, 28, 0, 1));  // stride > w
  }

  void severalNetworksSideBySide() {
    // A model of two networks: each row is [f1, f2] / sqrt(2), still unit-norm; one network is unchanged.
    NetworkSpec spec = NetworkSpec::byName("small3d", 15);
    JuleModel model;
    model.spec = spec;
    model.network = makeRandomNetwork(spec, 3, true);
    model.patchMean = 100.0;
    model.patchStd = 20.0;
    model.standardized = true;
    JuleModel single = model;
    model.moreNetworks = {makeRandomNetwork(spec, 4, true)};
    ModelFeatures both(model, 0);
    QCOMPARE(both.networkCount(), 2);
    FeatureGrid g = both.layout(vol_, 3, 90.0f, 1e9f);
    const FeaturePlan plan = both.plan(g);
    QCOMPARE(plan.memory.resultBytes, uint64_t(g.count()) * 2 * uint64_t(spec.featureDim) * 4);
    both.compute(g, vol_);
    QCOMPARE(g.dim, 2 * spec.featureDim);
    FeatureGrid g1 = g, g2 = g;
    DenseFeatureExtractor(model.network, options(FeatureMode::Auto)).compute(g1, vol_);
    DenseFeatureExtractor(model.moreNetworks[0], options(FeatureMode::Auto)).compute(g2, vol_);
    QCOMPARE(g1.dim, spec.featureDim);
    const float s = float(1.0 / std::sqrt(2.0));
    double maxDiff = 0, maxNormError = 0, crossDiff = 0;
    for (std::size_t i = 0; i < g.count(); ++i) {
      double norm = 0;
      for (int f = 0; f < spec.featureDim; ++f) {
        maxDiff = std::max(maxDiff, double(std::abs(g.row(i)[f] - s * g1.row(i)[f])));
        maxDiff = std::max(maxDiff, double(std::abs(g.row(i)[spec.featureDim + f] - s * g2.row(i)[f])));
        crossDiff = std::max(crossDiff, double(std::abs(g1.row(i)[f] - g2.row(i)[f])));
        norm += double(g.row(i)[f]) * g.row(i)[f] + double(g.row(i)[spec.featureDim + f]) * g.row(i)[spec.featureDim + f];
      }
      maxNormError = std::max(maxNormError, std::abs(std::sqrt(norm) - 1.0));
    }
    QVERIFY2(maxDiff < 1e-6, qPrintable(QString::number(maxDiff)));
    QVERIFY(maxNormError < 1e-5);
    QVERIFY(crossDiff > 0.05);  // the two networks really differ
    FeatureGrid one = ModelFeatures(single, 0).layout(vol_, 3, 90.0f, 1e9f);
    ModelFeatures(single, 0).compute(one, vol_);
    QCOMPARE(one.features, g1.features);
    // The channel-list overload with one volume is the same computation.
    FeatureGrid list = one;
    ModelFeatures(single, 0).compute(list, std::vector<const Volume*>{&vol_});
    QCOMPARE(list.features, one.features);
    // A model of one channel given two volumes says what it expected.
    try {
      ModelFeatures(single, 0).compute(list, std::vector<const Volume*>{&vol_, &vol_});
      QFAIL("expected InputError");
    } catch (const InputError& e) {
      QCOMPARE(std::string(e.what()),
               std::string("the model was trained on 1 channel (intensity) but 2 volumes were given"));
    }
  }

  void cancelStops() {
    NetworkSpec spec = NetworkSpec::byName("fast3d", 15);
    DenseFeatureExtractor dense(makeRandomNetwork(spec, 3, false), options(FeatureMode::Dense));
    FeatureGrid g = dense.layout(vol_, 1, -1e9f, 1e9f);
    auto token = std::make_shared<CancelToken>();
    TaskContext ctx;
    ctx.cancel = token;
    int reports = 0;
    ctx.progress = [&](double, const std::string&) {
      if (++reports == 1) token->cancel();  // the first tile is still running
    };
    QVERIFY_THROWS_EXCEPTION(CancelledError, dense.compute(g, vol_, &ctx));
  }

private:
  Volume vol_;
};

QTEST_GUILESS_MAIN(TestDenseFeatures)
#include "test_dense_features.moc"
