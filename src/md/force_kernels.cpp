// The pair forces of a System's model, in the instruction-set variant chosen at run time
// (core/kernel_isa.hpp). This file is compiled with -ffp-contract=off (CMakeLists.txt): a fused
// multiply-add would round differently from the generic build and break the bitwise equality of
// the variants.
#include "tlsmap/core/kernel_isa.hpp"
#include "tlsmap/core/kernel_isa_config.hpp"
#include "tlsmap/md/forces.hpp"

namespace tlsmap {
namespace {

inline void model_forces(const Model& model, const NeighborList& list, Beads& b, PerBeadTerms& out) {
  if (model.has_diameters()) compute_polydisperse_forces(list, b, out);
  else compute_pair_forces(model.table, list, b, out);
}

#if TLSMAP_ISA_VARIANTS
TLSMAP_TARGET_V3 void model_forces_v3(const Model& model, const NeighborList& list, Beads& b, PerBeadTerms& out) {
  model_forces(model, list, b, out);
}
TLSMAP_TARGET_V4 void model_forces_v4(const Model& model, const NeighborList& list, Beads& b, PerBeadTerms& out) {
  model_forces(model, list, b, out);
}
#endif

}  // namespace

void compute_model_forces(const Model& model, const NeighborList& list, Beads& b, PerBeadTerms& out) {
  switch (kernel_isa()) {
#if TLSMAP_ISA_VARIANTS
    case KernelIsa::x86_64_v4: return model_forces_v4(model, list, b, out);
    case KernelIsa::x86_64_v3: return model_forces_v3(model, list, b, out);
#endif
    default: return model_forces(model, list, b, out);
  }
}

}  // namespace tlsmap
