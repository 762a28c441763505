#pragma once
// The bead engine on one communicator: decomposition, beads, halo, neighbour list and model.
//
// Life cycle: construct with the box and model; set_beads() with any initial distribution (every
// rank may pass any subset; migration sends each bead to its owner); then alternate
//   move owned beads  →  positions_changed()  →  compute_forces().
// positions_changed() rebuilds (migrate, ghosts, lists) when some bead moved more than skin/2,
// otherwise only refreshes ghost positions. Global quantities are reproducible sums (reduction.hpp),
// so every result is independent of the rank count.
//
// The model is a species table or per-bead diameters (pair_potential.hpp: Model). With diameters
// every bead must carry one (Beads::diameter, within the model's sigma_max); with a species table
// any diameters the beads bring are dropped, so species models move no extra bytes. A bonded model
// (Model::bond) needs every bead's partner id (Beads::partner, symmetric); the bond terms and the
// exclusion of the bonded pair join the pair forces (md/bonds.hpp).
#include "tlsmap/md/force_term.hpp"
#include "tlsmap/md/forces.hpp"
#include "tlsmap/md/pair_potential.hpp"
#include "tlsmap/parallel/decomposition.hpp"
#include "tlsmap/parallel/halo.hpp"
#include "tlsmap/parallel/neighbor_list.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace tlsmap {

struct Thermo {
  double potential = 0.0;      // total potential energy
  double kinetic = 0.0;        // total kinetic energy (mass 1)
  double temperature = 0.0;    // 2 K / (3 N - 3)  (momentum conserved)
  double pressure = 0.0;       // (2 K + W) / (3 V)
  Mat3 virial = Mat3::Zero();  // Σ_pairs r_a f_b
};

class System {
 public:
  // Collective. Throws Error on an impossible decomposition or a box too small for the cutoff.
  // coulomb_cutoff > 0: the ghosts also cover the Coulomb real-space cutoff (+ skin), and a second
  // neighbour list with that cutoff is kept over the same beads and ghosts (coulomb_list()).
  System(MPI_Comm comm, const Box& box, Model model, double skin, Int3 proc_grid = {0, 0, 0},
         double coulomb_cutoff = 0.0);

  // Collective. Takes ownership of `owned` (on this rank; any distribution) and rebuilds. Throws
  // Error (on every rank) for a species outside the model's table, or, with per-bead diameters,
  // for beads without a diameter or with one outside (0, sigma_max].
  void set_beads(Beads owned);
  // Collective. Call after moving owned beads.
  void positions_changed();
  // Collective. Migrate, build ghosts and neighbour lists now.
  void rebuild();
  // Local without force terms, collective with them. Forces on owned beads and per-bead energies at
  // the current positions, plus every added term (add_force_term).
  void compute_forces();
  // Adds a term to every later compute_forces() (collective: every rank adds the same terms). A term
  // reached through the Coulomb list needs the System built with a Coulomb cutoff.
  void add_force_term(std::shared_ptr<ForceTerm> term);
  const std::vector<std::shared_ptr<ForceTerm>>& force_terms() const { return force_terms_; }
  // The terms' totals from the last compute_forces() (the same on every rank).
  const ForceTermTotals& force_term_totals() const { return term_totals_; }

  // Collective, reproducible global quantities from the last compute_forces().
  Thermo thermo() const;
  double potential_energy() const;
  // Collective: max over beads of |F_i| (the Euclidean norm of each bead's force) and the 2-norm
  // of the whole force vector.
  double max_force() const;
  double force_norm() const;

  const Decomposition& decomp() const { return decomp_; }
  MPI_Comm comm() const { return decomp_.comm(); }
  const Box& box() const { return decomp_.box(); }
  Beads& beads() { return beads_; }
  const Beads& beads() const { return beads_; }
  const Model& model() const { return model_; }
  // The species table. Throws Error for a model with per-bead diameters (which has none): code
  // written for species models that meets such a System stops rather than use an empty table.
  const LJTable& table() const;
  // Throws Error naming `what` and the model unless the model is a species table.
  void require_species_model(const std::string& what) const;
  const NeighborList& neighbor_list() const { return list_; }
  // Bonded models: the local index (owned or ghost) of each owned bead's partner, −1 for none;
  // resolved at every rebuild. Empty for models without bonds.
  const std::vector<int>& bond_partner() const { return partner_local_; }
  // Collective. Copies a per-bead vector (sized n_local, owned entries set) to the ghosts, so that a
  // bead can read its partner's value; valid until the next rebuild.
  void forward_to_ghosts(std::vector<Vec3>& values) const { halo_.forward(values); }
  // The Coulomb real-space list (full rows, canonical order), or nullptr without a Coulomb cutoff.
  const NeighborList* coulomb_list() const { return coulomb_list_ ? &*coulomb_list_ : nullptr; }
  std::int64_t n_global() const { return n_global_; }
  long n_force_calls() const { return n_force_calls_; }

 private:
  void check_diameters();  // collective; part of set_beads
  void check_partners();   // collective; part of set_beads
  Decomposition decomp_;
  Model model_;
  Halo halo_;
  NeighborList list_;
  std::optional<NeighborList> coulomb_list_;
  Beads beads_;
  PerBeadTerms terms_;
  std::vector<std::shared_ptr<ForceTerm>> force_terms_;
  std::vector<int> partner_local_;  // bonded models: see bond_partner()
  ForceTermTotals term_totals_;     // summed over force_terms_ at the last compute_forces()
  std::int64_t n_global_ = 0;
  long n_force_calls_ = 0;
};

}  // namespace tlsmap
