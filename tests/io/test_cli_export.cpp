// ctest-links: juleseg_io DCMTK::dcmdata
// `juleseg-cli export` (issue 17): a result folder gains the files ITK-SNAP, 3D Slicer and Fiji read with names and
// colours; labels painted on a DICOM series become a DICOM Segmentation that dciodvfy (dicom3tools) accepts and
// whose frames sit on the source slices (read back here with DCMTK, positions taken from the source files).
#include <QtTest>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "core/io/DicomSegWriter.h"
#include "core/io/DicomSeriesReader.h"
#include "core/io/ImageJLut.h"
#include "core/io/LabelMapFile.h"
#include "core/io/NiftiIO.h"
#include "core/io/VolumeReader.h"
#include "tests/common/TestData.h"

using namespace jseg;
namespace fs = std::filesystem;

namespace {

test::ProcessResult cli(const QStringList& args) { return test::runProcess(JULESEG_CLI_PATH, args); }

std::string str(DcmItem* item, const DcmTagKey& tag) {
  OFString v;
  if (item) item->findAndGetOFStringArray(tag, v);
  return v.c_str();
}

std::array<double, 3> position(DcmItem* item) {
  std::array<double, 3> p{0, 0, 0};
  for (unsigned long i = 0; i < 3; ++i) item->findAndGetFloat64(DCM_ImagePositionPatient, p[i], i);
  return p;
}

// Labels from `baseline` on the series, exported as labels.dcm: dciodvfy finds no error, the segments carry names,
// colours and the algorithm, every frame's position is its source slice's and its bits are the label's voxels.
void checkDicomSegmentation(const std::string& seriesDir, bool withReferences) {
  if (seriesDir.empty() || !fs::exists(seriesDir)) QSKIP("shared test data ct-organs/dicom-j2k not found");
  const QString series = QString::fromStdString(seriesDir);
  const std::string dir = test::tempDir("exportdcm");
  auto r = cli({"baseline", series, "--k", "3", "--method", "kmeans", "-o", QString::fromStdString(dir + "/ct")});
  QVERIFY2(r.exitCode == 0, qPrintable(r.err));
  const std::string labelsPath = dir + "/ct_kmeans.nii.gz";
  r = cli({"export", QString::fromStdString(labelsPath), "--volume", series, "-o", QString::fromStdString(dir + "/out")});
  QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
  const std::string seg = dir + "/out/labels.dcm";
  QVERIFY(fs::is_regular_file(seg));

  // dicom3tools' validator: no Error lines (warnings about optional attributes are allowed).
  const auto v = test::runProcess("dciodvfy", {QString::fromStdString(seg)});
  QVERIFY2(v.exitCode != -1, "dciodvfy not found: install dicom3tools (scripts/setup)");
  const QString report = v.out + v.err;
  qInfo().noquote() << "dciodvfy:" << report.count("Warning") << "warnings," << report.count("Error") << "errors";
  for (const QString& line : report.split('\n')) QVERIFY2(!line.startsWith("Error"), qPrintable(report));

  // The source slices, read directly: SOP instance (file meta) -> position, and the study's identity.
  std::map<std::string, std::array<double, 3>> sourcePositions;
  std::string studyUid, forUid, seriesUid, patientId;
  for (const auto& e : fs::directory_iterator(seriesDir)) {
    DcmFileFormat ff;
    QVERIFY(ff.loadFile(e.path().c_str()).good());
    DcmDataset* d = ff.getDataset();
    sourcePositions[str(ff.getMetaInfo(), DCM_MediaStorageSOPInstanceUID)] = position(d);
    studyUid = str(d, DCM_StudyInstanceUID);
    forUid = str(d, DCM_FrameOfReferenceUID);
    seriesUid = str(d, DCM_SeriesInstanceUID);
    patientId = str(d, DCM_PatientID);
  }
  QCOMPARE(sourcePositions.size(), std::size_t(20));
  QCOMPARE(seriesUid.empty(), !withReferences);

  DcmFileFormat ff;
  QVERIFY(ff.loadFile(seg.c_str()).good());
  DcmDataset* d = ff.getDataset();
  QCOMPARE(str(d, DCM_SOPClassUID), std::string(UID_SegmentationStorage));
  QCOMPARE(str(d, DCM_FrameOfReferenceUID), forUid);
  QCOMPARE(str(d, DCM_PatientID), patientId);
  if (withReferences) {
    QCOMPARE(str(d, DCM_StudyInstanceUID), studyUid);
    QVERIFY(str(d, DCM_SeriesInstanceUID) != seriesUid);
    DcmItem* refSeries = nullptr;
    QVERIFY(d->findAndGetSequenceItem(DCM_ReferencedSeriesSequence, refSeries, 0).good());
    QCOMPARE(str(refSeries, DCM_SeriesInstanceUID), seriesUid);
    std::set<std::string> referenced;
    for (int i = 0;; ++i) {
      DcmItem* inst = nullptr;
      if (refSeries->findAndGetSequenceItem(DCM_ReferencedInstanceSequence, inst, i).bad()) break;
      referenced.insert(str(inst, DCM_ReferencedSOPInstanceUID));
    }
    QCOMPARE(referenced.size(), std::size_t(20));
    for (const auto& [sop, p] : sourcePositions) QVERIFY(referenced.count(sop));
  }

  // One segment per label, named and coloured as the label table (defaults here: baseline writes no table).
  const LabelVolume labels = readLabelVolume(labelsPath);
  const auto table = defaultLabelTable(3);
  for (int s = 0; s < 3; ++s) {
    DcmItem* segment = nullptr;
    QVERIFY(d->findAndGetSequenceItem(DCM_SegmentSequence, segment, s).good());
    QCOMPARE(str(segment, DCM_SegmentLabel), table[std::size_t(s)].name);
    QCOMPARE(str(segment, DCM_SegmentAlgorithmType), std::string("AUTOMATIC"));
    QCOMPARE(str(segment, DCM_SegmentAlgorithmName), std::string("juleseg"));
    const auto lab = dicomLabFromRgb(table[std::size_t(s)].rgb);
    Uint16 stored[3]{};
    for (unsigned long k = 0; k < 3; ++k) segment->findAndGetUint16(DCM_RecommendedDisplayCIELabValue, stored[k], k);
    QCOMPARE(stored[0], lab[0]);
    QCOMPARE(stored[1], lab[1]);
    QCOMPARE(stored[2], lab[2]);
  }

  // Every frame: position = a source slice's, and its bits = the label map's voxels of that segment on that slice.
  std::map<std::array<double, 3>, int64_t> sliceAt;  // slice z of each source position, in the volume's order
  const DicomSource source = DicomSeriesReader::readSource(seriesDir);
  for (std::size_t z = 0; z < source.slices.size(); ++z) sliceAt[source.slices[z].position] = int64_t(z);
  long frames = 0;
  QVERIFY(d->findAndGetLongInt(DCM_NumberOfFrames, frames).good());
  const Uint8* bits = nullptr;
  unsigned long bitBytes = 0;
  QVERIFY(d->findAndGetUint8Array(DCM_PixelData, bits, &bitBytes).good());
  const std::size_t plane = 512 * 512;
  QVERIFY(bitBytes * 8 >= plane * std::size_t(frames));
  std::set<std::pair<int, int64_t>> seen;
  for (long f = 0; f < frames; ++f) {
    DcmItem *group = nullptr, *pos = nullptr, *segId = nullptr;
    QVERIFY(d->findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, group, f).good());
    QVERIFY(group->findAndGetSequenceItem(DCM_PlanePositionSequence, pos, 0).good());
    QVERIFY(group->findAndGetSequenceItem(DCM_SegmentIdentificationSequence, segId, 0).good());
    const auto p = position(pos);
    int64_t z = -1;
    for (const auto& [q, zz] : sliceAt)
      if (std::abs(p[0] - q[0]) < 1e-4 && std::abs(p[1] - q[1]) < 1e-4 && std::abs(p[2] - q[2]) < 1e-4) z = zz;
    QVERIFY2(z >= 0, "a frame is not on a source slice");
    bool onSource = false;
    for (const auto& [sop, q] : sourcePositions) onSource |= q == source.slices[std::size_t(z)].position;
    QVERIFY(onSource);
    if (withReferences) {
      DcmItem *derivation = nullptr, *sourceImage = nullptr;
      QVERIFY(group->findAndGetSequenceItem(DCM_DerivationImageSequence, derivation, 0).good());
      QVERIFY(derivation->findAndGetSequenceItem(DCM_SourceImageSequence, sourceImage, 0).good());
      const auto q = sourcePositions.at(str(sourceImage, DCM_ReferencedSOPInstanceUID));
      for (int k = 0; k < 3; ++k) QVERIFY(std::abs(p[k] - q[k]) < 1e-4);
    }
    Uint16 segment = 0;
    QVERIFY(segId->findAndGetUint16(DCM_ReferencedSegmentNumber, segment).good());
    seen.insert({segment, z});
    std::size_t mismatches = 0, set = 0;
    for (std::size_t i = 0; i < plane; ++i) {
      const std::size_t bit = std::size_t(f) * plane + i;
      const bool on = (bits[bit / 8] >> (bit % 8)) & 1;
      set += on;
      mismatches += on != (labels.labels[std::size_t(z) * plane + i] == segment);
    }
    QCOMPARE(mismatches, std::size_t(0));
    QVERIFY(set > 0);
  }
  // Every (segment, slice) that holds the label has its frame, once.
  std::size_t expected = 0;
  for (int s = 1; s <= 3; ++s)
    for (int64_t z = 0; z < 20; ++z) {
      bool any = false;
      for (std::size_t i = 0; i < plane && !any; ++i) any = labels.labels[std::size_t(z) * plane + i] == s;
      expected += any;
    }
  QCOMPARE(seen.size(), expected);
  QCOMPARE(std::size_t(frames), expected);
}

} // namespace

