#include "core/io/DicomSeriesReader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcfcache.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <sstream>

#include "core/base/Errors.h"
#include "core/base/SystemMemory.h"
#include "core/io/Jpeg2000Decoder.h"

namespace fs = std::filesystem;

namespace jseg {
namespace {

using Vec3 = std::array<double, 3>;

// Positions closer than this along the normal are the same slice position (DS values carry ~6 decimals).
constexpr double kSamePositionMm = 1e-4;
// Direction cosines are written with limited precision; larger differences are a different orientation.
constexpr double kOrientationTolerance = 1e-3;
// Elements above this size (the pixel data) stay on disk while the header is scanned.
constexpr Uint32 kLazyElementBytes = 4096;
// Scanning is cheap next to decoding; it gets this share of the progress bar.
constexpr double kScanShare = 0.1;

void initDcmtk() {
  static std::once_flag once;
  std::call_once(once, [] {
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
    // Every DCMTK failure becomes an InputError with the file name; its own console log would only
    // duplicate that on stderr.
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
  });
}

// DCMTK reports most damage through OFCondition, but some corrupt values make its string handling throw
// std::out_of_range or std::length_error (found by fuzz_dicom). Those become an InputError naming the file.
InputError dcmtkFailure(const std::string& path, const std::exception& e) {
  return InputError("Cannot read the DICOM file " + path + ": DCMTK failed on a damaged value (" + e.what() +
                    "). The file is corrupt; remove it or replace it with a good copy.");
}

template <class F>
auto guardDcmtk(const std::string& path, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    throw dcmtkFailure(path, e);
  }
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string fmtMm(double v) {
  std::ostringstream os;
  os << std::setprecision(4) << v;
  return os.str();
}

std::string getString(DcmItem* item, const DcmTagKey& tag) {
  OFString s;
  if (item && item->findAndGetOFString(tag, s).good()) return trim(s.c_str());
  return {};
}

std::optional<std::vector<double>> getDoubles(DcmItem* item, const DcmTagKey& tag, unsigned long n) {
  if (!item) return std::nullopt;
  std::vector<double> v(n);
  for (unsigned long i = 0; i < n; ++i) {
    Float64 d = 0;
    if (item->findAndGetFloat64(tag, d, i).bad() || !std::isfinite(d)) return std::nullopt;
    v[i] = d;
  }
  return v;
}

std::optional<long> getInt(DcmItem* item, const DcmTagKey& tag) {
  if (!item) return std::nullopt;
  Sint32 v = 0;
  if (item->findAndGetSint32(tag, v).good()) return v;
  Uint16 u = 0;
  if (item->findAndGetUint16(tag, u).good()) return u;
  return std::nullopt;
}

// Enhanced (multi-frame) objects keep per-frame attributes in functional group macros: the frame's own
// item wins over the shared one.
DcmItem* functionalGroup(DcmItem* ds, long frame, const DcmTagKey& macro) {
  DcmItem* group = nullptr;
  DcmItem* found = nullptr;
  if (ds->findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, group, frame).good() && group &&
      group->findAndGetSequenceItem(macro, found, 0).good() && found)
    return found;
  group = nullptr;
  found = nullptr;
  if (ds->findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, group, 0).good() && group &&
      group->findAndGetSequenceItem(macro, found, 0).good() && found)
    return found;
  return nullptr;
}

struct FrameInfo {
  std::optional<Vec3> position;
  std::optional<std::array<double, 6>> orientation;
  double slope = 1.0;
  double intercept = 0.0;
};

enum class Codec { Native, Dcmtk, Jpeg2000, Unsupported };

struct FileHeader {
  std::string path;
  std::string seriesUid, description, modality;
  std::string xferUid, xferName;
  Codec codec = Codec::Native;
  int rows = 0, columns = 0, frames = 1;
  int samplesPerPixel = 1, bitsAllocated = 16, bitsStored = 16, highBit = 15, pixelRepresentation = 0;
  std::string photometric;
  std::optional<long> instance;
  std::optional<std::array<double, 2>> pixelSpacing;  // (row spacing = y, column spacing = x)
  bool spacingFromImager = false;
  std::optional<double> sliceThickness, spacingBetweenSlices;
  std::optional<Vec3> topPosition;  // a classic multi-frame file's single position: the first frame's
  std::vector<FrameInfo> frameInfo;
  // Identity, kept for objects derived from the series (DicomSource).
  std::string sopClassUid, sopInstanceUid, studyUid, frameOfReferenceUid;
  std::vector<DicomAttribute> patientStudy;
};

// Patient, study and frame-of-reference attributes a derived object (a DICOM Segmentation) copies from its source.
const DcmTagKey kPatientStudyTags[] = {
    DCM_SpecificCharacterSet, DCM_PatientName,   DCM_PatientID,          DCM_PatientBirthDate,
    DCM_PatientSex,           DCM_StudyInstanceUID, DCM_StudyDate,       DCM_StudyTime,
    DCM_ReferringPhysicianName, DCM_StudyID,     DCM_AccessionNumber,    DCM_StudyDescription,
    DCM_PatientAge,           DCM_PatientSize,   DCM_PatientWeight,      DCM_FrameOfReferenceUID,
    DCM_PositionReferenceIndicator};

enum class Probe { NotDicom, Directory, NoImage, Image };

Codec codecFor(E_TransferSyntax xs) {
  if (xs == EXS_Unknown) return Codec::Unsupported;
  DcmXfer x(xs);
  if (x.isNotEncapsulated()) return Codec::Native;
  if (xs == EXS_JPEG2000LosslessOnly || xs == EXS_JPEG2000) return Codec::Jpeg2000;
  if (DcmCodecList::canChangeCoding(xs, EXS_LittleEndianExplicit)) return Codec::Dcmtk;
  return Codec::Unsupported;
}

bool hasDicmMagic(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char buf[132];
  if (!f.read(buf, sizeof buf)) return false;
  return std::memcmp(buf + 128, "DICM", 4) == 0;
}

// Old files without the Part 10 preamble start directly with a group 0x0008 element (little endian).
bool looksLikeBareDataset(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  unsigned char buf[4];
  if (!f.read(reinterpret_cast<char*>(buf), sizeof buf)) return false;
  return buf[0] == 0x08 && buf[1] == 0x00;
}

