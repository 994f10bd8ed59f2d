// ctest-links: juleseg_io
// NIfTI-1 reading and writing: real files checked against values decoded independently (Python's
// gzip + struct on the raw bytes, see the comments at each expectation), round trips of every voxel
// type with an oblique, flipped geometry, hand-built headers (big endian, scaling, 4D, qform only)
// and broken files that must fail with a clear message.
#include <QtTest>

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

#include "core/base/Errors.h"
#include "core/io/AtomicFile.h"
#include "core/io/NiftiIO.h"
#include "tests/common/TestData.h"

using namespace jseg;
namespace fs = std::filesystem;

namespace {

std::string gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return out;
}

// A NIfTI-1 header written field by field in either byte order, independent of the reader.
class HeaderBuilder {
public:
  explicit HeaderBuilder(bool bigEndian) : big_(bigEndian), raw_(352, '\0') {
    put<int32_t>(0, 348);
    std::memcpy(&raw_[344], "n+1\0", 4);
    put<float>(108, 352.f);
  }
  template <typename T>
  HeaderBuilder& put(std::size_t off, T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    if (big_) std::reverse(b, b + sizeof(T));
    std::memcpy(&raw_[off], b, sizeof(T));
    return *this;
  }
  HeaderBuilder& dims(std::initializer_list<int16_t> d) {
    int i = 0;
    for (int16_t x : d) put<int16_t>(40 + 2 * i++, x);
    return *this;
  }
  HeaderBuilder& type(int16_t code, int16_t bits) { return put<int16_t>(70, code).put<int16_t>(72, bits); }
  HeaderBuilder& pixdim(float q, float x, float y, float z) {
    return put<float>(76, q).put<float>(80, x).put<float>(84, y).put<float>(88, z);
  }
  template <typename T>
  HeaderBuilder& data(const std::vector<T>& values) {
    for (T v : values) {
      char b[sizeof(T)];
      std::memcpy(b, &v, sizeof(T));
      if (big_) std::reverse(b, b + sizeof(T));
      data_.append(b, sizeof(T));
    }
    return *this;
  }
  std::string bytes() const { return raw_ + data_; }

private:
  bool big_;
  std::string raw_;
  std::string data_;
};

// Oblique rotation (about a tilted axis) times a flip of the second index axis: left-handed, so
// the quaternion path needs qfac = -1.
Geometry obliqueGeometry(int64_t nx, int64_t ny, int64_t nz) {
  Geometry g;
  g.dims = {nx, ny, nz};
  g.spacing = {0.7, 1.3, 2.1};
  g.origin = {-101.3, 57.9, 12.1};
  const double ax[3] = {0.3, -0.5, 0.8};
  const double n = std::sqrt(ax[0] * ax[0] + ax[1] * ax[1] + ax[2] * ax[2]);
  const double u = ax[0] / n, v = ax[1] / n, w = ax[2] / n, t = 0.6, c = std::cos(t), s = std::sin(t);
  const double r[9] = {c + u * u * (1 - c),     u * v * (1 - c) - w * s, u * w * (1 - c) + v * s,
                       v * u * (1 - c) + w * s, c + v * v * (1 - c),     v * w * (1 - c) - u * s,
                       w * u * (1 - c) - v * s, w * v * (1 - c) + u * s, c + w * w * (1 - c)};
  for (int row = 0; row < 3; ++row)
    for (int col = 0; col < 3; ++col) g.direction[row * 3 + col] = r[row * 3 + col] * (col == 1 ? -1.0 : 1.0);
  return g;
}

void compareGeometry(const Geometry& a, const Geometry& b, double tol = 1e-5) {
  QCOMPARE(a.dims, b.dims);
  for (int i = 0; i < 3; ++i) {
    QVERIFY2(std::fabs(a.spacing[i] - b.spacing[i]) < tol, qPrintable(QString("spacing %1").arg(i)));
    QVERIFY2(std::fabs(a.origin[i] - b.origin[i]) < tol,
             qPrintable(QString("origin %1: %2 vs %3").arg(i).arg(a.origin[i]).arg(b.origin[i])));
  }
  for (int i = 0; i < 9; ++i)
    QVERIFY2(std::fabs(a.direction[i] - b.direction[i]) < tol,
             qPrintable(QString("direction %1: %2 vs %3").arg(i).arg(a.direction[i]).arg(b.direction[i])));
}

