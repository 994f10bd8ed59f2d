#include "ui/KPickerPanel.h"

#include "core/params/ParameterSchema.h"

#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QPushButton>
#include <QScatterSeries>
#include <QSpinBox>
#include <QValueAxis>
#include <QVBoxLayout>
#include <algorithm>

namespace jseg::ui {

KPickerPanel::KPickerPanel(QWidget* parent) : QWidget(parent) {
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(4, 4, 4, 4);
  features_ = new QPushButton("Extract features && sweep K");
  features_->setToolTip("Run the trained network densely over the volume at the chosen stride, then k-means for "
                        "K = 2..10 (inertia and silhouette per K)");
  lay->addWidget(features_);
  status_ = new QLabel("Train or load a model first.");
  status_->setWordWrap(true);
  lay->addWidget(status_);

  auto* chart = new QChart;
  chart->setTitle("k-means per K");
  chart->legend()->setAlignment(Qt::AlignBottom);
  inertia_ = new QLineSeries;
  inertia_->setName("inertia");
  inertia_->setPointsVisible(true);
  silhouette_ = new QLineSeries;
  silhouette_->setName("silhouette");
  silhouette_->setPointsVisible(true);
  marker_ = new QScatterSeries;
  marker_->setName("chosen K");
  marker_->setMarkerSize(12);
  chart->addSeries(inertia_);
  chart->addSeries(silhouette_);
  chart->addSeries(marker_);
  auto* x = new QValueAxis;
  x->setRange(2, 10);  // the sweep's range; a K beyond it is fitted when chosen
  x->setTickCount(9);
  x->setLabelFormat("%d");
  x->setTitleText("K");
  inertiaAxis_ = new QValueAxis;
  // Inertia as a fraction of the sweep's largest (K min's): raw sums of squares
  // ("2.77e+07") were cut off at the axis.
  inertiaAxis_->setTitleText("inertia (fraction of K min)");
  inertiaAxis_->setLabelFormat("%.2f");
  silAxis_ = new QValueAxis;
  silAxis_->setTitleText("silhouette");
  silAxis_->setRange(0, 1);
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(inertiaAxis_, Qt::AlignLeft);
  chart->addAxis(silAxis_, Qt::AlignRight);
  for (auto* s : {static_cast<QXYSeries*>(inertia_), static_cast<QXYSeries*>(marker_)}) {
    s->attachAxis(x);
    s->attachAxis(inertiaAxis_);
  }
  silhouette_->attachAxis(x);
  silhouette_->attachAxis(silAxis_);
  auto* view = new QChartView(chart);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumHeight(200);
  lay->addWidget(view, 1);

  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel("Regions K"));
  k_ = new QSpinBox;
  k_->setRange(int(paramSpec("k").min), int(paramSpec("k").max));
  k_->setValue(3);
  k_->setToolTip("Number of regions; the slices show a preview at once");
  row->addWidget(k_);
  apply_ = new QPushButton("Apply to volume");
  apply_->setToolTip("Paint the labels of the chosen K on the whole volume");
  row->addWidget(apply_);
  row->addStretch();
  lay->addLayout(row);
  agreement_ = new QLabel;
  agreement_->setWordWrap(true);
  agreement_->setToolTip("Each network's features clustered alone at K, compared pairwise (mean NMI). Needs no truth: "
                         "near 1 the regions are the same whatever the seed. Smoothing raises it, so compare runs "
                         "with the same smoothing only.");
  agreement_->hide();
  lay->addWidget(agreement_);
  k_->setEnabled(false);
  apply_->setEnabled(false);
  connect(k_, &QSpinBox::valueChanged, this, [this](int k) {
    marker_->clear();
    for (const auto& p : points_)
      if (p.k == k) marker_->append(k, p.inertia / inertiaScale_);
    Q_EMIT kChanged(k);
  });
}

void KPickerPanel::setStatus(const QString& s) { status_->setText(s); }

void KPickerPanel::setAgreement(const QString& text) {
  agreement_->setText(text);
  agreement_->setVisible(!text.isEmpty());
}

QString KPickerPanel::agreement() const { return agreement_->text(); }

void KPickerPanel::clear() {
  points_.clear();
  inertia_->clear();
  silhouette_->clear();
  marker_->clear();
  k_->setEnabled(false);
  apply_->setEnabled(false);
}

void KPickerPanel::setCurve(const std::vector<KCurvePoint>& points, int suggestedK) {
  points_ = points;
  inertia_->clear();
  silhouette_->clear();
  double maxI = 0, minS = 0, maxS = 0.1;
  double largest = 0;
  for (const auto& p : points) largest = std::max(largest, p.inertia);
  inertiaScale_ = largest > 0 ? largest : 1;
  for (const auto& p : points) {
    inertia_->append(p.k, p.inertia / inertiaScale_);
    silhouette_->append(p.k, p.silhouette);
    maxI = std::max(maxI, p.inertia / inertiaScale_);
    minS = std::min(minS, p.silhouette);
    maxS = std::max(maxS, p.silhouette);
  }
  inertiaAxis_->setRange(0, maxI > 0 ? maxI * 1.05 : 1);
  silAxis_->setRange(minS, maxS * 1.1);
  k_->setEnabled(!points.empty());
  apply_->setEnabled(!points.empty());
  marker_->clear();
  for (const auto& p : points_)
    if (p.k == k_->value()) marker_->append(p.k, p.inertia / inertiaScale_);
  if (suggestedK > 0)
    setStatus(QString("Highest silhouette at K = %1. Change K to preview; Apply paints the volume.").arg(suggestedK));
}

int KPickerPanel::k() const { return k_->value(); }
void KPickerPanel::setK(int k) { k_->setValue(k); }

} // namespace jseg::ui
