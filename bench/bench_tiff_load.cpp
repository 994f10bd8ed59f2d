// Loading a large 16-bit TIFF stack: throughput and peak memory over the float32 volume.
// Usage: bench_tiff_load [width height pages] [--deflate]
// Writes a multi-page uint16 stack (default 1024 x 1024 x 512 = 1 GiB, uncompressed; --deflate: deflate
// level 1) into a temporary folder with libtiff, loads it with TiffStackReader, prints one JSON line
// and deletes the file. The file was just written, so it is read from the page cache (decode and
// conversion cost, not disk speed). MB here are MiB.
// bench-links: juleseg_io TIFF::TIFF
#include <tiffio.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "core/io/TiffStackReader.h"

namespace fs = std::filesystem;

namespace {

int quiet(TIFF*, void*, const char*, const char*, va_list) { return 1; }

// kB from /proc/self/status ("VmRSS", "VmHWM").
long statusKb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::size_t n = std::strlen(key);
  while (std::getline(in, line))
    if (line.compare(0, n, key) == 0 && line.size() > n && line[n] == ':') return std::atol(line.c_str() + n + 1);
  return -1;
}

// Resets VmHWM to the current RSS (Linux >= 4.0), so the peak covers the load only.
void resetPeak() { std::ofstream("/proc/self/clear_refs") << "5"; }

bool writeStack(const std::string& path, uint32_t w, uint32_t h, uint32_t pages, bool deflate) {
  TIFFOpenOptions* o = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(o, quiet, nullptr);
  TIFFOpenOptionsSetWarningHandlerExtR(o, quiet, nullptr);
  const double bytes = double(w) * h * pages * 2;
  TIFF* t = TIFFOpenExt(path.c_str(), bytes > 3.5e9 ? "w8" : "w", o);
  TIFFOpenOptionsFree(o);
  if (!t) return false;
  const uint32_t rowsPerStrip = std::max<uint32_t>(1, 131072 / (w * 2));
  std::vector<uint16_t> strip(std::size_t(w) * rowsPerStrip);
  uint32_t seed = 1;
  for (uint32_t z = 0; z < pages; ++z) {
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, uint16_t(16));
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, uint16_t(SAMPLEFORMAT_UINT));
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rowsPerStrip);
    TIFFSetField(t, TIFFTAG_COMPRESSION, deflate ? COMPRESSION_ADOBE_DEFLATE : COMPRESSION_NONE);
    if (deflate) TIFFSetField(t, TIFFTAG_ZIPQUALITY, 1);
    uint32_t s = 0;
    for (uint32_t y0 = 0; y0 < h; y0 += rowsPerStrip, ++s) {
      const uint32_t rows = std::min(rowsPerStrip, h - y0);
      // a smooth object plus 6 bits of noise: compresses roughly like a micro-CT
      for (uint32_t r = 0; r < rows; ++r)
        for (uint32_t x = 0; x < w; ++x) {
          seed = seed * 1664525u + 1013904223u;
          const uint32_t y = y0 + r;
          strip[std::size_t(r) * w + x] = uint16_t(((x ^ y) & 0x3ff) * 32 + (z & 0xff) + (seed >> 26));
        }
      if (TIFFWriteEncodedStrip(t, s, strip.data(), tmsize_t(rows) * w * 2) < 0) {
        TIFFClose(t);
        return false;
      }
    }
    if (!TIFFWriteDirectory(t)) {
      TIFFClose(t);
      return false;
    }
  }
  TIFFClose(t);
  return true;
}

} // namespace

int main(int argc, char** argv) {
  uint32_t w = 1024, h = 1024, pages = 512;
  bool deflate = false;
  std::vector<std::string> nums;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--deflate") deflate = true;
    else nums.push_back(argv[i]);
  }
  if (nums.size() == 3) {
    w = uint32_t(std::stoul(nums[0]));
    h = uint32_t(std::stoul(nums[1]));
    pages = uint32_t(std::stoul(nums[2]));
  }
  const fs::path dir = fs::temp_directory_path() / ("juleseg-bench-tiff-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "stack.tif").string();
  if (!writeStack(path, w, h, pages, deflate)) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    fs::remove_all(dir);
    return 1;
  }
  const auto bytesOnDisk = fs::file_size(path);

  resetPeak();
  const long rssBefore = statusKb("VmRSS");
  const auto t0 = std::chrono::steady_clock::now();
  double seconds = 0;
  long peakKb = 0;
  std::size_t voxels = 0;
  float probe = 0;
  try {
    const jseg::Volume v = jseg::TiffStackReader::read(path);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    peakKb = statusKb("VmHWM") - rssBefore;
    voxels = v.voxels.size();
    probe = v.at(w / 2, h / 2, pages / 2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "load failed: %s\n", e.what());
    fs::remove_all(dir);
    return 1;
  }
  fs::remove_all(dir);

  const double mib = 1024.0 * 1024.0;
  const double float32Mb = double(voxels) * 4 / mib;
  const double peakMb = double(peakKb) / 1024.0;
  std::printf("{\"bench\":\"tiff_load\",\"width\":%u,\"height\":%u,\"pages\":%u,\"compression\":\"%s\","
              "\"bytes_on_disk\":%llu,\"voxels\":%zu,\"seconds\":%.3f,\"mb_per_s\":%.1f,\"peak_rss_mb\":%.1f,"
              "\"float32_mb\":%.1f,\"peak_over_float32\":%.3f,\"probe_value\":%.0f}\n",
              w, h, pages, deflate ? "deflate-1" : "none", static_cast<unsigned long long>(bytesOnDisk), voxels,
              seconds, double(bytesOnDisk) / mib / seconds, peakMb, float32Mb, peakMb / float32Mb, double(probe));
  return 0;
}
