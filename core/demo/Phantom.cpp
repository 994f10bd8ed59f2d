#include "core/demo/Phantom.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace jseg {

namespace {

// Separable Gaussian blur in place (truncated at 3 sigma, clamped borders). Used to make smooth random fields.
void gaussianBlur(std::vector<float>& f, int n, double sigma) {
  const int r = std::max(1, int(std::ceil(3 * sigma)));
  std::vector<float> k(2 * r + 1);
  double sum = 0;
  for (int i = -r; i <= r; ++i) sum += k[i + r] = float(std::exp(-0.5 * i * i / (sigma * sigma)));
  for (auto& x : k) x = float(x / sum);
  std::vector<float> line(n), out(n);
  auto idx = [n](int x, int y, int z) { return (std::size_t(z) * n + y) * n + x; };
  for (int axis = 0; axis < 3; ++axis)
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b) {
        for (int i = 0; i < n; ++i)
          line[i] = f[axis == 0 ? idx(i, a, b) : axis == 1 ? idx(a, i, b) : idx(a, b, i)];
        for (int i = 0; i < n; ++i) {
          double s = 0;
          for (int j = -r; j <= r; ++j) s += k[j + r] * line[std::clamp(i + j, 0, n - 1)];
          out[i] = float(s);
        }
        for (int i = 0; i < n; ++i)
          f[axis == 0 ? idx(i, a, b) : axis == 1 ? idx(a, i, b) : idx(a, b, i)] = out[i];
      }
}

std::vector<float> smoothField(int n, double sigma, std::mt19937_64& rng) {
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> f(std::size_t(n) * n * n);
  for (auto& x : f) x = g(rng);
  gaussianBlur(f, n, sigma);
  // Normalise to unit standard deviation so fields of different smoothness compare.
  double s2 = 0;
  for (float x : f) s2 += double(x) * x;
  float sd = float(std::sqrt(s2 / double(f.size())));
  for (auto& x : f) x /= sd;
  return f;
}

// Band-pass texture: fine grain minus its own coarse average, so that the structure is spatially
// correlated over a few voxels (like alveolar walls) while its mean over a few voxels stays put.
std::vector<float> bandPassField(int n, double grain, std::mt19937_64& rng) {
  std::vector<float> f = smoothField(n, grain, rng);
  std::vector<float> coarse = f;
  gaussianBlur(coarse, n, 2.0 * grain);
  for (std::size_t i = 0; i < f.size(); ++i) f[i] -= coarse[i];
  double s2 = 0;
  for (float x : f) s2 += double(x) * x;
  const float sd = float(std::sqrt(s2 / double(f.size())));
  for (auto& x : f) x /= sd;
  return f;
}

} // namespace

Phantom makeDemoPhantom(const PhantomOptions& o) {
  const int n = std::max(16, o.size);
  std::mt19937_64 rng(o.seed);
  Phantom p;
  Geometry g;
  g.dims = {n, n, n};
  g.spacing = {o.spacingMm, o.spacingMm, o.spacingMm};
  p.volume.geom = g;
  p.volume.originalType = PixelType::UInt16;
  p.volume.description = "juleseg demo phantom (3 tissues: low/low, high/low, high/high texture)";
  p.volume.sourcePath = "demo:phantom";
  p.volume.voxels.assign(g.voxelCount(), 0.f);
  p.truth = makeLabelVolume(g);

  const double scale = o.regionScale * n / 96.0;
  auto boundary = smoothField(n, 2.0 * scale, rng);  // wobble of the specimen's outline
  auto tissueA = smoothField(n, scale, rng);
  auto tissueB = smoothField(n, scale, rng);
  auto tissueC = smoothField(n, scale, rng);
  // A grain of a few voxels: overlapping patches of tissue 3 then resemble each other, as real tissue
  // structure does. With a one-voxel grain (white noise) a textured patch's nearest raw patch is a flat
  // tissue-2 one, so JULE's 1-NN initial clusters mix tissues 2 and 3 before the network learns anything.
  auto texture = o.bandPass ? bandPassField(n, o.textureGrain, rng) : smoothField(n, o.textureGrain, rng);
  std::normal_distribution<float> noise(0.f, 1.f);

  // Intensities in a 16-bit micro-CT-like range.
  const float background = 1000, lowMean = 8500, highMean = 12000;
  const float lowSd = 300, textureSd = float(o.textureSd), backgroundSd = 150;
  const double c = (n - 1) / 2.0;
  const double pi = 3.14159265358979323846;
  double seeds[3][3];
  for (int t = 0; t < 3; ++t) {
    const double a = 2 * pi * t / 3 + 0.4;
    seeds[t][0] = c + 0.22 * n * std::cos(a);
    seeds[t][1] = c + 0.22 * n * std::sin(a);
    seeds[t][2] = c + 0.10 * n * (t - 1);
  }
  for (int z = 0; z < n; ++z)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        const std::size_t i = g.index(x, y, z);
        // Ellipsoid with radii (1.05, 0.95, 1) x specimenRadius x n whose surface is pushed in and out by a smooth field.
        const double R = o.specimenRadius * n;
        const double dx = (x - c) / (R * 0.44 / 0.42), dy = (y - c) / (R * 0.40 / 0.42), dz = (z - c) / R;
        const double r = std::sqrt(dx * dx + dy * dy + dz * dz);
        if (r > 1.0 + 0.08 * boundary[i]) {
          p.volume.voxels[i] = std::max(0.f, background + backgroundSd * noise(rng));
          continue;
        }
        // Voronoi cells around three seeds, their borders bent by smooth fields: every tissue gets a
        // sizeable, irregular, smooth region.
        const float* fields[3] = {&tissueA[i], &tissueB[i], &tissueC[i]};
        int label = 1;
        double best = 1e30;
        for (int t = 0; t < 3; ++t) {
          const double ex = x - seeds[t][0], ey = y - seeds[t][1], ez = z - seeds[t][2];
          const double score = std::sqrt(ex * ex + ey * ey + ez * ez) + 0.12 * n * *fields[t];
          if (score < best) best = score, label = t + 1;
        }
        float value = 0;
        if (label == 1) value = lowMean + lowSd * noise(rng);
        else if (label == 2) value = highMean + lowSd * noise(rng);
        else value = highMean + textureSd * texture[i] + lowSd * noise(rng);
        p.volume.voxels[i] = std::clamp(std::round(value), 0.f, 65535.f);
        p.truth.labels[i] = static_cast<uint16_t>(label);
      }
  for (auto& v : p.volume.voxels) v = std::round(v);
  p.suggestedLo = 3000;
  p.suggestedHi = 65535;
  return p;
}

} // namespace jseg
