#pragma once
// Which instruction-set variants this build compiles (kernel_isa.hpp). Internal to the files that
// define variants: TLSMAP_ISA_VARIANTS is 1 where GCC function targets for x86-64-v3/v4 are
// available (GCC 12 or later) and the build is not already tuned for its machine (TLSMAP_NATIVE).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12 && !defined(TLSMAP_NATIVE_BUILD)
#define TLSMAP_ISA_VARIANTS 1
// A function compiled for one variant, with its callees inlined into it (so the pair loop and the
// potential are built for that instruction set, not called in their generic form).
#define TLSMAP_TARGET_V3 __attribute__((target("arch=x86-64-v3"), flatten))
#define TLSMAP_TARGET_V4 __attribute__((target("arch=x86-64-v4"), flatten))
#else
#define TLSMAP_ISA_VARIANTS 0
#endif
