#pragma once
// Writes that never leave a half-written output: write to a temporary name in the target's folder,
// then rename over the target in commit(). If commit() is not reached (exception, cancel), the
// destructor removes the temporary file. Temporary files of processes that died (kill -9, power loss)
// are removed the next time a file is written into the same folder.
#include <string>

namespace jseg {

class AtomicFile {
public:
  explicit AtomicFile(std::string target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Path to write to (same folder as the target, so the rename is atomic on one file system).
  const std::string& tempPath() const { return temp_; }
  const std::string& target() const { return target_; }
  // Renames the temporary file onto the target; throws WriteError on failure.
  void commit();

private:
  std::string target_;
  std::string temp_;
  bool committed_ = false;
};

// Convenience: writes `bytes` atomically to `path`; WriteError names the file and the system's reason.
void writeFileAtomically(const std::string& path, const std::string& bytes);

// Writes `bytes` to `path` (created or truncated) with POSIX calls, so that the reason of a failure (ENOSPC,
// EFBIG, EACCES, EROFS) reaches the message; `target` is the name the message uses. Throws WriteError.
void writeFileBytes(const std::string& path, const std::string& bytes, const std::string& target);

// "cannot write TARGET: REASON" from errno (or `fallback` when errno says nothing).
std::string writeFailure(const std::string& target, int err, const std::string& fallback = "write failed");

// Removes `.NAME.part-PID-N` files in `folder` whose process no longer runs. Each folder is swept once per
// process (writing many overlay PNGs into one folder stays linear).
void removeStaleTemporaries(const std::string& folder);

// True when a process with this id exists (another user's included).
bool processAlive(long pid);

} // namespace jseg
