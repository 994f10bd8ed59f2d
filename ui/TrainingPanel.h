#pragma once
// Live view of a JULE run: clusters left and triplet loss per period (chart), merge rate, training
// throughput, ETA and the current cluster sizes (bar chart of the largest ones). Fed with the trainer's
// typed events as JSON ({"type":"period"|"merge"|"epoch"|"cluster_sizes", ...}).
#include <QWidget>
#include <chrono>

#include <nlohmann/json.hpp>

class QLabel;
class QPushButton;
class QChart;
class QLineSeries;
class QValueAxis;
class QLogValueAxis;
class QBarSet;
class QBarSeries;
class QBarCategoryAxis;

namespace jseg::ui {

class TrainingPanel : public QWidget {
  Q_OBJECT
public:
  explicit TrainingPanel(QWidget* parent = nullptr);
  void reset();
  void onTrainerEvent(const nlohmann::json& e);
  void setRunning(bool running);
  // What the status line says between runs: the model in use (where it came from), or that there is none.
  void setStatus(const QString& text);
  // The expected training time for the parameters in the Tuning panel ("" hides it).
  void setEstimate(const QString& text);
  // Periods the plan expects (from the training estimate): the period axis spans them before the first one ends.
  void setPlannedPeriods(int periods);
  QPushButton* trainButton() const { return train_; }
  QPushButton* loadModelButton() const { return loadModel_; }
  int periodsSeen() const { return periods_; }

private:
  void clearPeriodChart(const QString& title);  // the clusters/loss chart and its per-run state
  QPushButton* train_;
  QPushButton* loadModel_;
  QLabel* status_;
  QLabel* rates_;
  QLabel* estimate_;
  QLineSeries* clusters_;
  QLineSeries* loss_;
  QValueAxis* xAxis_;
  QLogValueAxis* clusterAxis_;
  QValueAxis* lossAxis_;
  QBarSeries* sizesSeries_;
  QValueAxis* sizesAxis_;
  QBarCategoryAxis* sizesCategories_;
  QChart* sizesChart_;
  int periods_ = 0;
  int plannedPeriods_ = 0;
  void setPeriodRange(int reached);
  double maxLoss_ = 0;
  int firstClusters_ = 0;
  std::chrono::steady_clock::time_point mergeStart_;
  int mergePeriod_ = -1;
};

} // namespace jseg::ui
