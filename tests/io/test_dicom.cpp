// ctest-links: juleseg_io
// DICOM series reading on real data. Expected voxel values were decoded independently of DCMTK's
// pixel path: uncompressed files with `dcmdump +W` (raw pixel bytes, read with Python's array module),
// JPEG 2000 slices by extracting the codestream with `dcmdump +W` and decoding it with the
// `opj_decompress` command-line tool, then subtracting the RescaleIntercept (1024). Slice order and
// geometry were read from `dcmdump` (ImagePositionPatient, ImageOrientationPatient, PixelSpacing).
// The shared data has JPEG 2000 only as unsigned single-frame files, so one test re-encodes a signed
// series with OpenJPEG's encoder and wraps it with DCMTK (both reach this test through juleseg_io).
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <openjpeg-2.5/openjpeg.h>

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/base/Errors.h"
#include "core/io/DicomSeriesReader.h"
#include "core/io/NiftiIO.h"
#include "tests/common/TestData.h"

using namespace jseg;
namespace fs = std::filesystem;

namespace {

const char* kDescendingUid = "1.3.6.1.4.1.5962.1.1.0.0.0.1194734704.16302.0.6";  // CT5N, stored high to low z
const char* kScoutUid = "1.3.6.1.4.1.5962.1.1.0.0.0.1194734704.16302.0.2";       // CT2N, two orientations
const char* kGapUid = "1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.2";          // CT2, 202.5 mm gap
const char* kCrUid = "1.3.6.1.4.1.5962.1.1.0.0.0.1196527414.5534.0.10";           // CR1, single radiograph

std::string firstFile(const std::string& folder) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(folder)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files.front();
}

// Inverse of Geometry::indexToWorld for an orthonormal direction matrix.
std::array<double, 3> worldToIndex(const Geometry& g, const std::array<double, 3>& w) {
  std::array<double, 3> idx{};
  for (int c = 0; c < 3; ++c) {
    double s = 0;
    for (int r = 0; r < 3; ++r) s += g.direction[r * 3 + c] * (w[r] - g.origin[r]);
    idx[c] = s / g.spacing[c];
  }
  return idx;
}

// Lossless J2K codestream of one 16-bit slice, written to memory.
struct Sink {
  std::string bytes;
  std::size_t pos = 0;
};
OPJ_SIZE_T sinkWrite(void* buf, OPJ_SIZE_T n, void* user) {
  auto* s = static_cast<Sink*>(user);
  if (s->bytes.size() < s->pos + n) s->bytes.resize(s->pos + n);
  std::memcpy(&s->bytes[s->pos], buf, n);
  s->pos += n;
  return n;
}
OPJ_OFF_T sinkSkip(OPJ_OFF_T n, void* user) {
  static_cast<Sink*>(user)->pos += static_cast<std::size_t>(n);
  return n;
}
OPJ_BOOL sinkSeek(OPJ_OFF_T n, void* user) {
  static_cast<Sink*>(user)->pos = static_cast<std::size_t>(n);
  return OPJ_TRUE;
}

std::string encodeJ2k(const std::vector<int16_t>& px, int w, int h, bool signedStream) {
  opj_image_cmptparm_t cp{};
  cp.dx = cp.dy = 1;
  cp.w = static_cast<OPJ_UINT32>(w);
  cp.h = static_cast<OPJ_UINT32>(h);
  cp.prec = 16;
  cp.sgnd = signedStream ? 1 : 0;
  opj_image_t* img = opj_image_create(1, &cp, OPJ_CLRSPC_GRAY);
  img->x1 = cp.w;
  img->y1 = cp.h;
  for (std::size_t i = 0; i < px.size(); ++i)
    img->comps[0].data[i] = signedStream ? px[i] : static_cast<OPJ_INT32>(static_cast<uint16_t>(px[i]));
  opj_cparameters_t p;
  opj_set_default_encoder_parameters(&p);
  p.numresolution = 2;  // a 16x16 image has room for few decomposition levels
  p.tcp_numlayers = 1;
  p.tcp_rates[0] = 0;
  p.cp_disto_alloc = 1;
  opj_codec_t* codec = opj_create_compress(OPJ_CODEC_J2K);
  Sink sink;
  opj_stream_t* st = opj_stream_create(4096, OPJ_FALSE);
  opj_stream_set_user_data(st, &sink, nullptr);
  opj_stream_set_write_function(st, sinkWrite);
  opj_stream_set_skip_function(st, sinkSkip);
  opj_stream_set_seek_function(st, sinkSeek);
  const bool ok = opj_setup_encoder(codec, &p, img) && opj_start_compress(codec, img, st) && opj_encode(codec, st) &&
                  opj_end_compress(codec, st);
  opj_stream_destroy(st);
  opj_destroy_codec(codec);
  opj_image_destroy(img);
  return ok ? sink.bytes : std::string();
}

