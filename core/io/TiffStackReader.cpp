#include "core/io/TiffStackReader.h"

#include <tiffio.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <sstream>
#include <vector>

#include "core/base/Errors.h"
#include "core/base/SystemMemory.h"

namespace jseg {

namespace fs = std::filesystem;

namespace {

// libtiff reports problems through handlers; by default they print to stderr. Every file is opened with
// per-handle handlers (libtiff >= 4.5) that collect the text, so the message can go into the exception
// instead, and the global handlers are never consulted (the handler returns non-zero).
struct TiffMessages {
  std::string errors;
};

int collectError(TIFF*, void* userData, const char* module, const char* fmt, va_list ap) {
  auto* msgs = static_cast<TiffMessages*>(userData);
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  if (msgs && msgs->errors.size() < 2000) {
    if (!msgs->errors.empty()) msgs->errors += "; ";
    if (module && *module) msgs->errors += std::string(module) + ": ";
    msgs->errors += buf;
  }
  return 1;
}

int ignoreWarning(TIFF*, void*, const char*, const char*, va_list) {
  // Warnings are mostly about private tags (ImageJ metadata, tifffile shapes); nothing a user can act on.
  return 1;
}

class TiffFile {
public:
  explicit TiffFile(const std::string& path) : path_(path) {
    TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(opts, collectError, &msgs_);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, ignoreWarning, nullptr);
    // "m": no memory mapping, so reading a big stack does not add the whole file to the resident set.
    tif_ = TIFFOpenExt(path.c_str(), "rm", opts);
    TIFFOpenOptionsFree(opts);
    if (!tif_) throw InputError("cannot read TIFF file " + path + ": " + lastError("not a readable TIFF"));
  }
  ~TiffFile() {
    if (tif_) TIFFClose(tif_);
  }
  TiffFile(const TiffFile&) = delete;
  TiffFile& operator=(const TiffFile&) = delete;

  TIFF* get() const { return tif_; }
  const std::string& path() const { return path_; }
  std::string lastError(const std::string& fallback) const {
    return msgs_.errors.empty() ? fallback : msgs_.errors;
  }
  void clearErrors() { msgs_.errors.clear(); }

private:
  std::string path_;
  TiffMessages msgs_;
  TIFF* tif_ = nullptr;
};

struct PageInfo {
  uint32_t width = 0, height = 0;
  uint16_t bitsPerSample = 0, sampleFormat = SAMPLEFORMAT_UINT, samplesPerPixel = 1;
  uint16_t planar = PLANARCONFIG_CONTIG, photometric = PHOTOMETRIC_MINISBLACK, compression = COMPRESSION_NONE;
  bool tiled = false;
  PixelType type = PixelType::UInt8;
};

std::string sizeText(const PageInfo& p) { return std::to_string(p.width) + "x" + std::to_string(p.height); }

std::string compressionName(uint16_t c) {
  const TIFFCodec* codec = TIFFFindCODEC(c);
  return codec && codec->name ? codec->name : "compression " + std::to_string(c);
}

PageInfo readPageInfo(const TiffFile& f, const std::string& where) {
  TIFF* tif = f.get();
  PageInfo p;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &p.width) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &p.height) ||
      p.width == 0 || p.height == 0)
    throw InputError(where + " has no image size (damaged TIFF?)");
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &p.bitsPerSample);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &p.sampleFormat);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &p.samplesPerPixel);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &p.planar);
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &p.compression);
  if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &p.photometric))
    p.photometric = p.samplesPerPixel >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
  p.tiled = TIFFIsTiled(tif) != 0;

  const uint16_t b = p.bitsPerSample;
  const uint16_t fmt = p.sampleFormat;
  if (fmt == SAMPLEFORMAT_UINT && b == 8) p.type = PixelType::UInt8;
  else if (fmt == SAMPLEFORMAT_INT && b == 8) p.type = PixelType::Int8;
  else if (fmt == SAMPLEFORMAT_UINT && b == 16) p.type = PixelType::UInt16;
  else if (fmt == SAMPLEFORMAT_INT && b == 16) p.type = PixelType::Int16;
  else if (fmt == SAMPLEFORMAT_UINT && b == 32) p.type = PixelType::UInt32;
  else if (fmt == SAMPLEFORMAT_INT && b == 32) p.type = PixelType::Int32;
  else if (fmt == SAMPLEFORMAT_IEEEFP && b == 32) p.type = PixelType::Float32;
  else if (fmt == SAMPLEFORMAT_IEEEFP && b == 64) p.type = PixelType::Float64;
  else {
    const char* kind = fmt == SAMPLEFORMAT_UINT     ? "unsigned integer"
                       : fmt == SAMPLEFORMAT_INT    ? "signed integer"
                       : fmt == SAMPLEFORMAT_IEEEFP ? "floating-point"
                                                    : "complex or unknown";
    throw InputError(where + " has an unsupported sample format: " + std::to_string(b) + "-bit " + kind +
                     " (supported: 8/16/32-bit integer, 32/64-bit float)");
  }
  if (p.photometric == PHOTOMETRIC_PALETTE)
    throw InputError(where + " is a palette (colour-mapped) image; save it as greyscale first");
  if (p.photometric == PHOTOMETRIC_SEPARATED || p.photometric == PHOTOMETRIC_CIELAB ||
      p.photometric == PHOTOMETRIC_ICCLAB || p.photometric == PHOTOMETRIC_ITULAB ||
      (p.photometric == PHOTOMETRIC_YCBCR && p.compression != COMPRESSION_JPEG))
    throw InputError(where + " uses a CMYK/Lab/YCbCr colour space; save it as greyscale or RGB first");
  if (p.samplesPerPixel == 2 || p.samplesPerPixel > 4)
    throw InputError(where + " has " + std::to_string(p.samplesPerPixel) +
                     " samples per pixel; only greyscale (1) or RGB/RGBA (3/4) are supported");
  if (p.samplesPerPixel > 1 && p.planar != PLANARCONFIG_CONTIG)
    throw InputError(where + " stores its colour channels in separate planes; save it as greyscale first");
  if (!TIFFIsCODECConfigured(p.compression))
    throw InputError(where + " uses " + compressionName(p.compression) +
                     ", which this build cannot decode (supported: none, LZW, deflate, PackBits)");
  return p;
}

