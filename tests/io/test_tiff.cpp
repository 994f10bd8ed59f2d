// TIFF stacks: reader (every pixel type, compression, strips/tiles, BigTIFF, folders, spacing, bad
// files), writers (round trips, label type choice) and the two real TIFFs of the shared data.
// ctest-links: juleseg_io TIFF::TIFF
#include <tiffio.h>

#include <QtTest>
#include <cmath>
#include <cstdarg>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "core/base/Errors.h"
#include "core/io/TiffStackReader.h"
#include "tests/common/TestData.h"

using namespace jseg;
namespace fs = std::filesystem;

Q_DECLARE_METATYPE(jseg::PixelType)

namespace {

// Fixture files are written with libtiff directly, so the variants our writer never produces are covered.
struct RawTiff {
  int width = 40, height = 30, pages = 5;
  uint16_t bits = 16, format = SAMPLEFORMAT_UINT, spp = 1;
  uint16_t compression = COMPRESSION_NONE;
  const char* mode = "w";  // "w8": BigTIFF, "wb": big-endian
  uint32_t rowsPerStrip = 0;  // 0: libtiff default
  uint32_t tile = 0;          // > 0: tiled with this square tile size
  std::string description;
  float xres = 0, yres = 0;
  int resUnit = -1;  // -1: no ResolutionUnit tag
  std::function<int(int)> pageHeight;  // optional per-page height
};

int silentHandler(TIFF*, void*, const char*, const char*, va_list) { return 1; }

TIFF* openSilently(const std::string& path, const char* mode) {
  TIFFOpenOptions* o = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(o, silentHandler, nullptr);
  TIFFOpenOptionsSetWarningHandlerExtR(o, silentHandler, nullptr);
  TIFF* t = TIFFOpenExt(path.c_str(), mode, o);
  TIFFOpenOptionsFree(o);
  return t;
}

// Expected value of (x, y, z) for a sample type: distinct per position, negative for signed types.
double patternValue(uint16_t bits, uint16_t format, int x, int y, int z) {
  if (format == SAMPLEFORMAT_IEEEFP) return x + 100.0 * y + 10000.0 * z + 0.25;
  if (bits == 8) return format == SAMPLEFORMAT_INT ? double((x + 3 * y + 17 * z) % 256 - 128) : double((x + 3 * y + 17 * z) % 256);
  if (bits == 16) return format == SAMPLEFORMAT_INT ? x + 100.0 * y + 1000.0 * z - 20000.0 : x + 100.0 * y + 10000.0 * z;
  return format == SAMPLEFORMAT_INT ? x + 100.0 * y + 1000000.0 * z - 3000000.0 : x + 100.0 * y + 1000000.0 * z;
}

void putSample(unsigned char* dst, uint16_t bits, uint16_t format, double v) {
  // Integers wrap through int64 (a float-to-narrow-integer cast out of range is undefined behaviour,
  // which UBSan reports; big pages of the pattern exceed 16 bits where only their size matters).
  const int64_t i = static_cast<int64_t>(v);
  if (format == SAMPLEFORMAT_IEEEFP && bits == 32) { float f = float(v); std::memcpy(dst, &f, 4); }
  else if (format == SAMPLEFORMAT_IEEEFP) { std::memcpy(dst, &v, 8); }
  else if (bits == 8 && format == SAMPLEFORMAT_INT) { int8_t s = int8_t(i); std::memcpy(dst, &s, 1); }
  else if (bits == 8) { uint8_t s = uint8_t(i); std::memcpy(dst, &s, 1); }
  else if (bits == 16 && format == SAMPLEFORMAT_INT) { int16_t s = int16_t(i); std::memcpy(dst, &s, 2); }
  else if (bits == 16) { uint16_t s = uint16_t(i); std::memcpy(dst, &s, 2); }
  else if (format == SAMPLEFORMAT_INT) { int32_t s = int32_t(i); std::memcpy(dst, &s, 4); }
  else { uint32_t s = uint32_t(i); std::memcpy(dst, &s, 4); }
}

void writeRaw(const std::string& path, const RawTiff& r) {
  TIFF* t = openSilently(path, r.mode);
  QVERIFY2(t, path.c_str());
  const int bytes = r.bits / 8;
  for (int z = 0; z < r.pages; ++z) {
    const int h = r.pageHeight ? r.pageHeight(z) : r.height;
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, uint32_t(r.width));
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, uint32_t(h));
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, r.bits);
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, r.format);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, r.spp);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, r.spp == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, r.compression);
    if (z == 0 && !r.description.empty()) TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, r.description.c_str());
    if (r.xres > 0) {
      TIFFSetField(t, TIFFTAG_XRESOLUTION, r.xres);
      TIFFSetField(t, TIFFTAG_YRESOLUTION, r.yres);
    }
    if (r.resUnit >= 0) TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, uint16_t(r.resUnit));
    if (r.tile > 0) {
      TIFFSetField(t, TIFFTAG_TILEWIDTH, r.tile);
      TIFFSetField(t, TIFFTAG_TILELENGTH, r.tile);
      std::vector<unsigned char> buf(std::size_t(r.tile) * r.tile * bytes * r.spp);
      for (uint32_t ty = 0; ty < uint32_t(h); ty += r.tile)
        for (uint32_t tx = 0; tx < uint32_t(r.width); tx += r.tile) {
          std::fill(buf.begin(), buf.end(), 0);
          for (uint32_t yy = 0; yy < r.tile; ++yy)
            for (uint32_t xx = 0; xx < r.tile; ++xx) {
              const int x = int(tx + xx), y = int(ty + yy);
              if (x < r.width && y < h)
                putSample(&buf[(yy * r.tile + xx) * bytes], r.bits, r.format, patternValue(r.bits, r.format, x, y, z));
            }
          QVERIFY(TIFFWriteTile(t, buf.data(), tx, ty, 0, 0) >= 0);
        }
    } else {
      TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, r.rowsPerStrip ? r.rowsPerStrip : TIFFDefaultStripSize(t, 0));
      std::vector<unsigned char> row(std::size_t(r.width) * bytes * r.spp);
      for (int y = 0; y < h; ++y) {
        for (int x = 0; x < r.width; ++x)
          for (int s = 0; s < r.spp; ++s)
            putSample(&row[(std::size_t(x) * r.spp + s) * bytes], r.bits, r.format,
                      r.spp == 3 ? double(10 * (s + 1) + x % 7) : patternValue(r.bits, r.format, x, y, z));
        QVERIFY(TIFFWriteScanline(t, row.data(), uint32_t(y), 0) >= 0);
      }
    }
    QVERIFY(TIFFWriteDirectory(t));
  }
  TIFFClose(t);
}

