// juleseg-cli info VOLUME: what a volume is (format, dims, spacing, orientation, range), and for a DICOM
// folder the list of series to choose from.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/CliCommon.h"
#include "core/io/DicomSeriesReader.h"
#include "core/io/VolumeReader.h"

namespace jseg::cli {

namespace {

struct InfoArgs {
  std::string path;
  VolumeOptions volume;
  bool json = false;
};

void printSeries(const std::vector<DicomSeriesInfo>& series) {
  std::cout << "DICOM series: " << series.size() << "\n";
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    std::cout << "  [" << i + 1 << "] " << s.seriesUid << "  " << (s.description.empty() ? "(no description)" : s.description)
              << "  " << s.modality << "  " << s.slices << " slices of " << s.columns << "x" << s.rows << "  "
              << s.transferSyntax << "\n";
  }
}

void runInfo(const InfoArgs& a) {
  VolumeFormat format = detectVolumeFormat(a.path);
  nlohmann::json j;
  j["path"] = a.path;
  j["format"] = volumeFormatName(format);
  std::vector<DicomSeriesInfo> series;
  if (format == VolumeFormat::Dicom) {
    series = DicomSeriesReader::listSeries(a.path);
    for (const auto& s : series)
      j["series"].push_back({{"uid", s.seriesUid}, {"description", s.description}, {"modality", s.modality},
                             {"slices", s.slices}, {"rows", s.rows}, {"columns", s.columns},
                             {"transfer_syntax", s.transferSyntax}});
    if (series.size() > 1 && a.volume.series.empty()) {
      if (a.json) std::cout << j.dump(2) << "\n";
      else {
        std::cout << "format:      DICOM\n";
        printSeries(series);
        std::cout << "choose one with --series N to see its geometry\n";
      }
      return;
    }
  }
  Volume v = loadVolume(a.path, a.volume, a.json);
  const auto& g = v.geom;
  auto range = v.range();
  double sum = 0;
  for (float x : v.voxels) sum += x;
  const double mean = v.voxels.empty() ? 0 : sum / double(v.voxels.size());
  j["dims"] = g.dims;
  j["spacing_mm"] = g.spacing;
  j["spacing_known"] = g.spacingKnown;
  j["origin_mm"] = g.origin;
  j["direction"] = g.direction;
  j["orientation"] = g.orientationCode();
  j["pixel_type"] = pixelTypeName(v.originalType);
  j["range"] = {range[0], range[1]};
  j["mean"] = mean;
  j["warnings"] = v.warnings;
  if (!v.description.empty()) j["description"] = v.description;
  if (a.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << std::setprecision(6);
  std::cout << "format:      " << volumeFormatName(format) << "\n";
  if (!v.description.empty()) std::cout << "description: " << v.description << "\n";
  std::cout << "dims:        " << g.dims[0] << " x " << g.dims[1] << " x " << g.dims[2] << " voxels\n";
  std::cout << "spacing:     " << g.spacing[0] << " x " << g.spacing[1] << " x " << g.spacing[2] << " mm"
            << (g.spacingKnown ? "" : "  (not in the file: assumed; set it with --spacing)") << "\n";
  std::cout << "origin:      " << g.origin[0] << ", " << g.origin[1] << ", " << g.origin[2] << " mm (LPS)\n";
  std::cout << "orientation: " << g.orientationCode() << "  (index axes x,y,z point to these LPS directions)\n";
  std::cout << "direction:   [" << g.direction[0] << " " << g.direction[1] << " " << g.direction[2] << "; "
            << g.direction[3] << " " << g.direction[4] << " " << g.direction[5] << "; " << g.direction[6] << " "
            << g.direction[7] << " " << g.direction[8] << "]\n";
  std::cout << "pixel type:  " << pixelTypeName(v.originalType) << "\n";
  std::cout << "range:       " << range[0] << " .. " << range[1] << "  (mean " << mean << ")\n";
  std::cout << "size:        " << std::fixed << std::setprecision(1)
            << double(g.voxelCount()) * pixelTypeBytes(v.originalType) / 1048576.0 << " MB as stored, "
            << double(g.voxelCount()) * 4 / 1048576.0 << " MB as float32\n";
  if (series.size() > 1) printSeries(series);
  for (const auto& w : v.warnings) std::cout << "warning:     " << w << "\n";
}

} // namespace

void registerInfoCommand(CLI::App& app) {
  auto args = std::make_shared<InfoArgs>();
  auto* cmd = app.add_subcommand("info", "Describe a volume: format, dims, spacing, orientation, range; DICOM series");
  cmd->add_option("volume", args->path, "NIfTI file, TIFF file or folder, DICOM folder or DICOMDIR")->required();
  args->volume.add(cmd);
  cmd->add_flag("--json", args->json, "print JSON instead of text");
  cmd->callback([args] { runInfo(*args); });
}

} // namespace jseg::cli
