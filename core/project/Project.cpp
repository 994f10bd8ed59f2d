#include "core/project/Project.h"

#include <filesystem>
#include <fstream>

#include "core/base/Errors.h"
#include "core/io/AtomicFile.h"
#include "core/project/Sha256.h"

namespace jseg {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr const char* kFormat = "juleseg-project";
constexpr int kFormatVersion = 1;
} // namespace

void Project::save(const std::string& path) const {
  json j;
  j["format"] = kFormat;
  j["format_version"] = kFormatVersion;
  j["input"] = {{"path", inputPath}, {"sha256", inputSha256}, {"demo", demo}, {"series", read.series}};
  if (read.spacing) j["input"]["spacing_mm"] = *read.spacing;
  j["parameters"] = parameters.toJson();
  j["seed"] = parameters.values().seed;
  j["k"] = k;
  json labelsJson = json::array();
  for (const auto& l : labels)
    labelsJson.push_back({{"id", l.id}, {"name", l.name}, {"rgb", l.rgb}, {"visible", l.visible}});
  j["labels"] = labelsJson;
  j["view"] = view;
  if (!maskPath.empty()) j["mask"] = maskPath;
  if (!channelPaths.empty()) j["channels"] = channelPaths;
  j["model"] = modelFile;
  j["label_volume"] = labelFile;
  j["versions"] = versions;
  writeFileAtomically(path, j.dump(2) + "\n");
}

Project Project::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open the project file");
  json j;
  try {
    in >> j;
  } catch (const json::exception& e) {
    throw InputError(path + ": not a juleseg project (invalid JSON: " + std::string(e.what()) + ")");
  }
  if (!j.is_object() || j.value("format", "") != kFormat)
    throw InputError(path + ": not a juleseg project (no \"format\": \"juleseg-project\")");
  if (j.value("format_version", 0) > kFormatVersion)
    throw InputError(path + ": written by a newer juleseg (format version " + std::to_string(j.value("format_version", 0)) + ")");
  Project p;
  try {
    const json& input = j.at("input");
    p.inputPath = input.value("path", "");
    p.inputSha256 = input.value("sha256", "");
    p.demo = input.value("demo", false);
    p.read.series = input.value("series", "");
    if (input.contains("spacing_mm")) p.read.spacing = input.at("spacing_mm").get<std::array<double, 3>>();
    p.parameters = Parameters::fromJson(j.at("parameters"));
    p.k = j.value("k", p.parameters.values().k);
    for (const auto& l : j.value("labels", json::array())) {
      LabelInfo info;
      info.id = l.at("id").get<int>();
      info.name = l.value("name", "");
      info.rgb = l.at("rgb").get<std::array<uint8_t, 3>>();
      info.visible = l.value("visible", true);
      p.labels.push_back(info);
    }
    p.view = j.value("view", json::object());
    p.modelFile = j.value("model", "");
    p.maskPath = j.value("mask", "");
    p.channelPaths = j.value("channels", std::vector<std::string>{});
    p.labelFile = j.value("label_volume", "");
    p.versions = j.value("versions", json::object());
  } catch (const json::exception& e) {
    throw InputError(path + ": malformed project (" + std::string(e.what()) + ")");
  }
  if (!p.demo && p.inputPath.empty()) throw InputError(path + ": the project names no input volume");
  return p;
}

std::string Project::resolve(const std::string& projectPath, const std::string& relative) {
  if (relative.empty()) return {};
  fs::path r(relative);
  if (r.is_absolute()) return r.string();
  return (fs::absolute(projectPath).parent_path() / r).lexically_normal().string();
}

bool Project::inputUnchanged() const {
  if (demo) return true;
  std::error_code ec;
  if (!fs::exists(inputPath, ec)) return false;
  return sha256OfPath(inputPath) == inputSha256;
}

} // namespace jseg
