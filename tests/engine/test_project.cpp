// ctest-links: juleseg_pipeline juleseg_eval juleseg_segment juleseg_jule juleseg_io juleseg_base
// Projects: save -> reopen -> rerun gives the same label volume byte for byte (CPU, same seed).
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "core/base/Errors.h"
#include "core/demo/Phantom.h"
#include "core/io/NiftiIO.h"
#include "core/pipeline/SegmentationSession.h"
#include "core/project/Project.h"
#include "core/project/Sha256.h"
#include "tests/common/TestData.h"

using namespace jseg;
namespace fs = std::filesystem;

namespace {
// Small enough to train in seconds on 2 cores, big enough for every stage to do real work.
Parameters tinyParameters() {
  Parameters p = Parameters::preset("fast");
  p.set("patches", 300);
  p.set("clusters", 8);
  p.set("epochs_per_period", 1);
  p.set("stride", 4);
  p.set("k", 3);
  p.set("device", "cpu");
  p.set("seed", 11);
  p.set("threshold_lo", 3000.0);
  p.set("threshold_hi", 65535.0);
  return p;
}
// The stages `juleseg-cli run` calls, for one volume: train (or load `model`), features, K, outputs.
LabelVolume segment(const Parameters& params, const std::string& volume, const std::string& model,
                    const std::string& outDir, const ReadOptions& read = {}) {
  SegmentationSession s(params);
  s.openVolume(volume, read);
  fs::create_directories(outDir);
  if (model.empty()) {
    s.train();
    s.saveModel(outDir + "/model.pt");
  } else {
    s.loadModel(model);
  }
  s.extractFeatures();
  s.paint(s.parameters().values().k);
  OutputOptions o;
  o.folder = outDir;
  o.overlays = false;
  s.writeOutputs(o);
  return *s.labels();
}
} // namespace

class TestProject : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void sha256KnownVectors() {
    Sha256 a;
    QCOMPARE(a.hexDigest(), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    Sha256 b;
    b.update("abc", 3);
    QCOMPARE(b.hexDigest(), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    Sha256 c;
    std::string m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    c.update(m.data(), m.size());
    QCOMPARE(c.hexDigest(), std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
  }
  void saveReopenRerunIsByteIdentical() {
    const std::string dir = test::tempDir("project");
    PhantomOptions po;
    po.size = 40;
    Phantom ph = makeDemoPhantom(po);
    const std::string volume = dir + "/phantom.nii.gz";
    NiftiIO::write(ph.volume, volume);

    const LabelVolume first = segment(tinyParameters(), volume, "", dir + "/first");
    const std::string projectPath = dir + "/first/project.juleseg";
    QVERIFY(fs::exists(projectPath));
    QVERIFY(fs::exists(dir + "/first/model.pt"));

    Project p = Project::load(projectPath);
    QCOMPARE(p.inputPath, fs::absolute(volume).string());
    QCOMPARE(p.inputSha256, sha256OfPath(volume));
    QVERIFY(p.inputUnchanged());
    QCOMPARE(p.k, 3);
    QCOMPARE(p.parameters.values().seed, 11);
    QCOMPARE(int(p.labels.size()), 3);

    // Rerun from the project (its parameters and model), as `juleseg-cli run --project` does.
    const std::string model = Project::resolve(projectPath, p.modelFile);
    const LabelVolume second = segment(p.parameters, p.inputPath, model, dir + "/rerun", p.read);
    QCOMPARE(second.labels, first.labels);
    QCOMPARE(jseg::test::readFileBytes(dir + "/rerun/labels.nii.gz"), jseg::test::readFileBytes(dir + "/first/labels.nii.gz"));
    // The labels are a real segmentation: three regions inside the mask, background 0.
    QCOMPARE(first.maxLabel(), 3);
    QCOMPARE(int(first.labels[0]), 0);

    // A model brings the input preparation it was trained with: run with the paper's defaults (no fill
    // outside the window) and the fast preset's model, it still paints the same labels.
    QVERIFY(p.parameters.values().fillOutsideWindow);
    Parameters plain = Parameters::preset("paper");
    for (const char* name : {"stride", "k", "seed", "threshold_lo", "threshold_hi", "device"})
      plain.set(name, p.parameters.toJson()[name]);
    QVERIFY(!plain.values().fillOutsideWindow);
    const LabelVolume fourth = segment(plain, p.inputPath, model, dir + "/plain", p.read);
    QCOMPARE(fourth.labels, first.labels);
    const auto run = nlohmann::json::parse(test::readFileBytes(dir + "/plain/run.json"));
    QVERIFY(run["parameters"].value("fill_outside_window", false));

    // Retraining from scratch with the same seed also repeats the labels on the CPU.
    const LabelVolume third = segment(p.parameters, volume, "", dir + "/retrain");
    QCOMPARE(third.labels, first.labels);

    // A changed input is detected.
    {
      std::ofstream touch(volume, std::ios::app | std::ios::binary);
      touch << "x";
    }
    QVERIFY(!p.inputUnchanged());
  }
  void savedParametersKeepTheirJson() {
    // The file holds the parameters by name, exactly as Parameters::toJson writes them, plus the seed on its
    // own; reading it back gives the same typed values.
    const std::string dir = test::tempDir("project-json");
    Project p;
    p.demo = true;
    p.parameters = tinyParameters();
    p.save(dir + "/p.juleseg");
    const auto j = nlohmann::json::parse(test::readFileBytes(dir + "/p.juleseg"));
    QCOMPARE(j.at("parameters"), p.parameters.toJson());
    QCOMPARE(j.at("parameters").at("threshold_lo").get<double>(), 3000.0);
    QCOMPARE(j.at("seed").get<int>(), 11);
    const Project back = Project::load(dir + "/p.juleseg");
    QVERIFY(back.parameters.values() == p.parameters.values());
    QCOMPARE(back.parameters.toJson(), p.parameters.toJson());
  }
  void malformedProjectsAreInputErrors() {
    const std::string dir = test::tempDir("project-bad");
    std::ofstream(dir + "/a.juleseg") << "{ not json";
    QVERIFY_THROWS_EXCEPTION(InputError, Project::load(dir + "/a.juleseg"));
    std::ofstream(dir + "/b.juleseg") << R"({"format":"something-else"})";
    QVERIFY_THROWS_EXCEPTION(InputError, Project::load(dir + "/b.juleseg"));
    std::ofstream(dir + "/c.juleseg") << R"({"format":"juleseg-project","format_version":1,"input":{"path":"/x"},"parameters":{"k":1}})";
    QVERIFY_THROWS_EXCEPTION(InputError, Project::load(dir + "/c.juleseg"));
    QVERIFY_THROWS_EXCEPTION(InputError, Project::load(dir + "/missing.juleseg"));
  }
};

QTEST_GUILESS_MAIN(TestProject)
#include "test_project.moc"
