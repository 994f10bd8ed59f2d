// Seed corpora for the fuzz targets, made from the shared test volumes at run time (nothing is
// copied into the repository). Every seed stays small (well under 1 MB) so that libFuzzer's mutations
// stay fast: crops of the real volumes written in many TIFF/NIfTI layouts, truncated copies of the big
// files, and the small real DICOM files (single, cropped, and joined into multi-file series with the
// separator fuzz_dicom understands).
//
//   juleseg_fuzz_seeds <shared-data-folder> <output-folder>   -> <output>/{tiff,nifti,dicom}/...
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <tiffio.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "core/base/Errors.h"
#include "core/io/NiftiIO.h"
#include "core/io/TiffStackReader.h"

namespace fs = std::filesystem;
using namespace jseg;

namespace {

int seedCount = 0;

std::string readAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeSeed(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw Error("cannot write seed " + p.string());
  ++seedCount;
}

Volume crop(const Volume& v, int x0, int y0, int z0, int nx, int ny, int nz) {
  Volume c;
  c.originalType = v.originalType;
  c.geom = v.geom;
  c.geom.dims = {nx, ny, nz};
  c.geom.origin = v.geom.indexToWorld(x0, y0, z0);
  c.voxels.resize(c.geom.voxelCount());
  for (int z = 0; z < nz; ++z)
    for (int y = 0; y < ny; ++y)
      for (int x = 0; x < nx; ++x) c.at(x, y, z) = v.at(x0 + x, y0 + y, z0 + z);
  return c;
}

// ---- TIFF layouts our writer does not produce (libtiff directly) ----

struct TiffLayout {
  const char* name;
  uint16_t bits, format, compression, spp;
  bool tiled;
  const char* mode;  // "w", "wb" (big-endian), "w8" (BigTIFF)
  uint16_t predictor = 1;
};

template <typename T>
void putSample(std::vector<uint8_t>& row, std::size_t i, double v) {
  // Brain values are 12-bit: clamp for the narrow types instead of wrapping.
  const T t = static_cast<T>(std::clamp<double>(v, double(std::numeric_limits<T>::lowest()),
                                                double(std::numeric_limits<T>::max())));
  std::memcpy(row.data() + i * sizeof(T), &t, sizeof(T));
}

void putValue(const TiffLayout& l, std::vector<uint8_t>& buf, std::size_t i, double v) {
  if (l.format == SAMPLEFORMAT_IEEEFP) {
    if (l.bits == 32) putSample<float>(buf, i, v);
    else putSample<double>(buf, i, v);
  } else if (l.format == SAMPLEFORMAT_INT) {
    if (l.bits == 8) putSample<int8_t>(buf, i, v / 2);
    else if (l.bits == 16) putSample<int16_t>(buf, i, v);
    else putSample<int32_t>(buf, i, v);
  } else {
    if (l.bits == 8) putSample<uint8_t>(buf, i, v);
    else if (l.bits == 16) putSample<uint16_t>(buf, i, v);
    else putSample<uint32_t>(buf, i, v);
  }
}

void writeLibtiff(const fs::path& p, const Volume& v, const TiffLayout& l) {
  TIFF* t = TIFFOpen(p.c_str(), l.mode);
  if (!t) throw Error("cannot create " + p.string());
  const uint32_t w = static_cast<uint32_t>(v.geom.dims[0]), h = static_cast<uint32_t>(v.geom.dims[1]);
  const std::size_t sampleBytes = l.bits / 8;
  for (int64_t z = 0; z < v.geom.dims[2]; ++z) {
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, l.bits);
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, l.format);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, l.spp);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, l.spp == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, l.compression);
    if (l.predictor != 1) TIFFSetField(t, TIFFTAG_PREDICTOR, l.predictor);
    TIFFSetField(t, TIFFTAG_XRESOLUTION, 2.0f);
    TIFFSetField(t, TIFFTAG_YRESOLUTION, 2.0f);
    TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, uint16_t(RESUNIT_CENTIMETER));
    if (v.geom.dims[2] > 1) {
      TIFFSetField(t, TIFFTAG_SUBFILETYPE, uint32_t(FILETYPE_PAGE));
      TIFFSetField(t, TIFFTAG_PAGENUMBER, uint16_t(z), uint16_t(v.geom.dims[2]));
    }
    auto value = [&](uint32_t x, uint32_t y) { return double(v.at(x, y, z)); };
    if (l.tiled) {
      const uint32_t tile = 16;
      TIFFSetField(t, TIFFTAG_TILEWIDTH, tile);
      TIFFSetField(t, TIFFTAG_TILELENGTH, tile);
      std::vector<uint8_t> buf(std::size_t(tile) * tile * l.spp * sampleBytes);
      for (uint32_t ty = 0; ty < h; ty += tile)
        for (uint32_t tx = 0; tx < w; tx += tile) {
          std::fill(buf.begin(), buf.end(), 0);
          for (uint32_t y = 0; y < tile && ty + y < h; ++y)
            for (uint32_t x = 0; x < tile && tx + x < w; ++x)
              for (uint16_t s = 0; s < l.spp; ++s)
                putValue(l, buf, (std::size_t(y) * tile + x) * l.spp + s, value(tx + x, ty + y) * (s + 1) / l.spp);
          if (TIFFWriteTile(t, buf.data(), tx, ty, 0, 0) < 0) throw Error("cannot write a tile of " + p.string());
        }
    } else {
      TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, uint32_t(4));
      std::vector<uint8_t> row(std::size_t(w) * l.spp * sampleBytes);
      for (uint32_t y = 0; y < h; ++y) {
        for (uint32_t x = 0; x < w; ++x)
          for (uint16_t s = 0; s < l.spp; ++s) putValue(l, row, std::size_t(x) * l.spp + s, value(x, y) * (s + 1) / l.spp);
        if (TIFFWriteScanline(t, row.data(), y, 0) < 0) throw Error("cannot write a row of " + p.string());
      }
    }
    if (!TIFFWriteDirectory(t)) throw Error("cannot finish a page of " + p.string());
  }
  TIFFClose(t);
  ++seedCount;
}

