// ctest-links: juleseg_segment juleseg_io juleseg_base
// PottsSmoothing (parameter potts_weight): on a noisy two-region grid it removes most mislabelled points, leaves
// clean labels alone, does not depend on how the labels are numbered, treats unlabelled voxels as absent, refuses
// bad input, and on a real brain (mni152) cleans intensity k-means' labels towards the expert's.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/base/Errors.h"
#include "core/eval/IntensityBaselines.h"
#include "core/eval/Nmi.h"
#include "core/io/NiftiIO.h"
#include "core/segment/FeatureGrid.h"
#include "core/segment/PottsSmoothing.h"
#include "tests/common/TestData.h"

using namespace jseg;

namespace {

constexpr int kNx = 24, kNy = 20, kNz = 4;

// One-voxel patches: every voxel is a grid point at stride 1. The truth is the half x < kNx / 2 (0) against
// the rest (1); the one feature is the region's level (0 or 1) plus Gaussian noise of deviation `noise`.
struct NoisyGrid {
  FeatureGrid grid;
  std::vector<int32_t> truth, nearest;  // the truth, and each point's nearer level (what k-means gives)
};

NoisyGrid noisyGrid(double noise, uint32_t seed) {
  Volume v;
  v.geom.dims = {kNx, kNy, kNz};
  v.voxels.assign(v.geom.voxelCount(), 1.f);
  NoisyGrid g{FeatureGrid::layout(v, {1, 1, 1}, 1, 0, 2), {}, {}};
  g.grid.dim = 1;
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.f, float(noise));
  for (std::size_t i = 0; i < g.grid.count(); ++i) {
    const int32_t t = g.grid.centres[i][0] < kNx / 2 ? 0 : 1;
    const float f = float(t) + gauss(rng);
    g.grid.features.push_back(f);
    g.truth.push_back(t);
    g.nearest.push_back(f < 0.5f ? 0 : 1);
  }
  return g;
}

int errors(const std::vector<int32_t>& labels, const std::vector<int32_t>& truth) {
  int e = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) e += labels[i] != truth[i];
  return e;
}

} // namespace

