// Activation–relaxation event search on one domain and the TLS pair analysis (see event_search.hpp).
#include "tlsmap/search/event_search.hpp"

#include "tlsmap/core/heartbeat.hpp"
#include "tlsmap/core/petsc_util.hpp"
#include "tlsmap/core/random.hpp"
#include "tlsmap/io/catalogue.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <utility>

namespace tlsmap {

using Vector = LocalModel::Vector;

namespace {

// Largest single-bead displacement between two states (after rigid overlay for a free cluster).
double state_distance(const LocalModel& model, const Vector& a, const Vector& b) {
  return LocalModel::max_bead_norm(model.displacement(a, align_to(model, a, b)));
}

// Beads i and j are interchangeable: same species, and the same diameter and charge where the
// model has them (polydisperse diameters are all different: no bead is another's copy).
bool identical_beads(const LocalConfig& c, int i, int j) {
  return c.species[i] == c.species[j] && (c.diameter.empty() || c.diameter[i] == c.diameter[j]) &&
         (c.charge.empty() || c.charge[i] == c.charge[j]);
}

// Large domains use Lanczos for the lowest eigenpair instead of a full diagonalisation.
bool large(const LocalModel& model, const SearchParams& p) {
  return !model.free_cluster() && model.n_dof() > p.saddle.dense_limit;
}

double lowest_eigenvalue(const LocalModel& model, const Vector& x, const SearchParams& p, Vector& mode) {
  if (large(model, p)) return lowest_eigenpair(model.hessian(x), mode, mode);
  const Spectrum sp = spectrum(model, x, false);
  return sp.values[0];
}

Minimum make_minimum(const LocalModel& model, const MinimizeOutcome& m, const SearchParams& p, int attempt) {
  Minimum out;
  out.x = m.x;
  out.energy = m.energy;
  out.max_force = m.max_force;
  Vector mode;
  out.lowest_eigenvalue = lowest_eigenvalue(model, m.x, p, mode);
  bool positive = out.lowest_eigenvalue > p.saddle.eigenvalue_tol;
  if (positive && large(model, p)) {  // Cholesky of H − tol·I proves it whatever Lanczos missed
    LocalModel::Matrix h = model.hessian(m.x);
    h.diagonal().array() -= p.saddle.eigenvalue_tol;
    positive = Eigen::LLT<LocalModel::Matrix>(h).info() == Eigen::Success;
  }
  out.verified = m.converged && positive;
  out.attempt = attempt;
  return out;
}

// The catalogue record of a converged saddle search (connectivity filled in by the caller).
Saddle make_saddle(const SaddleOutcome& s) {
  return Saddle{.x = s.x,
                .energy = s.energy,
                .max_force = s.max_force,
                .negative_eigenvalue = s.lowest_eigenvalue,
                .second_eigenvalue = s.second_eigenvalue,
                .n_negative = s.n_negative,
                .verified = s.converged};
}

// Index of the known minimum equal to m, or -1.
int find_minimum(const LocalModel& model, const std::vector<Minimum>& minima, const Vector& x, double e,
                 const SearchParams& p) {
  (void)e;  // identity is geometric: see the note on cut-off kinks in event_search.hpp
  for (std::size_t i = 0; i < minima.size(); ++i)
    if (state_distance(model, minima[i].x, x) <= p.dedup_distance) return static_cast<int>(i);
  return -1;
}

// Whether a minimisation ended on the minimum m: within dedup_distance of it, or the same structure
// up to a relabelling of identical beads.
bool same_state(const LocalModel& model, const MinimizeOutcome& o, const Minimum& m, const SearchParams& p) {
  return state_distance(model, m.x, o.x) <= p.dedup_distance ||
         same_structure(model, Minimum{.x = o.x, .energy = o.energy}, m, p);
}

// The well's direction at one end of the band and the path frequency along it.
struct WellAxis {
  Vector out;        // unit vector from the band into the end's outer wall (away from the other end)
  double omega = 0;  // ω² = out·H·out at the minimum (0 if not positive)
};

// The direction of a well at the zero-point scale: the chord from the end minimum to the band's point
// one zero-point length ℓ = sqrt(ħ/ω) along the path, ω the path frequency along that chord (a fixed
// point, reached in a few steps from the first segment's chord). Why not the first segment's chord:
// in a glass the minimum-energy path keeps turning towards softer modes down to scales far below ℓ
// (its tangent is no normal mode even 2e-3 σ√m from the minimum), so the end chord, and with it the
// outward wall and E_qs, would depend on the band's spacing there without converging
// (docs/tunnelling.md, "The well's axis"). The chord never reaches past the band's top.
WellAxis well_axis(const LocalModel& model, const NebResult& path, bool front, double hbar) {
  const int m = static_cast<int>(path.images.size());
  const int end = front ? 0 : m - 1, step = front ? 1 : -1;
  const Vector& x0 = path.images[end];
  const double total = path.arc.back();
  auto dist = [&](int k) { return front ? path.arc[k] : total - path.arc[k]; };
  const double reach = std::max(dist(path.highest), dist(end + step));
  auto point = [&](double d) {  // the band's point at arc distance d from the end (linear between nodes)
    d = std::min(d, reach);
    int k = end;
    while (k + step != path.highest && k + 2 * step >= 0 && k + 2 * step < m && dist(k + step) < d) k += step;
    const double span = dist(k + step) - dist(k);
    const double f = span > 0 ? std::clamp((d - dist(k)) / span, 0.0, 1.0) : 1.0;
    return Vector(path.images[k] + f * (path.images[k + step] - path.images[k]));
  };
  const LocalModel::Matrix h = model.hessian(x0);
  WellAxis w;
  w.out = (x0 - path.images[end + step]).normalized();
  for (int it = 0; it < 20; ++it) {
    w.omega = std::sqrt(std::max(w.out.dot(h * w.out), 0.0));
    if (!(w.omega > 0.0)) break;
    const Vector next = (x0 - point(std::sqrt(hbar / w.omega))).normalized();
    const bool settled = (next - w.out).norm() < 1e-6;
    w.out = next;
    if (settled) break;
  }
  w.omega = std::sqrt(std::max(w.out.dot(h * w.out), 0.0));
  return w;
}

// V and dV/ds on the straight line past one end of the band: x(σ) = end + σ u (u the outward unit
// tangent), at σ = step, 2 step, ..., n step, stopping after the first node more than `wall` above
// V(end) (a wall the levels do not reach; the solver continues from there). The values are a
// running maximum from V(end), so the continuation never dips (a lower minimum out there would
// capture the levels: not this pair's).
void extend_end(const LocalModel& model, const Vector& end, const Vector& u, double step, int n, double wall,
                std::vector<double>& v, std::vector<double>& dv) {
  const double v0 = model.energy(end);
  double top = v0;
  for (int k = 1; k <= n && top - v0 <= wall; ++k) {
    Vector g;
    const double e = model.energy_gradient(end + (k * step) * u, g);
    if (e > top) {
      top = e;
      v.push_back(e), dv.push_back(g.dot(u));
    } else {
      v.push_back(top), dv.push_back(0.0);
    }
  }
}

// The two lowest levels of the band's 1D potential (schrodinger.hpp). The band ends at minima, but
// the wavefunctions reach past them: V there is the model's energy on the straight line along the
// well's axis (well_axis), out to 8 harmonic lengths sqrt(ħ/ω) (16 nodes) or to a wall higher than
// both the barrier and 25 ħω above the end (beyond, the solver's harmonic continuation from that
// wall, where the wavefunctions have decayed). e_qs_other: the band alone mirrored past its ends
// (the continuation's sensitivity).
PathLevels levels_along(const LocalModel& model, const NebResult& path, const WellAxis& wa, const WellAxis& wb,
                        double hbar) {
  const double omega_a = wa.omega, omega_b = wb.omega;
  const int m = static_cast<int>(path.images.size());
  const int n_ext = 16;
  const double top = *std::max_element(path.energy.begin(), path.energy.end());
  const double e_shift = path.energy[0] - model.energy(path.images[0]);  // band energies may be shifted
  // The outer potential past one end: nodes from the end outwards, as s increasing.
  auto outer = [&](int end, const Vector& u, double omega, bool front) {
    const double step = (omega > 0.0 ? 8.0 * std::sqrt(hbar / omega) : 0.25 * path.arc.back()) / n_ext;
    std::vector<double> v, dv;
    extend_end(model, path.images[end], u, step, n_ext, std::max(top - path.energy[end], 25.0 * hbar * omega), v, dv);
    std::vector<double> s{path.arc[end]}, vs{path.energy[end]}, dvs{path.slope[end]};
    for (std::size_t k = 0; k < v.size(); ++k)  // dV/ds = ±dV/dσ: s runs outward at the back, inward at the front
      s.push_back(path.arc[end] + (front ? -1.0 : 1.0) * (k + 1) * step), vs.push_back(v[k] + e_shift),
          dvs.push_back(front ? -dv[k] : dv[k]);
    if (front)
      std::reverse(s.begin(), s.end()), std::reverse(vs.begin(), vs.end()), std::reverse(dvs.begin(), dvs.end());
    return PathPotential(s, vs, dvs);
  };
  const PathPotential before = outer(0, wa.out, omega_a, true), after = outer(m - 1, wb.out, omega_b, false);
  const PathPotential band(path.arc, path.energy, path.slope);
  return path_levels(band, omega_a, omega_b, hbar, PathContinuation::extended, {}, PathOuter{&before, &after});
}

}  // namespace

bool same_structure(const LocalModel& model, const Minimum& a, const Minimum& b, const SearchParams& p) {
  if (std::abs(a.energy - b.energy) > p.dedup_energy) return false;
  const int n = model.n_mobile();
  const auto xa = model.positions(a.x), xb = model.positions(b.x);
  const LocalConfig& c = model.config();
  if (model.free_cluster()) {
    // Each bead's class: the first bead identical to it. One sorted distance list per class pair.
    std::vector<int> cls(n);
    for (int i = 0; i < n; ++i) {
      cls[i] = i;
      for (int j = 0; j < i && cls[i] == i; ++j)
        if (identical_beads(c, i, j)) cls[i] = cls[j];
    }
    std::map<std::pair<int, int>, std::pair<std::vector<double>, std::vector<double>>> d;
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j) {
        auto& lists = d[std::minmax(cls[i], cls[j])];
        lists.first.push_back((xa[i] - xa[j]).norm());
        lists.second.push_back((xb[i] - xb[j]).norm());
      }
    for (auto& [kind, lists] : d) {
      auto& [da, db] = lists;
      std::sort(da.begin(), da.end());
      std::sort(db.begin(), db.end());
      for (std::size_t k = 0; k < da.size(); ++k)
        if (std::abs(da[k] - db[k]) > p.dedup_distance) return false;
    }
    return true;
  }
  for (int i = 0; i < n; ++i) {
    double best = HUGE_VAL;
    for (int j = 0; j < n; ++j)
      if (identical_beads(c, i, j)) best = std::min(best, c.box.minimum_image(Vec3(xb[j] - xa[i])).norm());
    if (best > p.dedup_distance) return false;
  }
  return true;
}

