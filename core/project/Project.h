#pragma once
// A .juleseg project: everything needed to reopen a session or rerun it headless and get the same labels.
// JSON with the input path and its SHA-256, every parameter (the seed among them), K, label names and
// colours, the GUI's view state (opaque here) and versions; the trained model and the label volume are
// files beside it, referred to by relative paths so a project folder can be moved as a whole.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/LabelOutputs.h"
#include "core/io/ReadOptions.h"
#include "core/params/ParameterSchema.h"

namespace jseg {

struct Project {
  std::string inputPath;      // absolute path of the volume ("" for the demo phantom)
  std::string maskPath;       // absolute path of the region of interest ("" for none)
  std::vector<std::string> channelPaths;  // absolute paths of the channels after the first
  std::string inputSha256;    // of the file or folder when saved
  bool demo = false;
  ReadOptions read;           // DICOM series, spacing override
  Parameters parameters;
  int k = 3;
  std::vector<LabelInfo> labels;
  nlohmann::json view = nlohmann::json::object();  // GUI: slice positions, window/level, zoom (free form)
  std::string modelFile;      // relative to the project's folder, e.g. "model.pt"
  std::string labelFile;      // relative, e.g. "labels.nii.gz"
  nlohmann::json versions = nlohmann::json::object();

  // Atomic write. The folder must exist.
  void save(const std::string& path) const;
  // InputError for a missing, unreadable or malformed project (message names the field).
  static Project load(const std::string& path);
  // Absolute path of a file the project refers to ("" when `relative` is empty).
  static std::string resolve(const std::string& projectPath, const std::string& relative);
  // True when the input still has the recorded hash (false when it changed or vanished).
  bool inputUnchanged() const;
};

} // namespace jseg
