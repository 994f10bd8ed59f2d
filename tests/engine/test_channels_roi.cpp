// ctest-links: juleseg_segment juleseg_jule juleseg_io juleseg_base torch
// ctest-lock: libtorch_cores
// Several input channels (co-registered volumes fed to the network together) and a region of interest:
// network shapes, per-channel standardisation of patches, the one-channel sampler unchanged, dense ==
// per-patch features for two channels, the model refusing a wrong number of volumes, the model file keeping
// the channels (and reading old files as one channel), and a roi honoured by sampling, grid and painting.
#include <QtTest>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

#include <torch/torch.h>

#include "core/base/Errors.h"
#include "core/jule/JuleTrainer.h"
#include "core/jule/ModelFile.h"
#include "core/jule/NetworkSpec.h"
#include "core/jule/PatchNetwork.h"
#include "core/jule/PatchSampler.h"
#include "core/jule/TorchRuntime.h"
#include "core/segment/DenseFeatureExtractor.h"
#include "core/segment/LabelProjector.h"
#include "core/segment/ModelFeatures.h"
#include "tests/common/TestData.h"

using namespace jseg;

namespace {

// Smooth structure plus noise around `level` (as test_dense_features), so that features vary.
Volume randomVolume(int nx, int ny, int nz, uint64_t seed, float level = 100.0f, float scale = 1.0f) {
  Volume v;
  v.geom.dims = {nx, ny, nz};
  v.voxels.resize(v.geom.voxelCount());
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 15.0f);
  for (int z = 0; z < nz; ++z)
    for (int y = 0; y < ny; ++y)
      for (int x = 0; x < nx; ++x)
        v.at(x, y, z) = level + scale * (20.0f * std::sin(0.3f * x) * std::cos(0.2f * y + 0.1f * z) + g(rng));
  return v;
}

// Ball of radius r around c.
std::shared_ptr<Mask> ballMask(const Geometry& g, std::array<double, 3> c, double r) {
  auto m = std::make_shared<Mask>();
  m->geom = g;
  m->inside.assign(g.voxelCount(), 0);
  for (int64_t z = 0; z < g.dims[2]; ++z)
    for (int64_t y = 0; y < g.dims[1]; ++y)
      for (int64_t x = 0; x < g.dims[0]; ++x) {
        double dx = x - c[0], dy = y - c[1], dz = z - c[2];
        m->inside[g.index(x, y, z)] = dx * dx + dy * dy + dz * dz <= r * r;
      }
  return m;
}

NetworkSpec twoChannel(const std::string& name, int w) {
  NetworkSpec s = NetworkSpec::byName(name, w);
  s.inChannels = 2;
  return s;
}

double maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 1e30;
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, double(std::abs(a[i] - b[i])));
  return d;
}

bool sameBytes(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

} // namespace

