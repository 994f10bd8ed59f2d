#include "core/io/VolumeReader.h"

#include <sstream>
#include <cmath>
#include <filesystem>

#include "core/base/Errors.h"
#include "core/io/DicomSeriesReader.h"
#include "core/io/NiftiIO.h"
#include "core/io/TiffStackReader.h"

namespace jseg {

namespace fs = std::filesystem;

const char* volumeFormatName(VolumeFormat f) {
  switch (f) {
    case VolumeFormat::Nifti: return "NIfTI";
    case VolumeFormat::Tiff: return "TIFF";
    case VolumeFormat::TiffFolder: return "TIFF slices";
    case VolumeFormat::Dicom: return "DICOM";
    case VolumeFormat::Unknown: break;
  }
  return "unknown";
}

namespace {

// NaN or infinite intensities (float files, or integer data pushed past float range by a rescale slope)
// would poison every mean, histogram and distance the segmentation computes, and there is no neutral
// value to put in their place that is right for every image; so they are refused, counted and located.
void refuseNonFinite(const Volume& v, const std::string& path) {
  std::size_t count = 0, first = 0;
  for (std::size_t i = 0; i < v.voxels.size(); ++i)
    if (!std::isfinite(v.voxels[i]) && count++ == 0) first = i;
  if (count == 0) return;
  const auto& d = v.geom.dims;
  const std::size_t x = first % std::size_t(d[0]), y = first / std::size_t(d[0]) % std::size_t(d[1]),
                    z = first / (std::size_t(d[0]) * std::size_t(d[1]));
  throw InputError(path + ": " + std::to_string(count) + " of " + std::to_string(v.voxels.size()) +
                   " voxels are not finite numbers (NaN or infinity; the first at x=" + std::to_string(x) +
                   " y=" + std::to_string(y) + " z=" + std::to_string(z) +
                   "). Segmentation needs a real value in every voxel: replace them (e.g. with the background "
                   "value) before loading the volume.");
}

// Opening a FIFO blocks until a writer appears, and a device may never end: refused before anything opens them.
void requireFileOrFolder(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) throw InputError(path + ": no such file or folder");
  if (fs::is_regular_file(st) || fs::is_directory(st)) return;
  const char* kind = fs::is_fifo(st)             ? "a named pipe (FIFO)"
                     : fs::is_block_file(st)     ? "a block device"
                     : fs::is_character_file(st) ? "a character device"
                     : fs::is_socket(st)         ? "a socket"
                                                 : "not a regular file";
  throw InputError(path + " is " + std::string(kind) + ", not a file: give a volume file or folder");
}

// Voxel sizes beyond this (1 km) are a corrupt header or a typo, and would overflow physical extents.
constexpr double kMaxSpacingMm = 1e6;

void refuseImplausibleSpacing(const Volume& v, const std::string& path) {
  for (int a = 0; a < 3; ++a) {
    const double s = std::fabs(v.geom.spacing[a]);
    if (!(s > 0) || !(s <= kMaxSpacingMm)) {
      std::ostringstream o;
      o << path << ": voxel size " << v.geom.spacing[a] << " mm along " << "xyz"[a]
        << " is not a plausible size (0 < size <= 1e6 mm): give the right one with --spacing";
      throw InputError(o.str());
    }
  }
}

} // namespace

VolumeFormat detectVolumeFormat(const std::string& path) {
  std::error_code ec;
  requireFileOrFolder(path);
  if (fs::is_directory(path, ec)) {
    if (fs::is_empty(path, ec)) throw InputError(path + ": the folder is empty");
    // DICOM wins over TIFF: scanners sometimes drop preview TIFFs beside a series.
    if (DicomSeriesReader::folderHasDicom(path)) return VolumeFormat::Dicom;
    if (TiffStackReader::folderHasTiffSlices(path)) return VolumeFormat::TiffFolder;
    throw InputError(path + ": the folder holds neither DICOM files nor TIFF slices");
  }
  if (fs::file_size(path, ec) == 0) throw InputError(path + ": the file is empty");
  // Content first, so a misnamed file still opens and a renamed text file is refused clearly.
  if (NiftiIO::looksLikeNifti(path)) return VolumeFormat::Nifti;
  if (TiffStackReader::looksLikeTiff(path)) return VolumeFormat::Tiff;
  if (DicomSeriesReader::looksLikeDicom(path)) return VolumeFormat::Dicom;
  throw InputError(path + ": not a recognised volume (expected NIfTI .nii/.nii.gz, TIFF, a DICOM file/DICOMDIR or "
                          "a folder of them)");
}

Volume readVolume(const std::string& path, const ReadOptions& options, const TaskContext* ctx) {
  Volume v;
  switch (detectVolumeFormat(path)) {
    case VolumeFormat::Nifti:
      v = NiftiIO::read(path, ctx);
      if (options.spacing) {
        v.geom.spacing = *options.spacing;
        v.geom.spacingKnown = true;
      }
      break;
    case VolumeFormat::Tiff:
    case VolumeFormat::TiffFolder: v = TiffStackReader::read(path, options, ctx); break;
    case VolumeFormat::Dicom: {
      // A single DICOM file other than a DICOMDIR: read the series in its folder.
      std::string target = path;
      if (!fs::is_directory(path) && fs::path(path).filename() != "DICOMDIR")
        target = fs::path(path).parent_path().string();
      v = DicomSeriesReader::read(target.empty() ? "." : target, options, ctx);
      if (options.spacing) {
        v.geom.spacing = *options.spacing;
        v.geom.spacingKnown = true;
      }
      break;
    }
    case VolumeFormat::Unknown: throw InputError(path + ": not a recognised volume");
  }
  if (v.sourcePath.empty()) v.sourcePath = path;
  if (v.voxels.size() != v.geom.voxelCount() || v.voxels.empty())
    throw InputError(path + ": the reader produced no voxels");
  refuseNonFinite(v, path);
  refuseImplausibleSpacing(v, path);
  return v;
}

LabelVolume readLabelVolume(const std::string& path, const TaskContext* ctx) {
  requireFileOrFolder(path);
  if (NiftiIO::looksLikeNifti(path)) return NiftiIO::readLabels(path, ctx);
  Volume v = readVolume(path, {}, ctx);
  LabelVolume l = makeLabelVolume(v.geom);
  for (std::size_t i = 0; i < v.voxels.size(); ++i) {
    const float x = v.voxels[i];
    if (!(x >= 0 && x <= 65535 && x == std::floor(x)))
      throw InputError(path + ": not a label volume (voxel value " + std::to_string(x) + " is not a label 0..65535)");
    l.labels[i] = static_cast<uint16_t>(x);
  }
  return l;
}

} // namespace jseg
