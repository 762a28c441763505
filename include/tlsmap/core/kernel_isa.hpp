#pragma once
// Instruction-set variants of the hot loops (the pair forces and the neighbour-list build).
//
// One binary, several builds of the same loops: generic x86-64 (what a plain build targets),
// x86-64-v3 (AVX2, FMA) and x86-64-v4 (AVX-512), chosen once at run time for the machine the
// process runs on. The variants are compiled with -ffp-contract=off and none reassociates a sum
// (the summation order is fixed by the lanes of forces.hpp, not by the vector width), so every
// variant gives bitwise the same forces, energies, virials and lists: a result does not depend on
// the machine's instruction set, only the speed does. tests/test_kernel_isa.cpp checks this for
// every variant the machine supports.
//
// Selection: the best variant the CPU supports, unless the environment variable
// TLSMAP_KERNEL_ISA names another (generic | x86-64-v3 | x86-64-v4; for benchmarks). Builds for other
// architectures, other compilers or -DTLSMAP_NATIVE=ON (already tuned for the build machine) have
// the generic variant only.
#include <string>
#include <vector>

namespace tlsmap {

enum class KernelIsa { generic, x86_64_v3, x86_64_v4 };

std::string to_string(KernelIsa isa);
// The variants this binary holds and this CPU can run, generic first.
std::vector<KernelIsa> supported_kernel_isas();
// The variant in use. The first call makes the choice (TLSMAP_KERNEL_ISA, else the best supported);
// an unknown or unsupported TLSMAP_KERNEL_ISA throws Error naming it and the supported ones.
KernelIsa kernel_isa();
// Use `isa` from now on (tests, benchmarks). Throws Error if it is not supported.
void set_kernel_isa(KernelIsa isa);

}  // namespace tlsmap
