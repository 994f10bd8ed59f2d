// bench-links: juleseg_core juleseg_eval torch
// Exploration (issue 13): clustering back-ends on the SAME finished features, without training again. Reads the
// grids `bench_quality --dump DIR` writes (finished features, truth and standardised channel intensities per grid
// point) and prints, per file and method, the NMI against the truth as one JSON line. Every method is truth-free;
// the truth only scores. Methods:
//   kmeans            k-means on the features as the product clusters them (reproduces JULE's NMI)
//   pcM               k-means on the features' first M principal components (not rescaled)
//   icaM              FastICA (log-cosh contrast, deflation) on the whitened features; k-means on the M components
//                     farthest from a Gaussian (negentropy): clusters make a projection non-Gaussian
//   gmm_pcM           full-covariance Gaussian mixture on the first M principal components
// Each method also runs on the channel intensities (the baselines' inputs) where it applies.
// Usage: bench_cluster_explore [--k 3] [--seed S] [--mode MODE] FILE.grid ...
// MODE (default backends, the methods above):
//   confusion         clusters x truth classes for the features, T1c (last channel) and all channels
//   purity            each class's mean own share of its neighbourhood at radii 1 / 2 / 4 / 8 (what smoothing keeps)
//   channel-stats     per channel: 1-D k-means R^2, silhouette, skew, kurtosis, NMI with the features' clusters,
//                     R^2 of the channel from the features (candidate truth-free criteria for which channel to add)
//   channel-weights   features + one channel's voxel intensity at relative weights 0.3 ... 0.8
//   subsets           features + every subset of the channels, with silhouettes and k-means stability
//   control           intensities smoothed over 8 voxels + one channel's voxel intensity (no learned features)
//   feature-variance  the features' summed variance (converts relative weights to intensity_weight)
//   raw, raw-quick    on dumps without whitening or smoothing: k-means restarts and radii, then (raw) maximum
//                     autocorrelation factors
//   diffuse           on such dumps: edge-stopping diffusion guided by the intensities
//   finish            on raw dumps of a run with an added channel: the product's finishing redone (whiten 16, smooth
//                     8, the added channel's voxel intensity x 1.5), its confusion matrix, and variants: the column
//                     smoothed, a second column of the channel's local mean, other widths, relative weights, each
//                     network whitened alone, a diagonal Gaussian mixture, whitening again after smoothing
//   finish2           the smoothed features whitened again to 2-8 components beside the column at 0.5-1.5
//   consensus         each network finished and clustered alone, and consensus partitions of those
//   radius            the product's finishing at smoothing radii 6-16
//   basins            the product's finishing, k-means from 24 single starts: inertia and NMI of each solution
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/eval/Nmi.h"
#include "core/segment/FeatureGrid.h"
#include "core/segment/FeatureSmoothing.h"
#include "core/segment/FeatureWhitening.h"
#include "core/segment/GaussianMixture.h"
#include "core/segment/KMeans.h"

using namespace jseg;
using json = nlohmann::json;