// Rewrites `templ` with JPEG 2000 pixel data: one codestream per frame, each split into two fragments
// (readers must concatenate them), with or without a basic offset table.
bool writeJ2kDicom(const std::string& templ, const std::string& out, const std::vector<std::string>& frames,
                   bool offsetTable) {
  DcmFileFormat ff;
  if (ff.loadFile(templ.c_str()).bad()) return false;
  DcmDataset* ds = ff.getDataset();
  for (unsigned long i = ds->card(); i-- > 0;)
    if (ds->getElement(i)->getTag().isPrivate()) delete ds->remove(i);
  auto* seq = new DcmPixelSequence(DcmTag(DCM_PixelSequenceTag));
  auto* bot = new DcmPixelItem(DcmTag(DCM_PixelItemTag, EVR_OB));
  seq->insert(bot);
  std::vector<Uint8> table;
  Uint32 offset = 0;
  for (std::string c : frames) {
    if (c.size() & 1) c.push_back('\0');
    for (int k = 0; k < 4; ++k) table.push_back(static_cast<Uint8>(offset >> (8 * k)));
    const std::size_t half = (c.size() / 2) & ~std::size_t(1);
    for (const std::string& part : {c.substr(0, half), c.substr(half)}) {
      auto* item = new DcmPixelItem(DcmTag(DCM_PixelItemTag, EVR_OB));
      item->putUint8Array(reinterpret_cast<const Uint8*>(part.data()), static_cast<unsigned long>(part.size()));
      seq->insert(item);
      offset += static_cast<Uint32>(8 + part.size());
    }
  }
  if (offsetTable) bot->putUint8Array(table.data(), static_cast<unsigned long>(table.size()));
  auto* pixels = new DcmPixelData(DCM_PixelData);
  pixels->putOriginalRepresentation(EXS_JPEG2000LosslessOnly, nullptr, seq);
  ds->insert(pixels, true);
  ds->putAndInsertString(DCM_RescaleIntercept, "0");
  if (frames.size() > 1) {
    ds->putAndInsertString(DCM_NumberOfFrames, std::to_string(frames.size()).c_str());
    ds->putAndInsertString(DCM_SpacingBetweenSlices, "2.5");
  }
  return ff.saveFile(out.c_str(), EXS_JPEG2000LosslessOnly).good();
}

template <typename F>
QString errorOf(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

} // namespace

class TestDicom : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void mrUncompressedSeries();
  void jpeg2000Series();
  void jpeg2000LiverMeanHu();
  void descendingSeriesIsAscendingAlongNormal();
  void gapGivesWarning();
  void dicomdirListsSeries();
  void singleRadiographWithoutPosition();
  void jpeg2000SignedAndMultiFrame();
  void mixedOrientationsRefused();
  void severalSeriesNeedChoice();
  void truncatedFilesNamed();
  void unsupportedTransferSyntaxNamed();
  void emptyAndNonDicomFolders();
  void nonDicomFilesSkipped();
  void duplicatePositionsRefused();
  void cancelStopsLoading();
  void impossibleFrameCountRefused();
};