void tiffSeeds(const fs::path& data, const fs::path& out) {
  fs::create_directories(out);
  const Volume t1 = TiffStackReader::read((data / "mni152/t1.tif").string());
  const Volume brain = TiffStackReader::read((data / "tiff/brain.tiff").string());
  const Volume t1Crop = crop(t1, 90, 100, 90, 24, 20, 3);
  const Volume brainCrop = crop(brain, 100, 100, 4, 20, 24, 3);

  // Our own writer: ImageJ descriptions with spacing, deflate.
  writeTiffVolume(t1Crop, (out / "t1-crop-imagej-u8.tif").string());
  writeTiffVolume(brainCrop, (out / "brain-crop-imagej-u16.tif").string());
  Volume asFloat = t1Crop;
  asFloat.originalType = PixelType::Float32;
  writeTiffVolume(asFloat, (out / "t1-crop-imagej-f32.tif").string());
  LabelVolume labels;
  labels.geom = t1Crop.geom;
  for (float x : t1Crop.voxels) labels.labels.push_back(static_cast<uint16_t>(x / 64));
  writeTiffLabels(labels, (out / "t1-crop-labels.tif").string());
  seedCount += 4;

  // Layouts and codecs beyond what our writer produces.
  const TiffLayout layouts[] = {
      {"u16-strips-none", 16, SAMPLEFORMAT_UINT, COMPRESSION_NONE, 1, false, "w"},
      {"u8-tiles-lzw-be", 8, SAMPLEFORMAT_UINT, COMPRESSION_LZW, 1, true, "wb", 2},
      {"f32-strips-packbits-bigtiff", 32, SAMPLEFORMAT_IEEEFP, COMPRESSION_PACKBITS, 1, false, "w8"},
      {"i16-strips-deflate-pred", 16, SAMPLEFORMAT_INT, COMPRESSION_ADOBE_DEFLATE, 1, false, "w", 2},
      {"u8-rgb-strips-none", 8, SAMPLEFORMAT_UINT, COMPRESSION_NONE, 3, false, "w"},
      {"f64-strips-none-be", 64, SAMPLEFORMAT_IEEEFP, COMPRESSION_NONE, 1, false, "wb"},
      {"i32-tiles-deflate", 32, SAMPLEFORMAT_INT, COMPRESSION_ADOBE_DEFLATE, 1, true, "w"},
      {"u32-strips-lzw", 32, SAMPLEFORMAT_UINT, COMPRESSION_LZW, 1, false, "w"},
      {"i8-strips-none", 8, SAMPLEFORMAT_INT, COMPRESSION_NONE, 1, false, "w"},
  };
  for (const TiffLayout& l : layouts) writeLibtiff(out / (std::string(l.name) + ".tif"), brainCrop, l);
  writeLibtiff(out / "u16-single-page.tif", crop(brain, 60, 60, 5, 32, 16, 1),
               {"single", 16, SAMPLEFORMAT_UINT, COMPRESSION_NONE, 1, false, "w"});

  // Truncated copies of the real stacks: damaged IFD chains and strips.
  writeSeed(out / "t1-truncated.tif", readAll(data / "mni152/t1.tif").substr(0, 16384));
  writeSeed(out / "brain-truncated.tif", readAll(data / "tiff/brain.tiff").substr(0, 32768));
}

