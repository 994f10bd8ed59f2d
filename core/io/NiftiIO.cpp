#include "core/io/NiftiIO.h"

#include <cerrno>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <new>
#include <sstream>
#include <type_traits>
#include <unistd.h>

#include "core/base/Errors.h"
#include "core/base/SystemMemory.h"
#include "core/io/AtomicFile.h"

namespace jseg {

namespace fs = std::filesystem;

namespace {

constexpr int kHeaderSize = 348;
constexpr int kVoxOffset = 352;  // header + the 4-byte extension flag
// Raw bytes converted per step: keeps the temporary buffer small and lets a cancel land within
// a few tens of milliseconds even for gzip input.
constexpr std::size_t kChunkBytes = std::size_t(8) << 20;
// Deflate cannot expand data by more than about 1032:1, so a .gz file this many times smaller than
// the voxel data its header claims cannot hold that data.
constexpr double kMaxDeflateRatio = 1032.0;

enum NiftiType : int16_t {
  DT_UINT8 = 2, DT_INT16 = 4, DT_INT32 = 8, DT_FLOAT32 = 16, DT_COMPLEX64 = 32, DT_FLOAT64 = 64,
  DT_RGB24 = 128, DT_INT8 = 256, DT_UINT16 = 512, DT_UINT32 = 768, DT_INT64 = 1024, DT_UINT64 = 1280,
  DT_FLOAT128 = 1536, DT_COMPLEX128 = 1792, DT_COMPLEX256 = 2048, DT_RGBA32 = 2304
};

void swapBytes(void* p, std::size_t n) {
  auto* c = static_cast<uint8_t*>(p);
  std::reverse(c, c + n);
}

// The fields of a NIfTI-1 header that we use, already in host byte order.
struct Header {
  int32_t sizeofHdr = 0;
  int16_t dim[8]{};
  int16_t datatype = 0;
  int16_t bitpix = 0;
  float pixdim[8]{};
  float voxOffset = 0;
  float sclSlope = 0, sclInter = 0;
  uint8_t xyztUnits = 0;
  int16_t qformCode = 0, sformCode = 0;
  float quatern[3]{};
  float qoffset[3]{};
  float srow[3][4]{};
  char magic[4]{};
  bool swapped = false;
};

template <typename T>
T field(const uint8_t* raw, std::size_t offset, bool swap) {
  T v;
  std::memcpy(&v, raw + offset, sizeof(T));
  if (swap) swapBytes(&v, sizeof(T));
  return v;
}

int32_t sizeofHdrOf(const uint8_t* raw, bool swap) { return field<int32_t>(raw, 0, swap); }

Header parseHeader(const uint8_t* raw, const std::string& path) {
  Header h;
  bool swap = false;
  if (sizeofHdrOf(raw, false) == kHeaderSize) {
    swap = false;
  } else if (sizeofHdrOf(raw, true) == kHeaderSize) {
    swap = true;
  } else if (sizeofHdrOf(raw, false) == 540 || sizeofHdrOf(raw, true) == 540) {
    throw InputError(path + " is a NIfTI-2 file; only NIfTI-1 is supported (convert it, e.g. with nibabel)");
  } else {
    throw InputError(path + " is not a NIfTI-1 file (header size field is not 348)");
  }
  h.swapped = swap;
  h.sizeofHdr = kHeaderSize;
  for (int i = 0; i < 8; ++i) h.dim[i] = field<int16_t>(raw, 40 + 2 * i, swap);
  h.datatype = field<int16_t>(raw, 70, swap);
  h.bitpix = field<int16_t>(raw, 72, swap);
  for (int i = 0; i < 8; ++i) h.pixdim[i] = field<float>(raw, 76 + 4 * i, swap);
  h.voxOffset = field<float>(raw, 108, swap);
  h.sclSlope = field<float>(raw, 112, swap);
  h.sclInter = field<float>(raw, 116, swap);
  h.xyztUnits = raw[123];
  h.qformCode = field<int16_t>(raw, 252, swap);
  h.sformCode = field<int16_t>(raw, 254, swap);
  for (int i = 0; i < 3; ++i) h.quatern[i] = field<float>(raw, 256 + 4 * i, swap);
  for (int i = 0; i < 3; ++i) h.qoffset[i] = field<float>(raw, 268 + 4 * i, swap);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) h.srow[r][c] = field<float>(raw, 280 + 16 * r + 4 * c, swap);
  std::memcpy(h.magic, raw + 344, 4);
  return h;
}

bool isSingleFileMagic(const char* m) { return m[0] == 'n' && m[1] == '+' && m[2] == '1' && m[3] == 0; }
bool isPairMagic(const char* m) { return m[0] == 'n' && m[1] == 'i' && m[2] == '1' && m[3] == 0; }

struct TypeInfo {
  PixelType type;
  std::size_t bytes;
};

TypeInfo typeInfo(int16_t datatype, const std::string& path) {
  switch (datatype) {
    case DT_UINT8: return {PixelType::UInt8, 1};
    case DT_INT8: return {PixelType::Int8, 1};
    case DT_INT16: return {PixelType::Int16, 2};
    case DT_UINT16: return {PixelType::UInt16, 2};
    case DT_INT32: return {PixelType::Int32, 4};
    case DT_UINT32: return {PixelType::UInt32, 4};
    case DT_FLOAT32: return {PixelType::Float32, 4};
    case DT_FLOAT64: return {PixelType::Float64, 8};
    case DT_RGB24:
    case DT_RGBA32:
      throw InputError(path + " holds RGB colour voxels; only greyscale volumes can be segmented "
                              "(convert it to one channel first)");
    case DT_COMPLEX64:
    case DT_COMPLEX128:
    case DT_COMPLEX256:
      throw InputError(path + " holds complex-valued voxels; convert it to magnitude images first");
    case DT_INT64:
    case DT_UINT64:
    case DT_FLOAT128:
      throw InputError(path + " uses a 64-bit integer or 128-bit float voxel type (NIfTI datatype " +
                       std::to_string(datatype) + "), which is not supported; save it as int32 or float32");
    default:
      throw InputError(path + " has an unknown or unsupported NIfTI datatype code " + std::to_string(datatype));
  }
}

int16_t niftiTypeCode(PixelType t) {
  switch (t) {
    case PixelType::UInt8: return DT_UINT8;
    case PixelType::Int8: return DT_INT8;
    case PixelType::UInt16: return DT_UINT16;
    case PixelType::Int16: return DT_INT16;
    case PixelType::UInt32: return DT_UINT32;
    case PixelType::Int32: return DT_INT32;
    case PixelType::Float32: return DT_FLOAT32;
    case PixelType::Float64: return DT_FLOAT64;
  }
  return DT_FLOAT32;
}

// RAII around zlib's file handle; gzread passes plain (uncompressed) files through unchanged, so
// one code path reads .nii and .nii.gz whatever their names say.
class GzFile {
public:
  GzFile(const std::string& path, const char* mode) : path_(path), f_(gzopen(path.c_str(), mode)) {}
  ~GzFile() {
    if (f_) gzclose(f_);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  gzFile get() const { return f_; }
  explicit operator bool() const { return f_ != nullptr; }
  // Closes explicitly so that a failed flush of compressed output is reported.
  int close() {
    int rc = f_ ? gzclose(f_) : Z_OK;
    f_ = nullptr;
    return rc;
  }
  std::string errorText() const {
    if (!f_) return "";
    int code = 0;
    const char* msg = gzerror(f_, &code);
    if (code == Z_OK || !msg) return "";
    // zlib prefixes the path, which our messages already name.
    std::string text(msg);
    const std::string prefix = path_ + ": ";
    if (text.compare(0, prefix.size(), prefix) == 0) text.erase(0, prefix.size());
    return text;
  }
  // Reads exactly n bytes unless the stream ends; returns the number read (or -1 on a zlib error).
  int64_t readFully(void* dst, std::size_t n) {
    auto* p = static_cast<uint8_t*>(dst);
    std::size_t done = 0;
    while (done < n) {
      const unsigned step = static_cast<unsigned>(std::min<std::size_t>(n - done, std::size_t(1) << 30));
      const int got = gzread(f_, p + done, step);
      if (got < 0) return -1;
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    return static_cast<int64_t>(done);
  }

private:
  std::string path_;
  gzFile f_ = nullptr;
};

bool startsWithGzipMagic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char m[2] = {0, 0};
  in.read(reinterpret_cast<char*>(m), 2);
  return in.gcount() == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

// MemAvailable, else the physical memory, else no limit.
std::size_t usableMemoryBytes() {
  if (const uint64_t available = availableMemoryBytes()) return static_cast<std::size_t>(available);
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long pageSize = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && pageSize > 0) return static_cast<std::size_t>(pages) * static_cast<std::size_t>(pageSize);
  return std::numeric_limits<std::size_t>::max();
}

std::string formatBytes(double b) {
  char buf[64];
  if (b >= 1e9)
    std::snprintf(buf, sizeof buf, "%.1f GB", b / 1e9);
  else if (b >= 1e6)
    std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.0f bytes", b);
  return buf;
}

using Mat3 = std::array<double, 9>;  // row-major

double det3(const Mat3& m) {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

bool invert3(const Mat3& m, Mat3& inv) {
  const double d = det3(m);
  if (!(std::fabs(d) > 1e-300)) return false;
  inv[0] = (m[4] * m[8] - m[5] * m[7]) / d;
  inv[1] = (m[2] * m[7] - m[1] * m[8]) / d;
  inv[2] = (m[1] * m[5] - m[2] * m[4]) / d;
  inv[3] = (m[5] * m[6] - m[3] * m[8]) / d;
  inv[4] = (m[0] * m[8] - m[2] * m[6]) / d;
  inv[5] = (m[2] * m[3] - m[0] * m[5]) / d;
  inv[6] = (m[3] * m[7] - m[4] * m[6]) / d;
  inv[7] = (m[1] * m[6] - m[0] * m[7]) / d;
  inv[8] = (m[0] * m[4] - m[1] * m[3]) / d;
  return true;
}

// Nearest orthogonal matrix (polar decomposition by Newton iteration): the quaternion can only
// express a rotation, so a slightly sheared direction is approximated by its closest rotation.
Mat3 nearestOrthogonal(Mat3 m) {
  for (int it = 0; it < 50; ++it) {
    Mat3 inv;
    if (!invert3(m, inv)) return {1, 0, 0, 0, 1, 0, 0, 0, 1};
    Mat3 next;
    double change = 0;
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) {
        next[r * 3 + c] = 0.5 * (m[r * 3 + c] + inv[c * 3 + r]);
        change += std::fabs(next[r * 3 + c] - m[r * 3 + c]);
      }
    m = next;
    if (change < 1e-12) break;
  }
  return m;
}

// Affine in RAS (as stored): world = A * index + t.
struct Affine {
  Mat3 a{};
  std::array<double, 3> t{};
};

bool usableAffine(const Affine& af) {
  for (double x : af.a)
    if (!std::isfinite(x)) return false;
  for (double x : af.t)
    if (!std::isfinite(x)) return false;
  for (int c = 0; c < 3; ++c) {
    const double n = std::sqrt(af.a[c] * af.a[c] + af.a[3 + c] * af.a[3 + c] + af.a[6 + c] * af.a[6 + c]);
    if (!(n > 0)) return false;
  }
  return std::fabs(det3(af.a)) > 0;
}

double positiveOr(double v, double fallback) { return (std::isfinite(v) && v > 0) ? v : fallback; }

Affine affineFromQform(const Header& h) {
  double b = h.quatern[0], c = h.quatern[1], d = h.quatern[2];
  double aa = 1.0 - (b * b + c * c + d * d);
  double a;
  if (aa < 1e-7) {
    // A 180 degree rotation: (b, c, d) is (or should be) a unit vector and a is zero.
    const double n = std::sqrt(b * b + c * c + d * d);
    if (n > 0) { b /= n; c /= n; d /= n; }
    a = 0;
  } else {
    a = std::sqrt(aa);
  }
  const Mat3 r = {a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c),
                  2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b),
                  2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b};
  const double qfac = h.pixdim[0] < 0 ? -1.0 : 1.0;
  const double s[3] = {positiveOr(std::fabs(h.pixdim[1]), 1.0), positiveOr(std::fabs(h.pixdim[2]), 1.0),
                       qfac * positiveOr(std::fabs(h.pixdim[3]), 1.0)};
  Affine af;
  for (int row = 0; row < 3; ++row)
    for (int col = 0; col < 3; ++col) af.a[row * 3 + col] = r[row * 3 + col] * s[col];
  af.t = {h.qoffset[0], h.qoffset[1], h.qoffset[2]};
  return af;
}

