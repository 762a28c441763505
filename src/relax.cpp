// Whole-sample relaxation of catalogue states (see relax.hpp).
#include "tlsmap/relax.hpp"

#include "tlsmap/fire.hpp"
#include "tlsmap/lbfgs.hpp"
#include "tlsmap/system.hpp"

#include <algorithm>

namespace tlsmap {

namespace {
// FIRE follows the damped flow down to this max|F| (ε/σ), where the basin is decided; L-BFGS
// converges the rest (relax.hpp says why).
constexpr double kFireUntil = 1e-6;
}  // namespace

double relax_state(const WholeSample& w, const std::vector<std::int64_t>& ids, const std::vector<Vec3>& pos,
                   double f_tol, std::vector<Vec3>* relaxed, bool* converged) {
  const GlobalBeads& g = *w.beads;
  std::vector<Vec3> start = g.pos;
  for (std::size_t k = 0; k < ids.size(); ++k) start[ids[k] - 1] = pos[k];
  int rank = 0, size = 1;
  MPI_Comm_rank(w.comm, &rank);
  MPI_Comm_size(w.comm, &size);
  const std::int64_t n = static_cast<std::int64_t>(start.size());
  Beads mine;  // a block of ids per rank; set_beads migrates them to their owners
  for (std::int64_t i = rank * n / size; i < (rank + 1) * n / size; ++i)
    mine.push_owned(start[i], g.species[i], g.charge[i], i + 1);
  System sys(w.comm, w.box, w.table, w.skin, w.proc_grid);
  sys.set_beads(std::move(mine));
  FireParams fp;
  fp.f_tol = std::max(f_tol, kFireUntil);
  MinimizeResult mr = minimize_fire(sys, fp);
  if (mr.converged && f_tol < kFireUntil) {  // the last decades by L-BFGS: steps are short there
    LbfgsParams lp;
    lp.f_tol = f_tol;
    mr = minimize_lbfgs(sys, lp);
  }
  *converged = mr.converged;
  *relaxed = gather_by_id(sys.beads(), w.comm).pos;
  return sys.potential_energy();
}

void relax_row(const WholeSample& w, double f_tol, double dedup_distance, TlsRow& r) {
  std::vector<Vec3> xa, xb;
  bool ok_a = false, ok_b = false;
  r.energy_a_relaxed = relax_state(w, r.mobile_id, r.position_a, f_tol, &xa, &ok_a);
  r.energy_b_relaxed = relax_state(w, r.mobile_id, r.position_b, f_tol, &xb, &ok_b);
  r.asymmetry_relaxed = r.energy_b_relaxed - r.energy_a_relaxed;
  std::vector<Vec3> frozen(xa.size(), Vec3::Zero());  // the frozen-shell displacement, by id − 1
  double d_max = 0.0;
  for (std::size_t k = 0; k < r.mobile_id.size(); ++k) {
    frozen[r.mobile_id[k] - 1] = w.box.minimum_image(Vec3(r.position_b[k] - r.position_a[k]));
    d_max = std::max(d_max, frozen[r.mobile_id[k] - 1].norm());
  }
  double apart = 0.0, changed = 0.0;
  for (std::size_t i = 0; i < xa.size(); ++i) {
    const Vec3 d = w.box.minimum_image(Vec3(xb[i] - xa[i]));
    apart = std::max(apart, d.norm());
    changed = std::max(changed, (d - frozen[i]).norm());
  }
  r.relaxed_adjacent = ok_a && ok_b && apart > dedup_distance && changed <= 0.5 * d_max;
}

}  // namespace tlsmap
