#pragma once
// Process-wide LibTorch settings, torch-free so front ends can call it: which device a job runs on and
// how many CPU threads LibTorch uses (it starts with one here; design.md §3).
#include <string>

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
struct NetworkThroughput {
  double forwardSamplesPerS = 0;       // eval mode, no grad
  double trainSamplesPerS = 0;         // forward + backward + SGD step, train mode
  double forwardGflops = 0;            // 2 * MACs * forward samples/s
  double trainGflopsForwardEquiv = 0;  // 2 * MACs * train samples/s (forward FLOPs only)
  int batch = 0;
  std::string device;
};
NetworkThroughput measureNetworkThroughput(const NetworkSpec& spec, int batch, double seconds,
                                           const std::string& device);

} // namespace jseg
