#pragma once
// ImageJ's private TIFF metadata (tags 50838 IJMetadataByteCounts and 50839 IJMetadata) carrying a colour lookup
// table: Fiji opens a label TIFF with it coloured, label k in table colour k. The block is ImageJ's layout: a
// header ("IJIJ" magic, then one (type, count) pair per entry type) followed by the entries, integers in the
// TIFF file's byte order; a LUT entry ("luts") is 768 bytes, 256 reds then 256 greens then 256 blues.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/io/LabelOutputs.h"

namespace jseg {

constexpr uint32_t kTiffTagImageJMetadataByteCounts = 50838;
constexpr uint32_t kTiffTagImageJMetadata = 50839;

using ImageJLut = std::array<uint8_t, 768>;

// Index 0 black; index k (1..255) the colour of table entry k, else its default colour (defaultLabelTable).
ImageJLut labelLut(const std::vector<LabelInfo>& table);

struct ImageJMetadataBlock {
  std::vector<uint32_t> byteCounts;  // for tag 50838: the header's size, then one per entry
  std::vector<uint8_t> bytes;        // for tag 50839
};
ImageJMetadataBlock imageJLutMetadata(const ImageJLut& lut, bool bigEndian);
// The first LUT in a metadata block (nullopt when it has none or is not ImageJ's layout).
std::optional<ImageJLut> parseImageJLut(const std::vector<uint32_t>& byteCounts, const std::vector<uint8_t>& bytes,
                                        bool bigEndian);
// The first LUT of a TIFF file's first page (nullopt without one); InputError when the file cannot be opened.
std::optional<ImageJLut> readImageJLut(const std::string& tiffPath);
// Entries for the label ids 1..min(maxLabel, 255) with the LUT's colours and names "Region k".
std::vector<LabelInfo> labelTableFromLut(const ImageJLut& lut, int maxLabel);

} // namespace jseg
