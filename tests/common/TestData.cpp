#include "tests/common/TestData.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>

namespace jseg::test {

namespace fs = std::filesystem;

std::string sharedDataDir() {
  if (const char* env = std::getenv("JULESEG_SHARED_DATA"); env && *env) return env;
  return JULESEG_SHARED_DATA_DEFAULT;
}

std::string sharedData(const std::string& relative) { return (fs::path(sharedDataDir()) / relative).string(); }

bool haveSharedData(const std::string& relative) { return fs::exists(sharedData(relative)); }

std::string tempDir(const std::string& tag) {
  static std::random_device rd;
  fs::path p = fs::temp_directory_path() /
               ("juleseg-test-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 100000));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::string readFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeFileBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Volume rampVolume(int nx, int ny, int nz) {
  Volume v;
  v.geom.dims = {nx, ny, nz};
  v.voxels.resize(v.geom.voxelCount());
  for (int z = 0; z < nz; ++z)
    for (int y = 0; y < ny; ++y)
      for (int x = 0; x < nx; ++x) v.at(x, y, z) = float(x + 100 * y + 10000 * z);
  v.originalType = PixelType::Float32;
  return v;
}

ProcessResult runProcess(const QString& program, const QStringList& args, const QString& workingDir,
                         const QProcessEnvironment& env) {
  QProcess p;
  p.setProcessEnvironment(env);
  if (!workingDir.isEmpty()) p.setWorkingDirectory(workingDir);
  p.start(program, args);
  ProcessResult r;
  if (!p.waitForFinished(600000)) {
    p.kill();
    p.waitForFinished();
    return r;
  }
  r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

} // namespace jseg::test