// The Transfer Syntax UID (0002,0010) read from the raw meta header, for files DCMTK refuses to parse at all
// (a transfer syntax newer than this DCMTK, such as JPEG XL).
std::string rawTransferSyntax(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string head(4096, '\0');
  f.read(&head[0], std::streamsize(head.size()));
  head.resize(std::size_t(std::max<std::streamsize>(f.gcount(), 0)));
  const std::string tag("\x02\x00\x10\x00UI", 6);  // explicit VR little endian, as the meta header always is
  const auto at = head.find(tag);
  if (at == std::string::npos || at + 8 > head.size()) return {};
  const std::size_t len = std::size_t(uint8_t(head[at + 6])) | std::size_t(uint8_t(head[at + 7])) << 8;
  if (len == 0 || len > 64 || at + 8 + len > head.size()) return {};
  std::string uid = head.substr(at + 8, len);
  while (!uid.empty() && (uid.back() == '\0' || uid.back() == ' ')) uid.pop_back();
  return uid;
}

std::string metaTransferSyntax(const std::string& path) {
  DcmFileFormat ff;
  if (ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, kLazyElementBytes, ERM_metaOnly).bad())
    return rawTransferSyntax(path);
  return getString(ff.getMetaInfo(), DCM_TransferSyntaxUID);
}

// Names of transfer syntaxes newer than the DCMTK of Debian 12, so the message says what the file is.
std::string newerTransferSyntaxName(const std::string& uid) {
  if (uid == "1.2.840.10008.1.2.4.110") return "JPEG XL Lossless";
  if (uid == "1.2.840.10008.1.2.4.111") return "JPEG XL JPEG Recompression";
  if (uid == "1.2.840.10008.1.2.4.112") return "JPEG XL";
  if (uid == "1.2.840.10008.1.2.4.201") return "High-Throughput JPEG 2000 Lossless";
  if (uid == "1.2.840.10008.1.2.4.202") return "High-Throughput JPEG 2000 with RPCL Lossless";
  if (uid == "1.2.840.10008.1.2.4.203") return "High-Throughput JPEG 2000";
  return {};
}

std::string unsupportedSyntaxMessage(const std::string& path, const std::string& name, const std::string& uid) {
  return path + " uses the transfer syntax " + (name.empty() ? std::string("(unknown)") : name) + " (" + uid +
         "), which juleseg cannot decode (supported: uncompressed, JPEG, JPEG-LS, RLE, JPEG 2000). "
         "Convert the series to an uncompressed transfer syntax first (e.g. with gdcmconv --raw).";
}

// Compressed frames can shrink a lot (JPEG-LS and JPEG 2000 code flat areas in a few bits), but not
// without bound; and every encapsulated frame needs at least its own 8-byte item header.
constexpr double kMaxCodecExpansion = 65536.0;
constexpr double kItemHeaderBytes = 8.0;

// Refuses a header whose NumberOfFrames/Rows/Columns the file cannot possibly hold, before the
// per-frame bookkeeping and the volume are allocated from those numbers (a 2 kB file claiming
// 2,000,000,000 frames would otherwise allocate ~200 GB).
void checkClaimedFrames(const FileHeader& h) {
  std::error_code ec;
  const auto fileSize = fs::file_size(h.path, ec);
  if (ec) return;
  const double frameBytes = double(h.rows) * double(h.columns) * double(std::max(1, h.samplesPerPixel)) *
                            double(std::max(1, h.bitsAllocated)) / 8.0;
  const double claimed = double(h.frames) * frameBytes;
  const bool native = h.codec == Codec::Native;
  const double canHold = native ? double(fileSize) : double(fileSize) * kMaxCodecExpansion;
  if (claimed > canHold || (!native && double(h.frames) * kItemHeaderBytes > double(fileSize)))
    throw InputError(h.path + " claims " + std::to_string(h.frames) + (h.frames == 1 ? " frame" : " frames") + " of " +
                     std::to_string(h.columns) + "x" + std::to_string(h.rows) + " pixels, more than its " +
                     std::to_string(fileSize) + " bytes can hold" + (native ? "" : " even compressed") +
                     "; it is truncated or corrupt. Remove it or replace it with a good copy.");
}

