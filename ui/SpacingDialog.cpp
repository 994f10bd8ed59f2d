#include "ui/SpacingDialog.h"

#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QVBoxLayout>

namespace jseg::ui {

SpacingDialog::SpacingDialog(const QString& file, std::array<double, 3> initial, QWidget* parent) : QDialog(parent) {
  setWindowTitle("Voxel spacing");
  auto* lay = new QVBoxLayout(this);
  auto* text = new QLabel(QString("%1 does not record its voxel spacing. Enter it (mm); 1 mm is assumed "
                                  "otherwise. Volumes in mm³ and the aspect of the slices use it.")
                              .arg(file));
  text->setWordWrap(true);
  lay->addWidget(text);
  auto* form = new QFormLayout;
  const char* names[3] = {"x (columns)", "y (rows)", "z (slices)"};
  for (int i = 0; i < 3; ++i) {
    sb_[i] = new QDoubleSpinBox;
    sb_[i]->setDecimals(5);
    sb_[i]->setRange(1e-5, 1e4);
    sb_[i]->setValue(initial[i]);
    sb_[i]->setSuffix(" mm");
    form->addRow(names[i], sb_[i]);
  }
  lay->addLayout(form);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  lay->addWidget(buttons);
}

std::array<double, 3> SpacingDialog::spacing() const { return {sb_[0]->value(), sb_[1]->value(), sb_[2]->value()}; }

} // namespace jseg::ui
