// ctest-links: juleseg_io juleseg_base
// ctest-lock: libtorch_cores
// Results that survive faults (issue 15): a rerun into an existing result folder that hits a full disk or is
// interrupted leaves the earlier result exactly as it was and no temporary file; a run too big for the memory
// limit is refused before training; a FIFO input or an unwritable output is a clear error, not a hang.
// Every check compares the output folder's bytes before and after.
#include <QElapsedTimer>
#include <QProcess>
#include <QtTest>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/demo/Phantom.h"
#include "core/io/NiftiIO.h"
#include "tests/common/TestData.h"

namespace fs = std::filesystem;
using namespace jseg;

namespace {

const QStringList kTiny = {"--preset", "fast", "--patches", "300", "--clusters", "8", "--epochs-per-period", "1",
                           "--device", "cpu", "--seed", "5"};

struct Outcome {
  int exitCode = -1;
  bool crashed = true;
  double seconds = 0;
  QString err;
};

// Limits applied in the child between fork and exec.
struct ChildLimits {
  rlim_t fileSize = RLIM_INFINITY;      // RLIMIT_FSIZE; SIGXFSZ is ignored so writes fail with EFBIG
  rlim_t addressSpace = RLIM_INFINITY;  // RLIMIT_AS (ulimit -v)
};

QProcess* startCli(const QStringList& args, const ChildLimits& limits = {},
                   const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
  auto* p = new QProcess;
  p->setProcessEnvironment(env);
  p->setChildProcessModifier([limits] {
    if (limits.fileSize != RLIM_INFINITY) {
      std::signal(SIGXFSZ, SIG_IGN);  // an ignored signal stays ignored across exec
      rlimit r{limits.fileSize, limits.fileSize};
      setrlimit(RLIMIT_FSIZE, &r);
    }
    if (limits.addressSpace != RLIM_INFINITY) {
      rlimit r{limits.addressSpace, limits.addressSpace};
      setrlimit(RLIMIT_AS, &r);
    }
  });
  p->start(JULESEG_CLI_PATH, args);
  p->waitForStarted();
  return p;
}

Outcome finish(QProcess* p, QElapsedTimer& t, int timeoutMs = 300000) {
  Outcome o;
  if (p->state() != QProcess::NotRunning && !p->waitForFinished(timeoutMs)) {
    p->kill();
    p->waitForFinished();
    o.err = "timeout";
  } else {
    o.crashed = p->exitStatus() != QProcess::NormalExit;
    o.exitCode = p->exitCode();
    o.err = QString::fromUtf8(p->readAllStandardError());
  }
  o.seconds = double(t.elapsed()) / 1000.0;
  delete p;
  return o;
}

Outcome runCli(const QStringList& args, const ChildLimits& limits = {}) {
  QElapsedTimer t;
  t.start();
  return finish(startCli(args, limits), t);
}

// Every file below `folder` (relative path -> bytes).
std::map<std::string, std::string> snapshot(const std::string& folder) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(folder))
    if (e.is_regular_file()) files[fs::relative(e.path(), folder).string()] = test::readFileBytes(e.path().string());
  return files;
}

// Names in `folder` (not recursive) that a juleseg write leaves only while it runs: staging folders, retired
// results and .part files.
QStringList temporaries(const std::string& folder) {
  QStringList found;
  for (const auto& e : fs::recursive_directory_iterator(folder)) {
    const std::string n = e.path().filename().string();
    if (n.find(".part-") != std::string::npos || n.find(".juleseg-new-") != std::string::npos ||
        n.find(".juleseg-old-") != std::string::npos)
      found << QString::fromStdString(e.path().string());
  }
  return found;
}

int errorLines(const QString& err) { return int(err.split('\n').filter("error").size()); }