std::array<MinimizeOutcome, 2> fall_off_saddle(const LocalModel& model, const SearchParams& p, const SaddleOutcome& s) {
  // A saddle converged before its first Lanczos step has no mode estimate: take the exact one.
  const Vector mode = s.mode.size() == s.x.size() ? s.mode : Vector(spectrum(model, s.x).vectors.col(0));
  const Vector step = p.push_over / LocalModel::max_bead_norm(mode) * mode;
  return {minimize_local(model, s.x - step, p.minimizer), minimize_local(model, s.x + step, p.minimizer)};
}

TlsPair analyse_pair(const LocalModel& model, const Minimum& a, const Minimum& b_in, const SearchParams& p, int index_a,
                     int index_b, const std::vector<Vector>& via, double zpe_a) {
  TlsPair t;
  t.a = index_a;
  t.b = index_b;
  const Vector b = a.x + model.displacement(a.x, align_to(model, a.x, b_in.x));
  t.energy_a = a.energy;
  t.energy_b = b_in.energy;
  t.asymmetry = t.energy_b - t.energy_a;
  using Clock = std::chrono::steady_clock;
  auto since = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  auto t0 = Clock::now();
  // The band, its ends refined for the wells' levels (neb.hpp, refine_band_ends).
  t.path = refine_band_ends(model, nudged_elastic_band(model, a.x, b, p.neb, via), p.neb);
  t.seconds.neb = since(t0);
  const NebResult& path = t.path;
  t.intermediate_minima = path.n_intermediate_minima > 0;
  // Refine the climbing image to a first-order saddle (its mode is not used here).
  SaddleParams refine = p.saddle;
  refine.exact_mode = false;
  const SaddleOutcome s = converge_saddle(model, path.images[path.highest], refine);
  t.saddle = make_saddle(s);
  // A verified saddle is this pair's only if its unstable mode leads to A and B: a band can end its
  // climb on a saddle of a neighbouring event (a minimum off the band, or a wrong turn of the climber).
  if (t.saddle.verified) {
    const auto t_connect = Clock::now();
    const auto sides = fall_off_saddle(model, p, s);
    t.seconds.connect = since(t_connect);
    const Minimum mb{.x = b, .energy = b_in.energy};
    const auto lands = [&](int k, const Minimum& m) { return sides[k].converged && same_state(model, sides[k], m, p); };
    t.saddle_connects = (lands(0, a) && lands(1, mb)) || (lands(0, mb) && lands(1, a));
  }
  const bool joins = t.saddle_connects && !t.intermediate_minima;
  t.saddle.minus = joins ? index_a : -1;
  t.saddle.plus = joins ? index_b : -1;
  // The refined saddle is exact where the band is only within its tolerance of the path (a band
  // image off the path can even lie above the saddle); it counts if it stayed near the band's top.
  double top = path.energy[path.highest];
  if (s.converged && LocalModel::max_bead_norm(model.displacement(path.images[path.highest], s.x)) < 0.5)
    top = s.energy;
  t.barrier = top - t.energy_a;
  // Displacement statistics.
  t.displacement = b - a.x;
  double sum2 = 0.0, sum4 = 0.0, moving2 = 0.0;
  t.n_moving = 0;
  for (int i = 0; i < model.n_mobile(); ++i) {
    const double d2 = t.displacement.segment<3>(3 * i).squaredNorm();
    sum2 += d2;
    sum4 += d2 * d2;
    if (d2 > p.moving_threshold * p.moving_threshold) {
      ++t.n_moving;
      moving2 += d2;
    }
  }
  t.d_l = t.n_moving > 0 ? std::sqrt(moving2 / t.n_moving) : 0.0;
  t.participation = sum4 > 0.0 ? sum2 * sum2 / sum4 : 0.0;
  t.distance = std::sqrt(sum2);
  t.path_length = path.arc.back();
  // Tunnelling splitting along the band, with each well's axis at the zero-point scale.
  const double hbar = hbar_reduced(p.units);
  const WellAxis axis_a = well_axis(model, path, true, hbar), axis_b = well_axis(model, path, false, hbar);
  const PathPotential v(path.arc, path.energy, path.slope);
  const double omega_a = axis_a.omega, omega_b = axis_b.omega;
  t.splitting = wkb_splitting(v, omega_a, omega_b, p.units);
  // Quantum levels along the band continued past its ends, the zero-point change of all modes, and
  // the class.
  t0 = Clock::now();
  t.levels = levels_along(model, path, axis_a, axis_b, hbar);
  t.seconds.levels = since(t0);
  t0 = Clock::now();
  if (std::isnan(zpe_a)) zpe_a = zero_point_energy(model, a.x, hbar);
  t.delta_zpe = zero_point_energy(model, b, hbar) - zpe_a;
  t.seconds.zpe = since(t0);
  t.adjacent = t.saddle.verified && joins;
  t.cls = classify(t.adjacent, t.levels.e_qs, t.levels.levels_below_barrier, p.max_splitting);
  return t;
}