// Reads the header of one file (pixel data stays on disk). `strict`: a file that claims to be DICOM but
// cannot be parsed is an error rather than "not DICOM".
Probe readHeaderUnguarded(const std::string& path, bool strict, FileHeader& h) {
  DcmFileFormat ff;
  const OFCondition st = ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, kLazyElementBytes, ERM_autoDetect);
  if (st.bad()) {
    if (!strict) return Probe::NotDicom;
    const std::string ts = metaTransferSyntax(path);
    if (!ts.empty() && DcmXfer(ts.c_str()).getXfer() == EXS_Unknown)
      throw InputError(unsupportedSyntaxMessage(path, newerTransferSyntaxName(ts), ts));
    throw InputError("Cannot read the DICOM file " + path + " (" + st.text() +
                     "); it is probably truncated or corrupt. Remove it or replace it with a good copy.");
  }
  DcmDataset* ds = ff.getDataset();
  DcmMetaInfo* meta = ff.getMetaInfo();
  std::string sop = getString(meta, DCM_MediaStorageSOPClassUID);
  if (sop.empty()) sop = getString(ds, DCM_SOPClassUID);
  if (sop == UID_MediaStorageDirectoryStorage || ds->tagExists(DCM_DirectoryRecordSequence)) return Probe::Directory;
  const auto rows = getInt(ds, DCM_Rows), cols = getInt(ds, DCM_Columns);
  if (!ds->tagExists(DCM_PixelData) || !rows || !cols || *rows <= 0 || *cols <= 0) {
    // Without a meta header a parse "success" can be a coincidence; only call it DICOM with a UID.
    if (!strict && sop.empty()) return Probe::NotDicom;
    return Probe::NoImage;
  }

  h.path = path;
  h.sopClassUid = sop;
  h.sopInstanceUid = getString(ds, DCM_SOPInstanceUID);
  if (h.sopInstanceUid.empty()) h.sopInstanceUid = getString(meta, DCM_MediaStorageSOPInstanceUID);  // anonymised
  h.studyUid = getString(ds, DCM_StudyInstanceUID);
  h.frameOfReferenceUid = getString(ds, DCM_FrameOfReferenceUID);
  for (const DcmTagKey& tag : kPatientStudyTags) {
    OFString value;
    if (ds->findAndGetOFStringArray(tag, value).good())
      h.patientStudy.push_back({tag.getGroup(), tag.getElement(), value.c_str()});
  }
  h.seriesUid = getString(ds, DCM_SeriesInstanceUID);
  h.description = getString(ds, DCM_SeriesDescription);
  h.modality = getString(ds, DCM_Modality);
  const E_TransferSyntax xs = ds->getOriginalXfer();
  h.xferUid = getString(meta, DCM_TransferSyntaxUID);
  if (xs != EXS_Unknown) {
    DcmXfer x(xs);
    h.xferName = x.getXferName();
    if (h.xferUid.empty()) h.xferUid = x.getXferID();
  }
  h.codec = codecFor(xs);
  // A transfer syntax this DCMTK does not know (JPEG XL, HTJ2K): DCMTK guesses the dataset's encoding and the
  // pixel data then fails to decode as if the file were corrupt; say what it is instead.
  if (!h.xferUid.empty() && DcmXfer(h.xferUid.c_str()).getXfer() == EXS_Unknown) {
    h.codec = Codec::Unsupported;
    h.xferName = newerTransferSyntaxName(h.xferUid);
  }
  h.rows = static_cast<int>(*rows);
  h.columns = static_cast<int>(*cols);
  h.frames = static_cast<int>(std::max(1L, getInt(ds, DCM_NumberOfFrames).value_or(1)));
  h.samplesPerPixel = static_cast<int>(getInt(ds, DCM_SamplesPerPixel).value_or(1));
  h.bitsAllocated = static_cast<int>(getInt(ds, DCM_BitsAllocated).value_or(16));
  h.bitsStored = static_cast<int>(getInt(ds, DCM_BitsStored).value_or(h.bitsAllocated));
  h.highBit = static_cast<int>(getInt(ds, DCM_HighBit).value_or(h.bitsStored - 1));
  h.pixelRepresentation = static_cast<int>(getInt(ds, DCM_PixelRepresentation).value_or(0));
  h.photometric = getString(ds, DCM_PhotometricInterpretation);
  h.instance = getInt(ds, DCM_InstanceNumber);
  checkClaimedFrames(h);

  DcmItem* measures = functionalGroup(ds, 0, DCM_PixelMeasuresSequence);
  if (auto ps = getDoubles(ds, DCM_PixelSpacing, 2)) h.pixelSpacing = std::array<double, 2>{(*ps)[0], (*ps)[1]};
  else if (auto ps2 = getDoubles(measures, DCM_PixelSpacing, 2))
    h.pixelSpacing = std::array<double, 2>{(*ps2)[0], (*ps2)[1]};
  else if (auto ips = getDoubles(ds, DCM_ImagerPixelSpacing, 2)) {
    h.pixelSpacing = std::array<double, 2>{(*ips)[0], (*ips)[1]};
    h.spacingFromImager = true;
  }
  if (h.pixelSpacing && ((*h.pixelSpacing)[0] <= 0 || (*h.pixelSpacing)[1] <= 0)) h.pixelSpacing.reset();
  auto positive = [](std::optional<std::vector<double>> v) -> std::optional<double> {
    if (v && (*v)[0] > 0) return (*v)[0];
    return std::nullopt;
  };
  h.sliceThickness = positive(getDoubles(ds, DCM_SliceThickness, 1));
  if (!h.sliceThickness) h.sliceThickness = positive(getDoubles(measures, DCM_SliceThickness, 1));
  h.spacingBetweenSlices = positive(getDoubles(ds, DCM_SpacingBetweenSlices, 1));
  if (!h.spacingBetweenSlices) h.spacingBetweenSlices = positive(getDoubles(measures, DCM_SpacingBetweenSlices, 1));

  const auto topPos = getDoubles(ds, DCM_ImagePositionPatient, 3);
  const auto topOri = getDoubles(ds, DCM_ImageOrientationPatient, 6);
  if (topPos) h.topPosition = Vec3{(*topPos)[0], (*topPos)[1], (*topPos)[2]};
  const auto topSlope = getDoubles(ds, DCM_RescaleSlope, 1);
  const auto topIntercept = getDoubles(ds, DCM_RescaleIntercept, 1);
  const bool enhanced = ds->tagExists(DCM_PerFrameFunctionalGroupsSequence) ||
                        ds->tagExists(DCM_SharedFunctionalGroupsSequence);
  h.frameInfo.resize(static_cast<std::size_t>(h.frames));
  for (int f = 0; f < h.frames; ++f) {
    FrameInfo& fi = h.frameInfo[static_cast<std::size_t>(f)];
    std::optional<std::vector<double>> pos, ori, slope, intercept;
    if (enhanced) {
      pos = getDoubles(functionalGroup(ds, f, DCM_PlanePositionSequence), DCM_ImagePositionPatient, 3);
      ori = getDoubles(functionalGroup(ds, f, DCM_PlaneOrientationSequence), DCM_ImageOrientationPatient, 6);
      DcmItem* pvt = functionalGroup(ds, f, DCM_PixelValueTransformationSequence);
      slope = getDoubles(pvt, DCM_RescaleSlope, 1);
      intercept = getDoubles(pvt, DCM_RescaleIntercept, 1);
    }
    // A classic multi-frame file has one position for all frames: it cannot place them, so only a
    // single-frame file uses the top-level position.
    if (!pos && h.frames == 1) pos = topPos;
    if (!ori) ori = topOri;
    if (!slope) slope = topSlope;
    if (!intercept) intercept = topIntercept;
    if (pos) fi.position = Vec3{(*pos)[0], (*pos)[1], (*pos)[2]};
    if (ori) {
      std::array<double, 6> o{};
      std::copy(ori->begin(), ori->end(), o.begin());
      fi.orientation = o;
    }
    if (slope && (*slope)[0] != 0.0) fi.slope = (*slope)[0];
    if (intercept) fi.intercept = (*intercept)[0];
  }
  return Probe::Image;
}

Probe readHeader(const std::string& path, bool strict, FileHeader& h) {
  try {
    return readHeaderUnguarded(path, strict, h);
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    if (!strict) return Probe::NotDicom;  // a probe only asks "is this DICOM?"
    throw dcmtkFailure(path, e);
  }
}

// Files a DICOMDIR references (those that exist; a DICOMDIR often outlives some of its files).
std::vector<std::string> dicomdirFilesUnguarded(const std::string& dicomdir) {
  DcmFileFormat ff;
  const OFCondition st = ff.loadFile(dicomdir.c_str());
  if (st.bad())
    throw InputError("Cannot read the DICOMDIR " + dicomdir + " (" + st.text() + "); it is probably truncated or corrupt.");
  DcmSequenceOfItems* records = nullptr;
  if (ff.getDataset()->findAndGetSequence(DCM_DirectoryRecordSequence, records).bad() || !records)
    throw InputError("The DICOMDIR " + dicomdir + " has no directory records.");
  const fs::path base = fs::path(dicomdir).parent_path();
  std::vector<std::string> files;
  std::size_t referenced = 0;
  for (unsigned long i = 0; i < records->card(); ++i) {
    DcmItem* rec = records->getItem(i);
    OFString id;
    if (!rec || rec->findAndGetOFStringArray(DCM_ReferencedFileID, id).bad() || id.empty()) continue;
    ++referenced;
    fs::path p = base;
    std::stringstream parts(id.c_str());
    std::string part;
    while (std::getline(parts, part, '\\'))
      if (!trim(part).empty()) p /= trim(part);
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) files.push_back(p.string());
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  if (files.empty())
    throw InputError("The DICOMDIR " + dicomdir + " references " + std::to_string(referenced) +
                     " files but none of them exists next to it.");
  return files;
}