Affine affineFromSform(const Header& h) {
  Affine af;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) af.a[r * 3 + c] = h.srow[r][c];
    af.t[r] = h.srow[r][3];
  }
  return af;
}

double unitToMm(uint8_t xyztUnits) {
  switch (xyztUnits & 0x07) {
    case 1: return 1000.0;  // metre
    case 3: return 0.001;   // micron
    default: return 1.0;    // mm, or unknown (assume mm as most tools do)
  }
}

// Fills geometry (dims already set) from the header's orientation, converting RAS to LPS.
void setGeometryFromHeader(const Header& h, Geometry& g, std::vector<std::string>& warnings, const std::string& path) {
  Affine af;
  bool have = false;
  if (h.sformCode > 0) {
    af = affineFromSform(h);
    have = usableAffine(af);
    if (!have) warnings.push_back(path + ": the sform matrix is degenerate; using the qform or pixdim instead");
  }
  if (!have && h.qformCode > 0) {
    af = affineFromQform(h);
    have = usableAffine(af);
    if (!have) warnings.push_back(path + ": the qform is degenerate; using pixdim only");
  }
  g.spacingKnown = true;
  if (!have) {
    // Method 1 of the NIfTI standard (ANALYZE 7.5 style): scaling only, no orientation. Read as RAS
    // like every other NIfTI affine so that a volume written back gets the same orientation.
    bool pixdimOk = true;
    af = Affine{};
    for (int i = 0; i < 3; ++i) {
      const double p = std::fabs(h.pixdim[i + 1]);
      if (!(std::isfinite(p) && p > 0)) pixdimOk = false;
      af.a[i * 3 + i] = positiveOr(p, 1.0);
    }
    if (!pixdimOk) {
      g.spacingKnown = false;
      warnings.push_back(path + ": no valid voxel size in the header; 1 mm assumed");
    }
    warnings.push_back(path + ": no qform/sform orientation in the header; axes assumed to be RAS");
  }
  const double unit = unitToMm(h.xyztUnits);
  for (double& x : af.a) x *= unit;
  for (double& x : af.t) x *= unit;
  // RAS -> LPS: negate the first two world rows.
  for (int c = 0; c < 3; ++c) {
    af.a[0 * 3 + c] = -af.a[0 * 3 + c];
    af.a[1 * 3 + c] = -af.a[1 * 3 + c];
  }
  af.t[0] = -af.t[0];
  af.t[1] = -af.t[1];
  for (int c = 0; c < 3; ++c) {
    const double n = std::sqrt(af.a[c] * af.a[c] + af.a[3 + c] * af.a[3 + c] + af.a[6 + c] * af.a[6 + c]);
    g.spacing[c] = n;
    for (int r = 0; r < 3; ++r) g.direction[r * 3 + c] = af.a[r * 3 + c] / n;
  }
  g.origin = af.t;
}

