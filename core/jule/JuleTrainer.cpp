#include "core/jule/JuleTrainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include <torch/torch.h>

#include "core/base/Errors.h"
#include "core/jule/PatchNetwork.h"
#include "core/jule/PatchSampler.h"
#include "core/jule/TorchRuntime.h"
#include "core/jule/TripletLoss.h"
#include "core/params/ParameterSchema.h"

namespace jseg {

using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int countClusters(const std::vector<int>& labels) {
  if (labels.empty()) return 0;
  return *std::max_element(labels.begin(), labels.end()) + 1;
}

std::vector<int> clusterSizes(const std::vector<int>& labels) {
  std::vector<int> s(static_cast<std::size_t>(countClusters(labels)), 0);
  for (int l : labels) ++s[l];
  std::sort(s.begin(), s.end(), std::greater<int>());
  return s;
}

std::string formatSeconds(double s) {
  if (s < 0) return "?";
  std::ostringstream o;
  long t = std::lround(s);
  if (t >= 3600) o << t / 3600 << "h" << (t / 60) % 60 << "m";
  else if (t >= 60) o << t / 60 << "m" << t % 60 << "s";
  else o << t << "s";
  return o.str();
}

} // namespace

double JuleOptions::learningRateAt(double base, double gamma, double power, int64_t iteration) {
  return base * std::pow(1.0 + gamma * double(iteration), -power);
}

JuleOptions JuleOptions::fromParameters(const Parameters& p) { return fromParameters(p.values()); }

JuleOptions JuleOptions::fromParameters(const ParameterValues& v) {
  JuleOptions o;
  o.network = NetworkSpec::byName(v.network, v.patchSize, v.patchDepth);
  o.network.globalPool = v.globalPool;
  o.clusters = v.clusters;
  o.eta = v.eta;
  o.epochsPerPeriod = v.epochsPerPeriod;
  o.batchSize = v.batchSize;
  o.learningRate = v.learningRate;
  o.momentum = v.momentum;
  o.dampening = v.dampening;
  o.weightDecay = v.weightDecay;
  o.lrGamma = v.lrGamma;
  o.lrPower = v.lrPower;
  o.margin = v.margin;
  o.tripletGamma = v.tripletGamma;
  o.negatives = v.negatives;
  o.anchorOnlyGradient = v.anchorOnlyGradient;
  o.finalPass = v.finalPass;
  o.reclusterFinal = v.reclusterFinal;
  o.bnTrainModeFeatures = v.bnTrainFeatures;
  o.initialFromNetwork = v.initialClusters == "network";
  o.maxEpochs = v.maxEpochs;
  o.seed = static_cast<uint64_t>(v.seed);
  o.device = v.device;
  o.precision = v.precision;
  o.threads = v.threads;
  o.gdl.ks = v.knn;
  o.gdl.kc = v.kc;
  o.gdl.lambda = v.lambda;
  o.gdl.lambdaMinClusters = v.lambdaMinClusters;
  o.gdl.faithfulTriangularKnn = v.faithfulTriangularKnn;
  o.gdl.fastRowUpdate = v.fastRowUpdate;
  o.gdl.threads = o.threads;
  return o;
}

