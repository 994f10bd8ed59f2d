#pragma once
// Writes that never leave a half-written output: write to a temporary name in the target's folder,
// then rename over the target in commit(). If commit() is not reached (exception, cancel), the
// destructor removes the temporary file.
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
  // Renames the temporary file onto the target; throws jseg::Error on failure.
  void commit();

private:
  std::string target_;
  std::string temp_;
  bool committed_ = false;
};

// Convenience: writes `bytes` atomically to `path`.
void writeFileAtomically(const std::string& path, const std::string& bytes);

} // namespace jseg
