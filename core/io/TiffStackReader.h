#pragma once
// TIFF volumes: one multi-page file (classic or BigTIFF) or a folder of single-page slices in natural
// order ("2" before "10"). 8/16-bit signed/unsigned and 32-bit float samples; uncompressed, LZW,
// deflate, PackBits. Spacing from an ImageJ description (spacing=, unit=) or X/YResolution + unit,
// unless ReadOptions::spacing overrides it.
#include <string>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/io/ReadOptions.h"

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

// Multi-page TIFF writers (deflate). Spacing goes into an ImageJ description so ImageJ/Fiji and our
// reader get it back.
void writeTiffVolume(const Volume& v, const std::string& path);     // in v.originalType where possible
void writeTiffLabels(const LabelVolume& l, const std::string& path);  // uint8 if max label < 256, else uint16

} // namespace jseg
