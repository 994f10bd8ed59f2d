#pragma once
// Where tests find the shared real volumes, and small helpers to make synthetic ones.
#include <QProcess>
#include <QString>
#include <QtTest>
#include <string>

#include "core/base/Volume.h"

namespace jseg::test {

// Folder with the shared volumes: $JULESEG_SHARED_DATA, else the path CMake was configured with.
std::string sharedDataDir();
// Full path of a file below the shared data folder ("" if the folder is absent).
std::string sharedData(const std::string& relative);
bool haveSharedData(const std::string& relative);
// A fresh empty temporary folder for the running test (removed at exit by the OS temp cleaner).
std::string tempDir(const std::string& tag);

// Whole-file helpers for tests that cut, corrupt or compare files byte by byte.
std::string readFileBytes(const std::string& path);
void writeFileBytes(const std::string& path, const std::string& bytes);

// A program run to the end (10 minutes at most), as the user runs it: exit code (-1 when it crashed or hung),
// standard output and standard error.
struct ProcessResult {
  int exitCode = -1;
  QString out, err;
};
ProcessResult runProcess(const QString& program, const QStringList& args, const QString& workingDir = {},
                         const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment());

// Synthetic volume: value(x,y,z) = x + 100*y + 10000*z, handy to check orientation and order.
Volume rampVolume(int nx, int ny, int nz);

} // namespace jseg::test

// Skips the current test with a clear reason when a shared file or folder is absent.
#define JSEG_REQUIRE_DATA(rel)                                                                        \
  do {                                                                                                \
    if (!jseg::test::haveSharedData(rel))                                                              \
      QSKIP(qPrintable(QString("shared test data %1 not found under %2")                               \
                           .arg(QString::fromStdString(rel), QString::fromStdString(jseg::test::sharedDataDir())))); \
  } while (0)
