// ctest-links: juleseg_base
// The desktop program's own command line, run as a user runs it (issue 16): --help and --version work without a
// display; --screenshot saves one view or the window, magnified by --scale, also when ctest's
// QT_QPA_PLATFORM=offscreen is set (the program switches to X for VTK).
#include <QImage>
#include <QtTest>

#include "tests/common/TestData.h"

using namespace jseg;

class TestGuiCliOptions : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void helpAndVersionNeedNoDisplay() {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("DISPLAY");
    env.remove("WAYLAND_DISPLAY");
    env.remove("QT_QPA_PLATFORM");
    const auto help = test::runProcess(JULESEG_GUI_PATH, {"--help"}, {}, env);
    QCOMPARE(help.exitCode, 0);
    QVERIFY(help.out.contains("--screenshot"));
    QVERIFY2(help.out.contains("paper, fast, texture"), qPrintable(help.out)); // every preset, from the schema
    QVERIFY(help.out.contains("--scale"));
    QVERIFY(help.out.contains("--labels"));
    const auto version = test::runProcess(JULESEG_GUI_PATH, {"--version"}, {}, env);
    QCOMPARE(version.exitCode, 0);
    QVERIFY(version.out.startsWith("juleseg "));
    // Anything else without a display: a message and exit code 2, not an abort.
    const auto noDisplay = test::runProcess(JULESEG_GUI_PATH, {"--demo", "--quit-after-load"}, {}, env);
    QCOMPARE(noDisplay.exitCode, 2);
    QVERIFY(noDisplay.err.contains("no X display"));
  }

  void screenshotsOfEachViewMagnified() {
    if (qEnvironmentVariableIsEmpty("DISPLAY")) QSKIP("no X display: run under xvfb-run");
    const QString dir = QString::fromStdString(test::tempDir("gui-cli-options"));
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("QT_QPA_PLATFORM", "offscreen"); // as ctest sets it: the program must still render
    QSize single;
    for (const QString view : {"axial", "3d", "window"}) {
      for (int scale : {1, 2}) {
        const QString out = dir + QString("/%1-%2.png").arg(view).arg(scale);
        const auto r = test::runProcess(JULESEG_GUI_PATH,
                                        {"--demo", "--size", "1200x800", "--screenshot", out, "--view", view, "--scale",
                                         QString::number(scale), "--quit-after-load"},
                                        dir, env);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err.right(2000)));
        const QImage img(out);
        QVERIFY2(!img.isNull(), qPrintable(out));
        if (scale == 1)
          single = img.size();
        else
          QCOMPARE(img.size(), single * 2);
        if (view == "window" && scale == 1) QCOMPARE(img.size(), QSize(1200, 800));
        if (view == "axial" && scale == 1) QVERIFY(img.width() < 700); // the view, not the window
        // Not a blank render: the phantom is there.
        int bright = 0;
        for (int y = 0; y < img.height(); y += 4)
          for (int x = 0; x < img.width(); x += 4)
            if (qGray(img.pixel(x, y)) > 100) ++bright;
        QVERIFY2(bright > 100, qPrintable(QString("%1 ×%2: %3 bright samples").arg(view).arg(scale).arg(bright)));
      }
    }
    const auto bad =
        test::runProcess(JULESEG_GUI_PATH, {"--demo", "--screenshot", dir + "/x.png", "--view", "side"}, dir, env);
    QCOMPARE(bad.exitCode, 2);
    QVERIFY(bad.err.contains("--view expects"));
  }
};

QTEST_GUILESS_MAIN(TestGuiCliOptions)
#include "test_gui_cli_options.moc"
