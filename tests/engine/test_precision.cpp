// ctest-links: juleseg_segment juleseg_jule juleseg_io juleseg_base torch
// Issue 18: `precision` resolves from the CPU's flags (read here from /proc/cpuinfo, independently of the CPUID
// code under test); bf16 features of the same weights match fp32 ones (cosine >= 0.99 per feature vector, in
// both dense and per-patch mode); fp32 inference is exactly the plain module arithmetic; bf16 training gradients point where fp32 ones do; the model file
// records the precision and reads models written before it as fp32.
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/base/Errors.h"
#include "core/jule/ComputePrecision.h"
#include "core/jule/ModelFile.h"
#include "core/jule/NetworkSpec.h"
#include "core/jule/PatchNetwork.h"
#include "core/jule/TorchRuntime.h"
#include "core/segment/DenseFeatureExtractor.h"

using namespace jseg;

namespace {

// The "flags" line of /proc/cpuinfo lists avx512_bf16 / amx_bf16 when the kernel sees them; empty elsewhere.
std::set<std::string> cpuFlags() {
  std::ifstream f("/proc/cpuinfo");
  std::set<std::string> flags;
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;) flags.insert(w);
    break;
  }
  return flags;
}

Volume texturedVolume(int n, uint64_t seed) {
  Volume v;
  v.geom.dims = {n, n, n};
  v.voxels.resize(v.geom.voxelCount());
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 15.0f);
  for (int z = 0; z < n; ++z)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x)
        v.at(x, y, z) = 100.0f + 25.0f * std::sin(0.3f * x) * std::cos(0.2f * y + 0.15f * z) + g(rng);
  return v;
}

// Smallest cosine similarity between corresponding rows (features are unit-norm, so it is the dot product).
double minRowCosine(const std::vector<float>& a, const std::vector<float>& b, int dim) {
  double worst = 1.0;
  for (std::size_t r = 0; r * dim < a.size(); ++r) {
    double dot = 0, na = 0, nb = 0;
    for (int k = 0; k < dim; ++k) {
      const double x = a[r * dim + k], y = b[r * dim + k];
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    worst = std::min(worst, dot / std::sqrt(na * nb));
  }
  return worst;
}

} // namespace

