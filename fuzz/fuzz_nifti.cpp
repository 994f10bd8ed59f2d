// libFuzzer target: NiftiIO::read on one .nii (gzip-compressed or not: the reader decides by content).
#include "core/io/NiftiIO.h"
#include "fuzz/FuzzSupport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jseg;
  const fuzz::fs::path file = fuzz::workFolder("fuzz_nifti") / "input.nii";
  fuzz::writeFile(file, data, size);
  fuzz::expectOnlyJsegErrors([&] { fuzz::checkVolume(NiftiIO::read(file.string())); });
  return 0;
}
