#pragma once
// The volume model: voxels as float32 plus the geometry needed to place them in the patient/specimen
// frame, and the pixel type they came in (so label maps and conversions can be saved faithfully).
//
// Conventions (all readers and writers follow them):
//  - Index (x, y, z): x = column (fastest in memory), y = row, z = slice.
//  - World coordinates in millimetres, LPS (DICOM/ITK convention). NIfTI's RAS is converted on read
//    and back on write.
//  - world = origin + direction * diag(spacing) * index; `direction` is row-major 3x3 and its
//    column j is the unit world direction of index axis j.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace jseg {

enum class PixelType { UInt8, Int8, UInt16, Int16, UInt32, Int32, Float32, Float64 };

const char* pixelTypeName(PixelType t);
std::size_t pixelTypeBytes(PixelType t);

struct Geometry {
  std::array<int64_t, 3> dims{0, 0, 0};
  std::array<double, 3> spacing{1.0, 1.0, 1.0};  // mm
  std::array<double, 3> origin{0.0, 0.0, 0.0};   // mm, world position of voxel (0,0,0)
  std::array<double, 9> direction{1, 0, 0, 0, 1, 0, 0, 0, 1};
  bool spacingKnown = true;  // false when the file had no spacing (1 mm assumed)

  std::size_t voxelCount() const {
    return static_cast<std::size_t>(dims[0]) * static_cast<std::size_t>(dims[1]) *
           static_cast<std::size_t>(dims[2]);
  }
  std::size_t index(int64_t x, int64_t y, int64_t z) const {
    return static_cast<std::size_t>((z * dims[1] + y) * dims[0] + x);
  }
  bool contains(int64_t x, int64_t y, int64_t z) const {
    return x >= 0 && y >= 0 && z >= 0 && x < dims[0] && y < dims[1] && z < dims[2];
  }
  std::array<double, 3> indexToWorld(double x, double y, double z) const;
  double voxelVolumeMm3() const { return spacing[0] * spacing[1] * spacing[2]; }
  bool sameGrid(const Geometry& o) const { return dims == o.dims; }
  // e.g. "LPS", "RAS", "LAS": the world axis letter each index axis points to (closest axis).
  std::string orientationCode() const;
};

struct Volume {
  Geometry geom;
  std::vector<float> voxels;                 // geom.voxelCount() values, x fastest
  PixelType originalType = PixelType::Float32;
  std::string sourcePath;
  std::string description;                   // e.g. DICOM series description
  std::vector<std::string> warnings;         // non-fatal findings of the reader (gaps, ...)

  float at(int64_t x, int64_t y, int64_t z) const { return voxels[geom.index(x, y, z)]; }
  float& at(int64_t x, int64_t y, int64_t z) { return voxels[geom.index(x, y, z)]; }
  const std::array<int64_t, 3>& dims() const { return geom.dims; }
  bool empty() const { return voxels.empty(); }
  // min and max over all voxels ({0,0} when empty)
  std::array<float, 2> range() const;
};

// Binary mask on a volume's grid (1 = inside).
struct Mask {
  Geometry geom;
  std::vector<uint8_t> inside;
  std::size_t count() const;
};

// Segmentation labels on a volume's grid: 0 = outside / unlabelled, 1..K = regions.
struct LabelVolume {
  Geometry geom;
  std::vector<uint16_t> labels;
  int maxLabel() const;
};

// Threshold mask [lo, hi] (inclusive) on the voxel values.
Mask thresholdMask(const Volume& v, float lo, float hi);

// Distinct intensities inside [lo, hi] (and `roi` when given), counted up to `stopAt`.
std::size_t countDistinctLevels(const Volume& v, float lo, float hi, const Mask* roi, std::size_t stopAt);
// InputError when fewer than k distinct intensities lie in the window: k regions cannot be told apart there, and
// a "result" would leave labels unused (a constant volume).
void requireDistinctLevels(const Volume& v, float lo, float hi, const Mask* roi, int k);

// The intensities of `channels` (one volume's grid) at `voxels`, one row per voxel, each channel standardised over
// those voxels (zero mean, unit deviation; a constant channel is only centred), so that no channel weighs more by
// its units.
std::vector<float> standardisedChannelRows(const std::vector<const Volume*>& channels,
                                           const std::vector<std::size_t>& voxels);

// Builds a volume with the same geometry from another one (voxels zeroed).
LabelVolume makeLabelVolume(const Geometry& g);

// Same voxel grid in space, not only the same dims (a mask, channel or truth from another scan would silently
// misalign): InputError naming `what` and the difference otherwise.
void requireSameGrid(const Geometry& other, const Geometry& volume, const std::string& what);
// Non-zero labels = inside; InputError naming `what` when nothing is inside.
Mask maskFromLabels(const LabelVolume& labels, const std::string& what);

} // namespace jseg