namespace {
nlohmann::json optionsJson(const JuleOptions& o) {
  return {{"network", o.network.name}, {"clusters", o.clusters}, {"eta", o.eta},
          {"epochs_per_period", o.epochsPerPeriod}, {"batch_size", o.batchSize},
          {"learning_rate", o.learningRate}, {"momentum", o.momentum}, {"dampening", o.dampening},
          {"weight_decay", o.weightDecay}, {"lr_gamma", o.lrGamma}, {"lr_power", o.lrPower},
          {"margin", o.margin}, {"triplet_gamma", o.tripletGamma}, {"negatives", o.negatives},
          {"anchor_only_gradient", o.anchorOnlyGradient}, {"final_pass", o.finalPass},
          {"recluster_final", o.reclusterFinal}, {"bn_train_features", o.bnTrainModeFeatures},
          {"initial_clusters", o.initialFromNetwork ? "network" : "raw"},
          {"max_epochs", o.maxEpochs}, {"seed", o.seed}, {"device", o.device}, {"precision", o.precision}, {"knn", o.gdl.ks},
          {"kc", o.gdl.kc}, {"lambda", o.gdl.lambda}, {"lambda_min_clusters", o.gdl.lambdaMinClusters},
          {"faithful_triangular_knn", o.gdl.faithfulTriangularKnn}, {"fast_row_update", o.gdl.fastRowUpdate}};
}

nlohmann::json periodJson(const PeriodEvent& e) {
  return {{"type", "period"}, {"period", e.period}, {"clusters", e.clusters}, {"loss", e.loss},
          {"epochs", e.epochs}, {"seconds", e.seconds}, {"patches_per_s", e.patchesPerS}, {"eta_s", e.etaS},
          {"final_pass", e.finalPass}};
}
} // namespace

nlohmann::json toJson(const JuleEvent& ev) {
  struct V {
    nlohmann::json operator()(const PeriodEvent& e) const { return periodJson(e); }
    nlohmann::json operator()(const MergeEvent& e) const {
      return {{"type", "merge"}, {"period", e.period}, {"clusters_left", e.clustersLeft},
              {"merges_done", e.mergesDone}, {"merges_planned", e.mergesPlanned}};
    }
    nlohmann::json operator()(const EpochEvent& e) const {
      return {{"type", "epoch"}, {"period", e.period}, {"epoch", e.epoch}, {"epoch_in_period", e.epochInPeriod},
              {"loss", e.loss}, {"seconds", e.seconds}};
    }
    nlohmann::json operator()(const ClusterSizesEvent& e) const {
      return {{"type", "cluster_sizes"}, {"period", e.period}, {"sizes", e.sizes}};
    }
    nlohmann::json operator()(const NetworkStartEvent& e) const {
      return {{"type", "network"}, {"network", e.network}, {"networks", e.networks}};
    }
  };
  return std::visit(V{}, ev);
}

int JuleTrainer::estimateRemainingEpochs(int nc, const JuleOptions& o) {
  int periods = 0;
  for (int c = nc; c > o.clusters; ++periods)
    c -= std::max(1, AgglomerativeClustering::mergesForPeriod(c, o.eta, o.clusters));
  return periods * o.epochsPerPeriod + (o.finalPass ? o.epochsPerPeriod : 0);
}

struct JuleTrainer::Impl {
  JuleOptions o;
  JuleEventSink sink;
  const TaskContext* ctx = nullptr;
  torch::Device dev{torch::kCPU};
  PatchNetwork net{nullptr};
  std::unique_ptr<torch::optim::SGD> opt;
  torch::Tensor X;  // n x C x D x w x w on the training device (C input channels, D depth)
  const float* neighbours = nullptr;  // per sample a shifted partner (neighbour_positives), or null
  torch::Tensor XN;                   // the partners, as X
  int n = 0;
  int64_t iteration = 0;
  int epochsDone = 0;
  int period = 0;
  std::mt19937_64 rng;
  double secondsPerEpoch = -1;
  double clusterSeconds = 0;
  Clock::time_point start;
  std::vector<PeriodEvent> history;

  void emit(const JuleEvent& e) {
    if (sink) sink(e);
  }

  int remainingEpochs(int nc, bool inFinal) const {
    int r = inFinal ? 0 : JuleTrainer::estimateRemainingEpochs(nc, o);
    return std::max(0, std::min(r, o.maxEpochs - epochsDone));
  }

  double etaSeconds(int remaining, int nc) const {
    if (secondsPerEpoch < 0) return -1;
    int periodsLeft = o.epochsPerPeriod > 0 ? (remaining + o.epochsPerPeriod - 1) / o.epochsPerPeriod : 0;
    (void)nc;
    return remaining * secondsPerEpoch + periodsLeft * clusterSeconds;
  }

