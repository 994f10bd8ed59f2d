#include "core/jule/PatchSampler.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>

#include "core/base/Errors.h"

namespace jseg {

namespace {

struct Bounds {
  int64_t r;                      // in-plane half width (x, y)
  std::array<int64_t, 3> lo, hi;  // inclusive centre range per axis
};

Bounds centreBounds(const Volume& v, int w, int d) {
  if (w < 1 || w % 2 == 0) throw InputError("patch size " + std::to_string(w) + " must be odd");
  if (d == 0) d = w;
  if (d < 1 || d % 2 == 0) throw InputError("patch depth " + std::to_string(d) + " must be odd");
  PatchSampler::checkFits(v.dims(), w, d);
  Bounds b;
  b.r = w / 2;
  for (int a = 0; a < 3; ++a) {
    const int64_t r = a == 2 ? d / 2 : w / 2;
    b.lo[a] = r;
    b.hi[a] = v.dims()[a] - 1 - r;
  }
  return b;
}

bool inRange(float v, double lo, double hi) { return v >= lo && v <= hi; }

std::string dimsText(const std::array<int64_t, 3>& d) {
  return std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" + std::to_string(d[2]);
}

void checkRoi(const Volume& v, const Mask* roi) {
  if (!roi) return;
  if (roi->geom.dims != v.dims() || roi->inside.size() != v.geom.voxelCount())
    throw InputError("the region of interest (" + dimsText(roi->geom.dims) + ") does not have the volume's dims (" +
                     dimsText(v.dims()) + ")");
}

bool isCandidate(const Volume& v, const Mask* roi, int64_t x, int64_t y, int64_t z, double lo, double hi) {
  const std::size_t i = v.geom.index(x, y, z);
  return inRange(v.voxels[i], lo, hi) && (!roi || roi->inside[i]);
}

// Mean and population deviation of channel c over all patches, summed in patch order so that one channel
// gives exactly meanStd() of the whole buffer.
std::array<double, 2> channelMeanStd(const PatchSet& ps, int c) {
  const std::size_t pv = ps.patchVoxels(), stride = ps.patchValues();
  const std::size_t values = pv * std::size_t(ps.count);
  if (values == 0) return {0.0, 1.0};
  double s = 0;
  for (int i = 0; i < ps.count; ++i) {
    const float* p = ps.data.data() + stride * std::size_t(i) + pv * std::size_t(c);
    for (std::size_t k = 0; k < pv; ++k) s += p[k];
  }
  double mean = s / double(values);
  double ss = 0;
  for (int i = 0; i < ps.count; ++i) {
    const float* p = ps.data.data() + stride * std::size_t(i) + pv * std::size_t(c);
    for (std::size_t k = 0; k < pv; ++k) ss += (p[k] - mean) * (p[k] - mean);
  }
  double sd = std::sqrt(ss / double(values));
  if (!(sd > 0) || !std::isfinite(sd)) sd = 1.0;
  return {mean, sd};
}

} // namespace

void PatchSampler::checkFits(const std::array<int64_t, 3>& dims, int w, int d) {
  if (d == 0) d = w;
  const std::string vol = "the volume (" + dimsText(dims) + ")";
  for (int a = 0; a < 2; ++a)
    if (dims[a] < w) {
      // The largest odd size that fits, so the proposal is itself a valid patch size.
      const int64_t fit = dims[a] % 2 ? dims[a] : dims[a] - 1;
      throw InputError(vol + " has " + std::to_string(dims[a]) + " voxels along " + "xyz"[a] + " but the patch needs " +
                       std::to_string(w) + "; use --patch-size " + std::to_string(fit) + " or less");
    }
  if (dims[2] < d) {
    const int64_t fit = dims[2] % 2 ? dims[2] : dims[2] - 1;
    throw InputError(vol + " has " + std::to_string(dims[2]) + " slices along z but the patch needs " +
                     std::to_string(d) + "; use --patch-depth " + std::to_string(fit) + " or less");
  }
}

int PatchSampler::depthForSpacing(int w, const std::array<double, 3>& spacing) {
  for (double sp : spacing)
    if (!(sp > 0) || !std::isfinite(sp)) throw InputError("the voxel spacing must be positive to derive a patch depth");
  const double raw = w * 0.5 * (spacing[0] + spacing[1]) / spacing[2];
  // Nearest odd number: odd values are 2k + 1, so round (raw - 1) / 2.
  const double k = std::floor((raw - 1) / 2 + 0.5);
  const int d = int(std::min(31.0, std::max(1.0, k))) * 2 + 1;
  return d;
}

int64_t PatchSampler::countCandidates(const Volume& volume, int patchSize, double lo, double hi, const Mask* roi,
                                      int patchDepth) {
  Bounds b = centreBounds(volume, patchSize, patchDepth);
  checkRoi(volume, roi);
  int64_t n = 0;
  for (int64_t z = b.lo[2]; z <= b.hi[2]; ++z)
    for (int64_t y = b.lo[1]; y <= b.hi[1]; ++y)
      for (int64_t x = b.lo[0]; x <= b.hi[0]; ++x) n += isCandidate(volume, roi, x, y, z, lo, hi);
  return n;
}

void PatchSampler::extract(const std::vector<const Volume*>& channels, const std::array<int64_t, 3>& c, int w,
                           float* out, int d) {
  if (d == 0) d = w;
  const std::size_t pv = std::size_t(w) * w * d;
  for (std::size_t k = 0; k < channels.size(); ++k) extract(*channels[k], c, w, out + k * pv, d);
}

void PatchSampler::extract(const Volume& volume, const std::array<int64_t, 3>& c, int w, float* out, int d) {
  if (d == 0) d = w;
  const int64_t r = w / 2, rz = d / 2;
  for (int64_t dz = 0; dz < d; ++dz)
    for (int64_t dy = 0; dy < w; ++dy) {
      const float* src = &volume.voxels[volume.geom.index(c[0] - r, c[1] - r + dy, c[2] - rz + dz)];
      std::copy(src, src + w, out);
      out += w;
    }
}

std::array<double, 2> PatchSampler::meanStd(const std::vector<float>& values) {
  if (values.empty()) return {0.0, 1.0};
  double s = 0;
  for (float v : values) s += v;
  double mean = s / double(values.size());
  double ss = 0;
  for (float v : values) ss += (v - mean) * (v - mean);
  double sd = std::sqrt(ss / double(values.size()));
  if (!(sd > 0) || !std::isfinite(sd)) sd = 1.0;  // constant patches: only centre them
  return {mean, sd};
}

void PatchSampler::standardizeInPlace(std::vector<float>& values, double mean, double std) {
  const double inv = 1.0 / std;
  for (float& v : values) v = static_cast<float>((v - mean) * inv);
}

void PatchSampler::standardizeChannels(PatchSet& ps) {
  const std::size_t pv = ps.patchVoxels(), stride = ps.patchValues();
  ps.channelMean.assign(std::size_t(ps.channels), 0.0);
  ps.channelStd.assign(std::size_t(ps.channels), 1.0);
  for (int c = 0; c < ps.channels; ++c) {
    auto ms = channelMeanStd(ps, c);
    ps.channelMean[c] = ms[0];
    ps.channelStd[c] = ms[1];
    const double inv = 1.0 / ms[1];
    for (int i = 0; i < ps.count; ++i) {
      float* p = ps.data.data() + stride * std::size_t(i) + pv * std::size_t(c);
      for (std::size_t k = 0; k < pv; ++k) p[k] = static_cast<float>((p[k] - ms[0]) * inv);
    }
  }
  ps.mean = ps.channelMean.empty() ? 0.0 : ps.channelMean[0];
  ps.std = ps.channelStd.empty() ? 1.0 : ps.channelStd[0];
  ps.standardized = true;
}

PatchSet PatchSampler::sample(const Volume& volume, const PatchSamplerOptions& o, const TaskContext* ctx) {
  return sample(std::vector<const Volume*>{&volume}, o, ctx);
}

PatchSet PatchSampler::sample(const std::vector<const Volume*>& channels, const PatchSamplerOptions& o,
                              const TaskContext* ctx) {
  if (channels.empty()) throw InputError("no volume to sample patches from");
  for (std::size_t k = 0; k < channels.size(); ++k) {
    if (!channels[k]) throw InputError("channel " + std::to_string(k + 1) + " has no volume");
    if (channels[k]->dims() != channels[0]->dims() || channels[k]->voxels.size() != channels[0]->voxels.size())
      throw InputError("channel " + std::to_string(k + 1) +
                       (channels[k]->sourcePath.empty() ? "" : " (" + channels[k]->sourcePath + ")") + " is " +
                       dimsText(channels[k]->dims()) + " but channel 1" +
                       (channels[0]->sourcePath.empty() ? "" : " (" + channels[0]->sourcePath + ")") + " is " +
                       dimsText(channels[0]->dims()) + "; channels must be co-registered on one grid");
  }
  const Volume& volume = *channels[0];
  if (o.count < 1) throw InputError("the number of training patches must be at least 1");
  Bounds b = centreBounds(volume, o.patchSize, o.patchDepth);
  checkRoi(volume, o.roi);
  reportProgress(ctx, 0.0, "finding patch centres");

  // Two passes so memory stays O(count) even on huge volumes: count valid centres per slice, draw
  // distinct ranks among them (Floyd's algorithm), then walk the slices again to map ranks to voxels.
  std::vector<int64_t> perSlice(static_cast<std::size_t>(b.hi[2] - b.lo[2] + 1), 0);
  int64_t total = 0;
  for (int64_t z = b.lo[2]; z <= b.hi[2]; ++z) {
    checkCancel(ctx);
    int64_t n = 0;
    for (int64_t y = b.lo[1]; y <= b.hi[1]; ++y)
      for (int64_t x = b.lo[0]; x <= b.hi[0]; ++x) n += isCandidate(volume, o.roi, x, y, z, o.lo, o.hi);
    perSlice[z - b.lo[2]] = n;
    total += n;
  }
  if (total == 0)
    throw InputError("no voxel at least " + std::to_string(b.r) + " voxels from the border has an intensity inside the "
                     "threshold range" + std::string(o.roi ? " and lies in the region of interest" : "") +
                     "; widen the threshold");
  if (total < o.count)
    throw InputError("only " + std::to_string(total) + " voxels are valid patch centres (intensity in the threshold "
                     "range" + std::string(o.roi ? ", inside the region of interest" : "") +
                     " and a full patch inside the volume), fewer than the " + std::to_string(o.count) +
                     " patches requested; lower the number of patches or widen the threshold");

  std::mt19937_64 rng(o.seed);
  std::set<int64_t> ranks;
  for (int64_t j = total - o.count; j < total; ++j) {
    int64_t t = std::uniform_int_distribution<int64_t>(0, j)(rng);
    if (!ranks.insert(t).second) ranks.insert(j);
  }

  PatchSet ps;
  ps.patchSize = o.patchSize;
  ps.patchDepth = o.patchDepth > 0 ? o.patchDepth : o.patchSize;
  ps.count = o.count;
  ps.channels = int(channels.size());
  ps.candidates = total;
  ps.centres.reserve(o.count);
  auto it = ranks.begin();
  int64_t seen = 0;
  for (int64_t z = b.lo[2]; z <= b.hi[2] && it != ranks.end(); ++z) {
    int64_t n = perSlice[z - b.lo[2]];
    if (*it >= seen + n) {
      seen += n;
      continue;
    }
    checkCancel(ctx);
    for (int64_t y = b.lo[1]; y <= b.hi[1]; ++y)
      for (int64_t x = b.lo[0]; x <= b.hi[0]; ++x) {
        if (!isCandidate(volume, o.roi, x, y, z, o.lo, o.hi)) continue;
        if (it != ranks.end() && *it == seen) {
          ps.centres.push_back({x, y, z});
          ++it;
        }
        ++seen;
      }
  }
  // Random order, so nothing downstream can depend on the scan order.
  std::shuffle(ps.centres.begin(), ps.centres.end(), rng);

  reportProgress(ctx, 0.5, "extracting patches");
  const std::size_t pv = ps.patchValues();
  ps.data.resize(pv * std::size_t(o.count));
  for (int i = 0; i < o.count; ++i) {
    if (i % 256 == 0) checkCancel(ctx);
    extract(channels, ps.centres[i], o.patchSize, ps.data.data() + pv * std::size_t(i), ps.patchDepth);
  }
  if (o.standardize) standardizeChannels(ps);
  reportProgress(ctx, 1.0, "patches ready");
  return ps;
}

} // namespace jseg