// A minimal DICOM file (4x4 CT, one encapsulated frame) whose meta header names `transferSyntax`.
std::string dicomWithTransferSyntax(const std::string& transferSyntax) {
  auto u16 = [](unsigned v) { return std::string{char(v & 0xff), char(v >> 8)}; };
  auto u32 = [&](uint32_t v) { return u16(v & 0xffff) + u16(v >> 16); };
  auto element = [&](unsigned g, unsigned e, const char* vr, std::string value) {
    if (value.size() % 2) value += '\0';
    return u16(g) + u16(e) + vr + u16(unsigned(value.size())) + value;
  };
  const std::string meta = element(2, 0x2, "UI", "1.2.840.10008.5.1.4.1.1.2") + element(2, 0x3, "UI", "1.2.3.4.5") +
                           element(2, 0x10, "UI", transferSyntax);
  std::string file(128, '\0');
  file += "DICM" + u16(2) + u16(0) + "UL" + u16(4) + u32(uint32_t(meta.size())) + meta;
  file += element(8, 0x60, "CS", "CT") + element(0x20, 0xe, "UI", "1.2.3") + element(0x28, 0x2, "US", u16(1)) +
          element(0x28, 0x4, "CS", "MONOCHROME2") + element(0x28, 0x10, "US", u16(4)) + element(0x28, 0x11, "US", u16(4)) +
          element(0x28, 0x100, "US", u16(16)) + element(0x28, 0x101, "US", u16(12)) +
          element(0x28, 0x102, "US", u16(11)) + element(0x28, 0x103, "US", u16(0));
  file += u16(0x7fe0) + u16(0x10) + "OB" + u16(0) + u32(0xffffffffu);  // encapsulated pixel data
  file += u16(0xfffe) + u16(0xe000) + u32(0);                          // empty offset table
  file += u16(0xfffe) + u16(0xe000) + u32(4) + std::string("\xff\x0a\0\0", 4);  // a JPEG XL codestream's start
  file += u16(0xfffe) + u16(0xe0dd) + u32(0);
  return file;
}

} // namespace

class TestCliFaultTolerance : public QObject {
  Q_OBJECT
  std::string dir_, volume_, model_;
  QString d_;

  // A fresh result folder holding the K = 3 result of the model, and its snapshot.
  std::map<std::string, std::string> makeEarlierResult(const std::string& out) {
    fs::remove_all(out);
    const Outcome o = runCli(QStringList{"run", QString::fromStdString(volume_), "--model", QString::fromStdString(model_),
                                         "--threshold", "3000:65535", "--k", "3", "--stride", "4", "--no-overlays",
                                         "-o", QString::fromStdString(out), "-q"});
    if (o.exitCode != 0) qWarning() << o.err;
    const auto files = snapshot(out);
    return o.exitCode == 0 ? files : std::map<std::string, std::string>{};
  }

  QStringList rerunArgs(const std::string& out) const {
    return QStringList{"run", QString::fromStdString(volume_), "--model", QString::fromStdString(model_),
                       "--threshold", "3000:65535", "--k", "4", "--stride", "4", "--no-overlays",
                       "-o", QString::fromStdString(out), "-q"};
  }

private Q_SLOTS:
  void initTestCase() {
    dir_ = test::tempDir("faults");
    d_ = QString::fromStdString(dir_);
    PhantomOptions o;
    o.size = 36;
    volume_ = dir_ + "/vol.nii.gz";
    NiftiIO::write(makeDemoPhantom(o).volume, volume_);
    model_ = dir_ + "/model/model.pt";
    fs::create_directories(dir_ + "/model");
    const Outcome t = runCli(QStringList{"train", QString::fromStdString(volume_), "--threshold", "3000:65535", "-o",
                                         QString::fromStdString(model_), "-q"} + kTiny);
    QVERIFY2(t.exitCode == 0, qPrintable(t.err));
  }

  // Disk full while the labels of a rerun are written: exit 2, one error line naming the file and the cause,
  // the K = 3 result byte for byte, no temporary left.
  void fullDiskDuringRerunKeepsEarlierResult() {
    const std::string out = dir_ + "/rerun_full";
    const auto before = makeEarlierResult(out);
    QVERIFY(before.count("labels.nii.gz") && before.count("run.json") && before.count("project.juleseg"));
    ChildLimits limits;
    limits.fileSize = 600;  // below the compressed labels: the first output write fails with EFBIG
    const Outcome o = runCli(rerunArgs(out), limits);
    QVERIFY2(!o.crashed && o.exitCode == 2, qPrintable(QString("exit %1: %2").arg(o.exitCode).arg(o.err)));
    QCOMPARE(errorLines(o.err), 1);
    QVERIFY2(o.err.contains("juleseg-cli: error: cannot write ") && o.err.contains("labels.nii.gz") &&
                 o.err.contains("File too large"),
             qPrintable(o.err));
    QVERIFY(snapshot(out) == before);
    QCOMPARE(temporaries(dir_), QStringList{});
  }