void checkPattern(const Volume& v, const RawTiff& r) {
  QCOMPARE(v.geom.dims[0], int64_t(r.width));
  QCOMPARE(v.geom.dims[1], int64_t(r.height));
  QCOMPARE(v.geom.dims[2], int64_t(r.pages));
  const int pts[][3] = {{0, 0, 0}, {r.width - 1, 0, 0}, {0, r.height - 1, 0}, {7, 11, 1},
                        {r.width - 1, r.height - 1, r.pages - 1}, {23, 17, r.pages / 2}};
  for (const auto& p : pts) {
    if (!v.geom.contains(p[0], p[1], p[2])) continue;
    const double want = patternValue(r.bits, r.format, p[0], p[1], p[2]);
    QCOMPARE(double(v.at(p[0], p[1], p[2])), want);
  }
  // and every voxel
  for (int z = 0; z < r.pages; ++z)
    for (int y = 0; y < r.height; ++y)
      for (int x = 0; x < r.width; ++x)
        if (double(v.at(x, y, z)) != patternValue(r.bits, r.format, x, y, z))
          QFAIL(qPrintable(QString("voxel %1,%2,%3 is %4").arg(x).arg(y).arg(z).arg(v.at(x, y, z))));
}

template <typename E>
QString messageOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return QString::fromStdString(e.what());
  } catch (const std::exception& e) {
    return QString("WRONG EXCEPTION TYPE: ") + e.what();
  }
  return "NO EXCEPTION";
}

std::string tiffTagString(const std::string& path, uint32_t tag) {
  TIFF* t = openSilently(path, "r");
  if (!t) return {};
  const char* s = nullptr;
  std::string out = TIFFGetField(t, tag, &s) && s ? s : "";
  TIFFClose(t);
  return out;
}

uint16_t tiffBits(const std::string& path) {
  TIFF* t = openSilently(path, "r");
  if (!t) return 0;
  uint16_t b = 0;
  TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &b);
  TIFFClose(t);
  return b;
}

} // namespace

class TestTiff : public QObject {
  Q_OBJECT

  std::string dir_;

private Q_SLOTS:
  void initTestCase() { dir_ = jseg::test::tempDir("tiff"); }
  void cleanupTestCase() { fs::remove_all(dir_); }

