#include "core/base/Volume.h"

#include "core/base/Errors.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <unordered_set>

namespace jseg {

const char* pixelTypeName(PixelType t) {
  switch (t) {
    case PixelType::UInt8: return "uint8";
    case PixelType::Int8: return "int8";
    case PixelType::UInt16: return "uint16";
    case PixelType::Int16: return "int16";
    case PixelType::UInt32: return "uint32";
    case PixelType::Int32: return "int32";
    case PixelType::Float32: return "float32";
    case PixelType::Float64: return "float64";
  }
  return "?";
}

std::size_t pixelTypeBytes(PixelType t) {
  switch (t) {
    case PixelType::UInt8:
    case PixelType::Int8: return 1;
    case PixelType::UInt16:
    case PixelType::Int16: return 2;
    case PixelType::UInt32:
    case PixelType::Int32:
    case PixelType::Float32: return 4;
    case PixelType::Float64: return 8;
  }
  return 4;
}

std::array<double, 3> Geometry::indexToWorld(double x, double y, double z) const {
  const double s[3] = {x * spacing[0], y * spacing[1], z * spacing[2]};
  std::array<double, 3> w{};
  for (int r = 0; r < 3; ++r)
    w[r] = origin[r] + direction[r * 3 + 0] * s[0] + direction[r * 3 + 1] * s[1] + direction[r * 3 + 2] * s[2];
  return w;
}

std::string Geometry::orientationCode() const {
  // LPS world: +x = L, +y = P, +z = S.
  static const char pos[3] = {'L', 'P', 'S'};
  static const char neg[3] = {'R', 'A', 'I'};
  std::string code;
  for (int c = 0; c < 3; ++c) {
    int best = 0;
    for (int r = 1; r < 3; ++r)
      if (std::fabs(direction[r * 3 + c]) > std::fabs(direction[best * 3 + c])) best = r;
    code += direction[best * 3 + c] >= 0 ? pos[best] : neg[best];
  }
  return code;
}

std::array<float, 2> Volume::range() const {
  if (voxels.empty()) return {0.f, 0.f};
  auto mm = std::minmax_element(voxels.begin(), voxels.end());
  return {*mm.first, *mm.second};
}

std::size_t Mask::count() const {
  return static_cast<std::size_t>(std::count(inside.begin(), inside.end(), uint8_t{1}));
}

int LabelVolume::maxLabel() const {
  if (labels.empty()) return 0;
  return *std::max_element(labels.begin(), labels.end());
}

Mask thresholdMask(const Volume& v, float lo, float hi) {
  Mask m;
  m.geom = v.geom;
  m.inside.resize(v.voxels.size());
  for (std::size_t i = 0; i < v.voxels.size(); ++i) m.inside[i] = (v.voxels[i] >= lo && v.voxels[i] <= hi) ? 1 : 0;
  return m;
}

LabelVolume makeLabelVolume(const Geometry& g) {
  LabelVolume l;
  l.geom = g;
  l.labels.assign(g.voxelCount(), 0);
  return l;
}

namespace {
std::string dimsText(const Geometry& g) {
  return std::to_string(g.dims[0]) + "×" + std::to_string(g.dims[1]) + "×" + std::to_string(g.dims[2]);
}
std::string mm(double v) {
  std::ostringstream o;
  o << std::setprecision(6) << v;
  return o.str();
}
} // namespace

void requireSameGrid(const Geometry& a, const Geometry& b, const std::string& what) {
  if (a.dims != b.dims)
    throw InputError(what + " (" + dimsText(a) + ") is not on the grid of the volume (" + dimsText(b) + ")");
  for (int i = 0; i < 3; ++i) {
    const double spacingTol = 1e-3 * std::max(1.0, std::abs(b.spacing[i]));
    const double originTol = 1e-2 * std::max(1.0, std::abs(b.spacing[i]));
    if (std::abs(a.spacing[i] - b.spacing[i]) > spacingTol || std::abs(a.origin[i] - b.origin[i]) > originTol)
      throw InputError(what + " has the volume's dims but another voxel spacing or origin (axis " +
                       std::string(1, "xyz"[i]) + ": spacing " + mm(a.spacing[i]) + " vs " + mm(b.spacing[i]) +
                       " mm, origin " + mm(a.origin[i]) + " vs " + mm(b.origin[i]) + " mm)");
  }
}

std::vector<float> standardisedChannelRows(const std::vector<const Volume*>& channels,
                                           const std::vector<std::size_t>& voxels) {
  const std::size_t n = voxels.size(), c = channels.size();
  std::vector<float> rows(n * c);
  for (std::size_t ch = 0; ch < c; ++ch) {
    const std::vector<float>& v = channels[ch]->voxels;
    double sum = 0, sq = 0;
    for (std::size_t i : voxels) sum += v[i];
    const double mean = n ? sum / double(n) : 0;
    for (std::size_t i : voxels) sq += (v[i] - mean) * (v[i] - mean);
    const double sd = n > 1 && sq > 0 ? std::sqrt(sq / double(n)) : 1.0;
    for (std::size_t r = 0; r < n; ++r) rows[r * c + ch] = float((v[voxels[r]] - mean) / sd);
  }
  return rows;
}

Mask maskFromLabels(const LabelVolume& labels, const std::string& what) {
  Mask m;
  m.geom = labels.geom;
  m.inside.resize(labels.labels.size());
  std::size_t n = 0;
  for (std::size_t i = 0; i < labels.labels.size(); ++i) n += (m.inside[i] = labels.labels[i] != 0);
  if (n == 0) throw InputError(what + " has no voxel inside (all zero)");
  return m;
}

std::size_t countDistinctLevels(const Volume& v, float lo, float hi, const Mask* roi, std::size_t stopAt) {
  std::unordered_set<float> seen;
  for (std::size_t i = 0; i < v.voxels.size() && seen.size() < stopAt; ++i) {
    const float x = v.voxels[i];
    if (x >= lo && x <= hi && (!roi || roi->inside[i])) seen.insert(x);
  }
  return seen.size();
}

void requireDistinctLevels(const Volume& v, float lo, float hi, const Mask* roi, int k) {
  const std::size_t n = countDistinctLevels(v, lo, hi, roi, std::size_t(std::max(k, 1)));
  if (n >= std::size_t(k)) return;
  throw InputError("only " + std::to_string(n) + " distinct intensit" + (n == 1 ? "y lies" : "ies lie") +
                   " in the threshold window" + (roi ? " inside the mask" : "") + ", too few for K = " +
                   std::to_string(k) + " regions: use a smaller --k or a wider --threshold");
}

} // namespace jseg