  // Disk full while a run that trained saves model.pt: LibTorch's serialiser no longer aborts the process.
  void fullDiskDuringModelSave() {
    const std::string out = dir_ + "/model_full";
    const auto before = makeEarlierResult(out);
    QVERIFY(!before.empty());
    ChildLimits limits;
    limits.fileSize = 64 * 1024;  // model.pt of fast3d is about 1 MB
    const Outcome o = runCli(QStringList{"run", QString::fromStdString(volume_), "--threshold", "3000:65535", "--k", "4",
                                         "--stride", "4", "--no-overlays", "-o", QString::fromStdString(out), "-q"} +
                                 kTiny,
                             limits);
    QVERIFY2(!o.crashed && o.exitCode == 2, qPrintable(QString("exit %1: %2").arg(o.exitCode).arg(o.err)));
    QCOMPARE(errorLines(o.err), 1);
    QVERIFY2(o.err.contains("model.pt") && o.err.contains("File too large") && !o.err.contains("terminate"),
             qPrintable(o.err));
    QVERIFY(snapshot(out) == before);
    QCOMPARE(temporaries(dir_), QStringList{});
  }

  // SIGTERM and SIGINT while a rerun writes: cancelled within a second, 143 / 130, earlier result intact.
  void signalsDuringRerunKeepEarlierResult_data() {
    QTest::addColumn<int>("signo");
    QTest::addColumn<int>("expected");
    QTest::newRow("SIGTERM") << int(SIGTERM) << 143;
    QTest::newRow("SIGINT") << int(SIGINT) << 130;
  }
  void signalsDuringRerunKeepEarlierResult() {
    QFETCH(int, signo);
    QFETCH(int, expected);
    const std::string out = dir_ + "/rerun_signal";
    const auto before = makeEarlierResult(out);
    QVERIFY(!before.empty());
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("JULESEG_TEST_PAUSE_BETWEEN_WRITES_MS", "1500");  // read only by the output writer
    QElapsedTimer t;
    t.start();
    QProcess* p = startCli(rerunArgs(out), {}, env);
    // Wait until the writer has begun (its staging folder exists), then let it write a file or two.
    bool writing = false;
    for (int i = 0; i < 3000 && !writing; ++i) {
      for (const auto& e : fs::directory_iterator(dir_))
        writing |= e.path().filename().string().rfind(".rerun_signal.juleseg-new-", 0) == 0 &&
                   fs::exists(e.path() / "labels.nii.gz");
      if (!writing) QTest::qWait(20);
    }
    QVERIFY2(writing, "the rerun never began writing");
    ::kill(pid_t(p->processId()), signo);
    QElapsedTimer sinceSignal;
    sinceSignal.start();
    QVERIFY(p->waitForFinished(10000));
    const double seconds = double(sinceSignal.elapsed()) / 1000.0;
    const Outcome o = finish(p, t);
    QVERIFY2(!o.crashed && o.exitCode == expected, qPrintable(QString("exit %1: %2").arg(o.exitCode).arg(o.err)));
    QVERIFY2(o.err.contains("juleseg-cli: cancelled"), qPrintable(o.err));
    QVERIFY2(seconds < 1.0, qPrintable(QString("cancel took %1 s").arg(seconds)));
    QVERIFY(snapshot(out) == before);
    QCOMPARE(temporaries(dir_), QStringList{});
  }

  // A rerun that succeeds replaces the folder as a whole: K = 4 everywhere, foreign files kept.
  void successfulRerunReplacesResult() {
    const std::string out = dir_ + "/rerun_ok";
    const auto before = makeEarlierResult(out);
    QVERIFY(!before.empty());
    test::writeFileBytes(out + "/notes.txt", "mine");
    const Outcome o = runCli(rerunArgs(out));
    QVERIFY2(o.exitCode == 0, qPrintable(o.err));
    const auto after = snapshot(out);
    QCOMPARE(after.at("notes.txt"), std::string("mine"));
    QVERIFY(after.at("labels.nii.gz") != before.at("labels.nii.gz"));
    QVERIFY(after.at("run.json").find("\"k\": 4") != std::string::npos);
    QVERIFY(after.at("project.juleseg").find("\"k\": 4") != std::string::npos);
    QCOMPARE(temporaries(dir_), QStringList{});
  }

  // A killed run's staging folder (its process is gone) is removed by the next run into the same folder.
  void leftoversOfKilledRunsAreRemoved() {
    const std::string out = dir_ + "/rerun_stale";
    const auto before = makeEarlierResult(out);
    QVERIFY(!before.empty());
    // pid_max is at most 2^22: this process id cannot exist.
    const std::string stale = dir_ + "/.rerun_stale.juleseg-new-9999999-0";
    fs::create_directories(stale);
    test::writeFileBytes(stale + "/.labels.nii.gz.part-9999999-3", "half");
    test::writeFileBytes(out + "/.labels.tif.part-9999999-1", "half");
    const Outcome o = runCli(rerunArgs(out));
    QVERIFY2(o.exitCode == 0, qPrintable(o.err));
    QVERIFY(!fs::exists(stale));
    QCOMPARE(temporaries(dir_), QStringList{});
  }

