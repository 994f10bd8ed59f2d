#include "core/io/OutputFolderTransaction.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/base/Errors.h"
#include "core/io/AtomicFile.h"

namespace jseg {

namespace fs = std::filesystem;

namespace {

constexpr const char* kNewTag = ".juleseg-new-";
constexpr const char* kOldTag = ".juleseg-old-";

std::string siblingName(const fs::path& target, const char* tag) {
  static std::atomic<unsigned> counter{0};
  return (target.parent_path() / ("." + target.filename().string() + tag + std::to_string(::getpid()) + "-" +
                                  std::to_string(counter.fetch_add(1))))
      .string();
}

// Atomic exchange of two paths (Linux renameat2 RENAME_EXCHANGE); false where the file system lacks it.
bool exchangePaths(const std::string& a, const std::string& b) {
#ifdef SYS_renameat2
  constexpr unsigned kRenameExchange = 2;  // RENAME_EXCHANGE of <linux/fs.h>
  return ::syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), kRenameExchange) == 0;
#else
  (void)a;
  (void)b;
  return false;
#endif
}

// A copy that shares the files' data (hard links), so carrying a large foreign file over costs nothing.
void linkTree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (fs::is_symlink(from, ec)) {
    fs::copy_symlink(from, to, ec);
  } else if (fs::is_directory(from, ec)) {
    fs::create_directory(to, ec);
    for (const auto& e : fs::directory_iterator(from, ec)) linkTree(e.path(), to / e.path().filename());
  } else {
    fs::create_hard_link(from, to, ec);
    if (ec) fs::copy_file(from, to, ec);
  }
  if (ec) throw WriteError("cannot carry " + from.string() + " over into the new result: " + ec.message());
}

} // namespace

bool OutputFolderTransaction::isResultEntry(const std::string& name) {
  static const char* exact[] = {"labels.nii.gz", "labels.tif", "label_table.json", "statistics.csv", "overlays",
                                "project.juleseg", "run.json", "model.pt", "model.json"};
  for (const char* e : exact)
    if (name == e) return true;
  auto startsEnds = [&](const std::string& a, const std::string& b) {
    return name.size() >= a.size() + b.size() && name.compare(0, a.size(), a) == 0 &&
           name.compare(name.size() - b.size(), b.size(), b) == 0;
  };
  // Temporary files of an older juleseg that was killed mid-write are not carried either.
  const bool partFile = !name.empty() && name[0] == '.' && name.find(".part-") != std::string::npos;
  return startsEnds("overlay_", ".png") || startsEnds("model.net", ".pt") || partFile;
}

void OutputFolderTransaction::removeStaleSiblings(const std::string& target) {
  const fs::path t(target);
  const std::string prefix = "." + t.filename().string();
  std::error_code ec;
  const fs::path parent = t.parent_path().empty() ? fs::path(".") : t.parent_path();
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = name.substr(prefix.size());
    for (const char* tag : {kNewTag, kOldTag}) {
      const std::string tg(tag);
      if (rest.compare(0, tg.size(), tg) != 0) continue;
      const std::string idPart = rest.substr(tg.size());
      const long pid = std::strtol(idPart.c_str(), nullptr, 10);
      if (pid > 0 && pid != long(::getpid()) && !processAlive(pid)) {
        std::error_code rm;
        fs::remove_all(it->path(), rm);
      }
    }
  }
}

OutputFolderTransaction::OutputFolderTransaction(std::string target) {
  std::error_code ec;
  // Absolute, so that "." or "out/" name the folder itself and its sibling lies beside it.
  fs::path t = fs::absolute(target, ec).lexically_normal();
  if (t.filename().empty()) t = t.parent_path();  // "out/" -> "out"
  if (t.empty() || t == t.root_path())
    throw WriteError("cannot write the results into " + target + ": give a folder below the root");
  // A symbolic link to a folder: the result replaces the folder it points to, the link stays.
  if (fs::is_symlink(t, ec)) t = fs::canonical(t, ec);
  target_ = t.string();
  if (fs::exists(t, ec) && !fs::is_directory(t, ec))
    throw WriteError("cannot write the results into " + target_ + ": it exists and is not a folder");
  const fs::path parent = t.parent_path().empty() ? fs::path(".") : t.parent_path();
  fs::create_directories(parent, ec);
  if (!fs::is_directory(parent))
    throw WriteError("cannot create output folder " + parent.string() + (ec ? ": " + ec.message() : std::string()));
  removeStaleSiblings(target_);
  staging_ = siblingName(t, kNewTag);
  if (::mkdir(staging_.c_str(), 0755) != 0)
    throw WriteError("cannot create the output folder " + target_ + ": " + std::strerror(errno));
}

OutputFolderTransaction::~OutputFolderTransaction() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

std::string OutputFolderTransaction::finalPath(const std::string& stagedPath) const {
  const fs::path rel = fs::path(stagedPath).lexically_relative(staging_);
  if (rel.empty() || *rel.begin() == "..") return stagedPath;
  return (fs::path(target_) / rel).string();
}

void OutputFolderTransaction::commit() {
  if (committed_) return;
  std::error_code ec;
  const fs::path t(target_);
  if (!fs::exists(t, ec)) {
    if (::rename(staging_.c_str(), target_.c_str()) != 0) throw WriteError(writeFailure(target_, errno));
    committed_ = true;
    return;
  }
  // Whatever the earlier folder holds besides results is kept.
  for (const auto& e : fs::directory_iterator(t, ec)) {
    const std::string name = e.path().filename().string();
    if (isResultEntry(name) || fs::exists(fs::path(staging_) / name)) continue;
    linkTree(e.path(), fs::path(staging_) / name);
  }
  if (exchangePaths(staging_, target_)) {
    committed_ = true;
    fs::remove_all(staging_, ec);  // now the earlier result
    return;
  }
  // No atomic exchange: retire the earlier result under a hidden name, then move the new one in. A crash
  // between the two renames leaves the earlier result under the retired name, which the next run removes.
  const std::string retired = siblingName(t, kOldTag);
  if (::rename(target_.c_str(), retired.c_str()) != 0) throw WriteError(writeFailure(target_, errno));
  if (::rename(staging_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    ::rename(retired.c_str(), target_.c_str());
    throw WriteError(writeFailure(target_, err));
  }
  committed_ = true;
  fs::remove_all(retired, ec);
}

} // namespace jseg
