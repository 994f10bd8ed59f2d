#include "core/jule/TorchRuntime.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include <torch/torch.h>

#include "core/base/Errors.h"
#include "core/jule/PatchNetwork.h"

namespace jseg {

namespace {
std::mutex threadMutex;
bool threadsSet = false;
} // namespace

void TorchRuntime::configureThreads(int threads) {
  std::lock_guard<std::mutex> lock(threadMutex);
  if (threads <= 0) {
    if (threadsSet) return;
    threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  if (!threadsSet || torch::get_num_threads() != threads) torch::set_num_threads(threads);
  threadsSet = true;
}

int TorchRuntime::threads() { return torch::get_num_threads(); }

bool TorchRuntime::cudaAvailable() { return torch::cuda::is_available(); }

std::string TorchRuntime::resolveDevice(const std::string& requested) {
  if (requested == "cpu") return "cpu";
  if (requested == "auto") return cudaAvailable() ? "cuda" : "cpu";
  if (requested == "cuda") {
    if (!cudaAvailable())
      throw InputError("device cuda was requested, but this build's LibTorch has no CUDA or no GPU is present "
                       "(use --device cpu or auto)");
    return "cuda";
  }
  throw InputError("unknown device '" + requested + "' (choose auto, cpu or cuda)");
}

std::string TorchRuntime::torchVersion() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

NetworkThroughput measureNetworkThroughput(const NetworkSpec& spec, int batch, double seconds,
                                           const std::string& device, Precision precision) {
  using Clock = std::chrono::steady_clock;
  torch::Device dev(TorchRuntime::resolveDevice(device));
  torch::manual_seed(1);
  PatchNetwork net(spec);
  net->to(dev);
  if (dev.is_cuda()) precision = Precision::Fp32;  // as the trainer and the feature extractor do
  net->setPrecision(precision);
  std::vector<int64_t> shape{batch, 1, spec.depth(), spec.inputSize, spec.inputSize};
  auto x = torch::randn(shape).to(dev);
  NetworkThroughput r;
  r.batch = batch;
  r.device = dev.str();
  r.precision = ComputePrecision::name(precision);
  auto timeLoop = [&](auto&& step) {
    step();  // warm-up (oneDNN primitive creation)
    auto t0 = Clock::now();
    int iters = 0;
    double el = 0;
    do {
      step();
      ++iters;
      el = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (el < seconds);
    return double(iters) * batch / el;
  };
  {
    net->eval();
    torch::NoGradGuard ng;
    r.forwardSamplesPerS = timeLoop([&] { net->forward(x).sum().item<float>(); });
  }
  net->train();
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9).dampening(0.9));
  r.trainSamplesPerS = timeLoop([&] {
    opt.zero_grad();
    auto y = net->forward(x);
    auto loss = (y * y.roll(1, 0)).sum();
    loss.backward();
    opt.step();
    loss.item<float>();
  });
  r.forwardGflops = 2.0 * spec.macsPerSample() * r.forwardSamplesPerS / 1e9;
  r.trainGflopsForwardEquiv = 2.0 * spec.macsPerSample() * r.trainSamplesPerS / 1e9;
  r.trainGflops = 3.0 * r.trainGflopsForwardEquiv;
  return r;
}

ConvPeak measureConvPeak(Precision precision, double seconds) {
  using Clock = std::chrono::steady_clock;
  torch::NoGradGuard ng;
  const auto type = precision == Precision::Bf16 ? torch::kBFloat16 : torch::kFloat32;
  torch::manual_seed(1);
  // oneDNN's own blocked layout and dense fp32 weights: the kernel alone, without LibTorch's reorders.
  auto x = torch::randn({64, 50, 15, 15, 15}).to_mkldnn(type);
  auto w = torch::randn({50, 50, 5, 5, 5}) * 0.01;
  const double flops = 2.0 * 64 * 50 * 50 * 125 * 11.0 * 11.0 * 11.0;
  torch::conv3d(x, w);  // primitive creation
  ConvPeak r;
  r.precision = ComputePrecision::name(precision);
  const auto start = Clock::now();
  do {
    const auto t0 = Clock::now();
    torch::conv3d(x, w);
    const double el = std::chrono::duration<double>(Clock::now() - t0).count();
    r.gflops = std::max(r.gflops, flops / el / 1e9);
  } while (std::chrono::duration<double>(Clock::now() - start).count() < seconds);
  return r;
}

} // namespace jseg
