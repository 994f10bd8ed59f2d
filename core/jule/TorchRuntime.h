#pragma once
// Process-wide LibTorch settings, torch-free so front ends can call it: which device a job runs on and
// how many CPU threads LibTorch uses (it starts with one here; design.md §3).
#include <string>

#include "core/jule/ComputePrecision.h"
#include "core/jule/NetworkSpec.h"

namespace jseg {

class TorchRuntime {
public:
  // Sets torch's intra-op thread count once per process: `threads`, or all cores when 0. Later calls with
  // a different non-zero count change it; calls with 0 after the first do nothing.
  static void configureThreads(int threads);
  static int threads();
  // "auto" -> "cuda" when this LibTorch has CUDA and a GPU is present, else "cpu". "cuda" without a GPU
  // is an InputError; anything else is an InputError too.
  static std::string resolveDevice(const std::string& requested);
  static bool cudaAvailable();
  static std::string torchVersion();
};

// Throughput of a network on synthetic input (bench_jule, the fast preset's help text).
// FLOPs are counted analytically from the spec: forward 2 * MACs per sample, a training step ~3x that (the
// backward pass computes the input gradient and the weight gradient, each about one forward's work).
struct NetworkThroughput {
  double forwardSamplesPerS = 0;       // eval mode, no grad
  double trainSamplesPerS = 0;         // forward + backward + SGD step, train mode
  double forwardGflops = 0;            // 2 * MACs * forward samples/s
  double trainGflopsForwardEquiv = 0;  // 2 * MACs * train samples/s (forward FLOPs only)
  double trainGflops = 0;              // 3 * 2 * MACs * train samples/s (forward + backward)
  int batch = 0;
  std::string device;
  std::string precision;  // resolved: "fp32" | "bf16"
};
NetworkThroughput measureNetworkThroughput(const NetworkSpec& spec, int batch, double seconds,
                                           const std::string& device, Precision precision = Precision::Fp32);

// Attainable convolution speed of this machine in one precision: a convolution shaped like the paper network's
// second layer (50 -> 50 channels, 5^3 kernel, 64 x 15^3 input, forward only) repeated for ~`seconds`, best
// repetition. The benchmarks report their GFLOP/s as a fraction of it (a measured peak, not the data sheet's).
struct ConvPeak {
  double gflops = 0;
  std::string precision;
};
ConvPeak measureConvPeak(Precision precision, double seconds = 1.0);

} // namespace jseg
