// ctest-links: juleseg_pipeline juleseg_jule juleseg_io juleseg_base torch
// The JULE loop end to end on small synthetic sets: it reaches C clusters, recovers well-separated
// classes, is deterministic for a seed on the CPU, reports typed events, and cancels within a second.
#include <QtTest>

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <thread>

#include "core/base/Errors.h"
#include "core/jule/JuleTrainer.h"
#include "core/jule/ModelFile.h"
#include "core/jule/PatchNetwork.h"
#include "core/jule/PatchSampler.h"
#include "core/jule/TorchRuntime.h"
#include "core/params/ParameterSchema.h"
#include "core/pipeline/SegmentationPipeline.h"

using namespace jseg;

namespace {

// n images of 8x8 from `classes` random prototypes plus noise.
std::vector<float> makeImages(int n, int classes, uint64_t seed, std::vector<int>& truth) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<std::vector<float>> proto(classes, std::vector<float>(64));
  for (auto& p : proto)
    for (auto& v : p) v = 1.5f * g(rng);
  std::vector<float> out;
  truth.clear();
  for (int i = 0; i < n; ++i) {
    int c = i % classes;
    truth.push_back(c);
    for (int k = 0; k < 64; ++k) out.push_back(proto[c][k] + 0.5f * g(rng));
  }
  return out;
}

double nmiOf(const std::vector<int>& a, const std::vector<int>& b) {
  std::map<int, double> pa, pb;
  std::map<std::pair<int, int>, double> pab;
  const double n = double(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    pa[a[i]] += 1 / n;
    pb[b[i]] += 1 / n;
    pab[{a[i], b[i]}] += 1 / n;
  }
  double mi = 0, ha = 0, hb = 0;
  for (auto& [k, p] : pab) mi += p * std::log(p / (pa[k.first] * pb[k.second]));
  for (auto& [k, p] : pa) ha -= p * std::log(p);
  for (auto& [k, p] : pb) hb -= p * std::log(p);
  return ha > 0 && hb > 0 ? mi / std::sqrt(ha * hb) : 0;
}

JuleOptions tinyOptions() {
  JuleOptions o;
  o.network = NetworkSpec::byName("image2d", 8);
  for (auto& c : o.network.convs) c.channels = 16;
  o.clusters = 4;
  o.epochsPerPeriod = 3;
  o.batchSize = 60;
  o.device = "cpu";
  o.seed = 9;
  return o;
}

} // namespace

