#pragma once
// JULE's backward-pass loss (jule-reference.md §3.1-3.2): triplets are built inside a mini-batch from the
// current cluster labels, and the loss is mean(max(0, γ‖a−p‖² − ‖a−n‖² + margin)) on the L2-normalised
// features.
#include <cstdint>
#include <random>
#include <vector>

#include <torch/torch.h>

namespace jseg {

struct Triplet {
  int anchor, positive, negative;  // row indices inside the batch
};

// For every unordered positive pair (m < n, batch order) of samples sharing a label: anchor m,
// positive n, and min(negatives, nc_b − 1) DISTINCT negatives drawn uniformly among the batch samples
// with another label (nc_b = distinct labels in the batch). A batch with one label gives no triplets.
// Count = Σ_c |c|(|c|−1)/2 · min(negatives, nc_b − 1).
std::vector<Triplet> buildTriplets(const std::vector<int>& batchLabels, int negatives, std::mt19937_64& rng);

struct TripletLossOptions {
  double gamma = 1.0;       // weight of the positive distance
  double margin = 0.2;
  bool anchorOnly = true;   // detach positives and negatives: the reference code's effective gradient (γ = 1)
};

// features: B x d. Returns a scalar (0 with no triplets, still differentiable).
torch::Tensor tripletLoss(const torch::Tensor& features, const std::vector<Triplet>& triplets,
                          const TripletLossOptions& options);

} // namespace jseg