template <typename Fn>
QString errorOf(Fn fn, bool& wasInput, bool& wasResource) {
  wasInput = wasResource = false;
  try {
    fn();
  } catch (const InputError& e) {
    wasInput = true;
    return e.what();
  } catch (const ResourceError& e) {
    wasResource = true;
    return e.what();
  }
  return {};
}

} // namespace

class TestNifti : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void readsMniT1();
  void readsMniLabels();
  void readsCtExample();
  void readsCtSegmentation();
  void roundTripsEveryType_data();
  void roundTripsEveryType();
  void qformAloneGivesTheSameGeometry();
  void roundsAndClampsIntegerTypes();
  void roundTripsLabels();
  void rejectsNonIntegerLabels();
  void readsBigEndianHeader();
  void appliesScaling();
  void usesFirstVolumeOf4D();
  void analyzeStyleHeaderWarns();
  void rejectsBrokenFiles();
  void refusesVolumesLargerThanMemory();
  void cancelsReading();
};

void TestNifti::readsMniT1() {
  JSEG_REQUIRE_DATA("mni152/t1.nii.gz");
  const std::string path = test::sharedData("mni152/t1.nii.gz");
  QVERIFY(NiftiIO::looksLikeNifti(path));
  double lastFraction = -1;
  int reports = 0;
  TaskContext ctx;
  ctx.progress = [&](double f, const std::string&) {
    QVERIFY(f >= lastFraction);
    lastFraction = f;
    ++reports;
  };
  const Volume v = NiftiIO::read(path, &ctx);
  QCOMPARE(lastFraction, 1.0);
  QVERIFY(reports >= 2);
  QCOMPARE(v.dims(), (std::array<int64_t, 3>{197, 233, 189}));
  QCOMPARE(v.originalType, PixelType::UInt8);
  for (int i = 0; i < 3; ++i) QCOMPARE(v.geom.spacing[i], 1.0);
  // sform is the identity in NIfTI's RAS+ world (+x = Right, +y = Anterior, +z = Superior) with
  // offset (-98, -134, -72); in LPS the index axes point to R, A, S: direction diag(-1, -1, 1).
  QCOMPARE(QString::fromStdString(v.geom.orientationCode()), QString("RAS"));
  QCOMPARE(v.geom.direction, (std::array<double, 9>{-1, 0, 0, 0, -1, 0, 0, 0, 1}));
  QCOMPARE(v.geom.origin, (std::array<double, 3>{98, 134, -72}));
  const auto r = v.range();
  QCOMPARE(r[0], 0.f);
  QCOMPARE(r[1], 255.f);
  // Expected values decoded with Python (gzip + struct) from the raw file.
  QCOMPARE(v.at(98, 116, 94), 198.f);
  QCOMPARE(v.at(60, 150, 100), 162.f);
  QCOMPARE(v.at(130, 80, 40), 168.f);
  QCOMPARE(v.at(98, 60, 120), 97.f);
  QCOMPARE(v.at(150, 120, 70), 219.f);
  QCOMPARE(v.at(0, 0, 0), 0.f);
  QCOMPARE(v.at(196, 232, 188), 0.f);
  double sum = 0;
  std::size_t nonzero = 0;
  for (float x : v.voxels) {
    sum += x;
    nonzero += x != 0;
  }
  QCOMPARE(sum, 333468829.0);
  QCOMPARE(nonzero, std::size_t(1886539));
  QVERIFY(v.warnings.empty());
}

void TestNifti::readsMniLabels() {
  JSEG_REQUIRE_DATA("mni152/labels.nii.gz");
  const LabelVolume l = NiftiIO::readLabels(test::sharedData("mni152/labels.nii.gz"));
  QCOMPARE(l.geom.dims, (std::array<int64_t, 3>{197, 233, 189}));
  std::map<int, std::size_t> counts;
  for (uint16_t x : l.labels) ++counts[x];
  // Python: Counter of the raw bytes.
  QCOMPARE(counts, (std::map<int, std::size_t>{{0, 6788750}, {1, 160496}, {2, 1090506}, {3, 635537}}));
  QCOMPARE(int(l.labels[l.geom.index(96, 86, 0)]), 1);
  QCOMPARE(int(l.labels[l.geom.index(97, 87, 1)]), 2);
  QCOMPARE(int(l.labels[l.geom.index(98, 84, 2)]), 3);
  // This file has qform and sform (both code 1); same geometry as t1.
  QCOMPARE(QString::fromStdString(l.geom.orientationCode()), QString("RAS"));
  QCOMPARE(l.geom.origin, (std::array<double, 3>{98, 134, -72}));
}

