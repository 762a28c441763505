#include "tlsmap/core/kernel_isa.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/kernel_isa_config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <optional>

namespace tlsmap {
namespace {

bool cpu_supports(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::generic: return true;
#if TLSMAP_ISA_VARIANTS
    case KernelIsa::x86_64_v3: return __builtin_cpu_supports("x86-64-v3");
    case KernelIsa::x86_64_v4: return __builtin_cpu_supports("x86-64-v4");
#else
    default: return false;
#endif
  }
  return false;
}

KernelIsa choose() {
  const std::vector<KernelIsa> ok = supported_kernel_isas();
  const char* env = std::getenv("TLSMAP_KERNEL_ISA");
  if (!env || !*env) return ok.back();
  for (KernelIsa isa : {KernelIsa::generic, KernelIsa::x86_64_v3, KernelIsa::x86_64_v4})
    if (to_string(isa) == env) {
      if (std::find(ok.begin(), ok.end(), isa) == ok.end()) break;
      return isa;
    }
  std::vector<std::string> names;
  for (KernelIsa isa : ok) names.push_back(to_string(isa));
  throw Error(
      fmt::format("environment variable TLSMAP_KERNEL_ISA = '{}': not a kernel variant this binary and CPU "
                  "support (supported: {})",
                  env, fmt::join(names, ", ")));
}

std::optional<KernelIsa>& current() {
  static std::optional<KernelIsa> isa;
  return isa;
}

}  // namespace

std::string to_string(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::generic: return "generic";
    case KernelIsa::x86_64_v3: return "x86-64-v3";
    case KernelIsa::x86_64_v4: return "x86-64-v4";
  }
  return "?";
}

std::vector<KernelIsa> supported_kernel_isas() {
  std::vector<KernelIsa> out;
  for (KernelIsa isa : {KernelIsa::generic, KernelIsa::x86_64_v3, KernelIsa::x86_64_v4})
    if (cpu_supports(isa)) out.push_back(isa);
  return out;
}

KernelIsa kernel_isa() {
  if (!current()) current() = choose();
  return *current();
}

void set_kernel_isa(KernelIsa isa) {
  if (!cpu_supports(isa)) throw Error("kernel variant " + to_string(isa) + " is not supported by this binary and CPU");
  current() = isa;
}

}  // namespace tlsmap
