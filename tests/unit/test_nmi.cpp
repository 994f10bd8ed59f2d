// ctest-links: juleseg_base
#include <QtTest>
#include <cmath>

#include "core/base/Errors.h"
#include "core/eval/Nmi.h"
#include "tests/common/TestData.h"

using namespace jseg;

class TestNmi : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void identicalPartitionsScoreOne() {
    std::vector<int> a{1, 1, 2, 2, 3, 3};
    std::vector<int> b{7, 7, 5, 5, 9, 9};  // same partition, other names
    QCOMPARE(nmi(a, b), 1.0);
  }
  void independentPartitionsScoreZero() {
    std::vector<int> a{1, 1, 2, 2};
    std::vector<int> b{1, 2, 1, 2};
    QVERIFY(std::fabs(nmi(a, b)) < 1e-12);
  }
  void handComputedValue() {
    // truth {A,A,A,B,B,B}, pred {1,1,2,2,2,2}: counts A1=2 A2=1 B2=3.
    std::vector<int> t{0, 0, 0, 1, 1, 1}, p{1, 1, 2, 2, 2, 2};
    const double n = 6;
    double ht = std::log(2.0);
    double hp = -(2 / n) * std::log(2 / n) - (4 / n) * std::log(4 / n);
    double mi = (2 / n) * std::log((2 / n) / ((3 / n) * (2 / n))) + (1 / n) * std::log((1 / n) / ((3 / n) * (4 / n))) +
                (3 / n) * std::log((3 / n) / ((3 / n) * (4 / n)));
    QVERIFY(std::fabs(nmi(t, p) - mi / std::sqrt(ht * hp)) < 1e-12);
    auto table = contingencyTable(t, p);
    QCOMPARE(table.counts[0][0], int64_t(2));
    QCOMPARE(table.counts[0][1], int64_t(1));
    QCOMPARE(table.counts[1][0], int64_t(0));
    QCOMPARE(table.counts[1][1], int64_t(3));
  }
  void volumeScoreUsesTruthPositiveVoxelsAndSlices() {
    Geometry g;
    g.dims = {4, 1, 2};
    LabelVolume truth = makeLabelVolume(g), pred = makeLabelVolume(g);
    truth.labels = {0, 1, 1, 2, /*z=1*/ 1, 1, 2, 2};
    pred.labels = {5, 1, 1, 2, /*z=1*/ 1, 2, 2, 2};
    auto all = scoreSegmentation(pred, truth);
    QCOMPARE(all.voxels, int64_t(7));  // the truth-0 voxel is ignored
    QVERIFY(all.nmi < 1.0);
    EvaluationRegion firstSlice;
    firstSlice.slices = {0};
    auto s0 = scoreSegmentation(pred, truth, firstSlice);
    QCOMPARE(s0.voxels, int64_t(3));
    QCOMPARE(s0.nmi, 1.0);
    EvaluationRegion bad;
    bad.slices = {5};
    QVERIFY_THROWS_EXCEPTION(InputError, scoreSegmentation(pred, truth, bad));
    LabelVolume other = makeLabelVolume(Geometry{});
    QVERIFY_THROWS_EXCEPTION(InputError, scoreSegmentation(other, truth));
  }
};

QTEST_GUILESS_MAIN(TestNmi)
#include "test_nmi.moc"
