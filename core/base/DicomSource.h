#pragma once
// What a DICOM series reader keeps of the source series so that objects derived from the volume (a DICOM
// Segmentation) can be written later without reopening the files: identity (UIDs), the patient and study
// attributes to copy, and every slice's SOP instance and position. Plain strings: core/base knows no DCMTK.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace jseg {

struct DicomAttribute {
  uint16_t group = 0, element = 0;
  std::string value;  // as DCMTK's string form (multi-valued: backslash-separated)
};

struct DicomSourceSlice {
  std::string sopClassUid, sopInstanceUid;
  int frameNumber = 0;  // 1-based frame of a multi-frame file, 0 for a single-frame file
  bool hasPosition = false;
  std::array<double, 3> position{0, 0, 0};  // ImagePositionPatient, mm
};

struct DicomSource {
  std::string studyInstanceUid, seriesInstanceUid, frameOfReferenceUid, modality;
  // Patient, study and frame-of-reference module attributes of the first file (those present).
  std::vector<DicomAttribute> patientStudyAttributes;
  std::vector<DicomSourceSlice> slices;  // one per volume slice, in z order
};

} // namespace jseg
