#pragma once
// Dense features of a trained model, which may hold several networks (parameter `networks`): each network's
// unit-norm features are computed on the same grid and put side by side, scaled by 1/sqrt(count), so a row
// stays unit-norm and every network weighs the same in k-means. With one network this is exactly
// DenseFeatureExtractor. A model of C input channels reads C volumes, each standardised with the model's mean
// and deviation of that channel. Torch-free header.
#include <memory>
#include <string>
#include <vector>

#include "core/jule/ModelFile.h"
#include "core/segment/DenseFeatureExtractor.h"

namespace jseg {

class ModelFeatures {
public:
  // threads: LibTorch intra-op threads (0 = all cores); precision of the convolutions (resolved). The model's
  // networks stay shared with the caller.
  ModelFeatures(const JuleModel& model, int threads = 0, Precision precision = Precision::Fp32);
  ~ModelFeatures();

  int networkCount() const { return int(extractors_.size()); }
  // Lattice of patches at `stride` with centre voxel in [lo, hi]; tested on the real intensities.
  FeatureGrid layout(const Volume& vol, int stride, float lo, float hi) const;
  // The same, only centres inside `roi` (null = everywhere); the grid keeps it (FeatureGrid::roi). InputError
  // when the roi's dims are not the volume's.
  FeatureGrid layout(const Volume& vol, int stride, float lo, float hi, std::shared_ptr<const Mask> roi) const;
  // The first network's plan with the memory and time of all of them: features of every network, plus one
  // network's features as a buffer while they are interleaved.
  FeaturePlan plan(const FeatureGrid& grid) const;
  // Fills grid.features (count x networks*featureDim) from `input` (the volume the networks see). A model of
  // several channels throws InputError (it needs the overload below).
  void compute(FeatureGrid& grid, const Volume& input, const TaskContext* ctx = nullptr) const;
  // One volume per model channel, in the model's order (channelNames). InputError naming the channels when
  // the count differs ("the model was trained on 2 channels (flair, t1c) but 1 volume was given").
  void compute(FeatureGrid& grid, const std::vector<const Volume*>& inputs, const TaskContext* ctx = nullptr) const;
  int channelCount() const { return int(channelNames_.size()); }

private:
  std::vector<std::unique_ptr<DenseFeatureExtractor>> extractors_;
  std::vector<std::string> channelNames_;
};

} // namespace jseg
