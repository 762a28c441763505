// Whole-sample relaxation of catalogue states (see relax.hpp).
#include "tlsmap/search/relax.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/md/fire.hpp"
#include "tlsmap/md/lbfgs.hpp"
#include "tlsmap/md/system.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

namespace tlsmap {

namespace {
// FIRE follows the damped flow down to this max|F| (ε/σ), where the basin is decided; L-BFGS
// converges the rest (relax.hpp says why).
constexpr double kFireUntil = 1e-6;
// Region mode: how far (σ) a bead at the region's edge may move before the left-out beads beyond
// the held layer could interact with it (relax.hpp).
constexpr double kMargin = 1.0;

// The whole sample (every bead, at x by id − 1) as a System with its force terms.
std::unique_ptr<System> whole_system(const WholeSample& w, const std::vector<Vec3>& x) {
  auto sys = std::make_unique<System>(w.comm, w.box, w.model, w.skin, w.proc_grid, w.coulomb_cutoff);
  sys->set_beads(block_by_id(*w.beads, x, w.comm));
  if (w.coulomb_term) sys->add_force_term(w.coulomb_term(*sys));
  return sys;
}

MinimizeResult minimise(System& sys, double f_tol, const HeldIds* held) {
  FireParams fp;
  fp.f_tol = std::max(f_tol, kFireUntil);
  fp.held = held;
  MinimizeResult mr = minimize_fire(sys, fp);
  if (mr.converged && f_tol < kFireUntil) {  // the last decades by L-BFGS: steps are short there
    LbfgsParams lp;
    lp.f_tol = f_tol;
    lp.held = held;
    mr = minimize_lbfgs(sys, lp);
  }
  return mr;
}

// Region mode's subsystem: the beads within radius + r_c + margin of the mobile beads (at their
// packing positions), those beyond `radius` held; dist is each one's distance to the nearest
// mobile bead; shift puts the mobile beads' centre at the box centre.
struct Region {
  std::vector<std::int64_t> index;  // 0-based, ascending
  std::vector<double> dist;
  HeldIds held;  // 1-based ids
  Vec3 shift = Vec3::Zero();
};

Region region_around(const WholeSample& w, const std::vector<std::int64_t>& mobile_id) {
  const GlobalBeads& g = *w.beads;
  const double reach = w.radius + w.model.max_cutoff() + kMargin;
  Region r;
  const Vec3 ref = g.pos[mobile_id[0] - 1];
  Vec3 sum = Vec3::Zero();
  for (std::int64_t id : mobile_id) sum += w.box.minimum_image(Vec3(g.pos[id - 1] - ref));
  r.shift = w.box.lo + 0.5 * w.box.len - (ref + sum / static_cast<double>(mobile_id.size()));
  for (std::size_t i = 0; i < g.size(); ++i) {
    double d2 = std::numeric_limits<double>::infinity();
    for (std::int64_t id : mobile_id)
      d2 = std::min(d2, w.box.minimum_image(Vec3(g.pos[i] - g.pos[id - 1])).squaredNorm());
    const double d = std::sqrt(d2);
    if (d > reach) continue;
    r.index.push_back(static_cast<std::int64_t>(i));
    r.dist.push_back(d);
    if (d > w.radius) r.held.insert(static_cast<std::int64_t>(i) + 1);
  }
  return r;
}

double relax_region(const WholeSample& w, const std::vector<std::int64_t>& mobile_id, const std::vector<Vec3>& start,
                    double f_tol, std::vector<Vec3>* relaxed, bool* converged) {
  const GlobalBeads& g = *w.beads;
  const Region r = region_around(w, mobile_id);
  double e_packing = 0.0;  // the subsystem at the packing, in the same frame
  {
    System sys(w.comm, w.box, w.model, w.skin, w.proc_grid);
    sys.set_beads(block_by_id(g, g.pos, w.comm, false, r.index, r.shift));
    sys.compute_forces();
    e_packing = sys.potential_energy();
  }
  System sys(w.comm, w.box, w.model, w.skin, w.proc_grid);
  sys.set_beads(block_by_id(g, start, w.comm, false, r.index, r.shift));
  const MinimizeResult mr = minimise(sys, f_tol, &r.held);
  const double e = sys.potential_energy();
  // Every bead's position by id − 1: the packing's, with the subsystem's relaxed ones put back.
  const Beads& b = sys.beads();
  const std::vector<std::int64_t> owned_id(b.id.begin(), b.id.begin() + b.n_owned);
  const std::vector<Vec3> owned_pos(b.pos.begin(), b.pos.begin() + b.n_owned);
  const auto sub = allgather_by_id(w.comm, owned_id, owned_pos);
  *relaxed = g.pos;
  bool inside = true;  // no free bead came within r_c of a left-out one (relax.hpp)
  for (std::size_t k = 0; k < r.index.size(); ++k) {
    const std::int64_t i = r.index[k];
    Vec3 x = sub.at(i + 1) - r.shift;
    w.box.wrap(x);
    (*relaxed)[i] = x;
    if (r.dist[k] <= w.radius && w.box.minimum_image(Vec3(x - g.pos[i])).norm() > w.radius + kMargin - r.dist[k])
      inside = false;  // (held beads did not move)
  }
  *converged = mr.converged && inside;
  return w.e_sample + (e - e_packing);
}
}  // namespace

double relax_state(const WholeSample& w, const std::vector<std::int64_t>& ids, const std::vector<Vec3>& pos,
                   double f_tol, std::vector<Vec3>* relaxed, bool* converged) {
  const GlobalBeads& g = *w.beads;
  std::vector<Vec3> start = g.pos;
  for (std::size_t k = 0; k < ids.size(); ++k) start[ids[k] - 1] = pos[k];
  if (w.radius > 0.0 && !ids.empty()) {
    if (w.coulomb_term)
      throw Error("relaxing a state with active charges needs the whole sample free (relax radius 0)");
    return relax_region(w, ids, start, f_tol, relaxed, converged);
  }
  const auto sys = whole_system(w, start);
  *converged = minimise(*sys, f_tol, nullptr).converged;
  *relaxed = gather_by_id(sys->beads(), w.comm).pos;
  return sys->potential_energy();
}

std::vector<Vec3> whole_sample_forces(const WholeSample& w, const std::vector<Vec3>& pos) {
  const auto sys = whole_system(w, pos);
  sys->compute_forces();
  return gather_by_id(sys->beads(), w.comm).force;
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
