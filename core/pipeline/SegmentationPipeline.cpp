#include "core/pipeline/SegmentationPipeline.h"

#include <random>

#include "core/base/Errors.h"

namespace jseg {

// Multi-source breadth-first search from every voxel in the window over the 6-neighbourhood: each outside
// voxel takes the value of the inside voxel its wave came from (nearest in the city-block metric), so a patch
// at the specimen's edge sees its own tissue continued instead of a step to a constant of no tissue.
Volume fillOutsideRegionNearest(const Volume& vol, const Mask& inside) {
  Volume filled = vol;
  const auto& d = vol.geom.dims;
  const std::size_t n = vol.voxels.size();
  std::vector<uint8_t> done(n, 0);
  std::vector<std::size_t> frontier, next;
  for (std::size_t i = 0; i < n; ++i)
    if (inside.inside[i]) {
      done[i] = 1;
      frontier.push_back(i);
    }
  if (frontier.empty()) return filled;
  const int64_t nx = d[0], ny = d[1], nz = d[2];
  while (!frontier.empty()) {
    next.clear();
    for (std::size_t i : frontier) {
      const int64_t x = int64_t(i % std::size_t(nx)), y = int64_t((i / std::size_t(nx)) % std::size_t(ny)),
                    z = int64_t(i / (std::size_t(nx) * std::size_t(ny)));
      static const int64_t step[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
      for (const auto& st : step) {
        const int64_t X = x + st[0], Y = y + st[1], Z = z + st[2];
        if (X < 0 || Y < 0 || Z < 0 || X >= nx || Y >= ny || Z >= nz) continue;
        const std::size_t j = std::size_t((Z * ny + Y) * nx + X);
        if (done[j]) continue;
        done[j] = 1;
        filled.voxels[j] = filled.voxels[i];
        next.push_back(j);
      }
    }
    frontier.swap(next);
  }
  return filled;
}

Volume fillOutsideRegion(const Volume& vol, const Mask& inside, const std::string& rule) {
  if (rule == "nearest") return fillOutsideRegionNearest(vol, inside);
  Volume filled = vol;
  double sum = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < vol.voxels.size(); ++i)
    if (inside.inside[i]) sum += vol.voxels[i], ++n;
  const float fill = n ? static_cast<float>(sum / double(n)) : 0.f;
  for (std::size_t i = 0; i < vol.voxels.size(); ++i)
    if (!inside.inside[i]) filled.voxels[i] = fill;
  return filled;
}

Volume fillOutsideWindow(const Volume& vol, float lo, float hi, const std::string& rule) {
  return fillOutsideRegion(vol, thresholdMask(vol, lo, hi), rule);
}

PatchSet sampleTrainingPatches(const std::vector<const Volume*>& channels, const std::vector<const Volume*>& nets,
                               const Parameters& params, float lo, float hi, const Mask* roi, const TaskContext* ctx) {
  const ParameterValues v = params.values();
  PatchSamplerOptions so;
  so.patchSize = v.patchSize;
  so.patchDepth = v.patchDepth;
  so.count = v.patches;
  so.lo = lo;
  so.hi = hi;
  so.seed = static_cast<uint64_t>(v.seed);
  so.standardize = v.standardizePatches;
  so.roi = roi;
  PatchSet patches = PatchSampler::sample(channels, so, ctx);  // centres chosen on the real intensities
  if (nets != channels) {
    // Same centres, patches cut from the filled channels, standardised again.
    for (int i = 0; i < patches.count; ++i)
      PatchSampler::extract(nets, patches.centres[std::size_t(i)], so.patchSize,
                            patches.data.data() + std::size_t(i) * patches.patchValues(), patches.depth());
    if (so.standardize) PatchSampler::standardizeChannels(patches);
  }
  if (v.neighbourPositives > 0) addNeighbourPatches(patches, channels, nets, v.neighbourPositives, lo, hi, roi, so.seed);
  return patches;
}

void addNeighbourPatches(PatchSet& patches, const std::vector<const Volume*>& channels,
                         const std::vector<const Volume*>& nets, int radius, float lo, float hi, const Mask* roi,
                         uint64_t seed) {
  const Volume& first = *channels.at(0);
  const auto dims = first.dims();
  const std::array<int64_t, 3> half{patches.patchSize / 2, patches.patchSize / 2, patches.depth() / 2};
  // A centre is a valid partner under the sampler's own rules: the whole patch inside the volume, the centre in
  // the window (real intensities) and in the region.
  auto valid = [&](const std::array<int64_t, 3>& c) {
    for (int a = 0; a < 3; ++a)
      if (c[a] - half[a] < 0 || c[a] + half[a] >= dims[a]) return false;
    const std::size_t i = first.geom.index(c[0], c[1], c[2]);
    const float v = first.voxels[i];
    return v >= lo && v <= hi && (!roi || roi->inside[i]);
  };
  std::mt19937_64 rng(seed * 0x2545F4914F6CDD1Dull + 0x6E6);
  std::uniform_int_distribution<int> offset(-radius, radius);
  const std::size_t pv = patches.patchValues();
  patches.neighbours.assign(patches.data.size(), 0.f);
  for (int i = 0; i < patches.count; ++i) {
    const auto& c = patches.centres[std::size_t(i)];
    std::array<int64_t, 3> partner = c;  // a patch with no valid partner nearby is its own (the pair adds nothing)
    for (int attempt = 0; attempt < 32; ++attempt) {
      std::array<int64_t, 3> t{c[0] + offset(rng), c[1] + offset(rng), c[2] + (half[2] > 0 ? offset(rng) : 0)};
      if (t != c && valid(t)) {
        partner = t;
        break;
      }
    }
    PatchSampler::extract(nets, partner, patches.patchSize, patches.neighbours.data() + std::size_t(i) * pv, patches.depth());
  }
  if (!patches.standardized) return;
  // The partners take the patches' own standardisation, so a pair differs only by where it was cut.
  const std::size_t voxels = patches.patchVoxels();
  for (int i = 0; i < patches.count; ++i)
    for (int ch = 0; ch < patches.channels; ++ch) {
      const double mean = patches.channelMean.empty() ? patches.mean : patches.channelMean[std::size_t(ch)];
      const double sd = patches.channelStd.empty() ? patches.std : patches.channelStd[std::size_t(ch)];
      float* p = patches.neighbours.data() + std::size_t(i) * pv + std::size_t(ch) * voxels;
      for (std::size_t k = 0; k < voxels; ++k) p[k] = float((p[k] - mean) / sd);
    }
}

PatchSet sampleTrainingPatches(const Volume& vol, const Volume& net, const Parameters& params, float lo, float hi,
                               const TaskContext* ctx) {
  return sampleTrainingPatches({&vol}, {&net}, params, lo, hi, nullptr, ctx);
}

JuleResult trainJuleNetworks(const PatchSet& patches, const Parameters& params, const JuleEventSink& events,
                             const TaskContext* ctx) {
  const int count = params.values().networks;
  JuleResult first;
  for (int m = 0; m < count; ++m) {
    JuleOptions o = JuleOptions::fromParameters(params);
    o.network.inChannels = patches.channels;  // the first convolution takes every channel of the patches
    o.seed += uint64_t(m);
    TaskContext c = stageContext(ctx, double(m) / count, double(m + 1) / count,
                                 "network " + std::to_string(m + 1) + "/" + std::to_string(count));
    if (count > 1 && events) events(NetworkStartEvent{m + 1, count});
    JuleTrainer trainer(o, events);
    JuleResult r = trainer.run(patches, count > 1 && ctx ? &c : ctx);
    if (m == 0) {
      first = std::move(r);
      continue;
    }
    first.model.moreNetworks.push_back(r.model.network);
    first.epochs += r.epochs;
    first.seconds += r.seconds;
    first.model.trainSeconds += r.model.trainSeconds;
  }
  return first;
}

} // namespace jseg
