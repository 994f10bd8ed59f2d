#pragma once
// The building blocks of SegmentationSession's train stage, also used by benches and tests: how the network's
// input is prepared outside the threshold window, how training patches are sampled, and JULE on several
// networks. Torch-free header.
#include <string>
#include <vector>

#include "core/base/Progress.h"
#include "core/base/Volume.h"
#include "core/jule/JuleTrainer.h"
#include "core/jule/PatchSampler.h"
#include "core/params/ParameterSchema.h"
#include "core/segment/FeatureGrid.h"
#include "core/segment/GridClustering.h"

namespace jseg {

// fill_outside_window: a copy of the volume with the voxels outside `inside` (the window, within the region of
// interest) replaced by the mean of those inside. rule "nearest": each outside voxel takes the value of the
// nearest voxel inside (the tissue continues). Every channel is filled outside the same voxels.
Volume fillOutsideRegion(const Volume& vol, const Mask& inside, const std::string& rule = "mean");
// The same with `inside` = the voxels of `vol` in [lo, hi].
Volume fillOutsideWindow(const Volume& vol, float lo, float hi, const std::string& rule = "mean");
// Training patches: centres drawn on the first channel (threshold window, inside `roi` when given), voxels cut
// from `nets` (the channels themselves or their filled copies), standardised per channel.
PatchSet sampleTrainingPatches(const std::vector<const Volume*>& channels, const std::vector<const Volume*>& nets,
                               const Parameters& params, float lo, float hi, const Mask* roi,
                               const TaskContext* ctx = nullptr);
// One channel, no region.
// neighbour_positives: cuts, for every patch, a partner patch centred at a random offset of at most `radius` voxels
// per axis (a valid centre of the same window and region; the patch itself when none of 32 draws is), from the
// network inputs `nets`, standardised with the patches' own statistics, into patches.neighbours.
void addNeighbourPatches(PatchSet& patches, const std::vector<const Volume*>& channels,
                         const std::vector<const Volume*>& nets, int radius, float lo, float hi, const Mask* roi,
                         uint64_t seed);
PatchSet sampleTrainingPatches(const Volume& vol, const Volume& net, const Parameters& params, float lo, float hi,
                               const TaskContext* ctx = nullptr);

// JULE on `patches` once per network of the `networks` parameter, from seeds seed, seed+1, ... (same
// patches). Returns the first network's result (its labels and history) with the others' networks in
// model.moreNetworks; epochs and seconds are summed. Progress is split evenly; every network's events go to
// `events`.
JuleResult trainJuleNetworks(const PatchSet& patches, const Parameters& params, const JuleEventSink& events = {},
                             const TaskContext* ctx = nullptr);

} // namespace jseg