void TestNifti::readsCtExample() {
  JSEG_REQUIRE_DATA("ct-organs/example_ct_sm.nii.gz");
  const Volume v = NiftiIO::read(test::sharedData("ct-organs/example_ct_sm.nii.gz"));
  QCOMPARE(v.dims(), (std::array<int64_t, 3>{122, 101, 30}));
  QCOMPARE(v.originalType, PixelType::Int16);
  for (int i = 0; i < 3; ++i) QCOMPARE(v.geom.spacing[i], 3.0);
  QCOMPARE(QString::fromStdString(v.geom.orientationCode()), QString("RAS"));
  // srow offsets (-177.9563, 11.319, 94.30176) in RAS, stored as float32.
  QVERIFY(std::fabs(v.geom.origin[0] - 177.95632934570312) < 1e-9);
  QVERIFY(std::fabs(v.geom.origin[1] + 11.319000244140625) < 1e-9);
  QVERIFY(std::fabs(v.geom.origin[2] - 94.3017578125) < 1e-9);
  QCOMPARE(v.range()[0], -1100.f);
  QCOMPARE(v.range()[1], 1207.f);
  QCOMPARE(v.at(0, 0, 0), -1024.f);
  QCOMPARE(v.at(121, 100, 29), -997.f);
  QCOMPARE(v.at(30, 70, 10), -122.f);
  QCOMPARE(v.at(90, 40, 20), 33.f);
  double sum = 0;
  for (float x : v.voxels) sum += x;
  QCOMPARE(sum, -130894872.0);
}

void TestNifti::readsCtSegmentation() {
  JSEG_REQUIRE_DATA("ct-organs/example_seg.nii.gz");
  // vox_offset 13168: the file carries header extensions that must be skipped.
  const LabelVolume l = NiftiIO::readLabels(test::sharedData("ct-organs/example_seg.nii.gz"));
  QCOMPARE(l.geom.dims, (std::array<int64_t, 3>{122, 101, 30}));
  QCOMPARE(l.maxLabel(), 117);
  std::map<int, std::size_t> counts;
  for (uint16_t x : l.labels) ++counts[x];
  QCOMPARE(counts.size(), std::size_t(42));
  QCOMPARE(counts[0], std::size_t(259435));
  QCOMPARE(counts[5], std::size_t(38634));
  QCOMPARE(counts[20], std::size_t(12993));
  QCOMPARE(counts[13], std::size_t(1));
  QCOMPARE(int(l.labels[l.geom.index(30, 70, 10)]), 20);
  QCOMPARE(int(l.labels[l.geom.index(90, 40, 20)]), 5);
}

void TestNifti::roundTripsEveryType_data() {
  QTest::addColumn<int>("type");
  QTest::addColumn<QString>("ext");
  const PixelType types[] = {PixelType::UInt8,  PixelType::Int8,  PixelType::UInt16,  PixelType::Int16,
                             PixelType::UInt32, PixelType::Int32, PixelType::Float32, PixelType::Float64};
  for (PixelType t : types)
    for (const char* ext : {".nii", ".nii.gz"})
      QTest::newRow((std::string(pixelTypeName(t)) + ext).c_str()) << int(t) << QString(ext);
}

