#pragma once
// A result folder replaced as a whole (design.md §2): a run writes into a hidden sibling staging folder
// (".NAME.juleseg-new-PID-N") and commit() swaps it in. Until then the earlier result stays exactly as it was;
// a run that fails or is cancelled removes its staging folder in the destructor, so it leaves no trace, not
// even an empty folder. Staging and retired folders of processes that died are removed by the next
// transaction on the same target.
//
// Files in an existing target that are not juleseg results (a user's notes, a batch's sub-folders) are carried
// into the new folder by hard links, so replacing a result never deletes anything else.
#include <string>
#include <vector>

namespace jseg {

class OutputFolderTransaction {
public:
  // Creates the staging folder beside `target`. WriteError when the target is a file, its parent cannot be
  // created or the staging folder cannot be made.
  explicit OutputFolderTransaction(std::string target);
  ~OutputFolderTransaction();
  OutputFolderTransaction(const OutputFolderTransaction&) = delete;
  OutputFolderTransaction& operator=(const OutputFolderTransaction&) = delete;

  // Where the new result is written.
  const std::string& staging() const { return staging_; }
  const std::string& target() const { return target_; }
  // The path `file` in staging will have once committed (target/file).
  std::string finalPath(const std::string& stagedPath) const;

  // Swaps the staging folder in (one atomic exchange where the system offers it) and removes the earlier
  // result. WriteError when the swap fails; the earlier result is then still in place.
  void commit();
  bool committed() const { return committed_; }

  // Names a juleseg run writes into a result folder; everything else found in an earlier result is carried over.
  static bool isResultEntry(const std::string& name);
  // Removes staging and retired folders of `target` left by processes that no longer run.
  static void removeStaleSiblings(const std::string& target);

private:
  std::string target_;
  std::string staging_;
  bool committed_ = false;
};

} // namespace jseg
