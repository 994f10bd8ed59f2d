#include "ui/SeriesPickerDialog.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace jseg::ui {

SeriesPickerDialog::SeriesPickerDialog(const std::vector<DicomSeriesInfo>& series, QWidget* parent)
    : QDialog(parent), series_(series) {
  setWindowTitle("Choose a DICOM series");
  auto* lay = new QVBoxLayout(this);
  lay->addWidget(new QLabel(QString("This folder holds %1 series. Which one should be opened?").arg(series.size())));
  table_ = new QTableWidget(int(series.size()), 5);
  table_->setHorizontalHeaderLabels({"Description", "Modality", "Slices", "Size", "Transfer syntax"});
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  table_->verticalHeader()->hide();
  for (int r = 0; r < int(series.size()); ++r) {
    const auto& s = series[r];
    QString desc = s.description.empty() ? QString("(no description)") : QString::fromStdString(s.description);
    auto* it = new QTableWidgetItem(desc);
    it->setToolTip(QString::fromStdString(s.seriesUid));
    table_->setItem(r, 0, it);
    table_->setItem(r, 1, new QTableWidgetItem(QString::fromStdString(s.modality)));
    table_->setItem(r, 2, new QTableWidgetItem(QString::number(s.slices)));
    table_->setItem(r, 3, new QTableWidgetItem(QString("%1 × %2").arg(s.columns).arg(s.rows)));
    table_->setItem(r, 4, new QTableWidgetItem(QString::fromStdString(s.transferSyntax)));
  }
  if (!series.empty()) table_->selectRow(0);
  lay->addWidget(table_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(table_, &QTableWidget::cellDoubleClicked, this, &QDialog::accept);
  lay->addWidget(buttons);
  resize(700, 320);
}

std::string SeriesPickerDialog::selectedUid() const {
  int r = table_->currentRow();
  if (r < 0 || r >= int(series_.size())) return {};
  return series_[r].seriesUid;
}

} // namespace jseg::ui
