#pragma once
// TIFF volumes: one multi-page file (classic or BigTIFF) or a folder of single-page slices in natural
// order ("2" before "10"). 8/16-bit signed/unsigned and 32-bit float samples; uncompressed, LZW,
// deflate, PackBits; strips or tiles; also 32-bit integer and 64-bit float. RGB(A) is converted to
// luminance with a warning. Spacing from an ImageJ description (spacing=, unit=) or X/YResolution with
// an explicit inch/cm ResolutionUnit, unless ReadOptions::spacing overrides it; none -> 1 mm,
// geom.spacingKnown = false and a warning. Identity direction, origin 0: page = z, row = y, column = x.
// Bad files -> InputError naming the file and the problem; too big for memory -> ResourceError.
#include <string>
#include <vector>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/io/ReadOptions.h"
#include "core/io/LabelOutputs.h"

namespace jseg {

class TiffStackReader {
public:
  // True when the file starts with a TIFF or BigTIFF header.
  static bool looksLikeTiff(const std::string& file);
  // True when the folder holds at least one TIFF file (and no DICOM).
  static bool folderHasTiffSlices(const std::string& folder);
  static Volume read(const std::string& fileOrFolder, const ReadOptions& options = {},
                     const TaskContext* ctx = nullptr);
};

// File-name order of slices: digit runs compare as numbers ("slice2" < "slice10"), letters ignore case.
bool naturalLess(const std::string& a, const std::string& b);

// Multi-page TIFF writers (deflate). Spacing goes into an ImageJ description so ImageJ/Fiji and our
// reader get it back.
void writeTiffVolume(const Volume& v, const std::string& path);     // in v.originalType where possible
// uint8 if max label < 256, else uint16. With a table, the first page carries ImageJ's metadata with the labels'
// colours as a LUT (ImageJLut.h) and display range 0..255, so Fiji opens it coloured; without, range 0..max label.
void writeTiffLabels(const LabelVolume& l, const std::string& path, const std::vector<LabelInfo>& table = {});

} // namespace jseg
