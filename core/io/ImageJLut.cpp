#include "core/io/ImageJLut.h"

#include <tiffio.h>

#include <algorithm>
#include <cstdarg>

#include "core/base/Errors.h"

namespace jseg {

namespace {
constexpr uint32_t kMagic = 0x494a494a;  // "IJIJ"
constexpr uint32_t kLuts = 0x6c757473;   // "luts"

void putInt(std::vector<uint8_t>& out, uint32_t v, bool big) {
  for (int b = 0; b < 4; ++b) out.push_back(uint8_t(v >> (big ? 8 * (3 - b) : 8 * b)));
}
uint32_t getInt(const uint8_t* p, bool big) {
  uint32_t v = 0;
  for (int b = 0; b < 4; ++b) v |= uint32_t(p[b]) << (big ? 8 * (3 - b) : 8 * b);
  return v;
}
int quiet(TIFF*, void*, const char*, const char*, va_list) { return 1; }
} // namespace

ImageJLut labelLut(const std::vector<LabelInfo>& table) {
  ImageJLut lut{};
  const auto defaults = defaultLabelTable(255);
  auto set = [&](int id, const std::array<uint8_t, 3>& c) {
    for (int k = 0; k < 3; ++k) lut[std::size_t(k * 256 + id)] = c[std::size_t(k)];
  };
  for (const LabelInfo& d : defaults) set(d.id, d.rgb);
  for (const LabelInfo& l : table)
    if (l.id > 0 && l.id < 256) set(l.id, l.rgb);
  return lut;
}

ImageJMetadataBlock imageJLutMetadata(const ImageJLut& lut, bool bigEndian) {
  ImageJMetadataBlock block;
  putInt(block.bytes, kMagic, bigEndian);
  putInt(block.bytes, kLuts, bigEndian);
  putInt(block.bytes, 1, bigEndian);
  block.byteCounts = {uint32_t(block.bytes.size()), uint32_t(lut.size())};
  block.bytes.insert(block.bytes.end(), lut.begin(), lut.end());
  return block;
}

std::optional<ImageJLut> parseImageJLut(const std::vector<uint32_t>& counts, const std::vector<uint8_t>& bytes,
                                        bool bigEndian) {
  if (counts.empty() || counts[0] < 12 || counts[0] > bytes.size() || getInt(bytes.data(), bigEndian) != kMagic)
    return std::nullopt;
  const std::size_t types = (counts[0] - 4) / 8;
  std::size_t entry = 1, offset = counts[0];
  for (std::size_t t = 0; t < types; ++t) {
    const uint32_t type = getInt(&bytes[4 + 8 * t], bigEndian), n = getInt(&bytes[8 + 8 * t], bigEndian);
    for (uint32_t i = 0; i < n; ++i, ++entry) {
      if (entry >= counts.size() || offset + counts[entry] > bytes.size()) return std::nullopt;
      if (type == kLuts && counts[entry] == 768) {
        ImageJLut lut;
        std::copy_n(bytes.begin() + std::ptrdiff_t(offset), 768, lut.begin());
        return lut;
      }
      offset += counts[entry];
    }
  }
  return std::nullopt;
}

std::optional<ImageJLut> readImageJLut(const std::string& tiffPath) {
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(opts, quiet, nullptr);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, quiet, nullptr);
  TIFF* tif = TIFFOpenExt(tiffPath.c_str(), "r", opts);
  TIFFOpenOptionsFree(opts);
  if (!tif) throw InputError("cannot open the TIFF file " + tiffPath);
  std::optional<ImageJLut> lut;
  uint32_t nCounts = 0, nBytes = 0;
  uint32_t* counts = nullptr;
  uint8_t* bytes = nullptr;
  // Unknown to libtiff, the two tags are read as anonymous fields: a uint32 count, then the values.
  if (TIFFGetField(tif, kTiffTagImageJMetadataByteCounts, &nCounts, &counts) == 1 &&
      TIFFGetField(tif, kTiffTagImageJMetadata, &nBytes, &bytes) == 1 && counts && bytes)
    lut = parseImageJLut(std::vector<uint32_t>(counts, counts + nCounts), std::vector<uint8_t>(bytes, bytes + nBytes),
                         TIFFIsBigEndian(tif) != 0);
  TIFFClose(tif);
  return lut;
}

std::vector<LabelInfo> labelTableFromLut(const ImageJLut& lut, int maxLabel) {
  std::vector<LabelInfo> table = defaultLabelTable(std::min(maxLabel, 255));
  for (LabelInfo& l : table)
    for (int k = 0; k < 3; ++k) l.rgb[std::size_t(k)] = lut[std::size_t(k * 256 + l.id)];
  return table;
}

} // namespace jseg
