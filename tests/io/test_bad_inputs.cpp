// ctest-links: juleseg_io TIFF::TIFF
// Bad inputs through the one entry point every front end uses (readVolume), for all three formats:
// zero-sized, truncated, absurd sizes in headers, unsupported pixel types, and NaN/Inf voxels. Each
// must be an InputError (or ResourceError) naming the file and the problem; never a crash, a huge
// allocation or a volume that silently holds garbage.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <tiffio.h>

#include <QtTest>
#include <cmath>
#include <cstdarg>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>

#include "core/base/Errors.h"
#include "core/io/NiftiIO.h"
#include "core/io/TiffStackReader.h"
#include "core/io/VolumeReader.h"
#include "tests/common/TestData.h"

using namespace jseg;
namespace fs = std::filesystem;

namespace {

template <typename T>
void patch(std::string& bytes, std::size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

// The message of the InputError/ResourceError `f` throws; fails the test for anything else.
struct Outcome {
  QString message;
  bool input = false, resource = false;
};
Outcome outcomeOf(const std::function<void()>& f) {
  Outcome o;
  try {
    f();
    o.message = "(no exception)";
  } catch (const InputError& e) {
    o.input = true;
    o.message = QString::fromStdString(e.what());
  } catch (const ResourceError& e) {
    o.resource = true;
    o.message = QString::fromStdString(e.what());
  }
  return o;
}

#define EXPECT_INPUT_ERROR(call, ...)                                                        \
  do {                                                                                        \
    const Outcome out_ = outcomeOf([&] { (void)(call); });                                    \
    QVERIFY2(out_.input, qPrintable("expected InputError, got: " + out_.message));            \
    for (const char* part_ : {__VA_ARGS__})                                                    \
      QVERIFY2(out_.message.contains(part_), qPrintable("\"" + QString(part_) + "\" missing in: " + out_.message)); \
  } while (0)

int silent(TIFF*, void*, const char*, const char*, va_list) { return 1; }

// A TIFF directory with the given tags and no (or a token) pixel data: enough for header checks.
void writeHeaderOnlyTiff(const std::string& path, uint32_t w, uint32_t h, uint16_t bits, uint16_t format) {
  TIFFOpenOptions* o = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(o, silent, nullptr);
  TIFFOpenOptionsSetWarningHandlerExtR(o, silent, nullptr);
  TIFF* t = TIFFOpenExt(path.c_str(), "w", o);
  TIFFOpenOptionsFree(o);
  QVERIFY(t);
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bits);
  TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, format);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, h);
  uint8_t some[64] = {};
  QVERIFY(TIFFWriteRawStrip(t, 0, some, sizeof some) >= 0);
  QVERIFY(TIFFWriteDirectory(t));
  TIFFClose(t);
}

// A copy of a small real DICOM radiograph (16x16, 16-bit, 2.3 kB) with some elements changed.
void writeModifiedDicom(const std::string& path, const std::function<void(DcmDataset*)>& change) {
  DcmFileFormat ff;
  QVERIFY(ff.loadFile(test::sharedData("dicom-edge/77654033/CR1/6154").c_str()).good());
  change(ff.getDataset());
  QVERIFY(ff.saveFile(path.c_str()).good());
}

// NIfTI-1 header offsets used below.
constexpr std::size_t kDim = 40, kDatatype = 70, kBitpix = 72, kSclSlope = 112;

} // namespace