bool samePixelLayout(const PageInfo& a, const PageInfo& b) {
  return a.type == b.type && a.samplesPerPixel == b.samplesPerPixel;
}

std::string layoutText(const PageInfo& p) {
  std::string s = pixelTypeName(p.type);
  if (p.samplesPerPixel > 1) s += " with " + std::to_string(p.samplesPerPixel) + " samples per pixel";
  return s;
}

// RGB is converted to luminance (Rec. 601 weights) rather than refused: stacks from microscopes and
// slide scanners are often saved as RGB even when they are grey.
template <typename T>
void convertPixels(const unsigned char* src, float* dst, std::size_t n, int spp) {
  const T* s = reinterpret_cast<const T*>(src);
  if (spp == 1) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(s[i]);
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const T* px = s + i * spp;
      dst[i] = static_cast<float>(0.299 * double(px[0]) + 0.587 * double(px[1]) + 0.114 * double(px[2]));
    }
  }
}

// Plain byte buffers for one strip or tile; memcpy-free conversion needs alignment for 8-byte samples.
void convertRow(const PageInfo& p, const unsigned char* src, float* dst, std::size_t n) {
  const int spp = p.samplesPerPixel;
  switch (p.type) {
    case PixelType::UInt8: convertPixels<uint8_t>(src, dst, n, spp); break;
    case PixelType::Int8: convertPixels<int8_t>(src, dst, n, spp); break;
    case PixelType::UInt16: convertPixels<uint16_t>(src, dst, n, spp); break;
    case PixelType::Int16: convertPixels<int16_t>(src, dst, n, spp); break;
    case PixelType::UInt32: convertPixels<uint32_t>(src, dst, n, spp); break;
    case PixelType::Int32: convertPixels<int32_t>(src, dst, n, spp); break;
    case PixelType::Float32: convertPixels<float>(src, dst, n, spp); break;
    case PixelType::Float64: convertPixels<double>(src, dst, n, spp); break;
  }
}

std::size_t pixelBytes(const PageInfo& p) { return pixelTypeBytes(p.type) * p.samplesPerPixel; }

