#pragma once
// DICOM series with DCMTK: a folder (searched recursively) or a DICOMDIR. Files are grouped by
// SeriesInstanceUID; slices are ordered by ImagePositionPatient projected on the slice normal (never by
// file name); RescaleSlope/Intercept applied; spacing from positions. Gaps or non-uniform spacing give
// warnings (Volume::warnings); mixed orientations or sizes are refused. Compressed transfer syntaxes
// DCMTK decodes (JPEG, JPEG-LS, RLE) and JPEG 2000 (through OpenJPEG) are read; anything else is an
// InputError naming the syntax.
#include <string>
#include <vector>

#include "core/base/DicomSource.h"
#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/io/ReadOptions.h"

namespace jseg {

struct DicomSeriesInfo {
  std::string seriesUid;
  std::string description;
  std::string modality;
  int slices = 0;
  int rows = 0;
  int columns = 0;
  std::string transferSyntax;  // name of the first file's transfer syntax
  std::string transferSyntaxUid;
};

class DicomSeriesReader {
public:
  // True when the file has the "DICM" preamble (or parses as DICOM).
  static bool looksLikeDicom(const std::string& file);
  // True when the folder (recursively) holds a DICOMDIR or at least one DICOM file.
  static bool folderHasDicom(const std::string& folder);
  // Series found under a folder or DICOMDIR, in a stable order (by description, then UID).
  static std::vector<DicomSeriesInfo> listSeries(const std::string& folderOrDicomdir,
                                                 const TaskContext* ctx = nullptr);
  // The listing as shown to users: one line per series, numbered from 1 (the numbers `--series` takes).
  static std::string formatSeriesList(const std::vector<DicomSeriesInfo>& series);
  static Volume read(const std::string& folderOrDicomdir, const ReadOptions& options = {},
                     const TaskContext* ctx = nullptr);
  // The series' identity for derived objects (a DICOM Segmentation): UIDs, patient and study attributes, and every
  // slice's SOP instance and position in the volume's z order (as read() orders them). Headers only, no pixels.
  static DicomSource readSource(const std::string& folderOrDicomdir, const ReadOptions& options = {},
                                const TaskContext* ctx = nullptr);
};

} // namespace jseg