void TestNifti::roundTripsEveryType() {
  QFETCH(int, type);
  QFETCH(QString, ext);
  const auto t = static_cast<PixelType>(type);
  Volume v;
  v.geom = obliqueGeometry(11, 7, 5);
  v.originalType = t;
  v.voxels.resize(v.geom.voxelCount());
  const bool isSigned = t == PixelType::Int8 || t == PixelType::Int16 || t == PixelType::Int32 ||
                        t == PixelType::Float32 || t == PixelType::Float64;
  const bool isFloat = t == PixelType::Float32 || t == PixelType::Float64;
  for (std::size_t i = 0; i < v.voxels.size(); ++i) {
    float x = float(i % 120);
    if (isSigned) x -= 60;
    if (isFloat) x = x * 0.37f + 0.125f;
    v.voxels[i] = x;
  }
  // The extremes of each type survive.
  if (t == PixelType::UInt16) v.voxels[0] = 65535;
  if (t == PixelType::Int16) v.voxels[0] = -32768;
  if (t == PixelType::Int8) v.voxels[0] = -128;
  if (t == PixelType::UInt32) v.voxels[0] = 16777216;
  const std::string dir = test::tempDir("nifti-rt");
  const std::string path = dir + "/vol" + ext.toStdString();
  NiftiIO::write(v, path);
  QVERIFY(NiftiIO::looksLikeNifti(path));
  const std::string head = jseg::test::readFileBytes(path).substr(0, 2);
  QCOMPARE(head == "\x1f\x8b", ext.endsWith(".gz"));
  const Volume back = NiftiIO::read(path);
  QCOMPARE(back.originalType, t);
  QVERIFY(back.voxels == v.voxels);
  compareGeometry(back.geom, v.geom);
  QVERIFY(back.warnings.empty());
  // Nothing but the target in the folder (no temporary file left).
  QCOMPARE(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), std::ptrdiff_t(1));
}

void TestNifti::qformAloneGivesTheSameGeometry() {
  Volume v = test::rampVolume(6, 5, 4);
  v.geom = obliqueGeometry(6, 5, 4);
  const std::string path = test::tempDir("nifti-q") + "/q.nii";
  NiftiIO::write(v, path);
  std::string bytes = jseg::test::readFileBytes(path);
  const int16_t zero = 0;
  std::memcpy(&bytes[254], &zero, 2);  // sform_code = 0: the quaternion alone must carry the geometry
  jseg::test::writeFileBytes(path, bytes);
  const Volume q = NiftiIO::read(path);
  compareGeometry(q.geom, v.geom);
  QVERIFY(q.voxels == v.voxels);

  // A right-handed oblique frame as well (qfac = +1).
  Volume r = test::rampVolume(3, 3, 3);
  r.geom = obliqueGeometry(3, 3, 3);
  for (int row = 0; row < 3; ++row) r.geom.direction[row * 3 + 1] = -r.geom.direction[row * 3 + 1];
  NiftiIO::write(r, path);
  bytes = jseg::test::readFileBytes(path);
  std::memcpy(&bytes[254], &zero, 2);
  jseg::test::writeFileBytes(path, bytes);
  compareGeometry(NiftiIO::read(path).geom, r.geom);
}

void TestNifti::roundsAndClampsIntegerTypes() {
  Volume v;
  v.geom.dims = {6, 1, 1};
  v.voxels = {-3.f, 2.5f, 2.4f, 300.f, 254.6f, std::nanf("")};
  v.originalType = PixelType::UInt8;
  const std::string path = test::tempDir("nifti-clamp") + "/c.nii.gz";
  NiftiIO::write(v, path);
  const Volume back = NiftiIO::read(path);
  QCOMPARE(back.voxels, (std::vector<float>{0, 3, 2, 255, 255, 0}));
  v.originalType = PixelType::Int16;
  v.voxels = {-40000.f, -2.5f, 40000.f, 7.49f, 0.f, 1.f};
  NiftiIO::write(v, path);
  QCOMPARE(NiftiIO::read(path).voxels, (std::vector<float>{-32768, -3, 32767, 7, 0, 1}));
}

