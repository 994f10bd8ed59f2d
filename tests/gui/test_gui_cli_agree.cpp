// ctest-links: juleseg_io juleseg_base
// ctest-lock: libtorch_cores
// The GUI and the CLI run the same session stages, so the same parameters and seed give the same labels byte for
// byte: `juleseg --demo ... --segment --save-labels A.nii.gz` against `juleseg-cli run --demo ... -o OUT`. And a
// model trained in the GUI (the fast preset fills outside the window) reruns with `juleseg-cli run --model`
// from the paper's defaults to the same labels: the model brings its input preparation.
#include <QProcess>
#include <QtTest>

#include "core/io/NiftiIO.h"
#include "tests/common/TestData.h"

using namespace jseg;

namespace {

struct Run {
  int code = -1;
  QString out, err;
};

Run run(const QString& program, const QStringList& args, const QString& dir) {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("QT_QPA_PLATFORM", "xcb");
  const auto r = test::runProcess(program, args, dir, env);
  return {r.exitCode, r.out, r.err};
}

// Seconds of training; every stage still runs.
const QStringList kParams = {"--preset", "fast", "--patches", "400", "--clusters", "8", "--epochs-per-period", "2"};

} // namespace

class TestGuiCliAgree : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() {
    if (qEnvironmentVariableIsEmpty("DISPLAY")) QSKIP("no X display: run under xvfb-run (scripts/test does)");
  }

  void sameLabelsFromBothFrontEnds() {
    const QString dir = QString::fromStdString(test::tempDir("gui-cli-agree"));
    const Run gui = run(JULESEG_GUI_PATH, QStringList{"--demo"} + kParams +
                                              QStringList{"--segment", "--save-labels", "gui.nii.gz", "--save-model", "gui.pt"},
                        dir);
    QVERIFY2(gui.code == 0, qPrintable(gui.err.right(2000)));
    QVERIFY(gui.out.contains("labels: gui.nii.gz"));
    const Run cli = run(JULESEG_CLI_PATH, QStringList{"run", "--demo"} + kParams + QStringList{"-o", "cli", "-q", "--no-overlays"},
                        dir);
    QVERIFY2(cli.code == 0, qPrintable(cli.err.right(2000)));

    const std::string a = test::readFileBytes((dir + "/gui.nii.gz").toStdString());
    const std::string b = test::readFileBytes((dir + "/cli/labels.nii.gz").toStdString());
    QVERIFY(!a.empty());
    QVERIFY2(a == b, "the GUI and the CLI painted different labels");
    // Not an empty agreement: three regions inside the phantom, background outside.
    const LabelVolume labels = NiftiIO::readLabels((dir + "/gui.nii.gz").toStdString());
    QCOMPARE(labels.maxLabel(), 3);
    QCOMPARE(int(labels.labels[0]), 0);

    // The GUI's model, rerun by the CLI without the preset: the model's fill_outside_window applies.
    const Run rerun = run(JULESEG_CLI_PATH, {"run", "--demo", "--model", "gui.pt", "-o", "rerun", "--no-overlays"}, dir);
    QVERIFY2(rerun.code == 0, qPrintable(rerun.err.right(2000)));
    QVERIFY(rerun.out.contains("fill_outside_window = true from the model") ||
            rerun.err.contains("fill_outside_window = true from the model"));
    QVERIFY2(test::readFileBytes((dir + "/rerun/labels.nii.gz").toStdString()) == a,
             "the GUI's model gave other labels in the CLI");
  }
};

QTEST_GUILESS_MAIN(TestGuiCliAgree)
#include "test_gui_cli_agree.moc"