  void writerRoundTrip_data() {
    QTest::addColumn<jseg::PixelType>("type");
    QTest::addColumn<double>("offset");
    QTest::addColumn<double>("scale");
    QTest::newRow("uint8") << PixelType::UInt8 << 0.0 << 0.002;
    QTest::newRow("int8") << PixelType::Int8 << -100.0 << 0.002;
    QTest::newRow("uint16") << PixelType::UInt16 << 0.0 << 1.0;
    QTest::newRow("int16") << PixelType::Int16 << -30000.0 << 1.0;
    QTest::newRow("uint32") << PixelType::UInt32 << 100000.0 << 1.0;
    QTest::newRow("int32") << PixelType::Int32 << -100000.0 << 1.0;
    QTest::newRow("float32") << PixelType::Float32 << -0.125 << 1.0;
    QTest::newRow("float64") << PixelType::Float64 << 0.5 << 1.0;
  }
  void writerRoundTrip() {
    QFETCH(jseg::PixelType, type);
    QFETCH(double, offset);
    QFETCH(double, scale);
    Volume v = jseg::test::rampVolume(23, 17, 6);
    const bool isInt = type != PixelType::Float32 && type != PixelType::Float64;
    for (auto& x : v.voxels) x = float(offset + (isInt ? std::round(x * scale) : x * scale));
    v.originalType = type;
    v.geom.spacing = {0.5, 0.75, 2.5};
    v.geom.direction = {-1, 0, 0, 0, -1, 0, 0, 0, 1};  // TIFF cannot keep it: read back as identity
    const std::string path = dir_ + "/rt_" + pixelTypeName(type) + ".tif";
    writeTiffVolume(v, path);
    QVERIFY(TiffStackReader::looksLikeTiff(path));
    QVERIFY(QString::fromStdString(tiffTagString(path, TIFFTAG_IMAGEDESCRIPTION)).startsWith("ImageJ="));
    const Volume r = TiffStackReader::read(path);
    QCOMPARE(r.originalType, type);
    QCOMPARE(r.geom.dims, v.geom.dims);
    QVERIFY(r.geom.spacingKnown);
    QVERIFY(r.warnings.empty());
    for (int a = 0; a < 3; ++a) QVERIFY(std::fabs(r.geom.spacing[a] - v.geom.spacing[a]) < 1e-6);
    QCOMPARE(r.geom.direction, (std::array<double, 9>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
    QCOMPARE(r.geom.origin, (std::array<double, 3>{0, 0, 0}));
    QCOMPARE(r.at(22, 0, 0), v.at(22, 0, 0));
    QCOMPARE(r.at(3, 16, 5), v.at(3, 16, 5));
    QCOMPARE(r.at(10, 7, 2), float(offset + (isInt ? std::round((10 + 700 + 20000) * scale) : (20710 * scale))));
    QVERIFY(r.voxels == v.voxels);
    // no temporary file left beside the output
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir_)) files += e.path().filename().string().find(".part-") != std::string::npos;
    QCOMPARE(files, 0);
  }

  void writerRoundsAndClamps() {
    Volume v = jseg::test::rampVolume(4, 1, 1);
    v.voxels = {2.6f, -5.f, 300.f, 254.4f};
    v.originalType = PixelType::UInt8;
    const std::string path = dir_ + "/clamp.tif";
    writeTiffVolume(v, path);
    const Volume r = TiffStackReader::read(path);
    QCOMPARE(r.voxels, (std::vector<float>{3.f, 0.f, 255.f, 254.f}));
  }

  void writerUnknownSpacingStaysUnknown() {
    Volume v = jseg::test::rampVolume(5, 4, 3);
    v.originalType = PixelType::UInt16;
    v.geom.spacingKnown = false;
    const std::string path = dir_ + "/nospacing.tif";
    writeTiffVolume(v, path);
    const Volume r = TiffStackReader::read(path);
    QVERIFY(!r.geom.spacingKnown);
    QVERIFY(!r.warnings.empty());
    QCOMPARE(r.at(4, 3, 2), 20304.f);
  }

  void labelWriter() {
    LabelVolume l;
    l.geom.dims = {9, 8, 4};
    l.geom.spacing = {0.3, 0.3, 1.2};
    l.labels.resize(l.geom.voxelCount());
    for (std::size_t i = 0; i < l.labels.size(); ++i) l.labels[i] = uint16_t(i % 4);
    const std::string small = dir_ + "/labels8.tif";
    writeTiffLabels(l, small);
    QCOMPARE(tiffBits(small), uint16_t(8));
    Volume r = TiffStackReader::read(small);
    QCOMPARE(r.originalType, PixelType::UInt8);
    QCOMPARE(r.at(1, 0, 0), 1.f);
    QCOMPARE(r.at(3, 1, 2), float(l.labels[l.geom.index(3, 1, 2)]));
    QVERIFY(std::fabs(r.geom.spacing[2] - 1.2) < 1e-9 && std::fabs(r.geom.spacing[0] - 0.3) < 1e-6);

    l.labels[l.geom.index(8, 7, 3)] = 300;
    const std::string big = dir_ + "/labels16.tif";
    writeTiffLabels(l, big);
    QCOMPARE(tiffBits(big), uint16_t(16));
    r = TiffStackReader::read(big);
    QCOMPARE(r.originalType, PixelType::UInt16);
    QCOMPARE(r.at(8, 7, 3), 300.f);
    QCOMPARE(r.at(2, 0, 0), 2.f);
  }

