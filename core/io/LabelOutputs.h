#pragma once
// What a segmentation is saved as besides the label volume: a label table, per-label statistics and
// coloured overlay PNGs. All writes are atomic (AtomicFile).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/Progress.h"
#include "core/base/Volume.h"

namespace jseg {

struct LabelInfo {
  int id = 0;
  std::string name;
  std::array<uint8_t, 3> rgb{0, 0, 0};
  bool visible = true;
};

// A fixed, distinguishable colour table: label k gets the same colour in every run and front end.
std::vector<LabelInfo> defaultLabelTable(int numLabels);

struct LabelStatistics {
  int id = 0;
  std::size_t voxels = 0;
  double volumeMm3 = 0;
  double meanIntensity = 0;
  double stdIntensity = 0;
};
// One entry per label id >= 1 present in l (ascending); mean and population standard deviation of
// v's voxels under the label, accumulated in double. Throws InputError when the grids differ.
std::vector<LabelStatistics> computeLabelStatistics(const Volume& v, const LabelVolume& l);

void writeLabelTableJson(const std::vector<LabelInfo>& table, const std::string& path);
std::vector<LabelInfo> readLabelTableJson(const std::string& path);
// Columns id,name,voxels,volume_mm3,mean_intensity,std_intensity; volume with 3 decimals, mean and
// std with 4; names from the table (else "Region <id>"), quoted when they hold a comma or quote.
void writeStatisticsCsv(const std::vector<LabelStatistics>& stats, const std::vector<LabelInfo>& table,
                        const std::string& path);

enum class SliceAxis { X = 0, Y = 1, Z = 2 };  // sagittal, coronal, axial for an LPS/RAS volume
struct OverlayStyle {
  float windowLo = 0, windowHi = 0;  // grey window; lo == hi -> the volume's range
  double opacity = 0.5;
};
// Greyscale slice with the labels blended on top, as an RGB image (row-major, 3 bytes a pixel).
// The image is width x height with width = the first in-plane axis; anisotropic spacing is NOT
// resampled (one pixel a voxel). Pixel (column c, row r) shows, in index space:
//   Z: voxel (c, r, slice)               width = nx, height = ny
//   Y: voxel (c, slice, nz - 1 - r)      width = nx, height = nz  (row 0 = last z: superior up for
//   X: voxel (slice, c, nz - 1 - r)      width = ny, height = nz   an axial stack with z towards S)
// Grey = (value - lo) / (hi - lo) * 255 clamped, where [lo, hi] is the style's window or, when
// lo == hi, the volume's range. A visible label k > 0 is blended as (1 - opacity) * grey +
// opacity * colour; label 0 and invisible labels leave the grey pixel. Ids missing from the table
// use their defaultLabelTable colour. Throws InputError for a slice outside the volume or a label
// map on another grid.
std::vector<uint8_t> renderOverlaySlice(const Volume& v, const LabelVolume& l, const std::vector<LabelInfo>& table,
                                        SliceAxis axis, int64_t slice, const OverlayStyle& style, int& width,
                                        int& height);
void writeOverlayPng(const Volume& v, const LabelVolume& l, const std::vector<LabelInfo>& table, SliceAxis axis,
                     int64_t slice, const OverlayStyle& style, const std::string& path);
// Every slice of an axis into folder/prefix_0000.png ... (folder created if missing); returns the
// number written. On cancel or error, the files this call already wrote are removed again.
int writeOverlayPngs(const Volume& v, const LabelVolume& l, const std::vector<LabelInfo>& table, SliceAxis axis,
                     const OverlayStyle& style, const std::string& folder, const std::string& prefix,
                     const TaskContext* ctx = nullptr);

} // namespace jseg
