// Multi-page TIFF writers (declared in TiffStackReader.h).
#include <cerrno>
#include <tiffio.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <limits>
#include <sstream>
#include <type_traits>
#include <vector>

#include "core/base/Errors.h"
#include "core/io/AtomicFile.h"
#include "core/io/ImageJLut.h"
#include "core/io/TiffStackReader.h"

namespace jseg {

namespace {

// Collects libtiff's messages for the exception instead of letting libtiff print them to stderr.
int collectError(TIFF*, void* userData, const char* module, const char* fmt, va_list ap) {
  auto* errors = static_cast<std::string*>(userData);
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  if (errors && errors->size() < 2000) {
    if (!errors->empty()) *errors += "; ";
    if (module && *module) *errors += std::string(module) + ": ";
    *errors += buf;
  }
  return 1;
}

int ignoreWarning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

class TiffOut {
public:
  TiffOut(const std::string& tempPath, const std::string& target, bool bigTiff) : target_(target) {
    TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(opts, collectError, &errors_);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, ignoreWarning, nullptr);
    tif_ = TIFFOpenExt(tempPath.c_str(), bigTiff ? "w8" : "w", opts);
    TIFFOpenOptionsFree(opts);
    if (!tif_) fail("cannot create the file");
  }
  ~TiffOut() { close(); }
  TiffOut(const TiffOut&) = delete;
  TiffOut& operator=(const TiffOut&) = delete;

  TIFF* get() const { return tif_; }
  void close() {
    if (tif_) TIFFClose(tif_);
    tif_ = nullptr;
  }
  [[noreturn]] void fail(const std::string& what) const {
    // libtiff reports through its handler, but the system's reason is in errno.
    const int err = errno;
    throw WriteError(err ? writeFailure(target_, err) + (errors_.empty() ? "" : " (" + errors_ + ")")
                         : "cannot write " + target_ + ": " + what + (errors_.empty() ? "" : " (" + errors_ + ")"));
  }

private:
  std::string target_;
  std::string errors_;
  TIFF* tif_ = nullptr;
};

struct SampleLayout {
  uint16_t bits;
  uint16_t format;
};

SampleLayout layoutOf(PixelType t) {
  switch (t) {
    case PixelType::UInt8: return {8, SAMPLEFORMAT_UINT};
    case PixelType::Int8: return {8, SAMPLEFORMAT_INT};
    case PixelType::UInt16: return {16, SAMPLEFORMAT_UINT};
    case PixelType::Int16: return {16, SAMPLEFORMAT_INT};
    case PixelType::UInt32: return {32, SAMPLEFORMAT_UINT};
    case PixelType::Int32: return {32, SAMPLEFORMAT_INT};
    case PixelType::Float32: return {32, SAMPLEFORMAT_IEEEFP};
    case PixelType::Float64: return {64, SAMPLEFORMAT_IEEEFP};
  }
  return {32, SAMPLEFORMAT_IEEEFP};
}

template <typename Dst, typename Src>
void convertValues(const Src* src, Dst* dst, std::size_t n) {
  if constexpr (std::is_floating_point_v<Dst> || std::is_same_v<Dst, Src>) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<Dst>(src[i]);
  } else {
    constexpr double lo = static_cast<double>(std::numeric_limits<Dst>::lowest());
    constexpr double hi = static_cast<double>(std::numeric_limits<Dst>::max());
    for (std::size_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(src[i]);
      dst[i] = std::isnan(v) ? Dst(0) : static_cast<Dst>(std::llround(std::clamp(v, lo, hi)));
    }
  }
}

template <typename Src>
void convertTo(PixelType t, const Src* src, unsigned char* dst, std::size_t n) {
  switch (t) {
    case PixelType::UInt8: convertValues(src, reinterpret_cast<uint8_t*>(dst), n); break;
    case PixelType::Int8: convertValues(src, reinterpret_cast<int8_t*>(dst), n); break;
    case PixelType::UInt16: convertValues(src, reinterpret_cast<uint16_t*>(dst), n); break;
    case PixelType::Int16: convertValues(src, reinterpret_cast<int16_t*>(dst), n); break;
    case PixelType::UInt32: convertValues(src, reinterpret_cast<uint32_t*>(dst), n); break;
    case PixelType::Int32: convertValues(src, reinterpret_cast<int32_t*>(dst), n); break;
    case PixelType::Float32: convertValues(src, reinterpret_cast<float*>(dst), n); break;
    case PixelType::Float64: convertValues(src, reinterpret_cast<double*>(dst), n); break;
  }
}

std::string number(double v) {
  std::ostringstream s;
  s.precision(10);
  s << v;
  return s.str();
}

// ImageJ's own header layout, so that ImageJ/Fiji open the file as a calibrated stack.
std::string imageJDescription(const Geometry& g, double minValue, double maxValue) {
  std::string d = "ImageJ=1.11a\nimages=" + std::to_string(g.dims[2]) + "\nslices=" + std::to_string(g.dims[2]) + "\n";
  if (g.spacingKnown) d += "unit=mm\nspacing=" + number(g.spacing[2]) + "\n";
  d += "loop=false\nmin=" + number(minValue) + "\nmax=" + number(maxValue) + "\n";
  return d;
}

// libtiff does not know ImageJ's private tags; declaring them on the handle lets TIFFSetField write them.
void declareImageJTags(TIFF* tif) {
  static const TIFFFieldInfo fields[] = {
      {kTiffTagImageJMetadataByteCounts, TIFF_VARIABLE2, TIFF_VARIABLE2, TIFF_LONG, FIELD_CUSTOM, 1, 1,
       const_cast<char*>("IJMetadataByteCounts")},
      {kTiffTagImageJMetadata, TIFF_VARIABLE2, TIFF_VARIABLE2, TIFF_BYTE, FIELD_CUSTOM, 1, 1,
       const_cast<char*>("IJMetadata")},
  };
  TIFFMergeFieldInfo(tif, fields, 2);
}