  void libtiffVariants_data() {
    QTest::addColumn<int>("bits");
    QTest::addColumn<int>("format");
    QTest::addColumn<int>("compression");
    QTest::addColumn<QString>("mode");
    QTest::addColumn<int>("rowsPerStrip");
    QTest::addColumn<int>("tile");
    const int comps[] = {COMPRESSION_NONE, COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE, COMPRESSION_PACKBITS};
    const char* compNames[] = {"none", "lzw", "deflate", "packbits"};
    const int types[][2] = {{8, SAMPLEFORMAT_UINT},  {8, SAMPLEFORMAT_INT},  {16, SAMPLEFORMAT_UINT},
                            {16, SAMPLEFORMAT_INT},  {32, SAMPLEFORMAT_IEEEFP}, {32, SAMPLEFORMAT_INT},
                            {32, SAMPLEFORMAT_UINT}};
    const char* typeNames[] = {"u8", "s8", "u16", "s16", "f32", "s32", "u32"};
    for (int c = 0; c < 4; ++c)
      for (int t = 0; t < 7; ++t)
        QTest::newRow(qPrintable(QString("%1-%2").arg(compNames[c], typeNames[t])))
            << types[t][0] << types[t][1] << comps[c] << "w" << 4 << 0;
    QTest::newRow("bigtiff-deflate-u16") << 16 << int(SAMPLEFORMAT_UINT) << int(COMPRESSION_ADOBE_DEFLATE) << "w8" << 7 << 0;
    QTest::newRow("bigendian-lzw-s16") << 16 << int(SAMPLEFORMAT_INT) << int(COMPRESSION_LZW) << "wb" << 0 << 0;
    QTest::newRow("bigendian-none-f32") << 32 << int(SAMPLEFORMAT_IEEEFP) << int(COMPRESSION_NONE) << "wb" << 0 << 0;
    QTest::newRow("tiles-lzw-u16") << 16 << int(SAMPLEFORMAT_UINT) << int(COMPRESSION_LZW) << "w" << 0 << 16;
    QTest::newRow("tiles-deflate-f32") << 32 << int(SAMPLEFORMAT_IEEEFP) << int(COMPRESSION_ADOBE_DEFLATE) << "w" << 0 << 16;
    QTest::newRow("tiles-bigtiff-packbits-u8") << 8 << int(SAMPLEFORMAT_UINT) << int(COMPRESSION_PACKBITS) << "w8" << 0 << 32;
  }
  void libtiffVariants() {
    QFETCH(int, bits);
    QFETCH(int, format);
    QFETCH(int, compression);
    QFETCH(QString, mode);
    QFETCH(int, rowsPerStrip);
    QFETCH(int, tile);
    RawTiff r;
    r.bits = uint16_t(bits);
    r.format = uint16_t(format);
    r.compression = uint16_t(compression);
    const std::string m = mode.toStdString();
    r.mode = m.c_str();
    r.rowsPerStrip = uint32_t(rowsPerStrip);
    r.tile = uint32_t(tile);
    const std::string path = dir_ + "/variant.tif";
    writeRaw(path, r);
    const Volume v = TiffStackReader::read(path);
    checkPattern(v, r);
    const PixelType want = format == SAMPLEFORMAT_IEEEFP ? PixelType::Float32
                           : bits == 8  ? (format == SAMPLEFORMAT_INT ? PixelType::Int8 : PixelType::UInt8)
                           : bits == 16 ? (format == SAMPLEFORMAT_INT ? PixelType::Int16 : PixelType::UInt16)
                                        : (format == SAMPLEFORMAT_INT ? PixelType::Int32 : PixelType::UInt32);
    QCOMPARE(v.originalType, want);
    QVERIFY(!v.geom.spacingKnown);
  }

