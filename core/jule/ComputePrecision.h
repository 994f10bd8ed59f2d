#pragma once
// Which floating-point precision the patch networks compute in (parameter `precision`), torch-free so the
// session, the GUI's estimate and the model file can name it.
//
// bf16 halves the bytes every convolution moves and, on CPUs with AVX512-BF16 or AMX, doubles the
// multiply-adds per instruction (oneDNN's jit_bf16 kernels). It is applied per pass only where it was measured
// faster (PatchNetwork.h, MixedPrecisionConv.h): forward passes and input gradients in bf16, weight gradients in
// fp32 (oneDNN's bf16 backward-weights kernels are slower here), max-pooling of plain tensors in fp32 (LibTorch
// 1.13 has no bf16 kernel for it). Losses, the linear head, clustering and k-means always run in fp32.
#include <string>

namespace jseg {

enum class Precision { Fp32, Bf16 };

class ComputePrecision {
public:
  // "fp32" | "bf16" | "auto" (bf16 where cpuHasFastBf16(), else fp32); InputError otherwise.
  static Precision resolve(const std::string& requested);
  // For a device: CUDA always runs fp32 here (the bf16 layer plan was measured on CPUs only).
  static Precision resolve(const std::string& requested, const std::string& device);
  // From CPUID: AVX512-BF16 (leaf 7, sub-leaf 1, EAX bit 5) or AMX-BF16 (leaf 7, sub-leaf 0, EDX bit 22), with
  // the OS saving AVX-512 state. Without these oneDNN emulates bf16 and is slower than fp32.
  static bool cpuHasFastBf16();
  static std::string name(Precision p);  // "fp32" | "bf16"
};

} // namespace jseg
