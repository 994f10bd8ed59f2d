// ctest-links: juleseg_io juleseg_base
// ctest-lock: libtorch_cores
// Cohorts: `juleseg-cli run` over several volumes with one model continues past a bad input and ends with a
// summary; a generated SLURM array script runs one volume per task from a project and reproduces the batch.
#include <QProcess>
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "core/demo/Phantom.h"
#include "core/io/NiftiIO.h"
#include "tests/common/TestData.h"

using namespace jseg;
namespace fs = std::filesystem;

namespace {
using Result = test::ProcessResult;
Result run(const QString& program, const QStringList& args,
           const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
  return test::runProcess(program, args, {}, env);
}
const QStringList kTiny = {"--preset", "fast", "--patches", "300", "--clusters", "8", "--epochs-per-period", "1",
                           "--device", "cpu", "--seed", "5"};
} // namespace

class TestCliBatch : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void batchContinuesPastFailureAndSlurmTasksReproduceIt() {
    const std::string dir = test::tempDir("batch");
    for (int i = 0; i < 2; ++i) {
      PhantomOptions o;
      o.size = 36;
      o.seed = 100 + i;
      NiftiIO::write(makeDemoPhantom(o).volume, dir + "/vol" + std::to_string(i) + ".nii.gz");
    }
    std::ofstream(dir + "/broken.nii.gz") << "not a volume";
    const QString cli = JULESEG_CLI_PATH;
    const QString d = QString::fromStdString(dir);

    Result train = run(cli, QStringList{"train", d + "/vol0.nii.gz", "--threshold", "3000:65535", "-o", d + "/model.pt", "-q"} + kTiny);
    QVERIFY2(train.exitCode == 0, qPrintable(train.err));
    QVERIFY(fs::exists(dir + "/model.pt") && fs::exists(dir + "/model.json"));

    Result batch = run(cli, {"run", d + "/vol0.nii.gz", d + "/broken.nii.gz", d + "/vol1.nii.gz", "--model",
                             d + "/model.pt", "--threshold", "3000:65535", "--stride", "4", "--no-overlays", "-q",
                             "-o", d + "/batch"});
    QCOMPARE(batch.exitCode, 2);  // one input failed ...
    QVERIFY2(batch.out.contains("batch: 2 of 3 volumes"), qPrintable(batch.out));
    QVERIFY(batch.out.contains("failed: " + d + "/broken.nii.gz"));
    QVERIFY(batch.err.contains("juleseg-cli: error: " + d + "/broken.nii.gz"));
    // ... the others were segmented, one folder each.
    QVERIFY(fs::exists(dir + "/batch/vol0/labels.nii.gz"));
    QVERIFY(fs::exists(dir + "/batch/vol1/labels.nii.gz"));
    QVERIFY(!fs::exists(dir + "/batch/broken"));
    LabelVolume l1 = NiftiIO::readLabels(dir + "/batch/vol1/labels.nii.gz");
    QCOMPARE(l1.maxLabel(), 3);

    // SLURM: script from vol0's project, run here task by task as the array would.
    std::ofstream(dir + "/list.txt") << "# cohort\n" << dir << "/vol0.nii.gz\n" << dir << "/vol1.nii.gz\n";
    Result script = run(cli, {"slurm-script", "--project", d + "/batch/vol0/project.juleseg", "--list", d + "/list.txt",
                              "--out-dir", d + "/cohort", "--cpus", "2", "-o", d + "/job.sh"});
    QVERIFY2(script.exitCode == 0, qPrintable(script.err));
    const std::string text = jseg::test::readFileBytes(dir + "/job.sh");
    QVERIFY(text.find("#SBATCH --array=0-1") != std::string::npos);
    QVERIFY(text.find("#SBATCH --cpus-per-task=2") != std::string::npos);
    for (int task = 0; task < 2; ++task) {
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.insert("SLURM_ARRAY_TASK_ID", QString::number(task));
      Result t = run("bash", {d + "/job.sh"}, env);
      QVERIFY2(t.exitCode == 0, qPrintable(t.err));
    }
    // Same model, same parameters: each task paints exactly what the batch painted.
    QCOMPARE(jseg::test::readFileBytes(dir + "/cohort/task_0000/labels.nii.gz"), jseg::test::readFileBytes(dir + "/batch/vol0/labels.nii.gz"));
    QCOMPARE(jseg::test::readFileBytes(dir + "/cohort/task_0001/labels.nii.gz"), jseg::test::readFileBytes(dir + "/batch/vol1/labels.nii.gz"));
  }
  void batchWithoutModelIsRefused() {
    Result r = run(JULESEG_CLI_PATH, {"run", "a.nii", "b.nii", "--threshold", "1:2", "-o", "/tmp/x"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("needs one trained model"));
  }
};

QTEST_GUILESS_MAIN(TestCliBatch)
#include "test_cli_batch.moc"
