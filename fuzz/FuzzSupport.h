#pragma once
// Shared by the fuzz targets: the readers take paths, so each input goes to a file in a private temp
// folder; and a volume a reader returns must be self-consistent, or that is a finding too.
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/base/Errors.h"
#include "core/base/Volume.h"

namespace jseg::fuzz {

namespace fs = std::filesystem;

// One folder per process (libFuzzer may run several jobs side by side), emptied for every input.
inline const fs::path& workFolder(const char* name) {
  static const fs::path dir = [name] {
    fs::path d = fs::temp_directory_path() / (std::string("juleseg-") + name + "-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

inline void clearFolder(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) fs::remove_all(e.path(), ec);
}

inline void writeFile(const fs::path& path, const uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) {
    std::fprintf(stderr, "fuzz harness: cannot write %s\n", path.c_str());
    std::abort();
  }
}

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "FINDING: %s\n", what.c_str());
  std::abort();
}

// What every reader promises for a volume it returns.
inline void checkVolume(const Volume& v) {
  const auto& g = v.geom;
  for (int i = 0; i < 3; ++i) {
    if (g.dims[i] < 1) finding("reader returned a volume with dims[" + std::to_string(i) + "] < 1");
    if (!(std::isfinite(g.spacing[i]) && g.spacing[i] > 0)) finding("reader returned a non-positive or non-finite spacing");
    if (!std::isfinite(g.origin[i])) finding("reader returned a non-finite origin");
  }
  for (double d : g.direction)
    if (!std::isfinite(d)) finding("reader returned a non-finite direction matrix");
  if (v.voxels.size() != g.voxelCount()) finding("reader returned a voxel buffer that does not match its dims");
  // Touch every voxel so that a short buffer shows up under AddressSanitizer.
  volatile float sink = 0;
  for (float x : v.voxels) sink = sink + x;
  (void)sink;
}

// Runs a reader: jseg::Error is the expected answer to bad input; anything else is a finding.
template <typename Fn>
void expectOnlyJsegErrors(Fn&& read) {
  try {
    read();
  } catch (const jseg::Error&) {
  } catch (const std::exception& e) {
    finding(std::string("unexpected exception (not jseg::Error): ") + e.what());
  } catch (...) {
    finding("unexpected exception of unknown type");
  }
}

} // namespace jseg::fuzz