void TestDicom::mrUncompressedSeries() {
  JSEG_REQUIRE_DATA("mr-dicom");
  const std::string dir = test::sharedData("mr-dicom");
  int reports = 0;
  double last = -1;
  bool monotonic = true;
  TaskContext ctx;
  ctx.progress = [&](double f, const std::string&) {
    if (f < last) monotonic = false;
    last = f;
    ++reports;
  };
  QElapsedTimer timer;
  timer.start();
  const Volume v = DicomSeriesReader::read(dir, {}, &ctx);
  qInfo("mr-dicom 512x512x24 loaded in %lld ms", static_cast<long long>(timer.elapsed()));

  QCOMPARE(v.dims()[0], int64_t(512));
  QCOMPARE(v.dims()[1], int64_t(512));
  QCOMPARE(v.dims()[2], int64_t(24));
  QCOMPARE(v.geom.spacing[0], 0.41015625);
  QCOMPARE(v.geom.spacing[1], 0.41015625);
  QVERIFY(std::fabs(v.geom.spacing[2] - 1.5) < 1e-6);
  QVERIFY(v.geom.spacingKnown);
  QCOMPARE(QString::fromStdString(v.geom.orientationCode()), QString("LPS"));
  QVERIFY(std::fabs(v.geom.origin[0] + 106.32680907019) < 1e-6);
  QVERIFY(std::fabs(v.geom.origin[1] + 123.07443807356) < 1e-6);
  QVERIFY(std::fabs(v.geom.origin[2] + 20.000669002533) < 1e-6);  // 1-049.dcm, the lowest slice
  QCOMPARE(QString::fromStdString(v.description), QString("t1_mpr_tra_gk_v4"));
  QVERIFY2(v.warnings.empty(), v.warnings.empty() ? "" : v.warnings.front().c_str());
  QCOMPARE(v.originalType, PixelType::Int16);
  // z = 0 is 1-049.dcm, z = 12 is 1-061.dcm, z = 23 is 1-072.dcm (voxel (x,y) = row y, column x).
  QCOMPARE(v.at(256, 256, 0), 267.f);
  QCOMPARE(v.at(100, 300, 0), 56.f);
  QCOMPARE(v.at(400, 200, 0), 181.f);
  QCOMPARE(v.at(256, 256, 12), 458.f);
  QCOMPARE(v.at(100, 300, 12), 58.f);
  QCOMPARE(v.at(256, 256, 23), 123.f);
  QCOMPARE(v.at(100, 300, 23), 464.f);
  QCOMPARE(v.at(400, 200, 23), 105.f);
  QCOMPARE(v.at(0, 0, 23), 0.f);
  QVERIFY(reports >= 48);  // per file while scanning and per slice while decoding
  QVERIFY(monotonic);
  QCOMPARE(last, 1.0);
}

void TestDicom::jpeg2000Series() {
  JSEG_REQUIRE_DATA("ct-organs/dicom-j2k");
  const std::string dir = test::sharedData("ct-organs/dicom-j2k");
  const auto list = DicomSeriesReader::listSeries(dir);
  QCOMPARE(int(list.size()), 1);
  QCOMPARE(list[0].slices, 20);
  QCOMPARE(list[0].modality, std::string("CT"));
  QCOMPARE(list[0].description, std::string("CT Body 3.0"));
  QCOMPARE(list[0].transferSyntaxUid, std::string("1.2.840.10008.1.2.4.90"));

  QElapsedTimer timer;
  timer.start();
  const Volume v = DicomSeriesReader::read(dir);
  qInfo("ct-organs/dicom-j2k 512x512x20 (JPEG 2000) loaded in %lld ms", static_cast<long long>(timer.elapsed()));
  QCOMPARE(v.dims()[0], int64_t(512));
  QCOMPARE(v.dims()[1], int64_t(512));
  QCOMPARE(v.dims()[2], int64_t(20));
  QCOMPARE(v.geom.spacing[0], 0.9765625);
  QCOMPARE(v.geom.spacing[1], 0.9765625);
  QVERIFY(std::fabs(v.geom.spacing[2] - 2.0) < 1e-9);
  QCOMPARE(QString::fromStdString(v.geom.orientationCode()), QString("LPS"));
  // Files are stored from z = -766.5 down to -804.5; the volume starts at the lowest one.
  QVERIFY(std::fabs(v.geom.origin[2] + 804.5) < 1e-9);
  QVERIFY(std::fabs(v.geom.origin[0] + 249.51171875) < 1e-9);
  QVERIFY(v.warnings.empty());
  QCOMPARE(v.originalType, PixelType::Int16);
  const auto range = v.range();
  QCOMPARE(range[0], -1024.f);
  QVERIFY(range[1] > 1000.f && range[1] < 3072.f);
  // opj_decompress on ...16592 (z = -804.5), ...16582 (z = -784.5), ...16573 (z = -766.5), minus 1024.
  QCOMPARE(v.at(256, 256, 0), 86.f);
  QCOMPARE(v.at(100, 300, 0), 33.f);
  QCOMPARE(v.at(400, 200, 0), -786.f);
  QCOMPARE(v.at(300, 350, 0), -100.f);
  QCOMPARE(v.at(256, 256, 10), -47.f);
  QCOMPARE(v.at(100, 300, 10), 177.f);
  QCOMPARE(v.at(400, 200, 10), -997.f);
  QCOMPARE(v.at(300, 350, 10), 68.f);
  QCOMPARE(v.at(256, 256, 19), 94.f);
  QCOMPARE(v.at(100, 300, 19), -82.f);
  QCOMPARE(v.at(400, 200, 19), -1004.f);
  QCOMPARE(v.at(300, 350, 19), 71.f);
  QCOMPARE(v.at(0, 0, 19), -1024.f);
}

