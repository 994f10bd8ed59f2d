#pragma once
// The built-in demo volume: a generated phantom shaped like the seed paper's micro-CT lung specimens, with its
// ground truth. A specimen (irregular smooth body) sits in a dark background; inside it three tissues fill
// irregular smooth regions:
//   label 1  low mean,  low variance   (like normal tissue)
//   label 2  high mean, low variance   (like invasive carcinoma)
//   label 3  high mean, high variance, spatially correlated texture (like non-invasive carcinoma)
// Tissues 2 and 3 share their mean intensity, so intensity-only methods cannot separate them; a method that
// sees texture (local variance over a patch) can.
#include <cstdint>

#include "core/base/Volume.h"

namespace jseg {

struct PhantomOptions {
  int size = 96;             // edge length in voxels (cube)
  uint64_t seed = 7;
  double spacingMm = 0.03;   // 30 µm, micro-CT-like
  double regionScale = 16;   // smoothness (voxels) of the tissue regions at size 96 (scaled with size)
  // 1.7 (band-pass) is the coarsest grain at which a 5^3 local mean+sd rule still separates the tissues
  // (test_baselines); the old 0.6 white-noise grain hid tissue 3 from JULE's raw-patch initial clusters.
  double textureGrain = 1.7; // smoothing sigma (voxels) of tissue 3's texture
  bool bandPass = true;      // texture without its coarse component (see Phantom.cpp)
  double textureSd = 2500;   // amplitude of tissue 3's texture
  double specimenRadius = 0.42;  // mean radius of the specimen as a fraction of the edge length
};

struct Phantom {
  Volume volume;      // uint16 values (originalType UInt16)
  LabelVolume truth;  // 0 background, 1..3 tissues as above
  float suggestedLo = 0, suggestedHi = 0;  // threshold that separates the specimen from the background
};

Phantom makeDemoPhantom(const PhantomOptions& options = {});

} // namespace jseg
