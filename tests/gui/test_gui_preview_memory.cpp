// ctest-links: juleseg_core
// Every K preview (one per slice scroll) makes a full-size label volume. Ended jobs give up their closures and
// the viewer keeps only the newest preview, so 200 previews leave the resident memory where it was: within
// 50 MB (before the fix each one stayed alive until exit, 1.8 MB each on the 96³ phantom: 350 MB).
#include <QApplication>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QtTest>

#include <fstream>
#include <unistd.h>

#include "ui/KPickerPanel.h"
#include "ui/MainWindow.h"
#include "ui/ParameterPanel.h"
#include "ui/SessionController.h"

using namespace jseg;
using namespace jseg::ui;

namespace {
double residentMb() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}
} // namespace

class TestGuiPreviewMemory : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

  void twoHundredPreviewsKeepMemoryFlat() {
    MainWindow w;
    w.setQuietErrors(true);
    QSignalSpy loaded(&w, &MainWindow::volumeLoaded);
    w.openDemo();
    QVERIFY(loaded.wait(60000));
    ParameterPanel* pp = w.parameterPanel();
    pp->applyPreset("fast");
    pp->setValue("patches", 300);
    pp->setValue("clusters", 8);
    pp->setValue("epochs_per_period", 1);
    QSignalSpy trained(&w, &MainWindow::trainingFinished);
    w.startTraining();
    QVERIFY(trained.wait(120000));
    QVERIFY(trained.first().first().toBool());
    QSignalSpy features(&w, &MainWindow::featuresReady);
    w.startFeatures();
    QVERIFY(features.wait(120000));
    QVERIFY(features.first().first().toBool());

    SessionController* c = w.controller();
    // A counter, not a QSignalSpy: a spy would keep every preview's labels in its argument list.
    int previews = 0;
    connect(c, &SessionController::previewReady, this, [&previews] { ++previews; });
    auto scrollTo = [&](int64_t z, int k) {
      const int before = previews;
      w.kPicker()->setK(k);
      auto cursor = w.model()->cursor();
      cursor[2] = z;
      w.model()->setCursor(cursor);  // each scroll asks for a preview of the visible slices
      QTRY_VERIFY_WITH_TIMEOUT(previews > before, 10000);
      QCoreApplication::processEvents();
    };
    // Warm up: allocator pools, the viewer's buffers, Qt's caches.
    for (int i = 0; i < 20; ++i) scrollTo(20 + i, 2 + i % 4);
    QTest::qWait(200);
    const double start = residentMb();
    for (int i = 0; i < 200; ++i) scrollTo(20 + (i * 7) % 56, 2 + i % 4);
    QTest::qWait(200);
    QCoreApplication::processEvents();
    const double end = residentMb();
    qInfo("resident memory: %.1f MB before 200 previews, %.1f MB after", start, end);
    QVERIFY(previews >= 220);
    QVERIFY2(end - start < 50, qPrintable(QString("grew by %1 MB").arg(end - start)));
    // The queue remembers a bounded history, not every preview.
    QVERIFY(w.jobs()->queue().jobs().size() <= 60);
  }
};

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  TestGuiPreviewMemory t;
  return QTest::qExec(&t, argc, argv);
}

#include "test_gui_preview_memory.moc"