  void report(int remaining, int nc, const std::string& what) {
    if (!ctx) return;
    double total = epochsDone + remaining;
    double frac = total > 0 ? double(epochsDone) / total : 0.0;
    double eta = etaSeconds(remaining, nc);
    ctx->report(std::min(frac, 0.999), what + (eta >= 0 ? ", ETA " + formatSeconds(eta) : ""));
  }

  // Cancel checks between layers in forward, and between layers in backward via gradient hooks, so a
  // cancel takes effect within a layer's time even when one mini-batch takes seconds on a CPU.
  void installCancelHooks() {
    const TaskContext* c = ctx;
    net->afterBlock = [c](torch::Tensor& t) {
      checkCancel(c);
      if (c && t.requires_grad()) t.register_hook([c](torch::Tensor) { checkCancel(c); });
    };
  }

  int featureBatch() const {
    if (dev.is_cuda()) return 512;
    // About 2 GMAC per chunk on a CPU: cancel is checked per layer anyway.
    double m = std::max(1.0, o.network.macsPerSample());
    return static_cast<int>(std::clamp(2e9 / m, 8.0, 1024.0));
  }

  std::vector<float> extractFeatures() {
    const int d = o.network.featureDim;
    std::vector<float> out(static_cast<std::size_t>(n) * d);
    const bool trainMode = o.bnTrainModeFeatures;
    net->train(trainMode);
    const int bs = trainMode ? o.batchSize : featureBatch();
    {
      torch::NoGradGuard ng;
      for (int s = 0; s < n; s += bs) {
        checkCancel(ctx);
        int e = std::min(n, s + bs);
        auto f = net->forward(X.slice(0, s, e)).to(torch::kCPU).contiguous();
        std::copy(f.data_ptr<float>(), f.data_ptr<float>() + std::size_t(e - s) * d,
                  out.data() + std::size_t(s) * d);
      }
    }
    net->train(true);
    return out;
  }

  // One epoch over a seeded permutation; returns the mean loss of the batches that had triplets.
  double trainEpoch(const std::vector<int>& labels) {
    std::vector<int64_t> perm(static_cast<std::size_t>(n));
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    TripletLossOptions lo{o.tripletGamma, o.margin, o.anchorOnlyGradient};
    double lossSum = 0;
    int lossCount = 0;
    net->train(true);
    for (int s = 0; s < n; s += o.batchSize) {
      checkCancel(ctx);
      int e = std::min(n, s + o.batchSize);
      std::vector<int> bl(static_cast<std::size_t>(e - s));
      for (int i = s; i < e; ++i) bl[i - s] = labels[perm[i]];
      // Each partner follows its sample in the batch with the sample's label: anchor and partner form a positive
      // pair, and the partners join the cluster-mates' pairs and the negatives like any sample.
      if (XN.defined()) bl.insert(bl.end(), bl.begin(), bl.end());
      auto triplets = buildTriplets(bl, o.negatives, rng);
      const double lr = JuleOptions::learningRateAt(o.learningRate, o.lrGamma, o.lrPower, iteration);
      ++iteration;  // the schedule counts every mini-batch, as the reference does
      // A batch without a positive pair has no loss; the reference still steps the optimiser with a zero
      // loss gradient, which only applies decay and momentum. Skipping it saves the forward pass.
      if (triplets.empty() || e - s < 2) continue;
      for (auto& g : opt->param_groups()) static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
      auto idx = torch::from_blob(perm.data() + s, {e - s}, torch::kLong).to(dev);
      auto xb = X.index_select(0, idx);
      if (XN.defined()) xb = torch::cat({xb, XN.index_select(0, idx)}, 0);
      opt->zero_grad();
      auto f = net->forward(xb);
      auto loss = tripletLoss(f, triplets, lo);
      loss.backward();
      checkCancel(ctx);
      opt->step();
      lossSum += loss.item<double>();
      ++lossCount;
    }
    return lossCount ? lossSum / lossCount : 0.0;
  }

