// libFuzzer target: DicomSeriesReader on a folder. The input may hold several files separated by the
// token "JSEG-NXT" (at most 4), so that series assembly (slice order, gaps, mixed sizes or
// orientations, duplicate positions) is fuzzed and not only the parsing of a single file.
#include <algorithm>
#include <cstring>

#include "core/io/DicomSeriesReader.h"
#include "fuzz/FuzzSupport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jseg;
  static const char kSeparator[] = "JSEG-NXT";
  constexpr std::size_t kSepLen = sizeof kSeparator - 1;
  constexpr int kMaxFiles = 4;
  const fuzz::fs::path dir = fuzz::workFolder("fuzz_dicom");
  fuzz::clearFolder(dir);
  const uint8_t* begin = data;
  const uint8_t* end = data + size;
  for (int i = 0; i < kMaxFiles; ++i) {
    const uint8_t* cut = end;
    if (i + 1 < kMaxFiles)
      cut = std::search(begin, end, kSeparator, kSeparator + kSepLen,
                        [](uint8_t a, char b) { return a == static_cast<uint8_t>(b); });
    fuzz::writeFile(dir / ("slice" + std::to_string(i) + ".dcm"), begin, static_cast<std::size_t>(cut - begin));
    if (cut == end) break;
    begin = cut + kSepLen;
  }
  fuzz::expectOnlyJsegErrors([&] { fuzz::checkVolume(DicomSeriesReader::read(dir.string())); });
  return 0;
}