// What the header says about the first 3D volume, validated.
struct Layout {
  Header h;
  TypeInfo type{PixelType::Float32, 4};
  std::array<int64_t, 3> dims{1, 1, 1};
  std::size_t voxels = 0;
  std::size_t rawBytes = 0;
  std::size_t offset = kVoxOffset;
  int64_t volumes = 1;
};

Layout readLayout(GzFile& f, const std::string& path, bool gz) {
  uint8_t raw[kHeaderSize];
  const int64_t got = f.readFully(raw, kHeaderSize);
  if (got < kHeaderSize)
    throw InputError(path + " is too short to be a NIfTI file (" + std::to_string(std::max<int64_t>(got, 0)) +
                     " bytes of header)");
  Layout L;
  L.h = parseHeader(raw, path);
  const Header& h = L.h;
  if (isPairMagic(h.magic))
    throw InputError(path + " is the header of a two-file NIfTI (.hdr/.img) pair; only single-file .nii/.nii.gz "
                            "is supported");
  if (!isSingleFileMagic(h.magic))
    throw InputError(path + " has no NIfTI-1 magic \"n+1\" (an ANALYZE 7.5 header?); save it as NIfTI-1 .nii");
  const int nd = h.dim[0];
  if (nd < 1 || nd > 7)
    throw InputError(path + ": invalid number of dimensions dim[0] = " + std::to_string(nd) + " (must be 1..7)");
  for (int i = 1; i <= nd; ++i)
    if (h.dim[i] <= 0)
      throw InputError(path + ": invalid size dim[" + std::to_string(i) + "] = " + std::to_string(h.dim[i]) +
                       " (every size must be positive)");
  for (int i = 0; i < 3; ++i) L.dims[i] = i + 1 <= nd ? h.dim[i + 1] : 1;
  for (int i = 4; i <= nd; ++i) L.volumes *= h.dim[i];
  L.type = typeInfo(h.datatype, path);
  L.voxels = static_cast<std::size_t>(L.dims[0]) * static_cast<std::size_t>(L.dims[1]) *
             static_cast<std::size_t>(L.dims[2]);
  L.rawBytes = L.voxels * L.type.bytes;
  if (!(std::isfinite(h.voxOffset) && h.voxOffset >= kHeaderSize && h.voxOffset < 1e9))
    throw InputError(path + ": invalid voxel data offset vox_offset = " + std::to_string(h.voxOffset));
  L.offset = static_cast<std::size_t>(h.voxOffset);

  std::error_code ec;
  const auto fileSize = fs::file_size(path, ec);
  if (!ec) {
    const double needed = double(L.offset) + double(L.rawBytes);
    const double canHold = gz ? double(fileSize) * kMaxDeflateRatio + 65536.0 : double(fileSize);
    if (needed > canHold)
      throw InputError(path + ": header claims " + std::to_string(L.dims[0]) + "x" + std::to_string(L.dims[1]) +
                       "x" + std::to_string(L.dims[2]) + " voxels (" + formatBytes(double(L.rawBytes)) +
                       ") but the file is only " + formatBytes(double(fileSize)) +
                       (gz ? " compressed" : "") + "; it is truncated or corrupt");
  }
  const double floatBytes = double(L.voxels) * sizeof(float);
  const double avail = double(usableMemoryBytes());
  if (floatBytes + double(kChunkBytes) > avail)
    throw ResourceError(path + ": the volume needs " + formatBytes(floatBytes) + " of memory but only " +
                        formatBytes(avail) + " is available; crop or downsample it first");
  return L;
}

