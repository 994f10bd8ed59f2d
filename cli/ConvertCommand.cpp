// juleseg-cli convert IN OUT: re-save a volume (e.g. a DICOM series or TIFF stack) as NIfTI or TIFF.
#include <iostream>
#include <memory>

#include "core/base/Errors.h"
#include "cli/CliCommon.h"
#include "core/io/NiftiIO.h"
#include "core/io/TiffStackReader.h"

namespace jseg::cli {

namespace {
bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct ConvertArgs {
  std::string in, out;
  VolumeOptions volume;
};

void runConvert(const ConvertArgs& a) {
  const bool nifti = endsWith(a.out, ".nii") || endsWith(a.out, ".nii.gz");
  const bool tiff = endsWith(a.out, ".tif") || endsWith(a.out, ".tiff");
  if (!nifti && !tiff) throw InputError("cannot tell the output format of '" + a.out + "': use .nii, .nii.gz, .tif or .tiff");
  Volume v = loadVolume(a.in, a.volume);
  if (nifti) NiftiIO::write(v, a.out);
  else writeTiffVolume(v, a.out);
  std::cout << "wrote " << a.out << "\n";
}
} // namespace

void registerConvertCommand(CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  auto* cmd = app.add_subcommand("convert", "Convert a volume to NIfTI (.nii/.nii.gz) or TIFF (.tif)");
  cmd->add_option("input", args->in, "input volume")->required();
  cmd->add_option("output", args->out, "output file (.nii, .nii.gz, .tif, .tiff)")->required();
  args->volume.add(cmd);
  cmd->callback([args] { runConvert(*args); });
}

} // namespace jseg::cli
