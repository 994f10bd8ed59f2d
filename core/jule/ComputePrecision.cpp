#include "core/jule/ComputePrecision.h"

#include "core/base/Errors.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace jseg {

namespace {
#if defined(__x86_64__) || defined(__i386__)
// XCR0 bits 1, 2, 5, 6, 7: SSE, AVX, opmask and the upper ZMM registers are saved by the OS, so AVX-512
// instructions (bf16 ones included) may run.
bool osSavesAvx512State() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;  // OSXSAVE
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & 0xE6u) == 0xE6u;
}

bool detectFastBf16() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0, nullptr) < 7 || !osSavesAvx512State()) return false;
  __cpuid_count(7, 0, a, b, c, d);
  const bool amxBf16 = d & (1u << 22);
  __cpuid_count(7, 1, a, b, c, d);
  const bool avx512Bf16 = a & (1u << 5);
  return avx512Bf16 || amxBf16;
}
#else
bool detectFastBf16() { return false; }
#endif
} // namespace

bool ComputePrecision::cpuHasFastBf16() {
  static const bool has = detectFastBf16();
  return has;
}

Precision ComputePrecision::resolve(const std::string& requested) {
  if (requested == "fp32") return Precision::Fp32;
  if (requested == "bf16") return Precision::Bf16;
  if (requested == "auto") return cpuHasFastBf16() ? Precision::Bf16 : Precision::Fp32;
  throw InputError("unknown precision '" + requested + "' (choose auto, fp32 or bf16)");
}

Precision ComputePrecision::resolve(const std::string& requested, const std::string& device) {
  const Precision p = resolve(requested);
  return device.rfind("cuda", 0) == 0 ? Precision::Fp32 : p;
}

std::string ComputePrecision::name(Precision p) { return p == Precision::Bf16 ? "bf16" : "fp32"; }

} // namespace jseg