void TestDicom::jpeg2000LiverMeanHu() {
  JSEG_REQUIRE_DATA("ct-organs/dicom-j2k");
  JSEG_REQUIRE_DATA("ct-organs/example_seg_dicom.nii.gz");
  JSEG_REQUIRE_DATA("ct-organs/totalsegmentator_class_map_total_and_total_mr.json");
  QFile json(QString::fromStdString(test::sharedData("ct-organs/totalsegmentator_class_map_total_and_total_mr.json")));
  QVERIFY(json.open(QIODevice::ReadOnly));
  const QJsonObject total = QJsonDocument::fromJson(json.readAll()).object().value("total").toObject();
  int liver = 0;
  for (auto it = total.begin(); it != total.end(); ++it)
    if (it.value().toString() == "liver") liver = it.key().toInt();
  QCOMPARE(liver, 5);

  const Volume ct = DicomSeriesReader::read(test::sharedData("ct-organs/dicom-j2k"));
  const LabelVolume seg = NiftiIO::readLabels(test::sharedData("ct-organs/example_seg_dicom.nii.gz"));
  QCOMPARE(seg.geom.dims, ct.geom.dims);
  // The NIfTI is LAS and the DICOM LPS: label (x, y, z) must land on DICOM (x, 511 - y, z).
  const auto corner = worldToIndex(ct.geom, seg.geom.indexToWorld(0, 0, 0));
  QVERIFY(std::fabs(corner[0]) < 1e-3 && std::fabs(corner[1] - 511) < 1e-3 && std::fabs(corner[2]) < 1e-3);

  double sum = 0, sumOutside = 0;
  std::size_t n = 0, nOutside = 0;
  const auto& d = seg.geom.dims;
  for (int64_t z = 0; z < d[2]; ++z)
    for (int64_t y = 0; y < d[1]; ++y)
      for (int64_t x = 0; x < d[0]; ++x) {
        const auto idx = worldToIndex(ct.geom, seg.geom.indexToWorld(double(x), double(y), double(z)));
        const int64_t i = std::llround(idx[0]), j = std::llround(idx[1]), k = std::llround(idx[2]);
        QVERIFY(ct.geom.contains(i, j, k));
        const double hu = ct.at(i, j, k);
        if (seg.labels[seg.geom.index(x, y, z)] == liver) {
          sum += hu;
          ++n;
        } else {
          sumOutside += hu;
          ++nOutside;
        }
      }
  const double mean = sum / double(n);
  qInfo("liver: %zu voxels, mean %.1f HU (everything else %.1f HU)", n, mean, sumOutside / double(nOutside));
  QVERIFY(n > 10000);
  QVERIFY2(mean > 60 && mean < 120, qPrintable(QString("liver mean %1 HU").arg(mean)));
}

