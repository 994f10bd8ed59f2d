#include "core/segment/DenseFeatureExtractor.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

#include <torch/torch.h>

#include "core/base/Errors.h"
#include "core/jule/PatchNetwork.h"
#include "core/jule/PatchSampler.h"
#include "core/jule/TorchRuntime.h"

namespace jseg {

namespace F = torch::nn::functional;

namespace {

// Restores the module's train/eval mode when a run ends, however it ends.
class EvalModeGuard {
public:
  explicit EvalModeGuard(PatchNetworkImpl& net) : net_(net), wasTraining_(net.is_training()) { net_.eval(); }
  ~EvalModeGuard() { net_.train(wasTraining_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

private:
  PatchNetworkImpl& net_;
  bool wasTraining_;
};

// One axis of a tile for one pooling phase: lattice indices first, first + step, ... (count of them),
// read from the input box starting at `cropStart` for `cropLength` voxels; in trunk cells they are
// `cellStep` apart.
struct AxisPhase {
  int64_t first = 0, step = 1, count = 0;
  int64_t cropStart = 0, cropLength = 0;
  int64_t cellStep = 1;
};

// The phases (distinct corner positions modulo the pooling factor) of lattice indices [i0, i1) on one axis.
std::vector<AxisPhase> axisPhases(int64_t i0, int64_t i1, int stride, int extent, int down) {
  std::vector<AxisPhase> out;
  const int64_t g = std::gcd<int64_t>(stride, down);
  const int64_t step = down / g;
  for (int64_t ia = i0; ia < std::min(i1, i0 + step); ++ia) {
    AxisPhase p;
    p.first = ia;
    p.step = step;
    p.count = (i1 - 1 - ia) / step + 1;
    p.cropStart = (ia - i0) * stride;
    p.cropLength = (p.count - 1) * step * stride + extent;
    p.cellStep = stride / g;
    out.push_back(p);
  }
  return out;
}

} // namespace

struct DenseFeatureExtractor::Impl {
  std::shared_ptr<PatchNetworkImpl> net;
  DenseFeatureOptions opt;
  NetworkSpec spec;
  torch::Device device{torch::kCPU};
  std::array<int, 3> extent{0, 0, 0};  // x, y, z
  std::array<int, 3> down{1, 1, 1};    // total pooling factor per axis
  bool denseExact = true;
  std::string denseWhyNot;
  std::vector<float> chMean, chInv;  // per input channel: input = (voxel - mean) * inv

  // The network's trunk (floor pooling: where dense mode is allowed, every window a patch uses is complete, see
  // denseExact), with a cancel check after each layer so that a cancel lands within one layer of one tile.
  torch::Tensor trunk(torch::Tensor x, const TaskContext* ctx) const {
    return net->trunk(std::move(x), false, opt.precision, [ctx] { checkCancel(ctx); });
  }

  // Normalised features (1 x F x count) of the patches at trunk cells 0, step, 2 step, ... (z y x) of x.
  // (Evaluating the last convolution only where patches read it, 27 of 125 cells at paper3d stride 5, was
  // tried: strided oneDNN convolutions and gathered GEMMs were both slower than the dense convolution.)
  torch::Tensor features(torch::Tensor x, std::array<int64_t, 3> step, const torch::Tensor& headW,
                         const torch::Tensor& headB, const TaskContext* ctx) const {
    torch::Tensor y = F::conv3d(trunk(x, ctx), headW,
                                F::Conv3dFuncOptions().bias(headB).stride({step[0], step[1], step[2]}));
    return F::normalize(y, F::NormalizeFuncOptions().p(2).dim(1).eps(1e-10));
  }

  // Peak bytes of activations per input voxel of a tile: the largest layer output (at its resolution),
  // three times over because conv, batch norm and ReLU results briefly coexist, plus the input copies.
  double bytesPerInputVoxel() const {
    double peak = 0, res = 1;
    for (std::size_t i = 0; i < spec.convs.size(); ++i) {
      const auto& c = spec.convs[i];
      peak = std::max(peak, 4.0 * c.channels / res);
      if (c.poolAfter) res *= double(spec.poolSize) * spec.poolSize * spec.poolDepth(i);
    }
    return 3 * peak + 8.0 * spec.inChannels;
  }

