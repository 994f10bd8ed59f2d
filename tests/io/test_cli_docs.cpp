// ctest-links: juleseg_base
// The user guide's parameter table is generated from the schema; this keeps the committed copy in sync.
#include <QProcess>
#include <QtTest>
#include <fstream>

class TestCliDocs : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void userGuideParameterTableMatchesTheSchema() {
    QProcess p;
    p.start(JULESEG_CLI_PATH, {"params", "--format", "markdown"});
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 0);
    const std::string generated = p.readAllStandardOutput().toStdString();
    QVERIFY(generated.find("`--patch-size`") != std::string::npos);
    std::ifstream in(std::string(JULESEG_SOURCE_DIR) + "/docs/user-guide.md");
    std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string begin = "<!-- params:begin -->\n", end = "<!-- params:end -->";
    auto a = doc.find(begin), b = doc.find(end);
    QVERIFY2(a != std::string::npos && b != std::string::npos, "markers missing in docs/user-guide.md");
    const std::string committed = doc.substr(a + begin.size(), b - a - begin.size());
    QVERIFY2(committed == generated,
             "docs/user-guide.md is out of date: regenerate the table with `juleseg-cli params --format markdown`");
  }
};

QTEST_GUILESS_MAIN(TestCliDocs)
#include "test_cli_docs.moc"
