#include "core/io/AtomicFile.h"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "core/base/Errors.h"

namespace jseg {

namespace fs = std::filesystem;

namespace {
std::string makeTempName(const std::string& target) {
  static std::atomic<unsigned> counter{0};
  fs::path p(target);
  std::string name = "." + p.filename().string() + ".part-" + std::to_string(::getpid()) + "-" +
                     std::to_string(counter.fetch_add(1));
  return (p.parent_path() / name).string();
}
} // namespace

AtomicFile::AtomicFile(std::string target) : target_(std::move(target)), temp_(makeTempName(target_)) {
  fs::path parent = fs::path(target_).parent_path();
  if (!parent.empty() && !fs::is_directory(parent))
    throw InputError("cannot write " + target_ + ": folder " + parent.string() + " does not exist");
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicFile::commit() {
  std::error_code ec;
  fs::rename(temp_, target_, ec);
  if (ec) throw Error("cannot write " + target_ + ": " + ec.message());
  committed_ = true;
}

void writeFileAtomically(const std::string& path, const std::string& bytes) {
  AtomicFile f(path);
  {
    std::ofstream out(f.tempPath(), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw Error("cannot write " + path + " (disk full or no permission?)");
  }
  f.commit();
}

} // namespace jseg
