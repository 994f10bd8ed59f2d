#pragma once
// JPEG 2000 decoding with OpenJPEG, in memory. DCMTK 3.6.7 as packaged by Debian has no JPEG 2000 codec,
// so the DICOM reader hands the encapsulated frame (a raw J2K codestream or a JP2 file) to this class.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace jseg {

// First component of a decoded JPEG 2000 image. Samples are row-major, already sign-extended by OpenJPEG
// when the codestream says the component is signed.
struct Jpeg2000Image {
  int width = 0;
  int height = 0;
  int components = 0;
  int precision = 0;  // bits per sample of component 0
  bool isSigned = false;
  std::vector<int32_t> samples;
};

class Jpeg2000Decoder {
public:
  // True for a J2K codestream (SOC + SIZ markers) or a JP2 file (signature box).
  static bool looksLikeJpeg2000(const uint8_t* data, std::size_t size);
  // Throws InputError naming `what` (e.g. "file X, frame 3") when the data cannot be decoded.
  static Jpeg2000Image decode(const uint8_t* data, std::size_t size, const std::string& what);
};

} // namespace jseg