// The most pixel bytes one byte of a codec's output can stand for (runs of equal bytes are the best
// case). A header that claims more than the file could hold is refused before anything big is
// allocated: otherwise a 100-byte file saying 60000x60000 makes us allocate and zero 14 GB.
double maxExpansion(uint16_t compression) {
  switch (compression) {
    case COMPRESSION_NONE: return 1.0;
    case COMPRESSION_PACKBITS: return 64.0;  // 2 bytes per run of 128
    case COMPRESSION_ADOBE_DEFLATE:
    case COMPRESSION_DEFLATE: return 1100.0;  // deflate tops out near 1032:1
    case COMPRESSION_LZW: return 2048.0;      // 12-bit codes for ever longer runs: about 1400:1
    default: return 32768.0;                  // JPEG, ZSTD, LZMA, ...: generous (zstd RLE blocks)
  }
}

void checkClaimedSize(const std::string& file, const std::string& what, const PageInfo& p, uint64_t pages,
                      double expansion) {
  std::error_code ec;
  const auto fileSize = fs::file_size(file, ec);
  if (ec) return;
  const double claimed = double(p.width) * double(p.height) * double(pixelBytes(p)) * double(pages);
  if (claimed > double(fileSize) * expansion + 65536.0) {
    char mb[32];
    std::snprintf(mb, sizeof mb, "%.1f MB", claimed / 1e6);
    throw InputError(what + " claims " + std::to_string(p.width) + "x" + std::to_string(p.height) + "x" +
                     std::to_string(pages) + " pixels (" + mb + " of pixel data, compression " +
                     compressionName(p.compression) + ") but the file is only " + std::to_string(fileSize) +
                     " bytes; it is truncated or corrupt");
  }
}

// Decodes the current directory of `f` into dst (width*height floats), one strip or tile at a time so
// that only one compressed unit is ever held besides the float volume.
void decodePage(TiffFile& f, const PageInfo& p, float* dst, const std::string& where) {
  TIFF* tif = f.get();
  // JPEG-in-TIFF colour pages are stored as YCbCr; let libtiff hand back RGB (then luminance).
  if (p.compression == COMPRESSION_JPEG && p.photometric == PHOTOMETRIC_YCBCR)
    TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
  const std::size_t w = p.width, h = p.height, pb = pixelBytes(p);
  auto fail = [&](const std::string& unit) {
    throw InputError(where + ": cannot decode " + unit + " (file truncated or damaged?): " +
                     f.lastError("read error"));
  };
  if (p.tiled) {
    uint32_t tw = 0, th = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
    const tmsize_t tileSize = TIFFTileSize(tif);
    if (tw == 0 || th == 0 || tileSize <= 0 || std::size_t(tileSize) < std::size_t(tw) * th * pb)
      throw InputError(where + " has an invalid tile layout");
    // Tiles may overhang the image, but not by orders of magnitude (each one is allocated whole).
    if (double(tw) * th > std::max(4.0 * double(w) * double(h), double(1 << 22)))
      throw InputError(where + " has " + std::to_string(tw) + "x" + std::to_string(th) + " tiles for a " +
                       sizeText(p) + " image (damaged TIFF?)");
    std::vector<double> buf((std::size_t(tileSize) + 7) / 8);  // double: aligned for any sample type
    auto* bytes = reinterpret_cast<unsigned char*>(buf.data());
    for (uint32_t ty = 0; ty < h; ty += th)
      for (uint32_t tx = 0; tx < w; tx += tw) {
        const ttile_t tile = TIFFComputeTile(tif, tx, ty, 0, 0);
        if (TIFFReadEncodedTile(tif, tile, bytes, tileSize) < 0) fail("tile " + std::to_string(tile));
        const std::size_t rows = std::min<std::size_t>(th, h - ty), cols = std::min<std::size_t>(tw, w - tx);
        for (std::size_t r = 0; r < rows; ++r)
          convertRow(p, bytes + r * tw * pb, dst + (ty + r) * w + tx, cols);
      }
    return;
  }
  uint32_t rowsPerStrip = 0;
  TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rowsPerStrip);
  if (rowsPerStrip == 0 || rowsPerStrip > h) rowsPerStrip = static_cast<uint32_t>(h);
  const std::size_t rowBytes = w * pb;
  if (std::size_t(TIFFScanlineSize64(tif)) != rowBytes) throw InputError(where + " has an unexpected row size");
  std::vector<double> buf((rowBytes * rowsPerStrip + 7) / 8);
  auto* bytes = reinterpret_cast<unsigned char*>(buf.data());
  const uint32_t strips = TIFFNumberOfStrips(tif);
  for (uint32_t s = 0; s < strips; ++s) {
    const std::size_t y0 = std::size_t(s) * rowsPerStrip;
    if (y0 >= h) break;
    const std::size_t rows = std::min<std::size_t>(rowsPerStrip, h - y0);
    if (TIFFReadEncodedStrip(tif, s, bytes, static_cast<tmsize_t>(rows * rowBytes)) < 0)
      fail("strip " + std::to_string(s));
    convertRow(p, bytes, dst + y0 * w, rows * w);
  }
}

