#pragma once
// SHA-256 (FIPS 180-4) of files and folders, to record exactly which input a project was made from.
#include <cstdint>
#include <string>

namespace jseg {

class Sha256 {
public:
  Sha256();
  void update(const void* data, std::size_t size);
  std::string hexDigest();  // finalises; the object must not be updated afterwards

private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buffer_[64];
  std::size_t bufferUsed_ = 0;
  uint64_t totalBytes_ = 0;
};

// Hash of a file's bytes; for a folder, of its regular files' relative paths and bytes in sorted order.
std::string sha256OfPath(const std::string& path);

} // namespace jseg
