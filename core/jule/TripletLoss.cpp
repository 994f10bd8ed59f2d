#include "core/jule/TripletLoss.h"

#include <algorithm>
#include <map>

namespace jseg {

std::vector<Triplet> buildTriplets(const std::vector<int>& labels, int negatives, std::mt19937_64& rng) {
  std::map<int, std::vector<int>> members;
  for (int i = 0; i < static_cast<int>(labels.size()); ++i) members[labels[i]].push_back(i);
  std::vector<Triplet> out;
  const int ncb = static_cast<int>(members.size());
  if (ncb <= 1) return out;
  const int numNeg = std::min(negatives, ncb - 1);
  std::size_t count = 0;
  for (const auto& [label, m] : members) count += m.size() * (m.size() - 1) / 2 * std::size_t(numNeg);
  out.reserve(count);

  std::vector<int> others;
  for (const auto& [label, m] : members) {
    if (m.size() < 2) continue;
    others.clear();
    for (int i = 0; i < static_cast<int>(labels.size()); ++i)
      if (labels[i] != label) others.push_back(i);
    // Every sample outside the cluster is a candidate, and there are at least nc_b − 1 of them.
    for (std::size_t a = 0; a < m.size(); ++a)
      for (std::size_t p = a + 1; p < m.size(); ++p)
        for (int k = 0; k < numNeg; ++k) {
          // Partial Fisher-Yates: the first numNeg entries become a uniform draw without replacement.
          std::size_t j = k + std::uniform_int_distribution<std::size_t>(0, others.size() - 1 - k)(rng);
          std::swap(others[k], others[j]);
          out.push_back({m[a], m[p], others[k]});
        }
  }
  return out;
}

torch::Tensor tripletLoss(const torch::Tensor& features, const std::vector<Triplet>& triplets,
                          const TripletLossOptions& o) {
  if (triplets.empty()) return (features * 0).sum();
  const int64_t t = static_cast<int64_t>(triplets.size());
  auto idx = torch::empty({3, t}, torch::kLong);
  auto acc = idx.accessor<int64_t, 2>();
  for (int64_t i = 0; i < t; ++i) {
    acc[0][i] = triplets[i].anchor;
    acc[1][i] = triplets[i].positive;
    acc[2][i] = triplets[i].negative;
  }
  idx = idx.to(features.device());
  auto others = o.anchorOnly ? features.detach() : features;
  auto a = features.index_select(0, idx[0]);
  auto p = others.index_select(0, idx[1]);
  auto n = others.index_select(0, idx[2]);
  auto dp = (a - p).pow(2).sum(1);
  auto dn = (a - n).pow(2).sum(1);
  return torch::relu(o.gamma * dp - dn + o.margin).mean();
}

} // namespace jseg