void TestNifti::roundTripsLabels() {
  const std::string dir = test::tempDir("nifti-labels");
  LabelVolume l = makeLabelVolume(obliqueGeometry(9, 8, 7));
  for (std::size_t i = 0; i < l.labels.size(); ++i) l.labels[i] = uint16_t(i % 5);
  NiftiIO::writeLabels(l, dir + "/small.nii.gz");
  std::string raw = gunzip(dir + "/small.nii.gz");
  int16_t dt = 0;
  std::memcpy(&dt, &raw[70], 2);
  QCOMPARE(int(dt), 2);  // uint8
  LabelVolume back = NiftiIO::readLabels(dir + "/small.nii.gz");
  QVERIFY(back.labels == l.labels);
  compareGeometry(back.geom, l.geom);

  l.labels[3] = 256;
  l.labels[4] = 65535;
  NiftiIO::writeLabels(l, dir + "/big.nii");
  raw = jseg::test::readFileBytes(dir + "/big.nii");
  std::memcpy(&dt, &raw[70], 2);
  QCOMPARE(int(dt), 512);  // uint16
  QCOMPARE(raw.size(), std::size_t(352 + 2 * 9 * 8 * 7));
  back = NiftiIO::readLabels(dir + "/big.nii");
  QVERIFY(back.labels == l.labels);
}

void TestNifti::rejectsNonIntegerLabels() {
  const std::string dir = test::tempDir("nifti-badlabels");
  Volume v;
  v.geom.dims = {3, 1, 1};
  v.originalType = PixelType::Float32;
  v.voxels = {0.f, 1.f, 2.f};
  NiftiIO::write(v, dir + "/ok.nii");
  QCOMPARE(NiftiIO::readLabels(dir + "/ok.nii").labels, (std::vector<uint16_t>{0, 1, 2}));
  for (float bad : {1.5f, -1.f, 70000.f}) {
    v.voxels[1] = bad;
    NiftiIO::write(v, dir + "/bad.nii");
    bool in = false, res = false;
    const QString msg = errorOf([&] { NiftiIO::readLabels(dir + "/bad.nii"); }, in, res);
    QVERIFY2(in, qPrintable(msg));
    QVERIFY2(msg.contains("label"), qPrintable(msg));
  }
}

void TestNifti::readsBigEndianHeader() {
  HeaderBuilder h(true);
  h.dims({3, 2, 2, 2, 1, 1, 1, 1}).type(4, 16).pixdim(1, 0.5f, 0.75f, 2.f);
  h.put<int16_t>(252, 0).put<int16_t>(254, 1);  // sform only
  // srow: RAS affine diag(0.5, 0.75, 2) with offset (10, 20, 30).
  const float srow[12] = {0.5f, 0, 0, 10, 0, 0.75f, 0, 20, 0, 0, 2, 30};
  for (int i = 0; i < 12; ++i) h.put<float>(280 + 4 * i, srow[i]);
  h.data(std::vector<int16_t>{-300, 1, 2, 3, 4, 5, 6, 32767});
  const std::string path = test::tempDir("nifti-be") + "/be.nii";
  jseg::test::writeFileBytes(path, h.bytes());
  QVERIFY(NiftiIO::looksLikeNifti(path));
  const Volume v = NiftiIO::read(path);
  QCOMPARE(v.voxels, (std::vector<float>{-300, 1, 2, 3, 4, 5, 6, 32767}));
  QCOMPARE(v.originalType, PixelType::Int16);
  QCOMPARE(v.geom.spacing, (std::array<double, 3>{0.5, 0.75, 2}));
  QCOMPARE(v.geom.origin, (std::array<double, 3>{-10, -20, 30}));
  QCOMPARE(QString::fromStdString(v.geom.orientationCode()), QString("RAS"));
}

void TestNifti::appliesScaling() {
  HeaderBuilder h(false);
  h.dims({3, 4, 1, 1, 1, 1, 1, 1}).type(2, 8).pixdim(1, 1, 1, 1).put<int16_t>(252, 1);
  h.put<float>(112, 2.0f).put<float>(116, -10.0f);
  h.data(std::vector<uint8_t>{0, 1, 5, 255});
  const std::string dir = test::tempDir("nifti-scl");
  jseg::test::writeFileBytes(dir + "/s.nii", h.bytes());
  Volume v = NiftiIO::read(dir + "/s.nii");
  QCOMPARE(v.voxels, (std::vector<float>{-10, -8, 0, 500}));
  QCOMPARE(v.originalType, PixelType::Float32);  // scaled values no longer fit uint8
  // slope 0 means "no scaling".
  h.put<float>(112, 0.0f);
  jseg::test::writeFileBytes(dir + "/s.nii", h.bytes());
  v = NiftiIO::read(dir + "/s.nii");
  QCOMPARE(v.voxels, (std::vector<float>{0, 1, 5, 255}));
  QCOMPARE(v.originalType, PixelType::UInt8);
}