template <typename T>
void convertChunk(const uint8_t* src, std::size_t n, bool swap, float* dst) {
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + i * sizeof(T), sizeof(T));
    if (swap) swapBytes(&v, sizeof(T));
    dst[i] = static_cast<float>(v);
  }
}

void convertRaw(PixelType t, const uint8_t* src, std::size_t n, bool swap, float* dst) {
  switch (t) {
    case PixelType::UInt8: convertChunk<uint8_t>(src, n, swap, dst); break;
    case PixelType::Int8: convertChunk<int8_t>(src, n, swap, dst); break;
    case PixelType::UInt16: convertChunk<uint16_t>(src, n, swap, dst); break;
    case PixelType::Int16: convertChunk<int16_t>(src, n, swap, dst); break;
    case PixelType::UInt32: convertChunk<uint32_t>(src, n, swap, dst); break;
    case PixelType::Int32: convertChunk<int32_t>(src, n, swap, dst); break;
    case PixelType::Float32: convertChunk<float>(src, n, swap, dst); break;
    case PixelType::Float64: convertChunk<double>(src, n, swap, dst); break;
  }
}

std::string fileNameOf(const std::string& path) { return fs::path(path).filename().string(); }

// ---- writing ----

template <typename T>
void put(uint8_t* raw, std::size_t offset, T v) {
  std::memcpy(raw + offset, &v, sizeof(T));
}

