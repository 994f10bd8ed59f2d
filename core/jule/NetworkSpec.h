#pragma once
// Description of a patch network (torch-free, so the GUI, the CLI and the model file can use it).
// A network is a trunk of valid (unpadded, stride-1) convolutions, each followed by batch norm and
// ReLU and optionally by a max-pool, then one linear layer to `featureDim` and L2 normalisation.
// 2D image sets are run as 3D with depth 1: kernels and pools then have depth 1.
// A 3D input may be shallower than it is wide (w x w x d, for thin anisotropic stacks such as 20 slices
// of electron microscopy at 10:1): each layer's kernel along z is then cut to what the remaining depth
// allows (layers take their full kernel in order until the depth is used up), and a pooling that does not
// fit along z pools 1 there, so an isotropic input keeps exactly the cubic layers it always had.
// A sample has `inChannels` co-registered channels (e.g. FLAIR and T1c MR on one grid), which only the first
// convolution sees: every later layer is the same for any channel count.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace jseg {

struct ConvLayerSpec {
  int channels = 50;
  int kernel = 5;
  bool poolAfter = false;
};

struct NetworkSpec {
  std::string name = "paper3d";
  int spatialDims = 3;  // 2 = image sets: implemented as 3D with depth 1 (kernel and pool depth 1)
  int inputSize = 27;   // w
  int inputDepth = 0;   // d, the extent along z; 0 = inputSize (a cube). Ignored for 2D (depth 1).
  int inChannels = 1;   // input channels of the first convolution (co-registered volumes)
  std::vector<ConvLayerSpec> convs;  // paper3d: {50,5,true},{50,5,false},{50,5,false}
  int poolSize = 2;
  bool poolCeil = false;  // floor pooling gives the paper's 1350 = 50*3^3 (JULE's Lua code uses ceil)
  int featureDim = 160;
  // Average the trunk's output over its spatial positions before the linear layer (C inputs instead of
  // C * t^3). The paper flattens, so its features say where in the patch a pattern lies; averaged ones
  // only say how much of it there is, which is what separates textures whose grain is out of phase
  // between neighbouring patches.
  bool globalPool = false;

  // In-plane (x, y) size after the conv trunk (3 for paper3d); throws InputError when the input is too small.
  int trunkOutputSize() const;
  // Extent along z of the input (1 for 2D) and after the trunk.
  int depth() const;
  int trunkOutputDepth() const;
  // Kernel and pooling extent along z of conv layer i (see the header comment; 1 for 2D).
  int kernelDepth(std::size_t layer) const;
  int poolDepth(std::size_t layer) const;
  int trunkChannels() const;
  // channels * t * t * t_z (1350 for paper3d at 27^3; t^2 for 2D); channels with globalPool.
  int flatSize() const;
  // Number of input values per sample: inChannels * spatialVoxels(), laid out channel by channel.
  int inputVoxels() const;
  // Voxels of one channel of a sample: inputSize^2 * depth().
  int spatialVoxels() const;
  // Multiply-accumulates of one forward pass of one sample (convolutions and linear layer).
  double macsPerSample() const;

  // paper3d: Moriya et al. (pool after conv1, works for any w >= 19, 1350 features at w = 27).
  // fast3d: the same three convolutions without pooling (15 -> 11 -> 7 -> 3, flat 1350 at w = 15).
  // small3d: 25 channels; paper3d layout when w >= 23, fast3d layout below.
  // local3d: three 3x3x3 convolutions of 25 kernels, no pooling (9 -> 7 -> 5 -> 3, flat 675 at w = 9), for
  //          structures only a few voxels thick (a 1 mm brain's cortex), where 15^3 patches see mostly context.
  // image2d: small images (8x8 digits): two 3x3 convolutions of 50 kernels, no pooling
  //          (8 -> 6 -> 4, flat 800); patchSize is the image edge.
  static NetworkSpec byName(const std::string& name, int patchSize);
  // A w x w x depth input (depth 0 = patchSize); InputError when the input is too small in-plane.
  static NetworkSpec byName(const std::string& name, int patchSize, int depth);
  static std::vector<std::string> names();

  nlohmann::json toJson() const;
  static NetworkSpec fromJson(const nlohmann::json& j);  // InputError on missing/invalid fields
};

} // namespace jseg