  // Multiply-adds of one dense pass over an input box (x, y, z) with the head at grid points `points`.
  double boxMacs(std::array<int64_t, 3> box, double points) const {
    double macs = 0;
    int cin = spec.inChannels;
    std::array<double, 3> s{double(box[0]), double(box[1]), double(box[2])};
    for (std::size_t i = 0; i < spec.convs.size(); ++i) {
      const auto& c = spec.convs[i];
      const double kz = spec.kernelDepth(i);
      s = {std::max(0.0, s[0] - c.kernel + 1), std::max(0.0, s[1] - c.kernel + 1), std::max(0.0, s[2] - kz + 1)};
      macs += s[0] * s[1] * s[2] * c.channels * cin * c.kernel * c.kernel * kz;
      cin = c.channels;
      if (c.poolAfter) s = {std::floor(s[0] / spec.poolSize), std::floor(s[1] / spec.poolSize),
                            std::floor(s[2] / spec.poolDepth(i))};
    }
    return macs + points * denseHeadInputs() * spec.featureDim;
  }

  // The dense head is a convolution over every trunk cell of the patch, also with global pooling (whose
  // weights it repeats per cell), so it costs channels x cells multiply-adds per feature.
  double denseHeadInputs() const {
    NetworkSpec flat = spec;
    flat.globalPool = false;
    return double(flat.flatSize());
  }

