#include "ui/LabelsPanel.h"

#include <QColorDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSlider>
#include <QTableWidget>
#include <QVBoxLayout>

namespace jseg::ui {

LabelsPanel::LabelsPanel(ViewerModel* model, QWidget* parent) : QWidget(parent), model_(model) {
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(4, 4, 4, 4);
  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel("Opacity"));
  opacity_ = new QSlider(Qt::Horizontal);
  opacity_->setRange(0, 100);
  opacity_->setValue(int(model_->labelOpacity() * 100));
  opacity_->setToolTip("Opacity of the label overlay on the slices");
  row->addWidget(opacity_);
  lay->addLayout(row);
  table_ = new QTableWidget(0, 6);
  table_->setHorizontalHeaderLabels({"", "Name", "Show", "Voxels", "mm³", "Mean"});
  // The numbers keep their width; the name takes what is left (a stretched name pushed them out of a narrow dock).
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
  table_->horizontalHeader()->setMinimumSectionSize(24);
  table_->verticalHeader()->hide();
  table_->setWordWrap(false); // "Region 1" on one line, elided when the dock is narrow
  table_->setTextElideMode(Qt::ElideRight);
  table_->setColumnWidth(0, 26);
  table_->setColumnWidth(2, 42);
  table_->setToolTip("Double-click a colour to change it; edit the name; untick Show to hide a label");
  lay->addWidget(table_);
  auto* row2 = new QHBoxLayout;
  truth_ = new QPushButton("Load ground truth…");
  truth_->setToolTip("A label volume on the same grid (NIfTI or TIFF); the NMI of the current labels against it "
                     "(voxels with truth > 0) is shown");
  row2->addWidget(truth_);
  nmi_ = new QLabel;
  nmi_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  row2->addWidget(nmi_, 1);
  lay->addLayout(row2);

  connect(opacity_, &QSlider::valueChanged, this, [this](int v) { model_->setLabelOpacity(v / 100.0); });
  connect(model_, &ViewerModel::labelsChanged, this, &LabelsPanel::rebuild);
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int r, int c) {
    if (c != 0 || r >= int(model_->labelTable().size())) return;
    LabelInfo info = model_->labelTable()[r];
    QColor col = QColorDialog::getColor(QColor(info.rgb[0], info.rgb[1], info.rgb[2]), this, "Label colour");
    if (!col.isValid()) return;
    info.rgb = {uint8_t(col.red()), uint8_t(col.green()), uint8_t(col.blue())};
    model_->setLabelInfo(r, info);
    table_->item(r, 0)->setBackground(col);
  });
  connect(table_, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* it) {
    if (updating_ || it->row() >= int(model_->labelTable().size())) return;
    LabelInfo info = model_->labelTable()[it->row()];
    if (it->column() == 1) info.name = it->text().toStdString();
    else if (it->column() == 2) info.visible = it->checkState() == Qt::Checked;
    else return;
    model_->setLabelInfo(it->row(), info);
  });
}

void LabelsPanel::setStatistics(const std::vector<LabelStatistics>& stats) {
  stats_ = stats;
  rebuild();
}

void LabelsPanel::setNmi(const QString& text) { nmi_->setText(text); }

void LabelsPanel::rebuild() {
  updating_ = true;
  const auto& table = model_->labelTable();
  table_->setRowCount(int(table.size()));
  for (int r = 0; r < int(table.size()); ++r) {
    const auto& t = table[r];
    auto* sw = new QTableWidgetItem;
    sw->setBackground(QColor(t.rgb[0], t.rgb[1], t.rgb[2]));
    sw->setFlags(Qt::ItemIsEnabled);
    table_->setItem(r, 0, sw);
    table_->setItem(r, 1, new QTableWidgetItem(QString::fromStdString(t.name)));
    auto* vis = new QTableWidgetItem;
    vis->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
    vis->setCheckState(t.visible ? Qt::Checked : Qt::Unchecked);
    table_->setItem(r, 2, vis);
    QString voxels, mm3, mean;
    for (const auto& s : stats_)
      if (s.id == t.id) {
        // One format per column: whole voxels and mm³ with digit groups, the
        // mean with one decimal (no "6.1504e+05", no mixed precision).
        const QLocale c = QLocale::c();
        voxels = c.toString(qulonglong(s.voxels));
        mm3 = c.toString(s.volumeMm3, 'f', s.volumeMm3 < 100 ? 1 : 0);
        mean = c.toString(s.meanIntensity, 'f', 1);
      }
    for (int c = 3; c < 6; ++c) {
      auto* it = new QTableWidgetItem(c == 3 ? voxels : c == 4 ? mm3 : mean);
      it->setFlags(Qt::ItemIsEnabled);
      it->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      table_->setItem(r, c, it);
    }
  }
  updating_ = false;
}

} // namespace jseg::ui