void TestDicom::descendingSeriesIsAscendingAlongNormal() {
  JSEG_REQUIRE_DATA("dicom-edge/98892001");
  const std::string dir = test::sharedData("dicom-edge/98892001");
  ReadOptions o;
  o.series = kDescendingUid;
  const Volume v = DicomSeriesReader::read(dir, o);
  QCOMPARE(v.dims()[2], int64_t(5));
  QCOMPARE(QString::fromStdString(v.geom.orientationCode()), QString("LPS"));
  QVERIFY(std::fabs(v.geom.spacing[2] - 2.5) < 1e-6);
  QVERIFY(std::fabs(v.geom.spacing[0] - 0.488281) < 1e-9);
  QVERIFY(std::fabs(v.geom.origin[2] + 1.2375) < 1e-6);
  for (int z = 1; z < 5; ++z) QVERIFY(v.geom.indexToWorld(0, 0, z)[2] > v.geom.indexToWorld(0, 0, z - 1)[2]);
  QVERIFY(v.warnings.empty());
  // z = 0 is file 3353 (z = -1.2375, InstanceNumber 10), z = 4 is 2062 (z = 8.7625, InstanceNumber 6).
  QCOMPARE(v.at(0, 0, 0), -33.f);
  QCOMPARE(v.at(8, 8, 0), -59.f);
  QCOMPARE(v.at(3, 12, 0), -92.f);
  QCOMPARE(v.at(8, 8, 1), 8.f);
  QCOMPARE(v.at(15, 15, 2), -666.f);
  QCOMPARE(v.at(8, 8, 4), -307.f);
  QCOMPARE(v.at(15, 15, 4), -729.f);
  QCOMPARE(v.originalType, PixelType::Int16);

  // The same series by its number in the listing ("Scout" sorts before "SmartScore").
  o.series = "2";
  const Volume byNumber = DicomSeriesReader::read(dir, o);
  QCOMPARE(byNumber.voxels, v.voxels);
  o.series = "7";
  const QString err = errorOf([&] { DicomSeriesReader::read(dir, o); });
  QVERIFY2(err.contains("--series") && err.contains(kScoutUid), qPrintable(err));
}

void TestDicom::gapGivesWarning() {
  JSEG_REQUIRE_DATA("dicom-edge/DICOMDIR");
  ReadOptions o;
  o.series = kGapUid;
  const Volume v = DicomSeriesReader::read(test::sharedData("dicom-edge"), o);
  QCOMPARE(v.dims()[2], int64_t(4));
  QVERIFY(std::fabs(v.geom.spacing[2] - 1.25) < 1e-6);  // median of 202.5, 1.25, 1.25
  QVERIFY(std::fabs(v.geom.origin[2] + 99.480003) < 1e-6);
  QCOMPARE(int(v.warnings.size()), 1);
  const QString w = QString::fromStdString(v.warnings.front());
  QVERIFY2(w.contains("gap") && w.contains("202.5 mm") && w.contains("slices 1 and 2"), qPrintable(w));
  QCOMPARE(v.at(8, 8, 0), -972.f);   // 17106 (z = -99.48)
  QCOMPARE(v.at(0, 0, 1), 905.f);    // 17136 (z = 103.02)
  QCOMPARE(v.at(15, 15, 3), 1214.f); // 17196 (z = 105.52)
}

void TestDicom::dicomdirListsSeries() {
  JSEG_REQUIRE_DATA("dicom-edge/DICOMDIR");
  // The DICOMDIR also references three MR files that are not there; they are skipped.
  for (const std::string& path : {test::sharedData("dicom-edge"), test::sharedData("dicom-edge/DICOMDIR")}) {
    const auto list = DicomSeriesReader::listSeries(path);
    QCOMPARE(int(list.size()), 6);
    const std::vector<std::pair<std::string, int>> expected = {
        {"Cervical LAT", 1}, {"Cervical OBLI 1", 1}, {"Cervical OBLI 2", 1},
        {"Routine Brain", 4}, {"Scout", 2}, {"SmartScore - Gated 0.5 sec", 5}};
    for (std::size_t i = 0; i < expected.size(); ++i) {
      QCOMPARE(list[i].description, expected[i].first);
      QCOMPARE(list[i].slices, expected[i].second);
      QCOMPARE(list[i].rows, 16);
      QCOMPARE(list[i].columns, 16);
      QCOMPARE(list[i].transferSyntaxUid, std::string("1.2.840.10008.1.2.1"));
      QVERIFY(!list[i].transferSyntax.empty());
    }
    QCOMPARE(list[0].modality, std::string("CR"));
    QCOMPARE(list[3].seriesUid, std::string(kGapUid));
  }
}