  FeaturePlan plan(const FeatureGrid& grid) const;
  void dense(FeatureGrid& grid, const std::vector<const Volume*>& vols, const FeaturePlan& plan,
             const TaskContext* ctx) const;
  void perPatch(FeatureGrid& grid, const std::vector<const Volume*>& vols, const TaskContext* ctx) const;
};

DenseFeatureExtractor::DenseFeatureExtractor(std::shared_ptr<PatchNetworkImpl> network, DenseFeatureOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (!network) throw InputError("no network given for feature extraction");
  if (!(options.inputStd > 0)) throw InputError("the input standard deviation must be positive");
  impl_->net = std::move(network);
  impl_->opt = options;
  impl_->spec = impl_->net->spec();
  const int channels = impl_->spec.inChannels;
  if (options.channelMean.empty() != options.channelStd.empty() ||
      (!options.channelMean.empty() && (int(options.channelMean.size()) != channels ||
                                        int(options.channelStd.size()) != channels)))
    throw InputError("the network takes " + std::to_string(channels) + " input channels but the standardisation has " +
                     std::to_string(options.channelMean.size()) + " means and " +
                     std::to_string(options.channelStd.size()) + " standard deviations");
  for (int c = 0; c < channels; ++c) {
    const double mean = options.channelMean.empty() ? options.inputMean : options.channelMean[c];
    const double sd = options.channelStd.empty() ? options.inputStd : options.channelStd[c];
    if (!(sd > 0))
      throw InputError("the input standard deviation of channel " + std::to_string(c + 1) + " must be positive");
    impl_->chMean.push_back(static_cast<float>(mean));
    impl_->chInv.push_back(static_cast<float>(1.0 / sd));
  }
  const auto params = impl_->net->parameters();
  if (!params.empty()) impl_->device = params.front().device();
  // The bf16 layer plan was measured on CPUs; a network on a GPU computes in fp32.
  if (impl_->device.is_cuda()) impl_->opt.precision = Precision::Fp32;
  const auto& spec = impl_->spec;
  const int w = spec.inputSize;
  impl_->extent = {w, w, spec.depth()};
  // Total pooling factor, and whether every pooling window inside a patch is complete: with ceil pooling
  // over an odd size the patch's last window is partial, which a dense pass cannot reproduce. The z axis
  // has its own kernels and pooling (thin patches), so it is followed separately.
  int size = w, sizeZ = spec.depth();
  for (std::size_t i = 0; i < spec.convs.size(); ++i) {
    const auto& c = spec.convs[i];
    size = size - c.kernel + 1;
    sizeZ = sizeZ - spec.kernelDepth(i) + 1;
    if (c.poolAfter) {
      const int pz = spec.poolDepth(i);
      if (spec.poolCeil && (size % spec.poolSize != 0 || sizeZ % pz != 0)) {
        impl_->denseExact = false;
        impl_->denseWhyNot = "the network pools with ceil mode over an odd size, which only per-patch inference reproduces";
      }
      size = spec.poolCeil ? (size + spec.poolSize - 1) / spec.poolSize : size / spec.poolSize;
      sizeZ = spec.poolCeil ? (sizeZ + pz - 1) / pz : sizeZ / pz;
      impl_->down[0] *= spec.poolSize;
      impl_->down[1] *= spec.poolSize;
      impl_->down[2] *= pz;
    }
  }
  TorchRuntime::configureThreads(options.threads);
}

DenseFeatureExtractor::~DenseFeatureExtractor() = default;

const NetworkSpec& DenseFeatureExtractor::spec() const { return impl_->spec; }

std::string DenseFeatureExtractor::device() const { return impl_->device.str(); }

void DenseFeatureExtractor::checkLayout(const Volume& vol, int stride) const {
  if (stride > impl_->spec.inputSize)
    throw InputError("stride " + std::to_string(stride) + " is larger than the patch size " +
                     std::to_string(impl_->spec.inputSize) + " (seed paper §2.5: s <= w)");
  // A thin patch with a larger stride would leave slices that no patch's block covers.
  if (impl_->extent[2] > 1 && stride > impl_->extent[2])
    throw InputError("stride " + std::to_string(stride) + " is larger than the patch depth " +
                     std::to_string(impl_->extent[2]) + " (s <= d)");
  PatchSampler::checkFits(vol.dims(), impl_->extent[0], impl_->extent[2]);
}

FeatureGrid DenseFeatureExtractor::layout(const Volume& vol, int stride, float lo, float hi,
                                          const GridRegion& region) const {
  checkLayout(vol, stride);
  return FeatureGrid::layout(vol, impl_->extent, stride, lo, hi, region);
}

FeatureGrid DenseFeatureExtractor::layout(const Volume& vol, int stride, float lo, float hi, const GridRegion& region,
                                          std::shared_ptr<const Mask> roi) const {
  checkLayout(vol, stride);
  return FeatureGrid::layout(vol, impl_->extent, stride, lo, hi, region, std::move(roi));
}

FeaturePlan DenseFeatureExtractor::plan(const FeatureGrid& grid) const { return impl_->plan(grid); }

FeaturePlan DenseFeatureExtractor::Impl::plan(const FeatureGrid& grid) const {
  FeaturePlan p;
  p.points = grid.count();
  p.perPatchMacs = double(p.points) * spec.macsPerSample();
  const double bpv = bytesPerInputVoxel();
  const auto& L = grid.latticeDims;
  const auto& S = grid.stride;
  const auto& E = grid.extent;

  // Tile shape: among splits of the lattice into q_x * q_y * q_z boxes whose activations fit the budget,
  // the one with the least total input volume (halo overhead); fewer tiles on ties.
  std::array<int64_t, 3> bestN{1, 1, 1};
  double bestCost = -1;
  std::array<int64_t, 3> qMax{};
  for (int a = 0; a < 3; ++a) qMax[a] = std::max<int64_t>(1, std::min<int64_t>(L[a], 64));
  for (int64_t qz = 1; qz <= qMax[2]; ++qz)
    for (int64_t qy = 1; qy <= qMax[1]; ++qy)
      for (int64_t qx = 1; qx <= qMax[0]; ++qx) {
        std::array<int64_t, 3> q{qx, qy, qz}, n{}, box{};
        double tiles = 1, vox = 1;
        for (int a = 0; a < 3; ++a) {
          n[a] = (L[a] + q[a] - 1) / q[a];
          box[a] = (n[a] - 1) * S[a] + E[a];
          tiles *= double((L[a] + n[a] - 1) / n[a]);
          vox *= double(box[a]);
        }
        if (vox * bpv > double(opt.tileBudgetBytes) && !(qx == qMax[0] && qy == qMax[1] && qz == qMax[2] && bestCost < 0))
          continue;
        double cost = tiles * vox * (1 + 1e-9 * tiles);
        if (bestCost < 0 || cost < bestCost) {
          bestCost = cost;
          bestN = n;
        }
      }
  p.tileLattice = bestN;

  // Occupied tiles, and the dense multiply-adds over them (every phase of a tile runs over ~the whole box).
  std::array<int64_t, 3> tilesPerAxis{};
  for (int a = 0; a < 3; ++a) tilesPerAxis[a] = (L[a] + bestN[a] - 1) / bestN[a];
  std::vector<char> occupied(static_cast<std::size_t>(tilesPerAxis[0] * tilesPerAxis[1] * tilesPerAxis[2]), 0);
  for (int64_t key : grid.lattice) {
    int64_t i = key % L[0], j = (key / L[0]) % L[1], l = key / (L[0] * L[1]);
    occupied[static_cast<std::size_t>(((l / bestN[2]) * tilesPerAxis[1] + j / bestN[1]) * tilesPerAxis[0] +
                                      i / bestN[0])] = 1;
  }
  p.tiles = static_cast<std::size_t>(std::count(occupied.begin(), occupied.end(), 1));
  std::array<int64_t, 3> box{};
  double phases = 1;
  for (int a = 0; a < 3; ++a) {
    box[a] = (bestN[a] - 1) * S[a] + E[a];
    phases *= double(std::min<int64_t>(bestN[a], down[a] / std::gcd<int64_t>(S[a], down[a])));
  }
  p.denseMacs = double(p.tiles) * phases * boxMacs(box, 0) +
                double(p.points) * denseHeadInputs() * spec.featureDim;

  FeatureMode mode = opt.mode;
  if (mode == FeatureMode::Auto) {
    if (!denseExact) {
      mode = FeatureMode::PerPatch;
      p.reason = denseWhyNot;
    } else if (p.perPatchMacs < 0.5 * p.denseMacs) {
      // Dense convolutions run ~2x more multiply-adds per second than batches of small patches.
      mode = FeatureMode::PerPatch;
      p.reason = "the grid is sparse (stride close to the patch size): per-patch inference needs fewer operations";
    } else {
      mode = FeatureMode::Dense;
      p.reason = "dense inference shares the overlapping patches' convolutions";
    }
  } else if (mode == FeatureMode::Dense && !denseExact) {
    p.reason = denseWhyNot;
  }
  p.mode = mode;

  const bool cuda = device.is_cuda();
  const double rate = cuda ? opt.cudaMacsPerSecond : opt.cpuMacsPerSecond;
  p.memory.resultBytes = uint64_t(p.points) * uint64_t(spec.featureDim) * 4;
  if (mode == FeatureMode::Dense) {
    double boxVox = double(box[0]) * box[1] * box[2];
    p.memory.workingBytes = uint64_t(boxVox * bpv);
    p.memory.seconds = p.denseMacs / rate;
  } else {
    p.memory.workingBytes = uint64_t(double(opt.batch) * E[0] * E[1] * E[2] * bpv);
    p.memory.seconds = p.perPatchMacs / (0.5 * rate);
  }
  // Activations on a GPU live in its own memory; only the features come back to the host.
  if (cuda) p.memory.workingBytes = 0;
  p.memory.availableBytes = memAvailableBytes();
  return p;
}

void DenseFeatureExtractor::compute(FeatureGrid& grid, const Volume& vol, const TaskContext* ctx) const {
  compute(grid, std::vector<const Volume*>{&vol}, ctx);
}

void DenseFeatureExtractor::compute(FeatureGrid& grid, const std::vector<const Volume*>& inputs,
                                    const TaskContext* ctx) const {
  const auto& spec = impl_->spec;
  if (int(inputs.size()) != spec.inChannels)
    throw InputError("the network takes " + std::to_string(spec.inChannels) + " input channel" +
                     (spec.inChannels == 1 ? "" : "s") + " but " + std::to_string(inputs.size()) + " volume" +
                     (inputs.size() == 1 ? " was" : "s were") + " given");
  for (std::size_t c = 0; c < inputs.size(); ++c) {
    if (!inputs[c]) throw InputError("input channel " + std::to_string(c + 1) + " has no volume");
    if (grid.geom.dims != inputs[c]->geom.dims || inputs[c]->voxels.size() != grid.geom.voxelCount())
      throw InputError(inputs.size() == 1 ? std::string("the grid was laid out on a volume of another size")
                                          : "input channel " + std::to_string(c + 1) +
                                                " has other dims than the volume the grid was laid out on");
  }
  if (grid.extent != impl_->extent)
    throw InputError("the grid's patch size does not match the network's input size " + std::to_string(spec.inputSize));
  FeaturePlan p = impl_->plan(grid);
  if (p.mode == FeatureMode::Dense && !impl_->denseExact) throw InputError(p.reason);
  if (!p.memory.fits()) {
    // Points scale with 1/s^3: propose the smallest stride whose features fit.
    std::string advice = "restrict the computation to a region";
    const double avail = double(p.memory.availableBytes) * 0.75;
    for (int s2 = grid.stride[0] + 1; s2 <= spec.inputSize; ++s2) {
      double scale = std::pow(double(grid.stride[0]) / s2, grid.extent[2] == 1 ? 2.0 : 3.0);
      if (double(p.memory.resultBytes) * scale + double(p.memory.workingBytes) <= avail) {
        advice = "use a stride of at least " + std::to_string(s2) + " or " + advice;
        break;
      }
    }
    p.memory.require("feature extraction for " + std::to_string(p.points) + " grid points at stride " +
                         std::to_string(grid.stride[0]),
                     advice);
  }
  grid.dim = spec.featureDim;
  grid.hasIntensityColumn = false;
  grid.features.assign(grid.count() * static_cast<std::size_t>(grid.dim), 0.0f);
  if (grid.count() == 0) return;

  torch::NoGradGuard noGrad;
  EvalModeGuard evalMode(*impl_->net);
  if (p.mode == FeatureMode::Dense)
    impl_->dense(grid, inputs, p, ctx);
  else
    impl_->perPatch(grid, inputs, ctx);
  reportProgress(ctx, 1.0, "features computed");
}

FeatureGrid DenseFeatureExtractor::extract(const Volume& vol, int stride, float lo, float hi, const GridRegion& region,
                                           const TaskContext* ctx) const {
  FeatureGrid g = layout(vol, stride, lo, hi, region);
  compute(g, vol, ctx);
  return g;
}

void DenseFeatureExtractor::Impl::dense(FeatureGrid& grid, const std::vector<const Volume*>& vols,
                                        const FeaturePlan& plan, const TaskContext* ctx) const {
  const auto& L = grid.latticeDims;
  const auto& S = grid.stride;
  const auto& E = grid.extent;
  const auto& N = plan.tileLattice;
  const int Fd = spec.featureDim;
  const int t = spec.trunkOutputSize();
  const int tz = spec.trunkOutputDepth();
  // The linear layer as a convolution over the trunk: flatten order of N x C x tz x t x t is C, z, y, x.
  // With global pooling the linear layer sees the mean over the t^3 positions: the same weights at each
  // position, divided by their count.
  torch::Tensor headW = spec.globalPool
                            ? (net->fc->weight.view({Fd, spec.trunkChannels(), 1, 1, 1}).expand({Fd, spec.trunkChannels(), tz, t, t}) /
                               double(tz * t * t)).contiguous()
                            : net->fc->weight.view({Fd, spec.trunkChannels(), tz, t, t});
  torch::Tensor headB = net->fc->bias;
  const int64_t C = int64_t(vols.size());

  std::array<int64_t, 3> tiles{};
  for (int a = 0; a < 3; ++a) tiles[a] = (L[a] + N[a] - 1) / N[a];
  const double tileCount = double(tiles[0] * tiles[1] * tiles[2]);
  double tileNo = 0;
  for (int64_t tl = 0; tl < tiles[2]; ++tl)
    for (int64_t tj = 0; tj < tiles[1]; ++tj)
      for (int64_t ti = 0; ti < tiles[0]; ++ti, ++tileNo) {
        checkCancel(ctx);
        std::array<int64_t, 3> lo{ti * N[0], tj * N[1], tl * N[2]};
        std::array<int64_t, 3> hi{std::min(L[0], lo[0] + N[0]), std::min(L[1], lo[1] + N[1]),
                                  std::min(L[2], lo[2] + N[2])};
        // The tile's points (rows of the lattice are contiguous in grid.lattice) and their bounding box.
        struct Hit {
          std::size_t point;
          std::array<int64_t, 3> at;
        };
        std::vector<Hit> hits;
        for (int64_t l = lo[2]; l < hi[2]; ++l)
          for (int64_t j = lo[1]; j < hi[1]; ++j) {
            int64_t rowKey = (l * L[1] + j) * L[0];
            auto it = std::lower_bound(grid.lattice.begin(), grid.lattice.end(), rowKey + lo[0]);
            for (; it != grid.lattice.end() && *it < rowKey + hi[0]; ++it)
              hits.push_back({static_cast<std::size_t>(it - grid.lattice.begin()), {*it - rowKey, j, l}});
          }
        if (hits.empty()) continue;
        std::array<int64_t, 3> b0 = hits.front().at, b1 = hits.front().at;
        for (const auto& h : hits)
          for (int a = 0; a < 3; ++a) {
            b0[a] = std::min(b0[a], h.at[a]);
            b1[a] = std::max(b1[a], h.at[a]);
          }
        std::array<int64_t, 3> n{b1[0] - b0[0] + 1, b1[1] - b0[1] + 1, b1[2] - b0[2] + 1};
        std::vector<int64_t> map(static_cast<std::size_t>(n[0] * n[1] * n[2]), -1);
        for (const auto& h : hits)
          map[static_cast<std::size_t>(((h.at[2] - b0[2]) * n[1] + (h.at[1] - b0[1])) * n[0] + (h.at[0] - b0[0]))] =
              static_cast<int64_t>(h.point);

        // Standardised input box: corners b0 * S .. b1 * S plus one patch extent.
        std::array<int64_t, 3> v0{}, box{};
        for (int a = 0; a < 3; ++a) {
          v0[a] = b0[a] * S[a];
          box[a] = (n[a] - 1) * S[a] + E[a];
        }
        torch::Tensor input = torch::empty({C, box[2], box[1], box[0]}, torch::kFloat32);
        for (int64_t c = 0; c < C; ++c) {
          const Volume& vol = *vols[c];
          const float mean = chMean[c], inv = chInv[c];
          float* in = input.data_ptr<float>() + c * box[2] * box[1] * box[0];
          for (int64_t z = 0; z < box[2]; ++z)
            for (int64_t y = 0; y < box[1]; ++y) {
              const float* src = vol.voxels.data() + vol.geom.index(v0[0], v0[1] + y, v0[2] + z);
              float* dst = in + (z * box[1] + y) * box[0];
              for (int64_t x = 0; x < box[0]; ++x) dst[x] = (src[x] - mean) * inv;
            }
        }

        std::array<std::vector<AxisPhase>, 3> phases;
        for (int a = 0; a < 3; ++a) phases[a] = axisPhases(b0[a], b1[a] + 1, S[a], E[a], down[a]);
        const double phaseCount = double(phases[0].size() * phases[1].size() * phases[2].size());
        double phaseNo = 0;
        for (const auto& pz : phases[2])
          for (const auto& py : phases[1])
            for (const auto& px : phases[0]) {
              reportProgress(ctx, (tileNo + phaseNo / phaseCount) / tileCount,
                             "dense features: tile " + std::to_string(int64_t(tileNo) + 1) + " of " +
                                 std::to_string(int64_t(tileCount)));
              phaseNo += 1;
              torch::Tensor x = input.slice(1, pz.cropStart, pz.cropStart + pz.cropLength)
                                    .slice(2, py.cropStart, py.cropStart + py.cropLength)
                                    .slice(3, px.cropStart, px.cropStart + px.cropLength)
                                    .unsqueeze(0)
                                    .contiguous()  // a strided view sends conv3d to a slow fallback
                                    .to(device);
              torch::Tensor y = features(x, {pz.cellStep, py.cellStep, px.cellStep}, headW, headB, ctx);
              if (y.size(2) < pz.count || y.size(3) < py.count || y.size(4) < px.count)
                throw std::logic_error("dense feature extraction: trunk output smaller than the grid tile");
              y = y.slice(2, 0, pz.count).slice(3, 0, py.count).slice(4, 0, px.count);
              torch::Tensor rows = y.squeeze(0).permute({1, 2, 3, 0}).contiguous().to(torch::kCPU);
              const float* r = rows.data_ptr<float>();
              for (int64_t mz = 0; mz < pz.count; ++mz)
                for (int64_t my = 0; my < py.count; ++my)
                  for (int64_t mx = 0; mx < px.count; ++mx, r += Fd) {
                    int64_t i = px.first + mx * px.step - b0[0], j = py.first + my * py.step - b0[1],
                            l = pz.first + mz * pz.step - b0[2];
                    int64_t pt = map[static_cast<std::size_t>((l * n[1] + j) * n[0] + i)];
                    if (pt >= 0) std::copy_n(r, Fd, grid.features.data() + static_cast<std::size_t>(pt) * Fd);
                  }
            }
      }
}

void DenseFeatureExtractor::Impl::perPatch(FeatureGrid& grid, const std::vector<const Volume*>& vols,
                                           const TaskContext* ctx) const {
  const auto& E = grid.extent;
  const int Fd = spec.featureDim;
  const int64_t B = std::max(1, opt.batch);
  const std::size_t n = grid.count();
  const std::size_t patchVox = std::size_t(E[0]) * E[1] * E[2];
  const int64_t C = int64_t(vols.size());
  torch::Tensor batch = torch::empty({B, C, E[2], E[1], E[0]}, torch::kFloat32);
  for (std::size_t p0 = 0; p0 < n; p0 += std::size_t(B)) {
    checkCancel(ctx);
    reportProgress(ctx, double(p0) / double(n), "per-patch features");
    const int64_t b = std::min<int64_t>(B, int64_t(n - p0));
    float* dst = batch.data_ptr<float>();
    for (int64_t q = 0; q < b; ++q) {
      auto c = grid.cornerOf(p0 + std::size_t(q));
      float* d = dst + std::size_t(q * C) * patchVox;
      for (int64_t ch = 0; ch < C; ++ch) {
        const Volume& vol = *vols[ch];
        const float mean = chMean[ch], inv = chInv[ch];
        for (int64_t z = 0; z < E[2]; ++z)
          for (int64_t y = 0; y < E[1]; ++y) {
            const float* src = vol.voxels.data() + vol.geom.index(c[0], c[1] + y, c[2] + z);
            for (int64_t x = 0; x < E[0]; ++x) *d++ = (src[x] - mean) * inv;
          }
      }
    }
    torch::Tensor out = net->forward(batch.slice(0, 0, b).to(device), opt.precision).to(torch::kCPU).contiguous();
    std::copy_n(out.data_ptr<float>(), std::size_t(b) * Fd, grid.features.data() + p0 * Fd);
  }
}

std::shared_ptr<PatchNetworkImpl> makeRandomNetwork(const NetworkSpec& spec, uint64_t seed, bool randomBatchNormStats) {
  torch::manual_seed(seed);
  auto net = std::make_shared<PatchNetworkImpl>(spec);
  if (randomBatchNormStats) {
    torch::NoGradGuard noGrad;
    for (auto& bn : net->bns) {
      bn->running_mean.normal_(0.0, 0.05);
      bn->running_var.uniform_(0.005, 0.05);
      bn->bias.normal_(0.0, 0.2);
    }
  }
  net->eval();
  return net;
}

} // namespace jseg
