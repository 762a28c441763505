#include "tlsmap/md/system.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/petsc_util.hpp"
#include "tlsmap/core/reduction.hpp"
#include "tlsmap/md/bonds.hpp"
#include "tlsmap/parallel/gather.hpp"

#include <algorithm>
#include <sstream>
#include <unordered_map>

namespace tlsmap {

System::System(MPI_Comm comm, const Box& box, Model model, double skin, Int3 proc_grid, double coulomb_cutoff)
    : decomp_(comm, box, proc_grid),
      model_(std::move(model)),
      halo_(decomp_, std::max(model_.max_cutoff(), coulomb_cutoff) + skin),
      list_(model_.max_cutoff(), skin) {
  if (coulomb_cutoff > 0.0) coulomb_list_.emplace(coulomb_cutoff, skin);
  if (model_.has_diameters()) return;  // one range for every pair: 1.25 sigma_max
  // Per species-pair list ranges, as LAMMPS's cutneighsq: Kob–Andersen's B–B pairs end at 2.2 σ,
  // not 2.5 σ, so their list segments are shorter (and the force loop skips fewer pairs).
  const int n = model_.table.n_species();
  std::vector<double> cut(static_cast<std::size_t>(n) * n);
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b) cut[a * n + b] = model_.table(a, b).rc;
  list_.set_pair_cutoffs(n, std::move(cut));
}

void System::set_beads(Beads owned) {
  beads_ = std::move(owned);
  std::int64_t n = beads_.n_owned;
  MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_INT64_T, MPI_SUM, comm());
  n_global_ = n;
  if (model_.has_bonds()) {
    check_partners();
  } else {
    beads_.has_partner = false;
    beads_.partner.clear();
  }
  if (model_.has_diameters()) {
    check_diameters();
  } else {
    beads_.has_diameter = false;  // species models carry none (see the header)
    beads_.diameter.clear();
    int bad_species = 0;
    for (int s : beads_.species) bad_species |= (s < 0 || s >= model_.table.n_species());
    agree(comm(), !bad_species, "a bead has a species outside the model's " + std::to_string(model_.table.n_species()));
  }
  rebuild();
}

void System::check_diameters() {
  // A rank that received no beads may hold a Beads without the flag; one with beads must have them.
  agree(comm(), beads_.has_diameter || beads_.n_owned == 0,
        "model '" + model_.name + "' needs a diameter for every bead; the configuration has none");
  beads_.enable_diameter();
  const double limit = model_.polydisperse->sigma_max;
  std::int64_t bad = 0;
  double value = 0.0;
  for (int i = 0; i < beads_.n_owned && !bad; ++i)
    if (!(beads_.diameter[i] > 0.0 && beads_.diameter[i] <= limit)) bad = beads_.id[i], value = beads_.diameter[i];
  agree(comm(), !bad,
        "bead id " + std::to_string(bad) + " has diameter " + std::to_string(value) + ", outside (0, " +
            std::to_string(limit) + "] of model '" + model_.name + "'");
}

void System::check_partners() {
  agree(comm(), beads_.has_partner || beads_.n_owned == 0,
        "model '" + model_.name + "' has bonds and needs every bead's bond partner; the configuration has none");
  beads_.enable_partner();
  // Every bead bonded to another bead, and the relation symmetric: the pairs by id, on every rank.
  std::vector<double> mine;
  for (int i = 0; i < beads_.n_owned; ++i)
    mine.insert(mine.end(), {static_cast<double>(beads_.id[i]), static_cast<double>(beads_.partner[i])});
  const std::vector<double> all = allgather_concat(mine, comm());
  std::unordered_map<std::int64_t, std::int64_t> partner;
  for (std::size_t k = 0; k + 1 < all.size(); k += 2)
    partner[static_cast<std::int64_t>(all[k])] = static_cast<std::int64_t>(all[k + 1]);
  std::int64_t bad = 0;
  for (const auto& [id, p] : partner) {
    const auto it = partner.find(p);
    if (p == id || it == partner.end() || it->second != id) bad = bad == 0 ? id : std::min(bad, id);
  }
  // Every rank saw the same table, so the verdict is the same everywhere.
  if (bad != 0)
    throw Error("bead id " + std::to_string(bad) + " of model '" + model_.name +
                "' has no bond partner that names it back (each bead must be bonded to exactly one other)");
}