// Header in host byte order (readers detect the order from sizeof_hdr).
std::vector<uint8_t> buildHeader(const Geometry& g, PixelType type, std::size_t bytesPerVoxel) {
  std::vector<uint8_t> raw(kVoxOffset, 0);
  put<int32_t>(raw.data(), 0, kHeaderSize);
  raw[38] = 'r';  // "regular", kept for ANALYZE-era readers
  const int16_t dim[8] = {3, static_cast<int16_t>(g.dims[0]), static_cast<int16_t>(g.dims[1]),
                          static_cast<int16_t>(g.dims[2]), 1, 1, 1, 1};
  for (int i = 0; i < 8; ++i) put<int16_t>(raw.data(), 40 + 2 * i, dim[i]);
  put<int16_t>(raw.data(), 70, niftiTypeCode(type));
  put<int16_t>(raw.data(), 72, static_cast<int16_t>(bytesPerVoxel * 8));

  // LPS affine -> RAS.
  Mat3 dirRas = g.direction;
  for (int c = 0; c < 3; ++c) {
    dirRas[0 * 3 + c] = -dirRas[0 * 3 + c];
    dirRas[1 * 3 + c] = -dirRas[1 * 3 + c];
  }
  const double originRas[3] = {-g.origin[0], -g.origin[1], g.origin[2]};

  // Quaternion: a proper rotation; a left-handed frame flips the third column and sets qfac = -1.
  Mat3 rot = nearestOrthogonal(dirRas);
  double qfac = 1.0;
  if (det3(rot) < 0) {
    qfac = -1.0;
    for (int r = 0; r < 3; ++r) rot[r * 3 + 2] = -rot[r * 3 + 2];
  }
  const Mat3& R = rot;
  double qa, qb, qc, qd;
  const double trace = R[0] + R[4] + R[8] + 1.0;
  if (trace > 0.5) {
    qa = 0.5 * std::sqrt(trace);
    qb = 0.25 * (R[7] - R[5]) / qa;
    qc = 0.25 * (R[2] - R[6]) / qa;
    qd = 0.25 * (R[3] - R[1]) / qa;
  } else {
    const double xd = 1.0 + R[0] - R[4] - R[8];
    const double yd = 1.0 + R[4] - R[0] - R[8];
    const double zd = 1.0 + R[8] - R[0] - R[4];
    if (xd > 1.0) {
      qb = 0.5 * std::sqrt(xd);
      qc = 0.25 * (R[1] + R[3]) / qb;
      qd = 0.25 * (R[2] + R[6]) / qb;
      qa = 0.25 * (R[7] - R[5]) / qb;
    } else if (yd > 1.0) {
      qc = 0.5 * std::sqrt(yd);
      qb = 0.25 * (R[1] + R[3]) / qc;
      qd = 0.25 * (R[5] + R[7]) / qc;
      qa = 0.25 * (R[2] - R[6]) / qc;
    } else {
      qd = 0.5 * std::sqrt(zd);
      qb = 0.25 * (R[2] + R[6]) / qd;
      qc = 0.25 * (R[5] + R[7]) / qd;
      qa = 0.25 * (R[3] - R[1]) / qd;
    }
    if (qa < 0) {
      qb = -qb;
      qc = -qc;
      qd = -qd;
    }
  }

  const float pixdim[8] = {static_cast<float>(qfac), static_cast<float>(g.spacing[0]),
                           static_cast<float>(g.spacing[1]), static_cast<float>(g.spacing[2]), 1, 1, 1, 1};
  for (int i = 0; i < 8; ++i) put<float>(raw.data(), 76 + 4 * i, pixdim[i]);
  put<float>(raw.data(), 108, static_cast<float>(kVoxOffset));
  put<float>(raw.data(), 112, 1.0f);  // scl_slope: identity, values are stored as they are
  put<float>(raw.data(), 116, 0.0f);
  raw[123] = 2;  // xyzt_units: spatial unit mm, time unit unknown
  const char descrip[] = "juleseg";
  std::memcpy(raw.data() + 148, descrip, sizeof descrip);
  put<int16_t>(raw.data(), 252, 1);  // qform_code: scanner
  put<int16_t>(raw.data(), 254, 1);  // sform_code: scanner
  put<float>(raw.data(), 256, static_cast<float>(qb));
  put<float>(raw.data(), 260, static_cast<float>(qc));
  put<float>(raw.data(), 264, static_cast<float>(qd));
  for (int i = 0; i < 3; ++i) put<float>(raw.data(), 268 + 4 * i, static_cast<float>(originRas[i]));
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c)
      put<float>(raw.data(), 280 + 16 * r + 4 * c, static_cast<float>(dirRas[r * 3 + c] * g.spacing[c]));
    put<float>(raw.data(), 280 + 16 * r + 12, static_cast<float>(originRas[r]));
  }
  std::memcpy(raw.data() + 344, "n+1\0", 4);
  return raw;
}

