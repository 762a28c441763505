#pragma once
// /material's Coulomb share of the stiffness (docs/file-format.md), as `tlsmap interact` (passive
// charges) and `tlsmap pack` (active charges) write it.
#include "tlsmap/couplings/coulomb_stiffness.hpp"
#include "tlsmap/io/h5md.hpp"

namespace tlsmap {

// Collective. The shares, moduli and energy as attributes of /material and the two parts' C blocks;
// `check_name` = `check` is the plastic-event check that was applied (interact: the pair part against
// the Hessian route, coulomb_path_check; pack: coulomb_stress_check).
void write_coulomb_stiffness(Hdf5File& file, const CoulombStiffness& c, const char* check_name, double check);

}  // namespace tlsmap