double zero_point_energy(const LocalModel& model, const Vector& x, double hbar) {
  const Eigen::SelfAdjointEigenSolver<LocalModel::Matrix> es(model.hessian(x), Eigen::EigenvaluesOnly);
  double sum = 0.0;
  for (Eigen::Index k = 0; k < es.eigenvalues().size(); ++k) sum += std::sqrt(std::max(es.eigenvalues()[k], 0.0));
  return 0.5 * hbar * sum;
}

namespace {

// The pair of the two lowest verified minima (PairRule::lowest).
void lowest_pair(const LocalModel& model, const SearchParams& p, DomainSearch& s) {
  // The pair: the two lowest verified minima.
  std::vector<int> order;
  for (int i = 0; i < static_cast<int>(s.minima.size()); ++i)
    if (s.minima[i].verified) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](int i, int j) { return s.minima[i].energy < s.minima[j].energy; });
  // A = the lowest; B = the lowest that is a different structure from A (not a relabelling of
  // identical beads), taken in the copy closest to A (in a cluster, permutational copies of B differ
  // in how far they are from A; the closest one is the one a single event reaches).
  int ia = -1, ib = -1;
  if (!order.empty()) ia = order[0];
  for (std::size_t k = 1; k < order.size() && ib < 0; ++k)
    if (!same_structure(model, s.minima[ia], s.minima[order[k]], p)) ib = order[k];
  if (ib >= 0) {
    std::vector<int> copies_a, copies_b;
    for (int k : order) {
      if (same_structure(model, s.minima[ia], s.minima[k], p)) copies_a.push_back(k);
      if (same_structure(model, s.minima[ib], s.minima[k], p)) copies_b.push_back(k);
    }
    double best = HUGE_VAL;
    for (int i : copies_a)
      for (int j : copies_b) {
        const double d = state_distance(model, s.minima[i].x, s.minima[j].x);
        if (d < best) {
          best = d;
          ia = i;
          ib = j;
        }
      }
  }
  if (ib >= 0) {
    // Seed the band through the shortest chain of recorded events from A to B (breadth-first over
    // the saddles, in the order they were found: deterministic).
    std::vector<int> prev_min(s.minima.size(), -1), prev_sad(s.minima.size(), -1);
    std::vector<int> queue{ia};
    prev_min[ia] = ia;
    for (std::size_t h = 0; h < queue.size() && prev_min[ib] < 0; ++h) {
      const int u = queue[h];
      for (int k = 0; k < static_cast<int>(s.saddles.size()); ++k) {
        const Saddle& q = s.saddles[k];
        if (!q.verified || q.minus < 0 || q.plus < 0) continue;
        const int w = q.minus == u ? q.plus : (q.plus == u ? q.minus : -1);
        if (w < 0 || prev_min[w] >= 0) continue;
        prev_min[w] = u;
        prev_sad[w] = k;
        queue.push_back(w);
      }
    }
    std::vector<Vector> via;
    if (prev_min[ib] >= 0)
      for (int w = ib; w != ia; w = prev_min[w]) {
        if (w != ib) via.push_back(s.minima[w].x);
        via.push_back(s.saddles[prev_sad[w]].x);
      }
    std::reverse(via.begin(), via.end());
    s.pairs.push_back(analyse_pair(model, s.minima[ia], s.minima[ib], p, ia, ib, via));
    s.pairs.back().involves_occupied = ia == 0;
  }
}

