#include "core/pipeline/RunMemoryPlan.h"

#include <algorithm>

#include "core/base/Errors.h"
#include "core/base/SystemMemory.h"
#include "core/jule/NetworkSpec.h"
#include "core/segment/MemoryEstimate.h"

namespace jseg {

namespace {

// Lattice points whose centre voxel lies in the window (and region): the grid the features are computed on.
// Counted on the stride's lattice without building it, so a plan for stride 1 on 512^3 costs one pass.
uint64_t countGridPoints(const Volume& v, const Mask* roi, int stride, const std::array<int, 3>& extent, float lo,
                         float hi) {
  const auto& d = v.geom.dims;
  uint64_t n = 0;
  for (int64_t z = extent[2] / 2; z + (extent[2] - extent[2] / 2) <= d[2]; z += stride)
    for (int64_t y = extent[1] / 2; y + (extent[1] - extent[1] / 2) <= d[1]; y += stride)
      for (int64_t x = extent[0] / 2; x + (extent[0] - extent[0] / 2) <= d[0]; x += stride) {
        const std::size_t i = std::size_t((z * d[1] + y) * d[0] + x);
        const float value = v.voxels[i];
        n += value >= lo && value <= hi && (!roi || roi->inside[i]);
      }
  return n;
}

} // namespace

uint64_t RunMemoryPlan::peakBytes() const {
  return std::max({trainingBytes, featureBytes + kmeansBytes, featureBytes + outputBytes});
}

bool RunMemoryPlan::fits() const { return availableBytes == 0 || peakBytes() <= availableBytes / 4 * 3; }

std::string RunMemoryPlan::describe() const {
  std::string s = "needs " + formatBytes(peakBytes()) + " (training " + formatBytes(trainingBytes) + ", features " +
                  formatBytes(featureBytes) + " for " + std::to_string(gridPoints) + " grid points, k-means " +
                  formatBytes(kmeansBytes) + ", outputs " + formatBytes(outputBytes) + ")";
  if (availableBytes) s += " of " + formatBytes(availableBytes) + " available (" + limitName + ")";
  return s;
}

RunMemoryPlan RunMemoryPlan::make(const Parameters& p, const std::vector<const Volume*>& channels, const Mask* roi,
                                  bool train, int kMax) {
  const ParameterValues v = p.values();
  const Volume& vol = *channels.front();
  const uint64_t voxels = vol.geom.voxelCount();
  const uint64_t nChannels = channels.size();
  const uint64_t netChannels = v.networkChannels == "first" ? 1 : nChannels;  // what the patches hold
  NetworkSpec spec = NetworkSpec::byName(v.network, v.patchSize, v.patchDepth);
  spec.inChannels = int(netChannels);
  const int depth = spec.depth();
  const std::array<int, 3> extent{v.patchSize, v.patchSize, depth};
  const uint64_t networks = uint64_t(std::max(1, v.networks));
  const uint64_t intensityColumns = !v.featureIntensity ? 0 : (v.intensityChannels == "added" ? nChannels - 1 : nChannels);
  const uint64_t dim = uint64_t(spec.featureDim) * networks + intensityColumns;
  const uint64_t firstConv = spec.convs.empty() ? 50 : uint64_t(spec.convs.front().channels);
  const uint64_t patchVoxels = uint64_t(v.patchSize) * uint64_t(v.patchSize) * uint64_t(depth);

  RunMemoryPlan plan;
  plan.gridPoints = countGridPoints(vol, roi, v.stride, extent, float(v.thresholdLo), float(v.thresholdHi));
  if (train) {
    const uint64_t n = uint64_t(v.patches);
    // The samples, their standardised tensor, features and the kNN graph of every sample, then one batch's
    // activations and gradients (about six copies of the first convolution's output).
    plan.trainingBytes = n * netChannels * patchVoxels * 4 * 2 + n * uint64_t(spec.featureDim) * 4 * 2 +
                         n * uint64_t(v.knn) * 12 + uint64_t(v.batchSize) * firstConv * patchVoxels * 4 * 6;
  }
  // Centres (12 bytes), lattice index (8) and features per point; smoothing holds a second copy; dense extraction
  // works in tiles of at most 768 MB of activations (DenseFeatureOptions::tileBudgetBytes).
  const uint64_t featureRow = dim * 4;
  plan.featureBytes = plan.gridPoints * (20 + featureRow * (v.featureSmoothing > 0 ? 2 : 1)) +
                      std::min<uint64_t>(768ull << 20, plan.gridPoints * firstConv * 4 * 8 + (64ull << 20));
  // Assignments, distances to every centre and the best restart's copy.
  plan.kmeansBytes = plan.gridPoints * (8 + 4 * uint64_t(std::max(2, kMax)));
  // potts_weight: where each lattice point's label is (4 bytes per lattice point, inside the window or not) and
  // two copies of the labels.
  if (v.pottsWeight > 0) {
    const uint64_t s = uint64_t(v.stride), latticePoints = voxels / (s * s * (depth == 1 ? 1 : s)) + 1;
    plan.kmeansBytes += latticePoints * 4 + plan.gridPoints * 8;
  }
  // The label volume, its painting buffer and one encoded copy of it (NIfTI, TIFF), per channel statistics.
  plan.outputBytes = voxels * (2 * 3 + 4);
  plan.availableBytes = availableMemoryBytes();
  plan.limitName = availableMemoryLimitName();
  return plan;
}

RunMemoryPlan RunMemoryPlan::require(const Parameters& p, const std::vector<const Volume*>& channels, const Mask* roi,
                                     bool train, int kMax) {
  RunMemoryPlan plan = make(p, channels, roi, train, kMax);
  if (plan.fits()) return plan;
  const ParameterValues v = p.values();
  const std::string head = "the run at stride " + std::to_string(v.stride) + " " + plan.describe() + ", which does not fit";
  // The smallest stride the same plan accepts (training does not depend on the stride).
  for (int s = v.stride + 1; s <= v.patchSize; ++s) {
    Parameters q = p;
    q.set("stride", s);
    const RunMemoryPlan other = make(q, channels, roi, train, kMax);
    if (other.fits())
      throw ResourceError(head + "; use --stride " + std::to_string(s) + " (needs " + formatBytes(other.peakBytes()) +
                          ") or a smaller region (--mask)");
    if (other.trainingBytes > other.availableBytes / 4 * 3) break;  // no stride helps
  }
  if (train && plan.trainingBytes > plan.availableBytes / 4 * 3) {
    const uint64_t perPatch = std::max<uint64_t>(1, plan.trainingBytes / uint64_t(std::max(1, v.patches)));
    const uint64_t fitting = plan.availableBytes / 4 * 3 / perPatch / 2;
    if (fitting >= 100)
      throw ResourceError(head + "; training " + std::to_string(v.patches) + " patches needs " +
                          formatBytes(plan.trainingBytes) + ": use --patches " + std::to_string(fitting) +
                          " and a larger stride, or a smaller --patch-size");
  }
  throw ResourceError(head + "; no stride up to the patch size fits: use a smaller region (--mask) or a machine "
                             "with more memory");
}

} // namespace jseg
