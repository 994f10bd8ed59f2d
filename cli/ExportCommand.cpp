// juleseg-cli export INPUT [-o DIR] [--volume SRC]: the files other tools read with the labels' names and colours
// (ITK-SNAP, 3D Slicer, Fiji, DICOM viewers), for a result written before they existed or a label map from
// elsewhere.
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/CliCommon.h"
#include "core/base/Errors.h"
#include "core/io/DicomSegWriter.h"
#include "core/io/DicomSeriesReader.h"
#include "core/io/ItkSnapLabelFile.h"
#include "core/io/LabelMapFile.h"
#include "core/io/NiftiIO.h"
#include "core/io/SlicerColorTable.h"
#include "core/io/SlicerSegmentationFile.h"
#include "core/io/TiffStackReader.h"
#include "core/io/VolumeReader.h"
#include "core/project/Project.h"

namespace jseg::cli {

namespace {

namespace fs = std::filesystem;

struct ExportArgs {
  std::string input, outDir, volumePath;
  VolumeOptions volume;
};

// The output folder's path for `name`, unless it is the file we read from (rewriting that would gain nothing).
bool isInput(const fs::path& out, const std::string& input) {
  std::error_code ec;
  return fs::exists(out, ec) && fs::equivalent(out, input, ec);
}

void runExport(const ExportArgs& a) {
  const LabelMap map = readLabelMap(a.input);
  const bool inputIsFolder = fs::is_directory(a.input);
  const fs::path out = !a.outDir.empty() ? fs::path(a.outDir)
                       : inputIsFolder   ? fs::path(a.input)
                                         : fs::absolute(map.labelsPath).parent_path();
  std::error_code ec;
  fs::create_directories(out, ec);
  if (!fs::is_directory(out)) throw InputError("cannot create output folder " + out.string());

  // The source volume: given, or the one the result's project names. Only its geometry (and, for DICOM, its
  // identity) is used.
  std::string sourcePath = a.volumePath;
  ReadOptions read = a.volume.toReadOptions();
  const fs::path projectFile = fs::path(inputIsFolder ? a.input : fs::path(map.labelsPath).parent_path().string()) /
                               "project.juleseg";
  if (sourcePath.empty() && fs::is_regular_file(projectFile, ec)) {
    const Project project = Project::load(projectFile.string());
    if (!project.demo && fs::exists(project.inputPath, ec)) {
      sourcePath = project.inputPath;
      read = project.read;
    }
  }
  std::unique_ptr<Volume> source;
  std::unique_ptr<DicomSource> dicom;
  if (!sourcePath.empty()) {
    source = std::make_unique<Volume>(readVolume(sourcePath, read));
    requireSameGrid(map.labels.geom, source->geom, "the label map " + map.labelsPath);
    if (detectVolumeFormat(sourcePath) == VolumeFormat::Dicom)
      dicom = std::make_unique<DicomSource>(DicomSeriesReader::readSource(sourcePath, read));
  }

  std::cout << "labels: " << map.labelsPath << " (" << map.table.size() << " labels, names from "
            << (map.tablePath.empty() ? std::string("defaults") : map.tablePath) << ")\n";
  auto wrote = [](const fs::path& f) { std::cout << "wrote " << f.string() << "\n"; };
  if (!isInput(out / "labels.nii.gz", map.labelsPath)) {
    NiftiIO::writeLabels(map.labels, (out / "labels.nii.gz").string());
    wrote(out / "labels.nii.gz");
  }
  writeItkSnapLabelFile(map.table, (out / "labels.itksnap.txt").string());
  wrote(out / "labels.itksnap.txt");
  writeSlicerSegmentation(map.labels, map.table, (out / "labels.seg.nrrd").string());
  wrote(out / "labels.seg.nrrd");
  writeSlicerColorTable(map.table, (out / "labels.ctbl").string());
  wrote(out / "labels.ctbl");
  // Rewritten even over the input: a label TIFF from before the LUT gains its colours (the voxels stay).
  writeTiffLabels(map.labels, (out / "labels.tif").string(), map.table);
  wrote(out / "labels.tif");
  if (dicom) {
    writeDicomSegmentation(map.labels, map.table, *dicom, (out / "labels.dcm").string());
    wrote(out / "labels.dcm");
  } else {
    std::cout << "no labels.dcm: " << (source ? "the source volume is not a DICOM series" : "no source volume (--volume)")
              << "\n";
  }
}

} // namespace

void registerExportCommand(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand(
      "export", "Write a segmentation's labels with names and colours for ITK-SNAP, 3D Slicer, Fiji and DICOM viewers");
  cmd->footer(
      "INPUT is a result folder (labels.nii.gz with its label_table.json or labels.itksnap.txt) or a label map:\n"
      "NIfTI (names from an ITK-SNAP label file, label_table.json or .ctbl beside it), .seg.nrrd or a label TIFF.\n"
      "Writes into DIR (default: the result folder, or the label map's folder):\n"
      "  labels.nii.gz + labels.itksnap.txt   ITK-SNAP (Segmentation > Import Label Descriptions)\n"
      "  labels.seg.nrrd, labels.ctbl         3D Slicer segmentation and colour table\n"
      "  labels.tif                           Fiji/ImageJ stack with the colours as its LUT\n"
      "  labels.dcm                           DICOM Segmentation, when the source volume is a DICOM series\n"
      "The source volume is --volume, else the input named in the result's project.juleseg; the labels must lie on\n"
      "its grid.");
  cmd->add_option("input", args->input, "result folder or label map file")->required();
  cmd->add_option("-o,--output", args->outDir, "output folder (created when missing)");
  cmd->add_option("--volume", args->volumePath, "the segmented volume (a DICOM series gives labels.dcm)");
  args->volume.add(cmd);
  cmd->callback([args] { runExport(*args); });
}

} // namespace jseg::cli
