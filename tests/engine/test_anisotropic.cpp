// ctest-links: juleseg_pipeline juleseg_eval juleseg_segment juleseg_jule juleseg_io juleseg_base torch
// ctest-lock: libtorch_cores
// Thin anisotropic stacks (issue 12): w x w x d patches with d < w. The networks' shapes for thin inputs, the
// depth chosen from the spacing, the parameter checks, the sampler's thin patches, and the whole session
// (train, features, paint) on a 16-slice phantom with a z spacing 5 times the in-plane one.
#include <QtTest>

#include <algorithm>
#include <set>

#include "core/base/Errors.h"
#include "core/demo/Phantom.h"
#include "core/jule/JuleTrainer.h"
#include "core/jule/NetworkSpec.h"
#include "core/jule/PatchNetwork.h"
#include "core/jule/PatchSampler.h"
#include "core/pipeline/SegmentationSession.h"

using namespace jseg;

namespace {

// The 128-voxel demo phantom's middle 16 slices, with a z spacing 5 times the in-plane one (a thin stack),
// and its truth cut the same way.
struct ThinPhantom {
  std::shared_ptr<const Volume> volume;
  std::shared_ptr<const LabelVolume> truth;
  float lo = 0, hi = 0;
};

ThinPhantom makeThinPhantom() {
  PhantomOptions po;
  po.size = 128;
  const Phantom ph = makeDemoPhantom(po);
  const int64_t nx = 128, ny = 128, nz = 16, z0 = 64 - nz / 2;
  auto vol = std::make_shared<Volume>(ph.volume);
  vol->geom.dims = {nx, ny, nz};
  vol->geom.spacing = {po.spacingMm, po.spacingMm, 5 * po.spacingMm};
  vol->voxels.assign(ph.volume.voxels.begin() + z0 * nx * ny, ph.volume.voxels.begin() + (z0 + nz) * nx * ny);
  auto truth = std::make_shared<LabelVolume>(ph.truth);
  truth->geom = vol->geom;
  truth->labels.assign(ph.truth.labels.begin() + z0 * nx * ny, ph.truth.labels.begin() + (z0 + nz) * nx * ny);
  return {vol, truth, ph.suggestedLo, ph.suggestedHi};
}

} // namespace