  void trainPeriod(const std::vector<int>& labels, int epochs, bool finalPass, Clock::time_point periodStart) {
    const int nc = countClusters(labels);
    double lastLoss = 0;
    auto t0 = Clock::now();
    for (int ep = 0; ep < epochs; ++ep) {
      int remainingNow = remainingEpochs(nc, finalPass) + (finalPass ? epochs - ep : 0);
      std::ostringstream msg;
      msg << (finalPass ? "final pass" : "period " + std::to_string(period)) << ": epoch " << ep + 1 << "/" << epochs
          << " on " << nc << " clusters";
      report(remainingNow, nc, msg.str());
      auto te = Clock::now();
      lastLoss = trainEpoch(labels);
      ++epochsDone;
      double s = since(te);
      secondsPerEpoch = secondsPerEpoch < 0 ? s : 0.7 * secondsPerEpoch + 0.3 * s;
      emit(EpochEvent{period, epochsDone, ep + 1, lastLoss, s});
    }
    PeriodEvent pe;
    pe.period = period;
    pe.clusters = nc;
    pe.loss = lastLoss;
    pe.epochs = epochs;
    pe.seconds = since(periodStart);
    double trainS = since(t0);
    pe.patchesPerS = trainS > 0 ? double(n) * epochs / trainS : 0;
    pe.finalPass = finalPass;
    // After this period: the merge it leads to, then the remaining periods.
    int left = 0;
    if (!finalPass) {
      int c = nc - AgglomerativeClustering::mergesForPeriod(nc, o.eta, o.clusters);
      left = std::max(0, std::min(c > o.clusters ? estimateRemainingEpochs(c, o)
                                                 : (o.finalPass ? o.epochsPerPeriod : 0),
                                  o.maxEpochs - epochsDone));
    }
    pe.etaS = etaSeconds(left, nc);
    history.push_back(pe);
    emit(pe);
  }

  std::vector<int> mergeOnce(AgglomerativeClustering& agg, const std::vector<int>& labels) {
    auto feats = extractFeatures();
    int p = period;
    MergeCallback cb = [this, p](const MergeProgress& m) {
      emit(MergeEvent{p, m.clustersLeft, m.mergesDone, m.mergesPlanned});
      checkCancel(ctx);
    };
    auto t = Clock::now();
    auto next = agg.mergePeriod(feats.data(), n, o.network.featureDim, labels, o.eta, o.clusters, cb, ctx);
    clusterSeconds = since(t);
    return next;
  }
};

JuleTrainer::JuleTrainer(JuleOptions options, JuleEventSink sink) : impl_(std::make_unique<Impl>()) {
  impl_->o = std::move(options);
  impl_->sink = std::move(sink);
}

JuleTrainer::~JuleTrainer() = default;

JuleResult JuleTrainer::run(const PatchSet& patches, const TaskContext* ctx) {
  const NetworkSpec& spec = impl_->o.network;
  if (patches.patchSize != spec.inputSize)
    throw InputError("patch size " + std::to_string(patches.patchSize) + " does not match the network " +
                     spec.name + " (input " + std::to_string(spec.inputSize) + ")");
  if (spec.spatialDims == 3 && patches.depth() != spec.depth())
    throw InputError("patch depth " + std::to_string(patches.depth()) + " does not match the network " + spec.name +
                     " (input depth " + std::to_string(spec.depth()) + ")");
  if (patches.channels != spec.inChannels)
    throw InputError("the patches have " + std::to_string(patches.channels) + " channels but the network " + spec.name +
                     " takes " + std::to_string(spec.inChannels));
  if (patches.data.size() != patches.patchValues() * std::size_t(std::max(0, patches.count)))
    throw InputError("the patch set holds " + std::to_string(patches.data.size()) + " values, not " +
                     std::to_string(patches.count) + " patches of " + std::to_string(patches.patchValues()));
  // One channel keeps the scalar fields only, which callers that re-standardise by hand also update.
  std::vector<double> means, stds;
  if (patches.channels > 1) {
    means.assign(std::size_t(patches.channels), patches.mean);
    stds.assign(std::size_t(patches.channels), patches.std);
    if (patches.standardized) {
      if (patches.channelMean.size() != means.size() || patches.channelStd.size() != stds.size() ||
          patches.channelMean[0] != patches.mean || patches.channelStd[0] != patches.std)
        throw InputError("the patch set has no per-channel standardisation matching its mean/std (use "
                         "PatchSampler::standardizeChannels after re-cutting patches)");
      means = patches.channelMean;
      stds = patches.channelStd;
    }
  }
  if (!patches.neighbours.empty() && patches.neighbours.size() != patches.data.size())
    throw InputError("the patch set's neighbour patches do not match its patches");
  impl_->neighbours = patches.neighbours.empty() ? nullptr : patches.neighbours.data();
  JuleResult r = run(patches.data.data(), patches.count, ctx);
  impl_->neighbours = nullptr;
  r.model.patchMean = patches.mean;
  r.model.patchStd = patches.std;
  r.model.standardized = patches.standardized;
  r.model.channelMean = means;
  r.model.channelStd = stds;
  return r;
}

