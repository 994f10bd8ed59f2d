#include "core/io/DicomSegWriter.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmfg/fgseg.h>
#include <dcmtk/dcmiod/iodmacro.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/dcmseg/segutils.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

#include "core/base/Errors.h"
#include "core/io/AtomicFile.h"

namespace jseg {

namespace {

std::string ds(double v) {  // DICOM Decimal String: at most 16 characters
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", std::abs(v) < 1e-9 ? 0.0 : v);
  if (std::string(buf).size() > 16) std::snprintf(buf, sizeof buf, "%.8g", v);
  return buf;
}

void check(const OFCondition& c, const std::string& path, const std::string& what) {
  if (c.bad()) throw Error("cannot write the DICOM segmentation " + path + ": " + what + " (" + c.text() + ")");
}

double srgbToLinear(double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); }
double labF(double t) { return t > 216.0 / 24389.0 ? std::cbrt(t) : (24389.0 / 27.0 * t + 16.0) / 116.0; }

} // namespace

std::array<uint16_t, 3> dicomLabFromRgb(const std::array<uint8_t, 3>& rgb) {
  const double r = srgbToLinear(rgb[0] / 255.0), g = srgbToLinear(rgb[1] / 255.0), b = srgbToLinear(rgb[2] / 255.0);
  // sRGB primaries to XYZ (D65), then CIELab relative to D65 white.
  const double x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
  const double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
  const double z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
  const double fx = labF(x / 0.95047), fy = labF(y / 1.0), fz = labF(z / 1.08883);
  const double L = 116.0 * fy - 16.0, A = 500.0 * (fx - fy), B = 200.0 * (fy - fz);
  auto scale = [](double v, double lo, double hi) {
    return static_cast<uint16_t>(std::lround(std::clamp((v - lo) / (hi - lo), 0.0, 1.0) * 65535.0));
  };
  return {scale(L, 0, 100), scale(A, -128, 127), scale(B, -128, 127)};
}