// ---- spacing ------------------------------------------------------------------------------------

std::map<std::string, std::string> parseImageJ(const std::string& desc) {
  std::map<std::string, std::string> kv;
  std::istringstream in(desc);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    kv[line.substr(0, eq)] = value;
  }
  return kv;
}

// Millimetres per unit, or 0 when the unit is not a length we know ("pixel", "", ...).
double unitToMm(std::string u) {
  for (auto& c : u) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (u == "micron" || u == "microns" || u == "um" || u == "\xc2\xb5m" || u == "\xb5m" || u == "\\u00b5m" ||
      u == "\xce\xbcm")
    return 1e-3;
  if (u == "mm" || u == "millimeter" || u == "millimetre") return 1.0;
  if (u == "cm" || u == "centimeter" || u == "centimetre") return 10.0;
  if (u == "nm" || u == "nanometer" || u == "nanometre") return 1e-6;
  if (u == "m" || u == "meter" || u == "metre") return 1000.0;
  if (u == "inch" || u == "in" || u == "inches") return 25.4;
  return 0.0;
}

double parseNumber(const std::string& s) {
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    return used > 0 ? v : 0.0;
  } catch (...) {
    return 0.0;
  }
}

struct SpacingInfo {
  std::array<double, 3> mm{1.0, 1.0, 1.0};
  bool xyKnown = false;
  bool zKnown = false;
};

SpacingInfo readSpacing(TIFF* tif, const std::string& description) {
  SpacingInfo s;
  float xres = 0, yres = 0;
  const bool haveRes = TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xres) && TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yres) &&
                       std::isfinite(xres) && std::isfinite(yres) && xres > 0 && yres > 0;
  double unitMm = 0;
  double zSpacing = 0;
  if (description.rfind("ImageJ=", 0) == 0) {
    // ImageJ keeps the calibration unit in its description and writes ResolutionUnit NONE; the
    // resolutions are then pixels per that unit, and `spacing` is the slice distance in it.
    auto kv = parseImageJ(description);
    unitMm = unitToMm(kv.count("unit") ? kv["unit"] : "");
    if (kv.count("spacing")) zSpacing = parseNumber(kv["spacing"]);
  } else {
    uint16_t unit = RESUNIT_NONE;
    // An absent ResolutionUnit means inch by the TIFF rules, but editors write a meaningless 72 dpi that
    // way; only an explicit inch or centimetre is trusted.
    if (TIFFGetField(tif, TIFFTAG_RESOLUTIONUNIT, &unit)) {
      if (unit == RESUNIT_INCH) unitMm = 25.4;
      if (unit == RESUNIT_CENTIMETER) unitMm = 10.0;
    }
  }
  if (unitMm > 0 && haveRes) {
    s.mm[0] = unitMm / xres;
    s.mm[1] = unitMm / yres;
    s.xyKnown = true;
  }
  if (unitMm > 0 && std::isfinite(zSpacing) && zSpacing > 0) {
    s.mm[2] = unitMm * zSpacing;
    s.zKnown = true;
  }
  return s;
}

std::string imageDescription(TIFF* tif) {
  const char* desc = nullptr;
  if (TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &desc) && desc) return desc;
  return {};
}

// ---- memory -------------------------------------------------------------------------------------