class TestJuleTrainer : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() { TorchRuntime::configureThreads(0); }

  void reachesTargetAndIsDeterministic() {
    std::vector<int> truth;
    auto data = makeImages(240, 4, 3, truth);
    std::vector<JuleEvent> events;
    JuleTrainer t1(tinyOptions(), [&](const JuleEvent& e) { events.push_back(e); });
    JuleResult r1 = t1.run(data.data(), 240);
    QCOMPARE(int(r1.labels.size()), 240);
    QCOMPARE(*std::max_element(r1.labels.begin(), r1.labels.end()) + 1, 4);
    double score = nmiOf(truth, r1.labels);
    qInfo("tiny set: %d epochs, %.2f s, NMI %.3f", r1.epochs, r1.seconds, score);
    QVERIFY(score > 0.9);

    // Events: each training period reported, the last one is the final pass on C clusters.
    int periods = 0, epochs = 0, sizes = 0;
    for (const auto& e : events) {
      if (std::holds_alternative<PeriodEvent>(e)) ++periods;
      if (std::holds_alternative<EpochEvent>(e)) ++epochs;
      if (const auto* s = std::get_if<ClusterSizesEvent>(&e)) {
        ++sizes;
        int total = 0;
        for (int v : s->sizes) total += v;
        QCOMPARE(total, 240);
      }
    }
    QCOMPARE(periods, int(r1.history.size()));
    QVERIFY(periods >= 2);
    QCOMPARE(epochs, r1.epochs);
    QCOMPARE(r1.epochs, periods * 3);
    QVERIFY(sizes >= 2);
    QVERIFY(r1.history.back().finalPass);
    QCOMPARE(r1.history.back().clusters, 4);
    QVERIFY(r1.history.front().patchesPerS > 0);
    QCOMPARE(int(r1.model.history.size()), periods);
    QCOMPARE(toJson(JuleEvent(r1.history.back()))["type"].get<std::string>(), std::string("period"));

    JuleTrainer t2(tinyOptions());
    JuleResult r2 = t2.run(data.data(), 240);
    QVERIFY(r1.labels == r2.labels);
    QVERIFY(r1.labelsAtStop == r2.labelsAtStop);
    QCOMPARE(r1.history.back().loss, r2.history.back().loss);

    auto o3 = tinyOptions();
    o3.seed = 10;
    o3.maxEpochs = 4;  // the budget cuts training; merging still finishes at C
    JuleTrainer t3(o3);
    JuleResult r3 = t3.run(data.data(), 240);
    QCOMPARE(r3.epochs, 4);
    QCOMPARE(*std::max_element(r3.labels.begin(), r3.labels.end()) + 1, 4);
  }

  void reclusterFinal() {
    std::vector<int> truth;
    auto data = makeImages(200, 4, 5, truth);
    auto o = tinyOptions();
    o.reclusterFinal = true;
    o.finalPass = false;
    JuleTrainer t(o);
    JuleResult r = t.run(data.data(), 200);
    QCOMPARE(*std::max_element(r.labels.begin(), r.labels.end()) + 1, 4);
    QCOMPARE(*std::max_element(r.labelsAtStop.begin(), r.labelsAtStop.end()) + 1, 4);
    QVERIFY(!r.history.back().finalPass);
  }

  void severalNetworks() {
    // `networks` = 2: two networks on the same patches from seeds 3 and 4, each announced by an event;
    // the second differs from the first and the whole result repeats for the same seed.
    Volume v;
    v.geom.dims = {24, 24, 24};
    v.voxels.resize(v.geom.voxelCount());
    std::mt19937_64 rng(2);
    std::normal_distribution<float> g(0.f, 1.f);
    for (int z = 0; z < 24; ++z)
      for (int y = 0; y < 24; ++y)
        for (int x = 0; x < 24; ++x) v.at(x, y, z) = (x < 12 ? 10.f : 20.f) + (y < 12 ? 0.f : 3.f * g(rng)) + g(rng);
    Parameters p = Parameters::preset("fast");
    p.set("network", "local3d");
    p.set("patch_size", 7);
    p.set("patches", 150);
    p.set("clusters", 4);
    p.set("epochs_per_period", 1);
    p.set("networks", 2);
    p.set("seed", 3);
    p.set("device", "cpu");
    const PatchSet patches = sampleTrainingPatches(v, v, p, -1e9f, 1e9f);
    std::vector<int> started;
    JuleResult r = trainJuleNetworks(patches, p, [&](const JuleEvent& e) {
      if (const auto* n = std::get_if<NetworkStartEvent>(&e)) {
        QCOMPARE(n->networks, 2);
        started.push_back(n->network);
      }
    });
    QCOMPARE(started, (std::vector<int>{1, 2}));
    QCOMPARE(int(r.model.networks().size()), 2);
    QCOMPARE(*std::max_element(r.labels.begin(), r.labels.end()) + 1, 4);
    JuleResult again = trainJuleNetworks(patches, p);
    QCOMPARE(again.labels, r.labels);
    // The second network is the one a single-network run with seed 4 trains.
    Parameters p4 = p;
    p4.set("networks", 1);
    p4.set("seed", 4);
    auto alone = trainJuleNetworks(patches, p4).model.network;

    torch::NoGradGuard ng;
    torch::Tensor x = torch::from_blob(const_cast<float*>(patches.data.data()), {8, 1, 7, 7, 7}).clone();
    auto out = [&](const std::shared_ptr<PatchNetworkImpl>& net) {
      net->eval();
      return net->forward(x);
    };
    QVERIFY(!torch::allclose(out(r.model.networks()[0]), out(r.model.networks()[1]), 1e-3, 1e-3));
    QVERIFY(torch::equal(out(again.model.networks()[1]), out(r.model.networks()[1])));
    QVERIFY(torch::equal(out(alone), out(r.model.networks()[1])));
  }

  void rejectsBadInput() {
    std::vector<float> data(64 * 3, 0.f);
    JuleTrainer t(tinyOptions());  // C = 4 >= 3 samples
    QVERIFY_THROWS_EXCEPTION(InputError, t.run(data.data(), 3));
    auto o = tinyOptions();
    o.device = "tpu";
    JuleTrainer t2(o);
    std::vector<float> more(64 * 50, 1.f);
    QVERIFY_THROWS_EXCEPTION(InputError, t2.run(more.data(), 50));
  }

  void cancelWithinOneSecond() {
    // The paper network on 27^3 patches: one mini-batch of 100 takes seconds on a CPU, so this checks the
    // per-layer cancel points in forward and backward, not only those between batches.
    const int n = 300, d = 27 * 27 * 27;
    std::vector<float> data(std::size_t(n) * d);
    std::mt19937_64 rng(1);
    std::normal_distribution<float> g;
    for (auto& v : data) v = g(rng);
    JuleOptions o;
    o.network = NetworkSpec::byName("paper3d", 27);
    o.clusters = 10;
    o.device = "cpu";
    std::atomic<bool> training{false};
    auto token = std::make_shared<CancelToken>();
    TaskContext ctx;
    ctx.cancel = token;
    ctx.progress = [&](double, const std::string& m) {
      if (m.find("epoch") != std::string::npos) training = true;
    };
    std::chrono::steady_clock::time_point cancelledAt;
    std::thread canceller([&] {
      while (!training) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      cancelledAt = std::chrono::steady_clock::now();
      token->cancel();
    });
    bool threw = false;
    JuleTrainer t(o);
    try {
      t.run(data.data(), n, &ctx);
    } catch (const CancelledError&) {
      threw = true;
    }
    auto end = std::chrono::steady_clock::now();
    canceller.join();
    QVERIFY(threw);
    double latency = std::chrono::duration<double>(end - cancelledAt).count();
    qInfo("cancel latency %.3f s", latency);
    QVERIFY(latency < 1.0);
  }
};

QTEST_GUILESS_MAIN(TestJuleTrainer)
#include "test_jule_trainer.moc"
