#pragma once
// Lets the user pick one series when a DICOM folder holds several.
#include <QDialog>
#include <vector>

#include "core/io/DicomSeriesReader.h"

class QTableWidget;

namespace jseg::ui {

class SeriesPickerDialog : public QDialog {
  Q_OBJECT
public:
  SeriesPickerDialog(const std::vector<DicomSeriesInfo>& series, QWidget* parent = nullptr);
  // SeriesInstanceUID of the chosen series ("" when none).
  std::string selectedUid() const;

private:
  std::vector<DicomSeriesInfo> series_;
  QTableWidget* table_;
};

} // namespace jseg::ui