// Every minimum joined to the starting minimum O by one verified saddle (PairRule::occupied), in
// the order the minima were found; the NEB is seeded through the lowest such saddle.
void occupied_pairs(const LocalModel& model, const SearchParams& p, DomainSearch& s) {
  if (s.minima.empty() || !s.minima[0].verified) return;
  std::vector<int> via_saddle(s.minima.size(), -1);
  for (int k = 0; k < static_cast<int>(s.saddles.size()); ++k) {
    const Saddle& q = s.saddles[k];
    if (!q.verified || (q.minus == 0) == (q.plus == 0)) continue;  // not joining O to another minimum
    const int b = q.minus == 0 ? q.plus : q.minus;
    if (b < 0 || !s.minima[b].verified || same_structure(model, s.minima[0], s.minima[b], p)) continue;
    if (via_saddle[b] < 0 || q.energy < s.saddles[via_saddle[b]].energy) via_saddle[b] = k;
  }
  const double zpe_o = zero_point_energy(model, s.minima[0].x, hbar_reduced(p.units));
  for (int b = 1; b < static_cast<int>(s.minima.size()); ++b) {
    if (via_saddle[b] < 0) continue;
    s.pairs.push_back(analyse_pair(model, s.minima[0], s.minima[b], p, 0, b, {s.saddles[via_saddle[b]].x}, zpe_o));
    s.pairs.back().involves_occupied = true;
  }
}