void TestNifti::usesFirstVolumeOf4D() {
  HeaderBuilder h(false);
  h.dims({4, 2, 1, 1, 3, 1, 1, 1}).type(512, 16).pixdim(1, 1, 1, 1).put<int16_t>(252, 1);
  h.data(std::vector<uint16_t>{7, 8, 100, 101, 200, 201});
  const std::string dir = test::tempDir("nifti-4d");
  jseg::test::writeFileBytes(dir + "/t.nii", h.bytes());
  Volume v = NiftiIO::read(dir + "/t.nii");
  QCOMPARE(v.voxels, (std::vector<float>{7, 8}));
  QCOMPARE(v.warnings.size(), std::size_t(1));
  QVERIFY(QString::fromStdString(v.warnings[0]).contains("3 volumes"));
  // dim[0] = 4 with one volume: no warning.
  h.dims({4, 2, 1, 1, 1, 1, 1, 1});
  jseg::test::writeFileBytes(dir + "/t.nii", h.bytes());
  v = NiftiIO::read(dir + "/t.nii");
  QVERIFY(v.warnings.empty());
  QCOMPARE(v.voxels, (std::vector<float>{7, 8}));
}

void TestNifti::analyzeStyleHeaderWarns() {
  HeaderBuilder h(false);
  h.dims({3, 2, 1, 1, 1, 1, 1, 1}).type(16, 32).pixdim(1, 0.25f, 0.5f, 4.f);  // no qform, no sform
  h.data(std::vector<float>{1.5f, -2.5f});
  const std::string path = test::tempDir("nifti-analyze") + "/a.nii";
  jseg::test::writeFileBytes(path, h.bytes());
  const Volume v = NiftiIO::read(path);
  QCOMPARE(v.voxels, (std::vector<float>{1.5f, -2.5f}));
  QCOMPARE(v.geom.spacing, (std::array<double, 3>{0.25, 0.5, 4}));
  QCOMPARE(QString::fromStdString(v.geom.orientationCode()), QString("RAS"));
  QCOMPARE(v.warnings.size(), std::size_t(1));
  QVERIFY(QString::fromStdString(v.warnings[0]).contains("orientation"));
}

