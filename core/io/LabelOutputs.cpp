#include "core/io/LabelOutputs.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/base/Errors.h"
#include "core/io/AtomicFile.h"

namespace jseg {

namespace fs = std::filesystem;

namespace {

// Chosen so that neighbouring ids differ in hue and brightness; 24 colours, then the table repeats.
constexpr uint8_t kPalette[][3] = {
    {230, 25, 75},   // red
    {60, 180, 75},   // green
    {0, 130, 200},   // blue
    {255, 225, 25},  // yellow
    {70, 240, 240},  // cyan
    {240, 50, 230},  // magenta
    {245, 130, 48},  // orange
    {145, 30, 180},  // purple
    {210, 245, 60},  // lime
    {250, 190, 212}, // pink
    {0, 128, 128},   // teal
    {220, 190, 255}, // lavender
    {170, 110, 40},  // brown
    {255, 250, 200}, // beige
    {128, 0, 0},     // maroon
    {170, 255, 195}, // mint
    {128, 128, 0},   // olive
    {128, 64, 255},  // violet
    {0, 0, 128},     // navy
    {128, 128, 128}, // grey
    {255, 255, 255}, // white
    {0, 255, 127},   // spring green
    {255, 99, 71},   // tomato
    {100, 149, 237}, // cornflower
};
constexpr int kPaletteSize = static_cast<int>(sizeof(kPalette) / sizeof(kPalette[0]));

std::array<uint8_t, 3> paletteColour(int id) {
  const auto& c = kPalette[(std::max(id, 1) - 1) % kPaletteSize];
  return {c[0], c[1], c[2]};
}

void requireSameGrid(const Geometry& a, const Geometry& b, std::size_t aValues, std::size_t bValues,
                     const char* what) {
  if (a.dims != b.dims || aValues != a.voxelCount() || bValues != b.voxelCount())
    throw InputError(std::string(what) + ": the label map (" + std::to_string(b.dims[0]) + "x" +
                     std::to_string(b.dims[1]) + "x" + std::to_string(b.dims[2]) +
                     ") does not match the volume (" + std::to_string(a.dims[0]) + "x" + std::to_string(a.dims[1]) +
                     "x" + std::to_string(a.dims[2]) + ")");
}

// Colour and visibility for every possible label id, built once per call (labels are uint16).
// Ids missing from the table are drawn in their default colour so that nothing silently vanishes.
class LabelColours {
public:
  explicit LabelColours(const std::vector<LabelInfo>& table) : rgba_(65536 * 4, 0) {
    for (int id = 1; id < 65536; ++id) {
      const auto c = paletteColour(id);
      set(id, c, true);
    }
    for (const LabelInfo& info : table)
      if (info.id > 0 && info.id < 65536) set(info.id, info.rgb, info.visible);
  }
  const uint8_t* colour(uint16_t id) const { return &rgba_[std::size_t(id) * 4]; }
  bool visible(uint16_t id) const { return rgba_[std::size_t(id) * 4 + 3] != 0; }

private:
  void set(int id, const std::array<uint8_t, 3>& c, bool visible) {
    uint8_t* p = &rgba_[std::size_t(id) * 4];
    p[0] = c[0];
    p[1] = c[1];
    p[2] = c[2];
    p[3] = visible ? 1 : 0;
  }
  std::vector<uint8_t> rgba_;
};

struct SliceShape {
  int width = 0, height = 0;
};

SliceShape sliceShape(const Geometry& g, SliceAxis axis) {
  switch (axis) {
    case SliceAxis::Z: return {int(g.dims[0]), int(g.dims[1])};
    case SliceAxis::Y: return {int(g.dims[0]), int(g.dims[2])};
    case SliceAxis::X: return {int(g.dims[1]), int(g.dims[2])};
  }
  return {};
}

// Voxel index shown at image pixel (col, row) of a slice; see the axis conventions in the header.
std::size_t voxelAt(const Geometry& g, SliceAxis axis, int64_t slice, int col, int row) {
  switch (axis) {
    case SliceAxis::Z: return g.index(col, row, slice);
    case SliceAxis::Y: return g.index(col, slice, g.dims[2] - 1 - row);
    case SliceAxis::X: return g.index(slice, col, g.dims[2] - 1 - row);
  }
  return 0;
}

std::vector<uint8_t> render(const Volume& v, const LabelVolume& l, const LabelColours& colours, SliceAxis axis,
                            int64_t slice, const OverlayStyle& style, float lo, float hi, int& width, int& height) {
  const SliceShape s = sliceShape(v.geom, axis);
  width = s.width;
  height = s.height;
  const double a = std::clamp(style.opacity, 0.0, 1.0);
  const double scale = hi > lo ? 255.0 / (double(hi) - double(lo)) : 0.0;
  std::vector<uint8_t> rgb(std::size_t(width) * std::size_t(height) * 3);
  for (int row = 0; row < height; ++row) {
    for (int col = 0; col < width; ++col) {
      const std::size_t i = voxelAt(v.geom, axis, slice, col, row);
      const double g = std::clamp((double(v.voxels[i]) - lo) * scale, 0.0, 255.0);
      uint8_t* out = &rgb[(std::size_t(row) * width + col) * 3];
      const uint16_t id = l.labels[i];
      if (id != 0 && colours.visible(id)) {
        const uint8_t* c = colours.colour(id);
        for (int k = 0; k < 3; ++k) out[k] = static_cast<uint8_t>(std::lround((1.0 - a) * g + a * c[k]));
      } else {
        const auto grey = static_cast<uint8_t>(std::lround(g));
        out[0] = out[1] = out[2] = grey;
      }
    }
  }
  return rgb;
}

void checkSlice(const Geometry& g, SliceAxis axis, int64_t slice) {
  const int a = static_cast<int>(axis);
  if (slice < 0 || slice >= g.dims[a])
    throw InputError("slice " + std::to_string(slice) + " is outside the volume (axis " + "XYZ"[a] + " has " +
                     std::to_string(g.dims[a]) + " slices)");
}

std::array<float, 2> windowOf(const Volume& v, const OverlayStyle& style) {
  if (style.windowLo != style.windowHi)
    return {std::min(style.windowLo, style.windowHi), std::max(style.windowLo, style.windowHi)};
  return v.range();
}

std::string encodePng(const std::vector<uint8_t>& rgb, int width, int height, const std::string& path) {
  cv::Mat img(height, width, CV_8UC3, const_cast<uint8_t*>(rgb.data()));
  cv::Mat bgr;
  cv::cvtColor(img, bgr, cv::COLOR_RGB2BGR);
  std::vector<uchar> bytes;
  if (!cv::imencode(".png", bgr, bytes)) throw Error("cannot encode PNG for " + path);
  return std::string(bytes.begin(), bytes.end());
}

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::string fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

} // namespace

std::vector<LabelInfo> defaultLabelTable(int numLabels) {
  std::vector<LabelInfo> table;
  for (int id = 1; id <= numLabels; ++id) {
    LabelInfo info;
    info.id = id;
    info.name = "Region " + std::to_string(id);
    info.rgb = paletteColour(id);
    info.visible = true;
    table.push_back(info);
  }
  return table;
}

std::vector<LabelStatistics> computeLabelStatistics(const Volume& v, const LabelVolume& l) {
  requireSameGrid(v.geom, l.geom, v.voxels.size(), l.labels.size(), "label statistics");
  const int maxId = l.maxLabel();
  std::vector<std::size_t> count(std::size_t(maxId) + 1, 0);
  std::vector<double> sum(std::size_t(maxId) + 1, 0.0);
  for (std::size_t i = 0; i < l.labels.size(); ++i) {
    ++count[l.labels[i]];
    sum[l.labels[i]] += v.voxels[i];
  }
  std::vector<double> mean(sum.size(), 0.0);
  for (std::size_t id = 0; id < sum.size(); ++id)
    if (count[id]) mean[id] = sum[id] / double(count[id]);
  // Second pass for the spread: sums of squared deviations stay accurate where sum-of-squares
  // minus squared sum would cancel (e.g. CT values around 1000 HU).
  std::vector<double> sq(sum.size(), 0.0);
  for (std::size_t i = 0; i < l.labels.size(); ++i) {
    const double d = double(v.voxels[i]) - mean[l.labels[i]];
    sq[l.labels[i]] += d * d;
  }
  const double voxelMm3 = l.geom.voxelVolumeMm3();
  std::vector<LabelStatistics> stats;
  for (int id = 1; id <= maxId; ++id) {
    if (!count[id]) continue;
    LabelStatistics s;
    s.id = id;
    s.voxels = count[id];
    s.volumeMm3 = double(count[id]) * voxelMm3;
    s.meanIntensity = mean[id];
    s.stdIntensity = std::sqrt(sq[id] / double(count[id]));
    stats.push_back(s);
  }
  return stats;
}

void writeLabelTableJson(const std::vector<LabelInfo>& table, const std::string& path) {
  nlohmann::json labels = nlohmann::json::array();
  for (const LabelInfo& info : table)
    labels.push_back({{"id", info.id},
                      {"name", info.name},
                      {"rgb", {info.rgb[0], info.rgb[1], info.rgb[2]}},
                      {"visible", info.visible}});
  nlohmann::json doc = {{"labels", labels}};
  writeFileAtomically(path, doc.dump(2) + "\n");
}

std::vector<LabelInfo> readLabelTableJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot open label table " + path);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError("label table " + path + " is not valid JSON: " + e.what());
  }
  if (!doc.is_object() || !doc.contains("labels") || !doc["labels"].is_array())
    throw InputError("label table " + path + " has no \"labels\" array");
  std::vector<LabelInfo> table;
  std::size_t n = 0;
  for (const auto& e : doc["labels"]) {
    ++n;
    const std::string where = "label table " + path + ", entry " + std::to_string(n) + ": ";
    if (!e.is_object()) throw InputError(where + "not an object");
    LabelInfo info;
    if (!e.contains("id") || !e["id"].is_number_integer()) throw InputError(where + "\"id\" must be an integer");
    const auto id = e["id"].get<int64_t>();
    if (id < 1 || id > 65535) throw InputError(where + "\"id\" must be 1..65535");
    info.id = static_cast<int>(id);
    if (e.contains("name")) {
      if (!e["name"].is_string()) throw InputError(where + "\"name\" must be a string");
      info.name = e["name"].get<std::string>();
    } else {
      info.name = "Region " + std::to_string(info.id);
    }
    if (e.contains("rgb")) {
      const auto& c = e["rgb"];
      if (!c.is_array() || c.size() != 3) throw InputError(where + "\"rgb\" must be [r, g, b]");
      for (int k = 0; k < 3; ++k) {
        if (!c[k].is_number_integer() || c[k].get<int64_t>() < 0 || c[k].get<int64_t>() > 255)
          throw InputError(where + "\"rgb\" values must be integers 0..255");
        info.rgb[k] = static_cast<uint8_t>(c[k].get<int64_t>());
      }
    } else {
      info.rgb = paletteColour(info.id);
    }
    if (e.contains("visible")) {
      if (!e["visible"].is_boolean()) throw InputError(where + "\"visible\" must be true or false");
      info.visible = e["visible"].get<bool>();
    }
    table.push_back(info);
  }
  return table;
}