std::vector<std::string> dicomdirFiles(const std::string& dicomdir) {
  return guardDcmtk(dicomdir, [&] { return dicomdirFilesUnguarded(dicomdir); });
}

bool isDicomdirName(const fs::path& p) {
  std::string n = p.filename().string();
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return n == "DICOMDIR";
}

std::optional<std::string> dicomdirInFolder(const fs::path& folder) {
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
    if (isDicomdirName(it->path()) && it->is_regular_file(ec)) return it->path().string();
  return std::nullopt;
}

struct Series {
  DicomSeriesInfo info;
  std::vector<std::size_t> files;  // indices into Scan::files
};

struct Scan {
  std::string input;
  std::vector<FileHeader> files;
  std::vector<Series> series;  // in listing order
};

Scan scanInput(const std::string& input, const TaskContext* ctx) {
  initDcmtk();
  std::error_code ec;
  const fs::path in(input);
  if (!fs::exists(in, ec)) throw InputError("DICOM input " + input + " does not exist.");

  std::vector<std::string> candidates;
  bool strictAll = false;  // files named by a DICOMDIR or by the user must be DICOM
  if (fs::is_directory(in, ec)) {
    if (auto dd = dicomdirInFolder(in)) {
      candidates = dicomdirFiles(*dd);
      strictAll = true;
    } else {
      for (fs::recursive_directory_iterator it(in, fs::directory_options::skip_permission_denied, ec), end;
           !ec && it != end; it.increment(ec)) {
        std::error_code fec;
        if (it->is_regular_file(fec)) candidates.push_back(it->path().string());
      }
      if (ec) throw InputError("Cannot list the folder " + input + ": " + ec.message());
      std::sort(candidates.begin(), candidates.end());
      if (candidates.empty()) throw InputError("The folder " + input + " is empty: no DICOM files to read.");
    }
  } else {
    FileHeader probe;
    if (isDicomdirName(in) || (hasDicmMagic(input) && readHeader(input, true, probe) == Probe::Directory)) {
      candidates = dicomdirFiles(input);
    } else {
      candidates = {input};
    }
    strictAll = true;
  }

  Scan scan;
  scan.input = input;
  std::size_t nonImage = 0;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    checkCancel(ctx);
    reportProgress(ctx, kScanShare * static_cast<double>(i) / static_cast<double>(candidates.size()),
                   "Scanning DICOM files (" + std::to_string(i + 1) + "/" + std::to_string(candidates.size()) + ")");
    const std::string& path = candidates[i];
    if (isDicomdirName(fs::path(path))) continue;  // a nested DICOMDIR only repeats what the scan finds
    const bool magic = hasDicmMagic(path);
    if (!magic && !strictAll && !looksLikeBareDataset(path)) continue;
    FileHeader h;
    const Probe p = readHeader(path, magic || strictAll, h);
    if (p == Probe::Image) scan.files.push_back(std::move(h));
    else if (p == Probe::NoImage) ++nonImage;
  }
  if (scan.files.empty()) {
    std::string msg = "No DICOM images found in " + input + " (" + std::to_string(candidates.size()) +
                      (candidates.size() == 1 ? " file" : " files") + " looked at";
    if (nonImage) msg += ", " + std::to_string(nonImage) + " of them DICOM objects without pixel data";
    throw InputError(msg + ").");
  }

  std::map<std::string, std::size_t> byUid;
  for (std::size_t i = 0; i < scan.files.size(); ++i) {
    const FileHeader& h = scan.files[i];
    auto it = byUid.find(h.seriesUid);
    if (it == byUid.end()) {
      Series s;
      s.info.seriesUid = h.seriesUid;
      s.info.description = h.description;
      s.info.modality = h.modality;
      s.info.rows = h.rows;
      s.info.columns = h.columns;
      s.info.transferSyntax = h.xferName.empty() ? h.xferUid : h.xferName;
      s.info.transferSyntaxUid = h.xferUid;
      it = byUid.emplace(h.seriesUid, scan.series.size()).first;
      scan.series.push_back(std::move(s));
    }
    Series& s = scan.series[it->second];
    s.files.push_back(i);
    s.info.slices += h.frames;
  }
  std::stable_sort(scan.series.begin(), scan.series.end(), [](const Series& a, const Series& b) {
    if (a.info.description != b.info.description) return a.info.description < b.info.description;
    return a.info.seriesUid < b.info.seriesUid;
  });
  reportProgress(ctx, kScanShare, "Found " + std::to_string(scan.series.size()) + " DICOM series");
  return scan;
}

std::vector<DicomSeriesInfo> infosOf(const Scan& scan) {
  std::vector<DicomSeriesInfo> out;
  for (const Series& s : scan.series) out.push_back(s.info);
  return out;
}

// The table `info` prints, its rows joined by "; ": the CLI's error is one line.
std::string seriesListLine(const Scan& scan) {
  std::string list = DicomSeriesReader::formatSeriesList(infosOf(scan));
  for (std::size_t at; (at = list.find("\n  ")) != std::string::npos;) list.replace(at, 3, "; ");
  while (!list.empty() && list.front() == ' ') list.erase(0, 1);
  return list;
}

const Series& pickSeries(const Scan& scan, const std::string& wanted) {
  const std::string w = trim(wanted);
  if (w.empty()) {
    if (scan.series.size() == 1) return scan.series.front();
    throw InputError(scan.input + " holds " + std::to_string(scan.series.size()) +
                     " DICOM series; choose one with --series <number or SeriesInstanceUID>: " + seriesListLine(scan));
  }
  for (const Series& s : scan.series)
    if (s.info.seriesUid == w) return s;
  if (std::all_of(w.begin(), w.end(), [](unsigned char c) { return std::isdigit(c); }) && w.size() < 9) {
    const long n = std::stol(w);
    if (n >= 1 && n <= static_cast<long>(scan.series.size())) return scan.series[static_cast<std::size_t>(n - 1)];
  }
  throw InputError("DICOM series \"" + w + "\" is not in " + scan.input + "; --series takes a number or a UID from: " +
                   seriesListLine(scan));
}