void checkWritableGeometry(const Geometry& g, std::size_t voxelValues, const std::string& path) {
  for (int i = 0; i < 3; ++i)
    if (g.dims[i] <= 0 || g.dims[i] > 32767)
      throw InputError("cannot write " + path + ": NIfTI-1 sizes must be 1..32767 voxels per axis (axis " +
                       std::to_string(i) + " has " + std::to_string(g.dims[i]) + ")");
  if (voxelValues != g.voxelCount())
    throw InputError("cannot write " + path + ": voxel buffer does not match the volume size");
  for (int i = 0; i < 3; ++i)
    if (!(std::isfinite(g.spacing[i]) && g.spacing[i] > 0))
      throw InputError("cannot write " + path + ": voxel spacing must be positive");
}

bool endsWithGz(const std::string& path) {
  if (path.size() < 3) return false;
  std::string ext = path.substr(path.size() - 3);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".gz";
}

// fill(first, count, dst) writes `count` voxels starting at `first`, already encoded, into dst.
using ChunkEncoder = std::function<void(std::size_t first, std::size_t count, uint8_t* dst)>;

void writeNifti(const Geometry& g, PixelType type, const std::string& path, const ChunkEncoder& encode) {
  const std::size_t bpv = pixelTypeBytes(type);
  const std::vector<uint8_t> header = buildHeader(g, type, bpv);
  const std::size_t total = g.voxelCount();
  const std::size_t perChunk = std::max<std::size_t>(1, kChunkBytes / bpv);
  std::vector<uint8_t> buf(std::min(total, perChunk) * bpv);

  AtomicFile out(path);
  if (endsWithGz(path)) {
    errno = 0;
    GzFile f(out.tempPath(), "wb6");
    if (!f) throw WriteError(writeFailure(path, errno, "cannot create the file"));
    auto writeAll = [&](const uint8_t* p, std::size_t n) {
      while (n > 0) {
        const unsigned step = static_cast<unsigned>(std::min<std::size_t>(n, std::size_t(1) << 30));
        errno = 0;
        if (gzwrite(f.get(), p, step) != static_cast<int>(step))
          throw WriteError(writeFailure(path, errno, f.errorText()));
        p += step;
        n -= step;
      }
    };
    writeAll(header.data(), header.size());
    for (std::size_t first = 0; first < total; first += perChunk) {
      const std::size_t n = std::min(perChunk, total - first);
      encode(first, n, buf.data());
      writeAll(buf.data(), n * bpv);
    }
    errno = 0;
    if (f.close() != Z_OK) throw WriteError(writeFailure(path, errno));
  } else {
    errno = 0;
    std::ofstream o(out.tempPath(), std::ios::binary);
    if (!o) throw WriteError(writeFailure(path, errno, "cannot create the file"));
    o.write(reinterpret_cast<const char*>(header.data()), static_cast<std::streamsize>(header.size()));
    for (std::size_t first = 0; first < total; first += perChunk) {
      const std::size_t n = std::min(perChunk, total - first);
      encode(first, n, buf.data());
      o.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(n * bpv));
      if (!o) throw WriteError(writeFailure(path, errno));
    }
    o.close();
    if (!o) throw WriteError(writeFailure(path, errno));
  }
  out.commit();
}