JuleResult JuleTrainer::run(const float* samples, int n, const TaskContext* ctx) {
  Impl& m = *impl_;
  const JuleOptions& o = m.o;
  if (n < 2) throw InputError("JULE needs at least 2 samples");
  if (o.clusters >= n)
    throw InputError("final clusters C = " + std::to_string(o.clusters) + " must be fewer than the " +
                     std::to_string(n) + " samples");
  m.ctx = ctx;
  m.n = n;
  m.start = Clock::now();
  m.rng.seed(o.seed * 0x9E3779B97F4A7C15ull + 0x51ED27);
  TorchRuntime::configureThreads(o.threads);
  m.dev = torch::Device(TorchRuntime::resolveDevice(o.device));
  const Precision precision = ComputePrecision::resolve(o.precision, m.dev.str());
  reportProgress(ctx, 0.0, "building the network");

  torch::manual_seed(o.seed);
  m.net = PatchNetwork(o.network);
  m.net->setPrecision(precision);
  m.net->to(m.dev);
  m.installCancelHooks();
  m.opt = std::make_unique<torch::optim::SGD>(
      m.net->parameters(), torch::optim::SGDOptions(o.learningRate)
                               .momentum(o.momentum)
                               .dampening(o.dampening)
                               .weight_decay(o.weightDecay));
  const int D = o.network.inputVoxels();  // all channels: period 0 clusters the whole sample
  const int w = o.network.inputSize;
  const int64_t depth = o.network.depth();
  // The caller's buffer outlives run(); on a GPU the whole set is copied once.
  m.X = torch::from_blob(const_cast<float*>(samples), {n, int64_t(o.network.inChannels), depth, w, w},
                         torch::kFloat32);
  if (m.dev.is_cuda()) m.X = m.X.to(m.dev);
  m.XN = torch::Tensor();
  if (m.neighbours) {
    m.XN = torch::from_blob(const_cast<float*>(m.neighbours), m.X.sizes(), torch::kFloat32);
    if (m.dev.is_cuda()) m.XN = m.XN.to(m.dev);
  }

  JuleResult result;
  std::vector<int> labels;
  try {
    AgglomerativeClustering agg(o.gdl);
    // Period 0: raw samples, rows renormalised to norm <= 1 as torch's renorm(2,1,1) does.
    auto periodStart = Clock::now();
    reportProgress(ctx, 0.0, o.initialFromNetwork ? "initial clusters on untrained features" : "initial clusters on raw patches");
    if (o.initialFromNetwork) {
      // Raw-voxel distances see noise-like texture as noise; the random network's filters respond to it.
      auto feats = m.extractFeatures();
      auto t = Clock::now();
      labels = agg.initialise(feats.data(), n, o.network.featureDim, ctx);
      m.clusterSeconds = since(t);
    } else {
      std::vector<float> raw(samples, samples + std::size_t(n) * D);
      for (int i = 0; i < n; ++i) {
        float* r = raw.data() + std::size_t(i) * D;
        double ss = 0;
        for (int k = 0; k < D; ++k) ss += double(r[k]) * r[k];
        double norm = std::sqrt(ss);
        if (norm > 1.0)
          for (int k = 0; k < D; ++k) r[k] = static_cast<float>(r[k] / norm);
      }
      auto t = Clock::now();
      labels = agg.initialise(raw.data(), n, D, ctx);
      m.clusterSeconds = since(t);
    }
    m.emit(ClusterSizesEvent{0, clusterSizes(labels)});

    bool reachedTarget = false;
    while (true) {
      int nc = countClusters(labels);
      if (nc <= o.clusters) {
        reachedTarget = true;
        break;
      }
      if (m.epochsDone >= o.maxEpochs) break;
      int epochs = std::min(o.epochsPerPeriod, o.maxEpochs - m.epochsDone);
      m.trainPeriod(labels, epochs, false, periodStart);
      periodStart = Clock::now();
      m.report(m.remainingEpochs(nc, false), nc, "period " + std::to_string(m.period) + ": merging " +
                                                    std::to_string(nc) + " clusters");
      auto next = m.mergeOnce(agg, labels);
      ++m.period;
      bool progressed = countClusters(next) < nc;
      labels = std::move(next);
      m.emit(ClusterSizesEvent{m.period, clusterSizes(labels)});
      if (!progressed) break;  // the graph allows no further merge; keep what we have
    }
    if (!reachedTarget && countClusters(labels) > o.clusters) {
      // Epoch budget spent: finish the merges on the last features, without training.
      auto feats = m.extractFeatures();
      for (int guard = 0; countClusters(labels) > o.clusters && guard < 1000; ++guard) {
        int before = countClusters(labels);
        labels = agg.mergePeriod(feats.data(), n, o.network.featureDim, labels, o.eta, o.clusters, {}, ctx);
        if (countClusters(labels) >= before) break;
      }
      m.emit(ClusterSizesEvent{m.period, clusterSizes(labels)});
    }
    result.labelsAtStop = labels;

    if (o.finalPass && m.epochsDone < o.maxEpochs) {
      int epochs = std::min(o.epochsPerPeriod, o.maxEpochs - m.epochsDone);
      m.trainPeriod(labels, epochs, true, periodStart);
      ++m.period;
    }
    if (o.reclusterFinal) {
      reportProgress(ctx, 0.999, "re-clustering on the final features");
      auto feats = m.extractFeatures();
      AgglomerativeClustering rc(o.gdl);
      int p = m.period;
      MergeCallback cb = [&m, p](const MergeProgress& mp) {
        m.emit(MergeEvent{p, mp.clustersLeft, mp.mergesDone, mp.mergesPlanned});
      };
      labels = rc.cluster(feats.data(), n, o.network.featureDim, o.clusters, o.eta, cb, ctx);
      m.emit(ClusterSizesEvent{p, clusterSizes(labels)});
    }
  } catch (...) {
    m.net->afterBlock = nullptr;
    if (ctx && ctx->cancel && ctx->cancel->cancelled()) throw CancelledError();
    throw;
  }
  m.net->afterBlock = nullptr;
  m.net->eval();

  result.labels = std::move(labels);
  result.history = m.history;
  result.epochs = m.epochsDone;
  result.seconds = since(m.start);
  JuleModel& model = result.model;
  model.spec = o.network;
  model.channelNames = model.inputNames();  // placeholders for C > 1: the caller knows what the channels are
  if (o.network.inChannels > 1) {
    // Raw samples unless run(PatchSet) records the set's standardisation; keeps the model savable.
    model.channelMean.assign(std::size_t(o.network.inChannels), 0.0);
    model.channelStd.assign(std::size_t(o.network.inChannels), 1.0);
  }
  model.network = m.net.ptr();
  model.seed = o.seed;
  model.parameters = optionsJson(o);
  model.device = m.dev.str();
  model.precision = ComputePrecision::name(precision);
  model.trainSeconds = result.seconds;
  for (const auto& h : m.history) model.history.push_back(periodJson(h));
  reportProgress(ctx, 1.0, "training finished");
  return result;
}

} // namespace jseg
