#pragma once
// Measured material constants for the paper's Eqs. 17, 21, 22: number and mass density, bulk and
// shear moduli, longitudinal and transverse sound speeds (reduced units: σ, ε, m; moduli in ε/σ³,
// speeds in σ/τ).
//
// Method: finite strain with relaxation (so the non-affine part is included). The orthorhombic box
// and every bead (relative to box.lo) are scaled, the sample is re-minimised (L-BFGS to f_tol), and
// the stress σ = −W/V comes from the pair virial W = Σ_pairs r f (T = 0). Central differences ±e:
//   K = −(P(+e) − P(−e))/(6e)         (uniform scaling, ΔV/V = 3e; P = −tr σ/3),
//   G = Δ(σ_aa − σ_bb)/(8e)            (ε_aa = +e, ε_bb = −e; averaged over the pairs xy, yz, zx),
// which for an isotropic solid is the shear modulus (= (C11 − C12)/2 = C44), for a cubic crystal
// (C11 − C12)/2. c_L = √((K + 4G/3)/ρ_m), c_T = √(G/ρ_m), ρ_m = N m / V (m = 1).
// Only orthorhombic deformations are possible (the engine's box is orthorhombic), hence no direct C44;
// an isotropic sample does not need it. The affine (Born) bulk modulus of pair potentials,
// K_Born = (Σ_pairs r² u'' − 2 r u')/(9V), is also reported: for a Bravais crystal the two agree
// (no relaxation), for a glass K < K_Born (the non-affine softening).
#include "tlsmap/pair_potential.hpp"
#include "tlsmap/system.hpp"

#include <mpi.h>

namespace tlsmap {

struct MaterialConstants {
  double density = 0.0;        // N / V
  double mass_density = 0.0;   // N m / V, m = 1
  double pressure = 0.0;       // of the reference configuration
  double bulk_modulus = 0.0;   // relaxed
  double bulk_born = 0.0;      // affine (Born) value
  double shear_modulus = 0.0;  // relaxed, mean of the three tetragonal shears
  double shear_xy = 0.0, shear_yz = 0.0, shear_zx = 0.0;
  double c_longitudinal = 0.0, c_transverse = 0.0;
  double strain = 0.0;
};

// Collective. `beads`: the reference configuration (a minimum) in any distribution.
MaterialConstants measure_material(MPI_Comm comm, const Box& box, const Beads& beads, const LJTable& table,
                                   double skin, Int3 proc_grid, double strain, double f_tol);

}  // namespace tlsmap
