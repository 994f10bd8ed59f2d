#pragma once
// Asks for the voxel spacing when the file did not say (Geometry::spacingKnown false): volumes and
// statistics in mm³ and the slice aspect depend on it.
#include <QDialog>
#include <array>

class QDoubleSpinBox;

namespace jseg::ui {

class SpacingDialog : public QDialog {
  Q_OBJECT
public:
  SpacingDialog(const QString& file, std::array<double, 3> initial, QWidget* parent = nullptr);
  std::array<double, 3> spacing() const;

private:
  QDoubleSpinBox* sb_[3];
};

} // namespace jseg::ui