// One 2D image of the series: a file, or a frame of a multi-frame file.
struct SliceRef {
  std::size_t file;
  int frame;
  const FrameInfo* info;
  std::optional<long> instance;
};

Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }
Vec3 normalized(const Vec3& a) {
  const double n = norm(a);
  return {a[0] / n, a[1] / n, a[2] / n};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string sliceName(const Scan& scan, const SliceRef& s) {
  const FileHeader& h = scan.files[s.file];
  std::string n = h.path;
  if (h.frames > 1) n += " frame " + std::to_string(s.frame + 1);
  return n;
}

std::string instanceText(const std::optional<long>& a, const std::optional<long>& b) {
  if (!a || !b) return {};
  return " (InstanceNumber " + std::to_string(*a) + " and " + std::to_string(*b) + ")";
}

// Orders the slices and derives the grid. Geometry problems that make the volume meaningless throw;
// the others become warnings.
Geometry buildGeometry(const Scan& scan, const Series& series, std::vector<SliceRef>& slices,
                       std::vector<std::string>& warnings) {
  const FileHeader& first = scan.files[slices.front().file];
  const std::string who = "DICOM series " + (series.info.seriesUid.empty() ? std::string("(no UID)") : series.info.seriesUid);
  Geometry g;
  g.dims = {first.columns, first.rows, static_cast<int64_t>(slices.size())};

  for (const SliceRef& s : slices) {
    const FileHeader& h = scan.files[s.file];
    if (h.rows != first.rows || h.columns != first.columns)
      throw InputError(who + " mixes image sizes: " + std::to_string(first.columns) + "x" + std::to_string(first.rows) +
                       " in " + first.path + " but " + std::to_string(h.columns) + "x" + std::to_string(h.rows) +
                       " in " + h.path + ". Split the series before loading it.");
  }

  const auto& spacing0 = first.pixelSpacing;
  bool spacingKnown = true;
  if (spacing0) {
    g.spacing[0] = (*spacing0)[1];  // PixelSpacing is (row spacing, column spacing): x steps are columns
    g.spacing[1] = (*spacing0)[0];
    if (first.spacingFromImager)
      warnings.push_back(who + " has no PixelSpacing; the detector's ImagerPixelSpacing (" + fmtMm(g.spacing[0]) +
                         " x " + fmtMm(g.spacing[1]) + " mm) is used instead.");
  } else {
    spacingKnown = false;
    warnings.push_back(who + " has no PixelSpacing; 1 mm pixels are assumed (give the spacing explicitly if it matters).");
  }

  const bool located = std::all_of(slices.begin(), slices.end(), [](const SliceRef& s) {
    return s.info->position && s.info->orientation;
  });
  auto fallbackZ = [&](bool warn) {
    if (first.spacingBetweenSlices) return *first.spacingBetweenSlices;
    if (first.sliceThickness) return *first.sliceThickness;
    if (warn) {
      spacingKnown = false;
      warnings.push_back(who + " gives neither positions nor SpacingBetweenSlices/SliceThickness; 1 mm between slices is assumed.");
    }
    return 1.0;
  };

  if (located) {
    const auto& o0 = *slices.front().info->orientation;
    for (const SliceRef& s : slices) {
      const auto& o = *s.info->orientation;
      for (int k = 0; k < 6; ++k)
        if (std::fabs(o[k] - o0[k]) > kOrientationTolerance)
          throw InputError(who + " mixes slice orientations (" + sliceName(scan, slices.front()) + " and " +
                           sliceName(scan, s) + " differ in ImageOrientationPatient); it is not one volume. "
                           "Choose another series or split this one.");
    }
    const Vec3 r0{o0[0], o0[1], o0[2]}, c0{o0[3], o0[4], o0[5]};
    if (norm(r0) < 1e-6 || norm(c0) < 1e-6 || norm(cross(r0, c0)) < 1e-6)
      throw InputError(who + " has an invalid ImageOrientationPatient in " + first.path + ".");
    const Vec3 r = normalized(r0), c = normalized(c0), n = normalized(cross(r, c));
    std::vector<std::pair<double, SliceRef>> keyed;
    for (const SliceRef& s : slices) keyed.emplace_back(dot(*s.info->position, n), s);
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < keyed.size(); ++i) slices[i] = keyed[i].second;

    std::vector<double> steps;
    for (std::size_t i = 1; i < keyed.size(); ++i) {
      const double d = keyed[i].first - keyed[i - 1].first;
      if (d < kSamePositionMm)
        throw InputError(who + " has two slices at the same position (" + fmtMm(keyed[i].first) +
                         " mm along the slice normal): " + sliceName(scan, keyed[i - 1].second) + " and " +
                         sliceName(scan, keyed[i].second) +
                         ". It probably holds several acquisitions (echoes, phases, time points); split them first.");
      steps.push_back(d);
    }
    double dz;
    if (steps.empty()) {
      dz = fallbackZ(false);
    } else {
      dz = median(steps);
      std::vector<std::string> gaps;
      std::size_t uneven = 0;
      double lo = steps.front(), hi = steps.front();
      std::size_t firstUneven = 0;
      for (std::size_t i = 0; i < steps.size(); ++i) {
        lo = std::min(lo, steps[i]);
        hi = std::max(hi, steps[i]);
        if (steps[i] > 1.5 * dz) {
          gaps.push_back("a " + fmtMm(steps[i]) + " mm gap between slices " + std::to_string(i + 1) + " and " +
                         std::to_string(i + 2) + instanceText(keyed[i].second.instance, keyed[i + 1].second.instance));
        } else if (std::fabs(steps[i] - dz) > 0.01 * dz) {
          if (uneven++ == 0) firstUneven = i;
        }
      }
      if (!gaps.empty()) {
        std::string msg = who + " has ";
        for (std::size_t i = 0; i < gaps.size() && i < 5; ++i) msg += (i ? "; " : "") + gaps[i];
        if (gaps.size() > 5) msg += "; and " + std::to_string(gaps.size() - 5) + " more gaps";
        msg += "; the usual step is " + fmtMm(dz) + " mm. Slices are placed " + fmtMm(dz) +
               " mm apart, so distances across a gap are not to scale (missing slices?).";
        warnings.push_back(msg);
      }
      if (uneven)
        warnings.push_back(who + " has non-uniform slice spacing: steps from " + fmtMm(lo) + " to " + fmtMm(hi) +
                           " mm (first between slices " + std::to_string(firstUneven + 1) + " and " +
                           std::to_string(firstUneven + 2) + "); the volume uses the median step " + fmtMm(dz) + " mm.");
    }
    g.spacing[2] = dz;
    g.origin = *slices.front().info->position;
    g.direction = {r[0], c[0], n[0], r[1], c[1], n[1], r[2], c[2], n[2]};
  } else {
    if (slices.size() > 1) {
      warnings.push_back(who + " lacks ImagePositionPatient/ImageOrientationPatient on some slices; slices are ordered by "
                         "InstanceNumber (frames in stored order) and spaced by SpacingBetweenSlices/SliceThickness, so check the geometry.");
      std::stable_sort(slices.begin(), slices.end(), [](const SliceRef& a, const SliceRef& b) {
        if (a.instance.has_value() != b.instance.has_value()) return a.instance.has_value();
        if (a.instance && *a.instance != *b.instance) return *a.instance < *b.instance;
        return false;  // keeps file and frame order
      });
    }
    g.spacing[2] = fallbackZ(slices.size() > 1);
    const FrameInfo& f0 = *slices.front().info;
    if (f0.orientation) {
      const auto& o = *f0.orientation;
      const Vec3 r0{o[0], o[1], o[2]}, c0{o[3], o[4], o[5]};
      if (norm(r0) > 1e-6 && norm(c0) > 1e-6 && norm(cross(r0, c0)) > 1e-6) {
        const Vec3 r = normalized(r0), c = normalized(c0), n = normalized(cross(r, c));
        g.direction = {r[0], c[0], n[0], r[1], c[1], n[1], r[2], c[2], n[2]};
      }
    }
    if (f0.position) g.origin = *f0.position;
    else if (const auto& top = scan.files[slices.front().file].topPosition) g.origin = *top;
  }
  g.spacingKnown = spacingKnown;
  return g;
}