class TestBadInputs : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { dir_ = test::tempDir("bad-inputs"); }
  void cleanupTestCase() { fs::remove_all(dir_); }

  void zeroSized() {
    for (const char* name : {"empty.nii", "empty.nii.gz", "empty.tif", "empty.dcm"}) {
      jseg::test::writeFileBytes(dir_ + "/" + name, "");
      EXPECT_INPUT_ERROR(readVolume(dir_ + "/" + name), name, "the file is empty");
    }
    const std::string folder = dir_ + "/empty-folder";
    fs::create_directories(folder);
    EXPECT_INPUT_ERROR(readVolume(folder), "empty-folder", "the folder is empty");
    // A folder whose only .dcm is empty holds nothing readable.
    jseg::test::writeFileBytes(folder + "/slice1.dcm", "");
    EXPECT_INPUT_ERROR(readVolume(folder), "empty-folder", "neither DICOM files nor TIFF slices");
  }

  void truncated() {
    Volume v = test::rampVolume(20, 16, 3);  // values up to 21519: exact in int16
    v.originalType = PixelType::Int16;
    const std::string nii = dir_ + "/cut.nii", gz = dir_ + "/cut.nii.gz", tif = dir_ + "/cut.tif";
    NiftiIO::write(v, nii);
    NiftiIO::write(v, gz);
    writeTiffVolume(v, tif);
    QCOMPARE(readVolume(nii).voxels, v.voxels);  // whole files read back exactly
    QCOMPARE(readVolume(tif).voxels, v.voxels);
    for (const std::string& path : {nii, gz, tif}) {
      const std::string whole = jseg::test::readFileBytes(path);
      jseg::test::writeFileBytes(path, whole.substr(0, whole.size() * 2 / 3));
      const Outcome o = outcomeOf([&] { readVolume(path); });
      QVERIFY2(o.input && o.message.contains(QString::fromStdString(fs::path(path).filename().string())) &&
                   (o.message.contains("truncated") || o.message.contains("damaged")),
               qPrintable(o.message));
    }
    // A header cut short is not mistaken for a volume.
    jseg::test::writeFileBytes(nii, jseg::test::readFileBytes(gz).substr(0, 100));
    const Outcome o = outcomeOf([&] { readVolume(nii); });
    QVERIFY2(o.input && o.message.contains("cut.nii"), qPrintable(o.message));

    if (test::haveSharedData("mr-dicom/1-049.dcm")) {
      const std::string folder = dir_ + "/dicom-cut";
      fs::create_directories(folder);
      const std::string slice = jseg::test::readFileBytes(test::sharedData("mr-dicom/1-049.dcm"));
      jseg::test::writeFileBytes(folder + "/a.dcm", slice.substr(0, slice.size() / 3));
      EXPECT_INPUT_ERROR(readVolume(folder), "a.dcm", "truncated or corrupt");
    }
  }

  void hugeDimensionsInHeaders() {
    // NIfTI: 30000^3 voxels claimed by a 2 kB file.
    Volume v = test::rampVolume(4, 4, 4);
    v.originalType = PixelType::UInt8;
    const std::string nii = dir_ + "/huge.nii";
    NiftiIO::write(v, nii);
    std::string bytes = jseg::test::readFileBytes(nii);
    for (int i = 1; i <= 3; ++i) patch<int16_t>(bytes, kDim + 2 * i, 30000);
    jseg::test::writeFileBytes(nii, bytes);
    EXPECT_INPUT_ERROR(readVolume(nii), "huge.nii", "30000x30000x30000", "truncated or corrupt");

    // TIFF: 60000 x 60000 pixels claimed by a few hundred bytes (fuzzing finding).
    const std::string tif = dir_ + "/huge.tif";
    writeHeaderOnlyTiff(tif, 60000, 60000, 16, SAMPLEFORMAT_UINT);
    EXPECT_INPUT_ERROR(readVolume(tif), "huge.tif", "60000x60000x1", "truncated or corrupt");

    JSEG_REQUIRE_DATA("dicom-edge/77654033/CR1/6154");
    // DICOM: 2e9 frames (fuzzing finding) and 65535 x 65535 pixels in a 2 kB uncompressed file.
    const std::string frames = dir_ + "/dicom-frames";
    fs::create_directories(frames);
    writeModifiedDicom(frames + "/f.dcm", [](DcmDataset* ds) { ds->putAndInsertString(DCM_NumberOfFrames, "2000000000"); });
    EXPECT_INPUT_ERROR(readVolume(frames), "f.dcm", "2000000000 frames of 16x16 pixels", "truncated or corrupt");
    const std::string rows = dir_ + "/dicom-rows";
    fs::create_directories(rows);
    writeModifiedDicom(rows + "/r.dcm", [](DcmDataset* ds) {
      ds->putAndInsertUint16(DCM_Rows, 65535);
      ds->putAndInsertUint16(DCM_Columns, 65535);
    });
    EXPECT_INPUT_ERROR(readVolume(rows), "r.dcm", "1 frame of 65535x65535 pixels", "truncated or corrupt");
  }

  void wrongPixelTypes() {
    Volume v = test::rampVolume(4, 3, 2);
    v.originalType = PixelType::Float32;
    const std::string good = dir_ + "/types.nii";
    NiftiIO::write(v, good);
    const std::string f32 = jseg::test::readFileBytes(good);
    struct Case {
      int16_t datatype, bitpix;
      const char* expected;
    };
    for (const Case& c : {Case{32, 64, "complex-valued"}, Case{128, 24, "RGB colour"}, Case{1024, 64, "64-bit integer"},
                          Case{9999, 32, "unknown or unsupported NIfTI datatype code 9999"}}) {
      std::string bytes = f32;
      patch<int16_t>(bytes, kDatatype, c.datatype);
      patch<int16_t>(bytes, kBitpix, c.bitpix);
      const std::string path = dir_ + "/type" + std::to_string(c.datatype) + ".nii";
      jseg::test::writeFileBytes(path, bytes);
      EXPECT_INPUT_ERROR(readVolume(path), "type", c.expected);
    }

    const std::string twelve = dir_ + "/twelve.tif", cplx = dir_ + "/complex.tif";
    writeHeaderOnlyTiff(twelve, 8, 8, 12, SAMPLEFORMAT_UINT);
    EXPECT_INPUT_ERROR(readVolume(twelve), "twelve.tif", "unsupported sample format: 12-bit unsigned integer");
    writeHeaderOnlyTiff(cplx, 4, 4, 32, SAMPLEFORMAT_COMPLEXIEEEFP);
    EXPECT_INPUT_ERROR(readVolume(cplx), "complex.tif", "32-bit complex or unknown");

    JSEG_REQUIRE_DATA("dicom-edge/77654033/CR1/6154");
    const std::string bits = dir_ + "/dicom-bits";
    fs::create_directories(bits);
    writeModifiedDicom(bits + "/b.dcm", [](DcmDataset* ds) {
      ds->putAndInsertUint16(DCM_BitsAllocated, 24);
      ds->putAndInsertUint16(DCM_BitsStored, 24);
      ds->putAndInsertUint16(DCM_HighBit, 23);
    });
    EXPECT_INPUT_ERROR(readVolume(bits), "b.dcm", "24 bits allocated per pixel");
    const std::string rgb = dir_ + "/dicom-rgb";
    fs::create_directories(rgb);
    writeModifiedDicom(rgb + "/c.dcm", [](DcmDataset* ds) {
      ds->putAndInsertUint16(DCM_SamplesPerPixel, 3);
      ds->putAndInsertString(DCM_PhotometricInterpretation, "RGB");
    });
    EXPECT_INPUT_ERROR(readVolume(rgb), "c.dcm", "colour image", "greyscale");
  }

  void nonFiniteVoxelsRefused() {
    // float32 NIfTI with a NaN at (1,0,0) and +Inf at (2,1,1).
    Volume v = test::rampVolume(4, 3, 2);
    v.originalType = PixelType::Float32;
    v.at(1, 0, 0) = std::numeric_limits<float>::quiet_NaN();
    v.at(2, 1, 1) = std::numeric_limits<float>::infinity();
    const std::string nii = dir_ + "/nan.nii";
    NiftiIO::write(v, nii);
    // The format reader hands the values over as stored...
    const Volume raw = NiftiIO::read(nii);
    QVERIFY(std::isnan(raw.at(1, 0, 0)) && std::isinf(raw.at(2, 1, 1)));
    QCOMPARE(raw.at(3, 2, 1), 3.f + 200.f + 10000.f);
    // ...but nothing that segments gets them.
    EXPECT_INPUT_ERROR(readVolume(nii), "nan.nii", "2 of 24 voxels are not finite", "x=1 y=0 z=0");

    // float32 TIFF with one -Inf at (3,2,0).
    Volume t = test::rampVolume(4, 3, 2);
    t.originalType = PixelType::Float32;
    t.at(3, 2, 0) = -std::numeric_limits<float>::infinity();
    const std::string tif = dir_ + "/inf.tif";
    writeTiffVolume(t, tif);
    EXPECT_INPUT_ERROR(readVolume(tif), "inf.tif", "1 of 24 voxels are not finite", "x=3 y=2 z=0");

    // int16 NIfTI whose scl_slope pushes every voxel of value 2 or more past float range (3e38 itself
    // still fits).
    Volume s = test::rampVolume(4, 3, 2);
    s.originalType = PixelType::Int16;
    const std::string scaled = dir_ + "/slope.nii";
    NiftiIO::write(s, scaled);
    std::string bytes = jseg::test::readFileBytes(scaled);
    patch<float>(bytes, kSclSlope, 3e38f);
    jseg::test::writeFileBytes(scaled, bytes);
    EXPECT_INPUT_ERROR(readVolume(scaled), "slope.nii", "22 of 24 voxels are not finite", "x=2 y=0 z=0");

    JSEG_REQUIRE_DATA("dicom-edge/77654033/CR1/6154");
    // DICOM whose RescaleSlope overflows float32 for every pixel.
    const std::string folder = dir_ + "/dicom-slope";
    fs::create_directories(folder);
    writeModifiedDicom(folder + "/s.dcm", [](DcmDataset* ds) { ds->putAndInsertString(DCM_RescaleSlope, "1e300"); });
    EXPECT_INPUT_ERROR(readVolume(folder), "dicom-slope", "of 256 voxels are not finite");
  }

  void dcmtkExceptionsBecomeInputErrors() {
    // Found by fuzz_dicom: a directory record whose type string is damaged makes DCMTK 3.6.7's
    // DcmByteString::verify throw std::out_of_range from inside loadFile.
    const std::string hex =
    "000000ffffffff0100000000004d33580030544d000000000000e77e26f2fc7f07000000ffffffffffff02000000ffff"
    "7e0000000085000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000004449434d0400201253510000e0290000"
    "feff00e06a0000000400301443537a000000190000040030144353060053322e3834302e3130303843494f4e20494d41"
    "474520002e312e342e312e353936414449434d1300495302003720302e302e310000000000494d414745200013004f46"
    "02003720001300495302003720302e302e310000000000494d4147452000130049530200372002003720";
    std::string bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    QCOMPARE(bytes.size(), std::size_t(282));
    const std::string folder = dir_ + "/dicom-damaged-record";
    fs::create_directories(folder);
    jseg::test::writeFileBytes(folder + "/record.dcm", bytes);
    EXPECT_INPUT_ERROR(readVolume(folder), "record.dcm", "DCMTK failed on a damaged value");
    EXPECT_INPUT_ERROR(readVolume(folder + "/record.dcm"), "record.dcm", "DCMTK failed on a damaged value");
  }

private:
  std::string dir_;
};

QTEST_GUILESS_MAIN(TestBadInputs)
#include "test_bad_inputs.moc"
