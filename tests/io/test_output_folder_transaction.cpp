// ctest-links: juleseg_io juleseg_base
// OutputFolderTransaction: a result folder appears or is replaced as a whole, never half; a transaction that
// is not committed leaves nothing; leftovers of dead processes are swept; foreign files survive a replacement.
#include <QtTest>
#include <filesystem>
#include <map>

#include "core/base/Errors.h"
#include "core/io/AtomicFile.h"
#include "core/io/OutputFolderTransaction.h"
#include "tests/common/TestData.h"

namespace fs = std::filesystem;
using namespace jseg;

namespace {
std::map<std::string, std::string> snapshot(const std::string& folder) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(folder))
    if (e.is_regular_file()) files[fs::relative(e.path(), folder).string()] = test::readFileBytes(e.path().string());
  return files;
}

std::vector<std::string> names(const std::string& folder) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(folder)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}
} // namespace

class TestOutputFolderTransaction : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void newFolderAppearsOnlyOnCommit() {
    const std::string dir = test::tempDir("tx_new");
    const std::string out = dir + "/result";
    {
      OutputFolderTransaction tx(out);
      writeFileAtomically(tx.staging() + "/labels.nii.gz", "new labels");
      QVERIFY(!fs::exists(out));
      QCOMPARE(tx.finalPath(tx.staging() + "/labels.nii.gz"), fs::absolute(out).string() + "/labels.nii.gz");
      tx.commit();
    }
    QCOMPARE(names(dir), std::vector<std::string>{"result"});
    QCOMPARE(test::readFileBytes(out + "/labels.nii.gz"), std::string("new labels"));
  }

  void uncommittedLeavesNoTrace() {
    const std::string dir = test::tempDir("tx_rollback");
    const std::string out = dir + "/result";
    {
      OutputFolderTransaction tx(out);
      test::writeFileBytes(tx.staging() + "/labels.tif", "partial");
    }
    QVERIFY(names(dir).empty());
  }

  void replacementKeepsForeignFilesAndDropsOldResults() {
    const std::string dir = test::tempDir("tx_replace");
    const std::string out = dir + "/result";
    fs::create_directories(out + "/overlays");
    fs::create_directories(out + "/mine");
    test::writeFileBytes(out + "/labels.nii.gz", "K=3");
    test::writeFileBytes(out + "/run.json", "{\"k\": 3}");
    test::writeFileBytes(out + "/overlays/axial_0000.png", "old png");
    test::writeFileBytes(out + "/notes.txt", "keep me");
    test::writeFileBytes(out + "/mine/data.bin", "mine too");
    const auto before = snapshot(out);
    {
      OutputFolderTransaction tx(out);
      test::writeFileBytes(tx.staging() + "/labels.nii.gz", "K=4");
      test::writeFileBytes(tx.staging() + "/run.json", "{\"k\": 4}");
      QVERIFY(snapshot(out) == before);  // untouched until the commit
      tx.commit();
    }
    const std::map<std::string, std::string> expected = {{"labels.nii.gz", "K=4"},
                                                         {"run.json", "{\"k\": 4}"},
                                                         {"notes.txt", "keep me"},
                                                         {"mine/data.bin", "mine too"}};
    QVERIFY(snapshot(out) == expected);
    QCOMPARE(names(dir), std::vector<std::string>{"result"});
  }

  void staleSiblingsOfDeadProcessesAreRemoved() {
    const std::string dir = test::tempDir("tx_stale");
    const std::string out = dir + "/result";
    // pid_max is at most 2^22, so these processes cannot exist.
    fs::create_directories(dir + "/.result.juleseg-new-9999999-0");
    fs::create_directories(dir + "/.result.juleseg-old-9999998-2");
    fs::create_directories(dir + "/.other.juleseg-new-9999999-0");  // another target's: not ours to judge here
    test::writeFileBytes(dir + "/.x.part-9999999-1", "half");
    {
      OutputFolderTransaction tx(out);
      tx.commit();
    }
    QCOMPARE(names(dir), (std::vector<std::string>{".other.juleseg-new-9999999-0", ".x.part-9999999-1", "result"}));
    removeStaleTemporaries(dir);  // what AtomicFile does once per folder
    QCOMPARE(names(dir), (std::vector<std::string>{".other.juleseg-new-9999999-0", "result"}));
  }

  void fileWhereAFolderIsExpectedIsAWriteError() {
    const std::string dir = test::tempDir("tx_file");
    test::writeFileBytes(dir + "/result", "a file");
    QVERIFY_THROWS_EXCEPTION(WriteError, OutputFolderTransaction(dir + "/result"));
    QCOMPARE(names(dir), std::vector<std::string>{"result"});
  }

  void resultEntries() {
    for (const char* n : {"labels.nii.gz", "labels.tif", "run.json", "overlays", "overlay_axial_mid.png", "model.pt",
                          "model.json", "model.net2.pt", ".labels.tif.part-12-3"})
      QVERIFY2(OutputFolderTransaction::isResultEntry(n), n);
    for (const char* n : {"notes.txt", "vol0", "labels.nii", "model.ptx"})
      QVERIFY2(!OutputFolderTransaction::isResultEntry(n), n);
  }
};

QTEST_GUILESS_MAIN(TestOutputFolderTransaction)
#include "test_output_folder_transaction.moc"
