// ctest-links: juleseg_core
// The whole GUI pipeline on the demo phantom with a deliberately tiny training run: train as a job with
// live period events, features + K sweep, the K picker's preview (labels only on the visible slices),
// Apply (labels everywhere, table, statistics, NMI against the phantom's truth), label colours drawn
// in the slice view, and the label volume saved and read back.
#include <QApplication>
#include <QDockWidget>
#include <QLabel>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QtTest>
#include <QRegularExpression>

#include "core/io/NiftiIO.h"
#include "tests/common/TestData.h"
#include "ui/KPickerPanel.h"
#include "ui/MainWindow.h"
#include "ui/ParameterPanel.h"
#include "ui/SliceView.h"

using namespace jseg;
using namespace jseg::ui;

class GuiPipelineTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    if (QGuiApplication::platformName() != "xcb") QSKIP("no X display: run under xvfb-run");
  }

  void demoTrainSweepPreviewApply() {
    MainWindow w;
    w.setQuietErrors(true);
    w.resize(1400, 900);
    for (auto* d : w.findChildren<QDockWidget*>()) d->hide();
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QSignalSpy loaded(&w, &MainWindow::volumeLoaded);
    w.openDemo();
    QVERIFY(loaded.wait(60000));
    ViewerModel* m = w.model();
    QVERIFY(m->hasVolume());

    ParameterPanel* pp = w.parameterPanel();
    pp->applyPreset("fast");
    pp->setValue("patches", 400);
    pp->setValue("clusters", 10);
    pp->setValue("epochs_per_period", 1);
    pp->setValue("k", 3);
    pp->setValue("networks", 2);  // so that the K picker reports the networks' agreement
    QSignalSpy periods(w.jobs(), &JobBridge::jobEvent);
    QSignalSpy trained(&w, &MainWindow::trainingFinished);
    w.startTraining();
    QVERIFY(trained.wait(120000));
    QCOMPARE(trained.first().first().toBool(), true);
    int periodEvents = 0;
    for (const auto& args : periods) {
      auto e = args.first().value<JobEvent>();
      if (e.kind == JobEvent::Kind::Data && e.data.value("type", "") == "period") ++periodEvents;
    }
    QVERIFY(periodEvents >= 1);

    QSignalSpy features(&w, &MainWindow::featuresReady);
    w.startFeatures();
    QVERIFY(features.wait(120000));
    QCOMPARE(features.first().first().toBool(), true);
    // Two networks: the K picker shows how far their own segmentations agree (a criterion without truth).
    auto* kpicker = w.findChild<KPickerPanel*>();
    QVERIFY(kpicker != nullptr);
    const QRegularExpression agreement("^Networks agree: NMI (0\\.\\d\\d|1\\.00) at K = 3 \\(2 networks");
    QVERIFY2(agreement.match(kpicker->agreement()).hasMatch(), qPrintable(kpicker->agreement()));

    // The K picker previews on the visible slices only.
    QTRY_VERIFY_WITH_TIMEOUT(m->labels() != nullptr && m->labelsArePreview(), 10000);
    const auto c = m->cursor();
    const LabelVolume* preview = m->labels();
    const Geometry g = preview->geom;  // a copy: the preview is freed when the next labels replace it
    int onSlice = 0, offSlice = 0;
    for (int64_t y = 0; y < g.dims[1]; ++y)
      for (int64_t x = 0; x < g.dims[0]; ++x) {
        if (preview->labels[g.index(x, y, c[2])] > 0) ++onSlice;
        // Another axial slice, away from where the coronal and sagittal planes cross it.
        bool nearOtherPlanes = std::abs(x - c[0]) <= 5 || std::abs(y - c[1]) <= 5;
        if (!nearOtherPlanes && preview->labels[g.index(x, y, (c[2] + 20) % g.dims[2])] > 0) ++offSlice;
      }
    QVERIFY2(onSlice > 500, qPrintable(QString("%1 labelled voxels on the axial slice").arg(onSlice)));
    QCOMPARE(offSlice, 0);
    // Regions absent from these slices may leave the highest numbers unused.
    QVERIFY(preview->maxLabel() >= 2 && preview->maxLabel() <= 3);
    QCOMPARE(int(m->labelTable().size()), 3);

    // Changing K re-previews with that many regions.
    w.kPicker()->setK(5);
    QTRY_VERIFY_WITH_TIMEOUT(m->labels() && m->labelTable().size() == 5, 10000);
    QVERIFY(m->labels()->maxLabel() >= 3 && m->labels()->maxLabel() <= 5);

    QSignalSpy applied(&w, &MainWindow::labelsApplied);
    w.applyK(3);
    QVERIFY(applied.wait(60000));
    QCOMPARE(applied.first().first().toBool(), true);
    const LabelVolume* full = m->labels();
    QVERIFY(!m->labelsArePreview());
    QCOMPARE(full->maxLabel(), 3);
    int64_t far = 0;
    for (int64_t y = 0; y < g.dims[1]; ++y)
      for (int64_t x = 0; x < g.dims[0]; ++x)
        if (full->labels[g.index(x, y, (c[2] + 20) % g.dims[2])] > 0) ++far;
    QVERIFY(far > 500);

    // Statistics table and NMI against the phantom's truth.
    auto* table = w.findChild<QTableWidget*>();
    QList<QTableWidget*> tables = w.findChildren<QTableWidget*>();
    QTableWidget* labelTable = nullptr;
    for (auto* t : tables)
      if (t->columnCount() == 6) labelTable = t;
    QVERIFY(table && labelTable);
    QCOMPARE(labelTable->rowCount(), 3);
    qulonglong sum = 0;
    for (int r = 0; r < 3; ++r) sum += labelTable->item(r, 3)->text().toULongLong();
    qulonglong labelled = 0;
    for (auto l : full->labels) labelled += l > 0;
    QCOMPARE(sum, labelled);
    QString nmiText;
    for (auto* l : w.findChildren<QLabel*>())
      if (l->text().startsWith("NMI vs ground truth")) nmiText = l->text();
    QVERIFY2(!nmiText.isEmpty(), "no NMI shown");
    QRegularExpression re("<b>([0-9.]+)</b>");
    auto match = re.match(nmiText);
    QVERIFY(match.hasMatch());
    double nmi = match.captured(1).toDouble();
    QVERIFY(nmi >= 0 && nmi <= 1);
    qInfo("NMI of the tiny run on the demo phantom: %.3f", nmi);

    // The axial view draws a labelled voxel in its label's colour (blended over grey).
    SliceView* axial = w.sliceView(ViewKind::Axial);
    QImage img = axial->grabImage();
    int checked = 0;
    for (int64_t y = 10; y < g.dims[1] - 10 && checked < 20; y += 7)
      for (int64_t x = 10; x < g.dims[0] - 10 && checked < 20; x += 7) {
        if (std::abs(x - c[0]) < 3 || std::abs(y - c[1]) < 3) continue;  // off the crosshair
        int label = full->labels[g.index(x, y, c[2])];
        if (label == 0) continue;
        QPointF p = axial->widgetPosOf({x, y, c[2]});
        QColor px = img.pixelColor(int(p.x()), int(p.y()));
        const auto& rgb = m->labelTable()[label - 1].rgb;
        // Dominant channel of the label colour dominates the pixel too.
        int dom = rgb[0] >= rgb[1] && rgb[0] >= rgb[2] ? 0 : (rgb[1] >= rgb[2] ? 1 : 2);
        int ch[3] = {px.red(), px.green(), px.blue()};
        QVERIFY2(ch[dom] >= ch[(dom + 1) % 3] && ch[dom] >= ch[(dom + 2) % 3],
                 qPrintable(QString("label %1 at (%2,%3): pixel %4 %5 %6").arg(label).arg(x).arg(y).arg(ch[0]).arg(ch[1]).arg(ch[2])));
        ++checked;
      }
    QCOMPARE(checked, 20);

    // Saved labels read back voxel for voxel, with the table beside them.
    const std::string out = test::tempDir("gui_pipeline") + "/labels.nii.gz";
    QSignalSpy saved(&w, &MainWindow::labelsSaved);
    w.saveLabelsTo(QString::fromStdString(out));
    QVERIFY(saved.wait(30000));
    QCOMPARE(saved.first().first().toBool(), true);
    LabelVolume back = NiftiIO::readLabels(out);
    QVERIFY(back.geom.sameGrid(full->geom));
    QVERIFY(back.labels == full->labels);
    QVERIFY(QFileInfo::exists(QString::fromStdString(out + ".labels.json")));
  }
};

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsSet("DISPLAY")) qputenv("QT_QPA_PLATFORM", "xcb");
  QApplication app(argc, argv);
  GuiPipelineTest t;
  return QTest::qExec(&t, argc, argv);
}

#include "test_gui_pipeline.moc"
