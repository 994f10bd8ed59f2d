// libFuzzer target: TiffStackReader on one file (multi-page TIFF, BigTIFF, ImageJ stacks).
#include "core/io/TiffStackReader.h"
#include "fuzz/FuzzSupport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jseg;
  const fuzz::fs::path file = fuzz::workFolder("fuzz_tiff") / "input.tif";
  fuzz::writeFile(file, data, size);
  fuzz::expectOnlyJsegErrors([&] { fuzz::checkVolume(TiffStackReader::read(file.string())); });
  return 0;
}
