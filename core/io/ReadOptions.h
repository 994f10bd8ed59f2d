#pragma once
#include <array>
#include <optional>
#include <string>

namespace jseg {

// What a user can tell a reader beyond the path.
struct ReadOptions {
  // Voxel spacing in mm (x, y, z) that replaces whatever the file says (or supplies it when missing).
  std::optional<std::array<double, 3>> spacing;
  // DICOM: which series of a folder to read: a SeriesInstanceUID or a 1-based number from the listing.
  // Empty and several series present -> InputError listing them.
  std::string series;
};

} // namespace jseg