void TestDicom::singleRadiographWithoutPosition() {
  JSEG_REQUIRE_DATA("dicom-edge/77654033/CR1");
  ReadOptions o;
  const Volume v = DicomSeriesReader::read(test::sharedData("dicom-edge/77654033/CR1"), o);
  QCOMPARE(v.dims()[2], int64_t(1));
  QCOMPARE(v.geom.spacing[0], 0.1);  // ImagerPixelSpacing, with a warning saying so
  QVERIFY(!v.warnings.empty());
  QVERIFY(QString::fromStdString(v.warnings.front()).contains("ImagerPixelSpacing"));
  // Raw 2515 at (8, 8), RescaleSlope 0.684, RescaleIntercept 200.
  QVERIFY(std::fabs(v.at(8, 8, 0) - 1920.26f) < 1e-3f);
  QVERIFY(std::fabs(v.at(0, 0, 0) - 1563.896f) < 1e-3f);
  QCOMPARE(v.originalType, PixelType::Float32);
  o.series = kCrUid;
  QCOMPARE(DicomSeriesReader::read(test::sharedData("dicom-edge"), o).voxels, v.voxels);
}

void TestDicom::jpeg2000SignedAndMultiFrame() {
  JSEG_REQUIRE_DATA("dicom-edge/98892001/CT5N");
  const std::string src = test::sharedData("dicom-edge/98892001/CT5N");
  const Volume ref = DicomSeriesReader::read(src);  // uncompressed, signed, values checked above
  QCOMPARE(ref.dims()[2], int64_t(5));
  // The files in ascending z (see descendingSeriesIsAscendingAlongNormal). The re-encoded files store
  // HU directly (RescaleIntercept 0), so that stored values are negative and the sign path is exercised.
  const std::vector<std::string> names = {"3353", "3023", "2693", "2392", "2062"};
  std::vector<std::vector<int16_t>> raw;
  for (int z = 0; z < 5; ++z) {
    std::vector<int16_t> px(256);
    for (int i = 0; i < 256; ++i) px[std::size_t(i)] = static_cast<int16_t>(std::lround(ref.voxels[std::size_t(z * 256 + i)]));
    raw.push_back(px);
  }
  QCOMPARE(ref.range()[0], -888.f);

  for (bool signedStream : {true, false}) {
    const std::string dir = test::tempDir("dicom-j2k-signed");
    for (int z = 0; z < 5; ++z) {
      const std::string cs = encodeJ2k(raw[std::size_t(z)], 16, 16, signedStream);
      QVERIFY(!cs.empty());
      QVERIFY(writeJ2kDicom(src + "/" + names[std::size_t(z)], dir + "/" + names[std::size_t(z)], {cs}, !signedStream));
    }
    const Volume v = DicomSeriesReader::read(dir);
    QCOMPARE(DicomSeriesReader::listSeries(dir).front().transferSyntaxUid, std::string("1.2.840.10008.1.2.4.90"));
    QCOMPARE(v.geom.origin, ref.geom.origin);
    QCOMPARE(v.voxels, ref.voxels);
    fs::remove_all(dir);
  }

  for (bool offsetTable : {true, false}) {
    const std::string dir = test::tempDir("dicom-j2k-multi");
    std::vector<std::string> frames;
    for (int z = 0; z < 5; ++z) frames.push_back(encodeJ2k(raw[std::size_t(z)], 16, 16, true));
    QVERIFY(writeJ2kDicom(src + "/3353", dir + "/multi.dcm", frames, offsetTable));
    const Volume v = DicomSeriesReader::read(dir);
    QCOMPARE(v.dims()[2], int64_t(5));
    QCOMPARE(v.voxels, ref.voxels);  // frames in stored order
    QCOMPARE(v.geom.spacing[2], 2.5);
    QVERIFY(std::fabs(v.geom.origin[2] + 1.2375) < 1e-6);  // the file's own (first frame's) position
    QCOMPARE(int(v.warnings.size()), 1);                   // no per-frame positions
    fs::remove_all(dir);
  }
}

void TestDicom::mixedOrientationsRefused() {
  JSEG_REQUIRE_DATA("dicom-edge/98892001");
  ReadOptions o;
  o.series = kScoutUid;
  const QString err = errorOf([&] { DicomSeriesReader::read(test::sharedData("dicom-edge/98892001"), o); });
  QVERIFY2(err.contains("orientation") && err.contains("CT2N"), qPrintable(err));
}

