#include "core/io/LabelMapFile.h"

#include <filesystem>
#include <map>
#include <set>

#include "core/base/Errors.h"
#include "core/io/ImageJLut.h"
#include "core/io/ItkSnapLabelFile.h"
#include "core/io/SlicerColorTable.h"
#include "core/io/SlicerSegmentationFile.h"
#include "core/io/VolumeReader.h"

namespace jseg {

namespace fs = std::filesystem;

namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "dir/labels.nii.gz" -> "dir/labels"
std::string stemPath(const std::string& path) {
  for (const char* ext : {".nii.gz", ".nii", ".seg.nrrd", ".nrrd", ".tiff", ".tif"})
    if (endsWith(path, ext)) return path.substr(0, path.size() - std::string(ext).size());
  return path;
}

// Names and colours beside a label file, from the first of the known side files that exists.
std::vector<LabelInfo> sideTable(const std::string& labelsPath, std::string& tablePath) {
  const std::string stem = stemPath(labelsPath);
  const fs::path dir = fs::path(labelsPath).parent_path();
  const std::vector<std::pair<std::string, int>> candidates = {
      {stem + ".itksnap.txt", 0}, {(dir / "labels.itksnap.txt").string(), 0}, {(dir / "label_table.json").string(), 1},
      {stem + ".ctbl", 2},        {(dir / "labels.ctbl").string(), 2}};
  for (const auto& [file, kind] : candidates) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) continue;
    tablePath = file;
    if (kind == 0) return readItkSnapLabelFile(file);
    if (kind == 1) return readLabelTableJson(file);
    return readSlicerColorTable(file);
  }
  return {};
}

} // namespace

std::vector<LabelInfo> tableForLabels(const LabelVolume& labels, const std::vector<LabelInfo>& table) {
  std::set<int> present;
  {
    std::vector<bool> seen(65536, false);
    for (uint16_t v : labels.labels) seen[v] = true;
    for (int id = 1; id < 65536; ++id)
      if (seen[std::size_t(id)]) present.insert(id);
  }
  std::map<int, LabelInfo> named;
  for (const LabelInfo& l : table) named[l.id] = l;
  const int maxId = present.empty() ? 0 : *present.rbegin();
  const auto defaults = defaultLabelTable(maxId);
  std::vector<LabelInfo> out;
  for (int id : present) out.push_back(named.count(id) ? named[id] : defaults[std::size_t(id - 1)]);
  return out;
}

LabelMap readLabelMap(const std::string& path, const TaskContext* ctx) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError("label map " + path + " does not exist");
  LabelMap m;
  m.labelsPath = path;
  if (fs::is_directory(path, ec)) {
    const fs::path dir(path);
    m.labelsPath.clear();
    for (const char* name : {"labels.nii.gz", "labels.seg.nrrd", "labels.tif"})
      if (fs::is_regular_file(dir / name, ec)) {
        m.labelsPath = (dir / name).string();
        break;
      }
    if (m.labelsPath.empty())
      throw InputError(path + " is not a juleseg result folder: it holds no labels.nii.gz, labels.seg.nrrd or labels.tif");
  }
  std::vector<LabelInfo> table;
  if (endsWith(m.labelsPath, ".nrrd")) {
    SlicerSegmentation seg = readSlicerSegmentation(m.labelsPath);
    m.labels = std::move(seg.labels);
    table = std::move(seg.table);
    if (!table.empty()) m.tablePath = m.labelsPath;
    else table = sideTable(m.labelsPath, m.tablePath);
  } else {
    m.labels = readLabelVolume(m.labelsPath, ctx);
    table = sideTable(m.labelsPath, m.tablePath);
    if (table.empty() && (endsWith(m.labelsPath, ".tif") || endsWith(m.labelsPath, ".tiff")))
      if (const auto lut = readImageJLut(m.labelsPath)) {
        table = labelTableFromLut(*lut, m.labels.maxLabel());
        m.tablePath = m.labelsPath;
      }
  }
  m.table = tableForLabels(m.labels, table);
  return m;
}

} // namespace jseg