class TestAnisotropic : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void networkShapes_data() {
    QTest::addColumn<QString>("network");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("depth");
    QTest::addColumn<int>("trunkDepth");
    QTest::addColumn<int>("flat");
    // fast3d 15x15x5: kernels 5x5x5, 5x5x1, 5x5x1 -> 3x3x1 x 50 channels.
    QTest::newRow("fast3d 15x15x5") << "fast3d" << 15 << 5 << 1 << 450;
    QTest::newRow("small3d 15x15x5") << "small3d" << 15 << 5 << 1 << 225;
    // local3d 9x9x5: kernels 3x3x3, 3x3x3, 3x3x1 -> 3x3x1 x 25.
    QTest::newRow("local3d 9x9x5") << "local3d" << 9 << 5 << 1 << 225;
    QTest::newRow("local3d 9x9x7") << "local3d" << 9 << 7 << 1 << 225;
    // paper3d 27x27x11: 11 -> 7 -> pooled 3 -> kernel 3 -> 1 -> 1; 27x27x5 pools 1 along z.
    QTest::newRow("paper3d 27x27x11") << "paper3d" << 27 << 11 << 1 << 450;
    QTest::newRow("paper3d 27x27x5") << "paper3d" << 27 << 5 << 1 << 450;
    QTest::newRow("paper3d 27x27x25") << "paper3d" << 27 << 25 << 2 << 900;
    // 27x27x21: 17 -> pooled 8 -> 4 -> kernel 4 -> 1.
    QTest::newRow("paper3d 27x27x21") << "paper3d" << 27 << 21 << 1 << 450;
    // Cubic inputs keep the cubic layers.
    QTest::newRow("fast3d 15^3") << "fast3d" << 15 << 15 << 3 << 1350;
    QTest::newRow("paper3d 27^3") << "paper3d" << 27 << 27 << 3 << 1350;
  }

  void networkShapes() {
    QFETCH(QString, network);
    QFETCH(int, size);
    QFETCH(int, depth);
    QFETCH(int, trunkDepth);
    QFETCH(int, flat);
    const NetworkSpec spec = NetworkSpec::byName(network.toStdString(), size, depth);
    QCOMPARE(spec.depth(), depth);
    QCOMPARE(spec.trunkOutputSize(), 3);
    QCOMPARE(spec.trunkOutputDepth(), trunkDepth);
    QCOMPARE(spec.flatSize(), flat);
    QCOMPARE(spec.spatialVoxels(), size * size * depth);
    torch::manual_seed(1);
    PatchNetwork net(spec);
    net->eval();
    QCOMPARE(int(net->fc->options.in_features()), flat);
    torch::NoGradGuard noGrad;
    const auto x = torch::randn({2, 1, depth, size, size});
    const auto t = net->trunk(x);
    QCOMPARE(t.size(2), int64_t(trunkDepth));
    QCOMPARE(t.size(3), int64_t(3));
    QCOMPARE(t.size(4), int64_t(3));
    const auto y = net->forward(x);
    QCOMPARE(y.size(0), int64_t(2));
    QCOMPARE(y.size(1), int64_t(spec.featureDim));
    // Rows are unit-norm.
    QVERIFY(std::abs(y[0].norm().item<double>() - 1.0) < 1e-5);
  }

  void specJsonKeepsTheDepth() {
    const NetworkSpec thin = NetworkSpec::byName("fast3d", 15, 5);
    QCOMPARE(thin.toJson()["input_depth"].get<int>(), 5);
    const NetworkSpec back = NetworkSpec::fromJson(thin.toJson());
    QCOMPARE(back.depth(), 5);
    QCOMPARE(back.flatSize(), 450);
    // A cube writes no depth (old readers and old files agree), and a description without it is a cube.
    const NetworkSpec cube = NetworkSpec::byName("fast3d", 15, 15);
    QVERIFY(!cube.toJson().contains("input_depth"));
    QCOMPARE(cube.inputDepth, 0);
    auto old = thin.toJson();
    old.erase("input_depth");
    QCOMPARE(NetworkSpec::fromJson(old).depth(), 15);
    QCOMPARE(NetworkSpec::byName("fast3d", 15).depth(), 15);
  }

  void depthFromSpacing_data() {
    QTest::addColumn<int>("patch");
    QTest::addColumn<double>("sz");
    QTest::addColumn<int>("depth");
    QTest::newRow("15 at 10:1") << 15 << 10.0 << 3;
    QTest::newRow("15 at 2:1") << 15 << 2.0 << 7;
    QTest::newRow("15 isotropic") << 15 << 1.0 << 15;
    QTest::newRow("15 at 5:1") << 15 << 5.0 << 3;
    QTest::newRow("27 at 3:1") << 27 << 3.0 << 9;
    QTest::newRow("9 at 4:1 (at least 3)") << 9 << 4.0 << 3;
    QTest::newRow("27 at 1:2 (at most 63)") << 27 << 0.4 << 63;
  }

  void depthFromSpacing() {
    QFETCH(int, patch);
    QFETCH(double, sz);
    QFETCH(int, depth);
    QCOMPARE(PatchSampler::depthForSpacing(patch, {1.0, 1.0, sz}), depth);
    QVERIFY_THROWS_EXCEPTION(InputError, PatchSampler::depthForSpacing(patch, {1.0, 1.0, 0.0}));
  }

  void parameterChecks() {
    Parameters p;
    p.set("network", "fast3d");
    QCOMPARE(p.values().patchDepth, 0);
    QCOMPARE(p.values().patchDepthFromSpacing, false);
    p.set("patch_size", 15);
    p.set("patch_depth", 5);
    p.set("stride", 5);
    p.validate();
    p.set("patch_depth", 4);
    QVERIFY_THROWS_EXCEPTION(InputError, p.validate());
    p.set("patch_depth", 3);
    QVERIFY_THROWS_EXCEPTION(InputError, p.validate());  // stride 5 > depth 3
    p.set("stride", 3);
    p.validate();
    QVERIFY_THROWS_EXCEPTION(InputError, p.set("patch_depth", 65));
    // The presets leave the depth alone.
    for (const char* name : {"paper", "fast", "texture"}) QCOMPARE(Parameters::preset(name).values().patchDepth, 0);
    const auto spec = JuleOptions::fromParameters(p).network;
    QCOMPARE(spec.depth(), 3);
    QCOMPARE(spec.inputSize, 15);
  }

  void samplerCutsThinPatches() {
    Volume v;
    v.geom.dims = {20, 20, 6};
    v.voxels.resize(v.geom.voxelCount());
    for (std::size_t i = 0; i < v.voxels.size(); ++i) v.voxels[i] = float(i);
    PatchSamplerOptions o;
    o.patchSize = 9;
    o.patchDepth = 5;
    o.count = 50;
    o.standardize = false;
    const PatchSet ps = PatchSampler::sample(v, o);
    QCOMPARE(ps.depth(), 5);
    QCOMPARE(ps.patchVoxels(), std::size_t(9 * 9 * 5));
    // 12 x 12 in-plane centres on slices 2..3.
    QCOMPARE(ps.candidates, int64_t(12 * 12 * 2));
    for (int i = 0; i < ps.count; ++i) {
      const auto c = ps.centres[std::size_t(i)];
      QVERIFY(c[2] >= 2 && c[2] <= 3);
      // First voxel: the corner (c - 4, c - 4, c - 2); last: (c + 4, c + 4, c + 2).
      QCOMPARE(ps.patch(i)[0], v.at(c[0] - 4, c[1] - 4, c[2] - 2));
      QCOMPARE(ps.patch(i)[ps.patchVoxels() - 1], v.at(c[0] + 4, c[1] + 4, c[2] + 2));
    }
    o.patchDepth = 7;
    try {
      PatchSampler::sample(v, o);
      QFAIL("a 7-slice patch was sampled from 6 slices");
    } catch (const InputError& e) {
      QCOMPARE(QString(e.what()),
               QString("the volume (20x20x6) has 6 slices along z but the patch needs 7; use --patch-depth 5 or less"));
    }
  }

  void sessionOnAThinPhantom_data() {
    QTest::addColumn<QString>("preset");
    QTest::addColumn<int>("patch");
    QTest::addColumn<bool>("fromSpacing");
    QTest::newRow("fast, 15x15x5") << "fast" << 15 << false;
    QTest::newRow("texture, 9x9x5") << "texture" << 9 << false;
    // 15 * 1 / 5 = 3 slices from the 5:1 spacing.
    QTest::newRow("fast, depth from the spacing") << "fast" << 15 << true;
  }

  void sessionOnAThinPhantom() {
    QFETCH(QString, preset);
    QFETCH(int, patch);
    QFETCH(bool, fromSpacing);
    static const ThinPhantom ph = makeThinPhantom();
    Parameters p = Parameters::preset(preset.toStdString());
    QCOMPARE(p.values().patchSize, patch);
    p.set("patches", 300);
    p.set("clusters", 8);
    p.set("epochs_per_period", 1);
    p.set("device", "cpu");
    p.set("threshold_lo", double(ph.lo));
    p.set("threshold_hi", double(ph.hi));
    if (fromSpacing) {
      p.set("patch_depth_from_spacing", true);
      p.set("stride", 3);
    } else {
      p.set("patch_depth", 5);
    }
    if (preset == "texture") p.set("kmeans_restarts", 1);  // stride 1: 170k points
    SegmentationSession s(p);
    std::vector<std::string> logLines;
    s.setLog([&](const std::string& l) { logLines.push_back(l); });
    SessionInput in;
    in.path = "thin-phantom";
    s.setVolume(ph.volume, in, ph.truth);

    s.train();
    const int depth = fromSpacing ? 3 : 5;
    QCOMPARE(s.model()->spec.depth(), depth);
    QCOMPARE(s.model()->spec.inputSize, patch);
    if (fromSpacing)
      QVERIFY(std::find(logLines.begin(), logLines.end(), "patch depth 3 from the spacing") != logLines.end());
    s.extractFeatures();
    const auto grid = s.features();
    QCOMPARE(grid->extent[0], patch);
    QCOMPARE(grid->extent[2], depth);
    QVERIFY(grid->count() > 100);
    const auto labels = s.paint(3);
    QCOMPARE(labels->geom.dims, ph.volume->geom.dims);
    std::set<int> regions;
    for (uint16_t l : labels->labels)
      if (l) regions.insert(l);
    QCOMPARE(int(regions.size()), 3);
    // Every slice where patch centres can lie holds labels (the d/2 slices at each end are the border no
    // patch covers, as in-plane).
    const int64_t nx = labels->geom.dims[0], ny = labels->geom.dims[1];
    for (int64_t z = depth / 2; z <= labels->geom.dims[2] - 1 - depth / 2; ++z) {
      int64_t labelled = 0;
      for (int64_t i = 0; i < nx * ny; ++i) labelled += labels->labels[std::size_t(z * nx * ny + i)] != 0;
      QVERIFY2(labelled > nx * ny / 10, qPrintable(QString("slice %1 has %2 labelled voxels").arg(z).arg(labelled)));
    }
    const auto nmi = s.labelsNmi();
    QVERIFY(nmi.has_value());
    qInfo("%s depth %d: NMI %.3f, %zu grid points", qPrintable(preset), depth, *nmi, grid->count());
    QVERIFY(*nmi > 0.05);
  }
};

QTEST_GUILESS_MAIN(TestAnisotropic)
#include "test_anisotropic.moc"