// Per-slice sample conversion: stored bits to the integer value DICOM means, before rescale.
struct SampleLayout {
  int bitsAllocated, bitsStored, shift, pixelRepresentation;
  int64_t decode(uint64_t raw) const {
    const uint64_t mask = bitsStored >= 64 ? ~uint64_t{0} : ((uint64_t{1} << bitsStored) - 1);
    uint64_t v = (raw >> shift) & mask;
    if (pixelRepresentation == 1 && bitsStored < 64 && ((v >> (bitsStored - 1)) & 1u))
      return static_cast<int64_t>(v) - (int64_t{1} << bitsStored);
    return static_cast<int64_t>(v);
  }
};

SampleLayout layoutOf(const FileHeader& h) {
  SampleLayout l{h.bitsAllocated, h.bitsStored, 0, h.pixelRepresentation};
  if (l.bitsStored <= 0 || l.bitsStored > l.bitsAllocated) l.bitsStored = l.bitsAllocated;
  if (h.highBit + 1 >= l.bitsStored && h.highBit < l.bitsAllocated) l.shift = h.highBit + 1 - l.bitsStored;
  return l;
}

struct ValueStats {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  bool integral = true;
};

void storeSlice(const int64_t* ints, std::size_t n, const FrameInfo& fi, float* dst, ValueStats& stats) {
  const bool integral = fi.slope == std::floor(fi.slope) && fi.intercept == std::floor(fi.intercept);
  stats.integral = stats.integral && integral;
  double lo = stats.lo, hi = stats.hi;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(ints[i]) * fi.slope + fi.intercept;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    dst[i] = static_cast<float>(v);
  }
  stats.lo = lo;
  stats.hi = hi;
}

// Splits the encapsulated fragments of a JPEG 2000 file into frames.
std::vector<std::vector<uint8_t>> jpeg2000Frames(DcmPixelSequence* seq, int frames, const std::string& path) {
  const unsigned long items = seq->card();
  if (items < 2) throw InputError(path + ": the JPEG 2000 pixel data has no fragments (truncated or corrupt file).");
  struct Fragment {
    const uint8_t* data;
    std::size_t size;
    std::size_t offset;  // from the first fragment's item tag, as the basic offset table counts
  };
  std::vector<Fragment> frags;
  std::size_t offset = 0;
  for (unsigned long i = 1; i < items; ++i) {
    DcmPixelItem* item = nullptr;
    Uint8* p = nullptr;
    if (seq->getItem(item, i).bad() || !item || item->getUint8Array(p).bad())
      throw InputError(path + ": cannot read JPEG 2000 fragment " + std::to_string(i) + " (truncated or corrupt file).");
    const std::size_t len = item->getLength();
    if (len && !p) throw InputError(path + ": JPEG 2000 fragment " + std::to_string(i) + " is empty or unreadable.");
    frags.push_back({p, len, offset});
    offset += 8 + len;
  }
  std::vector<std::size_t> starts;  // first fragment index of each frame
  std::vector<uint32_t> table;
  DcmPixelItem* bot = nullptr;
  Uint8* bp = nullptr;
  if (seq->getItem(bot, 0).good() && bot && bot->getLength() >= 4 && bot->getUint8Array(bp).good() && bp) {
    for (std::size_t k = 0; k + 4 <= bot->getLength(); k += 4)
      table.push_back(uint32_t(bp[k]) | uint32_t(bp[k + 1]) << 8 | uint32_t(bp[k + 2]) << 16 | uint32_t(bp[k + 3]) << 24);
  }
  if (frames == 1) {
    starts = {0};
  } else if (static_cast<int>(table.size()) == frames) {
    for (uint32_t off : table) {
      auto it = std::find_if(frags.begin(), frags.end(), [&](const Fragment& f) { return f.offset == off; });
      if (it == frags.end()) throw InputError(path + ": the JPEG 2000 offset table points between fragments (corrupt file).");
      starts.push_back(static_cast<std::size_t>(it - frags.begin()));
    }
  } else if (static_cast<int>(frags.size()) == frames) {
    for (std::size_t i = 0; i < frags.size(); ++i) starts.push_back(i);
  } else {
    // No usable offset table: a frame starts where a fragment starts a new codestream.
    for (std::size_t i = 0; i < frags.size(); ++i)
      if (Jpeg2000Decoder::looksLikeJpeg2000(frags[i].data, frags[i].size)) starts.push_back(i);
  }
  if (static_cast<int>(starts.size()) != frames)
    throw InputError(path + ": found " + std::to_string(starts.size()) + " JPEG 2000 frames but NumberOfFrames is " +
                     std::to_string(frames) + " (corrupt file).");
  std::vector<std::vector<uint8_t>> out(static_cast<std::size_t>(frames));
  for (std::size_t f = 0; f < starts.size(); ++f) {
    const std::size_t end = f + 1 < starts.size() ? starts[f + 1] : frags.size();
    for (std::size_t i = starts[f]; i < end; ++i) out[f].insert(out[f].end(), frags[i].data, frags[i].data + frags[i].size);
  }
  return out;
}

struct Target {
  int frame;
  int64_t z;
  const FrameInfo* info;
};