class TestPrecision : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() { TorchRuntime::configureThreads(0); }

  void autoFollowsTheCpuFlags() {
    const auto flags = cpuFlags();
    if (flags.empty()) QSKIP("no flags line in /proc/cpuinfo on this system");
    const bool fast = flags.count("avx512_bf16") > 0 || flags.count("amx_bf16") > 0;
    QCOMPARE(ComputePrecision::cpuHasFastBf16(), fast);
    QCOMPARE(ComputePrecision::resolve("auto"), fast ? Precision::Bf16 : Precision::Fp32);
    QCOMPARE(ComputePrecision::resolve("fp32"), Precision::Fp32);
    QCOMPARE(ComputePrecision::resolve("bf16"), Precision::Bf16);
    QCOMPARE(ComputePrecision::resolve("bf16", "cuda:0"), Precision::Fp32);
    QCOMPARE(ComputePrecision::resolve("auto", "cpu"), fast ? Precision::Bf16 : Precision::Fp32);
    QCOMPARE(QString::fromStdString(ComputePrecision::name(Precision::Bf16)), QString("bf16"));
    QVERIFY_THROWS_EXCEPTION(InputError, ComputePrecision::resolve("fp16"));
  }

  // fp32 inference without autograd is exactly the module's arithmetic (the blocked, folded path is bf16 only), so
  // default runs reproduce earlier versions' clusters byte for byte.
  void fp32InferenceIsTheModuleArithmetic() {
    auto net = makeRandomNetwork(NetworkSpec::byName("paper3d", 27), 3, true);
    torch::manual_seed(4);
    const auto x = torch::randn({6, 1, 27, 27, 27});
    torch::Tensor withGrad;
    {
      torch::AutoGradMode on(true);
      withGrad = net->forward(x).detach();
    }
    torch::NoGradGuard noGrad;
    QVERIFY(torch::equal(withGrad, net->forward(x)));
    QVERIFY(torch::equal(withGrad, net->forward(x, Precision::Fp32)));
  }

  void bf16FeaturesMatchFp32() {
    if (!ComputePrecision::cpuHasFastBf16()) QSKIP("this CPU has no AVX512-BF16/AMX: bf16 is not used here");
    const Volume vol = texturedVolume(40, 7);
    for (const auto& name : {std::string("paper3d"), std::string("fast3d")}) {
      const int w = name == "paper3d" ? 27 : 15;
      auto net = makeRandomNetwork(NetworkSpec::byName(name, w), 11, true);
      for (FeatureMode mode : {FeatureMode::Dense, FeatureMode::PerPatch}) {
        DenseFeatureOptions o;
        o.inputMean = 100;
        o.inputStd = 20;
        o.mode = mode;
        DenseFeatureExtractor fp32(net, o);
        o.precision = Precision::Bf16;
        DenseFeatureExtractor bf16(net, o);
        FeatureGrid a = fp32.layout(vol, 3, -1e9f, 1e9f);
        FeatureGrid b = a;
        fp32.compute(a, vol);
        bf16.compute(b, vol);
        QVERIFY(a.count() > 50);
        double maxDiff = 0;
        for (std::size_t i = 0; i < a.features.size(); ++i)
          maxDiff = std::max(maxDiff, double(std::abs(a.features[i] - b.features[i])));
        const double cosine = minRowCosine(a.features, b.features, a.dim);
        qInfo("%s %s: min cosine %.5f, max abs diff %.4f over %zu points", name.c_str(),
              mode == FeatureMode::Dense ? "dense" : "per patch", cosine, maxDiff, a.count());
        QVERIFY2(cosine >= 0.99, qPrintable(QString("min cosine %1").arg(cosine)));
        QVERIFY(maxDiff < 0.05);
        QVERIFY(maxDiff > 0);  // bf16 really ran: it cannot give fp32's values bit for bit
      }
    }
  }

  // Training in bf16 (forward and input gradients bf16, weight gradients fp32) gives the loss and the weight
  // gradients of fp32 up to bf16 rounding.
  void bf16TrainingGradientsFollowFp32() {
    if (!ComputePrecision::cpuHasFastBf16()) QSKIP("this CPU has no AVX512-BF16/AMX: bf16 is not used here");
    torch::manual_seed(5);
    PatchNetwork net(NetworkSpec::byName("paper3d", 27));
    net->train();
    torch::manual_seed(6);
    const auto x = torch::randn({8, 1, 27, 27, 27});
    auto gradients = [&](Precision p) {
      net->setPrecision(p);
      net->zero_grad();
      auto y = net->forward(x);
      auto loss = (y * y.roll(1, 0)).sum();
      loss.backward();
      std::vector<torch::Tensor> g;
      // A convolution's bias feeds a training-mode batch norm, which subtracts it again: its gradient is
      // rounding noise in any precision, so only the other parameters are compared.
      for (const auto& param : net->named_parameters())
        if (!(param.key().rfind("conv", 0) == 0 && param.key().find("bias") != std::string::npos))
          g.push_back(param.value().grad().clone());
      return std::make_pair(loss.item<double>(), g);
    };
    const auto [lossFp32, gFp32] = gradients(Precision::Fp32);
    const auto [lossBf16, gBf16] = gradients(Precision::Bf16);
    QVERIFY(std::abs(lossFp32 - lossBf16) < 0.02 * std::max(1.0, std::abs(lossFp32)));
    for (std::size_t i = 0; i < gFp32.size(); ++i) {
      QCOMPARE(gBf16[i].scalar_type(), torch::kFloat32);  // the masters stay fp32
      const double cosine = torch::cosine_similarity(gFp32[i].flatten(), gBf16[i].flatten(), 0).item<double>();
      QVERIFY2(cosine > 0.95, qPrintable(QString("parameter %1: gradient cosine %2").arg(i).arg(cosine)));
    }
    // Running statistics stay fp32 too (batch norm took bf16 activations).
    QCOMPARE(net->bns[1]->running_mean.scalar_type(), torch::kFloat32);
  }

  void modelFileRecordsPrecision() {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("jseg_precision_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    JuleModel m;
    m.spec = NetworkSpec::byName("local3d", 9);
    m.network = makeRandomNetwork(m.spec, 1);
    m.precision = "bf16";
    const std::string pt = (dir / "model.pt").string();
    ModelFile::save(m, pt);
    QCOMPARE(QString::fromStdString(ModelFile::load(pt).precision), QString("bf16"));
    // A description written before the field existed: everything then ran fp32.
    nlohmann::json j = nlohmann::json::parse(std::ifstream(ModelFile::jsonPathFor(pt)));
    QCOMPARE(QString::fromStdString(j.at("precision").get<std::string>()), QString("bf16"));
    j.erase("precision");
    std::ofstream(ModelFile::jsonPathFor(pt)) << j.dump(2);
    QCOMPARE(QString::fromStdString(ModelFile::load(pt).precision), QString("fp32"));
    j["precision"] = "fp8";
    std::ofstream(ModelFile::jsonPathFor(pt)) << j.dump(2);
    QVERIFY_THROWS_EXCEPTION(InputError, ModelFile::load(pt));
    fs::remove_all(dir);
  }
};

QTEST_GUILESS_MAIN(TestPrecision)
#include "test_precision.moc"