long pair_energy_calls(const DomainSearch& s) {
  long n = 0;
  for (const TlsPair& t : s.pairs) n += t.path.energy_calls;
  return n;
}

}  // namespace

double missing_probability(const std::vector<Minimum>& minima, int attempts, double window, int* singletons) {
  int n1 = 0;
  for (std::size_t i = 1; i < minima.size(); ++i)
    if (minima[i].hits == 1 && std::abs(minima[i].energy - minima[0].energy) <= window) ++n1;
  if (singletons) *singletons = n1;
  return attempts > 0 ? static_cast<double>(n1) / attempts : std::numeric_limits<double>::quiet_NaN();
}

namespace {

// 1. Start minimum: cycle over verified minima within the window of the lowest, lowest first
//    (only O with start_from_occupied). −1 when there is none.
int start_minimum(const DomainSearch& out, const SearchParams& p, int attempt) {
  std::vector<int> window;
  double e_low = HUGE_VAL;
  for (const auto& m : out.minima)
    if (m.verified) e_low = std::min(e_low, m.energy);
  for (int i = 0; i < static_cast<int>(out.minima.size()); ++i)
    if (out.minima[i].verified && out.minima[i].energy <= e_low + p.explore_window) window.push_back(i);
  if (p.start_from_occupied) window.assign(out.minima[0].verified ? 1 : 0, 0);
  if (window.empty()) return -1;
  std::stable_sort(window.begin(), window.end(),
                   [&](int i, int j) { return out.minima[i].energy < out.minima[j].energy; });
  return window[attempt % window.size()];
}

// 2'-3'. Eigenvector following from the minimum x0 along ± one of its softest modes (`softest`,
//        computed on first use), all the way to a saddle (it may stay a higher mode than the lowest
//        until the curvature turns). Nothing when the minimum has no such mode.
std::optional<SaddleOutcome> follow_soft_mode(const LocalModel& model, const SearchParams& p, const Vector& x0,
                                              LocalModel::Matrix& softest, int visit) {
  if (softest.size() == 0) {
    const Spectrum sp = spectrum(model, x0, true);  // rigid-body modes removed for a free cluster
    softest = sp.vectors.leftCols(std::min<Eigen::Index>(p.follow_modes, sp.vectors.cols()));
  }
  if (visit / 2 >= softest.cols()) return std::nullopt;
  const Vector v = (visit % 2 == 0 ? 1.0 : -1.0) * softest.col(visit / 2);
  SaddleParams sp = p.saddle;
  sp.dense_limit = std::numeric_limits<int>::max();  // the dense path tracks a higher mode
  sp.track_modes = static_cast<int>(v.size());
  sp.track_always = true;
  sp.max_convex_steps = sp.max_steps;
  return converge_saddle(model, x0 + p.push_step / LocalModel::max_bead_norm(v) * v, sp, v);
}

// 2. The push of a local cluster around a random mobile bead (no rigid-body part for a free cluster).
Vector cluster_push(const LocalModel& model, const SearchParams& p, std::uint64_t seed, std::uint64_t domain_key,
                    int attempt, const Vector& x0) {
  const int nm = model.n_mobile();
  const auto u = uniform4(seed, Stream::event_search, domain_key, attempt, 0);
  const int c = std::min(nm - 1, static_cast<int>(u[0] * nm));
  Vector push = Vector::Zero(model.n_dof());
  std::uint64_t k = 0;
  const Vec3 xc = x0.segment<3>(3 * c);
  for (int i = 0; i < nm; ++i) {
    const bool near = model.config().box.minimum_image(Vec3(x0.segment<3>(3 * i) - xc)).norm() <= p.push_radius;
    for (int a = 0; a < 3; ++a, ++k) {
      const double z =
          gaussian_draw(seed, Stream::event_search, domain_key, attempt, k);  // drawn for every bead: keys stay fixed
      if (near) push[3 * i + a] = z;
    }
  }
  if (model.free_cluster()) {
    const LocalModel::Matrix q = model.rigid_body_complement(x0);
    push = q * (q.transpose() * push);
  }
  return push;
}

// Leave the basin: step x along dir, relax across it, until the lowest eigenvalue (its mode in
// `mode`) is negative. False if it stays positive for max_push_steps.
bool leave_basin(const LocalModel& model, const SearchParams& p, const Vector& dir, Vector& x, Vector& mode) {
  for (int st = 0; st < p.max_push_steps; ++st) {
    if (lowest_eigenvalue(model, x, p, mode) < p.leave_basin_eigenvalue) return true;
    x += p.push_step / LocalModel::max_bead_norm(dir) * dir;
    for (int r = 0; r < 3; ++r) {  // a few steepest-descent steps across dir
      Vector g;
      model.energy_gradient(x, g);
      Vector fperp = -(g - g.dot(dir) * dir);
      const double fm = LocalModel::max_bead_norm(fperp);
      if (fm == 0.0) break;
      x += std::min(0.01, 0.5 * p.push_step / fm) * fperp;
    }
  }
  return false;
}

// 2-3. Push a local cluster out of the basin of x0 and climb to the saddle. Nothing when the push
//      is empty or does not leave the basin.
std::optional<SaddleOutcome> push_and_climb(const LocalModel& model, const SearchParams& p, std::uint64_t seed,
                                            std::uint64_t domain_key, int attempt, const Vector& x0) {
  const Vector push = cluster_push(model, p, seed, domain_key, attempt, x0);
  if (push.norm() == 0.0) return std::nullopt;
  const Vector dir = push.normalized();
  Vector x = x0 + p.push_size * dir;
  Vector mode = dir;
  if (!leave_basin(model, p, dir, x, mode)) return std::nullopt;
  // 3. Climb to the saddle.
  return converge_saddle(model, x, p.saddle, large(model, p) ? mode : dir);
}

// 4-5. Push over the saddle s both ways and minimise (new minima are added, hits counted), then
//      record the saddle unless already known. True if a new minimum was found.
bool record_event(const LocalModel& model, const SearchParams& p, const SaddleOutcome& s, int from, int attempt,
                  DomainSearch& out) {
  const auto sides = fall_off_saddle(model, p, s);
  int side[2] = {-1, -1};
  bool new_min = false;
  for (int sgn = 0; sgn < 2; ++sgn) {
    const MinimizeOutcome& mo = sides[sgn];
    if (!mo.converged) continue;
    int idx = find_minimum(model, out.minima, mo.x, mo.energy, p);
    if (idx < 0) {
      out.minima.push_back(make_minimum(model, mo, p, attempt));
      idx = static_cast<int>(out.minima.size()) - 1;
      new_min = true;
    }
    side[sgn] = idx;
  }
  for (int sgn = 0; sgn < 2; ++sgn)  // each minimum this attempt reached, once, its start excepted
    if (side[sgn] >= 0 && side[sgn] != from && (sgn == 0 || side[1] != side[0])) ++out.minima[side[sgn]].hits;
  for (const auto& q : out.saddles)
    if (state_distance(model, q.x, s.x) <= p.dedup_distance) return new_min;
  Saddle q = make_saddle(s);
  q.minus = side[0];
  q.plus = side[1];
  q.from = from;
  q.attempt = attempt;
  out.saddles.push_back(std::move(q));
  return new_min;
}

}  // namespace