void writeStatisticsCsv(const std::vector<LabelStatistics>& stats, const std::vector<LabelInfo>& table,
                        const std::string& path) {
  std::ostringstream out;
  out << "id,name,voxels,volume_mm3,mean_intensity,std_intensity\n";
  for (const LabelStatistics& s : stats) {
    std::string name = "Region " + std::to_string(s.id);
    for (const LabelInfo& info : table)
      if (info.id == s.id) name = info.name;
    out << s.id << ',' << csvField(name) << ',' << s.voxels << ',' << fixed(s.volumeMm3, 3) << ','
        << fixed(s.meanIntensity, 4) << ',' << fixed(s.stdIntensity, 4) << '\n';
  }
  writeFileAtomically(path, out.str());
}

std::vector<uint8_t> renderOverlaySlice(const Volume& v, const LabelVolume& l, const std::vector<LabelInfo>& table,
                                        SliceAxis axis, int64_t slice, const OverlayStyle& style, int& width,
                                        int& height) {
  requireSameGrid(v.geom, l.geom, v.voxels.size(), l.labels.size(), "overlay");
  checkSlice(v.geom, axis, slice);
  const LabelColours colours(table);
  const auto w = windowOf(v, style);
  return render(v, l, colours, axis, slice, style, w[0], w[1], width, height);
}

