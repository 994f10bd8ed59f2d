#pragma once
// Label overlay controls and statistics: opacity, and per label its colour (click the swatch), name,
// visibility, voxel count, volume in mm³ and mean intensity; NMI against a loaded ground truth.
#include <QWidget>
#include <vector>

#include "core/io/LabelOutputs.h"
#include "ui/ViewerModel.h"

class QLabel;
class QSlider;
class QTableWidget;
class QPushButton;

namespace jseg::ui {

class LabelsPanel : public QWidget {
  Q_OBJECT
public:
  LabelsPanel(ViewerModel* model, QWidget* parent = nullptr);
  void setStatistics(const std::vector<LabelStatistics>& stats);
  void setNmi(const QString& text);
  QPushButton* truthButton() const { return truth_; }

private:
  void rebuild();
  ViewerModel* model_;
  QSlider* opacity_;
  QTableWidget* table_;
  QLabel* nmi_;
  QPushButton* truth_;
  std::vector<LabelStatistics> stats_;
  bool updating_ = false;
};

} // namespace jseg::ui
