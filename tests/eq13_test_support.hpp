#pragma once
// The dipole stage's Eq. 13 on one synthetic TLS, through the stage's own functions
// (make_eq13_grid, eq13_dipoles in dipole.hpp): shared by test_dipole and test_trust_physics.
#include "tlsmap/couplings/dipole.hpp"
#include "tlsmap/electrostatics/poisson_grid.hpp"
#include "tlsmap/parallel/decomposition.hpp"

#include <mpi.h>

#include <vector>

namespace tlsmap::testing {

// One TLS (row 0 of tls) and the charges of every bead.
struct OneTls {
  TlsSet tls;
  std::vector<double> charge;
};

struct StageEq13 {
  Eq13Dipole mu;
  Vec3 p = Vec3::Zero();  // μ_direct
  double h = 0.0;         // the grid spacing used (largest of the three)
};

// Collective over comm: μ_eq13 of row 0 at grid spacing h, ε_ext outside and ε_in inside its sphere.
inline StageEq13 stage_eq13(MPI_Comm comm, const Box& box, const OneTls& s, double h, double eps_ext, double eps_in) {
  Decomposition dec(comm, box);
  Eq13Options o;
  o.spacing = h;
  o.sigma_factor = 1.0;
  o.eps_ext = eps_ext;
  o.eps_in = eps_in;
  o.rtol = 1e-12;
  const auto grid = make_eq13_grid(dec, o, s.tls.center[0], s.tls.radius[0]);
  const double radii[1] = {s.tls.radius[0]};
  StageEq13 r;
  r.p = direct_dipole(s.tls, 0, s.charge, box);
  r.mu = eq13_dipoles(*grid, dec, o, image_field_tensor(box), transition_charges(s.tls, 0, s.charge, box), r.p,
                      s.tls.center[0], radii)[0];
  r.h = grid->spacing().maxCoeff();
  return r;
}

}  // namespace tlsmap::testing