void writeOverlayPng(const Volume& v, const LabelVolume& l, const std::vector<LabelInfo>& table, SliceAxis axis,
                     int64_t slice, const OverlayStyle& style, const std::string& path) {
  int width = 0, height = 0;
  const auto rgb = renderOverlaySlice(v, l, table, axis, slice, style, width, height);
  writeFileAtomically(path, encodePng(rgb, width, height, path));
}

int writeOverlayPngs(const Volume& v, const LabelVolume& l, const std::vector<LabelInfo>& table, SliceAxis axis,
                     const OverlayStyle& style, const std::string& folder, const std::string& prefix,
                     const TaskContext* ctx) {
  requireSameGrid(v.geom, l.geom, v.voxels.size(), l.labels.size(), "overlay");
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (!fs::is_directory(folder)) throw WriteError("cannot create output folder " + folder + ": " + ec.message());
  const LabelColours colours(table);
  const auto w = windowOf(v, style);
  const int64_t n = v.geom.dims[static_cast<int>(axis)];
  std::vector<std::string> written;
  try {
    for (int64_t s = 0; s < n; ++s) {
      reportProgress(ctx, double(s) / double(n), "Writing overlay images");
      checkCancel(ctx);
      int width = 0, height = 0;
      const auto rgb = render(v, l, colours, axis, s, style, w[0], w[1], width, height);
      char name[32];
      std::snprintf(name, sizeof name, "_%04lld.png", static_cast<long long>(s));
      const std::string path = (fs::path(folder) / (prefix + name)).string();
      writeFileAtomically(path, encodePng(rgb, width, height, path));
      written.push_back(path);
    }
  } catch (...) {
    // A cancelled or failed export leaves nothing of itself behind, not just no partial file.
    for (const auto& p : written) fs::remove(p, ec);
    throw;
  }
  reportProgress(ctx, 1.0, "Writing overlay images");
  return static_cast<int>(written.size());
}

} // namespace jseg