class SliceSink {
public:
  SliceSink(Volume& v, std::size_t total, const TaskContext* ctx) : v_(v), total_(total), ctx_(ctx) {}
  void put(const int64_t* ints, const Target& t) {
    const std::size_t n = static_cast<std::size_t>(v_.geom.dims[0] * v_.geom.dims[1]);
    storeSlice(ints, n, *t.info, v_.voxels.data() + static_cast<std::size_t>(t.z) * n, stats);
    ++done_;
    reportProgress(ctx_, kScanShare + (1.0 - kScanShare) * static_cast<double>(done_) / static_cast<double>(total_),
                   "Decoding DICOM slice " + std::to_string(done_) + "/" + std::to_string(total_));
    checkCancel(ctx_);
  }
  ValueStats stats;

private:
  Volume& v_;
  std::size_t total_;
  std::size_t done_ = 0;
  const TaskContext* ctx_;
};

void loadFullFile(DcmFileFormat& ff, const std::string& path) {
  const OFCondition st = ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, kLazyElementBytes, ERM_autoDetect);
  if (st.bad())
    throw InputError("Cannot read the DICOM file " + path + " (" + st.text() +
                     "); it is probably truncated or corrupt. Remove it or replace it with a good copy.");
}

void decodeJpeg2000File(const FileHeader& h, const std::vector<Target>& targets, SliceSink& sink) {
  DcmFileFormat ff;
  loadFullFile(ff, h.path);
  DcmDataset* ds = ff.getDataset();
  DcmElement* elem = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, elem).bad() || !elem)
    throw InputError(h.path + ": no pixel data.");
  auto* pixels = dynamic_cast<DcmPixelData*>(elem);
  if (!pixels) throw InputError(h.path + ": the pixel data element is malformed.");
  E_TransferSyntax repType = EXS_Unknown;
  const DcmRepresentationParameter* repParam = nullptr;
  pixels->getOriginalRepresentationKey(repType, repParam);
  DcmPixelSequence* seq = nullptr;
  if (pixels->getEncapsulatedRepresentation(repType, repParam, seq).bad() || !seq)
    throw InputError(h.path + ": the JPEG 2000 pixel data is not encapsulated (corrupt file).");
  const auto frames = jpeg2000Frames(seq, h.frames, h.path);
  const std::size_t n = static_cast<std::size_t>(h.rows) * static_cast<std::size_t>(h.columns);
  std::vector<int64_t> ints(n);
  const int bitsStored = (h.bitsStored > 0 && h.bitsStored <= 32) ? h.bitsStored : 16;
  for (const Target& t : targets) {
    const std::string what = h.path + (h.frames > 1 ? ", frame " + std::to_string(t.frame + 1) : std::string());
    const auto& data = frames[static_cast<std::size_t>(t.frame)];
    const Jpeg2000Image img = Jpeg2000Decoder::decode(data.data(), data.size(), what);
    if (img.width != h.columns || img.height != h.rows)
      throw InputError(what + ": the JPEG 2000 image is " + std::to_string(img.width) + "x" + std::to_string(img.height) +
                       " but the DICOM header says " + std::to_string(h.columns) + "x" + std::to_string(h.rows) + ".");
    if (img.components != 1)
      throw InputError(what + ": the JPEG 2000 image has " + std::to_string(img.components) +
                       " components; juleseg reads greyscale images only.");
    const uint64_t mask = bitsStored >= 32 ? 0xFFFFFFFFull : ((uint64_t{1} << bitsStored) - 1);
    for (std::size_t i = 0; i < n; ++i) {
      const int32_t s = img.samples[i];
      if (img.isSigned) {
        ints[i] = s;
        continue;
      }
      // Some encoders store signed DICOM pixels as an unsigned codestream: reinterpret the stored bits.
      uint64_t v = static_cast<uint32_t>(s) & mask;
      if (h.pixelRepresentation == 1 && ((v >> (bitsStored - 1)) & 1u)) ints[i] = static_cast<int64_t>(v) - int64_t(mask) - 1;
      else ints[i] = static_cast<int64_t>(v);
    }
    sink.put(ints.data(), t);
  }
}

void decodeDcmtkFile(const FileHeader& h, const std::vector<Target>& targets, SliceSink& sink) {
  DcmFileFormat ff;
  loadFullFile(ff, h.path);
  DcmDataset* ds = ff.getDataset();
  DcmElement* pixels = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, pixels).bad() || !pixels) throw InputError(h.path + ": no pixel data.");
  Uint32 frameBytes = 0;
  OFCondition st = pixels->getUncompressedFrameSize(ds, frameBytes);
  const std::size_t n = static_cast<std::size_t>(h.rows) * static_cast<std::size_t>(h.columns);
  const std::size_t bytesPer = static_cast<std::size_t>(h.bitsAllocated / 8);
  if (st.bad() || frameBytes < n * bytesPer)
    throw InputError(h.path + ": cannot size the pixel data (" + std::string(st.bad() ? st.text() : "too small") + ").");
  std::vector<uint8_t> buf(frameBytes + (frameBytes & 1u));
  std::vector<int64_t> ints(n);
  const SampleLayout layout = layoutOf(h);
  DcmFileCache cache;
  Uint32 startFragment = 0;
  for (const Target& t : targets) {  // ascending frames, as DCMTK's fragment search expects
    OFString colorModel;
    st = pixels->getUncompressedFrame(ds, static_cast<Uint32>(t.frame), startFragment, buf.data(),
                                      static_cast<Uint32>(buf.size()), colorModel, &cache);
    if (st.bad())
      throw InputError(h.path + (h.frames > 1 ? ", frame " + std::to_string(t.frame + 1) : std::string()) +
                       ": cannot decode the pixel data (" + st.text() + "); the file is probably truncated or corrupt.");
    const uint8_t* b = buf.data();
    // DCMTK hands uncompressed values over in the machine's byte order.
    switch (h.bitsAllocated) {
      case 8:
        for (std::size_t i = 0; i < n; ++i) ints[i] = layout.decode(b[i]);
        break;
      case 16:
        for (std::size_t i = 0; i < n; ++i) {
          uint16_t w;
          std::memcpy(&w, b + 2 * i, 2);
          ints[i] = layout.decode(w);
        }
        break;
      default:
        for (std::size_t i = 0; i < n; ++i) {
          uint32_t w;
          std::memcpy(&w, b + 4 * i, 4);
          ints[i] = layout.decode(w);
        }
        break;
    }
    sink.put(ints.data(), t);
  }
}

void checkDecodable(const FileHeader& h) {
  if (h.codec == Codec::Unsupported) {
    const std::string newer = newerTransferSyntaxName(h.xferUid);
    throw InputError(unsupportedSyntaxMessage(h.path, newer.empty() ? h.xferName : newer, h.xferUid));
  }
  if (h.samplesPerPixel != 1)
    throw InputError(h.path + " is a colour image (" + h.photometric + ", " + std::to_string(h.samplesPerPixel) +
                     " samples per pixel); juleseg reads greyscale DICOM series only.");
  if (h.bitsAllocated != 8 && h.bitsAllocated != 16 && h.bitsAllocated != 32)
    throw InputError(h.path + " has " + std::to_string(h.bitsAllocated) +
                     " bits allocated per pixel; juleseg reads 8, 16 or 32.");
}


