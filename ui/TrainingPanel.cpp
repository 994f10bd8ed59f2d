#include "ui/TrainingPanel.h"

#include <cmath>

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPushButton>
#include <QValueAxis>
#include <QVBoxLayout>
#include <algorithm>

#include "ui/JobsPanel.h"

namespace jseg::ui {

TrainingPanel::TrainingPanel(QWidget* parent) : QWidget(parent) {
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(4, 4, 4, 4);
  auto* row = new QHBoxLayout;
  train_ = new QPushButton("Train JULE");
  train_->setToolTip("Sample patches inside the threshold window and train the network with JULE (runs as a job; "
                     "progress in the Jobs panel, cancel there)");
  loadModel_ = new QPushButton("Load model…");
  loadModel_->setToolTip("Use a network trained earlier (model.pt with its model.json) instead of training");
  row->addWidget(train_);
  row->addWidget(loadModel_);
  row->addStretch();
  lay->addLayout(row);
  status_ = new QLabel("Not trained yet.");
  status_->setWordWrap(true);
  rates_ = new QLabel;
  estimate_ = new QLabel;
  estimate_->setObjectName("trainingEstimate");
  estimate_->setWordWrap(true);
  estimate_->setToolTip(
      "From the period plan and the network's speed measured on this machine; the ETA while "
      "training is measured on the real run");
  lay->addWidget(estimate_);
  lay->addWidget(status_);
  lay->addWidget(rates_);

  auto* chart = new QChart;
  chart->setTitle("Clusters and loss per period");
  chart->legend()->setAlignment(Qt::AlignBottom);
  clusters_ = new QLineSeries;
  clusters_->setName("clusters");
  clusters_->setPointsVisible(true);
  loss_ = new QLineSeries;
  loss_->setName("loss");
  loss_->setPointsVisible(true);
  chart->addSeries(clusters_);
  chart->addSeries(loss_);
  xAxis_ = new QValueAxis;
  xAxis_->setTitleText("period");
  xAxis_->setLabelFormat("%d");
  // Periods are whole numbers: ticks every period (a fixed tick count put "1" at 1.25 and made the points
  // look off their period).
  xAxis_->setTickType(QValueAxis::TicksDynamic);
  xAxis_->setTickAnchor(0);
  xAxis_->setTickInterval(1);
  xAxis_->setRange(0, 5);
  clusterAxis_ = new QLogValueAxis;
  clusterAxis_->setTitleText("clusters");
  clusterAxis_->setLabelFormat("%g");
  clusterAxis_->setBase(10);
  clusterAxis_->setRange(1, 10000);
  lossAxis_ = new QValueAxis;
  lossAxis_->setTitleText("loss");
  lossAxis_->setRange(0, 0.3);
  chart->addAxis(xAxis_, Qt::AlignBottom);
  chart->addAxis(clusterAxis_, Qt::AlignLeft);
  chart->addAxis(lossAxis_, Qt::AlignRight);
  clusters_->attachAxis(xAxis_);
  clusters_->attachAxis(clusterAxis_);
  loss_->attachAxis(xAxis_);
  loss_->attachAxis(lossAxis_);
  auto* view = new QChartView(chart);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumHeight(200);
  lay->addWidget(view, 2);

  auto* sizesChart = new QChart;
  sizesChart_ = sizesChart;
  sizesChart->setTitle("Patches per cluster, largest first");
  sizesChart->legend()->hide();
  sizesSeries_ = new QBarSeries;
  sizesChart->addSeries(sizesSeries_);
  sizesAxis_ = new QValueAxis;
  sizesAxis_->setLabelFormat("%d");
  sizesChart->addAxis(sizesAxis_, Qt::AlignLeft);
  sizesSeries_->attachAxis(sizesAxis_);
  sizesCategories_ = new QBarCategoryAxis;
  // Thirty numbered bars do not fit a dock's width (every label became "…"):
  // the axis title says what they are.
  sizesCategories_->setLabelsVisible(false);
  sizesChart->addAxis(sizesCategories_, Qt::AlignBottom);
  sizesSeries_->attachAxis(sizesCategories_);
  auto* sizesView = new QChartView(sizesChart);
  sizesView->setMinimumHeight(140);
  lay->addWidget(sizesView, 1);
}

void TrainingPanel::clearPeriodChart(const QString& title) {
  clusters_->clear();
  loss_->clear();
  periods_ = 0;
  maxLoss_ = 0;
  firstClusters_ = 0;
  mergePeriod_ = -1;
  setPeriodRange(0);
  if (auto* c = clusters_->chart()) c->setTitle(title);
}

void TrainingPanel::reset() {
  clearPeriodChart("Clusters and loss per period");
  sizesSeries_->clear();
  sizesCategories_->clear();
  sizesCategories_->setTitleText({});
  sizesChart_->setTitle("Patches per cluster, largest first"); // not the previous run's counts
  status_->clear(); // the caller says what comes next ("Starting…", "Not
                    // trained yet.", the model)
  rates_->clear();
}

void TrainingPanel::setStatus(const QString& text) { status_->setText(text); }

void TrainingPanel::setPlannedPeriods(int periods) {
  plannedPeriods_ = std::max(0, periods);
  if (periods_ == 0) setPeriodRange(0);
}

void TrainingPanel::setPeriodRange(int reached) {
  // The plan's length from the start (paper: dozens of periods, not a fixed 0-5), longer if training runs over.
  const int last = std::max({5, plannedPeriods_, reached});
  xAxis_->setRange(0, last);
  xAxis_->setTickInterval(last > 12 ? std::ceil(last / 10.0) : 1);
}

void TrainingPanel::setEstimate(const QString& text) {
  estimate_->setText(text);
  estimate_->setVisible(!text.isEmpty());
}

void TrainingPanel::setRunning(bool running) {
  train_->setEnabled(!running);
  loadModel_->setEnabled(!running);
}

void TrainingPanel::onTrainerEvent(const nlohmann::json& e) {
  const std::string type = e.value("type", "");
  if (type == "period") {
    int period = e.value("period", 0);
    int clusters = e.value("clusters", 0);
    double loss = e.value("loss", 0.0);
    if (firstClusters_ == 0) firstClusters_ = clusters;
    clusters_->append(period, std::max(1, clusters));
    loss_->append(period, loss);
    ++periods_;
    maxLoss_ = std::max(maxLoss_, loss);
    setPeriodRange(period + 1);
    clusterAxis_->setRange(1, std::max(10.0, firstClusters_ * 1.5));
    lossAxis_->setRange(0, std::max(0.05, maxLoss_ * 1.15));
    status_->setText(QString("Period %1%2: trained on %3 clusters, loss %4, %5 epochs in %6. ETA %7.")
                         .arg(period)
                         .arg(e.value("final_pass", false) ? " (final pass)" : "")
                         .arg(clusters)
                         .arg(loss, 0, 'f', 4)
                         .arg(e.value("epochs", 0))
                         .arg(formatSeconds(e.value("seconds", 0.0)))
                         .arg(formatSeconds(e.value("eta_s", e.value("etaS", -1.0)))));
    double pps = e.value("patches_per_s", e.value("patchesPerS", 0.0));
    if (pps > 0) rates_->setText(QString("Training: %1 patches/s").arg(pps, 0, 'f', 0));
  } else if (type == "merge") {
    int period = e.value("period", 0);
    auto now = std::chrono::steady_clock::now();
    if (period != mergePeriod_) {
      mergePeriod_ = period;
      mergeStart_ = now;
    }
    double dt = std::chrono::duration<double>(now - mergeStart_).count();
    int done = e.value("merges_done", e.value("mergesDone", 0));
    int left = e.value("clusters_left", e.value("clustersLeft", 0));
    QString rate = dt > 0.05 ? QString("%1 merges/s").arg(done / dt, 0, 'f', 0) : QString("…");
    rates_->setText(QString("Merging (period %1): %2 clusters left, %3").arg(period).arg(left).arg(rate));
  } else if (type == "cluster_sizes") {
    auto sizes = e.value("sizes", std::vector<int>{});
    sizesSeries_->clear();
    auto* set = new QBarSet("size");
    int shown = std::min<int>(int(sizes.size()), 30);
    int maxSize = 1;
    for (int i = 0; i < shown; ++i) {
      *set << sizes[i];
      maxSize = std::max(maxSize, sizes[i]);
    }
    sizesSeries_->append(set);
    QStringList names;
    for (int i = 1; i <= shown; ++i) names << QString::number(i);
    sizesCategories_->setCategories(names);
    sizesAxis_->setRange(0, maxSize * 1.1);
    sizesChart_->setTitle(QString("Patches per cluster: the %1 largest of %2").arg(shown).arg(sizes.size()));
    sizesCategories_->setTitleText(QString("clusters 1–%1, largest first").arg(shown));
  } else if (type == "network") {
    // Several networks (parameter `networks`) train one after another: the chart follows the current one.
    const int network = e.value("network", 1), networks = e.value("networks", 1);
    clearPeriodChart(QString("Clusters and loss per period, network %1 of %2").arg(network).arg(networks));
    status_->setText(QString("Network %1 of %2: starting…").arg(network).arg(networks));
  } else if (type == "epoch") {
    status_->setText(QString("Period %1, epoch %2: loss %3")
                         .arg(e.value("period", 0))
                         .arg(e.value("epoch_in_period", e.value("epochInPeriod", 0)))
                         .arg(e.value("loss", 0.0), 0, 'f', 4));
  }
}

} // namespace jseg::ui