// ---- NIfTI ----

// A big-endian copy of a little-endian uncompressed int16 NIfTI written by our writer.
std::string byteSwappedNifti(const std::string& le) {
  std::string be = le;
  auto swapAt = [&](std::size_t off, std::size_t n) { std::reverse(be.begin() + off, be.begin() + off + n); };
  swapAt(0, 4);
  for (int i = 0; i < 8; ++i) swapAt(40 + 2 * i, 2);
  swapAt(70, 2);
  swapAt(72, 2);
  for (int i = 0; i < 8; ++i) swapAt(76 + 4 * i, 4);
  for (std::size_t off : {108, 112, 116}) swapAt(off, 4);
  swapAt(252, 2);
  swapAt(254, 2);
  for (int i = 0; i < 6 + 12; ++i) swapAt(256 + 4 * i, 4);
  for (std::size_t off = 352; off + 2 <= be.size(); off += 2) swapAt(off, 2);
  return be;
}

void niftiSeeds(const fs::path& data, const fs::path& out) {
  fs::create_directories(out);
  writeSeed(out / "example_seg.nii.gz", readAll(data / "ct-organs/example_seg.nii.gz"));
  writeSeed(out / "ct-truncated.nii.gz", readAll(data / "ct-organs/example_ct_sm.nii.gz").substr(0, 16384));
  const Volume t1 = NiftiIO::read((data / "mni152/t1.nii.gz").string());
  const Volume c = crop(t1, 80, 90, 80, 20, 16, 6);
  NiftiIO::write(c, (out / "t1-crop-u8.nii").string());
  Volume v = c;
  v.originalType = PixelType::Float32;
  NiftiIO::write(v, (out / "t1-crop-f32.nii").string());
  v.originalType = PixelType::Int16;
  NiftiIO::write(v, (out / "t1-crop-i16.nii.gz").string());
  NiftiIO::write(v, (out / "t1-crop-i16.nii").string());
  v.originalType = PixelType::Float64;
  NiftiIO::write(v, (out / "t1-crop-f64.nii").string());
  seedCount += 5;
  writeSeed(out / "t1-crop-i16-big-endian.nii", byteSwappedNifti(readAll(out / "t1-crop-i16.nii")));
}

// ---- DICOM ----

const char kSeparator[] = "JSEG-NXT";

std::string joined(const std::vector<fs::path>& files) {
  std::string s;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (i) s += kSeparator;
    s += readAll(files[i]);
  }
  return s;
}