  // 512^3 at stride 1 under ulimit -v 6000000: refused by the memory plan before training, within 10 s, with a
  // stride that fits; nothing written.
  void memoryPlanRefusesBeforeTraining() {
    Volume v;
    v.geom.dims = {512, 512, 512};
    v.originalType = PixelType::UInt8;
    v.voxels.resize(v.geom.voxelCount());
    for (std::size_t i = 0; i < v.voxels.size(); ++i) v.voxels[i] = float((i * 7919u) % 251u);
    const std::string big = dir_ + "/big.nii";
    NiftiIO::write(v, big);
    v.voxels = {};
    const std::string out = dir_ + "/big_out";
    ChildLimits limits;
    limits.addressSpace = rlim_t(6000000) * 1024;
    const Outcome o = runCli(QStringList{"run", QString::fromStdString(big), "--stride", "1", "-o",
                                         QString::fromStdString(out), "-q"} + kTiny,
                             limits);
    fs::remove(big);
    QVERIFY2(!o.crashed && o.exitCode == 2, qPrintable(QString("exit %1: %2").arg(o.exitCode).arg(o.err)));
    QCOMPARE(errorLines(o.err), 1);
    QVERIFY2(o.err.contains("juleseg-cli: error: the run at stride 1 needs") && o.err.contains("available") &&
                 o.err.contains("use --stride "),
             qPrintable(o.err));
    QVERIFY2(o.seconds < 10.0, qPrintable(QString("refused after %1 s").arg(o.seconds)));
    QVERIFY(!fs::exists(out));
    QCOMPARE(temporaries(dir_), QStringList{});
  }

  // A FIFO named like a volume: refused at once, not waited on.
  void fifoInputIsRefusedAtOnce() {
    const std::string fifo = dir_ + "/x.nii.gz";
    QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
    const QString f = QString::fromStdString(fifo);
    // The bound is 2 s beyond the program's own start-up (loading LibTorch takes over a second on a busy
    // machine): a FIFO that were opened would block until the 300 s timeout.
    const Outcome version = runCli(QStringList{"--version"});
    QCOMPARE(version.exitCode, 0);
    for (const QStringList& args : {QStringList{"info", f}, QStringList{"convert", f, d_ + "/c.nii.gz"},
                                    QStringList{"baseline", f, "--k", "3"},
                                    QStringList{"run", f, "-o", d_ + "/fifo_out", "-q"} + kTiny}) {
      const Outcome o = runCli(args);
      QVERIFY2(!o.crashed && o.exitCode == 2, qPrintable(args.join(' ') + ": " + o.err));
      QVERIFY2(o.seconds < 2.0 + version.seconds,
               qPrintable(QString("%1 took %2 s (start-up %3 s)").arg(args.join(' ')).arg(o.seconds).arg(version.seconds)));
      QVERIFY2(o.err.contains("juleseg-cli: error: ") && o.err.contains("named pipe"), qPrintable(o.err));
    }
    QVERIFY(!fs::exists(dir_ + "/fifo_out") && !fs::exists(dir_ + "/c.nii.gz"));
    fs::remove(fifo);
  }

  // convert into a folder that cannot be written: exit 2 naming the file, no temporary.
  void convertIntoUnwritableFolder() {
    std::string target;
    if (::geteuid() == 0) {
      // root ignores a read-only mode bit, so the folder is a regular file instead: writing below it fails with
      // ENOTDIR / "does not exist" for every user.
      test::writeFileBytes(dir_ + "/not_a_folder", "x");
      target = dir_ + "/not_a_folder/out.nii.gz";
    } else {
      fs::create_directories(dir_ + "/readonly");
      fs::permissions(dir_ + "/readonly", fs::perms::owner_read | fs::perms::owner_exec);
      target = dir_ + "/readonly/out.nii.gz";
    }
    const Outcome o = runCli(QStringList{"convert", QString::fromStdString(volume_), QString::fromStdString(target)});
    if (::geteuid() != 0) fs::permissions(dir_ + "/readonly", fs::perms::owner_all);
    QVERIFY2(!o.crashed && o.exitCode == 2, qPrintable(QString("exit %1: %2").arg(o.exitCode).arg(o.err)));
    QCOMPARE(errorLines(o.err), 1);
    QVERIFY2(o.err.contains("juleseg-cli: error: cannot write " + QString::fromStdString(target)), qPrintable(o.err));
    QVERIFY(!o.err.contains("internal error"));
    QCOMPARE(temporaries(dir_), QStringList{});
  }