namespace {

struct Dump {
  int64_t n = 0, dim = 0, channels = 0;
  std::array<int64_t, 3> latticeDims{};
  std::vector<int64_t> lattice;
  std::vector<int32_t> truth;
  std::vector<float> intensity, features;
};

Dump readDump(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  Dump d;
  auto get = [&](auto& v) { in.read(reinterpret_cast<char*>(&v), sizeof v); };
  get(d.n), get(d.dim), get(d.channels);
  for (auto& l : d.latticeDims) get(l);
  d.lattice.resize(std::size_t(d.n));
  d.truth.resize(std::size_t(d.n));
  d.intensity.resize(std::size_t(d.n * d.channels));
  d.features.resize(std::size_t(d.n * d.dim));
  for (int64_t i = 0; i < d.n; ++i) {
    get(d.lattice[std::size_t(i)]);
    get(d.truth[std::size_t(i)]);
    in.read(reinterpret_cast<char*>(d.intensity.data() + i * d.channels), std::streamsize(4 * d.channels));
    in.read(reinterpret_cast<char*>(d.features.data() + i * d.dim), std::streamsize(4 * d.dim));
  }
  if (!in) throw std::runtime_error("truncated " + path);
  return d;
}

double scoreNmi(const Dump& d, const std::vector<int32_t>& labels) {
  std::vector<int> a, b;
  for (int64_t i = 0; i < d.n; ++i)
    if (d.truth[std::size_t(i)] > 0) a.push_back(d.truth[std::size_t(i)]), b.push_back(labels[std::size_t(i)]);
  return std::round(nmi(a, b) * 1000) / 1000;
}

KMeansResult kmeansFit(const torch::Tensor& X, int k, int seed, int restarts = 4) {
  torch::Tensor x = X.to(torch::kFloat).contiguous();
  KMeansOptions o;
  o.k = k;
  o.seed = uint64_t(seed);
  o.restarts = restarts;
  return KMeans(o).fit(x.data_ptr<float>(), std::size_t(x.size(0)), int(x.size(1)));
}
std::vector<int32_t> kmeansLabels(const torch::Tensor& X, int k, int seed) { return kmeansFit(X, k, seed).labels; }

std::vector<int32_t> gmmLabels(const torch::Tensor& X, int k, int seed) {
  torch::Tensor x = X.to(torch::kFloat).contiguous();
  GaussianMixtureOptions o;
  o.init.k = k;
  o.init.seed = uint64_t(seed);
  return GaussianMixture(o).fit(x.data_ptr<float>(), std::size_t(x.size(0)), int(x.size(1))).labels;
}

// Centred principal-component scores (n x m), largest variance first; whitened divides each by its sd.
torch::Tensor principalScores(const torch::Tensor& X, int64_t m, bool whitened) {
  torch::Tensor Z = X - X.mean(0);
  torch::Tensor cov = Z.t().mm(Z) / double(Z.size(0));
  auto [evals, evecs] = torch::linalg::eigh(cov, "L");  // ascending
  m = std::min<int64_t>(m, X.size(1));
  torch::Tensor idx = torch::arange(X.size(1) - 1, X.size(1) - 1 - m, -1);
  torch::Tensor S = Z.mm(evecs.index_select(1, idx));
  if (whitened) S = S / evals.index_select(0, idx).clamp_min(1e-12).sqrt();
  return S;
}

// FastICA by deflation with the log-cosh contrast on whitened data Z (n x m); returns the components (n x m)
// sorted by negentropy, most non-Gaussian first.
torch::Tensor icaComponents(const torch::Tensor& Z, int seed) {
  const int64_t m = Z.size(1);
  torch::manual_seed(uint64_t(seed));
  std::vector<torch::Tensor> ws;
  for (int64_t p = 0; p < m; ++p) {
    torch::Tensor w = torch::randn({m}, torch::kDouble);
    auto orth = [&](torch::Tensor v) {
      for (const auto& u : ws) v = v - v.dot(u) * u;
      return v / v.norm();
    };
    w = orth(w);
    for (int it = 0; it < 300; ++it) {
      torch::Tensor y = Z.mv(w);
      torch::Tensor g = y.tanh();
      torch::Tensor gp = 1 - g * g;
      torch::Tensor wn = orth((Z * g.unsqueeze(1)).mean(0) - gp.mean() * w);
      const double c = std::abs(wn.dot(w).item<double>());
      w = wn;
      if (1 - c < 1e-7) break;
    }
    ws.push_back(w);
  }
  torch::Tensor W = torch::stack(ws, 1);  // m x m
  torch::Tensor Y = Z.mm(W);
  // Negentropy approximation (E G(y) - E G(v))^2, G = log cosh, v standard normal: E G(v) = 0.374567.
  torch::Tensor negentropy = (Y.cosh().log().mean(0) - 0.374567).pow(2);
  torch::Tensor order = negentropy.argsort(0, true);
  return Y.index_select(1, order);
}

// Dense lattice index: point index per lattice cell, -1 where no point.
std::vector<int64_t> latticeIndex(const Dump& d) {
  std::vector<int64_t> at(std::size_t(d.latticeDims[0] * d.latticeDims[1] * d.latticeDims[2]), -1);
  for (int64_t i = 0; i < d.n; ++i) at[std::size_t(d.lattice[std::size_t(i)])] = i;
  return at;
}

// The product's feature_smoothing (FeatureSmoothing) of the rows X over +-r lattice steps: the dumps are at stride 1,
// so steps are voxels. A FeatureGrid carries the dump's lattice; its centres only count the points.
torch::Tensor boxSmooth(const Dump& d, const torch::Tensor& X, int r) {
  FeatureGrid g;
  g.latticeDims = d.latticeDims;
  g.lattice = d.lattice;
  g.centres.resize(std::size_t(d.n));
  g.dim = int(X.size(1));
  torch::Tensor x = X.to(torch::kFloat).contiguous();
  g.features.assign(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
  FeatureSmoothing(r).apply(g);
  return torch::from_blob(g.features.data(), {d.n, g.dim}, torch::kFloat).to(torch::kDouble);
}

// The product's feature_whitening (FeatureWhitening) of the rows A to `comps` principal components.
torch::Tensor whiten(const torch::Tensor& A, int comps) {
  const torch::Tensor a = A.to(torch::kFloat).contiguous();
  std::vector<float> rows(a.data_ptr<float>(), a.data_ptr<float>() + a.numel());
  int dim = int(A.size(1));
  FeatureWhitening(comps).apply(rows, std::size_t(A.size(0)), dim);
  return torch::from_blob(rows.data(), {A.size(0), int64_t(dim)}, torch::kFloat).to(torch::kDouble).clone();
}
torch::Tensor standard(const torch::Tensor& c) { return (c - c.mean(0)) / c.std(0); }

// A raw dump (`--variant raw:feature_whitening=0,feature_smoothing=0` of the texture preset) split into what the
// product finishes: the networks' features side by side (160 each, local3d's width) and, with an added channel, its
// standardised voxel intensity (the dump's column of it is already scaled, so the intensities give it afresh).
struct RawParts {
  torch::Tensor features;  // n x 160 * networks
  torch::Tensor added;     // n x 1, or undefined with one channel
  int64_t networks = 1;
};
constexpr int64_t kNetworkFeatures = 160;
RawParts rawParts(const Dump& d, const torch::Tensor& X, const torch::Tensor& I) {
  RawParts p;
  const int64_t fdim = d.dim - (d.channels - 1);
  p.features = X.narrow(1, 0, fdim);
  if (d.channels > 1) p.added = standard(I.narrow(1, d.channels - 1, 1));
  p.networks = fdim % kNetworkFeatures == 0 ? fdim / kNetworkFeatures : 1;
  return p;
}
// The texture preset's finishing of `smoothed` features: the added channel's column beside them at weight 1.5.
torch::Tensor withAdded(const torch::Tensor& smoothed, const RawParts& p, double weight = 1.5) {
  return p.added.defined() ? torch::cat({smoothed, p.added * weight}, 1) : smoothed;
}
// Each network's features whitened alone to about 16 / networks components, side by side.
torch::Tensor perNetworkWhitened(const RawParts& p) {
  std::vector<torch::Tensor> parts;
  for (int64_t j = 0; j < p.networks; ++j)
    parts.push_back(whiten(p.features.narrow(1, j * kNetworkFeatures, kNetworkFeatures), int(16 / p.networks + 1)));
  return torch::cat(parts, 1);
}
// A Gaussian mixture with a diagonal covariance per component (each cluster its own spread per column), EM started
// from `labels` (50 iterations); the component of highest posterior per row.
std::vector<int32_t> diagonalMixtureLabels(const torch::Tensor& Z, const std::vector<int32_t>& labels, int k) {
  const int64_t n = Z.size(0);
  torch::Tensor resp = torch::zeros({n, k}, torch::kDouble);
  for (int64_t i = 0; i < n; ++i) resp[i][labels[std::size_t(i)]] = 1.0;
  for (int it = 0; it < 50; ++it) {
    const torch::Tensor nk = resp.sum(0) + 1e-9;
    const torch::Tensor mu = resp.t().mm(Z) / nk.unsqueeze(1);
    const torch::Tensor var = resp.t().mm(Z * Z) / nk.unsqueeze(1) - mu * mu + 1e-3 * Z.var(0).unsqueeze(0);
    torch::Tensor logp = torch::zeros({n, k}, torch::kDouble);
    for (int c = 0; c < k; ++c) {
      const torch::Tensor diff = Z - mu[c];
      logp.select(1, c).copy_(-0.5 * (diff * diff / var[c]).sum(1) - 0.5 * var[c].log().sum() + (nk[c] / double(n)).log());
    }
    resp = torch::softmax(logp, 1);
  }
  const torch::Tensor am = resp.argmax(1).to(torch::kInt).contiguous();
  return {am.data_ptr<int32_t>(), am.data_ptr<int32_t>() + n};
}

// Edge-stopping diffusion on the lattice (Perona-Malik with a fixed conductance): each iteration moves every
// point's features towards its 6 lattice neighbours' by 1/7 of the difference, each neighbour weighted
// exp(-|g_i - g_j|^2 / kappa^2) where g is the guide (e.g. the channel intensities): averaging stops at edges.
torch::Tensor diffuse(const Dump& d, const torch::Tensor& X, const torch::Tensor& G, double kappa, int iterations) {
  const auto at = latticeIndex(d);
  const auto& L = d.latticeDims;
  std::vector<int64_t> a, b;
  for (int64_t i = 0; i < d.n; ++i) {
    const int64_t l = d.lattice[std::size_t(i)];
    const int64_t pos[3] = {l % L[0], (l / L[0]) % L[1], l / (L[0] * L[1])};
    const int64_t step[3] = {1, L[0], L[0] * L[1]};
    for (int ax = 0; ax < 3; ++ax)
      if (pos[ax] + 1 < L[ax]) {
        const int64_t j = at[std::size_t(l + step[ax])];
        if (j >= 0) a.push_back(i), b.push_back(j);
      }
  }
  torch::Tensor ia = torch::from_blob(a.data(), {int64_t(a.size())}, torch::kLong).clone();
  torch::Tensor ib = torch::from_blob(b.data(), {int64_t(b.size())}, torch::kLong).clone();
  torch::Tensor w = (-(G.index_select(0, ia) - G.index_select(0, ib)).pow(2).sum(1) / (kappa * kappa)).exp().unsqueeze(1);
  torch::Tensor Y = X.clone();
  for (int it = 0; it < iterations; ++it) {
    torch::Tensor flow = w * (Y.index_select(0, ib) - Y.index_select(0, ia));  // from b into a
    torch::Tensor delta = torch::zeros_like(Y);
    delta.index_add_(0, ia, flow);
    delta.index_add_(0, ib, -flow);
    Y = Y + delta / 7.0;
  }
  return Y;
}

// Maximum autocorrelation factors: the directions along which points `lag` lattice steps apart differ least
// relative to their spread over the whole grid (generalised eigenproblem C_diff v = lambda C v), i.e. the most
// spatially coherent combinations of the features, whitened. First `keep` principal components regularise C.
torch::Tensor mafScores(const Dump& d, const torch::Tensor& X, int lag, int64_t m, int64_t keep) {
  torch::Tensor W = principalScores(X, keep, true);
  const auto at = latticeIndex(d);
  const auto& L = d.latticeDims;
  std::vector<int64_t> a, b;
  for (int64_t i = 0; i < d.n; ++i) {
    int64_t l = d.lattice[std::size_t(i)];
    const int64_t x = l % L[0], y = (l / L[0]) % L[1], z = l / (L[0] * L[1]);
    const int64_t step[3] = {1, L[0], L[0] * L[1]};
    const int64_t pos[3] = {x, y, z};
    for (int ax = 0; ax < 3; ++ax)
      if (pos[ax] + lag < L[ax]) {
        const int64_t j = at[std::size_t(l + lag * step[ax])];
        if (j >= 0 && (i + j) % 7 == 0) a.push_back(i), b.push_back(j);  // a fixed sample of the pairs
      }
  }
  torch::Tensor ia = torch::from_blob(a.data(), {int64_t(a.size())}, torch::kLong);
  torch::Tensor ib = torch::from_blob(b.data(), {int64_t(b.size())}, torch::kLong);
  torch::Tensor D = W.index_select(0, ia) - W.index_select(0, ib);
  torch::Tensor cd = D.t().mm(D) / double(D.size(0));
  auto [evals, evecs] = torch::linalg::eigh(cd, "L");  // ascending: most coherent first
  torch::Tensor S = W.mm(evecs.narrow(1, 0, std::min<int64_t>(m, evecs.size(1))));
  return S;
}

} // namespace

int main(int argc, char** argv) {
  int k = 3, seed = 1;
  std::string mode = "backends";
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--k" && i + 1 < argc) k = std::stoi(argv[++i]);
    else if (a == "--seed" && i + 1 < argc) seed = std::stoi(argv[++i]);
    else if (a == "--mode" && i + 1 < argc) mode = argv[++i];
    else files.push_back(a);
  }
  torch::set_num_threads(2);
  for (const auto& f : files) {
    const Dump d = readDump(f);
    torch::Tensor X = torch::from_blob(const_cast<float*>(d.features.data()), {d.n, d.dim}, torch::kFloat).to(torch::kDouble);
    torch::Tensor I = torch::from_blob(const_cast<float*>(d.intensity.data()), {d.n, d.channels}, torch::kFloat).to(torch::kDouble);
    json row{{"file", f}, {"n", d.n}, {"dim", d.dim}};
    json r = json::object();
    if (mode == "purity") {
      torch::Tensor T = torch::from_blob(const_cast<int32_t*>(d.truth.data()), {d.n}, torch::kInt).to(torch::kLong);
      torch::Tensor H = torch::nn::functional::one_hot(T.clamp(0, 3), 4).to(torch::kDouble);
      for (int rad : {1, 2, 4, 8}) {
        torch::Tensor S = boxSmooth(d, H, rad);
        std::cout << "radius " << rad << ":";
        for (int c = 1; c <= 3; ++c) {
          torch::Tensor in = T.eq(c);
          std::cout << " class " << c << " mean own share " << S.index({in, c}).mean().item<double>();
        }
        std::cout << "\n";
      }
      continue;
    }
    if (mode == "feature-variance") {
      std::cout << f << " summed feature variance " << X.var(0).sum().item<double>() << "\n";
      continue;
    }
    if (mode == "control") {
      // Control: intensities averaged over 8 voxels (as the features are) in place of the features.
      torch::Tensor S = boxSmooth(d, I, 8);
      S = (S - S.mean(0)) / S.std(0);
      const double fvar = S.var(0).sum().item<double>();
      for (int64_t ch = 0; ch < d.channels; ++ch)
        for (double w : {0.25, 0.5, 1.0}) {
          torch::Tensor col = I.narrow(1, ch, 1);
          col = (col - col.mean()) / col.std() * std::sqrt(w * fvar);
          std::cout << " smoothed intensities + ch" << ch << " w " << w << ": " << scoreNmi(d, kmeansLabels(torch::cat({S, col}, 1), k, seed)) << "\n";
        }
      std::cout << " smoothed intensities alone: " << scoreNmi(d, kmeansLabels(S, k, seed)) << "\n";
      continue;
    }
    if (mode == "subsets") {
      const double fvar = X.var(0).sum().item<double>();
      auto column = [&](int64_t ch, double w) {
        torch::Tensor col = I.narrow(1, ch, 1);
        return (col - col.mean()) / col.std() * std::sqrt(w * fvar);
      };
      std::vector<int64_t> sample;
      for (int64_t i = 0; i < d.n; i += std::max<int64_t>(1, d.n / 4000)) sample.push_back(i);
      torch::Tensor sidx = torch::from_blob(sample.data(), {int64_t(sample.size())}, torch::kLong);
      auto sil = [&](const torch::Tensor& F, const std::vector<int32_t>& lab) {
        torch::Tensor fs = F.index_select(0, sidx).to(torch::kFloat).contiguous();
        std::vector<int32_t> ls;
        for (auto i : sample) ls.push_back(lab[std::size_t(i)]);
        return KMeans::silhouette(fs.data_ptr<float>(), sample.size(), int(fs.size(1)), ls.data(), k);
      };
      std::vector<torch::Tensor> allCols{X};
      for (int64_t ch = 0; ch < d.channels; ++ch) allCols.push_back(column(ch, 0.5));
      const torch::Tensor full = torch::cat(allCols, 1);
      for (int mask = 0; mask < (1 << d.channels); ++mask) {
        std::vector<torch::Tensor> cols{X};
        for (int64_t ch = 0; ch < d.channels; ++ch) if (mask & (1 << ch)) cols.push_back(column(ch, 0.5));
        const torch::Tensor F = torch::cat(cols, 1);
        const auto l1 = kmeansLabels(F, k, seed), l2 = kmeansLabels(F, k, seed + 100);
        std::vector<int> a(l1.begin(), l1.end()), b(l2.begin(), l2.end());
        std::cout << " append mask " << mask << " nmi " << scoreNmi(d, l1) << " silFeatures " << sil(X, l1)
                  << " silFull " << sil(full, l1) << " silOwn " << sil(F, l1) << " kmeansStability " << nmi(a, b) << "\n";
      }
      continue;
    }
    if (mode == "channel-stats") {
      const auto fl = kmeansLabels(X, k, seed);
      for (int64_t ch = 0; ch < d.channels; ++ch) {
        torch::Tensor col = I.narrow(1, ch, 1);
        col = (col - col.mean()) / col.std();
        const auto f = kmeansFit(col, k, seed);
        const double r2 = 1 - f.inertia / double(d.n);
        torch::Tensor z = col.squeeze(1);
        const double skew = z.pow(3).mean().item<double>(), kurt = z.pow(4).mean().item<double>();
        std::vector<int64_t> sample;
        for (int64_t i = 0; i < d.n; i += std::max<int64_t>(1, d.n / 4000)) sample.push_back(i);
        torch::Tensor cs = col.index_select(0, torch::from_blob(sample.data(), {int64_t(sample.size())}, torch::kLong)).to(torch::kFloat).contiguous();
        std::vector<int32_t> ls;
        for (auto i : sample) ls.push_back(f.labels[std::size_t(i)]);
        const double sil = KMeans::silhouette(cs.data_ptr<float>(), sample.size(), 1, ls.data(), k);
        std::vector<int> a(fl.begin(), fl.end()), b(f.labels.begin(), f.labels.end());
        {
          torch::Tensor A = torch::cat({X - X.mean(0), torch::ones({d.n, 1}, torch::kDouble)}, 1);
          torch::Tensor beta = std::get<0>(torch::linalg::lstsq(A, col, c10::nullopt, c10::nullopt));
          const double rr = 1 - (col - A.mm(beta)).pow(2).mean().item<double>() / col.var().item<double>();
          torch::Tensor cs8 = boxSmooth(d, col, 8);
          torch::Tensor beta8 = std::get<0>(torch::linalg::lstsq(A, cs8, c10::nullopt, c10::nullopt));
          const double rr8 = 1 - (cs8 - A.mm(beta8)).pow(2).mean().item<double>() / cs8.var().item<double>();
          std::cout << " ch" << ch << " R2 from features " << rr << " (smoothed channel " << rr8 << ")";
        }
        std::cout << " ch" << ch << " r2 " << r2 << " sil " << sil << " bimodality " << (skew * skew + 1) / kurt
                  << " skew " << skew << " kurt " << kurt << " nmi(features,channel) " << nmi(a, b) << "\n";
      }
      continue;
    }
    if (mode == "channel-weights") {
      // Features beside one channel's unsmoothed intensity (column scaled to w x the features' summed variance).
      const double fvar = X.var(0).sum().item<double>();
      for (int64_t ch = 0; ch < d.channels; ++ch)
        for (double w : {0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.8}) {
          torch::Tensor col = I.narrow(1, ch, 1);
          col = (col - col.mean()) / col.std() * std::sqrt(w * fvar);
          r["ch" + std::to_string(ch) + "_w" + std::to_string(w).substr(0, 4)] = scoreNmi(d, kmeansLabels(torch::cat({X, col}, 1), k, seed));
        }
      row["nmi"] = r;
      std::cout << row.dump() << std::endl;
      continue;
    }
    if (mode == "confusion") {
      auto show = [&](const std::string& name, const std::vector<int32_t>& lab) {
        std::vector<std::array<int64_t, 4>> t(static_cast<std::size_t>(k), std::array<int64_t, 4>{});
        for (int64_t i = 0; i < d.n; ++i) t[std::size_t(lab[std::size_t(i)])][std::size_t(std::clamp(d.truth[std::size_t(i)], 0, 3))]++;
        std::cout << name << " nmi " << scoreNmi(d, lab) << " (rows: cluster; cols: none core oedema enhancing)\n";
        for (auto& row : t) std::cout << "  " << row[0] << " " << row[1] << " " << row[2] << " " << row[3] << "\n";
      };
      show("features kmeans", kmeansLabels(X, k, seed));
      show("t1c kmeans", kmeansLabels(I.narrow(1, I.size(1) - 1, 1), k, seed));
      show("intensity kmeans", kmeansLabels(I, k, seed));
      continue;
    }
    if (mode == "consensus") {
      // Each network finished and clustered alone (as network agreement does), then a consensus of the partitions:
      // k-means on the points' one-hot labels side by side (co-association in effect).
      const RawParts raw = rawParts(d, X, I);
      auto finish = [&](const torch::Tensor& A) { return withAdded(boxSmooth(d, whiten(A, 16), 8), raw); };
      std::vector<torch::Tensor> onehots;
      auto addPartition = [&](const std::string& tag, const std::vector<int32_t>& lab) {
        r[tag] = scoreNmi(d, lab);
        std::vector<int32_t> l(lab);
        onehots.push_back(torch::nn::functional::one_hot(torch::from_blob(l.data(), {d.n}, torch::kInt).to(torch::kLong), k).to(torch::kDouble));
      };
      addPartition("joint", kmeansLabels(finish(raw.features), k, seed));
      for (int64_t j = 0; j < raw.networks; ++j)
        addPartition("net" + std::to_string(j), kmeansLabels(finish(raw.features.narrow(1, j * kNetworkFeatures, kNetworkFeatures)), k, seed));
      r["consensus_nets"] = scoreNmi(d, kmeansLabels(torch::cat(std::vector<torch::Tensor>(onehots.begin() + 1, onehots.end()), 1), k, seed));
      r["consensus_all"] = scoreNmi(d, kmeansLabels(torch::cat(onehots, 1), k, seed));
      row["nmi"] = r;
      std::cout << row.dump() << std::endl;
      continue;
    }
    if (mode == "radius") {
      // The product's finishing at other smoothing radii (raw dumps; the added channel's column last).
      const RawParts raw = rawParts(d, X, I);
      const torch::Tensor W = whiten(raw.features, 16);
      for (int rad : {6, 8, 10, 12, 16}) r["r" + std::to_string(rad)] = scoreNmi(d, kmeansLabels(withAdded(boxSmooth(d, W, rad), raw), k, seed));
      row["nmi"] = r;
      std::cout << row.dump() << std::endl;
      continue;
    }
    if (mode == "basins") {
      // The product's finishing, then k-means from 24 single k-means++ starts: which solutions exist, at what inertia.
      const RawParts raw = rawParts(d, X, I);
      const torch::Tensor Z = withAdded(boxSmooth(d, whiten(raw.features, 16), 8), raw);
      for (int ks = 1; ks <= 24; ++ks) {
        const auto fit = kmeansFit(Z, k, ks, 1);
        std::cout << "  start " << ks << " inertia/n " << fit.inertia / double(d.n) << " nmi " << scoreNmi(d, fit.labels) << "\n";
      }
      continue;
    }
    if (mode == "finish2") {
      // Smoothed-then-whitened features (every spatially coherent direction weighed alike) beside T1c.
      const RawParts raw = rawParts(d, X, I);
      const torch::Tensor S8 = boxSmooth(d, whiten(raw.features, 16), 8);
      const torch::Tensor ev = std::get<0>(torch::linalg::eigh(S8.t().mm(S8 - S8.mean(0)) / double(d.n), "L")).flip(0);
      std::cout << f << " smoothed variances " << ev.slice(0, 0, 8) << std::endl;
      for (int c : {2, 3, 4, 6, 8}) {
        const torch::Tensor R = whiten(S8, c);
        for (double w : {0.5, 1.0, 1.5}) {
          const std::string tag = "rw" + std::to_string(c) + "_t" + std::to_string(w).substr(0, 3);
          r[tag] = scoreNmi(d, kmeansLabels(withAdded(R, raw, w), k, seed));
          if (!raw.added.defined()) break;
        }
      }
      row["nmi"] = r;
      std::cout << row.dump() << std::endl;
      continue;
    }
    if (mode == "finish") {
      // On raw dumps: the product's finishing redone here (whiten 16, smooth 8, the added channel's voxel intensity
      // x 1.5), then variants of it; the added channel's are skipped with one channel.
      const RawParts raw = rawParts(d, X, I);
      auto score = [&](const std::string& tag, const torch::Tensor& Z) {
        r[tag] = scoreNmi(d, kmeansLabels(Z, k, seed));
        std::cout << "  " << tag << " " << r[tag] << std::endl;
      };
      const torch::Tensor S8 = boxSmooth(d, whiten(raw.features, 16), 8);
      const torch::Tensor shipped = withAdded(S8, raw);
      std::cout << f << std::endl;
      const auto lab = kmeansLabels(shipped, k, seed);
      r["shipped"] = scoreNmi(d, lab);
      std::cout << "  shipped " << r["shipped"] << std::endl;
      std::vector<std::array<int64_t, 4>> t(static_cast<std::size_t>(k), std::array<int64_t, 4>{});
      for (int64_t i = 0; i < d.n; ++i) t[std::size_t(lab[std::size_t(i)])][std::size_t(std::clamp(d.truth[std::size_t(i)], 0, 3))]++;
      for (auto& rw : t) std::cout << "    cluster: core " << rw[1] << " oedema " << rw[2] << " enhancing " << rw[3] << "\n";
      for (int c : {8, 12, 24}) score("w" + std::to_string(c), withAdded(boxSmooth(d, whiten(raw.features, c), 8), raw));
      if (raw.networks > 1) score("per_net_w", withAdded(boxSmooth(d, perNetworkWhitened(raw), 8), raw));
      if (!raw.added.defined()) {
        row["nmi"] = r;
        std::cout << row.dump() << std::endl;
        continue;
      }
      const torch::Tensor& t1c = raw.added;
      r["diag_gmm"] = scoreNmi(d, diagonalMixtureLabels(shipped, lab, k));
      std::cout << "  diag_gmm " << r["diag_gmm"] << std::endl;
      score("control_t1c_s1", boxSmooth(d, t1c, 1));
      for (int rad : {1, 2}) score("t1c_s" + std::to_string(rad), torch::cat({S8, standard(boxSmooth(d, t1c, rad)) * 1.5}, 1));
      for (int rad : {4, 8}) {
        const torch::Tensor m = standard(boxSmooth(d, t1c, rad));
        score("control_t1c_and_mean_r" + std::to_string(rad), torch::cat({t1c, m}, 1));
        score("control_t1c_and_half_mean_r" + std::to_string(rad), torch::cat({t1c, m * 0.5}, 1));
        score("control_flair_mean_t1c_and_mean_r" + std::to_string(rad),
              torch::cat({standard(boxSmooth(d, I.narrow(1, 0, 1), rad)), t1c, m}, 1));
      }
      for (int rad : {4, 6, 8})
        for (double w : {0.75, 1.5})
          score("t1c_plus_mean_r" + std::to_string(rad) + "_w" + std::to_string(w).substr(0, 4),
                torch::cat({shipped, standard(boxSmooth(d, t1c, rad)) * w}, 1));
      // Weight relative to the smoothed features' summed variance (the preset's 1.5 is about 0.49 inside pat0006).
      const double fvar = S8.var(0).sum().item<double>();
      std::cout << "  smoothed feature variance " << fvar << " relative weight of 1.5: " << 2.25 / (2.25 + fvar) << std::endl;
      for (double rel : {0.5, 0.65, 0.8}) score("rel" + std::to_string(rel).substr(0, 4), withAdded(S8, raw, std::sqrt(rel / (1 - rel) * fvar)));
      // Re-whitened after smoothing, then the column at 1.5 (scale set by the data, not by the smoothing).
      score("rewhite", withAdded(whiten(S8, 16), raw));
      row["nmi"] = r;
      std::cout << row.dump() << std::endl;
      continue;
    }
    if (mode == "raw" || mode == "raw-quick" || mode == "diffuse") {
      // Unsmoothed features: the product's whitening (16) then smoothing 8, against MAF then smoothing 8.
      const torch::Tensor P16 = principalScores(X, 16, true);
      r["w16_s8"] = scoreNmi(d, kmeansLabels(boxSmooth(d, P16, 8), k, seed));
      if (mode == "diffuse") {
        const torch::Tensor G = boxSmooth(d, I, 1);
        for (double kappa : {0.5, 1.0, 1e9})
          for (int iters : {25, 100}) {
            const std::string tag = "diffuse_k" + std::to_string(kappa).substr(0, 3) + "_i" + std::to_string(iters);
            const torch::Tensor Y = diffuse(d, P16, G, kappa, iters);
            r[tag] = scoreNmi(d, kmeansLabels(Y, k, seed));
            r["intensity_" + tag] = scoreNmi(d, kmeansLabels(diffuse(d, I, G, kappa, iters), k, seed));
            std::cout << tag << " " << r[tag] << " intensity " << r["intensity_" + tag] << std::endl;
          }
        row["nmi"] = r;
        std::cout << row.dump() << std::endl;
        continue;
      }
      for (int rad : {0, 2, 8}) {
        const torch::Tensor S = boxSmooth(d, P16, rad);
        for (int ks = 1; ks <= 8; ++ks) {
          const auto f = kmeansFit(S, k, ks, 1);
          std::cout << "  r" << rad << " seed " << ks << " inertia/n " << f.inertia / double(d.n) << " nmi " << scoreNmi(d, f.labels) << "\n";
        }
        for (int rs : {4, 20}) r["w16_s" + std::to_string(rad) + "_restarts" + std::to_string(rs)] = scoreNmi(d, kmeansFit(S, k, seed, rs).labels);
      }
      for (int rad : {1, 2, 4}) r["w16_s" + std::to_string(rad)] = scoreNmi(d, kmeansLabels(boxSmooth(d, P16, rad), k, seed));
      row["nmi"] = r;
      std::cout << row.dump() << std::endl;
      if (mode == "raw-quick") continue;
      for (int lag : {1, 4, 9})
        for (int64_t m : {4, 8, 16})
          for (int64_t keep : {16, 64}) {
            if (m > keep) continue;
            const torch::Tensor M = mafScores(d, X, lag, m, keep);
            const std::string tag = "maf_l" + std::to_string(lag) + "_m" + std::to_string(m) + "_p" + std::to_string(keep);
            r[tag + "_s0"] = scoreNmi(d, kmeansLabels(M, k, seed));
            r[tag + "_s8"] = scoreNmi(d, kmeansLabels(boxSmooth(d, M, 8), k, seed));
          }
      row["nmi"] = r;
      std::cout << row.dump() << std::endl;
      continue;
    }
    r["kmeans"] = scoreNmi(d, kmeansLabels(X, k, seed));
    {
      torch::Tensor Z = X - X.mean(0);
      r["spherical"] = scoreNmi(d, kmeansLabels(Z / Z.norm(2, 1, true).clamp_min(1e-9), k, seed));
      r["intensity_spherical"] = scoreNmi(d, kmeansLabels((I - I.mean(0)) / (I - I.mean(0)).norm(2, 1, true).clamp_min(1e-9), k, seed));
      // Bisecting k-means: split the cluster with the largest summed squared error in two until k.
      auto bisect = [&](const torch::Tensor& F) {
        std::vector<int32_t> lab(std::size_t(d.n), 0);
        for (int c = 1; c < k; ++c) {
          int worst = 0;
          double worstSse = -1;
          for (int j = 0; j < c; ++j) {
            std::vector<int64_t> ids;
            for (int64_t i = 0; i < d.n; ++i) if (lab[std::size_t(i)] == j) ids.push_back(i);
            torch::Tensor S = F.index_select(0, torch::from_blob(ids.data(), {int64_t(ids.size())}, torch::kLong));
            const double sse = (S - S.mean(0)).pow(2).sum().item<double>();
            if (sse > worstSse) worstSse = sse, worst = j;
          }
          std::vector<int64_t> ids;
          for (int64_t i = 0; i < d.n; ++i) if (lab[std::size_t(i)] == worst) ids.push_back(i);
          torch::Tensor S = F.index_select(0, torch::from_blob(ids.data(), {int64_t(ids.size())}, torch::kLong));
          const auto two = kmeansLabels(S, 2, seed);
          for (std::size_t q = 0; q < ids.size(); ++q) if (two[q] == 1) lab[std::size_t(ids[q])] = c;
        }
        return lab;
      };
      r["bisecting"] = scoreNmi(d, bisect(X));
      r["intensity_bisecting"] = scoreNmi(d, bisect(I));
      for (double w : {0.5, 1.0, 2.0}) {
        torch::Tensor C = torch::cat({X, w * std::sqrt(double(X.size(1)) / double(I.size(1))) * boxSmooth(d, I, 2)}, 1);
        r["with_intensity_s2_w" + std::to_string(w).substr(0, 3)] = scoreNmi(d, kmeansLabels(C, k, seed));
      }
    }
    r["intensity_kmeans"] = scoreNmi(d, kmeansLabels(I, k, seed));
    for (int m : {1, 2, 3, 4, 6, 8})
      r["pc" + std::to_string(m)] = scoreNmi(d, kmeansLabels(principalScores(X, m, false), k, seed));
    for (int m : {2, 3, 4})
      r["gmm_pc" + std::to_string(m)] = scoreNmi(d, gmmLabels(principalScores(X, m, false), k, seed));
    r["intensity_gmm"] = scoreNmi(d, gmmLabels(I, k, seed));
    const torch::Tensor Y = icaComponents(principalScores(X, X.size(1), true), seed);
    for (int m : {1, 2, 3, 4, 6})
      r["ica" + std::to_string(m)] = scoreNmi(d, kmeansLabels(Y.narrow(1, 0, std::min<int64_t>(m, Y.size(1))), k, seed));
    row["nmi"] = r;
    std::cout << row.dump() << std::endl;
  }
  return 0;
}
