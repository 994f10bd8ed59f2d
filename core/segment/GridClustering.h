#pragma once
// What happens to a feature grid after the networks: finishing (feature_whitening, feature_smoothing, then the
// centre-intensity column), k-means with the schema's options, and painting the clusters on the volume. JULE's features and
// every grid baseline of the evaluation battery go through these same functions, so a comparison between them
// differs only in the features. Torch-free header.
#include <cstdint>
#include <vector>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/params/ParameterSchema.h"
#include "core/segment/FeatureGrid.h"
#include "core/segment/KMeans.h"
#include "core/segment/PottsSmoothing.h"

namespace jseg {

// feature_whitening, feature_smoothing, then the feature_intensity columns (one per channel of `channels`, the first
// being the volume the window applies to; with intensity_channels = added, all but the first).
void finishFeatures(FeatureGrid& grid, const std::vector<const Volume*>& channels, const Parameters& params,
                    const TaskContext* ctx = nullptr);
// The channels whose intensity feature_intensity appends (intensity_channels): "all", or "added" = all but the first.
std::vector<const Volume*> intensityChannels(const std::vector<const Volume*>& channels, const std::string& which);
// The same for one channel.
void finishFeatures(FeatureGrid& grid, const Volume& vol, const Parameters& params, const TaskContext* ctx = nullptr);

// The schema's k-means settings (restarts, iterations, seed, threads) for K = k.
KMeansOptions kmeansOptions(const Parameters& params, int k);

// k-means on the grid's rows, then Potts smoothing of the labels on the grid's lattice when potts_weight > 0 (the
// centroids stay k-means'). InputError when fewer grid points than K lie in the window.
// `potts` (optional) receives what the smoothing did.
KMeansResult clusterGrid(const FeatureGrid& grid, int k, const Parameters& params, const TaskContext* ctx = nullptr,
                         PottsResult* potts = nullptr);

// Each grid point's block takes its cluster's label; voxels no block covers take the nearest label.
LabelVolume paintClusters(const FeatureGrid& grid, const std::vector<int32_t>& clusters, int k, const Volume& vol,
                          const TaskContext* ctx = nullptr);

// Each grid point's mean intensity over its stride-sized block (voxels inside the window and the region), as a
// 1-column grid:
// what block-mean k-means, the fair baseline for strided labels, clusters.
FeatureGrid blockMeanGrid(const Volume& vol, const FeatureGrid& layout);

} // namespace jseg