class TestChannelsRoi : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() {
    TorchRuntime::configureThreads(0);
    a_ = randomVolume(44, 42, 40, 4);
    b_ = randomVolume(44, 42, 40, 9, 1000.0f, 12.0f);  // another modality: other level and scale
  }

  void twoChannelNetworkShapes_data() {
    QTest::addColumn<QString>("network");
    QTest::addColumn<int>("patch");
    QTest::newRow("paper3d") << "paper3d" << 27;
    QTest::newRow("fast3d") << "fast3d" << 15;
    QTest::newRow("small3d") << "small3d" << 15;
    QTest::newRow("local3d") << "local3d" << 9;
    QTest::newRow("image2d") << "image2d" << 8;
  }

  void twoChannelNetworkShapes() {
    QFETCH(QString, network);
    QFETCH(int, patch);
    const NetworkSpec one = NetworkSpec::byName(network.toStdString(), patch);
    const NetworkSpec two = twoChannel(network.toStdString(), patch);
    const int spatial = one.spatialDims == 3 ? patch * patch * patch : patch * patch;
    QCOMPARE(one.inChannels, 1);
    QCOMPARE(one.inputVoxels(), spatial);
    QCOMPARE(two.spatialVoxels(), spatial);
    QCOMPARE(two.inputVoxels(), 2 * spatial);
    QCOMPARE(two.flatSize(), one.flatSize());  // only the first convolution changes
    // One more input channel adds conv1's multiply-adds once more.
    const int k = one.convs[0].kernel, o1 = patch - k + 1;
    const double conv1 = one.spatialDims == 3 ? std::pow(o1, 3) * one.convs[0].channels * std::pow(k, 3)
                                              : std::pow(o1, 2) * one.convs[0].channels * std::pow(k, 2);
    QVERIFY(std::abs(two.macsPerSample() - one.macsPerSample() - conv1) < 1e-6 * one.macsPerSample());

    torch::manual_seed(2);
    PatchNetwork net(two);
    net->eval();
    QCOMPARE(net->convs[0]->weight.size(1), int64_t(2));
    QCOMPARE(net->convs[1]->weight.size(1), int64_t(two.convs[0].channels));
    torch::NoGradGuard ng;
    torch::Tensor x =
        two.spatialDims == 3 ? torch::randn({3, 2, patch, patch, patch}) : torch::randn({3, 2, patch, patch});
    torch::Tensor y = net->forward(x);
    QCOMPARE(y.sizes().vec(), (std::vector<int64_t>{3, 160}));
    QVERIFY(torch::allclose(y.norm(2, 1), torch::ones({3}), 1e-5, 1e-5));
    // The second channel is really read: changing only it changes the features.
    torch::Tensor x2 = x.clone();
    x2.select(1, 1).mul_(-1.0);
    QVERIFY((net->forward(x2) - y).abs().max().item<double>() > 1e-4);

    // The spec keeps its channel count through JSON; a description without it is one channel.
    NetworkSpec back = NetworkSpec::fromJson(two.toJson());
    QCOMPARE(back.inChannels, 2);
    nlohmann::json old = two.toJson();
    old.erase("in_channels");
    QCOMPARE(NetworkSpec::fromJson(old).inChannels, 1);
    old["in_channels"] = 0;
    QVERIFY_THROWS_EXCEPTION(InputError, NetworkSpec::fromJson(old));
  }

  void perChannelStandardisation() {
    // Channel 1 = 10 x channel 0 + 100: after per-channel standardisation both channels of every patch agree.
    Volume c0 = randomVolume(24, 24, 24, 3);
    Volume c1 = c0;
    for (auto& v : c1.voxels) v = 10.0f * v + 100.0f;
    PatchSamplerOptions o;
    o.patchSize = 7;
    o.count = 200;
    o.lo = 90;  // a window on channel 0 only
    o.hi = 1e9;
    o.seed = 6;
    PatchSet ps = PatchSampler::sample({&c0, &c1}, o);
    QCOMPARE(ps.channels, 2);
    QCOMPARE(ps.patchVoxels(), std::size_t(343));
    QCOMPARE(ps.patchValues(), std::size_t(686));
    QCOMPARE(ps.data.size(), std::size_t(200) * 686);
    QCOMPARE(int(ps.channelMean.size()), 2);
    QCOMPARE(int(ps.channelStd.size()), 2);
    QCOMPARE(ps.mean, ps.channelMean[0]);
    QCOMPARE(ps.std, ps.channelStd[0]);
    // The values themselves: each channel's mean/std over the raw sampled values.
    o.standardize = false;
    PatchSet raw = PatchSampler::sample({&c0, &c1}, o);
    QVERIFY(raw.centres == ps.centres);
    for (int c = 0; c < 2; ++c) {
      double s = 0, q = 0;
      for (int i = 0; i < raw.count; ++i)
        for (std::size_t k = 0; k < raw.patchVoxels(); ++k) s += raw.patch(i, c)[k];
      const double n = double(raw.count) * double(raw.patchVoxels()), mean = s / n;
      for (int i = 0; i < raw.count; ++i)
        for (std::size_t k = 0; k < raw.patchVoxels(); ++k) {
          const double d = raw.patch(i, c)[k] - mean;
          q += d * d;
        }
      QVERIFY(std::abs(ps.channelMean[c] - mean) <= 1e-9 * std::abs(mean));
      QVERIFY(std::abs(ps.channelStd[c] - std::sqrt(q / n)) <= 1e-9 * std::sqrt(q / n));
    }
    QVERIFY(std::abs(ps.channelMean[1] - (10 * ps.channelMean[0] + 100)) < 1e-4 * ps.channelMean[1]);
    QVERIFY(std::abs(ps.channelStd[1] - 10 * ps.channelStd[0]) < 1e-4 * ps.channelStd[1]);
    QVERIFY(ps.channelStd[0] > 5);  // not the constant fallback
    double diff = 0;
    for (int i = 0; i < ps.count; ++i)
      for (std::size_t k = 0; k < ps.patchVoxels(); ++k)
        diff = std::max(diff, double(std::abs(ps.patch(i, 0)[k] - ps.patch(i, 1)[k])));
    QVERIFY2(diff < 1e-4, qPrintable(QString("standardised channels differ by %1").arg(diff)));
    // Patch layout: channel 1 of patch 3 holds c1's cube around the centre; the centre voxel sits in the middle.
    const auto& ct = ps.centres[3];
    QCOMPARE(raw.patch(3, 1)[3 * 49 + 3 * 7 + 3], c1.at(ct[0], ct[1], ct[2]));
    QCOMPARE(raw.patch(3, 0)[0], c0.at(ct[0] - 3, ct[1] - 3, ct[2] - 3));
    // Centres are the one-channel sampler's on channel 0, whatever the other channels hold.
    QVERIFY(PatchSampler::sample(c0, o).centres == ps.centres);
    // standardizeChannels on the raw set reproduces the sampler's standardised set.
    PatchSampler::standardizeChannels(raw);
    QVERIFY(sameBytes(raw.data, ps.data));
    QCOMPARE(raw.channelMean, ps.channelMean);

    // A channel of other dims is refused, naming it.
    Volume small = randomVolume(24, 24, 23, 3);
    try {
      PatchSampler::sample({&c0, &small}, o);
      QFAIL("expected InputError");
    } catch (const InputError& e) {
      QVERIFY2(std::string(e.what()).find("channel 2") != std::string::npos, e.what());
      QVERIFY2(std::string(e.what()).find("24x24x23") != std::string::npos, e.what());
    }
  }

  void oneChannelSampleUnchanged() {
    // sample(volume) and sample({&volume}) give the same bytes, and per-channel standardisation of one channel
    // is exactly the former global one (meanStd + standardizeInPlace over all values).
    for (int cfg = 0; cfg < 3; ++cfg) {
      PatchSamplerOptions o;
      o.patchSize = cfg == 1 ? 9 : 7;
      o.count = 300 + 100 * cfg;
      o.lo = 90;
      o.hi = cfg == 2 ? 1e9 : 150;
      o.seed = 11 + cfg;
      PatchSet one = PatchSampler::sample(a_, o);
      PatchSet list = PatchSampler::sample(std::vector<const Volume*>{&a_}, o);
      QCOMPARE(one.channels, 1);
      QVERIFY(sameBytes(one.data, list.data));
      QVERIFY(one.centres == list.centres);
      QCOMPARE(one.mean, list.mean);
      QCOMPARE(one.std, list.std);
      QCOMPARE(one.candidates, list.candidates);
      QCOMPARE(one.patchValues(), one.patchVoxels());
      o.standardize = false;
      PatchSet raw = PatchSampler::sample(a_, o);
      QVERIFY(raw.centres == one.centres);
      auto ms = PatchSampler::meanStd(raw.data);
      PatchSampler::standardizeInPlace(raw.data, ms[0], ms[1]);
      QVERIFY(sameBytes(raw.data, one.data));
      QCOMPARE(one.mean, ms[0]);
      QCOMPARE(one.std, ms[1]);
      QCOMPARE(one.channelMean, std::vector<double>{ms[0]});
    }
  }

  void denseEqualsPerPatchTwoChannels_data() {
    QTest::addColumn<QString>("network");
    QTest::addColumn<int>("stride");
    QTest::addColumn<bool>("useRegion");
    QTest::newRow("paper3d s2 region") << "paper3d" << 2 << true;
    QTest::newRow("paper3d s5") << "paper3d" << 5 << false;
    QTest::newRow("fast3d s1 region") << "fast3d" << 1 << true;
    QTest::newRow("fast3d s3") << "fast3d" << 3 << false;
    QTest::newRow("local3d s2 region") << "local3d" << 2 << true;
  }

  void denseEqualsPerPatchTwoChannels() {
    QFETCH(QString, network);
    QFETCH(int, stride);
    QFETCH(bool, useRegion);
    const std::string name = network.toStdString();
    const NetworkSpec spec = twoChannel(name, name == "paper3d" ? 27 : name == "local3d" ? 9 : 15);
    auto net = makeRandomNetwork(spec, 17, true);
    DenseFeatureOptions o;
    o.channelMean = {100.0, 1000.0};
    o.channelStd = {20.0, 240.0};
    o.mode = FeatureMode::Dense;
    DenseFeatureExtractor dense(net, o);
    o.mode = FeatureMode::PerPatch;
    DenseFeatureExtractor ref(net, o);
    GridRegion region;
    if (useRegion) {
      region.begin = {18, 17, 16};
      region.end = {stride == 1 ? 24 : 29, stride == 1 ? 23 : 27, stride == 1 ? 21 : 25};
    }
    FeatureGrid g = dense.layout(a_, stride, 90.0f, 1e9f, region);
    FeatureGrid r = g;
    const std::vector<const Volume*> inputs{&a_, &b_};
    dense.compute(g, inputs);
    ref.compute(r, inputs);
    QCOMPARE(g.dim, 160);
    QVERIFY2(g.count() >= 4, qPrintable(QString("only %1 grid points").arg(g.count())));
    const double diff = maxAbsDiff(g.features, r.features);
    qInfo("%s stride %d, 2 channels: %zu points, max |dense - per-patch| = %.2e", qPrintable(network), stride,
          g.count(), diff);
    QVERIFY2(diff <= 1e-4, qPrintable(QString("max |dense - per-patch| = %1").arg(diff)));
    double spread = 0;
    for (int f = 0; f < g.dim; ++f) {
      double lo = 1e9, hi = -1e9;
      for (std::size_t i = 0; i < g.count(); ++i) {
        lo = std::min(lo, double(g.row(i)[f]));
        hi = std::max(hi, double(g.row(i)[f]));
      }
      spread = std::max(spread, hi - lo);
    }
    QVERIFY2(spread > 1e-3, "features do not vary: the comparison would be vacuous");

    // Per-channel standardisation: channel 1 standardised by hand and given with (0, 1) gives the same features.
    Volume bStd = b_;
    for (auto& v : bStd.voxels) v = (v - 1000.0f) * float(1.0 / 240.0);
    DenseFeatureOptions o2;
    o2.channelMean = {100.0, 0.0};
    o2.channelStd = {20.0, 1.0};
    o2.mode = FeatureMode::Dense;
    FeatureGrid h = g;
    DenseFeatureExtractor(net, o2).compute(h, {&a_, &bStd});
    QVERIFY(maxAbsDiff(h.features, g.features) < 1e-5);
    // And the second channel matters: the first volume twice gives other features.
    FeatureGrid same = g;
    dense.compute(same, {&a_, &a_});
    QVERIFY(maxAbsDiff(same.features, g.features) > 1e-3);
    // A two-channel network needs two volumes.
    FeatureGrid one = g;
    QVERIFY_THROWS_EXCEPTION(InputError, dense.compute(one, a_));
  }

  void oneChannelOverloadsAgree() {
    // compute(grid, volume) is compute(grid, {&volume}) byte for byte, for extractors and models.
    NetworkSpec spec = NetworkSpec::byName("fast3d", 15);
    JuleModel model;
    model.spec = spec;
    model.network = makeRandomNetwork(spec, 5, true);
    model.patchMean = 100.0;
    model.patchStd = 20.0;
    model.standardized = true;
    ModelFeatures mf(model, 0);
    QCOMPARE(mf.channelCount(), 1);
    FeatureGrid a = mf.layout(a_, 4, 90.0f, 1e9f), b = a;
    mf.compute(a, a_);
    mf.compute(b, std::vector<const Volume*>{&a_});
    QVERIFY(sameBytes(a.features, b.features));
    QVERIFY(!a.features.empty());
    QVERIFY_THROWS_EXCEPTION(InputError, mf.compute(b, std::vector<const Volume*>{&a_, &b_}));
  }

  void modelRefusesWrongVolumeCount() {
    NetworkSpec spec = twoChannel("fast3d", 15);
    JuleModel model;
    model.spec = spec;
    model.network = makeRandomNetwork(spec, 8, true);
    model.patchMean = 100.0;
    model.patchStd = 20.0;
    model.channelMean = {100.0, 1000.0};
    model.channelStd = {20.0, 240.0};
    model.channelNames = {"flair", "t1c"};
    model.standardized = true;
    ModelFeatures mf(model, 0);
    QCOMPARE(mf.channelCount(), 2);
    FeatureGrid g = mf.layout(a_, 5, 90.0f, 1e9f);
    try {
      mf.compute(g, a_);
      QFAIL("expected InputError");
    } catch (const InputError& e) {
      QCOMPARE(std::string(e.what()),
               std::string("the model was trained on 2 channels (flair, t1c) but 1 volume was given"));
    }
    QVERIFY_THROWS_EXCEPTION(InputError, mf.compute(g, std::vector<const Volume*>{&a_, &b_, &a_}));
    // The right count gives the extractor's features with the model's per-channel standardisation.
    mf.compute(g, {&a_, &b_});
    DenseFeatureOptions o;
    o.channelMean = model.channelMean;
    o.channelStd = model.channelStd;
    FeatureGrid r = g;
    DenseFeatureExtractor(model.network, o).compute(r, {&a_, &b_});
    QVERIFY(sameBytes(g.features, r.features));
    // A model of several networks checks the count too.
    model.moreNetworks = {makeRandomNetwork(spec, 9, true)};
    QVERIFY_THROWS_EXCEPTION(InputError, ModelFeatures(model, 0).compute(g, a_));
    // Per-channel values that do not match the channel count are refused.
    model.channelStd = {20.0};
    QVERIFY_THROWS_EXCEPTION(InputError, ModelFeatures(model, 0));
  }

  void modelFileKeepsChannels() {
    NetworkSpec spec = NetworkSpec::byName("local3d", 9);
    spec.inChannels = 2;
    JuleModel m;
    m.spec = spec;
    torch::manual_seed(4);
    m.network = std::make_shared<PatchNetworkImpl>(spec);
    m.network->eval();
    m.patchMean = 12.5;
    m.patchStd = 3.25;
    m.channelMean = {12.5, 640.0};
    m.channelStd = {3.25, 80.5};
    m.channelNames = {"flair", "t1c"};
    m.standardized = true;
    const std::string dir = jseg::test::tempDir("channels-model");
    const std::string path = dir + "/model.pt";
    ModelFile::save(m, path);
    JuleModel back = ModelFile::load(path);
    QCOMPARE(back.spec.inChannels, 2);
    QCOMPARE(back.channels(), 2);
    QCOMPARE(back.channelNames, (std::vector<std::string>{"flair", "t1c"}));
    QCOMPARE(back.channelMean, (std::vector<double>{12.5, 640.0}));
    QCOMPARE(back.channelStd, (std::vector<double>{3.25, 80.5}));
    QCOMPARE(back.inputMeans(), m.channelMean);
    QCOMPARE(back.patchMean, 12.5);
    QCOMPARE(back.patchStd, 3.25);
    QVERIFY(back.standardized);
    QCOMPARE(back.network->convs[0]->weight.size(1), int64_t(2));
    {
      torch::NoGradGuard ng;
      auto x = torch::randn({3, 2, 9, 9, 9});
      QVERIFY(torch::equal(m.network->forward(x), back.network->forward(x)));
    }
    nlohmann::json j = nlohmann::json::parse(jseg::test::readFileBytes(dir + "/model.json"));
    QCOMPARE(j.at("format_version").get<int>(), 2);  // older juleseg says "newer", not a weight mismatch
    QCOMPARE(j.at("network").at("in_channels").get<int>(), 2);

    // A JSON whose channel values do not match the network is refused before the weights are read.
    nlohmann::json bad = j;
    bad["patch"]["channel_means"] = {12.5};
    jseg::test::writeFileBytes(dir + "/model.json", bad.dump(2));
    QVERIFY_THROWS_EXCEPTION(InputError, ModelFile::load(path));

    // An old-style one-channel model.json (no channel fields at all) loads as one channel "intensity".
    NetworkSpec spec1 = NetworkSpec::byName("local3d", 9);
    JuleModel one;
    one.spec = spec1;
    one.network = std::make_shared<PatchNetworkImpl>(spec1);
    one.network->eval();
    one.patchMean = 7.0;
    one.patchStd = 2.0;
    one.standardized = true;
    const std::string path1 = dir + "/old.pt";
    ModelFile::save(one, path1);
    nlohmann::json o1 = nlohmann::json::parse(jseg::test::readFileBytes(dir + "/old.json"));
    QCOMPARE(o1.at("format_version").get<int>(), 1);  // one channel: still readable by older juleseg
    QCOMPARE(o1.at("patch").at("channel_means"), nlohmann::json::array({7.0}));
    QCOMPARE(o1.at("channel_names"), nlohmann::json::array({"intensity"}));
    o1["network"].erase("in_channels");
    o1["patch"].erase("channel_means");
    o1["patch"].erase("channel_stds");
    o1.erase("channel_names");
    jseg::test::writeFileBytes(dir + "/old.json", o1.dump(2));
    JuleModel old = ModelFile::load(path1);
    QCOMPARE(old.channels(), 1);
    QCOMPARE(old.inputMeans(), std::vector<double>{7.0});
    QCOMPARE(old.inputStds(), std::vector<double>{2.0});
    QCOMPARE(old.inputNames(), std::vector<std::string>{"intensity"});
    QCOMPARE(old.channelNames, std::vector<std::string>{"intensity"});
    QCOMPARE(ModelFeatures(old, 0).channelCount(), 1);
  }

  void trainerLearnsOnTwoChannels() {
    // A short JULE run on two-channel patches: the model records both channels' standardisation.
    Volume c0 = randomVolume(20, 20, 20, 12);
    Volume c1 = randomVolume(20, 20, 20, 13, 500.0f, 4.0f);
    PatchSamplerOptions so;
    so.patchSize = 7;
    so.count = 80;
    so.seed = 3;
    PatchSet ps = PatchSampler::sample({&c0, &c1}, so);
    JuleOptions o;
    o.network.name = "test";
    o.network.inputSize = 7;
    o.network.inChannels = 2;
    o.network.convs = {{8, 3, false}, {8, 3, false}};
    o.network.featureDim = 16;
    o.clusters = 4;
    o.epochsPerPeriod = 1;
    o.maxEpochs = 3;
    o.batchSize = 40;
    o.device = "cpu";
    o.seed = 5;
    JuleTrainer trainer(o);
    JuleResult r = trainer.run(ps);
    QCOMPARE(int(r.labels.size()), 80);
    QCOMPARE(*std::max_element(r.labels.begin(), r.labels.end()) + 1, 4);
    QCOMPARE(r.model.channels(), 2);
    QCOMPARE(r.model.channelMean, ps.channelMean);
    QCOMPARE(r.model.channelStd, ps.channelStd);
    QCOMPARE(r.model.inputNames(), (std::vector<std::string>{"channel 1", "channel 2"}));
    QVERIFY(r.model.channelMean[1] > 400);  // channel 1's own level, not channel 0's
    // One-channel patches do not fit a two-channel network.
    PatchSet single = PatchSampler::sample(c0, so);
    QVERIFY_THROWS_EXCEPTION(InputError, JuleTrainer(o).run(single));
  }

  void roiRestrictsSamplingGridAndLabels() {
    const auto roi = ballMask(a_.geom, {20.0, 22.0, 19.0}, 10.0);
    const float lo = 90.0f, hi = 1e9f;
    // Sampling: centres inside roi and window only; candidates counted the same way.
    PatchSamplerOptions so;
    so.patchSize = 9;
    so.count = 300;
    so.lo = lo;
    so.hi = hi;
    so.seed = 2;
    so.roi = roi.get();
    PatchSet ps = PatchSampler::sample({&a_, &b_}, so);
    int64_t expect = 0;
    for (int64_t z = 4; z < 36; ++z)
      for (int64_t y = 4; y < 38; ++y)
        for (int64_t x = 4; x < 40; ++x) expect += a_.at(x, y, z) >= lo && roi->inside[a_.geom.index(x, y, z)];
    QCOMPARE(ps.candidates, expect);
    QCOMPARE(PatchSampler::countCandidates(a_, 9, lo, hi, roi.get()), expect);
    QVERIFY(expect < PatchSampler::countCandidates(a_, 9, lo, hi) / 2);
    for (const auto& c : ps.centres) {
      QVERIFY(roi->inside[a_.geom.index(c[0], c[1], c[2])]);
      QVERIFY(a_.at(c[0], c[1], c[2]) >= lo);
    }
    // A roi of other dims: InputError naming both.
    Mask wrong;
    wrong.geom.dims = {44, 42, 39};
    wrong.inside.assign(wrong.geom.voxelCount(), 1);
    so.roi = &wrong;
    try {
      PatchSampler::sample(a_, so);
      QFAIL("expected InputError");
    } catch (const InputError& e) {
      QVERIFY2(std::string(e.what()).find("44x42x39") != std::string::npos, e.what());
      QVERIFY2(std::string(e.what()).find("44x42x40") != std::string::npos, e.what());
    }

    // Grid: points only inside roi and window, the grid keeps the roi.
    NetworkSpec spec = twoChannel("local3d", 9);
    JuleModel model;
    model.spec = spec;
    model.network = makeRandomNetwork(spec, 6, true);
    model.channelMean = {100.0, 1000.0};
    model.channelStd = {20.0, 240.0};
    model.standardized = true;
    ModelFeatures mf(model, 0);
    FeatureGrid g = mf.layout(a_, 3, lo, hi, roi);
    QVERIFY(g.roi == roi);
    FeatureGrid all = mf.layout(a_, 3, lo, hi);
    QVERIFY(!all.roi);
    std::size_t inside = 0;
    for (const auto& c : all.centres) inside += roi->inside[a_.geom.index(c[0], c[1], c[2])];
    QCOMPARE(g.count(), inside);
    QVERIFY(inside > 20 && inside < all.count());
    for (const auto& c : g.centres) {
      QVERIFY(g.inRegion(c[0], c[1], c[2]));
      QVERIFY(a_.at(c[0], c[1], c[2]) >= lo);
    }
    QVERIFY(!g.inRegion(0, 0, 0));
    QVERIFY(all.inRegion(0, 0, 0));
    DenseFeatureExtractor ex(model.network, DenseFeatureOptions{});
    QCOMPARE(ex.layout(a_, 3, lo, hi, GridRegion{}, roi).centres, g.centres);
    QVERIFY_THROWS_EXCEPTION(InputError, mf.layout(a_, 3, lo, hi, std::make_shared<Mask>(wrong)));

    // Features on the roi grid are the full grid's rows at the same points.
    mf.compute(g, {&a_, &b_});
    mf.compute(all, {&a_, &b_});
    double diff = 0;
    for (std::size_t i = 0, j = 0; i < g.count(); ++i) {
      while (all.lattice[j] != g.lattice[i]) ++j;
      for (int f = 0; f < g.dim; ++f) diff = std::max(diff, double(std::abs(g.row(i)[f] - all.row(j)[f])));
    }
    QVERIFY2(diff < 1e-4, qPrintable(QString::number(diff)));

    // Labels: 0 outside the roi in every projection, with or without filling.
    std::vector<int32_t> clusters(g.count());
    for (std::size_t i = 0; i < g.count(); ++i) clusters[i] = int32_t(i % 3);
    for (bool fill : {false, true}) {
      Projection p = LabelProjector(ProjectionOptions{fill}).project(g, clusters.data(), 3, a_);
      int64_t labelledInside = 0;
      for (std::size_t v = 0; v < p.labels.labels.size(); ++v) {
        if (!roi->inside[v]) QCOMPARE(int(p.labels.labels[v]), 0);
        else labelledInside += p.labels.labels[v] != 0;
      }
      QVERIFY(labelledInside > 1000);
    }
  }

private:
  Volume a_, b_;
};

QTEST_GUILESS_MAIN(TestChannelsRoi)
#include "test_channels_roi.moc"
