#pragma once
// NIfTI-1 single-file volumes (.nii, .nii.gz), read and written with correct qform/sform orientation
// (RAS on disk, LPS in memory; see Volume.h). Read supports uint8/int8/int16/uint16/int32/uint32/
// float32/float64 and scl_slope/scl_inter.
#include <string>

#include "core/base/Progress.h"
#include "core/base/Volume.h"

namespace jseg {

class NiftiIO {
public:
  static bool looksLikeNifti(const std::string& file);  // by header (gzip-aware), not only the name
  static Volume read(const std::string& path, const TaskContext* ctx = nullptr);
  // Writes in v.originalType (values rounded and clamped for integer types); gzip when path ends .gz.
  static void write(const Volume& v, const std::string& path);
  // Labels as uint8 (max < 256) or uint16, sform and qform from the geometry.
  static void writeLabels(const LabelVolume& l, const std::string& path);
  static LabelVolume readLabels(const std::string& path, const TaskContext* ctx = nullptr);
};

} // namespace jseg