std::vector<float> allocateVolume(const std::string& path, uint64_t w, uint64_t h, uint64_t pages) {
  const long double voxels = static_cast<long double>(w) * h * pages;
  const long double bytes = voxels * sizeof(float);
  const std::size_t avail = availableMemoryBytes();
  auto mb = [](long double b) { return std::to_string(static_cast<unsigned long long>(b / (1024.0L * 1024.0L))); };
  if (avail > 0 && bytes > static_cast<long double>(avail))
    throw ResourceError("loading " + path + " (" + std::to_string(w) + "x" + std::to_string(h) + "x" +
                        std::to_string(pages) + ") needs " + mb(bytes) + " MB as float32, but only " + mb(avail) +
                        " MB of memory is available; crop the stack or load it on a larger machine");
  try {
    return std::vector<float>(static_cast<std::size_t>(voxels));
  } catch (const std::bad_alloc&) {
    throw ResourceError("loading " + path + " needs " + mb(bytes) + " MB as float32, which could not be allocated");
  } catch (const std::length_error&) {
    throw ResourceError("loading " + path + ": the volume is too large to address");
  }
}

// ---- assembling the volume ----------------------------------------------------------------------

void finishGeometry(Volume& v, const SpacingInfo& s, const ReadOptions& options, const std::string& path) {
  v.geom.origin = {0, 0, 0};
  v.geom.direction = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  if (options.spacing) {
    for (double d : *options.spacing)
      if (!std::isfinite(d) || d <= 0) throw InputError("voxel spacing must be positive (got " + std::to_string(d) + ")");
    v.geom.spacing = *options.spacing;
    v.geom.spacingKnown = true;
    return;
  }
  const bool singleSlice = v.geom.dims[2] == 1;
  if (s.xyKnown && (s.zKnown || singleSlice)) {
    v.geom.spacing = {s.mm[0], s.mm[1], s.zKnown ? s.mm[2] : s.mm[0]};
    v.geom.spacingKnown = true;
  } else if (s.xyKnown) {
    v.geom.spacing = {s.mm[0], s.mm[1], s.mm[0]};
    v.geom.spacingKnown = false;
    v.warnings.push_back(path + " gives the pixel size but no slice distance; the slice distance was set equal to "
                                "the pixel width (" + std::to_string(s.mm[0]) + " mm). Set the spacing if it differs.");
  } else if (s.zKnown) {
    v.geom.spacing = {1.0, 1.0, s.mm[2]};
    v.geom.spacingKnown = false;
    v.warnings.push_back(path + " gives the slice distance but no pixel size; 1 mm pixels were assumed. "
                                "Set the spacing if it matters.");
  } else {
    v.geom.spacing = {1.0, 1.0, 1.0};
    v.geom.spacingKnown = false;
    v.warnings.push_back(path + " has no voxel spacing; 1 mm was assumed. Set the spacing if it matters.");
  }
}

void addColourWarnings(Volume& v, const PageInfo& p, const std::string& path) {
  if (p.samplesPerPixel >= 3)
    v.warnings.push_back(path + " is RGB; it was converted to grey luminance (0.299 R + 0.587 G + 0.114 B).");
  if (p.photometric == PHOTOMETRIC_MINISWHITE)
    v.warnings.push_back(path + " is stored as min-is-white; values were read as stored (not inverted).");
}

bool isReducedOrMask(TIFF* tif) {
  uint32_t subfile = 0;
  return TIFFGetField(tif, TIFFTAG_SUBFILETYPE, &subfile) && (subfile & (FILETYPE_REDUCEDIMAGE | FILETYPE_MASK));
}

