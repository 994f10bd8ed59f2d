// ctest-links: juleseg_io TIFF::TIFF ZLIB::ZLIB
// Labels other tools open with their names and colours (issue 17): each file is read back here with a reader
// of the test's own (header text parsed by hand, the gzip payload inflated with zlib, the TIFF tags read with
// libtiff), and names, colours, voxel values and geometry are compared with what was written.
#include <QtTest>

#include <tiffio.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "core/base/Errors.h"
#include "core/io/ImageJLut.h"
#include "core/io/ItkSnapLabelFile.h"
#include "core/io/LabelMapFile.h"
#include "core/io/NiftiIO.h"
#include "core/io/SlicerColorTable.h"
#include "core/io/SlicerSegmentationFile.h"
#include "core/io/TiffStackReader.h"
#include "tests/common/TestData.h"

using namespace jseg;
namespace fs = std::filesystem;

namespace {

// 5 x 4 x 3 labels on an oblique LPS grid: 1 on voxel (1,2,0), 2 on the slab z = 2 with x >= 3, 3 on (0,0,1);
// spacing 0.5 x 0.75 x 2, index x along world -y, y along world +x, z along +z, origin (10, -20, 30).
LabelVolume sceneLabels(uint16_t big = 0) {
  Geometry g;
  g.dims = {5, 4, 3};
  g.spacing = {0.5, 0.75, 2.0};
  g.origin = {10, -20, 30};
  g.direction = {0, 1, 0, -1, 0, 0, 0, 0, 1};
  LabelVolume l = makeLabelVolume(g);
  l.labels[g.index(1, 2, 0)] = 1;
  for (int y = 0; y < 4; ++y)
    for (int x = 3; x < 5; ++x) l.labels[g.index(x, y, 2)] = 2;
  l.labels[g.index(0, 0, 1)] = big ? big : 3;
  return l;
}

std::vector<LabelInfo> sceneTable(int third = 3) {
  return {{1, "Tumour core", {255, 0, 0}, true}, {2, "Oedema", {0, 200, 10}, true}, {third, "Normal \"lung\"", {7, 8, 250}, false}};
}

std::string readText(const std::string& path) { return test::readFileBytes(path); }

struct Nrrd {
  std::string magic;
  std::map<std::string, std::string> fields, keys;
  std::string payload;
};

Nrrd parseNrrd(const std::string& bytes) {
  Nrrd n;
  std::size_t pos = 0;
  auto nextLine = [&] {
    const auto e = bytes.find('\n', pos);
    std::string line = bytes.substr(pos, e - pos);
    pos = e + 1;
    return line;
  };
  n.magic = nextLine();
  for (std::string line; !(line = nextLine()).empty();) {
    if (line[0] == '#') continue;
    const auto kv = line.find(":="), f = line.find(": ");
    if (kv != std::string::npos && (f == std::string::npos || kv < f)) n.keys[line.substr(0, kv)] = line.substr(kv + 2);
    else n.fields[line.substr(0, f)] = line.substr(f + 2);
  }
  n.payload = bytes.substr(pos);
  return n;
}

std::string gunzip(const std::string& data) {
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  inflateInit2(&zs, 16 + MAX_WBITS);  // gzip wrapper only: NRRD's "gzip" encoding
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = uInt(data.size());
  std::string out;
  char buf[4096];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string("inflate failed");
}

} // namespace