// `lut`, when given, goes into ImageJ's metadata on the first page (Fiji shows the stack through it).
template <typename Src>
void writeStack(const Src* data, const Geometry& g, PixelType type, double minValue, double maxValue,
                const std::string& path, const ImageJLut* lut = nullptr) {
  for (int a = 0; a < 3; ++a)
    if (g.dims[a] <= 0) throw InputError("cannot write " + path + ": the volume is empty");
  if (g.dims[0] > std::numeric_limits<uint32_t>::max() || g.dims[1] > std::numeric_limits<uint32_t>::max())
    throw InputError("cannot write " + path + ": slices are too large for TIFF");
  const SampleLayout layout = layoutOf(type);
  const std::size_t w = static_cast<std::size_t>(g.dims[0]), h = static_cast<std::size_t>(g.dims[1]);
  const std::size_t pages = static_cast<std::size_t>(g.dims[2]);
  const std::size_t sampleBytes = layout.bits / 8;
  const std::size_t rowBytes = w * sampleBytes;
  // Classic TIFF offsets are 32-bit; deflate rarely expands data, so the raw size with a margin decides.
  const bool bigTiff = double(rowBytes) * double(h) * double(pages) > 3.5e9;
  // Strips of about 256 KB compress well and keep memory small.
  const uint32_t rowsPerStrip = static_cast<uint32_t>(std::clamp<std::size_t>(262144 / std::max<std::size_t>(rowBytes, 1), 1, h));
  const std::string description = imageJDescription(g, minValue, maxValue);

  AtomicFile file(path);
  {
    TiffOut out(file.tempPath(), path, bigTiff);
    TIFF* tif = out.get();
    ImageJMetadataBlock ijMetadata;
    if (lut) {
      declareImageJTags(tif);
      ijMetadata = imageJLutMetadata(*lut, TIFFIsBigEndian(tif) != 0);
    }
    std::vector<double> buf((rowBytes * rowsPerStrip + 7) / 8);
    auto* bytes = reinterpret_cast<unsigned char*>(buf.data());
    for (std::size_t z = 0; z < pages; ++z) {
      TIFFSetField(tif, TIFFTAG_SUBFILETYPE, uint32_t(0));
      TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(w));
      TIFFSetField(tif, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(h));
      TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, layout.bits);
      TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, layout.format);
      TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, uint16_t(1));
      TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
      TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
      TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
      // Horizontal differencing helps deflate on integer images; ImageJ reads it for 8 and 16 bits.
      if (layout.format != SAMPLEFORMAT_IEEEFP && layout.bits <= 16)
        TIFFSetField(tif, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
      TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rowsPerStrip);
      if (g.spacingKnown) {
        // ImageJ's convention: pixels per calibration unit (mm, named in the description), unit tag NONE.
        TIFFSetField(tif, TIFFTAG_XRESOLUTION, static_cast<float>(1.0 / g.spacing[0]));
        TIFFSetField(tif, TIFFTAG_YRESOLUTION, static_cast<float>(1.0 / g.spacing[1]));
        TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_NONE);
      }
      if (z == 0) TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, description.c_str());
      if (z == 0 && lut) {
        TIFFSetField(tif, kTiffTagImageJMetadataByteCounts, uint32_t(ijMetadata.byteCounts.size()),
                     ijMetadata.byteCounts.data());
        TIFFSetField(tif, kTiffTagImageJMetadata, uint32_t(ijMetadata.bytes.size()), ijMetadata.bytes.data());
      }
      TIFFSetField(tif, TIFFTAG_SOFTWARE, "juleseg " JULESEG_VERSION);

      const Src* page = data + z * w * h;
      uint32_t strip = 0;
      for (std::size_t y0 = 0; y0 < h; y0 += rowsPerStrip, ++strip) {
        const std::size_t rows = std::min<std::size_t>(rowsPerStrip, h - y0);
        convertTo(type, page + y0 * w, bytes, rows * w);
        if (TIFFWriteEncodedStrip(tif, strip, bytes, static_cast<tmsize_t>(rows * rowBytes)) < 0)
          out.fail("page " + std::to_string(z + 1));
      }
      if (!TIFFWriteDirectory(tif)) out.fail("page " + std::to_string(z + 1));
    }
    if (!TIFFFlush(tif)) out.fail("flush");
    out.close();
  }
  file.commit();
}

} // namespace

void writeTiffVolume(const Volume& v, const std::string& path) {
  if (v.voxels.size() != v.geom.voxelCount() || v.voxels.empty())
    throw InputError("cannot write " + path + ": the volume is empty or inconsistent");
  const auto r = v.range();
  writeStack(v.voxels.data(), v.geom, v.originalType, r[0], r[1], path);
}

void writeTiffLabels(const LabelVolume& l, const std::string& path, const std::vector<LabelInfo>& table) {
  if (l.labels.size() != l.geom.voxelCount() || l.labels.empty())
    throw InputError("cannot write " + path + ": the label volume is empty or inconsistent");
  const int maxLabel = l.maxLabel();
  const PixelType type = maxLabel < 256 ? PixelType::UInt8 : PixelType::UInt16;
  if (table.empty()) return writeStack(l.labels.data(), l.geom, type, 0.0, double(maxLabel), path);
  // ImageJ maps the display range [min, max] onto the LUT's 256 entries: 0..255 makes value k show entry k.
  const ImageJLut lut = labelLut(table);
  writeStack(l.labels.data(), l.geom, type, 0.0, 255.0, path, &lut);
}

} // namespace jseg