void TestDicom::severalSeriesNeedChoice() {
  JSEG_REQUIRE_DATA("dicom-edge/98892001");
  const QString err = errorOf([] { DicomSeriesReader::read(test::sharedData("dicom-edge/98892001")); });
  QVERIFY2(err.contains("2 DICOM series") && err.contains("--series"), qPrintable(err));
  QVERIFY2(err.contains(kDescendingUid) && err.contains(kScoutUid), qPrintable(err));
  QVERIFY2(err.contains("SmartScore - Gated 0.5 sec") && err.contains("Scout"), qPrintable(err));
  QVERIFY2(err.contains("5 slices") && err.contains("2 slices") && err.contains("16x16") && err.contains("CT"),
           qPrintable(err));
  QVERIFY2(err.contains("1: " + QString(kScoutUid)) && err.contains("2: " + QString(kDescendingUid)), qPrintable(err));
}

void TestDicom::truncatedFilesNamed() {
  JSEG_REQUIRE_DATA("mr-dicom");
  JSEG_REQUIRE_DATA("ct-organs/dicom-j2k");
  for (const std::string& src : {test::sharedData("mr-dicom/1-049.dcm"), firstFile(test::sharedData("ct-organs/dicom-j2k"))}) {
    const std::string dir = test::tempDir("dicom-trunc");
    const std::string bytes = jseg::test::readFileBytes(src);
    jseg::test::writeFileBytes(dir + "/good.dcm", bytes);
    jseg::test::writeFileBytes(dir + "/half.dcm", bytes.substr(0, bytes.size() / 2));
    const QString err = errorOf([&] { DicomSeriesReader::read(dir); });
    QVERIFY2(err.contains("half.dcm") && err.contains("truncated"), qPrintable(err));
    fs::remove_all(dir);
  }
}

void TestDicom::unsupportedTransferSyntaxNamed() {
  JSEG_REQUIRE_DATA("ct-organs/dicom-j2k");
  // Relabel a JPEG 2000 file as JPEG 2000 Part 2 (multi-component): same length, still parses.
  std::string bytes = jseg::test::readFileBytes(firstFile(test::sharedData("ct-organs/dicom-j2k")));
  const std::string from = "1.2.840.10008.1.2.4.90";
  const auto at = bytes.find(from);
  QVERIFY(at != std::string::npos && at < 1024);
  bytes.replace(at, from.size(), "1.2.840.10008.1.2.4.92");
  const std::string dir = test::tempDir("dicom-ts");
  jseg::test::writeFileBytes(dir + "/part2.dcm", bytes);
  const QString err = errorOf([&] { DicomSeriesReader::read(dir); });
  QVERIFY2(err.contains("1.2.840.10008.1.2.4.92") && err.contains("part2.dcm") && err.contains("transfer syntax"),
           qPrintable(err));
  fs::remove_all(dir);
}

void TestDicom::emptyAndNonDicomFolders() {
  const std::string empty = test::tempDir("dicom-empty");
  QString err = errorOf([&] { DicomSeriesReader::read(empty); });
  QVERIFY2(err.contains("empty") && err.contains(QString::fromStdString(empty)), qPrintable(err));
  QVERIFY(!DicomSeriesReader::folderHasDicom(empty));

  const std::string text = test::tempDir("dicom-text");
  jseg::test::writeFileBytes(text + "/notes.txt", "not a DICOM file\n");
  err = errorOf([&] { DicomSeriesReader::listSeries(text); });
  QVERIFY2(err.contains("No DICOM images"), qPrintable(err));
  QVERIFY(!DicomSeriesReader::folderHasDicom(text));
  QVERIFY(!DicomSeriesReader::looksLikeDicom(text + "/notes.txt"));

  err = errorOf([&] { DicomSeriesReader::read(text + "/does-not-exist"); });
  QVERIFY2(err.contains("does not exist"), qPrintable(err));
  fs::remove_all(empty);
  fs::remove_all(text);
}