  void folderNaturalOrder() {
    const std::string folder = dir_ + "/slices";
    fs::create_directories(folder);
    RawTiff r;
    r.pages = 1;
    // page content z: each file carries the pattern of the slice it should become
    const char* names[] = {"1.tif", "2.tif", "10.tif"};
    for (int i = 0; i < 3; ++i) {
      const std::string tmp = dir_ + "/tmp_slice.tif";
      RawTiff one = r;
      one.pages = i + 1;  // write i+1 pages, keep the last: its pattern has z = i
      writeRaw(tmp, one);
      TIFF* in = openSilently(tmp, "r");
      QVERIFY(TIFFSetDirectory(in, tdir_t(i)));
      TIFF* out = openSilently(folder + "/" + names[i], "w");
      QVERIFY(in && out);
      TIFFSetField(out, TIFFTAG_IMAGEWIDTH, uint32_t(r.width));
      TIFFSetField(out, TIFFTAG_IMAGELENGTH, uint32_t(r.height));
      TIFFSetField(out, TIFFTAG_BITSPERSAMPLE, uint16_t(16));
      TIFFSetField(out, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
      TIFFSetField(out, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
      TIFFSetField(out, TIFFTAG_ROWSPERSTRIP, uint32_t(r.height));
      std::vector<uint16_t> row(r.width);
      for (int y = 0; y < r.height; ++y) {
        QVERIFY(TIFFReadScanline(in, row.data(), uint32_t(y), 0) >= 0);
        QVERIFY(TIFFWriteScanline(out, row.data(), uint32_t(y), 0) >= 0);
      }
      TIFFClose(out);
      TIFFClose(in);
    }
    fs::remove(dir_ + "/tmp_slice.tif");
    std::ofstream(folder + "/notes.txt") << "ignored";
    QVERIFY(TiffStackReader::folderHasTiffSlices(folder));
    const Volume v = TiffStackReader::read(folder);
    RawTiff expect = r;
    expect.pages = 3;
    checkPattern(v, expect);  // z = 0, 1, 2 from 1.tif, 2.tif, 10.tif
    QCOMPARE(v.originalType, PixelType::UInt16);

    QVERIFY(naturalLess("slice2", "slice10"));
    QVERIFY(!naturalLess("slice10", "slice2"));
    QVERIFY(naturalLess("img_009.tif", "img_010.tif"));
    QVERIFY(naturalLess("a2b3", "a2b11"));
    QVERIFY(naturalLess("2.tif", "10.tif"));
  }

  void spacingFromImageJ() {
    RawTiff r;
    r.pages = 3;
    r.description = "ImageJ=1.54f\nimages=3\nslices=3\nunit=micron\nspacing=2.5\nloop=false\n";
    r.xres = 2.f;   // pixels per micron -> 0.5 um
    r.yres = 4.f;   // 0.25 um
    r.resUnit = RESUNIT_NONE;
    const std::string path = dir_ + "/ij.tif";
    writeRaw(path, r);
    Volume v = TiffStackReader::read(path);
    QVERIFY(v.geom.spacingKnown);
    QVERIFY(v.warnings.empty());
    QVERIFY(std::fabs(v.geom.spacing[0] - 0.0005) < 1e-12);
    QVERIFY(std::fabs(v.geom.spacing[1] - 0.00025) < 1e-12);
    QVERIFY(std::fabs(v.geom.spacing[2] - 0.0025) < 1e-12);

    r.description = "ImageJ=1.54f\nimages=3\nslices=3\nunit=\xc2\xb5m\nspacing=4\n";
    writeRaw(path, r);
    v = TiffStackReader::read(path);
    QVERIFY(std::fabs(v.geom.spacing[2] - 0.004) < 1e-12);

    r.description = "ImageJ=1.54f\nimages=3\nslices=3\nunit=cm\nspacing=0.1\n";
    r.xres = r.yres = 20.f;  // 20 px/cm
    writeRaw(path, r);
    v = TiffStackReader::read(path);
    QVERIFY(std::fabs(v.geom.spacing[0] - 0.5) < 1e-9 && std::fabs(v.geom.spacing[2] - 1.0) < 1e-9);

    // the header says 3 images but a page is missing
    r.description = "ImageJ=1.54f\nimages=4\nslices=4\nunit=mm\nspacing=1\n";
    writeRaw(path, r);
    QVERIFY(messageOf<InputError>([&] { TiffStackReader::read(path); }).contains("announces 4"));
  }

  void spacingFromResolution() {
    RawTiff r;
    r.pages = 2;
    const std::string path = dir_ + "/res.tif";
    r.xres = 20.f;  // px/cm -> 0.5 mm
    r.yres = 10.f;  // 1 mm
    r.resUnit = RESUNIT_CENTIMETER;
    writeRaw(path, r);
    Volume v = TiffStackReader::read(path);
    QVERIFY(std::fabs(v.geom.spacing[0] - 0.5) < 1e-9);
    QVERIFY(std::fabs(v.geom.spacing[1] - 1.0) < 1e-9);
    QCOMPARE(v.geom.spacing[2], v.geom.spacing[0]);  // no slice distance in plain TIFF: assumed = x
    QVERIFY(!v.geom.spacingKnown);
    QCOMPARE(v.warnings.size(), std::size_t(1));
    QVERIFY(QString::fromStdString(v.warnings[0]).contains("slice distance"));

    r.xres = r.yres = 254.f;  // dpi -> 0.1 mm
    r.resUnit = RESUNIT_INCH;
    r.pages = 1;  // one slice: z does not matter, the spacing is known
    writeRaw(path, r);
    v = TiffStackReader::read(path);
    QVERIFY(std::fabs(v.geom.spacing[0] - 0.1) < 1e-9 && std::fabs(v.geom.spacing[1] - 0.1) < 1e-9);
    QVERIFY(v.geom.spacingKnown);

    r.pages = 2;
    r.resUnit = RESUNIT_NONE;
    writeRaw(path, r);
    v = TiffStackReader::read(path);
    QVERIFY(!v.geom.spacingKnown);
    QCOMPARE(v.geom.spacing, (std::array<double, 3>{1, 1, 1}));
    QVERIFY(QString::fromStdString(v.warnings.at(0)).contains("no voxel spacing"));

    ReadOptions o;
    o.spacing = std::array<double, 3>{0.3, 0.4, 0.6};
    v = TiffStackReader::read(path, o);
    QVERIFY(v.geom.spacingKnown);
    QVERIFY(v.warnings.empty());
    QCOMPARE(v.geom.spacing, (std::array<double, 3>{0.3, 0.4, 0.6}));
    o.spacing = std::array<double, 3>{0.3, 0.0, 0.6};
    QVERIFY(messageOf<InputError>([&] { TiffStackReader::read(path, o); }).contains("positive"));
  }

  void imageJContiguousStack_data() {
    QTest::addColumn<bool>("bigEndian");
    QTest::newRow("little-endian") << false;
    QTest::newRow("big-endian") << true;
  }
  void imageJContiguousStack() {
    // ImageJ saves stacks over 4 GiB as one IFD followed by every page's raw data; built by hand here.
    QFETCH(bool, bigEndian);
    const int w = 6, h = 5, pages = 4;
    const std::string desc = "ImageJ=1.54f\nimages=4\nslices=4\nunit=mm\nspacing=3\n";
    std::string f;
    auto put = [&](uint64_t v, int n) {
      for (int i = 0; i < n; ++i) f += char(bigEndian ? (v >> (8 * (n - 1 - i))) & 0xff : (v >> (8 * i)) & 0xff);
    };
    f += bigEndian ? "MM" : "II";
    put(42, 2);
    put(8, 4);
    const int entries = 10;
    const uint32_t descOffset = 8 + 2 + entries * 12 + 4;
    const uint32_t dataOffset = descOffset + uint32_t(desc.size() + 1);
    put(entries, 2);
    auto entry = [&](int tag, int type, uint32_t count, uint32_t value) {
      put(tag, 2);
      put(type, 2);
      put(count, 4);
      if (type == 3 && count == 1) {
        put(value, 2);
        put(0, 2);
      } else {
        put(value, 4);
      }
    };
    entry(256, 4, 1, w);
    entry(257, 4, 1, h);
    entry(258, 3, 1, 16);
    entry(259, 3, 1, 1);
    entry(262, 3, 1, 1);
    entry(270, 2, uint32_t(desc.size() + 1), descOffset);
    entry(273, 4, 1, dataOffset);
    entry(277, 3, 1, 1);
    entry(278, 4, 1, h);
    entry(279, 4, 1, w * h * 2);
    put(0, 4);
    f += desc;
    f += '\0';
    for (int z = 0; z < pages; ++z)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) put(uint64_t(patternValue(16, SAMPLEFORMAT_UINT, x, y, z)), 2);
    const std::string path = dir_ + "/ij_contiguous.tif";
    std::ofstream(path, std::ios::binary) << f;
    const Volume v = TiffStackReader::read(path);
    RawTiff r;
    r.width = w;
    r.height = h;
    r.pages = pages;
    checkPattern(v, r);
    QCOMPARE(v.geom.spacing[2], 3.0);
    // one page short
    std::ofstream(path, std::ios::binary) << f.substr(0, f.size() - w * h * 2);
    const QString m = messageOf<InputError>([&] { TiffStackReader::read(path); });
    QVERIFY2(m.contains("truncated") && m.contains("announces 4"), qPrintable(m));
  }

  void rgbBecomesLuminance() {
    RawTiff r;
    r.bits = 8;
    r.spp = 3;
    r.pages = 2;
    const std::string path = dir_ + "/rgb.tif";
    writeRaw(path, r);
    const Volume v = TiffStackReader::read(path);
    // R = 10 + x%7, G = 20 + x%7, B = 30 + x%7
    const double want = 0.299 * 13 + 0.587 * 23 + 0.114 * 33;
    QVERIFY(std::fabs(v.at(3, 5, 1) - want) < 1e-4);
    QVERIFY(QString::fromStdString(v.warnings.back()).contains("luminance"));
  }

  void progressAndCancel() {
    RawTiff r;
    r.pages = 6;
    const std::string path = dir_ + "/progress.tif";
    writeRaw(path, r);
    TaskContext ctx;
    int calls = 0;
    double last = -1;
    ctx.progress = [&](double f, const std::string&) { ++calls; last = f; };
    TiffStackReader::read(path, {}, &ctx);
    QVERIFY(calls >= 6);
    QCOMPARE(last, 1.0);
    auto token = std::make_shared<CancelToken>();
    token->cancel();
    ctx.cancel = token;
    bool cancelled = false;
    try {
      TiffStackReader::read(path, {}, &ctx);
    } catch (const CancelledError&) {
      cancelled = true;
    }
    QVERIFY(cancelled);
  }

  void badInputs() {
    // truncated: a real deflate stack cut short
    Volume noisy = jseg::test::rampVolume(64, 64, 12);
    uint32_t s = 12345;
    for (auto& x : noisy.voxels) x = float((s = s * 1103515245u + 12345u) >> 20 & 0xfff);
    noisy.originalType = PixelType::UInt16;
    const std::string full = dir_ + "/full.tif", cut = dir_ + "/cut.tif";
    writeTiffVolume(noisy, full);
    QVERIFY(TiffStackReader::read(full).voxels == noisy.voxels);
    for (double frac : {0.5, 0.93}) {
      fs::copy_file(full, cut, fs::copy_options::overwrite_existing);
      fs::resize_file(cut, std::uintmax_t(fs::file_size(full) * frac));
      const QString m = messageOf<InputError>([&] { TiffStackReader::read(cut); });
      QVERIFY2(m.contains("truncated") && m.contains("cut.tif"), qPrintable(m));
    }
    // cut inside the first page's data (IFD written after it by libtiff, so nothing is readable)
    fs::copy_file(full, cut, fs::copy_options::overwrite_existing);
    fs::resize_file(cut, 2000);
    QVERIFY(messageOf<InputError>([&] { TiffStackReader::read(cut); }).contains("cut.tif"));

    // pages of different sizes
    RawTiff mixed;
    mixed.width = 100;
    mixed.height = 100;
    mixed.pages = 8;
    mixed.pageHeight = [](int z) { return z == 6 ? 90 : 100; };
    const std::string mixedPath = dir_ + "/mixed.tif";
    writeRaw(mixedPath, mixed);
    QString m = messageOf<InputError>([&] { TiffStackReader::read(mixedPath); });
    QVERIFY2(m.contains("page 7 is 100x90 but page 1 is 100x100"), qPrintable(m));

    // empty folder, folder without TIFF
    const std::string empty = dir_ + "/empty";
    fs::create_directories(empty);
    QVERIFY(messageOf<InputError>([&] { TiffStackReader::read(empty); }).contains("is empty"));
    QVERIFY(!TiffStackReader::folderHasTiffSlices(empty));
    std::ofstream(empty + "/readme.txt") << "hello";
    m = messageOf<InputError>([&] { TiffStackReader::read(empty); });
    QVERIFY2(m.contains("no TIFF"), qPrintable(m));

    // text renamed .tif, alone and inside a folder of slices
    const std::string fake = dir_ + "/fake.tif";
    std::ofstream(fake) << "this is not an image\n";
    QVERIFY(!TiffStackReader::looksLikeTiff(fake));
    m = messageOf<InputError>([&] { TiffStackReader::read(fake); });
    QVERIFY2(m.contains("not a TIFF") && m.contains("fake.tif"), qPrintable(m));
    fs::copy_file(fake, empty + "/0001.tif");
    QVERIFY(messageOf<InputError>([&] { TiffStackReader::read(empty); }).contains("not a TIFF"));

    // unsupported sample format: 1-bit
    {
      const std::string bilevel = dir_ + "/bilevel.tif";
      TIFF* t = openSilently(bilevel, "w");
      TIFFSetField(t, TIFFTAG_IMAGEWIDTH, uint32_t(16));
      TIFFSetField(t, TIFFTAG_IMAGELENGTH, uint32_t(2));
      TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, uint16_t(1));
      TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
      uint8_t row[2] = {0xf0, 0x0f};
      TIFFWriteScanline(t, row, 0, 0);
      TIFFWriteScanline(t, row, 1, 0);
      TIFFClose(t);
      m = messageOf<InputError>([&] { TiffStackReader::read(bilevel); });
      QVERIFY2(m.contains("unsupported sample format") && m.contains("1-bit"), qPrintable(m));
    }
    QVERIFY(messageOf<InputError>([&] { TiffStackReader::read(dir_ + "/nothing_here.tif"); }).contains("does not exist"));
  }