// ImageJ writes stacks beyond 4 GiB as one IFD followed by all pages' raw data back to back; the page
// count is only in the description.
bool readImageJContiguous(TiffFile& f, const PageInfo& p, uint64_t pages, Volume& v, const TaskContext* ctx) {
  TIFF* tif = f.get();
  if (p.compression != COMPRESSION_NONE || p.tiled) return false;
  uint64_t* offsets = nullptr;
  uint64_t* counts = nullptr;
  if (!TIFFGetField(tif, TIFFTAG_STRIPOFFSETS, &offsets) || !offsets) return false;
  if (!TIFFGetField(tif, TIFFTAG_STRIPBYTECOUNTS, &counts) || !counts) return false;
  const uint32_t strips = TIFFNumberOfStrips(tif);
  for (uint32_t s = 1; s < strips; ++s)
    if (offsets[s] != offsets[s - 1] + counts[s - 1]) return false;
  const uint64_t start = offsets[0];
  const uint64_t pageBytes = uint64_t(p.width) * p.height * pixelBytes(p);
  std::error_code ec;
  const uint64_t fileSize = fs::file_size(f.path(), ec);
  if (ec || fileSize < start + pageBytes * pages)
    throw InputError(f.path() + " is truncated: its ImageJ description announces " + std::to_string(pages) +
                     " pages but the file ends after page " + std::to_string(fileSize > start ? (fileSize - start) / pageBytes : 0));
  v.voxels = allocateVolume(f.path(), p.width, p.height, pages);
  std::ifstream in(f.path(), std::ios::binary);
  in.seekg(static_cast<std::streamoff>(start));
  std::vector<double> buf((pageBytes + 7) / 8);
  auto* bytes = reinterpret_cast<unsigned char*>(buf.data());
  const std::size_t sampleBytes = pixelTypeBytes(p.type);
  const std::size_t pagePixels = std::size_t(p.width) * p.height;
  for (uint64_t z = 0; z < pages; ++z) {
    checkCancel(ctx);
    reportProgress(ctx, double(z) / double(pages), "Reading TIFF page " + std::to_string(z + 1) + " of " + std::to_string(pages));
    if (!in.read(reinterpret_cast<char*>(bytes), static_cast<std::streamsize>(pageBytes)))
      throw InputError(f.path() + ": read error on page " + std::to_string(z + 1));
    if (TIFFIsByteSwapped(tif) && sampleBytes > 1)
      for (std::size_t i = 0; i < pageBytes; i += sampleBytes) std::reverse(bytes + i, bytes + i + sampleBytes);
    convertRow(p, bytes, v.voxels.data() + z * pagePixels, pagePixels);
  }
  return true;
}