class TestLabelInterop : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void itkSnapLabelFileHasItkSnapsLayout() {
    const std::string path = test::tempDir("itksnap") + "/labels.itksnap.txt";
    writeItkSnapLabelFile(sceneTable(), path);
    const std::string text = readText(path);
    QVERIFY(text.rfind("################################################\n# ITK-SnAP Label Description File\n", 0) == 0);
    std::vector<std::string> lines;
    std::istringstream s(text);
    for (std::string line; std::getline(s, line);)
      if (!line.empty() && line[0] != '#') lines.push_back(line);
    QCOMPARE(lines.size(), std::size_t(4));
    QCOMPARE(lines[0], std::string("    0     0    0    0        0  0  0    \"Clear Label\""));
    QCOMPARE(lines[1], std::string("    1   255    0    0        1  1  1    \"Tumour core\""));
    QCOMPARE(lines[2], std::string("    2     0  200   10        1  1  1    \"Oedema\""));
    // Invisible: hidden in slices and meshes; ITK-SNAP cannot quote a double quote, so it becomes a single one.
    QCOMPARE(lines[3], std::string("    3     7    8  250        1  0  0    \"Normal 'lung'\""));
    const auto back = readItkSnapLabelFile(path);
    QCOMPARE(back.size(), std::size_t(3));
    QCOMPARE(back[1].name, std::string("Oedema"));
    QVERIFY(back[1].rgb == (std::array<uint8_t, 3>{0, 200, 10}));
    QVERIFY(back[1].visible && !back[2].visible);
  }

  void slicerColourTableLines() {
    const std::string path = test::tempDir("ctbl") + "/labels.ctbl";
    writeSlicerColorTable(sceneTable(), path);
    std::vector<std::string> lines;
    std::istringstream s(readText(path));
    for (std::string line; std::getline(s, line);)
      if (!line.empty() && line[0] != '#') lines.push_back(line);
    QCOMPARE(lines.size(), std::size_t(4));
    QCOMPARE(lines[0], std::string("0 Background 0 0 0 0"));
    QCOMPARE(lines[1], std::string("1 Tumour_core 255 0 0 255"));
    QCOMPARE(lines[2], std::string("2 Oedema 0 200 10 255"));
    QCOMPARE(lines[3], std::string("3 Normal_\"lung\" 7 8 250 0"));
    const auto back = readSlicerColorTable(path);
    QCOMPARE(back.size(), std::size_t(3));
    QCOMPARE(back[0].name, std::string("Tumour_core"));
    QVERIFY(back[2].rgb == (std::array<uint8_t, 3>{7, 8, 250}));
  }

  void slicerSegmentationHeaderAndVoxels() {
    const LabelVolume l = sceneLabels();
    const std::string path = test::tempDir("segnrrd") + "/labels.seg.nrrd";
    writeSlicerSegmentation(l, sceneTable(), path);
    const Nrrd n = parseNrrd(readText(path));
    QCOMPARE(n.magic, std::string("NRRD0004"));
    QCOMPARE(n.fields.at("type"), std::string("unsigned char"));
    QCOMPARE(n.fields.at("dimension"), std::string("3"));
    QCOMPARE(n.fields.at("space"), std::string("left-posterior-superior"));
    QCOMPARE(n.fields.at("sizes"), std::string("5 4 3"));
    // Column j of the direction times spacing j: x -> (0,-0.5,0), y -> (0.75,0,0), z -> (0,0,2).
    QCOMPARE(n.fields.at("space directions"), std::string("(0,-0.5,0) (0.75,0,0) (0,0,2)"));
    QCOMPARE(n.fields.at("space origin"), std::string("(10,-20,30)"));
    QCOMPARE(n.fields.at("encoding"), std::string("gzip"));
    QCOMPARE(n.keys.at("Segment0_ID"), std::string("Segment_1"));
    QCOMPARE(n.keys.at("Segment0_Name"), std::string("Tumour core"));
    QCOMPARE(n.keys.at("Segment0_LabelValue"), std::string("1"));
    QCOMPARE(n.keys.at("Segment0_Layer"), std::string("0"));
    QCOMPARE(n.keys.at("Segment0_Color"), std::string("1 0 0"));
    QCOMPARE(n.keys.at("Segment0_Extent"), std::string("1 1 2 2 0 0"));
    QCOMPARE(n.keys.at("Segment0_ColorAutoGenerated"), std::string("0"));
    QCOMPARE(n.keys.at("Segment0_NameAutoGenerated"), std::string("0"));
    QVERIFY(n.keys.count("Segment0_Tags"));
    QCOMPARE(n.keys.at("Segment1_Name"), std::string("Oedema"));
    QCOMPARE(n.keys.at("Segment1_Extent"), std::string("3 4 0 3 2 2"));
    QCOMPARE(n.keys.at("Segment1_Color"), std::string("0 0.7843137255 0.03921568627"));
    QCOMPARE(n.keys.at("Segment2_LabelValue"), std::string("3"));
    QCOMPARE(n.keys.at("Segmentation_MasterRepresentation"), std::string("Binary labelmap"));
    QVERIFY(!n.keys.count("Segment3_ID"));
    const std::string voxels = gunzip(n.payload);
    QCOMPARE(voxels.size(), std::size_t(60));
    QCOMPARE(int(uint8_t(voxels[l.geom.index(1, 2, 0)])), 1);
    QCOMPARE(int(uint8_t(voxels[l.geom.index(4, 3, 2)])), 2);
    QCOMPARE(int(uint8_t(voxels[l.geom.index(0, 0, 1)])), 3);
    QCOMPARE(int(uint8_t(voxels[l.geom.index(2, 2, 2)])), 0);
    std::size_t nonzero = 0;
    for (char c : voxels) nonzero += c != 0;
    QCOMPARE(nonzero, std::size_t(1 + 8 + 1));

    const SlicerSegmentation back = readSlicerSegmentation(path);
    QVERIFY(back.labels.labels == l.labels);
    for (int i = 0; i < 3; ++i) {
      QVERIFY(std::abs(back.labels.geom.spacing[i] - l.geom.spacing[i]) < 1e-9);
      QVERIFY(std::abs(back.labels.geom.origin[i] - l.geom.origin[i]) < 1e-9);
    }
    for (int i = 0; i < 9; ++i) QVERIFY(std::abs(back.labels.geom.direction[i] - l.geom.direction[i]) < 1e-9);
    QCOMPARE(back.table.size(), std::size_t(3));
    QCOMPARE(back.table[2].name, std::string("Normal \"lung\""));
    QVERIFY(back.table[1].rgb == (std::array<uint8_t, 3>{0, 200, 10}));
  }

  void slicerSegmentationSixteenBit() {
    const LabelVolume l = sceneLabels(300);
    const std::string path = test::tempDir("segnrrd16") + "/labels.seg.nrrd";
    writeSlicerSegmentation(l, sceneTable(300), path);
    const Nrrd n = parseNrrd(readText(path));
    QCOMPARE(n.fields.at("type"), std::string("unsigned short"));
    QCOMPARE(n.fields.at("endian"), std::string("little"));
    QCOMPARE(n.keys.at("Segment2_LabelValue"), std::string("300"));
    QCOMPARE(n.keys.at("Segment2_Extent"), std::string("0 0 0 0 1 1"));
    const std::string voxels = gunzip(n.payload);
    QCOMPARE(voxels.size(), std::size_t(120));
    const std::size_t i = l.geom.index(0, 0, 1);
    QCOMPARE(int(uint8_t(voxels[2 * i])) | int(uint8_t(voxels[2 * i + 1])) << 8, 300);
    QVERIFY(readSlicerSegmentation(path).labels.labels == l.labels);
  }

  void labelTiffCarriesTheColoursAsAnImageJLut() {
    LabelVolume l = sceneLabels();
    l.geom.direction = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    const std::string path = test::tempDir("tifflut") + "/labels.tif";
    writeTiffLabels(l, path, sceneTable());
    TIFF* tif = TIFFOpen(path.c_str(), "r");
    QVERIFY(tif);
    uint32_t nCounts = 0, nBytes = 0;
    uint32_t* counts = nullptr;
    uint8_t* bytes = nullptr;
    QCOMPARE(TIFFGetField(tif, 50838, &nCounts, &counts), 1);
    QCOMPARE(TIFFGetField(tif, 50839, &nBytes, &bytes), 1);
    QCOMPARE(nCounts, uint32_t(2));
    QCOMPARE(counts[0], uint32_t(12));  // "IJIJ", then one (type, count) pair
    QCOMPARE(counts[1], uint32_t(768));
    QCOMPARE(nBytes, uint32_t(12 + 768));
    const bool big = TIFFIsBigEndian(tif);
    auto int32At = [&](int off) {
      uint32_t v = 0;
      for (int b = 0; b < 4; ++b) v |= uint32_t(bytes[off + b]) << (big ? 8 * (3 - b) : 8 * b);
      return v;
    };
    QCOMPARE(int32At(0), uint32_t(0x494a494a));  // "IJIJ"
    QCOMPARE(int32At(4), uint32_t(0x6c757473));  // "luts"
    QCOMPARE(int32At(8), uint32_t(1));
    const uint8_t* lut = bytes + 12;
    auto rgb = [&](int i) { return std::array<int, 3>{lut[i], lut[256 + i], lut[512 + i]}; };
    QVERIFY(rgb(0) == (std::array<int, 3>{0, 0, 0}));
    QVERIFY(rgb(1) == (std::array<int, 3>{255, 0, 0}));
    QVERIFY(rgb(2) == (std::array<int, 3>{0, 200, 10}));
    QVERIFY(rgb(3) == (std::array<int, 3>{7, 8, 250}));
    const auto d4 = defaultLabelTable(4)[3].rgb;  // an id the table does not name keeps its default colour
    QVERIFY(rgb(4) == (std::array<int, 3>{d4[0], d4[1], d4[2]}));
    // The display range maps values onto LUT entries one to one; spacing as before (description + resolution).
    char* desc = nullptr;
    QVERIFY(TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &desc));
    const std::string d(desc);
    QVERIFY2(d.find("min=0\nmax=255\n") != std::string::npos, desc);
    QVERIFY2(d.find("spacing=2\n") != std::string::npos && d.find("unit=mm\n") != std::string::npos, desc);
    float xres = 0;
    QVERIFY(TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xres));
    QCOMPARE(xres, 2.0f);
    std::vector<uint8_t> row(5);
    for (uint32_t y = 0; y <= 2; ++y) QVERIFY(TIFFReadScanline(tif, row.data(), y, 0) == 1);  // deflate: in order
    QCOMPARE(int(row[1]), 1);
    TIFFClose(tif);

    // Our reader gets the colours back, and the voxels.
    const LabelMap m = readLabelMap(path);
    QCOMPARE(m.tablePath, path);
    QCOMPARE(m.table.size(), std::size_t(3));
    QVERIFY(m.table[2].rgb == (std::array<uint8_t, 3>{7, 8, 250}));
    QVERIFY(m.labels.labels == l.labels);
  }

  void labelTiffWithoutTableHasNoLut() {
    const std::string path = test::tempDir("tiffnolut") + "/labels.tif";
    writeTiffLabels(sceneLabels(), path);
    QVERIFY(!readImageJLut(path));
  }

  void niftiWithItkSnapFileBesideOpensWithNames() {
    const std::string dir = test::tempDir("labelmap");
    const LabelVolume l = sceneLabels();
    NiftiIO::writeLabels(l, dir + "/run3.nii.gz");
    writeItkSnapLabelFile(sceneTable(), dir + "/run3.itksnap.txt");
    const LabelMap m = readLabelMap(dir + "/run3.nii.gz");
    QCOMPARE(m.tablePath, dir + "/run3.itksnap.txt");
    QCOMPARE(m.table.size(), std::size_t(3));
    QCOMPARE(m.table[0].name, std::string("Tumour core"));
    QVERIFY(m.labels.labels == l.labels);
    // A folder opens as a result; labels present but not named get defaults.
    LabelVolume more = l;
    more.labels[0] = 9;
    NiftiIO::writeLabels(more, dir + "/labels.nii.gz");
    const LabelMap r = readLabelMap(dir);
    QCOMPARE(r.labelsPath, (fs::path(dir) / "labels.nii.gz").string());
    QCOMPARE(r.table.size(), std::size_t(4));
    QCOMPARE(r.table[3].id, 9);
    QCOMPARE(r.table[3].name, std::string("Region 9"));
  }

  void badFilesAreInputErrors() {
    const std::string dir = test::tempDir("interopbad");
    test::writeFileBytes(dir + "/a.itksnap.txt", "# x\n  1 2 3\n");
    QVERIFY_THROWS_EXCEPTION(InputError, readItkSnapLabelFile(dir + "/a.itksnap.txt"));
    test::writeFileBytes(dir + "/a.seg.nrrd", "NRRD0004\ntype: float\ndimension: 3\nsizes: 1 1 1\nencoding: raw\n\nxxxx");
    QVERIFY_THROWS_EXCEPTION(InputError, readSlicerSegmentation(dir + "/a.seg.nrrd"));
    test::writeFileBytes(dir + "/b.seg.nrrd", "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 4 4 4\nencoding: gzip\n\nxxxx");
    QVERIFY_THROWS_EXCEPTION(InputError, readSlicerSegmentation(dir + "/b.seg.nrrd"));
    QVERIFY_THROWS_EXCEPTION(InputError, readLabelMap(dir + "/missing.nii.gz"));
    QVERIFY_THROWS_EXCEPTION(InputError, readLabelMap(dir));
  }
};

QTEST_GUILESS_MAIN(TestLabelInterop)
#include "test_label_interop.moc"