template <typename T>
void encodeFloats(const float* src, std::size_t n, uint8_t* dst) {
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    if constexpr (std::is_integral_v<T>) {
      const double x = src[i];
      if (std::isnan(x))
        v = 0;
      else if (x <= double(std::numeric_limits<T>::lowest()))
        v = std::numeric_limits<T>::lowest();
      else if (x >= double(std::numeric_limits<T>::max()))
        v = std::numeric_limits<T>::max();
      else
        v = static_cast<T>(std::llround(x));
    } else {
      v = static_cast<T>(src[i]);
    }
    std::memcpy(dst + i * sizeof(T), &v, sizeof(T));
  }
}

void encodeAs(PixelType t, const float* src, std::size_t n, uint8_t* dst) {
  switch (t) {
    case PixelType::UInt8: encodeFloats<uint8_t>(src, n, dst); break;
    case PixelType::Int8: encodeFloats<int8_t>(src, n, dst); break;
    case PixelType::UInt16: encodeFloats<uint16_t>(src, n, dst); break;
    case PixelType::Int16: encodeFloats<int16_t>(src, n, dst); break;
    case PixelType::UInt32: encodeFloats<uint32_t>(src, n, dst); break;
    case PixelType::Int32: encodeFloats<int32_t>(src, n, dst); break;
    case PixelType::Float32: encodeFloats<float>(src, n, dst); break;
    case PixelType::Float64: encodeFloats<double>(src, n, dst); break;
  }
}

} // namespace

bool NiftiIO::looksLikeNifti(const std::string& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return false;
  GzFile f(file, "rb");
  if (!f) return false;
  uint8_t raw[kHeaderSize];
  if (f.readFully(raw, kHeaderSize) != kHeaderSize) return false;
  const bool sizeOk = sizeofHdrOf(raw, false) == kHeaderSize || sizeofHdrOf(raw, true) == kHeaderSize;
  const char* m = reinterpret_cast<const char*>(raw + 344);
  return sizeOk && (isSingleFileMagic(m) || isPairMagic(m));
}