Volume readMultiPage(const std::string& path, const ReadOptions& options, const TaskContext* ctx) {
  if (!TiffStackReader::looksLikeTiff(path)) throw InputError(path + " is not a TIFF file (no TIFF header)");
  TiffFile f(path);
  TIFF* tif = f.get();

  // First pass over the directories only: sizes and types are checked before anything big is allocated.
  std::vector<tdir_t> dirs;
  PageInfo first;
  double expansion = 1.0;
  const std::string description = imageDescription(tif);
  const SpacingInfo spacing = readSpacing(tif, description);
  for (tdir_t d = 0;; ++d) {
    if (!isReducedOrMask(tif)) {
      const std::string where = path + " page " + std::to_string(dirs.size() + 1);
      PageInfo p = readPageInfo(f, where);
      if (dirs.empty()) {
        first = p;
      } else if (p.width != first.width || p.height != first.height) {
        throw InputError(path + ": page " + std::to_string(dirs.size() + 1) + " is " + sizeText(p) +
                         " but page 1 is " + sizeText(first) + "; all pages of a stack must have the same size");
      } else if (!samePixelLayout(p, first)) {
        throw InputError(path + ": page " + std::to_string(dirs.size() + 1) + " is " + layoutText(p) +
                         " but page 1 is " + layoutText(first));
      }
      expansion = std::max(expansion, maxExpansion(p.compression));
      dirs.push_back(d);
    }
    if (TIFFLastDirectory(tif)) break;
    f.clearErrors();
    if (!TIFFReadDirectory(tif))
      throw InputError(path + " is truncated or damaged: page " + std::to_string(dirs.size() + 1) +
                       " cannot be read (" + f.lastError("read error") + ")");
  }
  if (dirs.empty()) throw InputError(path + " holds no full-resolution image");

  uint64_t pages = dirs.size();
  checkClaimedSize(path, path, first, pages, expansion);
  Volume v;
  v.sourcePath = path;
  v.originalType = first.type;
  if (description.rfind("ImageJ=", 0) == 0) {
    auto kv = parseImageJ(description);
    const long channels = kv.count("channels") ? std::atol(kv["channels"].c_str()) : 1;
    const long frames = kv.count("frames") ? std::atol(kv["frames"].c_str()) : 1;
    const long slices = kv.count("slices") ? std::atol(kv["slices"].c_str()) : 1;
    const long images = kv.count("images") ? std::atol(kv["images"].c_str()) : 0;
    if (channels > 1)
      throw InputError(path + " is an ImageJ hyperstack with " + std::to_string(channels) +
                       " channels; split the channels (Image > Color > Split Channels) and load one");
    if (frames > 1 && slices > 1)
      throw InputError(path + " is a time series (" + std::to_string(frames) + " frames of " + std::to_string(slices) +
                       " slices); save one time point as its own stack");
    if (frames > 1) v.warnings.push_back(path + ": the " + std::to_string(frames) + " ImageJ frames were read as slices.");
    if (images > 1 && pages == 1) {
      v.geom.dims = {first.width, first.height, images};
      TIFFSetDirectory(tif, dirs[0]);
      if (readImageJContiguous(f, first, static_cast<uint64_t>(images), v, ctx)) {
        finishGeometry(v, spacing, options, path);
        addColourWarnings(v, first, path);
        reportProgress(ctx, 1.0, "TIFF loaded");
        return v;
      }
    }
    if (images > 0 && static_cast<uint64_t>(images) != pages)
      throw InputError(path + " has " + std::to_string(pages) + " pages but its ImageJ description announces " +
                       std::to_string(images) + " (file truncated?)");
  }

  v.geom.dims = {first.width, first.height, static_cast<int64_t>(pages)};
  v.voxels = allocateVolume(path, first.width, first.height, pages);
  const std::size_t pagePixels = std::size_t(first.width) * first.height;
  // Second pass walks the directory chain forward once (random access by number would rescan it).
  f.clearErrors();
  if (!TIFFSetDirectory(tif, 0))
    throw InputError(path + ": page 1 cannot be read: " + f.lastError("read error"));
  tdir_t d = 0;
  for (uint64_t z = 0; z < pages;) {
    if (d == dirs[z]) {
      checkCancel(ctx);
      reportProgress(ctx, double(z) / double(pages),
                     "Reading TIFF page " + std::to_string(z + 1) + " of " + std::to_string(pages));
      const std::string where = path + " page " + std::to_string(z + 1);
      decodePage(f, readPageInfo(f, where), v.voxels.data() + z * pagePixels, where);
      ++z;
      if (z == pages) break;
    }
    f.clearErrors();
    if (!TIFFReadDirectory(tif))
      throw InputError(path + ": page " + std::to_string(z + 1) + " cannot be read: " + f.lastError("read error"));
    ++d;
  }
  finishGeometry(v, spacing, options, path);
  addColourWarnings(v, first, path);
  reportProgress(ctx, 1.0, "TIFF loaded");
  return v;
}

bool hasTiffExtension(const fs::path& p) {
  std::string ext = p.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".tif" || ext == ".tiff";
}

// Files a user would see as slices: hidden files (".DS_Store", "._x.tif" resource forks) are skipped.
std::vector<std::string> tiffFilesIn(const std::string& folder, bool* anyFile, bool* anyDicom) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    std::error_code ec2;
    if (!e.is_regular_file(ec2)) continue;
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (anyFile) *anyFile = true;
    std::string lower = name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (anyDicom && (lower == "dicomdir" || e.path().extension() == ".dcm" || e.path().extension() == ".DCM"))
      *anyDicom = true;
    if (hasTiffExtension(e.path())) names.push_back(name);
  }
  if (ec) throw InputError("cannot list folder " + folder + ": " + ec.message());
  return names;
}