void writeDicomSegmentation(const LabelVolume& l, const std::vector<LabelInfo>& table, const DicomSource& source,
                            const std::string& path) {
  const Geometry& g = l.geom;
  if (l.labels.size() != g.voxelCount() || l.labels.empty())
    throw InputError("cannot write " + path + ": the label volume is empty or inconsistent");
  if (std::size_t(g.dims[2]) != source.slices.size())
    throw InputError("cannot write " + path + ": the labels have " + std::to_string(g.dims[2]) +
                     " slices but the DICOM series " + source.seriesInstanceUid + " has " +
                     std::to_string(source.slices.size()));
  if (g.dims[0] > 65535 || g.dims[1] > 65535) throw InputError("cannot write " + path + ": slices too large for DICOM");
  const auto cols = static_cast<Uint16>(g.dims[0]), rows = static_cast<Uint16>(g.dims[1]);
  const std::size_t sliceVoxels = std::size_t(cols) * rows;

  // Which labels occur on which slices: a segment gets a frame only where it is present.
  std::map<int, std::vector<bool>> onSlice;
  for (int64_t z = 0; z < g.dims[2]; ++z)
    for (std::size_t i = 0; i < sliceVoxels; ++i) {
      const int id = l.labels[std::size_t(z) * sliceVoxels + i];
      if (!id) continue;
      auto& v = onSlice[id];
      if (v.empty()) v.assign(std::size_t(g.dims[2]), false);
      v[std::size_t(z)] = true;
    }
  if (onSlice.empty()) throw InputError("cannot write " + path + ": no voxel is labelled");
  std::map<int, LabelInfo> named;
  for (const LabelInfo& info : table) named[info.id] = info;
  const auto defaults = defaultLabelTable(onSlice.rbegin()->first);

  IODGeneralEquipmentModule::EquipmentInfo equipment("juleseg", "juleseg", "1", JULESEG_VERSION);
  ContentIdentificationMacro content("1", "JULESEG", "Unsupervised segmentation (JULE + k-means)", "");
  DcmSegmentation* raw = nullptr;
  check(DcmSegmentation::createBinarySegmentation(raw, rows, cols, equipment, content), path, "create");
  std::unique_ptr<DcmSegmentation> seg(raw);

  // Patient, study and frame of reference as in the source, through DCMTK's own import.
  DcmDataset src;
  for (const DicomAttribute& a : source.patientStudyAttributes)
    src.putAndInsertString(DcmTagKey(a.group, a.element), a.value.c_str());
  if (!source.studyInstanceUid.empty()) src.putAndInsertString(DCM_StudyInstanceUID, source.studyInstanceUid.c_str());
  if (!source.frameOfReferenceUid.empty())
    src.putAndInsertString(DCM_FrameOfReferenceUID, source.frameOfReferenceUid.c_str());
  check(seg->importFromSourceImage(src, true), path, "patient and study of the source");
  seg->getSeries().setSeriesNumber("999");
  seg->getSeries().setSeriesDescription("juleseg labels");

  // Geometry shared by all frames: in-plane spacing (row spacing = y, column spacing = x) and orientation.
  FGPixelMeasures measures;
  check(measures.setPixelSpacing((ds(g.spacing[1]) + "\\" + ds(g.spacing[0])).c_str()), path, "pixel spacing");
  check(measures.setSliceThickness(ds(g.spacing[2]).c_str()), path, "slice thickness");
  check(seg->addForAllFrames(measures), path, "pixel measures");
  const auto& d = g.direction;  // column 0 = row direction (index x), column 1 = column direction (index y)
  std::unique_ptr<FGPlaneOrientationPatient> orientation(FGPlaneOrientationPatient::createMinimal(
      ds(d[0]).c_str(), ds(d[3]).c_str(), ds(d[6]).c_str(), ds(d[1]).c_str(), ds(d[4]).c_str(), ds(d[7]).c_str()));
  check(seg->addForAllFrames(*orientation), path, "plane orientation");

  char dimUid[100];
  dcmGenerateUniqueIdentifier(dimUid, SITE_INSTANCE_UID_ROOT);
  IODMultiframeDimensionModule& dims = seg->getDimensions();
  check(dims.addDimensionIndex(DCM_ReferencedSegmentNumber, dimUid, DCM_SegmentIdentificationSequence,
                               "ReferencedSegmentNumber"),
        path, "dimension index");
  check(dims.addDimensionIndex(DCM_ImagePositionPatient, dimUid, DCM_PlanePositionSequence, "ImagePositionPatient"),
        path, "dimension index");

  const CodeSequenceMacro tissue("85756007", "SCT", "Tissue");
  const CodeSequenceMacro derivation("113076", "DCM", "Segmentation");
  const CodeSequenceMacro purpose("121322", "DCM", "Source image for image processing operation");
  std::vector<Uint8> frame(sliceVoxels);
  for (const auto& [id, slices] : onSlice) {
    const LabelInfo info = named.count(id) ? named[id] : defaults[std::size_t(id - 1)];
    DcmSegment* segment = nullptr;
    const std::string name = info.name.empty() ? "Region " + std::to_string(id) : info.name.substr(0, 64);
    check(DcmSegment::create(segment, name.c_str(), tissue, tissue, DcmSegTypes::SAT_AUTOMATIC, "juleseg"), path,
          "segment " + name);
    const auto lab = dicomLabFromRgb(info.rgb);
    check(segment->setRecommendedDisplayCIELabValue(lab[0], lab[1], lab[2]), path, "segment colour");
    Uint16 number = 0;
    const OFCondition added = seg->addSegment(segment, number);
    if (added.bad()) delete segment;
    check(added, path, "segment " + name);

    for (int64_t z = 0; z < g.dims[2]; ++z) {
      if (!slices[std::size_t(z)]) continue;
      const DicomSourceSlice& s = source.slices[std::size_t(z)];
      const uint16_t* in = &l.labels[std::size_t(z) * sliceVoxels];
      for (std::size_t i = 0; i < sliceVoxels; ++i) frame[i] = in[i] == id ? 1 : 0;
      const auto p = s.hasPosition ? s.position : g.indexToWorld(0, 0, double(z));
      std::unique_ptr<FGPlanePosPatient> position(
          FGPlanePosPatient::createMinimal(ds(p[0]).c_str(), ds(p[1]).c_str(), ds(p[2]).c_str()));
      FGFrameContent frameContent;
      check(frameContent.setDimensionIndexValues(number, 0), path, "frame content");
      check(frameContent.setDimensionIndexValues(Uint32(z + 1), 1), path, "frame content");
      OFVector<FGBase*> perFrame{position.get(), &frameContent};
      std::unique_ptr<FGDerivationImage> derived;
      // A reference to another series must name it (Common Instance Reference): an anonymised source without a
      // Series Instance UID gets none, and its frames are placed by position and frame of reference alone.
      if (!source.seriesInstanceUid.empty() && !s.sopInstanceUid.empty() && !s.sopClassUid.empty()) {
        ImageSOPInstanceReferenceMacro ref;
        check(ref.setReferencedSOPClassUID(s.sopClassUid.c_str()), path, "source reference");
        check(ref.setReferencedSOPInstanceUID(s.sopInstanceUid.c_str()), path, "source reference");
        if (s.frameNumber > 0) check(ref.addReferencedFrameNumber(Uint16(s.frameNumber)), path, "source frame");
        OFVector<ImageSOPInstanceReferenceMacro> refs{ref};
        derived.reset(FGDerivationImage::createMinimal(refs, "", derivation, purpose));
        if (derived) perFrame.push_back(derived.get());
      }
      check(seg->addFrame(frame.data(), number, perFrame), path, "frame of segment " + name);
    }
  }

  DcmFileFormat file;
  check(seg->writeDataset(*file.getDataset()), path, "dataset");
  // Common Instance Reference module: the series the frames were derived from, with every source instance.
  DcmDataset* out = file.getDataset();
  // An anonymised source may have lost its Series Instance UID: then the per-frame references are all there is.
  std::map<std::string, std::string> instances;
  for (const DicomSourceSlice& s : source.slices)
    if (!s.sopInstanceUid.empty() && !s.sopClassUid.empty()) instances[s.sopInstanceUid] = s.sopClassUid;
  out->findAndDeleteElement(DCM_ReferencedSeriesSequence);
  if (!source.seriesInstanceUid.empty() && !instances.empty()) {
    DcmItem* series = nullptr;
    check(out->findOrCreateSequenceItem(DCM_ReferencedSeriesSequence, series, 0), path, "referenced series");
    series->putAndInsertString(DCM_SeriesInstanceUID, source.seriesInstanceUid.c_str());
    for (const auto& [uid, cls] : instances) {
      DcmItem* item = nullptr;
      check(series->findOrCreateSequenceItem(DCM_ReferencedInstanceSequence, item, -2), path, "referenced instance");
      item->putAndInsertString(DCM_ReferencedSOPClassUID, cls.c_str());
      item->putAndInsertString(DCM_ReferencedSOPInstanceUID, uid.c_str());
    }
  }

  AtomicFile atomic(path);
  check(file.saveFile(atomic.tempPath().c_str(), EXS_LittleEndianExplicit), path, "save");
  atomic.commit();
}

} // namespace jseg
