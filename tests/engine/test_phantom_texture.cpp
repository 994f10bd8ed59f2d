// ctest-links: juleseg_pipeline juleseg_eval juleseg_segment juleseg_jule juleseg_io juleseg_base
// ctest-labels: slow
// ctest-lock: libtorch_cores
// Issue 3's phantom check, end to end through the pipeline the CLI runs: with the `texture` preset (local3d
// on 9³ patches, three networks side by side, stride 1, features whitened to 16 components and smoothed over 8
// voxels, 10 epochs a period) JULE separates the two high-mean tissues that intensity k-means merges. Seeds 1-3 gave
// NMI 0.893 / 0.887 / 0.889 (Intel Xeon; 5 epochs a period on an AMD EPYC: 0.905 / 0.879 / 0.908) against intensity
// k-means 0.614 (bench_quality --cases phantom); untrained networks
// finished the same way 0.813 / 0.844 / 0.851. Smoothed over 3 voxels (the preset before): 0.916 / 0.883 / 0.925,
// untrained 0.72-0.76. The bound below is +0.15: one seed, and another CPU's float order takes LibTorch's training
// down a slightly different path. The baselines that isolate the learning (untrained networks, and intensities
// smoothed exactly as the features are) must stay below: the untrained networks by 0.05 (measured +0.09, seed 1).
#include <QtTest>

#include <map>

#include "core/pipeline/SegmentationSession.h"
#include "tests/common/TestData.h"

using namespace jseg;

class TestPhantomTexture : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void juleSeparatesWhatIntensityMerges() {
    Parameters p = Parameters::preset("texture");
    p.set("device", "cpu");
    p.set("seed", 1);
    SegmentationSession session(p);
    session.openDemo();
    session.train();
    session.extractFeatures();
    session.paint(3);
    std::map<std::string, double> nmi;
    for (const auto& s : session.score()) nmi[s.method] = s.nmi;
    qInfo("JULE %.4f, intensity k-means %.4f, multi-Otsu %.4f, smoothed intensity k-means %.4f, untrained %.4f",
          nmi["jule"], nmi["intensity_kmeans"], nmi["multi_otsu"], nmi["smoothed_intensity_kmeans"],
          nmi["untrained_network"]);
    QCOMPARE(int(nmi.count("smoothed_intensity_kmeans")), 1);
    QVERIFY(nmi["intensity_kmeans"] > 0.55 && nmi["intensity_kmeans"] < 0.67);  // the merge: about 0.61
    QVERIFY(nmi["jule"] >= nmi["intensity_kmeans"] + 0.15);
    QVERIFY(nmi["jule"] >= nmi["smoothed_intensity_kmeans"] + 0.15);
    QVERIFY(nmi["jule"] >= nmi["untrained_network"] + 0.05);
    QCOMPARE(session.parameters().getInt("feature_smoothing"), 8);
  }
};

QTEST_GUILESS_MAIN(TestPhantomTexture)
#include "test_phantom_texture.moc"