Volume readFolder(const std::string& folder, const ReadOptions& options, const TaskContext* ctx) {
  bool anyFile = false;
  std::vector<std::string> names = tiffFilesIn(folder, &anyFile, nullptr);
  if (!anyFile) throw InputError("folder " + folder + " is empty");
  if (names.empty()) throw InputError("folder " + folder + " holds no TIFF files (*.tif, *.tiff)");
  std::sort(names.begin(), names.end(), naturalLess);

  Volume v;
  v.sourcePath = folder;
  PageInfo first;
  SpacingInfo spacing;
  const std::size_t n = names.size();
  for (std::size_t z = 0; z < n; ++z) {
    checkCancel(ctx);
    reportProgress(ctx, double(z) / double(n), "Reading TIFF slice " + std::to_string(z + 1) + " of " + std::to_string(n));
    const std::string file = (fs::path(folder) / names[z]).string();
    if (!TiffStackReader::looksLikeTiff(file)) throw InputError(file + " is not a TIFF file (no TIFF header)");
    TiffFile f(file);
    PageInfo p = readPageInfo(f, file);
    checkClaimedSize(file, "slice " + file, p, 1, maxExpansion(p.compression));
    if (z == 0) {
      first = p;
      spacing = readSpacing(f.get(), imageDescription(f.get()));
      v.originalType = p.type;
      v.geom.dims = {p.width, p.height, static_cast<int64_t>(n)};
      v.voxels = allocateVolume(folder, p.width, p.height, n);
    } else if (p.width != first.width || p.height != first.height) {
      throw InputError("slice " + names[z] + " is " + sizeText(p) + " but the first slice " + names[0] + " is " +
                       sizeText(first) + "; all slices must have the same size");
    } else if (!samePixelLayout(p, first)) {
      throw InputError("slice " + names[z] + " is " + layoutText(p) + " but the first slice " + names[0] + " is " +
                       layoutText(first));
    }
    if (!TIFFLastDirectory(f.get()))
      throw InputError(file + " has more than one page; a folder of slices must hold single-page TIFF files");
    decodePage(f, p, v.voxels.data() + z * std::size_t(first.width) * first.height, file);
  }
  finishGeometry(v, spacing, options, folder);
  addColourWarnings(v, first, folder);
  reportProgress(ctx, 1.0, "TIFF slices loaded");
  return v;
}

} // namespace

bool naturalLess(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i])), db = std::isdigit(static_cast<unsigned char>(b[j]));
    if (da && db) {
      std::size_t ia = i, jb = j;
      while (ia < a.size() && a[ia] == '0') ++ia;
      while (jb < b.size() && b[jb] == '0') ++jb;
      std::size_t ea = ia, eb = jb;
      while (ea < a.size() && std::isdigit(static_cast<unsigned char>(a[ea]))) ++ea;
      while (eb < b.size() && std::isdigit(static_cast<unsigned char>(b[eb]))) ++eb;
      if (ea - ia != eb - jb) return ea - ia < eb - jb;
      const int c = a.compare(ia, ea - ia, b, jb, eb - jb);
      if (c != 0) return c < 0;
      i = ea;
      j = eb;
    } else {
      const int ca = std::tolower(static_cast<unsigned char>(a[i])), cb = std::tolower(static_cast<unsigned char>(b[j]));
      if (ca != cb) return ca < cb;
      ++i;
      ++j;
    }
  }
  if ((a.size() - i) != (b.size() - j)) return (a.size() - i) < (b.size() - j);
  return a < b;  // same up to case and leading zeros: any fixed order keeps the sort deterministic
}

bool TiffStackReader::looksLikeTiff(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char h[4] = {0, 0, 0, 0};
  if (!in.read(reinterpret_cast<char*>(h), 4)) return false;
  const bool le = h[0] == 'I' && h[1] == 'I' && (h[2] == 42 || h[2] == 43) && h[3] == 0;
  const bool be = h[0] == 'M' && h[1] == 'M' && h[2] == 0 && (h[3] == 42 || h[3] == 43);
  return le || be;
}

bool TiffStackReader::folderHasTiffSlices(const std::string& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return false;
  bool anyDicom = false;
  try {
    const auto names = tiffFilesIn(folder, nullptr, &anyDicom);
    return !names.empty() && !anyDicom;
  } catch (const InputError&) {
    return false;
  }
}

Volume TiffStackReader::read(const std::string& fileOrFolder, const ReadOptions& options, const TaskContext* ctx) {
  std::error_code ec;
  if (!fs::exists(fileOrFolder, ec)) throw InputError(fileOrFolder + " does not exist");
  if (fs::is_directory(fileOrFolder, ec)) return readFolder(fileOrFolder, options, ctx);
  return readMultiPage(fileOrFolder, options, ctx);
}

} // namespace jseg
