// ctest-links: juleseg_base juleseg_io
// Widgets that need no rendering: the parameter panel built from the schema (every parameter has an
// editor, presets and values round-trip, the threshold window reaches Parameters), the intensity
// statistics behind the histogram and the automatic window, and the series picker.
#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QValueAxis>
#include <QXYSeries>
#include <QtTest>

#include "core/params/ParameterSchema.h"
#include "core/pipeline/SegmentationSession.h"
#include "tests/common/TestData.h"
#include "ui/ParameterPanel.h"
#include "ui/SeriesPickerDialog.h"
#include "ui/TrainingPanel.h"
#include "ui/VolumeStats.h"

using namespace jseg;
using namespace jseg::ui;

class GuiPanelsTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void everySchemaParameterHasAnEditorWithItsHelp() {
    ParameterPanel panel;
    for (const auto& s : parameterSchema()) {
      if (s.group == "Mask") continue;  // the threshold has its own spin boxes with the histogram
      auto* w = panel.findChild<QWidget*>(QString::fromStdString("param_" + s.name));
      QVERIFY2(w, s.name.c_str());
      QVERIFY(w->toolTip().contains(QString::fromStdString(s.help).toHtmlEscaped().left(30)));
      switch (s.type) {
        case ParamType::Int: QVERIFY(qobject_cast<QSpinBox*>(w)); break;
        case ParamType::Double: QVERIFY(qobject_cast<QDoubleSpinBox*>(w)); break;
        case ParamType::Bool: QVERIFY(qobject_cast<QCheckBox*>(w)); break;
        case ParamType::Choice: QCOMPARE(qobject_cast<QComboBox*>(w)->count(), int(s.choices.size())); break;
      }
    }
  }

  void presetsRoundTrip() {
    ParameterPanel panel;
    panel.setThreshold(10, 200);
    panel.applyPreset("fast");
    Parameters p = panel.parameters();
    Parameters want = Parameters::preset("fast");
    for (const auto& s : parameterSchema()) {
      if (s.group == "Mask") continue;
      if (s.type == ParamType::Double)
        QVERIFY2(std::abs(p.getDouble(s.name) - want.getDouble(s.name)) <= 1e-9 * std::max(1.0, std::abs(want.getDouble(s.name))),
                 s.name.c_str());
      else
        QVERIFY2(p.get(s.name) == want.get(s.name), s.name.c_str());
    }
    // The preset really changed something the panel shows (its values are the schema's to define).
    int overridden = 0;
    Parameters paper = Parameters::preset("paper");
    for (const auto& s : parameterSchema())
      if (paper.get(s.name) != want.get(s.name)) ++overridden;
    QVERIFY(overridden >= 2);
    // The preset keeps the threshold chosen for the volume.
    QCOMPARE(p.getDouble("threshold_lo"), 10.0);
    QCOMPARE(p.getDouble("threshold_hi"), 200.0);
    panel.applyPreset("paper");
    QCOMPARE(panel.parameters().getInt("patch_size"), Parameters::preset("paper").getInt("patch_size"));
    QCOMPARE(panel.parameters().getInt("patches"), Parameters::preset("paper").getInt("patches"));

    // The combo names the preset the values are, and "custom" once they differ (an edit, or a model's
    // training settings copied in), then the preset again when the values return to it.
    auto* combo = panel.findChild<QComboBox*>("presetCombo");
    QVERIFY(combo);
    QCOMPARE(combo->currentText(), QString("paper"));
    const nlohmann::json fastValues = Parameters::preset("fast").toJson();
    for (const auto& [key, value] : fastValues.items())
      if (key != "threshold_lo" && key != "threshold_hi") panel.setValue(key, value);
    QCOMPARE(combo->currentText(), QString("fast"));
    panel.setValue("clusters", 33);
    QCOMPARE(combo->currentText(), QString("custom"));
    QCOMPARE(panel.parameters().getInt("clusters"), 33);  // showing "custom" changed nothing
    panel.setValue("clusters", Parameters::preset("fast").getInt("clusters"));
    QCOMPARE(combo->currentText(), QString("fast"));
  }

  void editsReachParametersAndSignals() {
    ParameterPanel panel;
    QSignalSpy grid(&panel, &ParameterPanel::gridChanged);
    QSignalSpy thr(&panel, &ParameterPanel::thresholdChanged);
    panel.setShowGrid(true);
    QVERIFY(!grid.isEmpty());
    QCOMPARE(grid.last().at(0).toBool(), true);
    // The panel starts from this machine's default preset (issue 16: fast without CUDA).
    const Parameters defaults = Parameters::preset(SegmentationSession::defaultPreset());
    QCOMPARE(grid.last().at(1).toInt(), defaults.getInt("stride"));
    QCOMPARE(grid.last().at(2).toInt(), defaults.getInt("patch_size"));
    panel.setValue("stride", 3);
    QCOMPARE(grid.last().at(1).toInt(), 3);
    QCOMPARE(panel.parameters().getInt("stride"), 3);
    panel.setThreshold(-5, 7.5);
    QCOMPARE(thr.last().at(0).toDouble(), -5.0);
    QCOMPARE(thr.last().at(1).toDouble(), 7.5);
    // Inconsistent values are refused with the schema's message.
    panel.setValue("stride", 40); // larger than the patch (27³ paper, 15³ fast)
    bool threw = false;
    try {
      panel.parameters();
    } catch (const InputError&) {
      threw = true;
    }
    QVERIFY(threw);
  }

  void trainingChartTicksEveryPeriod() {
    // Points sit at whole periods and so must the tick labels (a fixed tick count put "1" at 1.25).
    TrainingPanel panel;
    for (int period = 0; period < 3; ++period)
      panel.onTrainerEvent({{"type", "period"}, {"period", period}, {"clusters", 200 / (period + 1)}, {"loss", 0.1}});
    QCOMPARE(panel.periodsSeen(), 3);
    QValueAxis* periods = nullptr;
    for (auto* view : panel.findChildren<QChartView*>())
      for (auto* axis : view->chart()->axes(Qt::Horizontal))
        if (auto* v = qobject_cast<QValueAxis*>(axis); v && v->titleText() == "period") periods = v;
    QVERIFY(periods);
    QCOMPARE(periods->tickType(), QValueAxis::TicksDynamic);
    QCOMPARE(periods->tickAnchor(), 0.0);
    QCOMPARE(periods->tickInterval(), 1.0);
    QCOMPARE(periods->min(), 0.0);
    QVERIFY(periods->max() >= 3.0);
    // The plan's length once known (issue 16: the axis stayed at 0-5 through an hours-long run).
    panel.setPlannedPeriods(30);
    panel.onTrainerEvent({{"type", "period"}, {"period", 3}, {"clusters", 40}, {"loss", 0.1}});
    QCOMPARE(periods->max(), 30.0);
    QCOMPARE(periods->tickInterval(), 3.0);
  }

  void trainingChartFollowsEachNetwork() {
    // With several networks the chart restarts for each one and says which one it shows.
    TrainingPanel panel;
    for (int period = 0; period < 3; ++period)
      panel.onTrainerEvent({{"type", "period"}, {"period", period}, {"clusters", 50}, {"loss", 0.1}});
    QCOMPARE(panel.periodsSeen(), 3);
    panel.onTrainerEvent({{"type", "network"}, {"network", 2}, {"networks", 3}});
    QCOMPARE(panel.periodsSeen(), 0);
    QChart* chart = nullptr;
    for (auto* view : panel.findChildren<QChartView*>())
      if (view->chart()->title().startsWith("Clusters and loss")) chart = view->chart();
    QVERIFY(chart);
    QCOMPARE(chart->title(), QString("Clusters and loss per period, network 2 of 3"));
    for (auto* series : chart->series()) QCOMPARE(qobject_cast<QXYSeries*>(series)->count(), 0);
    panel.onTrainerEvent({{"type", "period"}, {"period", 0}, {"clusters", 40}, {"loss", 0.2}});
    QCOMPARE(panel.periodsSeen(), 1);
    panel.reset();
    QCOMPARE(chart->title(), QString("Clusters and loss per period"));
  }

  void volumeStatsGiveHistogramAndPercentiles() {
    Volume v = test::rampVolume(10, 10, 10);  // values x + 100 y + 10000 z: 0 .. 90909
    VolumeStats s = VolumeStats::compute(v, 100);
    QCOMPARE(s.min, 0.0f);
    QCOMPARE(s.max, 90909.0f);
    uint64_t total = 0;
    for (auto b : s.bins) total += b;
    QCOMPARE(total, uint64_t(1000));
    // 100 voxels per z-slice, 10000 apart: slice z falls in bin floor(z * 10000 / 909.99).
    QCOMPARE(s.bins[0], uint64_t(100 - 0));
    QCOMPARE(s.bins[s.binOf(50000)], uint64_t(100));
    QVERIFY(std::abs(s.percentile(50) - 40000) < 1500);
    QVERIFY(s.percentile(99.5) > 85000);
    QVERIFY(s.percentile(0.5) < 1000);
  }

  void seriesPickerReturnsTheChosenSeries() {
    std::vector<DicomSeriesInfo> series(2);
    series[0].seriesUid = "1.2.3";
    series[0].description = "T1 axial";
    series[0].modality = "MR";
    series[0].slices = 24;
    series[0].rows = 512;
    series[0].columns = 512;
    series[1].seriesUid = "1.2.4";
    series[1].description = "CT lung";
    series[1].modality = "CT";
    series[1].slices = 120;
    series[1].rows = 256;
    series[1].columns = 256;
    SeriesPickerDialog dlg(series);
    auto* table = dlg.findChild<QTableWidget*>();
    QVERIFY(table);
    QCOMPARE(table->rowCount(), 2);
    QCOMPARE(table->item(1, 0)->text(), QString("CT lung"));
    QCOMPARE(table->item(1, 2)->text(), QString("120"));
    QCOMPARE(table->item(0, 3)->text(), QString("512 × 512"));
    QCOMPARE(dlg.selectedUid(), std::string("1.2.3"));
    table->selectRow(1);
    QCOMPARE(dlg.selectedUid(), std::string("1.2.4"));
  }
};

QTEST_MAIN(GuiPanelsTest)
#include "test_gui_panels.moc"
