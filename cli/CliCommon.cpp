#include "cli/CliCommon.h"

#include <filesystem>
#include <sstream>
#include <vector>

#include "core/base/Errors.h"
#include "cli/ProgressBar.h"
#include "core/io/NiftiIO.h"
#include "core/io/TiffStackReader.h"
#include "core/io/VolumeReader.h"

namespace jseg::cli {

namespace {
bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
} // namespace

void VolumeOptions::add(CLI::App* cmd) {
  cmd->add_option("--series", series, "DICOM: SeriesInstanceUID or number (from `info`) of the series to read");
  cmd->add_option("--spacing", spacing, "voxel spacing in mm, \"x,y,z\" or one number; overrides the file's");
}

ReadOptions VolumeOptions::toReadOptions() const {
  ReadOptions r;
  r.series = series;
  if (!spacing.empty()) r.spacing = parseSpacing(spacing);
  return r;
}

std::vector<int64_t> parseIndexList(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    double d = parseNumber(item, "a slice list");
    if (d != std::floor(d)) throw InputError("slice numbers must be integers, got '" + item + "'");
    out.push_back(static_cast<int64_t>(d));
  }
  return out;
}

Volume loadVolume(const std::string& path, const VolumeOptions& options, bool quiet) {
  ProgressBar bar("load", quiet);
  TaskContext ctx = bar.context();
  Volume v = readVolume(path, options.toReadOptions(), &ctx);
  std::ostringstream o;
  o << v.geom.dims[0] << "x" << v.geom.dims[1] << "x" << v.geom.dims[2] << " " << pixelTypeName(v.originalType);
  bar.finish(o.str());
  if (!quiet)
    for (const auto& w : v.warnings) std::cerr << "warning: " << w << "\n";
  return v;
}

void saveLabels(const LabelVolume& labels, const std::string& path) {
  if (endsWith(path, ".nii") || endsWith(path, ".nii.gz")) NiftiIO::writeLabels(labels, path);
  else if (endsWith(path, ".tif") || endsWith(path, ".tiff")) writeTiffLabels(labels, path);
  else throw InputError("cannot tell the format of '" + path + "': use .nii, .nii.gz, .tif or .tiff");
}

LabelVolume loadLabels(const std::string& path) { return readLabelVolume(path); }

void setPatchSizeFromText(Parameters& params, const std::string& text) {
  if (text.find(',') == std::string::npos) return params.setFromString("patch_size", text);
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1)
    parts.push_back(text.substr(start, comma - start));
  parts.push_back(text.substr(start));
  if (parts.size() != 3)
    throw InputError("--patch-size '" + text + "': give one size w or three sizes x,y,z (e.g. 15,15,5)");
  if (parts[0] != parts[1])
    throw InputError("--patch-size '" + text + "': x and y must be equal (patches are square in-plane; z may differ)");
  params.setFromString("patch_size", parts[0]);
  params.setFromString("patch_depth", parts[2]);
}

void addSchemaOptions(CLI::App* cmd, Parameters& params, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    const ParamSpec& spec = paramSpec(name);
    std::string help = spec.help;
    if (spec.type == ParamType::Choice) {
      help += " [";
      for (std::size_t i = 0; i < spec.choices.size(); ++i) help += (i ? "|" : "") + spec.choices[i];
      help += "]";
    }
    help += " (default " + spec.defaultValue.dump() + ")";
    if (spec.type == ParamType::Bool) {
      cmd->add_option_function<std::string>(
             spec.cliFlag(), [&params, name](const std::string& v) { params.setFromString(name, v); }, help)
          ->type_name("true|false");
    } else if (name == "patch_size") {
      // "x,y,z" names a w x w x d patch in one flag (thin anisotropic stacks); patches are square in-plane.
      cmd->add_option_function<std::string>(
             spec.cliFlag(), [&params](const std::string& v) { setPatchSizeFromText(params, v); },
             help + " Also x,y,z with x = y: a w x w x d patch (sets patch_depth to z).")
          ->type_name("w|x,y,z");
    } else {
      cmd->add_option_function<std::string>(
          spec.cliFlag(), [&params, name](const std::string& v) { params.setFromString(name, v); }, help);
    }
  }
}

} // namespace jseg::cli
