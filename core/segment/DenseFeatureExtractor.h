#pragma once
// CNN features for every grid point (design.md §4: segmentation must be dense, not per patch).
//
// Dense mode runs the network's convolutions once over the volume instead of once per patch. Max-pooling
// makes the result depend on the patch corner's phase modulo the total pooling factor D (2 for paper3d): a
// patch whose corner is at p sees pooled cells that start at p. So, for each phase that grid corners
// take, the input is cropped to start at that phase, the trunk runs over it as over one big patch, and
// trunk cell c holds the trunk of the patch with corner phase + D c. The linear layer is applied as a
// convolution whose kernel is the trunk output (3^3 x 50 channels for paper3d) with the stride of the
// grid in trunk cells, then rows are L2-normalised: the same arithmetic as forward() on each patch, in
// another summation order (differences ~1e-6).
// The volume is processed in tiles (boxes of lattice points plus their patch halo) sized to a memory
// budget; tiles without grid points are skipped and the others shrink to their points' bounding box.
//
// A network of C input channels (spec.inChannels) reads C co-registered volumes, each standardised with its own
// mean and deviation; both modes cut the same voxels of every channel.
//
// Per-patch mode (the reference) cuts each patch out and batches them through forward(); it is faster
// only for sparse grids (stride near the patch size), which Auto detects from the multiply-adds.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/jule/ComputePrecision.h"
#include "core/jule/NetworkSpec.h"
#include "core/segment/FeatureGrid.h"
#include "core/segment/MemoryEstimate.h"

namespace jseg {

class PatchNetworkImpl;  // core/jule/PatchNetwork.h (LibTorch); pass `net.ptr()` of a PatchNetwork

enum class FeatureMode { Auto, Dense, PerPatch };

struct DenseFeatureOptions {
  // Standardisation the network was trained with: input = (voxel - mean) / std.
  double inputMean = 0.0;
  double inputStd = 1.0;
  // Per input channel, for networks of several (one entry per channel); empty = inputMean/inputStd for all.
  std::vector<double> channelMean, channelStd;
  FeatureMode mode = FeatureMode::Auto;
  uint64_t tileBudgetBytes = 768ull << 20;  // activations of one tile at the peak
  int batch = 64;                           // patches per forward() in per-patch mode
  int threads = 0;                          // LibTorch intra-op threads (0 = all cores)
  // Precision of the convolutions (resolved, see ComputePrecision.h); features always come back fp32.
  Precision precision = Precision::Fp32;
  // Assumed speed for the time estimate (multiply-adds per second), CPU and CUDA.
  double cpuMacsPerSecond = 40e9;
  double cudaMacsPerSecond = 2e12;
};

// Which mode, how many tiles and multiply-adds a run will take, and its memory estimate.
struct FeaturePlan {
  FeatureMode mode = FeatureMode::Dense;  // never Auto
  std::size_t points = 0;
  std::size_t tiles = 0;         // dense: non-empty tiles
  std::array<int64_t, 3> tileLattice{0, 0, 0};  // lattice points per tile and axis (dense)
  double denseMacs = 0;          // estimated for dense mode
  double perPatchMacs = 0;       // points x macsPerSample
  MemoryEstimate memory;
  std::string reason;  // why this mode (Auto), or why dense is impossible
};

class DenseFeatureExtractor {
public:
  // The network stays owned by the caller; it is switched to eval mode during a run and restored after.
  DenseFeatureExtractor(std::shared_ptr<PatchNetworkImpl> network, DenseFeatureOptions options = {});
  ~DenseFeatureExtractor();
  DenseFeatureExtractor(const DenseFeatureExtractor&) = delete;
  DenseFeatureExtractor& operator=(const DenseFeatureExtractor&) = delete;

  const NetworkSpec& spec() const;
  std::string device() const;  // "cpu" or "cuda:0"

  // Lattice of patches at `stride` with centre voxel in [lo, hi] (optionally inside `region`).
  FeatureGrid layout(const Volume& vol, int stride, float lo, float hi, const GridRegion& region = {}) const;
  // The same, keeping only centres inside `roi` (null = everywhere), which the grid keeps (FeatureGrid::roi).
  // InputError when the roi's dims are not the volume's.
  FeatureGrid layout(const Volume& vol, int stride, float lo, float hi, const GridRegion& region,
                     std::shared_ptr<const Mask> roi) const;
  // Mode, tiles, multiply-adds, memory and time for computing `grid`'s features.
  FeaturePlan plan(const FeatureGrid& grid) const;
  // Fills grid.features (count x featureDim). ResourceError when the plan does not fit in memory (the
  // message proposes a larger stride or a region), CancelledError on cancel. Mode from the options.
  // One volume: a one-channel network (InputError for a network of several channels).
  void compute(FeatureGrid& grid, const Volume& vol, const TaskContext* ctx = nullptr) const;
  // One volume per input channel, in the network's channel order, all of the grid's dims. InputError when the
  // count is not spec().inChannels or a volume has other dims.
  void compute(FeatureGrid& grid, const std::vector<const Volume*>& inputs, const TaskContext* ctx = nullptr) const;
  // layout + compute in one call.
  FeatureGrid extract(const Volume& vol, int stride, float lo, float hi, const GridRegion& region = {},
                      const TaskContext* ctx = nullptr) const;

private:
  // InputError for a stride above the patch size or depth, or a patch that does not fit the volume (naming
  // the axis and a size that fits).
  void checkLayout(const Volume& vol, int stride) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// An untrained network with the given seed, in eval mode (the README's "random network" baseline, tests
// and benchmarks). randomBatchNormStats also draws non-trivial running means/variances and BN biases, so
// that eval-mode batch norm is not the identity.
std::shared_ptr<PatchNetworkImpl> makeRandomNetwork(const NetworkSpec& spec, uint64_t seed,
                                                    bool randomBatchNormStats = false);

} // namespace jseg