  // A constant volume has one level: K = 3 is an error, and baseline writes nothing.
  void constantVolumeIsAnError() {
    Volume v;
    v.geom.dims = {20, 20, 20};
    v.voxels.assign(v.geom.voxelCount(), 7.0f);
    const std::string flat = dir_ + "/flat.nii.gz";
    NiftiIO::write(v, flat);
    const QString f = QString::fromStdString(flat);
    const Outcome b = runCli(QStringList{"baseline", f, "--k", "3", "-o", d_ + "/flat"});
    QVERIFY2(b.exitCode == 2 && b.err.contains("only 1 distinct intensity"), qPrintable(b.err));
    QVERIFY(!fs::exists(dir_ + "/flat_kmeans.nii.gz") && !fs::exists(dir_ + "/flat_otsu.nii.gz"));
    const Outcome r = runCli(QStringList{"run", f, "-o", d_ + "/flat_out", "-q"} + kTiny);
    QVERIFY2(r.exitCode == 2 && r.err.contains("too few for K = 3"), qPrintable(r.err));
    QVERIFY(!fs::exists(dir_ + "/flat_out"));
  }

  // JPEG XL, unknown to Debian 12's DCMTK, is named as an unsupported transfer syntax, not as a corrupt file.
  void jpegXlDicomIsNamed() {
    fs::create_directories(dir_ + "/jxl");
    test::writeFileBytes(dir_ + "/jxl/x.dcm", dicomWithTransferSyntax("1.2.840.10008.1.2.4.112"));
    const Outcome o = runCli(QStringList{"info", d_ + "/jxl/x.dcm"});
    QVERIFY2(o.exitCode == 2 && errorLines(o.err) == 1, qPrintable(o.err));
    QVERIFY2(o.err.contains("JPEG XL (1.2.840.10008.1.2.4.112)") && o.err.contains("cannot decode") &&
                 !o.err.contains("corrupt"),
             qPrintable(o.err));
  }

  // A project whose input was deleted says so (not that its SHA-256 differs), and writes nothing.
  void projectWithMissingInput() {
    const std::string gone = dir_ + "/gone.nii.gz";
    fs::copy_file(volume_, gone);
    const QString out = d_ + "/gone_out";
    const Outcome first = runCli(QStringList{"run", QString::fromStdString(gone), "--model", QString::fromStdString(model_),
                                             "--threshold", "3000:65535", "--stride", "6", "--no-overlays", "-o", out, "-q"});
    QVERIFY2(first.exitCode == 0, qPrintable(first.err));
    fs::remove(gone);
    const Outcome o = runCli(QStringList{"run", "--project", out + "/project.juleseg", "-o", d_ + "/gone_rerun", "-q"});
    QVERIFY2(o.exitCode == 2 && errorLines(o.err) == 1, qPrintable(o.err));
    QVERIFY2(o.err.contains("gone.nii.gz no longer exists") && !o.err.contains("SHA-256"), qPrintable(o.err));
    QVERIFY(!fs::exists(dir_ + "/gone_rerun"));
  }

  // Validation gaps of the issue: each one line with "error:", exit 2, naming the right thing.
  void validationMessages() {
    const QString f = QString::fromStdString(volume_);
    struct Case {
      QStringList args;
      QString phrase;
    };
    const std::vector<Case> cases = {
        {{"baseline", f, "--restarts", "0"}, "--restarts 0 is out of range"},
        {{"baseline", f, "--restarts", "-5"}, "--restarts -5 is out of range"},
        {{"baseline", f, "--seed", "-1"}, "--seed -1 is out of range"},
        {{"run", f, "--k-sweep", "5:2", "-o", d_ + "/v"}, "--k-sweep '5:2'"},
        {{"run", f, "--threshold", "nan:1", "-o", d_ + "/v"}, "finite number"},
        {{"info", f, "--spacing", "1e38"}, "--spacing"},
        {{"run", f, "-o", d_ + "/v", "--bogus-flag"}, "--bogus-flag"},
    };
    for (const auto& c : cases) {
      const Outcome o = runCli(c.args);
      QVERIFY2(!o.crashed && o.exitCode == 2, qPrintable(c.args.join(' ') + ": " + o.err));
      QVERIFY2(o.err.startsWith("juleseg-cli: error: ") && o.err.contains(c.phrase),
               qPrintable(c.args.join(' ') + ": " + o.err));
    }
    QVERIFY(!fs::exists(dir_ + "/v"));
  }
};

QTEST_GUILESS_MAIN(TestCliFaultTolerance)
#include "test_cli_fault_tolerance.moc"