void TestDicom::nonDicomFilesSkipped() {
  JSEG_REQUIRE_DATA("mr-dicom");
  const std::string dir = test::tempDir("dicom-mixed");
  fs::create_directories(dir + "/sub/deeper");
  jseg::test::writeFileBytes(dir + "/README.txt", "a note next to the images\n");
  jseg::test::writeFileBytes(dir + "/sub/thumbs.db", std::string(300, '\x01'));
  fs::copy_file(test::sharedData("mr-dicom/1-060.dcm"), dir + "/sub/deeper/b");
  fs::copy_file(test::sharedData("mr-dicom/1-050.dcm"), dir + "/sub/a");
  QVERIFY(DicomSeriesReader::folderHasDicom(dir));
  QVERIFY(DicomSeriesReader::looksLikeDicom(dir + "/sub/a"));
  const Volume v = DicomSeriesReader::read(dir);
  QCOMPARE(v.dims()[2], int64_t(2));
  QVERIFY(std::fabs(v.geom.spacing[2] - 15.0) < 1e-6);  // slices 50 and 60: 10 steps of 1.5 mm
  QVERIFY(std::fabs(v.geom.origin[2] + 18.500669) < 1e-6);
  fs::remove_all(dir);
}

void TestDicom::duplicatePositionsRefused() {
  JSEG_REQUIRE_DATA("mr-dicom");
  const std::string dir = test::tempDir("dicom-dup");
  fs::copy_file(test::sharedData("mr-dicom/1-050.dcm"), dir + "/x1.dcm");
  fs::copy_file(test::sharedData("mr-dicom/1-050.dcm"), dir + "/x2.dcm");
  fs::copy_file(test::sharedData("mr-dicom/1-051.dcm"), dir + "/x3.dcm");
  const QString err = errorOf([&] { DicomSeriesReader::read(dir); });
  QVERIFY2(err.contains("same position") && err.contains("x1.dcm") && err.contains("x2.dcm"), qPrintable(err));
  fs::remove_all(dir);
}

void TestDicom::cancelStopsLoading() {
  JSEG_REQUIRE_DATA("mr-dicom");
  auto token = std::make_shared<CancelToken>();
  TaskContext ctx;
  ctx.cancel = token;
  std::atomic<int> decoded{0};
  ctx.progress = [&](double, const std::string& msg) {
    if (msg.rfind("Decoding", 0) == 0 && ++decoded == 3) token->cancel();
  };
  bool cancelled = false;
  try {
    DicomSeriesReader::read(test::sharedData("mr-dicom"), {}, &ctx);
  } catch (const CancelledError&) {
    cancelled = true;
  }
  QVERIFY(cancelled);
  QCOMPARE(decoded.load(), 3);
}

void TestDicom::impossibleFrameCountRefused() {
  // Fuzzing regression: a 2 kB radiograph claiming 2,000,000,000 frames made the header scan allocate
  // per-frame records for all of them (~200 GB) before any check.
  JSEG_REQUIRE_DATA("dicom-edge");
  const std::string dir = test::tempDir("dicom-frames");
  DcmFileFormat ff;
  QVERIFY(ff.loadFile(test::sharedData("dicom-edge/77654033/CR1/6154").c_str()).good());
  QVERIFY(ff.getDataset()->putAndInsertString(DCM_NumberOfFrames, "2000000000").good());
  QVERIFY(ff.saveFile((dir + "/frames.dcm").c_str()).good());
  QString err = errorOf([&] { DicomSeriesReader::read(dir); });
  QVERIFY2(err.contains("frames.dcm") && err.contains("2000000000 frames") && err.contains("truncated or corrupt"),
           qPrintable(err));
  // Rows x Columns larger than the uncompressed pixel data can hold is refused the same way.
  QVERIFY(ff.getDataset()->putAndInsertString(DCM_NumberOfFrames, "1").good());
  QVERIFY(ff.getDataset()->putAndInsertUint16(DCM_Rows, 65535).good());
  QVERIFY(ff.saveFile((dir + "/frames.dcm").c_str()).good());
  err = errorOf([&] { DicomSeriesReader::read(dir); });
  QVERIFY2(err.contains("1 frame of 16x65535 pixels"), qPrintable(err));
  fs::remove_all(dir);
}

QTEST_GUILESS_MAIN(TestDicom)
#include "test_dicom.moc"
