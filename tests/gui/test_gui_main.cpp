// ctest-links: juleseg_core
// The desktop window on a real volume: loading through the job queue, what the VTK slice views draw
// (pixel values against the voxel values and the window), the linked crosshair, the threshold mask
// overlay, and an event loop that keeps running while a long job works and after it is cancelled.
// Needs an X display (scripts/test runs ctest inside xvfb-run); VTK cannot render on "offscreen".
#include <QApplication>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTimer>
#include <QtTest>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <QThread>

#include "tests/common/TestData.h"
#include "ui/MainWindow.h"
#include "ui/ParameterPanel.h"
#include "ui/PlanesView.h"
#include "ui/SliceView.h"

using namespace jseg;
using namespace jseg::ui;

class GuiMainTest : public QObject {
  Q_OBJECT
private:
  std::unique_ptr<MainWindow> w_;

  static double threadCpuMs() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
  }
  // 1-minute load average per core (0 when unknown).
  static double loadPerCore() {
    double l = 0;
    if (FILE* f = fopen("/proc/loadavg", "r")) {
      if (fscanf(f, "%lf", &l) != 1) l = 0;
      fclose(f);
    }
    return l / std::max(1, QThread::idealThreadCount());
  }

  bool haveDisplay() const { return QGuiApplication::platformName() == "xcb"; }

  // Loads the MNI T1 once for the tests that look at it.
  void ensureLoaded() {
    if (w_ && w_->model()->hasVolume()) return;
    w_ = std::make_unique<MainWindow>();
    w_->setQuietErrors(true);
    w_->resize(1400, 900);
    for (auto* d : w_->findChildren<QDockWidget*>()) d->hide();
    w_->show();
    QVERIFY(QTest::qWaitForWindowExposed(w_.get()));
    QSignalSpy loaded(w_.get(), &MainWindow::volumeLoaded);
    QSignalSpy mask(w_.get(), &MainWindow::maskUpdated);
    w_->openPath(QString::fromStdString(test::sharedData("mni152/t1.nii.gz")));
    QVERIFY(loaded.wait(30000));
    QVERIFY(mask.count() > 0 || mask.wait(10000));
    // Zoom in until a voxel covers more than two pixels, so a voxel centre is never on a pixel edge.
    for (auto kind : {ViewKind::Axial, ViewKind::Coronal, ViewKind::Sagittal}) {
      SliceView* v = w_->sliceView(kind);
      for (int i = 0; i < 10; ++i) {
        auto c = w_->model()->cursor();
        auto d = c;
        d[w_->model()->axes(kind).hAxis] += 10;
        if (std::abs(v->widgetPosOf(d).x() - v->widgetPosOf(c).x()) > 22) break;
        QWheelEvent zoom(QPointF(5, 5), v->mapToGlobal(QPointF(5, 5)), QPoint(), QPoint(0, 120), Qt::NoButton,
                         Qt::ControlModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(v, &zoom);
        v->renderNow();
      }
    }
    QTest::qWait(100);
  }

  // Expected grey level of a voxel under the model's window (VTK maps lo..hi linearly to 0..255).
  int expectedGrey(const std::array<int64_t, 3>& i) const {
    const ViewerModel* m = w_->model();
    double t = (m->valueAt(i) - m->windowLo()) / (double(m->windowHi()) - m->windowLo());
    return int(std::lround(std::clamp(t, 0.0, 1.0) * 255));
  }

  static QColor pixelAt(const QImage& img, QPointF p) { return img.pixelColor(int(p.x()), int(p.y())); }

private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    if (!haveDisplay()) QSKIP("no X display: run under xvfb-run (VTK cannot render on the offscreen platform)");
    JSEG_REQUIRE_DATA("mni152/t1.nii.gz");
  }

  void viewsShowTheVolume() {
    ensureLoaded();
    ViewerModel* m = w_->model();
    QCOMPARE(m->volume()->dims()[0], int64_t(197));
    QCOMPARE(m->volume()->dims()[2], int64_t(189));
    m->setMaskVisible(false);
    QTest::qWait(50);
    const auto c = m->cursor();
    for (auto kind : {ViewKind::Axial, ViewKind::Coronal, ViewKind::Sagittal}) {
      SliceView* v = w_->sliceView(kind);
      QImage img = v->grabImage();
      QVERIFY2(!img.isNull(), viewKindName(kind));
      QCOMPARE(img.width(), v->width());
      // Background outside the head is black.
      QColor corner = pixelAt(img, {3, 3});
      QVERIFY2(corner.red() < 5 && corner.green() < 5 && corner.blue() < 5, viewKindName(kind));
      // Voxels around the centre, off the crosshair lines, have the grey their value maps to.
      ViewAxes ax = m->axes(kind);
      int checked = 0, bright = 0;
      for (int dh : {-12, -6, 7, 13}) {
        for (int dv : {-11, -5, 6, 12}) {
          auto i = c;
          i[ax.hAxis] += dh;
          i[ax.vAxis] += dv;
          QPointF p = v->widgetPosOf(i);
          QColor px = pixelAt(img, p);
          int want = expectedGrey(i);
          QVERIFY2(std::abs(px.red() - want) <= 12,
                   qPrintable(QString("%1 view voxel (%2,%3,%4): pixel %5, expected %6")
                                  .arg(viewKindName(kind))
                                  .arg(i[0]).arg(i[1]).arg(i[2])
                                  .arg(px.red()).arg(want)));
          QVERIFY(std::abs(px.red() - px.blue()) <= 3);  // grey, no overlay
          ++checked;
          if (px.red() > 100) ++bright;
        }
      }
      QCOMPARE(checked, 16);
      QVERIFY2(bright >= 4, viewKindName(kind));  // brain tissue near the centre is bright
    }
    // Radiological orientation: the index axis pointing to the patient's left runs to the right of
    // the axial view, and anterior is up.
    const auto& dir = m->volume()->geom.direction;
    SliceView* axial = w_->sliceView(ViewKind::Axial);
    auto a = c, b = c;
    b[0] += 20;
    double dx = axial->widgetPosOf(b).x() - axial->widgetPosOf(a).x();
    QVERIFY(dx * dir[0] > 0);  // dir[0]: L component of index x
    b = c;
    b[1] += 20;
    double dy = axial->widgetPosOf(b).y() - axial->widgetPosOf(a).y();
    QVERIFY(dy * dir[4] > 0);  // +P goes down the screen
    // The 3D view: its background colour in a corner, planes of bright tissue around the centre.
    QImage img3d = w_->planesView()->grabImage();
    QVERIFY(!img3d.isNull());
    QColor bg = pixelAt(img3d, {2, 2});
    QCOMPARE(bg.red(), 20);
    QCOMPARE(bg.blue(), 28);
    int tissue = 0;
    for (int y = img3d.height() / 4; y < 3 * img3d.height() / 4; y += 4)
      for (int x = img3d.width() / 4; x < 3 * img3d.width() / 4; x += 4)
        if (img3d.pixelColor(x, y).red() > 80) ++tissue;
    QVERIFY2(tissue > 200, qPrintable(QString("%1 bright samples").arg(tissue)));
    m->setMaskVisible(true);
  }

  void crosshairLinksViews() {
    ensureLoaded();
    ViewerModel* m = w_->model();
    SliceView* axial = w_->sliceView(ViewKind::Axial);
    SliceView* coronal = w_->sliceView(ViewKind::Coronal);
    const int corAxis = m->axes(ViewKind::Coronal).sliceAxis;
    QImage before = coronal->grabImage();
    auto c0 = m->cursor();
    auto target = c0;
    target[0] += 15;
    target[1] += 25;
    QTest::mouseClick(axial, Qt::LeftButton, Qt::NoModifier, axial->widgetPosOf(target).toPoint());
    auto c1 = m->cursor();
    QVERIFY(std::abs(c1[0] - target[0]) <= 1);
    QVERIFY(std::abs(c1[1] - target[1]) <= 1);
    QCOMPARE(c1[2], c0[2]);  // the axial slice itself does not move
    QVERIFY(c1[corAxis] != c0[corAxis]);
    QTest::qWait(50);
    QImage after = coronal->grabImage();
    QVERIFY(before.size() == after.size());
    int differing = 0;
    for (int y = 0; y < after.height(); y += 4)
      for (int x = 0; x < after.width(); x += 4)
        if (before.pixel(x, y) != after.pixel(x, y)) ++differing;
    QVERIFY2(differing > 100, qPrintable(QString("only %1 pixels changed").arg(differing)));
    // Wheel scrolls the axial slice by one.
    QWheelEvent wheel(QPointF(50, 50), axial->mapToGlobal(QPointF(50, 50)), QPoint(), QPoint(0, 120), Qt::NoButton,
                      Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(axial, &wheel);
    QCOMPARE(m->cursor()[2], c1[2] + 1);
  }

  void thresholdChangesMaskOverlay() {
    ensureLoaded();
    ViewerModel* m = w_->model();
    m->setMaskVisible(true);
    SliceView* axial = w_->sliceView(ViewKind::Axial);
    auto i = m->cursor();
    i[0] += 9;
    i[1] -= 7;
    const float v = m->valueAt(i);
    QVERIFY(v > 20);
    QSignalSpy mask(w_.get(), &MainWindow::maskUpdated);
    w_->parameterPanel()->setThreshold(1, 255);
    QVERIFY(mask.wait(10000));
    QTest::qWait(50);
    QColor in = pixelAt(axial->grabImage(), axial->widgetPosOf(i));
    QVERIFY2(in.red() - in.blue() > 30,
             qPrintable(QString("rgb %1 %2 %3").arg(in.red()).arg(in.green()).arg(in.blue())));
    // A window that excludes this voxel removes the tint there.
    w_->parameterPanel()->setThreshold(v + 1, 255);
    QVERIFY(mask.wait(10000));
    QTest::qWait(50);
    QColor out = pixelAt(axial->grabImage(), axial->widgetPosOf(i));
    QVERIFY2(std::abs(out.blue() - out.red()) <= 3, qPrintable(QString("rgb %1 %2 %3").arg(out.red()).arg(out.green()).arg(out.blue())));
    QCOMPARE(m->mask()->inside[m->volume()->geom.index(i[0], i[1], i[2])], uint8_t(0));
    w_->parameterPanel()->setThreshold(1, 255);
    QVERIFY(mask.wait(10000));
  }

  void eventLoopRunsDuringTrainingAndCancel() {
    ensureLoaded();
    ParameterPanel* pp = w_->parameterPanel();
    pp->applyPreset("fast");
    pp->setValue("patches", 2000);
    pp->setValue("threads", 1);  // leaves a core to the GUI on a 2-core machine
    QSignalSpy done(w_.get(), &MainWindow::trainingFinished);
    // Wall-clock gaps between 10 ms ticks, and the GUI thread's own CPU time inside each gap: on an
    // oversubscribed machine a gap can come from other processes, but CPU time in it is ours.
    QElapsedTimer clock;
    qint64 last = 0, maxGap = 0;
    double lastCpu = threadCpuMs(), maxCpuInGap = 0;
    QTimer tick;
    tick.setInterval(10);
    connect(&tick, &QTimer::timeout, this, [&] {
      qint64 now = clock.elapsed();
      double cpu = threadCpuMs();
      maxGap = std::max(maxGap, now - last);
      maxCpuInGap = std::max(maxCpuInGap, cpu - lastCpu);
      last = now;
      lastCpu = cpu;
    });
    clock.start();
    tick.start();
    w_->startTraining();
    // Interact while it trains: move the crosshair (renders three views) now and then.
    for (int s = 0; s < 30; ++s) {
      QTest::qWait(100);
      w_->model()->moveSlice(s % 3, s % 2 ? 1 : -1);
    }
    QVERIFY2(done.isEmpty(), "training ended before it could be cancelled");
    QElapsedTimer cancelClock;
    cancelClock.start();
    w_->jobs()->cancelAll();
    QVERIFY(done.wait(5000));
    const qint64 cancelMs = cancelClock.elapsed();
    tick.stop();
    const double load = loadPerCore();
    qInfo("max event-loop gap %lld ms (GUI-thread CPU in a gap at most %.0f ms) while training; cancel took %lld ms; "
          "load %.1f per core",
          maxGap, maxCpuInGap, cancelMs, load);
    QCOMPARE(done.first().first().toBool(), false);
    QVERIFY2(maxCpuInGap < 100, qPrintable(QString("the GUI thread was busy for %1 ms at a stretch").arg(maxCpuInGap)));
    if (load < 1.5) {
      // The wall clock catches a GUI thread that waits (on a lock, on a training step: seconds) without using CPU;
      // 200 ms, because on 2 cores the two training threads can keep an idle GUI thread off a core for ~100 ms
      // (a fresh clone measured 101 ms with 11 ms of GUI-thread CPU). Busy work is bounded by maxCpuInGap above.
      QVERIFY2(maxGap < 200, qPrintable(QString("event loop stalled for %1 ms").arg(maxGap)));
      QVERIFY(cancelMs < 1000);
    } else {
      qWarning("machine oversubscribed (load %.1f per core): wall-clock gap not asserted", load);
    }
    // Still usable: a click moves the crosshair and the views render it.
    SliceView* axial = w_->sliceView(ViewKind::Axial);
    int renders = axial->renderCount();
    auto target = w_->model()->cursor();
    target[0] -= 10;
    QTest::mouseClick(axial, Qt::LeftButton, Qt::NoModifier, axial->widgetPosOf(target).toPoint());
    QVERIFY(std::abs(w_->model()->cursor()[0] - target[0]) <= 1);
    QTRY_VERIFY_WITH_TIMEOUT(axial->renderCount() > renders, 2000);
  }

  void cleanupTestCase() { w_.reset(); }
};

int main(int argc, char** argv) {
  // ctest sets QT_QPA_PLATFORM=offscreen for every test; VTK needs a real X window.
  if (qEnvironmentVariableIsSet("DISPLAY")) qputenv("QT_QPA_PLATFORM", "xcb");
  QApplication app(argc, argv);
  GuiMainTest t;
  return QTest::qExec(&t, argc, argv);
}

#include "test_gui_main.moc"