PixelType typeFor(const ValueStats& s) {
  if (s.integral && s.lo >= -32768.0 && s.hi <= 32767.0) return PixelType::Int16;
  if (s.integral && s.lo >= 0.0 && s.hi <= 65535.0) return PixelType::UInt16;
  return PixelType::Float32;
}

} // namespace

bool DicomSeriesReader::looksLikeDicom(const std::string& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return false;
  if (hasDicmMagic(file)) return true;
  if (!looksLikeBareDataset(file)) return false;
  initDcmtk();
  FileHeader h;
  try {
    return readHeader(file, false, h) != Probe::NotDicom;
  } catch (const Error&) {
    return false;
  }
}

bool DicomSeriesReader::folderHasDicom(const std::string& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return false;
  if (dicomdirInFolder(folder)) return true;
  for (fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec) && (isDicomdirName(it->path()) || looksLikeDicom(it->path().string()))) return true;
  }
  return false;
}

std::vector<DicomSeriesInfo> DicomSeriesReader::listSeries(const std::string& folderOrDicomdir, const TaskContext* ctx) {
  return infosOf(scanInput(folderOrDicomdir, ctx));
}

std::string DicomSeriesReader::formatSeriesList(const std::vector<DicomSeriesInfo>& series) {
  std::ostringstream os;
  for (std::size_t i = 0; i < series.size(); ++i) {
    const DicomSeriesInfo& s = series[i];
    os << "  " << (i + 1) << ": " << (s.seriesUid.empty() ? "(no UID)" : s.seriesUid) << "  \""
       << s.description << "\"  " << (s.modality.empty() ? "?" : s.modality) << ", " << s.slices
       << (s.slices == 1 ? " slice" : " slices") << ", " << s.columns << "x" << s.rows;
    if (!s.transferSyntax.empty()) os << ", " << s.transferSyntax;
    if (i + 1 < series.size()) os << "\n";
  }
  return os.str();
}

namespace {
DicomSource describeSource(const Scan& scan, const Series& series, const std::vector<SliceRef>& slices) {
  DicomSource src;
  const FileHeader& first = scan.files[slices.front().file];
  src.studyInstanceUid = first.studyUid;
  src.seriesInstanceUid = series.info.seriesUid;
  src.frameOfReferenceUid = first.frameOfReferenceUid;
  src.modality = first.modality;
  src.patientStudyAttributes = first.patientStudy;
  for (const SliceRef& s : slices) {
    const FileHeader& h = scan.files[s.file];
    DicomSourceSlice slice;
    slice.sopClassUid = h.sopClassUid;
    slice.sopInstanceUid = h.sopInstanceUid;
    slice.frameNumber = h.frames > 1 ? s.frame + 1 : 0;
    if (s.info->position) {
      slice.hasPosition = true;
      slice.position = *s.info->position;
    }
    src.slices.push_back(slice);
  }
  return src;
}
} // namespace

DicomSource DicomSeriesReader::readSource(const std::string& folderOrDicomdir, const ReadOptions& options,
                                          const TaskContext* ctx) {
  const Scan scan = scanInput(folderOrDicomdir, ctx);
  const Series& series = pickSeries(scan, options.series);
  std::vector<SliceRef> slices;
  for (std::size_t fi : series.files) {
    const FileHeader& h = scan.files[fi];
    for (int f = 0; f < h.frames; ++f) slices.push_back({fi, f, &h.frameInfo[static_cast<std::size_t>(f)], h.instance});
  }
  std::vector<std::string> warnings;
  buildGeometry(scan, series, slices, warnings);  // orders the slices exactly as read() does
  return describeSource(scan, series, slices);
}

Volume DicomSeriesReader::read(const std::string& folderOrDicomdir, const ReadOptions& options, const TaskContext* ctx) {
  const Scan scan = scanInput(folderOrDicomdir, ctx);
  const Series& series = pickSeries(scan, options.series);

  std::vector<SliceRef> slices;
  for (std::size_t fi : series.files) {
    const FileHeader& h = scan.files[fi];
    checkDecodable(h);
    for (int f = 0; f < h.frames; ++f) slices.push_back({fi, f, &h.frameInfo[static_cast<std::size_t>(f)], h.instance});
  }

  Volume vol;
  vol.sourcePath = folderOrDicomdir;
  vol.description = series.info.description;
  vol.geom = buildGeometry(scan, series, slices, vol.warnings);
  if (options.spacing) {
    vol.geom.spacing = *options.spacing;
    vol.geom.spacingKnown = true;
  }
  // Zero-filling touches every page, so an oversized request would meet the OOM killer, not bad_alloc.
  const std::size_t needMb = vol.geom.voxelCount() * sizeof(float) / (1024 * 1024);
  const std::size_t availMb = availableMemoryBytes() / (1024 * 1024);
  const std::string tooBig = "The DICOM series (" + std::to_string(vol.geom.dims[0]) + "x" + std::to_string(vol.geom.dims[1]) +
                             "x" + std::to_string(vol.geom.dims[2]) + ") needs " + std::to_string(needMb) +
                             " MB as float32 voxels";
  if (availMb && needMb > availMb)
    throw ResourceError(tooBig + " but only " + std::to_string(availMb) +
                        " MB are available. Free memory or load a subset of the slices.");
  try {
    vol.voxels.assign(vol.geom.voxelCount(), 0.0f);
  } catch (const std::bad_alloc&) {
    throw ResourceError(tooBig + ", which could not be allocated. Free memory or load a subset of the slices.");
  }

  // Decode file by file (a multi-frame file is read once) in the files' scan order.
  std::map<std::size_t, std::vector<Target>> perFile;
  for (std::size_t z = 0; z < slices.size(); ++z)
    perFile[slices[z].file].push_back({slices[z].frame, static_cast<int64_t>(z), slices[z].info});
  SliceSink sink(vol, slices.size(), ctx);
  for (auto& entry : perFile) {
    std::vector<Target>& targets = entry.second;
    std::sort(targets.begin(), targets.end(), [](const Target& a, const Target& b) { return a.frame < b.frame; });
    checkCancel(ctx);
    const FileHeader& h = scan.files[entry.first];
    guardDcmtk(h.path, [&] {
      if (h.codec == Codec::Jpeg2000) decodeJpeg2000File(h, targets, sink);
      else decodeDcmtkFile(h, targets, sink);
    });
  }
  vol.originalType = typeFor(sink.stats);
  reportProgress(ctx, 1.0, "Loaded DICOM series");
  return vol;
}

} // namespace jseg