const LJTable& System::table() const {
  require_species_model("this code path");
  return model_.table;
}

void System::require_species_model(const std::string& what) const {
  if (model_.has_diameters())
    throw Error(what + " does not support model '" + model_.name +
                "' yet (per-bead diameters; it needs a species table: kob-andersen or lennard-jones)");
}

void System::rebuild() {
  halo_.migrate(beads_);
  halo_.build_ghosts(beads_);
  list_.build(beads_, decomp_.sub_lo(), decomp_.sub_hi());
  if (coulomb_list_) coulomb_list_->build(beads_, decomp_.sub_lo(), decomp_.sub_hi());
  if (model_.has_bonds()) {
    const std::int64_t missing = resolve_partners(beads_, partner_local_);
    agree(comm(), missing == 0,
          "the bond partner of bead id " + std::to_string(missing) + " is not within its ghost range");
  }
}

void System::positions_changed() {
  if (list_.needs_rebuild(beads_, comm())) rebuild();
  else halo_.update_ghosts(beads_);
}

void System::compute_forces() {
  {
    const ScopedLogEvent event(LogEvent::forces);
    compute_model_forces(model_, list_, beads_, terms_);
    if (model_.has_bonds()) add_bond_terms(model_.table, *model_.bond, partner_local_, beads_, terms_);
  }
  term_totals_ = ForceTermTotals{};
  for (const auto& t : force_terms_) {
    const ForceTermTotals x = t->add(beads_, coulomb_list(), partner_local_);
    term_totals_.energy += x.energy;
    term_totals_.virial += x.virial;
  }
  ++n_force_calls_;
}

void System::add_force_term(std::shared_ptr<ForceTerm> term) {
  if (!term) throw Error("System::add_force_term: no term");
  force_terms_.push_back(std::move(term));
}

double System::potential_energy() const { return reproducible_sum(comm(), terms_.energy) + term_totals_.energy; }

Thermo System::thermo() const {
  const int n = beads_.n_owned;
  std::vector<double> ke(n);
  for (int i = 0; i < n; ++i) ke[i] = 0.5 * beads_.vel[i].squaredNorm();
  std::vector<std::span<const double>> t{terms_.energy, ke};
  for (const auto& w : terms_.virial) t.emplace_back(w);
  auto s = reproducible_sums(comm(), t);
  Thermo th;
  th.potential = s[0] + term_totals_.energy;
  th.kinetic = s[1];
  th.virial << s[2], s[5], s[6], s[5], s[3], s[7], s[6], s[7], s[4];
  th.virial += term_totals_.virial;
  const double dof = 3.0 * static_cast<double>(n_global_) - 3.0;
  th.temperature = dof > 0 ? 2.0 * th.kinetic / dof : 0.0;
  th.pressure = (2.0 * th.kinetic + th.virial.trace()) / (3.0 * box().volume());
  return th;
}

double System::max_force() const {
  double m = 0.0;
  for (int i = 0; i < beads_.n_owned; ++i) m = std::max(m, beads_.force[i].squaredNorm());
  MPI_Allreduce(MPI_IN_PLACE, &m, 1, MPI_DOUBLE, MPI_MAX, comm());
  return std::sqrt(m);
}

double System::force_norm() const {
  std::vector<double> f2(beads_.n_owned);
  for (int i = 0; i < beads_.n_owned; ++i) f2[i] = beads_.force[i].squaredNorm();
  return std::sqrt(reproducible_sum(comm(), f2));
}

}  // namespace tlsmap