DomainSearch search_domain(const LocalModel& model, const SearchParams& p, std::uint64_t seed,
                           std::uint64_t domain_key) {
  const ScopedLogEvent event(LogEvent::domain_search);
  const auto t0 = std::chrono::steady_clock::now();
  const long e0 = model.n_energy_calls(), h0 = model.n_hessian_calls();
  DomainSearch out;
  // The starting minimum.
  out.minima.push_back(make_minimum(model, minimize_local(model, model.initial_coordinates(), p.minimizer), p, -1));

  int stale = 0;
  std::vector<int> visits;                  // attempts made from each minimum so far
  std::vector<LocalModel::Matrix> softest;  // its follow_modes softest Hessian modes (on first use)
  const double min_attempts = p.target_missing > 0.0 ? std::ceil(1.0 / p.target_missing) : HUGE_VAL;
  for (int attempt = 0; attempt < p.max_attempts && stale < p.stop_after_stale; ++attempt) {
    if (attempt >= min_attempts && missing_probability(out.minima, attempt, p.target_window) <= p.target_missing)
      break;  // converged: the next attempt would find a new minimum in the window with chance <= target
    const int from = start_minimum(out, p, attempt);
    if (from < 0) break;  // no verified minimum to start from: no attempt is made
    out.attempts = attempt + 1;
    heartbeat("search attempt", attempt, "minima found", static_cast<double>(out.minima.size()));
    ++stale;
    const Vector x0 = out.minima[from].x;
    visits.resize(out.minima.size(), 0);
    softest.resize(out.minima.size());
    const int visit = visits[from]++;

    const std::optional<SaddleOutcome> s = visit < 2 * p.follow_modes
                                               ? follow_soft_mode(model, p, x0, softest[from], visit)
                                               : push_and_climb(model, p, seed, domain_key, attempt, x0);
    if (!s) {  // no climb: the push never left the basin (or was empty), or no soft mode was left
      ++out.failed_exits;
      continue;
    }
    if (!s->converged) {
      ++out.failed_climbs;
      continue;
    }
    ++out.events;
    if (record_event(model, p, *s, from, attempt, out)) stale = 0;
  }

  if (p.analyse_pair) {
    if (p.pairs == SearchParams::PairRule::occupied) occupied_pairs(model, p, out);
    else lowest_pair(model, p, out);
  }
  out.missing = missing_probability(out.minima, out.attempts, p.target_window, &out.singletons);
  out.energy_calls = model.n_energy_calls() - e0 + pair_energy_calls(out);
  out.hessian_calls = model.n_hessian_calls() - h0;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace tlsmap
