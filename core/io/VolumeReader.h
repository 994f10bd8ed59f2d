#pragma once
// One entry point that opens any supported volume: a NIfTI file, a TIFF file or folder of TIFF
// slices, a DICOM folder or DICOMDIR. The format is decided from the content, not only the name.
#include <string>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/io/ReadOptions.h"

namespace jseg {

enum class VolumeFormat { Unknown, Nifti, Tiff, TiffFolder, Dicom };

const char* volumeFormatName(VolumeFormat f);
// Throws InputError for a path that does not exist or an empty folder.
VolumeFormat detectVolumeFormat(const std::string& path);
// Also refuses (InputError naming how many and where) volumes with NaN or infinite voxels, which the
// format readers themselves pass through as stored.
Volume readVolume(const std::string& path, const ReadOptions& options = {}, const TaskContext* ctx = nullptr);
// A label volume (ground truth, a saved segmentation, a mask): NIfTI labels, or any format readVolume reads whose
// voxels are integers 0..65535. The one rule for every front end; InputError names the first bad value.
LabelVolume readLabelVolume(const std::string& path, const TaskContext* ctx = nullptr);

} // namespace jseg
