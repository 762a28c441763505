#pragma once
// Active charges (charge.mode = "active"): the Coulomb split of electrostatics/coulomb.hpp as a
// force term of the System, so that MD, FIRE, L-BFGS and relax move the beads under their charges.
//
// Drift. Between neighbour-list rebuilds a bead moves up to skin/2 without migrating, so it may
// sit outside its rank's subdomain; the grid part accepts that much (CoulombParams::drift = skin/2)
// instead of refusing the bead. The Coulomb list must cover the real-space cutoff (System built
// with coulomb_cutoff = params.cutoff).
//
// Bonds. The bonded pair of a molecule does not interact (as LAMMPS's special_bonds 0 0 0): its
// whole q_i q_j/(ε r) is subtracted, which leaves the grid part's error at r ≈ r0 in place (as
// LAMMPS's exclusion of the erf part does).
//
// Virial. Coulomb energy is homogeneous of degree −1 in the coordinates (box included), so the
// trace of its virial Σ r·f is the Coulomb energy itself: that trace is exact. By default the term
// reports the isotropic tensor (E/3) 1, which is all the pressure needs. With set_virial_tensor(true)
// (fft solver only) it reports the whole tensor: the traceless part of the real-space pairs', the
// mesh's Ewald reciprocal tensor (fft_coulomb.hpp) and the bonded pairs' exclusion, plus (E/3) 1,
// for the shear stress of the charges (the deformation potentials, `tlsmap energy`); so the
// pressure is the same either way. It costs about 1.2× an evaluation without (six more sums per
// real-space pair), hence off in MD and the minimisers.
#include "tlsmap/electrostatics/coulomb.hpp"
#include "tlsmap/md/force_term.hpp"
#include "tlsmap/md/system.hpp"

#include <memory>
#include <optional>

namespace tlsmap {

class ActiveCoulomb : public ForceTerm {
 public:
  // Collective over sys.comm(). Throws Error if sys has no Coulomb list as long as params.cutoff.
  // params.drift is set here to half the list skin.
  ActiveCoulomb(const System& sys, CoulombParams params, double skin);
  ForceTermTotals add(Beads& beads, const NeighborList* coulomb_list, std::span<const int> bond_partner) override;
  // The split's Hessian (couplings/coulomb_hessian.hpp).
  std::shared_ptr<HessianPart> hessian_part(const System& sys, const BeadNumbering& num) override;
  // The split's part of the elastic constants (couplings/coulomb_hessian.hpp); Error for mg.
  std::optional<ElasticPart> elastic_part(const System& sys) override;
  // The last evaluation: energies, forces' RMS, error estimate; total includes the bonded pairs'
  // exclusion (real, reciprocal and self do not, nor do the force diagnostics).
  const CoulombResult& last() const { return last_; }
  Int3 mesh() const { return coulomb_.mesh(); }  // the fft mesh or the mg grid
  const CoulombParams& params() const { return coulomb_.params(); }
  // Whether add() reports the whole virial tensor from now on; throws Error for the mg solver.
  void set_virial_tensor(bool on);
  bool virial_tensor() const { return virial_tensor_; }

 private:
  MPI_Comm comm_;
  Coulomb coulomb_;
  CoulombResult last_;
  std::vector<Vec3> force_;
  bool virial_tensor_ = false;
};

// Builds the term and adds it to sys: the usual way to switch charges on.
std::shared_ptr<ActiveCoulomb> activate_coulomb(System& sys, const CoulombParams& params, double skin);

// Collective: a System of `model` holding `beads`, with the charges acting when `coulomb` is given
// (its Coulomb list as long as the real-space cutoff). System is not movable: hence the pointer.
std::unique_ptr<System> sample_system(MPI_Comm comm, const Box& box, Model model, double skin, Int3 proc_grid,
                                      Beads beads, const std::optional<CoulombParams>& coulomb);

}  // namespace tlsmap
