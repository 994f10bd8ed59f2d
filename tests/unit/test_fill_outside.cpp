// fill_outside_window: what the network sees outside the threshold window, by rule. "mean" puts the mean of
// the voxels inside everywhere outside; "nearest" continues each tissue outward from the specimen's edge.
// ctest-links: juleseg_pipeline juleseg_segment juleseg_jule juleseg_io juleseg_base
#include <QtTest>

#include "core/pipeline/SegmentationPipeline.h"

using namespace jseg;

namespace {
// 12 x 10 x 8 background (value 0) with two inside blocks: x 3..5 at 100, x 6..8 at 200 (y 3..6, z 2..5).
Volume twoBlocks() {
  Volume v;
  v.geom.dims = {12, 10, 8};
  v.voxels.assign(v.geom.voxelCount(), 0.f);
  for (int z = 2; z <= 5; ++z)
    for (int y = 3; y <= 6; ++y)
      for (int x = 3; x <= 8; ++x) v.at(x, y, z) = x <= 5 ? 100.f : 200.f;
  return v;
}
} // namespace

class TestFillOutside : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void meanRule() {
    Volume v = twoBlocks();
    Volume f = fillOutsideWindow(v, 50, 1000, "mean");
    QCOMPARE(f.at(0, 0, 0), 150.f);  // mean of 48 voxels at 100 and 48 at 200
    QCOMPARE(f.at(11, 9, 7), 150.f);
    QCOMPARE(f.at(4, 4, 3), 100.f);  // inside untouched
    QCOMPARE(f.at(7, 4, 3), 200.f);
  }

  void nearestRule() {
    Volume v = twoBlocks();
    Volume f = fillOutsideWindow(v, 50, 1000, "nearest");
    // Left of the 100 block and right of the 200 block, along x.
    QCOMPARE(f.at(0, 4, 3), 100.f);
    QCOMPARE(f.at(2, 5, 4), 100.f);
    QCOMPARE(f.at(11, 4, 3), 200.f);
    QCOMPARE(f.at(9, 6, 2), 200.f);
    // Above each block (y beyond 6) the column's own tissue continues.
    QCOMPARE(f.at(4, 9, 3), 100.f);
    QCOMPARE(f.at(7, 9, 3), 200.f);
    // Corners far away still get a tissue value, never the background's 0.
    for (float x : f.voxels) QVERIFY(x == 100.f || x == 200.f);
    // Inside untouched.
    QCOMPARE(f.at(5, 3, 2), 100.f);
    QCOMPARE(f.at(6, 3, 2), 200.f);
  }

  void emptyWindowLeavesVolume() {
    Volume v = twoBlocks();
    Volume f = fillOutsideWindow(v, 5000, 6000, "nearest");
    QCOMPARE(f.voxels, v.voxels);
  }
};

QTEST_GUILESS_MAIN(TestFillOutside)
#include "test_fill_outside.moc"
