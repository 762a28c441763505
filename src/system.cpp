#include "tlsmap/system.hpp"

#include "tlsmap/error.hpp"
#include "tlsmap/reduction.hpp"

#include <algorithm>
#include <sstream>

namespace tlsmap {

System::System(MPI_Comm comm, const Box& box, LJTable table, double skin, Int3 proc_grid, double coulomb_cutoff)
    : decomp_(comm, box, proc_grid),
      table_(std::move(table)),
      halo_(decomp_, std::max(table_.max_cutoff(), coulomb_cutoff) + skin),
      list_(table_.max_cutoff(), skin) {
  if (coulomb_cutoff > 0.0) coulomb_list_.emplace(coulomb_cutoff, skin);
  // Per species-pair list ranges, as LAMMPS's cutneighsq: Kob–Andersen's B–B pairs end at 2.2 σ,
  // not 2.5 σ, so their list segments are shorter (and the force loop skips fewer pairs).
  const int n = table_.n_species();
  std::vector<double> cut(static_cast<std::size_t>(n) * n);
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b) cut[a * n + b] = table_(a, b).rc;
  list_.set_pair_cutoffs(n, std::move(cut));
}

void System::set_beads(Beads owned) {
  beads_ = std::move(owned);
  std::int64_t n = beads_.n_owned;
  MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_INT64_T, MPI_SUM, comm());
  n_global_ = n;
  int bad_species = 0;
  for (int s : beads_.species) bad_species |= (s < 0 || s >= table_.n_species());
  agree(comm(), !bad_species, "a bead has a species outside the model's " + std::to_string(table_.n_species()));
  rebuild();
}

void System::rebuild() {
  halo_.migrate(beads_);
  halo_.build_ghosts(beads_);
  list_.build(beads_, decomp_.sub_lo(), decomp_.sub_hi());
  if (coulomb_list_) coulomb_list_->build(beads_, decomp_.sub_lo(), decomp_.sub_hi());
}

void System::positions_changed() {
  if (list_.needs_rebuild(beads_, comm()))
    rebuild();
  else
    halo_.update_ghosts(beads_);
}

void System::compute_forces() {
  compute_pair_forces(table_, list_, beads_, terms_);
  ++n_force_calls_;
}

double System::potential_energy() const { return reproducible_sum(comm(), terms_.energy); }

Thermo System::thermo() const {
  const int n = beads_.n_owned;
  std::vector<double> ke(n);
  for (int i = 0; i < n; ++i) ke[i] = 0.5 * beads_.vel[i].squaredNorm();
  std::vector<std::span<const double>> t{terms_.energy, ke};
  for (const auto& w : terms_.virial) t.emplace_back(w);
  auto s = reproducible_sums(comm(), t);
  Thermo th;
  th.potential = s[0];
  th.kinetic = s[1];
  th.virial << s[2], s[5], s[6], s[5], s[3], s[7], s[6], s[7], s[4];
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
