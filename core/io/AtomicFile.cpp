#include "core/io/AtomicFile.h"

#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <set>
#include <sys/stat.h>
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

// ".NAME.part-PID-N" -> PID, or -1 when the name is not one of ours.
long partFilePid(const std::string& name) {
  if (name.size() < 2 || name[0] != '.') return -1;
  const auto at = name.rfind(".part-");
  if (at == std::string::npos) return -1;
  const std::string rest = name.substr(at + 6);
  const auto dash = rest.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 >= rest.size()) return -1;
  for (std::size_t i = 0; i < rest.size(); ++i)
    if (i != dash && !std::isdigit(static_cast<unsigned char>(rest[i]))) return -1;
  return std::stol(rest.substr(0, dash));
}
} // namespace

bool processAlive(long pid) {
  if (pid <= 0) return false;
  return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
}

void removeStaleTemporaries(const std::string& folder) {
  static std::mutex mutex;
  static std::set<std::string> swept;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!swept.insert(folder.empty() ? std::string(".") : folder).second) return;
  }
  std::error_code ec;
  for (fs::directory_iterator it(folder.empty() ? fs::path(".") : fs::path(folder), ec), end; !ec && it != end;
       it.increment(ec)) {
    const long pid = partFilePid(it->path().filename().string());
    if (pid > 0 && pid != long(::getpid()) && !processAlive(pid)) {
      std::error_code rm;
      fs::remove(it->path(), rm);
    }
  }
}

std::string writeFailure(const std::string& target, int err, const std::string& fallback) {
  std::string reason = err ? std::string(std::strerror(err)) : fallback;
  if (err == ENOSPC || err == EDQUOT) reason += " (disk full)";
  else if (err == EFBIG) reason += " (file size limit reached)";
  return "cannot write " + target + ": " + reason;
}

void writeFileBytes(const std::string& path, const std::string& bytes, const std::string& target) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw WriteError(writeFailure(target, errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      throw WriteError(writeFailure(target, err));
    }
    done += std::size_t(n);
  }
  if (::close(fd) != 0) throw WriteError(writeFailure(target, errno));
}

AtomicFile::AtomicFile(std::string target) : target_(std::move(target)), temp_(makeTempName(target_)) {
  fs::path parent = fs::path(target_).parent_path();
  std::error_code ec;
  // A wrong output path is the user's input (InputError); a failing write of a good one is a WriteError.
  if (!parent.empty() && !fs::is_directory(parent, ec))
    throw InputError("cannot write " + target_ + ": folder " + parent.string() + " does not exist");
  if (fs::is_directory(target_, ec)) throw InputError("cannot write " + target_ + ": it is a folder");
  removeStaleTemporaries(parent.string());
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicFile::commit() {
  if (::rename(temp_.c_str(), target_.c_str()) != 0) throw WriteError(writeFailure(target_, errno));
  committed_ = true;
}

void writeFileAtomically(const std::string& path, const std::string& bytes) {
  AtomicFile f(path);
  writeFileBytes(f.tempPath(), bytes, path);
  f.commit();
}

} // namespace jseg
