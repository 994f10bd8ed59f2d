#include "core/io/VolumeReader.h"

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

VolumeFormat detectVolumeFormat(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file or folder");
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
  return v;
}

} // namespace jseg
