// ctest-links: juleseg_io juleseg_base
// ctest-lock: libtorch_cores
// A region of interest (--mask): everything happens inside it. Labels outside are 0 in every output, the NMI
// counts voxels inside only, the baselines stay inside too, and a mask on another grid is refused with exit code 2.
// Also: a volume without background needs no --threshold.
#include <QProcess>
#include <QtTest>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/demo/Phantom.h"
#include "core/io/NiftiIO.h"
#include "core/io/VolumeReader.h"
#include "tests/common/TestData.h"

using namespace jseg;
namespace fs = std::filesystem;

namespace {
using Result = test::ProcessResult;
Result run(const QStringList& args) { return test::runProcess(JULESEG_CLI_PATH, args); }
const QStringList kTiny = {"--preset", "fast", "--patches", "300", "--clusters", "8", "--epochs-per-period", "1",
                           "--device", "cpu", "--seed", "5", "--stride", "2", "-q"};

// Labelled voxels with x >= 20 (outside the mask) and with x < 20.
std::pair<int64_t, int64_t> labelledOutsideInside(const LabelVolume& l) {
  int64_t outside = 0, inside = 0;
  const auto& d = l.geom.dims;
  for (int64_t z = 0; z < d[2]; ++z)
    for (int64_t y = 0; y < d[1]; ++y)
      for (int64_t x = 0; x < d[0]; ++x)
        if (l.labels[l.geom.index(x, y, z)]) (x >= 20 ? outside : inside)++;
  return {outside, inside};
}
} // namespace

class TestCliMask : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void everythingStaysInsideTheMask() {
    const std::string dir = test::tempDir("cli-mask");
    PhantomOptions po;
    po.size = 40;
    const Phantom ph = makeDemoPhantom(po);
    NiftiIO::write(ph.volume, dir + "/phantom.nii.gz");
    NiftiIO::writeLabels(ph.truth, dir + "/truth.nii.gz");
    LabelVolume mask = makeLabelVolume(ph.volume.geom);
    for (int64_t z = 0; z < 40; ++z)
      for (int64_t y = 0; y < 40; ++y)
        for (int64_t x = 0; x < 20; ++x) mask.labels[mask.geom.index(x, y, z)] = 7;  // any non-zero is inside
    NiftiIO::writeLabels(mask, dir + "/mask.nii.gz");
    const QString d = QString::fromStdString(dir);

    const Result r = run(QStringList{"run", d + "/phantom.nii.gz", "--threshold", "3000:65535", "--mask", d + "/mask.nii.gz",
                                     "--truth", d + "/truth.nii.gz", "--no-untrained", "-o", d + "/out"} + kTiny);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    for (const char* f : {"labels.nii.gz", "labels.tif"}) {
      const auto [outside, inside] = labelledOutsideInside(readLabelVolume(dir + "/out/" + f));
      QCOMPARE(outside, int64_t(0));
      QVERIFY2(inside > 5000, f);
    }
    // The NMI of run.json counts voxels inside the mask only, as `eval --mask` does.
    const auto record = nlohmann::json::parse(test::readFileBytes(dir + "/out/run.json"));
    const double jule = record["nmi"]["jule"].get<double>();
    QVERIFY(jule > 0 && jule <= 1);
    QCOMPARE(record["mask"].get<std::string>(), dir + "/mask.nii.gz");
    const Result e = run(QStringList{"eval", d + "/out/labels.nii.gz", d + "/truth.nii.gz", "--mask", d + "/mask.nii.gz"});
    QVERIFY2(e.exitCode == 0, qPrintable(e.err));
    QVERIFY2(e.out.contains(QString("NMI %1").arg(jule, 0, 'f', 4)), qPrintable(e.out));

    // Baselines inside the mask only.
    const Result b = run(QStringList{"baseline", d + "/phantom.nii.gz", "--threshold", "3000:65535", "--mask",
                                     d + "/mask.nii.gz", "-o", d + "/base"});
    QVERIFY2(b.exitCode == 0, qPrintable(b.err));
    for (const char* f : {"/base_kmeans.nii.gz", "/base_otsu.nii.gz"}) {
      const auto [outside, inside] = labelledOutsideInside(NiftiIO::readLabels(dir + f));
      QCOMPARE(outside, int64_t(0));
      QVERIFY(inside > 5000);
    }
  }

  void maskOnAnotherGridIsRefused() {
    const std::string dir = test::tempDir("cli-mask-grid");
    PhantomOptions po;
    po.size = 40;
    NiftiIO::write(makeDemoPhantom(po).volume, dir + "/phantom.nii.gz");
    po.size = 32;
    NiftiIO::writeLabels(makeDemoPhantom(po).truth, dir + "/small.nii.gz");
    const QString d = QString::fromStdString(dir);
    for (const QStringList& args :
         {QStringList{"run", d + "/phantom.nii.gz", "--mask", d + "/small.nii.gz", "-o", d + "/out"} + kTiny,
          QStringList{"train", d + "/phantom.nii.gz", "--mask", d + "/small.nii.gz", "-o", d + "/m.pt"},
          QStringList{"baseline", d + "/phantom.nii.gz", "--mask", d + "/small.nii.gz"}}) {
      const Result r = run(args);
      QCOMPARE(r.exitCode, 2);
      QVERIFY2(r.err.contains("is not on the grid of the volume (40×40×40)"), qPrintable(r.err));
    }
    QVERIFY(!fs::exists(dir + "/out"));  // refused before any output folder appears
  }

  void noBackgroundNeedsNoThreshold() {
    const std::string dir = test::tempDir("cli-no-background");
    PhantomOptions po;
    po.size = 32;
    NiftiIO::write(makeDemoPhantom(po).volume, dir + "/phantom.nii.gz");
    const QString d = QString::fromStdString(dir);
    const Result r = run(QStringList{"run", d + "/phantom.nii.gz", "--no-overlays", "-o", d + "/out"} + kTiny);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    // Every voxel is specimen: every voxel gets a label, the phantom's background too.
    const LabelVolume l = NiftiIO::readLabels(dir + "/out/labels.nii.gz");
    int64_t unlabelled = 0;
    for (auto v : l.labels) unlabelled += v == 0;
    QCOMPARE(unlabelled, int64_t(0));
  }
};

QTEST_GUILESS_MAIN(TestCliMask)
#include "test_cli_mask.moc"