// A 32x32 crop of a real 512x512 MR slice, saved in the given transfer syntax.
std::string croppedMr(const fs::path& src, const fs::path& tmp, E_TransferSyntax xfer) {
  DcmFileFormat ff;
  if (ff.loadFile(src.c_str()).bad()) throw Error("cannot read " + src.string());
  DcmDataset* ds = ff.getDataset();
  const Uint16* pixels = nullptr;
  unsigned long count = 0;
  Uint16 rows = 0, cols = 0;
  if (ds->findAndGetUint16(DCM_Rows, rows).bad() || ds->findAndGetUint16(DCM_Columns, cols).bad() ||
      ds->findAndGetUint16Array(DCM_PixelData, pixels, &count).bad() || count < std::size_t(rows) * cols)
    throw Error("unexpected layout in " + src.string());
  const int n = 32, x0 = 240, y0 = 240;
  std::vector<Uint16> cropped(n * n);
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) cropped[y * n + x] = pixels[(y0 + y) * cols + x0 + x];
  ds->putAndInsertUint16(DCM_Rows, n);
  ds->putAndInsertUint16(DCM_Columns, n);
  ds->putAndInsertUint16Array(DCM_PixelData, cropped.data(), cropped.size());
  if (ff.saveFile(tmp.c_str(), xfer).bad()) throw Error("cannot write " + tmp.string());
  std::string bytes = readAll(tmp);
  fs::remove(tmp);
  return bytes;
}

std::vector<fs::path> sortedFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

void dicomSeeds(const fs::path& data, const fs::path& out) {
  fs::create_directories(out);
  const fs::path edge = data / "dicom-edge";
  for (const auto& e : fs::recursive_directory_iterator(edge)) {
    if (!e.is_regular_file() || e.path().extension() == ".txt") continue;
    std::string name = fs::relative(e.path(), edge).string();
    std::replace(name.begin(), name.end(), '/', '_');
    writeSeed(out / ("edge_" + name), readAll(e.path()));
  }
  // Whole small series: slice order (descending z), a gap, two orientations.
  writeSeed(out / "series-ct2-gap", joined(sortedFiles(edge / "77654033/CT2")));
  writeSeed(out / "series-ct5n-descending", joined(sortedFiles(edge / "98892001/CT5N")));
  writeSeed(out / "series-ct2n-orientations", joined(sortedFiles(edge / "98892001/CT2N")));

  const std::vector<fs::path> mr = sortedFiles(data / "mr-dicom");
  const fs::path tmp = out / "tmp.dcm";
  const std::string a = croppedMr(mr.at(0), tmp, EXS_LittleEndianImplicit);
  const std::string b = croppedMr(mr.at(1), tmp, EXS_LittleEndianImplicit);
  writeSeed(out / "mr-crop-implicit", a);
  writeSeed(out / "mr-crop-big-endian", croppedMr(mr.at(2), tmp, EXS_BigEndianExplicit));
  writeSeed(out / "series-mr-crop-2", a + kSeparator + b);
  // One real JPEG 2000 slice (about 160 kB): the OpenJPEG path.
  const std::vector<fs::path> j2k = sortedFiles(data / "ct-organs/dicom-j2k");
  writeSeed(out / "ct-j2k-slice", readAll(j2k.at(0)));
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <shared-data-folder> <output-folder>\n", argv[0]);
    return 2;
  }
  try {
    const fs::path data = argv[1], out = argv[2];
    tiffSeeds(data, out / "tiff");
    niftiSeeds(data, out / "nifti");
    dicomSeeds(data, out / "dicom");
    for (const auto& e : fs::recursive_directory_iterator(out))
      if (e.is_regular_file() && e.file_size() >= 1024 * 1024) throw Error("seed too big: " + e.path().string());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "juleseg_fuzz_seeds: %s\n", e.what());
    return 1;
  }
  std::printf("juleseg_fuzz_seeds: %d seeds written to %s\n", seedCount, argv[2]);
  return 0;
}