class TestCliExport : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void exportGivesAnOldResultNamesAndColours() {
    const std::string dir = test::tempDir("export");
    LabelVolume l = makeLabelVolume([] {
      Geometry g;
      g.dims = {6, 5, 4};
      g.spacing = {0.8, 0.8, 2.5};
      return g;
    }());
    l.labels[l.geom.index(1, 1, 1)] = 1;
    l.labels[l.geom.index(5, 4, 3)] = 2;
    NiftiIO::writeLabels(l, dir + "/labels.nii.gz");
    writeLabelTableJson({{1, "Carcinoma", {200, 10, 20}, true}, {2, "Normal lung", {10, 220, 30}, true}},
                        dir + "/label_table.json");
    const auto r = cli({"export", QString::fromStdString(dir)});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains("no labels.dcm"), qPrintable(r.out));
    const std::string snap = test::readFileBytes(dir + "/labels.itksnap.txt");
    QVERIFY(snap.find("    1   200   10   20        1  1  1    \"Carcinoma\"\n") != std::string::npos);
    QVERIFY(snap.find("    2    10  220   30        1  1  1    \"Normal lung\"\n") != std::string::npos);
    QVERIFY(test::readFileBytes(dir + "/labels.ctbl").find("\n2 Normal_lung 10 220 30 255\n") != std::string::npos);
    const std::string nrrd = test::readFileBytes(dir + "/labels.seg.nrrd");
    QVERIFY(nrrd.find("\nSegment0_Name:=Carcinoma\n") != std::string::npos);
    QVERIFY(nrrd.find("\nSegment1_Extent:=5 5 4 4 3 3\n") != std::string::npos);
    const auto lut = readImageJLut(dir + "/labels.tif");
    QVERIFY(lut);
    QCOMPARE(int((*lut)[2]), 10);
    QCOMPARE(int((*lut)[256 + 2]), 220);
    // What export wrote opens again with the same names (Slicer's file on its own).
    const LabelMap back = readLabelMap(dir + "/labels.seg.nrrd");
    QCOMPARE(back.table.size(), std::size_t(2));
    QCOMPARE(back.table[1].name, std::string("Normal lung"));
    QVERIFY(back.labels.labels == l.labels);
  }

  void exportOfMissingInputIsOneErrorLine() {
    const auto r = cli({"export", "/nonexistent/labels.nii.gz"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.startsWith("juleseg-cli: error: ") && r.err.count('\n') == 1, qPrintable(r.err));
  }

  // The shared series is anonymised without Study/Series/SOP Instance UIDs in its datasets (the SOP instance is in
  // the file meta): its SEG is placed by position and frame of reference. A copy with UIDs filled in checks the
  // references to the source (per-frame derivation and the Common Instance Reference module).
  void dicomSegmentationOfAnAnonymisedSeries() { checkDicomSegmentation(test::sharedData("ct-organs/dicom-j2k"), false); }
  void dicomSegmentationReferencesTheSourceSeries() {
    JSEG_REQUIRE_DATA("ct-organs/dicom-j2k");
    const std::string copy = test::tempDir("dcmuids");
    char study[100], series[100];
    dcmGenerateUniqueIdentifier(study, SITE_STUDY_UID_ROOT);
    dcmGenerateUniqueIdentifier(series, SITE_SERIES_UID_ROOT);
    for (const auto& e : fs::directory_iterator(test::sharedData("ct-organs/dicom-j2k"))) {
      DcmFileFormat ff;
      QVERIFY(ff.loadFile(e.path().c_str()).good());
      DcmDataset* d = ff.getDataset();
      d->putAndInsertString(DCM_StudyInstanceUID, study);
      d->putAndInsertString(DCM_SeriesInstanceUID, series);
      d->putAndInsertString(DCM_SOPClassUID, str(ff.getMetaInfo(), DCM_MediaStorageSOPClassUID).c_str());
      d->putAndInsertString(DCM_SOPInstanceUID, str(ff.getMetaInfo(), DCM_MediaStorageSOPInstanceUID).c_str());
      d->putAndInsertString(DCM_PatientID, "JSEG-TEST");
      QVERIFY(ff.saveFile((copy + "/" + e.path().filename().string()).c_str(), d->getOriginalXfer()).good());
    }
    checkDicomSegmentation(copy, true);
  }
};

QTEST_GUILESS_MAIN(TestCliExport)
#include "test_cli_export.moc"