void TestNifti::rejectsBrokenFiles() {
  const std::string dir = test::tempDir("nifti-bad");
  bool in = false, res = false;
  QString msg;

  msg = errorOf([&] { NiftiIO::read(dir + "/missing.nii"); }, in, res);
  QVERIFY2(in && msg.contains("not found"), qPrintable(msg));

  jseg::test::writeFileBytes(dir + "/text.nii", "this is a text file, not an image\n");
  QVERIFY(!NiftiIO::looksLikeNifti(dir + "/text.nii"));
  msg = errorOf([&] { NiftiIO::read(dir + "/text.nii"); }, in, res);
  QVERIFY2(in && msg.contains("text.nii"), qPrintable(msg));

  HeaderBuilder h(false);
  h.dims({3, -5, 4, 4, 1, 1, 1, 1}).type(2, 8).pixdim(1, 1, 1, 1);
  jseg::test::writeFileBytes(dir + "/neg.nii", h.bytes() + std::string(100, '\0'));
  msg = errorOf([&] { NiftiIO::read(dir + "/neg.nii"); }, in, res);
  QVERIFY2(in && msg.contains("dim[1] = -5"), qPrintable(msg));

  // 10000^3 = 10^12 voxels claimed by a 352-byte file.
  HeaderBuilder huge(false);
  huge.dims({3, 10000, 10000, 10000, 1, 1, 1, 1}).type(2, 8).pixdim(1, 1, 1, 1);
  jseg::test::writeFileBytes(dir + "/huge.nii", huge.bytes());
  msg = errorOf([&] { NiftiIO::read(dir + "/huge.nii"); }, in, res);
  QVERIFY2((in || res) && msg.contains("10000x10000x10000"), qPrintable(msg));
  {
    // The same header gzipped: compressed files are bounded by deflate's maximum ratio.
    gzFile f = gzopen((dir + "/huge.nii.gz").c_str(), "wb");
    const std::string b = huge.bytes();
    gzwrite(f, b.data(), unsigned(b.size()));
    gzclose(f);
  }
  msg = errorOf([&] { NiftiIO::read(dir + "/huge.nii.gz"); }, in, res);
  QVERIFY2((in || res) && msg.contains("truncated"), qPrintable(msg));

  HeaderBuilder rgb(false);
  rgb.dims({3, 2, 2, 1, 1, 1, 1, 1}).type(128, 24).pixdim(1, 1, 1, 1);
  jseg::test::writeFileBytes(dir + "/rgb.nii", rgb.bytes() + std::string(12, '\0'));
  msg = errorOf([&] { NiftiIO::read(dir + "/rgb.nii"); }, in, res);
  QVERIFY2(in && msg.contains("RGB"), qPrintable(msg));

  HeaderBuilder cplx(false);
  cplx.dims({3, 2, 2, 1, 1, 1, 1, 1}).type(32, 64).pixdim(1, 1, 1, 1);
  jseg::test::writeFileBytes(dir + "/c.nii", cplx.bytes() + std::string(32, '\0'));
  msg = errorOf([&] { NiftiIO::read(dir + "/c.nii"); }, in, res);
  QVERIFY2(in && msg.contains("complex"), qPrintable(msg));

  // Truncated plain .nii: header fine, data short.
  HeaderBuilder shortData(false);
  shortData.dims({3, 10, 10, 10, 1, 1, 1, 1}).type(4, 16).pixdim(1, 1, 1, 1);
  jseg::test::writeFileBytes(dir + "/short.nii", shortData.bytes() + std::string(1000, '\0'));
  msg = errorOf([&] { NiftiIO::read(dir + "/short.nii"); }, in, res);
  QVERIFY2(in && msg.contains("truncated"), qPrintable(msg));

  if (test::haveSharedData("mni152/t1.nii.gz")) {
    // A real .nii.gz cut in half: the gzip stream ends early.
    const std::string whole = jseg::test::readFileBytes(test::sharedData("mni152/t1.nii.gz"));
    jseg::test::writeFileBytes(dir + "/cut.nii.gz", whole.substr(0, whole.size() / 2));
    QVERIFY(NiftiIO::looksLikeNifti(dir + "/cut.nii.gz"));
    msg = errorOf([&] { NiftiIO::read(dir + "/cut.nii.gz"); }, in, res);
    QVERIFY2(in && msg.contains("truncated"), qPrintable(msg));
  }

  // Writing into a missing folder fails before anything is written.
  Volume v = test::rampVolume(2, 2, 2);
  msg = errorOf([&] { NiftiIO::write(v, dir + "/no/such/folder/v.nii"); }, in, res);
  QVERIFY2(in && msg.contains("does not exist"), qPrintable(msg));
}

void TestNifti::refusesVolumesLargerThanMemory() {
  // A sparse file really holding 10^12 bytes of voxels (no disk used): the reader must refuse for
  // memory reasons instead of trying to allocate 4 TB.
  HeaderBuilder huge(false);
  huge.dims({3, 10000, 10000, 10000, 1, 1, 1, 1}).type(2, 8).pixdim(1, 1, 1, 1);
  const std::string path = test::tempDir("nifti-mem") + "/sparse.nii";
  jseg::test::writeFileBytes(path, huge.bytes());
  if (::truncate(path.c_str(), 352 + 1000000000000LL) != 0) QSKIP("file system has no sparse 1 TB files");
  bool in = false, res = false;
  const QString msg = errorOf([&] { NiftiIO::read(path); }, in, res);
  fs::remove(path);
  QVERIFY2(res && msg.contains("memory"), qPrintable(msg));
}

void TestNifti::cancelsReading() {
  JSEG_REQUIRE_DATA("mni152/t1.nii.gz");
  auto token = std::make_shared<CancelToken>();
  TaskContext ctx;
  ctx.cancel = token;
  int calls = 0;
  ctx.progress = [&](double, const std::string&) {
    if (++calls == 1) token->cancel();
  };
  QVERIFY_THROWS_EXCEPTION(CancelledError, NiftiIO::read(test::sharedData("mni152/t1.nii.gz"), &ctx));
}

QTEST_GUILESS_MAIN(TestNifti)
#include "test_nifti.moc"