  void tooBigForMemory() {
    // Pages that claim 100000 x 100000 pixels but hold no data: refused before any allocation.
    const std::string path = dir_ + "/huge.tif";
    TIFF* t = openSilently(path, "w");
    for (int z = 0; z < 3; ++z) {
      TIFFSetField(t, TIFFTAG_IMAGEWIDTH, uint32_t(100000));
      TIFFSetField(t, TIFFTAG_IMAGELENGTH, uint32_t(100000));
      TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, uint16_t(16));
      TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
      TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
      TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, uint32_t(100000));
      uint16_t zero[16] = {};
      QVERIFY(TIFFWriteRawStrip(t, 0, zero, sizeof zero) >= 0);  // garbage data, never decoded
      QVERIFY(TIFFWriteDirectory(t));
    }
    TIFFClose(t);
    // Sparse padding so that the file could hold that much deflate data (at deflate's best ratio).
    std::error_code ec;
    fs::resize_file(path, std::uintmax_t(100000) * 100000 * 2 * 3 / 1000, ec);
    if (ec) QSKIP("cannot extend the test file");
    const QString m = messageOf<ResourceError>([&] { TiffStackReader::read(path); });
    QVERIFY2(m.contains("memory") && m.contains("huge.tif"), qPrintable(m));
  }

  void hugeClaimsOfSmallFilesRefused() {
    // Fuzzing regression: a few hundred bytes claiming 60000 x 60000 pixels made the reader allocate
    // and zero 14 GB before reading a single strip; and one 32768 x 32768 tile for a 16 x 16 image
    // allocated 1 GB per page.
    const std::string strips = dir_ + "/claims.tif";
    TIFF* t = openSilently(strips, "w");
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, uint32_t(60000));
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, uint32_t(60000));
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, uint16_t(8));
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, uint32_t(60000));
    uint8_t some[16] = {};
    QVERIFY(TIFFWriteRawStrip(t, 0, some, sizeof some) >= 0);
    QVERIFY(TIFFWriteDirectory(t));
    TIFFClose(t);
    QString m = messageOf<InputError>([&] { TiffStackReader::read(strips); });
    QVERIFY2(m.contains("claims.tif") && m.contains("60000x60000x1") && m.contains("truncated or corrupt"),
             qPrintable(m));

    const std::string tiles = dir_ + "/bigtiles.tif";
    t = openSilently(tiles, "w");
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, uint32_t(16));
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, uint32_t(16));
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, uint16_t(8));
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_TILEWIDTH, uint32_t(32768));
    TIFFSetField(t, TIFFTAG_TILELENGTH, uint32_t(32768));
    QVERIFY(TIFFWriteRawTile(t, 0, some, sizeof some) >= 0);
    QVERIFY(TIFFWriteDirectory(t));
    TIFFClose(t);
    m = messageOf<InputError>([&] { TiffStackReader::read(tiles); });
    QVERIFY2(m.contains("bigtiles.tif") && m.contains("32768x32768 tiles"), qPrintable(m));
  }

  void realMni152() {
    JSEG_REQUIRE_DATA("mni152/t1.tif");
    const Volume v = TiffStackReader::read(jseg::test::sharedData("mni152/t1.tif"));
    QCOMPARE(v.geom.dims, (std::array<int64_t, 3>{197, 233, 189}));
    QCOMPARE(v.originalType, PixelType::UInt8);
    QVERIFY(v.geom.spacingKnown);
    QCOMPARE(v.geom.spacing, (std::array<double, 3>{1, 1, 1}));
    QVERIFY(v.warnings.empty());
    // reference values decoded independently (tiffcp -c none, then the raw strips read with Python)
    QCOMPARE(v.at(98, 116, 94), 198.f);
    QCOMPARE(v.at(60, 100, 80), 196.f);
    QCOMPARE(v.at(150, 120, 100), 224.f);
    QCOMPARE(v.at(98, 50, 120), 113.f);
    QCOMPARE(v.at(120, 180, 60), 162.f);
    QCOMPARE(v.at(0, 0, 0), 0.f);
    QCOMPARE(v.at(196, 232, 188), 0.f);

    // the same file cut inside the last page's data (tifffile puts each IFD before its data)
    const std::string cut = dir_ + "/t1_cut.tif";
    fs::copy_file(jseg::test::sharedData("mni152/t1.tif"), cut, fs::copy_options::overwrite_existing);
    fs::resize_file(cut, fs::file_size(cut) - 50);
    QString m = messageOf<InputError>([&] { TiffStackReader::read(cut); });
    QVERIFY2(m.contains("page 189") && m.contains("truncated"), qPrintable(m));
    fs::resize_file(cut, 900000);
    m = messageOf<InputError>([&] { TiffStackReader::read(cut); });
    QVERIFY2(m.contains("page 86") && m.contains("truncated"), qPrintable(m));
  }

  void realBrainTiff() {
    JSEG_REQUIRE_DATA("tiff/brain.tiff");
    const Volume v = TiffStackReader::read(jseg::test::sharedData("tiff/brain.tiff"));
    QCOMPARE(v.geom.dims, (std::array<int64_t, 3>{256, 256, 10}));
    QCOMPARE(v.originalType, PixelType::UInt16);
    QVERIFY(!v.geom.spacingKnown);
    QCOMPARE(v.geom.spacing, (std::array<double, 3>{1, 1, 1}));
    QCOMPARE(v.warnings.size(), std::size_t(1));
    QCOMPARE(v.at(128, 128, 5), 7056.f);
    QCOMPARE(v.at(100, 60, 0), 361.f);
    QCOMPARE(v.at(30, 200, 9), 81.f);
    QCOMPARE(v.at(200, 140, 3), 16.f);
    QCOMPARE(v.at(0, 0, 0), 4.f);
  }
};

QTEST_GUILESS_MAIN(TestTiff)
#include "test_tiff.moc"
