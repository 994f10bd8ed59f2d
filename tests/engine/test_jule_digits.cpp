// ctest-links: juleseg_jule juleseg_io juleseg_base
// ctest-labels: slow
// JULE on the 1,797 scikit-learn digits (8x8, one per TIFF page) with the defaults of
// `juleseg-cli cluster-images`: the learned clustering must beat intensity k-means (NMI 0.75) clearly.
#include <QtTest>

#include <fstream>

#include "core/eval/Nmi.h"
#include "core/io/TiffStackReader.h"
#include "core/jule/JuleTrainer.h"
#include "core/jule/PatchSampler.h"
#include "core/params/ParameterSchema.h"
#include "tests/common/TestData.h"

using namespace jseg;

class TestJuleDigits : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void digitsNmi() {
    JSEG_REQUIRE_DATA("digits/digits.tif");
    Volume v = TiffStackReader::read(jseg::test::sharedData("digits/digits.tif"));
    QCOMPARE(v.dims()[0], int64_t(8));
    const int n = int(v.dims()[2]);
    QCOMPARE(n, 1797);
    std::vector<int> truth;
    std::ifstream f(jseg::test::sharedData("digits/labels.txt"));
    for (int l; f >> l;) truth.push_back(l);
    QCOMPARE(int(truth.size()), n);

    std::vector<float> samples = v.voxels;
    auto ms = PatchSampler::meanStd(samples);
    PatchSampler::standardizeInPlace(samples, ms[0], ms[1]);
    JuleOptions o = JuleOptions::fromParameters(Parameters());
    o.network = NetworkSpec::byName("image2d", 8);
    o.clusters = 10;
    JuleTrainer t(o);
    JuleResult r = t.run(samples.data(), n);
    double score = nmi(truth, r.labels);
    qInfo("digits: %d epochs, %.1f s, NMI %.4f (at stop %.4f)", r.epochs, r.seconds, score, nmi(truth, r.labelsAtStop));
    QCOMPARE(*std::max_element(r.labels.begin(), r.labels.end()) + 1, 10);
    QVERIFY(score >= 0.85);
  }
};

QTEST_GUILESS_MAIN(TestJuleDigits)
#include "test_jule_digits.moc"
