// ctest-links: juleseg_core
// Several channels in the GUI: File > Add channel puts a selector above the histogram; choosing the second channel
// shows its voxels in the views and its histogram, and disables the window (it applies to the first channel only);
// a channel on another grid is refused with a message, and the session keeps one channel.
#include <QApplication>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QtTest>

#include "core/io/NiftiIO.h"
#include "tests/common/TestData.h"
#include "ui/MainWindow.h"
#include "ui/ParameterPanel.h"
#include "ui/SessionController.h"

using namespace jseg;
using namespace jseg::ui;

class TestGuiChannels : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

  void addAndShowASecondChannel() {
    const std::string dir = test::tempDir("gui-channels");
    Volume a = test::rampVolume(20, 16, 12);
    Volume b = a;
    for (auto& v : b.voxels) v = 10 * v + 7;  // another contrast of the same scan
    NiftiIO::write(a, dir + "/a.nii.gz");
    NiftiIO::write(b, dir + "/b.nii.gz");
    NiftiIO::write(test::rampVolume(8, 8, 8), dir + "/small.nii.gz");

    MainWindow w;
    w.setQuietErrors(true);
    QSignalSpy loaded(&w, &MainWindow::volumeLoaded);
    w.openPath(QString::fromStdString(dir + "/a.nii.gz"));
    QVERIFY(loaded.wait(30000));
    QComboBox* selector = nullptr;
    for (auto* c : w.parameterPanel()->findChildren<QComboBox*>())
      if (c->toolTip().startsWith("Channel shown")) selector = c;
    QVERIFY(selector);
    QVERIFY(selector->isHidden());  // one channel: nothing to choose

    QSignalSpy added(w.controller(), &SessionController::channelAdded);
    w.controller()->addChannel(QString::fromStdString(dir + "/small.nii.gz"));
    QVERIFY(added.wait(30000));
    QCOMPARE(added.last().first().toBool(), false);  // another grid: refused
    QCOMPARE(w.controller()->channelNames().size(), 1);

    w.controller()->addChannel(QString::fromStdString(dir + "/b.nii.gz"));
    QVERIFY(added.wait(30000));
    QCOMPARE(added.last().first().toBool(), true);
    QCOMPARE(w.controller()->channelNames(), QStringList({"a", "b"}));
    QCOMPARE(selector->count(), 2);
    QVERIFY(!selector->isHidden());

    const std::array<int64_t, 3> c{5, 6, 7};
    w.model()->setCursor(c);
    const float first = a.at(5, 6, 7);
    QCOMPARE(float(w.model()->valueAt(c)), first);
    selector->setCurrentIndex(1);  // the channel's histogram is a job: the views switch when it lands
    QTRY_COMPARE_WITH_TIMEOUT(float(w.model()->valueAt(c)), 10 * first + 7, 10000);
    QCOMPARE(w.model()->cursor(), c);  // the views stay where they were
    QList<QDoubleSpinBox*> window = w.parameterPanel()->findChildren<QDoubleSpinBox*>();
    QVERIFY(!window.isEmpty());
    QVERIFY(!window[0]->isEnabled());  // the window belongs to the first channel
    selector->setCurrentIndex(0);
    QTRY_COMPARE_WITH_TIMEOUT(float(w.model()->valueAt(c)), first, 10000);
    QVERIFY(window[0]->isEnabled());
  }
};

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  TestGuiChannels t;
  return QTest::qExec(&t, argc, argv);
}

#include "test_gui_channels.moc"
