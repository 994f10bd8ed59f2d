// ctest-links: juleseg_segment juleseg_base
// LabelProjector and FeatureGrid layout on hand-made grids: which voxels each grid point paints, the mask,
// label order by intensity, the fill of uncovered border voxels, and a region of interest.
#include <QtTest>

#include <memory>
#include <vector>

#include "core/base/Errors.h"
#include "core/segment/FeatureGrid.h"
#include "core/segment/LabelProjector.h"

using namespace jseg;

namespace {

Volume makeVolume(int nx, int ny, int nz) {
  Volume v;
  v.geom.dims = {nx, ny, nz};
  v.voxels.assign(v.geom.voxelCount(), 0.0f);
  return v;
}

// Cluster of each grid point from a rule on its centre.
template <class Rule>
std::vector<int32_t> clustersBy(const FeatureGrid& g, Rule rule) {
  std::vector<int32_t> c(g.count());
  for (std::size_t i = 0; i < g.count(); ++i) c[i] = rule(g.centres[i]);
  return c;
}

uint16_t at(const Projection& p, int x, int y, int z) { return p.labels.labels[p.labels.geom.index(x, y, z)]; }

} // namespace

class TestProjection : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void layoutFollowsTheRule() {
    Volume v = makeVolume(20, 21, 22);
    for (auto& x : v.voxels) x = 100;
    FeatureGrid g = FeatureGrid::layout(v, {5, 5, 5}, 5, 50, 1000);
    QCOMPARE(g.latticeDims[0], int64_t(4));  // centres 2, 7, 12, 17 (corner 15 + 5 = 20 fits)
    QCOMPARE(g.latticeDims[1], int64_t(4));  // 21: a 22nd voxel would be needed for a 5th
    QCOMPARE(g.latticeDims[2], int64_t(4));
    QCOMPARE(g.firstCentre[0], int64_t(2));
    QCOMPARE(int(g.count()), 64);
    QCOMPARE(g.centres[1][0], 7);
    QCOMPARE(g.centres[4][1], 7);
    QCOMPARE(g.centres[16][2], 7);
    // Region: only centres inside it.
    GridRegion r;
    r.begin = {5, 0, 0};
    r.end = {13, 21, 8};
    FeatureGrid gr = FeatureGrid::layout(v, {5, 5, 5}, 5, 50, 1000, r);
    QCOMPARE(int(gr.count()), 2 * 4 * 2);
    QVERIFY_THROWS_EXCEPTION(InputError, FeatureGrid::layout(v, {27, 27, 27}, 5, 50, 1000));
  }

  void paintsOddBlocksWithMaskAndOrder() {
    Volume v = makeVolume(20, 20, 20);
    for (int z = 0; z < 20; ++z)
      for (int y = 0; y < 20; ++y)
        for (int x = 0; x < 20; ++x) v.at(x, y, z) = 100.0f + x;  // brighter to the right
    v.at(3, 3, 3) = 0;        // outside the window [50, 1000]: stays 0 inside a painted block
    v.at(7, 12, 17) = 0;      // a grid centre outside the window: its block is not painted
    FeatureGrid g = FeatureGrid::layout(v, {5, 5, 5}, 5, 50, 1000);
    QCOMPARE(int(g.count()), 63);
    // Cluster 0 = right half (bright), cluster 1 = left half (dark).
    auto c = clustersBy(g, [](const std::array<int32_t, 3>& p) { return p[0] < 10 ? 1 : 0; });
    Projection p = LabelProjector().project(g, c.data(), 2, v);
    // Renumbered by intensity: the dark cluster 1 becomes label 1.
    QCOMPARE(p.clusterToLabel[1], 1);
    QCOMPARE(p.clusterToLabel[0], 2);
    QCOMPARE(int(at(p, 0, 0, 0)), 1);
    QCOMPARE(int(at(p, 9, 19, 19)), 1);
    QCOMPARE(int(at(p, 10, 0, 0)), 2);
    QCOMPARE(int(at(p, 19, 19, 19)), 2);
    QCOMPARE(int(at(p, 3, 3, 3)), 0);    // outside the mask
    QCOMPARE(int(at(p, 2, 3, 3)), 1);    // its neighbour is painted
    QCOMPARE(int(at(p, 6, 11, 16)), 0);  // block of the uncomputed point (5..9, 10..14, 15..19)
    QCOMPARE(int(at(p, 5, 10, 15)), 0);
    QCOMPARE(int(at(p, 9, 14, 19)), 0);
    QCOMPARE(int(at(p, 4, 10, 15)), 1);  // the block beside it is painted
    QVERIFY(p.labelMeanIntensity[0] < p.labelMeanIntensity[1]);
    QCOMPARE(p.labelVoxels[0], int64_t(10 * 20 * 20 - 1 - 125));
    // Swapping cluster ids gives the same label volume: colours are stable between runs.
    for (auto& x : c) x = 1 - x;
    Projection q = LabelProjector().project(g, c.data(), 2, v);
    QVERIFY(q.labels.labels == p.labels.labels);
  }

  void evenStrideBlocksAndUncoveredFill() {
    Volume v = makeVolume(20, 12, 12);
    for (auto& x : v.voxels) x = 1;
    // Extent 3, stride 2: centres 1, 3, ..., 17 in x; blocks [c-1, c]; voxels 18, 19 are uncovered.
    FeatureGrid g = FeatureGrid::layout(v, {3, 3, 3}, 2, 0.5f, 2.0f);
    QCOMPARE(g.latticeDims[0], int64_t(9));
    QCOMPARE(g.firstCentre[0], int64_t(1));
    // Cluster = lattice index in x modulo 3, so neighbouring blocks differ.
    auto c = clustersBy(g, [](const std::array<int32_t, 3>& p) { return ((p[0] - 1) / 2) % 3; });
    Projection p = LabelProjector().project(g, c.data(), 3, v);
    QCOMPARE(int(at(p, 0, 5, 5)), 1);   // block of centre 1 (i = 0) covers x = 0, 1
    QCOMPARE(int(at(p, 1, 5, 5)), 1);
    QCOMPARE(int(at(p, 2, 5, 5)), 2);   // centre 3 (i = 1) covers x = 2, 3
    QCOMPARE(int(at(p, 3, 5, 5)), 2);
    QCOMPARE(int(at(p, 4, 5, 5)), 3);
    QCOMPARE(int(at(p, 17, 5, 5)), 3);  // centre 17: i = 8, cluster 2
    QCOMPARE(int(at(p, 18, 5, 5)), 0);  // beyond the last block
    QCOMPARE(int(at(p, 19, 5, 5)), 0);
    QCOMPARE(int(at(p, 5, 11, 5)), 0);  // y: centres 1..9, last block ends at 9
    // Fill: nearest computed grid point's label.
    Projection f = LabelProjector(ProjectionOptions{true}).project(g, c.data(), 3, v);
    QCOMPARE(int(at(f, 19, 5, 5)), 3);  // nearest centre x = 17
    QCOMPARE(int(at(f, 18, 5, 5)), 3);
    QCOMPARE(int(at(f, 5, 11, 11)), 3); // nearest centre x = 5 (i = 2, cluster 2)
    QCOMPARE(int(at(f, 2, 5, 5)), 2);   // covered voxels unchanged
  }

  void strideOneLabelsEveryCentre() {
    Volume v = makeVolume(9, 9, 9);
    for (int z = 0; z < 9; ++z)
      for (int y = 0; y < 9; ++y)
        for (int x = 0; x < 9; ++x) v.at(x, y, z) = float(x + y + z);
    FeatureGrid g = FeatureGrid::layout(v, {3, 3, 3}, 1, 0, 100);
    QCOMPARE(int(g.count()), 7 * 7 * 7);
    // Three clusters by the centre's value: labels follow the intensity order, voxel by voxel.
    auto c = clustersBy(g, [&](const std::array<int32_t, 3>& p) {
      int s = p[0] + p[1] + p[2];
      return s < 9 ? 2 : (s < 15 ? 0 : 1);
    });
    Projection p = LabelProjector().project(g, c.data(), 3, v);
    QCOMPARE(int(at(p, 1, 1, 1)), 1);
    QCOMPARE(int(at(p, 4, 4, 4)), 2);
    QCOMPARE(int(at(p, 7, 7, 7)), 3);
    QCOMPARE(int(at(p, 0, 4, 4)), 0);  // border: no patch centred there
    QCOMPARE(int(at(p, 8, 4, 4)), 0);
    QCOMPARE(p.labels.maxLabel(), 3);
  }

  void regionOfInterest() {
    Volume v = makeVolume(20, 12, 12);
    for (auto& x : v.voxels) x = 1;
    v.at(6, 5, 5) = 5;  // outside the window [0.5, 2], inside the roi: keeps behaving as without a roi
    auto roi = std::make_shared<Mask>();  // x < 9
    roi->geom = v.geom;
    roi->inside.assign(v.geom.voxelCount(), 0);
    for (int z = 0; z < 12; ++z)
      for (int y = 0; y < 12; ++y)
        for (int x = 0; x < 9; ++x) roi->inside[v.geom.index(x, y, z)] = 1;
    // Extent 3, stride 2: centres 1, 3, ..., 17 in x and 1, ..., 9 in y and z; the roi keeps x = 1, 3, 5, 7.
    FeatureGrid g = FeatureGrid::layout(v, {3, 3, 3}, 2, 0.5f, 2.0f, GridRegion{}, roi);
    FeatureGrid full = FeatureGrid::layout(v, {3, 3, 3}, 2, 0.5f, 2.0f);
    QCOMPARE(int(full.count()), 9 * 5 * 5);
    QCOMPARE(int(g.count()), 4 * 5 * 5);
    QVERIFY(g.roi == roi);
    QVERIFY(!full.roi);
    for (const auto& c : g.centres) QVERIFY(c[0] <= 7 && g.inRegion(c[0], c[1], c[2]));
    QVERIFY(g.inRegion(8, 0, 0) && !g.inRegion(9, 0, 0) && !g.inRegion(v.geom.index(9, 0, 0)));
    QVERIFY(full.inRegion(19, 11, 11));
    std::vector<int32_t> c(g.count(), 0);
    for (std::size_t i = 0; i < g.count(); ++i) c[i] = g.centres[i][0] < 4 ? 0 : 1;
    for (bool fill : {false, true}) {
      Projection p = LabelProjector(ProjectionOptions{fill}).project(g, c.data(), 2, v);
      QCOMPARE(int(at(p, 0, 1, 1)), 1);
      QCOMPARE(int(at(p, 7, 1, 1)), 2);   // the block of centre 7 spans x = 6, 7
      QCOMPARE(int(at(p, 6, 5, 5)), 0);   // outside the window
      QCOMPARE(int(at(p, 8, 1, 1)), 0);   // in the roi, but the block of centre 9, which the roi excluded
      QCOMPARE(int(at(p, 10, 1, 1)), 0);
      // y = 11 is covered by no block (the last one ends at y = 9): in the roi it is filled from the nearest
      // computed point (5, 9, 5), label 2, when asked; outside the roi never, though points are near.
      QCOMPARE(int(at(p, 5, 11, 5)), fill ? 2 : 0);
      QCOMPARE(int(at(p, 9, 11, 5)), 0);
      QCOMPARE(int(at(p, 19, 5, 5)), 0);
      int64_t outside = 0;
      for (std::size_t i = 0; i < p.labels.labels.size(); ++i) outside += !roi->inside[i] && p.labels.labels[i] != 0;
      QCOMPARE(outside, int64_t(0));
      // Painted: the blocks x 0..7, y and z 0..9 less the voxel outside the window; filled: the roi's voxels
      // (x 0..8) with y or z beyond 9.
      const int64_t painted = 8 * 10 * 10 - 1, filled = 9 * (12 * 12 - 10 * 10);
      QCOMPARE(p.labelVoxels[0] + p.labelVoxels[1], fill ? painted + filled : painted);
    }
    // Without the roi the same voxels are painted and filled.
    std::vector<int32_t> cf(full.count(), 0);
    Projection pf = LabelProjector(ProjectionOptions{true}).project(full, cf.data(), 1, v);
    QCOMPARE(int(at(pf, 8, 1, 1)), 1);
    QCOMPARE(int(at(pf, 9, 11, 5)), 1);
    QCOMPARE(int(at(pf, 19, 5, 5)), 1);
    // A roi of other dims is refused, naming both dims.
    auto wrong = std::make_shared<Mask>();
    wrong->geom.dims = {20, 12, 11};
    wrong->inside.assign(wrong->geom.voxelCount(), 1);
    try {
      FeatureGrid::layout(v, {3, 3, 3}, 2, 0.5f, 2.0f, GridRegion{}, wrong);
      QFAIL("expected InputError");
    } catch (const InputError& e) {
      QVERIFY2(QString(e.what()).contains("20x12x11") && QString(e.what()).contains("20x12x12"), e.what());
    }
  }

  void rejectsMismatches() {
    Volume v = makeVolume(10, 10, 10);
    FeatureGrid g = FeatureGrid::layout(v, {3, 3, 3}, 3, -1, 1);
    std::vector<int32_t> c(g.count(), 5);
    QVERIFY_THROWS_EXCEPTION(InputError, LabelProjector().project(g, c.data(), 3, v));
    Volume w = makeVolume(11, 10, 10);
    std::vector<int32_t> ok(g.count(), 0);
    QVERIFY_THROWS_EXCEPTION(InputError, LabelProjector().project(g, ok.data(), 3, w));
  }
};

QTEST_GUILESS_MAIN(TestProjection)
#include "test_projection.moc"