class TestPottsSmoothing : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void offChangesNothing() {
    NoisyGrid g = noisyGrid(0.3, 1);
    std::vector<int32_t> labels = g.nearest;
    const PottsResult r = PottsSmoothing(0.0).apply(g.grid, labels, 2);
    QVERIFY(!PottsSmoothing(0.0).active());
    QCOMPARE(r.sweeps, 0);
    QCOMPARE(r.changed, std::size_t(0));
    QVERIFY(labels == g.nearest);
  }

  void removesMostMislabelledPoints() {
    NoisyGrid g = noisyGrid(0.3, 2);
    std::vector<int32_t> labels = g.nearest;
    const int before = errors(labels, g.truth);
    const PottsResult r = PottsSmoothing(1.0).apply(g.grid, labels, 2);
    const int after = errors(labels, g.truth);
    qInfo("noise 0.3: %d -> %d of %zu points mislabelled, %zu changed in %d sweeps", before, after, labels.size(),
          r.changed, r.sweeps);
    // About 5 % of the points lie past the midpoint (z > 1.67); nearly all of them sit among neighbours of the
    // right label and only a little closer to the wrong centre.
    QVERIFY(before > 60);
    QVERIFY(after * 10 < before);
    QCOMPARE(r.changed, std::size_t(errors(labels, g.nearest)));
    QVERIFY(r.sweeps >= 1 && r.sweeps <= 10);
    // A weaker weight cleans less, never more.
    std::vector<int32_t> weak = g.nearest;
    PottsSmoothing(0.1).apply(g.grid, weak, 2);
    QVERIFY(errors(weak, g.truth) >= after);
    QVERIFY(errors(weak, g.truth) < before);
  }

  void cleanLabelsStay() {
    // Little noise, every point on its region's side: nothing to clean.
    NoisyGrid g = noisyGrid(0.05, 3);
    QCOMPARE(errors(g.nearest, g.truth), 0);
    std::vector<int32_t> labels = g.nearest;
    const PottsResult r = PottsSmoothing(2.0).apply(g.grid, labels, 2);
    QCOMPARE(r.changed, std::size_t(0));
    QCOMPARE(r.sweeps, 1);
  }

  void independentOfLabelNumbering() {
    NoisyGrid g = noisyGrid(0.35, 4);
    std::vector<int32_t> a = g.nearest, b = g.nearest;
    for (auto& l : b) l = 1 - l;
    PottsSmoothing(0.7).apply(g.grid, a, 2);
    PottsSmoothing(0.7).apply(g.grid, b, 2);
    for (std::size_t i = 0; i < a.size(); ++i) QCOMPARE(b[i], 1 - a[i]);
  }

  void labelVolumeLeavesUnlabelledVoxelsAlone() {
    // A 9 x 9 x 3 volume: label 1 (intensity 10) with one voxel labelled 2 whose intensity 14 is nearer label 1's
    // level than label 2's (20, the right third); the left column unlabelled.
    Volume v;
    v.geom.dims = {9, 9, 3};
    v.voxels.assign(v.geom.voxelCount(), 10.f);
    LabelVolume l;
    l.geom = v.geom;
    l.labels.assign(v.geom.voxelCount(), 1);
    for (int z = 0; z < 3; ++z)
      for (int y = 0; y < 9; ++y) {
        l.labels[v.geom.index(0, y, z)] = 0;
        for (int x = 6; x < 9; ++x) {
          l.labels[v.geom.index(x, y, z)] = 2;
          v.voxels[v.geom.index(x, y, z)] = 20.f;
        }
      }
    l.labels[v.geom.index(3, 4, 1)] = 2;
    v.voxels[v.geom.index(3, 4, 1)] = 14.f;
    // Its right neighbour at x = 4 is label 1 too; unlabelled voxels keep 0 and count as no neighbour.
    const PottsResult r = PottsSmoothing(1.0).apply(l, {&v}, 2);
    QCOMPARE(int(l.labels[v.geom.index(3, 4, 1)]), 1);
    QCOMPARE(r.changed, std::size_t(1));
    for (int z = 0; z < 3; ++z)
      for (int y = 0; y < 9; ++y) {
        QCOMPARE(int(l.labels[v.geom.index(0, y, z)]), 0);
        QCOMPARE(int(l.labels[v.geom.index(7, y, z)]), 2);
      }
  }

  void refusesBadInput() {
    QVERIFY_THROWS_EXCEPTION(InputError, PottsSmoothing(-1.0));
    QVERIFY_THROWS_EXCEPTION(InputError, PottsSmoothing(std::nan("")));
    NoisyGrid g = noisyGrid(0.3, 5);
    std::vector<int32_t> labels = g.nearest;
    labels[3] = 2;  // K = 2 has labels 0 and 1 only
    QVERIFY_THROWS_EXCEPTION(InputError, PottsSmoothing(1.0).apply(g.grid, labels, 2));
    std::vector<int32_t> shorter(g.nearest.begin(), g.nearest.end() - 1);
    QVERIFY_THROWS_EXCEPTION(InputError, PottsSmoothing(1.0).apply(g.grid, shorter, 2));
  }

  void cleansIntensityKMeansOnABrain() {
    JSEG_REQUIRE_DATA("mni152/t1.nii.gz");
    const Volume v = NiftiIO::read(test::sharedData("mni152/t1.nii.gz"));
    const LabelVolume truth = NiftiIO::readLabels(test::sharedData("mni152/labels.nii.gz"));
    LabelVolume labels = intensityKMeans(v, 1, 255, 3, 1).labels;
    const double before = scoreSegmentation(labels, truth).nmi;
    const PottsResult r = PottsSmoothing(1.0).apply(labels, {&v}, 3);
    const double after = scoreSegmentation(labels, truth).nmi;
    qInfo("mni152 intensity k-means: NMI %.4f -> %.4f with Potts weight 1 (%zu voxels changed, %d sweeps)", before,
          after, r.changed, r.sweeps);
    QVERIFY(r.changed > 1000);
    QVERIFY(after > before + 0.01);  // measured +0.018
  }
};

QTEST_GUILESS_MAIN(TestPottsSmoothing)
#include "test_potts_smoothing.moc"
