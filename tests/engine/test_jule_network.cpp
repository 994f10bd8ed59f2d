// ctest-links: juleseg_jule juleseg_io juleseg_base torch
// JULE building blocks: network shapes and init, triplet construction, loss, lr schedule, model file,
// patch sampler.
#include <QtTest>

#include <cmath>
#include <set>

#include <torch/torch.h>

#include "core/base/Errors.h"
#include "core/jule/JuleTrainer.h"
#include "core/jule/ModelFile.h"
#include "core/jule/NetworkSpec.h"
#include "core/jule/PatchNetwork.h"
#include "core/jule/PatchSampler.h"
#include "core/jule/TorchRuntime.h"
#include "core/jule/TripletLoss.h"
#include "tests/common/TestData.h"

using namespace jseg;

namespace {
NetworkSpec tinySpec() {
  NetworkSpec s;
  s.name = "test";
  s.inputSize = 9;
  s.convs = {{8, 3, false}, {8, 3, false}};
  s.featureDim = 16;
  return s;
}
} // namespace

class TestJuleNetwork : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() { TorchRuntime::configureThreads(0); }

  void paperShapes() {
    auto spec = NetworkSpec::byName("paper3d", 27);
    QCOMPARE(spec.trunkOutputSize(), 3);
    QCOMPARE(spec.flatSize(), 1350);
    QVERIFY(std::abs(spec.macsPerSample() - 1.9e8) < 0.1e8);  // design.md: ≈ 0.19 GMAC
    torch::manual_seed(3);
    PatchNetwork net(spec);
    net->eval();
    torch::NoGradGuard ng;
    auto x = torch::randn({2, 1, 27, 27, 27});
    auto t = net->trunk(x);
    QCOMPARE(t.sizes().vec(), (std::vector<int64_t>{2, 50, 3, 3, 3}));
    auto y = net->forward(x);
    QCOMPARE(y.sizes().vec(), (std::vector<int64_t>{2, 160}));
    auto norms = y.norm(2, 1);
    QVERIFY(torch::allclose(norms, torch::ones({2}), 1e-5, 1e-5));
    QCOMPARE(net->fc->weight.size(1), 1350);
  }

  void otherSpecs() {
    auto fast = NetworkSpec::byName("fast3d", 15);
    QCOMPARE(fast.trunkOutputSize(), 3);
    QCOMPARE(fast.flatSize(), 1350);
    auto small = NetworkSpec::byName("small3d", 27);
    QCOMPARE(small.flatSize(), 25 * 27);
    auto img = NetworkSpec::byName("image2d", 8);
    QCOMPARE(img.flatSize(), 800);
    torch::manual_seed(1);
    PatchNetwork net(img);
    net->eval();
    torch::NoGradGuard ng;
    QCOMPARE(net->forward(torch::randn({3, 1, 8, 8})).sizes().vec(), (std::vector<int64_t>{3, 160}));
    QCOMPARE(net->forward(torch::randn({3, 1, 1, 8, 8})).sizes().vec(), (std::vector<int64_t>{3, 160}));
    QVERIFY_THROWS_EXCEPTION(InputError, NetworkSpec::byName("paper3d", 11));
    QVERIFY_THROWS_EXCEPTION(InputError, NetworkSpec::byName("nonsense", 27));
    auto back = NetworkSpec::fromJson(fast.toJson());
    QCOMPARE(back.toJson().dump(), fast.toJson().dump());
    QCOMPARE(fast.toJson().at("in_channels").get<int>(), 1);
    QCOMPARE(fast.inputVoxels(), 15 * 15 * 15);
    QCOMPARE(img.inputVoxels(), 64);
    auto fast2 = fast;
    fast2.inChannels = 2;  // co-registered volumes: twice the input values, the same trunk output
    QCOMPARE(fast2.inputVoxels(), 2 * 15 * 15 * 15);
    QCOMPARE(fast2.flatSize(), 1350);
    QCOMPARE(NetworkSpec::fromJson(fast2.toJson()).inChannels, 2);

    auto local = NetworkSpec::byName("local3d", 9);  // 9 -> 7 -> 5 -> 3
    QCOMPARE(local.trunkOutputSize(), 3);
    QCOMPARE(local.flatSize(), 25 * 27);
    QVERIFY_THROWS_EXCEPTION(InputError, NetworkSpec::byName("local3d", 5));

    // Global average pooling: the linear layer sees one value per channel. On an x-periodic texture of
    // period 3 (= the trunk's 3 output cells), shifting the patch by one voxel only permutes the trunk cells,
    // so pooled features stay the same while the paper's flattened head sees a different vector.
    auto gap = NetworkSpec::byName("small3d", 15);
    gap.globalPool = true;
    QCOMPARE(gap.flatSize(), 25);
    auto gapBack = NetworkSpec::fromJson(gap.toJson());
    QVERIFY(gapBack.globalPool);
    nlohmann::json old = fast.toJson();
    old.erase("global_pool");  // models saved before the option existed
    QVERIFY(!NetworkSpec::fromJson(old).globalPool);
    torch::manual_seed(3);
    PatchNetwork gapNet(gap);
    gapNet->eval();
    PatchNetwork flatNet(NetworkSpec::byName("small3d", 15));
    flatNet->eval();
    torch::Tensor line = torch::tensor({1.f, -1.f, 0.5f}).repeat({6});  // 18 values, period 3
    torch::Tensor vol = line.view({1, 1, 1, 1, 18}).expand({1, 1, 15, 15, 18}).contiguous();
    vol = vol + 0.3 * torch::linspace(-1, 1, 15).view({1, 1, 15, 1, 1});  // a z ramp, so y and z matter too
    torch::Tensor a = vol.slice(4, 0, 15).contiguous(), b = vol.slice(4, 1, 16).contiguous();
    torch::NoGradGuard ng2;
    double gapDiff = (gapNet->forward(a) - gapNet->forward(b)).abs().max().item<double>();
    double flatDiff = (flatNet->forward(a) - flatNet->forward(b)).abs().max().item<double>();
    QVERIFY2(flatDiff > 1e-3, qPrintable(QString("flattened head barely changes: %1").arg(flatDiff)));
    QVERIFY2(gapDiff < 1e-5, qPrintable(QString("pooled features changed by %1").arg(gapDiff)));
  }

  void initialisation() {
    torch::manual_seed(5);
    PatchNetwork net(NetworkSpec::byName("paper3d", 27));
    auto w = net->convs[1]->weight;
    QVERIFY(std::abs(w.std().item<double>() - 0.01) < 0.0005);
    QVERIFY(std::abs(w.mean().item<double>()) < 0.0005);
    QCOMPARE(net->convs[1]->bias.abs().max().item<float>(), 0.0f);
    auto g = net->bns[0]->weight;
    QVERIFY(g.min().item<float>() >= 0.0f && g.max().item<float>() <= 1.0f);
    QCOMPARE(net->bns[0]->options.eps(), 1e-5);
    QCOMPARE(net->bns[0]->options.momentum().value(), 0.1);
  }

  void tripletsMatchHandCount() {
    // clusters {0,1}, {2,3,4}, {5}: 1 + 3 positive pairs; nc_b = 3 so min(20, 2) = 2 negatives per pair.
    std::vector<int> labels{7, 7, 3, 3, 3, 9};
    std::mt19937_64 rng(1);
    auto t = buildTriplets(labels, 20, rng);
    QCOMPARE(int(t.size()), (1 + 3) * 2);
    std::set<std::pair<int, int>> pairs;
    std::map<std::pair<int, int>, std::set<int>> negs;
    for (const auto& x : t) {
      QVERIFY(x.anchor < x.positive);
      QCOMPARE(labels[x.anchor], labels[x.positive]);
      QVERIFY(labels[x.negative] != labels[x.anchor]);
      pairs.insert({x.anchor, x.positive});
      negs[{x.anchor, x.positive}].insert(x.negative);
    }
    QCOMPARE(pairs, (std::set<std::pair<int, int>>{{0, 1}, {2, 3}, {2, 4}, {3, 4}}));
    for (const auto& [p, n] : negs) QCOMPARE(int(n.size()), 2);  // distinct
    QCOMPARE(int(buildTriplets(labels, 1, rng).size()), 4);
    QVERIFY(buildTriplets({4, 4, 4}, 20, rng).empty());  // one cluster: no loss
    // 100-sample batch of 10 clusters x 10: 450 pairs x 9 negatives (jule-reference.md §3.1).
    std::vector<int> big;
    for (int i = 0; i < 100; ++i) big.push_back(i % 10);
    QCOMPARE(int(buildTriplets(big, 20, rng).size()), 4050);
  }

  void lossValueAndStep() {
    // Hand value: a=(1,0), p=(0,1), n=(-1,0): γ|a-p|² - |a-n|² + m = 2 - 4 + 0.2 < 0 -> 0; swapped p/n: 4-2+0.2.
    auto f = torch::tensor({1.f, 0.f, 0.f, 1.f, -1.f, 0.f}).view({3, 2});
    QCOMPARE(tripletLoss(f, {{0, 1, 2}}, {}).item<float>(), 0.0f);
    QVERIFY(std::abs(tripletLoss(f, {{0, 2, 1}}, {}).item<float>() - 2.2f) < 1e-6);
    QVERIFY(std::abs(tripletLoss(f, {{0, 2, 1}, {0, 1, 2}}, {}).item<float>() - 1.1f) < 1e-6);

    for (bool anchorOnly : {true, false}) {
      torch::manual_seed(11);
      PatchNetwork net(tinySpec());
      net->train();
      auto x = torch::randn({24, 1, 9, 9, 9});
      std::vector<int> labels;
      for (int i = 0; i < 24; ++i) labels.push_back(i % 3);
      std::mt19937_64 rng(2);
      auto trip = buildTriplets(labels, 20, rng);
      TripletLossOptions lo;
      lo.anchorOnly = anchorOnly;
      torch::optim::SGD opt(net->parameters(),
                            torch::optim::SGDOptions(0.05).momentum(0.9).dampening(0.9).weight_decay(5e-5));
      double before = tripletLoss(net->forward(x), trip, lo).item<double>();
      for (int step = 0; step < 5; ++step) {
        opt.zero_grad();
        auto l = tripletLoss(net->forward(x), trip, lo);
        l.backward();
        opt.step();
      }
      double after = tripletLoss(net->forward(x), trip, lo).item<double>();
      qInfo("anchorOnly=%d loss %.4f -> %.4f", int(anchorOnly), before, after);
      QVERIFY(after < before - 1e-3);
    }
  }

  void learningRateSchedule() {
    QCOMPARE(JuleOptions::learningRateAt(0.01, 1e-4, 0.75, 0), 0.01);
    QVERIFY(std::abs(JuleOptions::learningRateAt(0.01, 1e-4, 0.75, 1000) - 0.01 * std::pow(1.1, -0.75)) < 1e-12);
    QVERIFY(std::abs(JuleOptions::learningRateAt(0.01, 1e-4, 0.75, 10000) - 0.0059460355750136) < 1e-10);
    QVERIFY(std::abs(JuleOptions::learningRateAt(0.01, 1e-4, 0.75, 2000) - 0.0087220) < 1e-6);
  }

  void remainingEpochEstimate() {
    JuleOptions o;
    o.clusters = 10;
    o.eta = 0.9;
    o.epochsPerPeriod = 20;
    // 2500 -> 250 -> 25 -> 10 (jule-reference.md §1.4): 3 training periods + the final pass.
    QCOMPARE(JuleTrainer::estimateRemainingEpochs(2500, o), 4 * 20);
    o.finalPass = false;
    QCOMPARE(JuleTrainer::estimateRemainingEpochs(10, o), 0);
  }

  void modelRoundTrip() {
    torch::manual_seed(21);
    auto spec = NetworkSpec::byName("small3d", 15);
    auto net = std::make_shared<PatchNetworkImpl>(spec);
    // A few training steps so the BN running statistics differ from their initial values.
    net->train();
    for (int i = 0; i < 3; ++i) net->forward(torch::randn({8, 1, 15, 15, 15}) * 3 + 1);
    net->eval();
    JuleModel m;
    m.spec = spec;
    m.network = net;
    m.patchMean = 12.5;
    m.patchStd = 3.25;
    m.standardized = true;
    m.seed = 77;
    m.history = nlohmann::json::array({{{"period", 0}, {"loss", 0.5}}});
    std::string dir = jseg::test::tempDir("jule-model");
    std::string path = dir + "/model.pt";
    ModelFile::save(m, path);
    QVERIFY(QFile::exists(QString::fromStdString(dir + "/model.json")));
    JuleModel back = ModelFile::load(path);
    QCOMPARE(back.patchMean, 12.5);
    QCOMPARE(back.patchStd, 3.25);
    QCOMPARE(back.seed, uint64_t(77));
    QCOMPARE(back.spec.toJson().dump(), spec.toJson().dump());
    QCOMPARE(back.history.size(), std::size_t(1));
    QCOMPARE(back.channels(), 1);
    QCOMPARE(back.inputMeans(), std::vector<double>{12.5});
    QCOMPARE(back.inputNames(), std::vector<std::string>{"intensity"});
    auto x = torch::randn({5, 1, 15, 15, 15});
    torch::NoGradGuard ng;
    auto a = net->forward(x);
    auto b = back.network->forward(x);
    QVERIFY(torch::equal(a, b));
    QVERIFY(torch::equal(net->bns[1]->running_mean, back.network->bns[1]->running_mean));
    QVERIFY_THROWS_EXCEPTION(InputError, ModelFile::load(dir + "/absent.pt"));
  }

  void modelOfSeveralNetworksRoundTrip() {
    // A model of three networks (parameter `networks`): members 2 and 3 go to model.net2.pt / model.net3.pt.
    auto spec = NetworkSpec::byName("small3d", 15);
    JuleModel m;
    m.spec = spec;
    torch::manual_seed(5);
    m.network = std::make_shared<PatchNetworkImpl>(spec);
    m.moreNetworks = {std::make_shared<PatchNetworkImpl>(spec), std::make_shared<PatchNetworkImpl>(spec)};
    for (auto& n : m.networks()) n->eval();
    const std::string dir = jseg::test::tempDir("jule-model-set");
    const std::string path = dir + "/model.pt";
    ModelFile::save(m, path);
    QCOMPARE(ModelFile::memberPathFor(path, 3), dir + "/model.net3.pt");
    QVERIFY(QFile::exists(QString::fromStdString(dir + "/model.net2.pt")));
    QVERIFY(QFile::exists(QString::fromStdString(dir + "/model.net3.pt")));
    QCOMPARE(ModelFile::describe(m).value("networks", 0), 3);
    JuleModel back = ModelFile::load(path);
    QCOMPARE(int(back.networks().size()), 3);
    auto x = torch::randn({4, 1, 15, 15, 15});
    torch::NoGradGuard ng;
    for (std::size_t i = 0; i < 3; ++i) QVERIFY(torch::equal(m.networks()[i]->forward(x), back.networks()[i]->forward(x)));
    // The members differ (different initial weights), so the order must survive the round trip.
    QVERIFY(!torch::allclose(back.networks()[1]->forward(x), back.networks()[2]->forward(x)));
    // A member missing on disk is an error naming it, not a silently smaller model.
    QFile::remove(QString::fromStdString(dir + "/model.net3.pt"));
    try {
      ModelFile::load(path);
      QFAIL("expected InputError");
    } catch (const InputError& e) {
      QVERIFY2(std::string(e.what()).find("model.net3.pt") != std::string::npos, e.what());
    }
  }

  void samplerCentresAndStandardisation() {
    Volume v = jseg::test::rampVolume(30, 30, 30);  // x + 100 y + 10000 z
    PatchSamplerOptions o;
    o.patchSize = 7;
    o.count = 500;
    o.lo = 50000;
    o.hi = 200000;  // z in [5, 20] (anything in range of z ≥ 5 up to 20.xx)
    o.seed = 4;
    PatchSet ps = PatchSampler::sample(v, o);
    QCOMPARE(int(ps.centres.size()), 500);
    QCOMPARE(ps.data.size(), std::size_t(500) * 343);
    std::set<std::array<int64_t, 3>> distinct(ps.centres.begin(), ps.centres.end());
    QCOMPARE(int(distinct.size()), 500);
    for (const auto& c : ps.centres) {
      float val = v.at(c[0], c[1], c[2]);
      QVERIFY(val >= o.lo && val <= o.hi);
      for (int a = 0; a < 3; ++a) QVERIFY(c[a] >= 3 && c[a] <= 26);
    }
    // Patch content: the centre voxel of patch 0 is its standardised centre intensity.
    const auto& c0 = ps.centres[0];
    float centre = ps.patch(0)[3 * 49 + 3 * 7 + 3];
    QVERIFY(std::abs(centre - float((v.at(c0[0], c0[1], c0[2]) - ps.mean) / ps.std)) < 1e-4);
    auto ms = PatchSampler::meanStd(ps.data);
    QVERIFY(std::abs(ms[0]) < 1e-4);
    QVERIFY(std::abs(ms[1] - 1.0) < 1e-4);
    QVERIFY(ps.standardized && ps.std > 1000);
    QCOMPARE(ps.channels, 1);
    QCOMPARE(ps.channelMean, std::vector<double>{ps.mean});
    QCOMPARE(ps.channelStd, std::vector<double>{ps.std});
    // Same seed -> same centres; other seed -> different.
    QVERIFY(PatchSampler::sample(v, o).centres == ps.centres);
    o.seed = 5;
    QVERIFY(PatchSampler::sample(v, o).centres != ps.centres);
    // Raw mode keeps intensities.
    o.standardize = false;
    PatchSet raw = PatchSampler::sample(v, o);
    QCOMPARE(raw.patch(0)[3 * 49 + 3 * 7 + 3], v.at(raw.centres[0][0], raw.centres[0][1], raw.centres[0][2]));
    // Too few candidates: the message says how many there are.
    o.lo = 50000;
    o.hi = 50503;  // z = 5 and 100y + x <= 503: 49 centres
    int64_t cand = PatchSampler::countCandidates(v, 7, o.lo, o.hi);
    QVERIFY(cand > 0 && cand < 500);
    try {
      PatchSampler::sample(v, o);
      QFAIL("expected InputError");
    } catch (const InputError& e) {
      QVERIFY(std::string(e.what()).find(std::to_string(cand)) != std::string::npos);
    }
    o.lo = 1e9;
    o.hi = 2e9;
    QVERIFY_THROWS_EXCEPTION(InputError, PatchSampler::sample(v, o));
  }
};

QTEST_GUILESS_MAIN(TestJuleNetwork)
#include "test_jule_network.moc"
