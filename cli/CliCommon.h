#pragma once
// Pieces every juleseg-cli subcommand shares: option parsing helpers, loading a volume with a progress bar,
// saving label volumes by extension.
#include <array>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "core/base/Volume.h"
#include "core/io/ReadOptions.h"
#include "core/params/OptionText.h"
#include "core/params/ParameterSchema.h"

namespace jseg::cli {

// Options of a volume on the command line: --series, --spacing.
struct VolumeOptions {
  std::string series;
  std::string spacing;  // "x,y,z" in mm
  void add(CLI::App* cmd);
  ReadOptions toReadOptions() const;
};

// parseThreshold and parseSpacing: core/params/OptionText.h (the GUI's command line takes the same text).
// "2,5,9" -> {2,5,9}
std::vector<int64_t> parseIndexList(const std::string& text);

Volume loadVolume(const std::string& path, const VolumeOptions& options, bool quiet = false);
// Writes labels as NIfTI (.nii, .nii.gz) or TIFF (.tif, .tiff), by extension; InputError otherwise.
void saveLabels(const LabelVolume& labels, const std::string& path);
LabelVolume loadLabels(const std::string& path);

// Adds --name options for the given schema parameters to a subcommand; values land in `params` when set.
void addSchemaOptions(CLI::App* cmd, Parameters& params, const std::vector<std::string>& names);
// --patch-size's text: "w", or "x,y,z" with x == y (sets patch_size = x and patch_depth = z); InputError
// otherwise.
void setPatchSizeFromText(Parameters& params, const std::string& text);

// Registration of each subcommand (one file each).
void registerInfoCommand(CLI::App& app);
void registerConvertCommand(CLI::App& app);
void registerBaselineCommand(CLI::App& app);
void registerEvalCommand(CLI::App& app);
void registerDemoCommand(CLI::App& app);
void registerRunCommand(CLI::App& app);
void registerSlurmCommand(CLI::App& app);
void registerParamsCommand(CLI::App& app);
void registerExportCommand(CLI::App& app);

} // namespace jseg::cli
