// ctest-links: juleseg_io juleseg_base
// Bad inputs on the command line: each gives exit code 2 and one clear "error:" line naming the problem,
// never a crash or a hang.
#include <QProcess>
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "core/io/TiffStackReader.h"
#include "tests/common/TestData.h"

namespace fs = std::filesystem;

namespace {
struct CliResult {
  int exitCode = -1;
  QProcess::ExitStatus status = QProcess::CrashExit;
  QString out, err;
};

CliResult runCli(const QStringList& args) {
  QProcess p;
  p.start(JULESEG_CLI_PATH, args);
  CliResult r;
  if (!p.waitForFinished(120000)) {
    p.kill();
    p.waitForFinished();
    r.err = "timeout";
    return r;
  }
  r.exitCode = p.exitCode();
  r.status = p.exitStatus();
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

void truncateCopy(const std::string& from, const std::string& to, double fraction) {
  std::ifstream in(from, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream out(to, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() * fraction));
}
} // namespace

class TestCliErrors : public QObject {
  Q_OBJECT

  // Exit code 2, exactly one error line, containing `phrase`.
  void expectInputError(const QStringList& args, const QString& phrase) {
    CliResult r = runCli(args);
    QCOMPARE(r.status, QProcess::NormalExit);
    QVERIFY2(r.exitCode == 2, qPrintable(QString("exit %1, stderr: %2").arg(r.exitCode).arg(r.err)));
    const QStringList errorLines = r.err.split('\n').filter("error");
    QVERIFY2(errorLines.size() == 1, qPrintable(r.err));
    QVERIFY2(errorLines[0].startsWith("juleseg-cli: error: "), qPrintable(errorLines[0]));
    QVERIFY2(errorLines[0].contains(phrase, Qt::CaseInsensitive),
             qPrintable(QString("'%1' not in: %2").arg(phrase, errorLines[0])));
  }

private Q_SLOTS:
  void truncatedTiff() {
    JSEG_REQUIRE_DATA("mni152/t1.tif");
    std::string dir = jseg::test::tempDir("cli-trunc");
    truncateCopy(jseg::test::sharedData("mni152/t1.tif"), dir + "/cut.tif", 0.5);
    expectInputError({"info", QString::fromStdString(dir + "/cut.tif")}, "truncated");
  }
  void tiffPagesOfDifferentSizes() {
    std::string dir = jseg::test::tempDir("cli-mixed");
    jseg::Volume a = jseg::test::rampVolume(10, 10, 1), b = jseg::test::rampVolume(12, 10, 1);
    jseg::writeTiffVolume(a, dir + "/1.tif");
    jseg::writeTiffVolume(b, dir + "/2.tif");
    expectInputError({"info", QString::fromStdString(dir)}, "12x10");
  }
  void twoDicomSeriesWithoutChoice() {
    JSEG_REQUIRE_DATA("dicom-edge/77654033");
    std::string dir = jseg::test::tempDir("cli-two-series");
    fs::copy(jseg::test::sharedData("dicom-edge/77654033/CT2"), dir + "/CT2", fs::copy_options::recursive);
    fs::copy(jseg::test::sharedData("mr-dicom"), dir + "/MR", fs::copy_options::recursive);
    expectInputError({"baseline", QString::fromStdString(dir), "--k", "3"}, "--series");
    // ... and picking one works.
    CliResult ok = runCli({"info", QString::fromStdString(dir), "--series", "1"});
    QCOMPARE(ok.exitCode, 0);
    QVERIFY(ok.out.contains("dims:"));
  }
  void corruptDicomFile() {
    JSEG_REQUIRE_DATA("mr-dicom");
    std::string dir = jseg::test::tempDir("cli-corrupt-dicom");
    std::string first;
    for (const auto& e : fs::directory_iterator(jseg::test::sharedData("mr-dicom")))
      if (e.path().extension() == ".dcm" && (first.empty() || e.path().string() < first)) first = e.path().string();
    truncateCopy(first, dir + "/broken.dcm", 0.5);
    expectInputError({"info", QString::fromStdString(dir)}, "broken.dcm");
  }
  void emptyFolder() {
    std::string dir = jseg::test::tempDir("cli-empty");
    expectInputError({"info", QString::fromStdString(dir)}, "empty");
  }
  void nonImageFile() {
    std::string dir = jseg::test::tempDir("cli-text");
    std::ofstream(dir + "/notes.nii") << "these are not voxels\n";
    expectInputError({"info", QString::fromStdString(dir + "/notes.nii")}, "not a recognised volume");
  }
  void missingFile() { expectInputError({"info", "/nonexistent/volume.nii.gz"}, "no such file"); }
  void thresholdLowAboveHigh() {
    JSEG_REQUIRE_DATA("mni152/t1.nii.gz");
    expectInputError({"baseline", QString::fromStdString(jseg::test::sharedData("mni152/t1.nii.gz")), "--threshold",
                      "200:100"},
                     "above");
  }
  void kBelowTwo() {
    JSEG_REQUIRE_DATA("mni152/t1.nii.gz");
    expectInputError({"baseline", QString::fromStdString(jseg::test::sharedData("mni152/t1.nii.gz")), "--k", "1"},
                     "--k");
  }
  void unknownOptionIsExitTwo() {
    CliResult r = runCli({"info", "--frobnicate"});
    QCOMPARE(r.exitCode, 2);
  }
  void baselinePrintsReferenceNmi() {
    JSEG_REQUIRE_DATA("mni152/t1.nii.gz");
    CliResult r = runCli({"baseline", QString::fromStdString(jseg::test::sharedData("mni152/t1.nii.gz")), "--threshold",
                          "1:255", "--k", "3", "--truth", QString::fromStdString(jseg::test::sharedData("mni152/labels.nii.gz"))});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("multi-Otsu        NMI 0.68"), qPrintable(r.out));
  }
};

QTEST_GUILESS_MAIN(TestCliErrors)
#include "test_cli_errors.moc"