Volume NiftiIO::read(const std::string& path, const TaskContext* ctx) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError("NIfTI file not found: " + path);
  if (!fs::is_regular_file(path, ec)) throw InputError(path + " is not a file");
  const bool gz = startsWithGzipMagic(path);
  GzFile f(path, "rb");
  if (!f) throw InputError("cannot open " + path);
  gzbuffer(f.get(), 1 << 18);
  Layout L = readLayout(f, path, gz);

  Volume v;
  v.sourcePath = path;
  v.originalType = L.type.type;
  v.geom.dims = L.dims;
  setGeometryFromHeader(L.h, v.geom, v.warnings, path);
  if (L.volumes > 1)
    v.warnings.push_back(path + " holds " + std::to_string(L.volumes) + " volumes; only the first is used");

  // Skip extensions between the header and the voxel data.
  std::vector<uint8_t> skip(std::min<std::size_t>(L.offset - kHeaderSize, kChunkBytes));
  for (std::size_t left = L.offset - kHeaderSize; left > 0;) {
    const std::size_t n = std::min(left, skip.size());
    if (f.readFully(skip.data(), n) != static_cast<int64_t>(n))
      throw InputError(path + " is truncated (ends before its voxel data)");
    left -= n;
  }

  try {
    v.voxels.resize(L.voxels);
  } catch (const std::bad_alloc&) {
    throw ResourceError(path + ": not enough memory for " + formatBytes(double(L.voxels) * 4) +
                        " of voxels; crop or downsample the volume first");
  }
  const std::size_t bpv = L.type.bytes;
  const std::size_t perChunk = std::max<std::size_t>(1, kChunkBytes / bpv);
  std::vector<uint8_t> buf(std::min(L.voxels, perChunk) * bpv);
  const bool swap = L.h.swapped;
  const std::string stage = "Reading " + fileNameOf(path);
  for (std::size_t first = 0; first < L.voxels; first += perChunk) {
    checkCancel(ctx);
    reportProgress(ctx, double(first) / double(L.voxels), stage);
    const std::size_t n = std::min(perChunk, L.voxels - first);
    const int64_t got = f.readFully(buf.data(), n * bpv);
    if (got != static_cast<int64_t>(n * bpv)) {
      const std::string why = f.errorText();
      throw InputError(path + " is truncated or corrupt: expected " + formatBytes(double(L.rawBytes)) +
                       " of voxel data, got " + formatBytes(double(first * bpv + std::max<int64_t>(got, 0))) +
                       (why.empty() ? "" : " (" + why + ")"));
    }
    convertRaw(L.type.type, buf.data(), n, swap, v.voxels.data() + first);
  }
  checkCancel(ctx);

  const double slope = L.h.sclSlope, inter = L.h.sclInter;
  if (std::isfinite(slope) && slope != 0.0 && (slope != 1.0 || (std::isfinite(inter) && inter != 0.0))) {
    const double b = std::isfinite(inter) ? inter : 0.0;
    for (float& x : v.voxels) x = static_cast<float>(slope * x + b);
    // Scaled values are no longer in the stored integer type; keep them as floats when saved.
    v.originalType = PixelType::Float32;
  }
  reportProgress(ctx, 1.0, stage);
  return v;
}

void NiftiIO::write(const Volume& v, const std::string& path) {
  checkWritableGeometry(v.geom, v.voxels.size(), path);
  const PixelType t = v.originalType;
  const float* src = v.voxels.data();
  writeNifti(v.geom, t, path,
             [&](std::size_t first, std::size_t n, uint8_t* dst) { encodeAs(t, src + first, n, dst); });
}

void NiftiIO::writeLabels(const LabelVolume& l, const std::string& path) {
  checkWritableGeometry(l.geom, l.labels.size(), path);
  const PixelType t = l.maxLabel() < 256 ? PixelType::UInt8 : PixelType::UInt16;
  const uint16_t* src = l.labels.data();
  writeNifti(l.geom, t, path, [&](std::size_t first, std::size_t n, uint8_t* dst) {
    if (t == PixelType::UInt8) {
      for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(src[first + i]);
    } else {
      std::memcpy(dst, src + first, n * sizeof(uint16_t));
    }
  });
}

LabelVolume NiftiIO::readLabels(const std::string& path, const TaskContext* ctx) {
  Volume v = read(path, ctx);
  LabelVolume l;
  l.geom = v.geom;
  l.labels.resize(v.voxels.size());
  for (std::size_t i = 0; i < v.voxels.size(); ++i) {
    const float x = v.voxels[i];
    if (!(x >= 0.f && x <= 65535.f) || x != std::floor(x)) {
      std::ostringstream msg;
      msg << path << " is not a label map: voxel " << i << " has value " << x
          << " (labels must be whole numbers 0..65535)";
      throw InputError(msg.str());
    }
    l.labels[i] = static_cast<uint16_t>(x);
  }
  return l;
}

} // namespace jseg
