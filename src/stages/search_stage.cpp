// The `tlsmap search` stage: domains → work queue → serial kernel → /tls catalogue (see
// include/tlsmap/stages/search_stage.hpp for the design, docs/file-format.md for the file layout).
//
// The adapter search_one_domain maps a LocalCopy to the kernel's LocalConfig and each pair of its
// DomainSearch (the pairs adjacent to the occupied state) to a catalogue row (catalogue.hpp),
// adding the whole-sample energy offset and the direct dipole. At each checkpoint the rows of all
// finished domains are merged across overlapping domains, new rows are relaxed with the whole
// sample free (relax.hpp), and /tls and /search are rewritten.
#include "tlsmap/stages/search_stage.hpp"

#include "tlsmap/core/bytes.hpp"
#include "tlsmap/core/error.hpp"
#include "tlsmap/core/heartbeat.hpp"
#include "tlsmap/core/progress.hpp"
#include "tlsmap/core/reduction.hpp"
#include "tlsmap/couplings/active_coulomb.hpp"
#include "tlsmap/io/h5md.hpp"
#include "tlsmap/io/input.hpp"
#include "tlsmap/io/units.hpp"
#include "tlsmap/md/pair_potential.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/parallel/domains.hpp"
#include "tlsmap/parallel/gather.hpp"
#include "tlsmap/parallel/work_queue.hpp"
#include "tlsmap/search/event_search.hpp"
#include "tlsmap/search/local_model.hpp"
#include "tlsmap/search/relax.hpp"
#include "tlsmap/stages/active_charges.hpp"
#include "tlsmap/stages/fingerprint.hpp"
#include "tlsmap/stages/md_pairs_stage.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <type_traits>

namespace tlsmap {

// ---- byte form of an outcome ------------------------------------------------------------------

namespace {
// An outcome's fixed-size fields, in their byte order: the one list serialize and
// deserialize_outcome both walk (f is called on each field in turn).
template <class Outcome, class F>
void for_each_field(Outcome& o, F&& f) {
  f(o.domain), f(o.status), f(o.error), f(o.center);
  f(o.n_mobile), f(o.n_frozen), f(o.n_attempts), f(o.n_events), f(o.n_failed_exits), f(o.n_failed_climbs);
  f(o.seconds);
  f(o.n_singletons), f(o.missing);
  f(o.minima_energy), f(o.minima_verified);
  f(o.saddle_energy), f(o.saddle_verified), f(o.saddle_minima);
  f(o.pair_seconds);
}
}  // namespace

std::vector<char> serialize(const DomainOutcome& o) {
  ByteWriter w;
  for_each_field(o, [&](const auto& field) { w.put(field); });
  w.put<std::uint64_t>(o.pairs.size());
  for (const TlsRow& row : o.pairs) put_row(w, row);
  return w.take();
}

DomainOutcome deserialize_outcome(const char* data, std::size_t size) {
  ByteReader r(data, size);
  DomainOutcome o;
  for_each_field(o, [&](auto& field) { r.get(field); });
  const auto n = r.take<std::uint64_t>();
  for (std::uint64_t k = 0; k < n; ++k) o.pairs.push_back(get_row(r));
  if (!r.at_end()) throw Error("corrupt domain result (trailing bytes)");
  return o;
}

// ---- the kernel adapter -----------------------------------------------------------------------

namespace {

// One catalogue row from a pair of the kernel (whole-sample energies: domain energies + offset).
TlsRow catalogue_row(const LocalCopy& copy, const LocalModel& model, const DomainSearch& s, const TlsPair& p,
                     double offset, std::int64_t domain, double epsilon_kelvin) {
  TlsRow r;
  r.domain = domain;
  r.center = copy.center;
  r.radius = copy.radius;
  r.method = "domain";
  r.cls = p.cls;
  r.involves_occupied = p.involves_occupied ? 1 : 0;
  r.adjacent = p.adjacent ? 1 : 0;
  r.energy_a = p.energy_a + offset;
  r.energy_b = p.energy_b + offset;
  r.asymmetry = p.asymmetry;
  r.barrier = p.barrier;
  r.delta_zpe = p.delta_zpe;
  r.e_qs = p.levels.e_qs;
  r.e_qs_mirror = p.levels.e_qs_other;
  r.e_qs_kelvin = p.levels.e_qs * epsilon_kelvin;
  r.splitting = p.splitting.delta0;
  r.splitting_kelvin = p.splitting.delta0_kelvin;
  r.over_barrier = p.splitting.over_barrier ? 1 : 0;
  r.d_l = p.d_l;
  r.n_moving = p.n_moving;
  r.participation = p.participation;
  r.path_length = p.path_length;
  r.distance = p.distance;
  r.intermediate_minima = p.intermediate_minima ? std::max(1, p.path.n_intermediate_minima) : 0;
  r.saddle_verified = p.saddle.verified ? 1 : 0;
  r.saddle_connects = p.saddle_connects ? 1 : 0;
  r.neb_converged = p.path.converged ? 1 : 0;
  for (double e : p.path.energy) r.profile_energy.push_back(e + offset);
  r.profile_coordinate = p.path.arc;
  // μ_direct = Σ q_i d_i with d_i = x_i^B − x_i^A (minimum image, the kernel's displacement).
  for (int i = 0; i < copy.n_mobile; ++i)
    r.mu_direct += copy.charge[i] * Vec3(p.displacement[3 * i], p.displacement[3 * i + 1], p.displacement[3 * i + 2]);
  r.mobile_id.assign(copy.id.begin(), copy.id.begin() + copy.n_mobile);
  r.position_a = model.positions(s.minima[p.a].x);
  r.position_b = model.positions(s.minima[p.b].x);
  for (auto* v : {&r.position_a, &r.position_b})
    for (Vec3& x : *v) copy.box.wrap(x);
  return r;
}

}  // namespace

LocalConfig local_config(const LocalCopy& copy, const LJTable& table, const LocalPhysics& physics) {
  LocalConfig c{copy.box,      table,        copy.id,      copy.species, copy.pos, copy.n_mobile,
                copy.diameter, copy.partner, physics.bond, {},           {},       {}};
  if (physics.coulomb.on()) {
    if (physics.sample_force == nullptr) throw Error("local_config: active charges need the sample's forces");
    c.charge = copy.charge, c.coulomb = physics.coulomb;
    for (int k = 0; k < copy.n_mobile; ++k) c.sample_force.push_back((*physics.sample_force)[copy.id[k] - 1]);
  }
  return c;
}

DomainOutcome search_one_domain(const LocalCopy& copy, const LJTable& table, const LocalPhysics& physics,
                                const SearchParams& params, std::uint64_t seed, std::int64_t domain, double e_sample) {
  DomainOutcome o;
  o.domain = domain;
  o.status = 1;
  o.center = copy.center;
  o.n_mobile = copy.n_mobile;
  o.n_frozen = copy.size() - copy.n_mobile;
  if (copy.n_mobile < 2) return o;  // nothing to search (an almost empty region)

  LocalModel model(local_config(copy, table, physics));
  // The kernel's energy omits frozen–frozen pairs (a constant): shift to whole-sample totals.
  const double offset = e_sample - model.energy(model.initial_coordinates());
  const DomainSearch s = search_domain(model, params, seed, static_cast<std::uint64_t>(domain));

  o.n_attempts = s.attempts;
  o.n_events = s.events;
  o.n_failed_exits = s.failed_exits;
  o.n_failed_climbs = s.failed_climbs;
  o.n_singletons = s.singletons;
  o.missing = s.missing;
  o.seconds = s.seconds;
  for (const Minimum& m : s.minima) {
    o.minima_energy.push_back(m.energy + offset);
    o.minima_verified.push_back(m.verified ? 1 : 0);
  }
  for (const Saddle& sd : s.saddles) {
    o.saddle_energy.push_back(sd.energy + offset);
    o.saddle_verified.push_back(sd.verified ? 1 : 0);
    o.saddle_minima.push_back(sd.minus);
    o.saddle_minima.push_back(sd.plus);
  }
  for (const TlsPair& p : s.pairs) {
    o.pairs.push_back(catalogue_row(copy, model, s, p, offset, domain, params.units.epsilon_kelvin));
    o.pair_seconds[0] += p.seconds.neb, o.pair_seconds[1] += p.seconds.levels, o.pair_seconds[2] += p.seconds.zpe;
    o.pair_seconds[3] += p.seconds.connect;
  }
  return o;
}

// ---- settings ---------------------------------------------------------------------------------

namespace {

struct SearchSettings {
  double xi = 5.5, spacing = 5.5, shell = 5.0;
  std::int64_t max_domains = 0, checkpoint_every = 32;
  bool skip_failed = false;
  double heartbeat = 60.0;    // run.heartbeat (s)
  bool relax = true;          // relax both states of every row with the whole sample free
  double relax_radius = 0.0;  // > 0: ... with the beads within this distance of the row's mobile beads free
  double skin = 0.3;
  Int3 proc_grid = {0, 0, 0};
  std::uint64_t seed = 0;
  std::string model;
  bool active = false;  // charge.mode = "active": the packing's charges act (bonded models)
  SearchParams kernel;

  static SearchSettings from_input(const Input& in);
};

SearchSettings SearchSettings::from_input(const Input& in) {
  SearchSettings s;
  s.xi = in.get_double("search.xi");
  s.spacing = in.has("search.spacing") ? in.get_double("search.spacing") : s.xi;
  s.model = in.get_string("system.model");
  const double two_rc = 2.0 * model_by_name(s.model).max_cutoff();  // diameters: checked again per sample
  s.shell = in.has("search.shell") ? in.get_double("search.shell") : two_rc;
  if (s.shell < two_rc)
    in.fail("search.shell", "must be at least 2 r_c = " + std::to_string(two_rc) +
                                " (sigma) of the model, so every bead a mobile bead can reach is present");
  s.max_domains = in.get_int("search.max_domains");
  s.checkpoint_every = in.get_int("search.checkpoint_every");
  s.skip_failed = in.get_string("search.on_error") == "skip";
  s.heartbeat = in.get_double("run.heartbeat");
  s.relax = in.get_bool("search.relax");
  s.relax_radius = in.get_double("search.relax_radius");
  s.active = charges_act(in);
  if (s.active && s.relax && s.relax_radius > 0.0)
    in.fail("search.relax_radius",
            "must be 0 with active charges: the region mode would leave out charges whose "
            "field acts on the region");
  s.skin = in.get_double("system.skin");
  s.proc_grid = in.get_int3("system.proc_grid");
  s.seed = static_cast<std::uint64_t>(in.get_int("run.seed"));
  SearchParams& k = s.kernel;
  k.minimizer.f_tol = in.get_double("minimize.f_tol");
  k.max_attempts = static_cast<int>(in.get_int("search.max_attempts"));
  k.stop_after_stale = static_cast<int>(in.get_int("search.stop_after_stale"));
  k.target_missing = in.get_double("search.target_missing");
  k.target_window = in.get_double("search.target_window");
  k.dedup_distance = in.get_double("search.dedup_distance");
  k.dedup_energy = in.get_double("search.dedup_energy");
  k.follow_modes = static_cast<int>(in.get_int("search.follow_modes"));
  k.neb = neb_params_from(in);
  k.units = PhysicalUnits::from_input(in);
  k.pairs = SearchParams::PairRule::occupied;
  k.start_from_occupied = in.get_string("search.start_from") == "occupied";
  k.max_splitting = max_splitting_from(in);
  return s;
}

std::string fingerprint(const SearchSettings& s, const Box& box, const GlobalBeads& g,
                        const std::optional<CoulombParams>& coulomb) {
  Fingerprint f;
  for (const Vec3& x : g.pos) f.add(x[0]), f.add(x[1]), f.add(x[2]);
  f.add_vec(g.species), f.add_vec(g.charge), f.add_vec(g.diameter), f.add_vec(g.partner);
  for (int d = 0; d < 3; ++d) f.add(box.lo[d]), f.add(box.len[d]);
  f.add(s.xi), f.add(s.spacing), f.add(s.shell), f.add(s.seed), f.add(s.relax), f.add(s.relax_radius);
  f.add_string(s.model);
  f.add(s.active);
  if (coulomb) f.add(coulomb->accuracy), f.add(coulomb->cutoff), f.add(coulomb->epsilon), f.add(int(coulomb->solver));
  const SearchParams& k = s.kernel;
  f.add(k.minimizer.f_tol), f.add(k.max_attempts), f.add(k.stop_after_stale), f.add(k.dedup_distance);
  f.add(k.dedup_energy), f.add(k.neb.n_images), f.add(k.neb.spring), f.add(k.neb.f_tol), f.add(k.neb.max_iter);
  f.add(k.neb.end_levels);
  f.add(int(k.neb.optimizer));
  f.add(k.units.sigma_angstrom), f.add(k.units.epsilon_kelvin), f.add(k.units.mass_amu);
  f.add(k.follow_modes), f.add(k.start_from_occupied), f.add(k.max_splitting);
  f.add(k.target_missing), f.add(k.target_window);
  f.add_string(tls_schema_signature());
  return f.hex();
}

// ---- merging rows across overlapping domains --------------------------------------------------

// A row's displacement d_i = x_i^B − x_i^A (minimum image) by bead id, and its moving beads.
struct Rearrangement {
  std::map<std::int64_t, Vec3> d;
  std::vector<std::int64_t> moving;  // ids with |d_i| > moving_threshold, ascending
  double off_center = 0.0;           // distance of the moving beads' centroid from the domain centre (σ)
};

Rearrangement rearrangement(const TlsRow& r, const Box& box, double moving_threshold) {
  Rearrangement out;
  Vec3 centroid = Vec3::Zero();
  for (std::size_t k = 0; k < r.mobile_id.size(); ++k) {
    const Vec3 d = box.minimum_image(Vec3(r.position_b[k] - r.position_a[k]));
    out.d[r.mobile_id[k]] = d;
    if (d.norm() > moving_threshold) {
      out.moving.push_back(r.mobile_id[k]);
      centroid += box.minimum_image(Vec3(r.position_a[k] - r.center));
    }
  }
  std::sort(out.moving.begin(), out.moving.end());
  if (!out.moving.empty()) out.off_center = (centroid / double(out.moving.size())).norm();
  return out;
}

// The same rearrangement: the same moving beads, and no bead of either mobile set displaced
// differently by more than dedup_distance (a bead outside a row's mobile set did not move in it).
bool same_rearrangement(const Rearrangement& a, const Rearrangement& b, double dedup_distance) {
  if (a.moving.empty() || a.moving != b.moving) return false;
  auto displaced = [](const Rearrangement& r, std::int64_t id) {
    const auto it = r.d.find(id);
    return it == r.d.end() ? Vec3(Vec3::Zero()) : it->second;
  };
  for (const auto* r : {&a, &b})
    for (const auto& [id, d] : r->d)
      if ((displaced(a, id) - displaced(b, id)).norm() > dedup_distance) return false;
  return true;
}

// The catalogue: every domain's rows in domain order, copies of one rearrangement merged into one
// row — the copy whose moving beads sit closest to its domain's centre (least touched by the frozen
// shell; the lower domain on a tie). row_of[d][k] is the catalogue row of domain d's k-th pair.
struct Merged {
  std::vector<TlsRow> rows;
  std::vector<std::pair<std::int64_t, int>> source;  // per row: (domain, pair index) it was taken from
  std::map<std::int64_t, std::vector<std::int64_t>> row_of;
  std::int64_t n_merged = 0;
};

Merged merge_rows(const std::map<std::int64_t, DomainOutcome>& done, const Box& box, const SearchParams& k) {
  Merged m;
  std::vector<Rearrangement> kept;
  for (const auto& [d, o] : done)
    for (int j = 0; j < static_cast<int>(o.pairs.size()); ++j) {
      const Rearrangement r = rearrangement(o.pairs[j], box, k.moving_threshold);
      std::int64_t at = -1;
      for (std::size_t q = 0; q < kept.size() && at < 0; ++q)
        if (m.rows[q].involves_occupied == o.pairs[j].involves_occupied &&
            same_rearrangement(kept[q], r, k.dedup_distance))
          at = static_cast<std::int64_t>(q);
      if (at < 0) {
        m.rows.push_back(o.pairs[j]);
        m.rows.back().n_merged = 0;
        m.source.emplace_back(d, j);
        kept.push_back(r);
        at = static_cast<std::int64_t>(m.rows.size()) - 1;
      } else {
        const std::int64_t n = m.rows[at].n_merged + 1;
        if (r.off_center < kept[at].off_center) {
          m.rows[at] = o.pairs[j];
          m.source[at] = {d, j};
          kept[at] = r;
        }
        m.rows[at].n_merged = n;
        ++m.n_merged;
      }
      m.row_of[d].push_back(at);
    }
  return m;
}

// ---- the file ---------------------------------------------------------------------------------

template <class T, class F>
std::vector<T> column(const std::vector<const DomainOutcome*>& rows, F f) {
  std::vector<T> v;
  for (const auto* o : rows) v.push_back(static_cast<T>(f(*o)));
  return v;
}

// CSR of a per-row vector: offsets (rows + 1) and the concatenated values.
template <class T, class F>
std::pair<std::vector<std::int64_t>, std::vector<T>> csr(const std::vector<const DomainOutcome*>& rows, F f) {
  std::pair<std::vector<std::int64_t>, std::vector<T>> r;
  r.first.push_back(0);
  for (const auto* o : rows) {
    const auto& v = f(*o);
    r.second.insert(r.second.end(), v.begin(), v.end());
    r.first.push_back(static_cast<std::int64_t>(r.second.size()));
  }
  return r;
}

struct RunInfo {
  const SearchSettings* s;
  const DomainGrid* grid;
  double e_sample;
  std::string fingerprint;
  std::int64_t n_beads;
};

// /search: one row per domain of the grid (`all`; not done: zeros, empty landscape).
void write_search_rows(Hdf5File& f, const std::vector<const DomainOutcome*>& all, const Merged& m,
                       const DomainGrid& grid) {
  const std::int64_t n_dom = grid.size();
  auto h = [](std::int64_t n) { return static_cast<std::size_t>(n); };
  std::vector<double> centers;
  for (std::int64_t d = 0; d < n_dom; ++d) {
    const Vec3 c = grid.center(d);
    centers.insert(centers.end(), {c[0], c[1], c[2]});
  }
  write_replicated(f, "/search/domain_center", centers, {h(n_dom), 3});
  write_replicated(f, "/search/domain_done", column<int>(all, [](const DomainOutcome& o) { return o.status; }),
                   {h(n_dom)});
  const std::pair<const char*, std::int64_t DomainOutcome::*> counts[] = {
      {"n_mobile", &DomainOutcome::n_mobile},
      {"n_frozen", &DomainOutcome::n_frozen},
      {"n_attempts", &DomainOutcome::n_attempts},
      {"n_events", &DomainOutcome::n_events},
      {"n_failed_exits", &DomainOutcome::n_failed_exits},
      {"n_failed_climbs", &DomainOutcome::n_failed_climbs},
      {"n_singletons", &DomainOutcome::n_singletons}};
  for (const auto& [name, member] : counts)
    write_replicated(f, std::string("/search/") + name,
                     column<std::int64_t>(all, [mem = member](const DomainOutcome& o) { return o.*mem; }), {h(n_dom)});
  write_replicated(f, "/search/n_minima",
                   column<std::int64_t>(all, [](const DomainOutcome& o) { return o.minima_energy.size(); }),
                   {h(n_dom)});
  write_replicated(f, "/search/n_saddles",
                   column<std::int64_t>(all, [](const DomainOutcome& o) { return o.saddle_energy.size(); }),
                   {h(n_dom)});
  write_replicated(f, "/search/seconds", column<double>(all, [](const DomainOutcome& o) { return o.seconds; }),
                   {h(n_dom)});
  write_replicated(f, "/search/missing_mass", column<double>(all, [](const DomainOutcome& o) { return o.missing; }),
                   {h(n_dom)});
  {
    auto [off, e] = csr<double>(
        all, [](const DomainOutcome& o) -> const auto& { return o.minima_energy; });
    auto [off2, ok] = csr<int>(
        all, [](const DomainOutcome& o) -> const auto& { return o.minima_verified; });
    write_replicated(f, "/search/minima_offset", off, {off.size()});
    write_replicated(f, "/search/minima_energy", e, {e.size()});
    write_replicated(f, "/search/minima_verified", ok, {ok.size()});
  }
  {
    auto [off, e] = csr<double>(
        all, [](const DomainOutcome& o) -> const auto& { return o.saddle_energy; });
    auto [off2, ok] = csr<int>(
        all, [](const DomainOutcome& o) -> const auto& { return o.saddle_verified; });
    auto [off3, ends] = csr<std::int64_t>(
        all, [](const DomainOutcome& o) -> const auto& { return o.saddle_minima; });
    write_replicated(f, "/search/saddle_offset", off, {off.size()});
    write_replicated(f, "/search/saddle_energy", e, {e.size()});
    write_replicated(f, "/search/saddle_verified", ok, {ok.size()});
    write_replicated(f, "/search/saddle_minima", ends, {ends.size() / 2, 2});
  }
  {
    // Per domain, the /tls rows of its pairs (a merged copy points at the row it was merged into).
    std::vector<std::int64_t> off{0}, rows;
    for (std::int64_t d = 0; d < n_dom; ++d) {
      const auto it = m.row_of.find(d);
      if (it != m.row_of.end()) rows.insert(rows.end(), it->second.begin(), it->second.end());
      off.push_back(static_cast<std::int64_t>(rows.size()));
    }
    write_replicated(f, "/search/pair_offset", off, {off.size()});
    write_replicated(f, "/search/pair_row", rows, {rows.size()});
  }
}

// /search's attributes: the grid, the counts and the settings the catalogue was made with.
void write_search_attributes(Hdf5File& f, const std::map<std::int64_t, DomainOutcome>& done, const Merged& m,
                             const RunInfo& info) {
  const DomainGrid& grid = *info.grid;
  const std::int64_t n_dom = grid.size();
  const SearchSettings& s = *info.s;
  const Vec3 a = grid.spacing();
  std::int64_t n_done = 0, n_failed = 0;
  for (const auto& [d, o] : done) (o.status == 1 ? n_done : n_failed) += 1;
  const std::pair<const char*, double> attrs[] = {{"xi", s.xi},
                                                  {"radius", grid.radius()},
                                                  {"spacing", s.spacing},
                                                  {"spacing_x", a[0]},
                                                  {"spacing_y", a[1]},
                                                  {"spacing_z", a[2]},
                                                  {"n_x", double(grid.counts()[0])},
                                                  {"n_y", double(grid.counts()[1])},
                                                  {"n_z", double(grid.counts()[2])},
                                                  {"shell", s.shell},
                                                  {"seed", double(s.seed)},
                                                  {"n_domains", double(n_dom)},
                                                  {"n_done", double(n_done)},
                                                  {"n_failed", double(n_failed)},
                                                  {"n_pairs", double(m.rows.size())},
                                                  {"n_merged", double(m.n_merged)},
                                                  {"e_sample", info.e_sample},
                                                  {"n_beads", double(info.n_beads)},
                                                  {"max_attempts", double(s.kernel.max_attempts)},
                                                  {"stop_after_stale", double(s.kernel.stop_after_stale)},
                                                  {"dedup_distance", s.kernel.dedup_distance},
                                                  {"dedup_energy", s.kernel.dedup_energy},
                                                  {"neb_images", double(s.kernel.neb.n_images)},
                                                  {"neb_spring", s.kernel.neb.spring},
                                                  {"neb_tol", s.kernel.neb.f_tol},
                                                  {"neb_max_iter", double(s.kernel.neb.max_iter)},
                                                  {"neb_end_levels", double(s.kernel.neb.end_levels)},
                                                  {"f_tol", s.kernel.minimizer.f_tol},
                                                  {"relax", double(s.relax)},
                                                  {"relax_radius", s.relax_radius},
                                                  {"target_missing", s.kernel.target_missing},
                                                  {"target_window", s.kernel.target_window}};
  for (const auto& [name, value] : attrs) write_attribute(f, "/search", name, value);
  for (const auto& [name, unit] : {std::pair{"domain_center", "sigma"}, std::pair{"minima_energy", "epsilon"},
                                   std::pair{"saddle_energy", "epsilon"}, std::pair{"seconds", "s"}})
    write_attribute(f, std::string("/search/") + name, "unit", unit);
  write_attribute(f, "/search", "fingerprint", info.fingerprint);
  write_attribute(f, "/search", "model", s.model);
  write_attribute(f, "/search", "start_from", s.kernel.start_from_occupied ? "occupied" : "window");
  write_attribute(f, "/search", "neb_optimizer", s.kernel.neb.optimizer == NebOptimizer::fire ? "fire" : "lbfgs");
}

// /tls: the merged rows, then the dipole stage's column as a placeholder.
void write_tls_rows(Hdf5File& f, const Merged& m, const SearchSettings& s) {
  TlsAttributes ta;
  ta.hbar_reduced = hbar_reduced(s.kernel.units);
  ta.max_splitting = s.kernel.max_splitting;
  ta.epsilon_kelvin = s.kernel.units.epsilon_kelvin;
  ta.n_merged = m.n_merged;
  write_tls(f, m.rows, ta);
  const std::size_t n = m.rows.size();
  write_replicated(f, "/tls/mu_eq13", std::vector<double>(3 * n, std::numeric_limits<double>::quiet_NaN()), {n, 3});
  write_attribute(f, "/tls/mu_eq13", "unit", "q* sigma");
  write_attribute(f, "/tls", "mu_eq13", "NaN until the dipole stage fills it");
}

// Collective; `done` and `m` are the same on every rank. Replaces /search and /tls.
void write_catalogue(Hdf5File& f, const std::map<std::int64_t, DomainOutcome>& done, const Merged& m,
                     const RunInfo& info) {
  const std::int64_t n_dom = info.grid->size();
  remove_object(f, "/search");
  std::vector<const DomainOutcome*> all(n_dom, nullptr);
  DomainOutcome blank;
  for (std::int64_t d = 0; d < n_dom; ++d) {
    auto it = done.find(d);
    all[d] = it != done.end() ? &it->second : &blank;
  }
  write_search_rows(f, all, m, *info.grid);
  write_search_attributes(f, done, m, info);
  write_tls_rows(f, m, *info.s);
}

// Collective: the outcomes stored in the file (all ranks read the same), if its /search was made
// from the same configuration and settings; otherwise empty, and *why says so.
std::map<std::int64_t, DomainOutcome> read_catalogue(Hdf5File& f, const RunInfo& info, std::string* why) {
  std::map<std::int64_t, DomainOutcome> done;
  if (!has_object(f, "/search")) return done;
  const std::string fp = read_string_attribute(f, "/search", "fingerprint");
  if (fp != info.fingerprint) {
    *why = "the /search in the file was made from another configuration, other [search] settings or an older layout";
    return done;
  }
  const auto status = read_dataset<int>(f, "/search/domain_done");
  const auto n_mobile = read_dataset<std::int64_t>(f, "/search/n_mobile");
  const auto n_frozen = read_dataset<std::int64_t>(f, "/search/n_frozen");
  const auto n_attempts = read_dataset<std::int64_t>(f, "/search/n_attempts");
  const auto n_events = read_dataset<std::int64_t>(f, "/search/n_events");
  const auto seconds = read_dataset<double>(f, "/search/seconds");
  // Written since 2026-12-07; a file from before gets −1 (not recorded) and is still resumed.
  const auto failure_count = [&](const char* name) {
    const std::string where = std::string("/search/") + name;
    return has_object(f, where) ? read_dataset<std::int64_t>(f, where) : std::vector<std::int64_t>(status.size(), -1);
  };
  const auto n_failed_exits = failure_count("n_failed_exits");
  const auto n_failed_climbs = failure_count("n_failed_climbs");
  const auto n_singletons = read_dataset<std::int64_t>(f, "/search/n_singletons");
  const auto missing = read_dataset<double>(f, "/search/missing_mass");
  const auto m_off = read_dataset<std::int64_t>(f, "/search/minima_offset");
  const auto m_e = read_dataset<double>(f, "/search/minima_energy");
  const auto m_ok = read_dataset<int>(f, "/search/minima_verified");
  const auto s_off = read_dataset<std::int64_t>(f, "/search/saddle_offset");
  const auto s_e = read_dataset<double>(f, "/search/saddle_energy");
  const auto s_ok = read_dataset<int>(f, "/search/saddle_verified");
  const auto s_ends = read_dataset<std::int64_t>(f, "/search/saddle_minima");
  const auto p_off = read_dataset<std::int64_t>(f, "/search/pair_offset");
  const auto p_row = read_dataset<std::int64_t>(f, "/search/pair_row");
  const std::vector<TlsRow> rows = read_tls(f);
  const std::int64_t n_dom = info.grid->size();
  auto check = [&](bool ok, const std::string& what) { agree(f.comm(), ok, f.path() + ": " + what); };
  check(static_cast<std::int64_t>(status.size()) == n_dom, "/search has the wrong number of domains");
  const auto n_dom_size = static_cast<std::size_t>(n_dom);
  check(n_mobile.size() == n_dom_size && n_frozen.size() == n_dom_size && n_attempts.size() == n_dom_size &&
            n_events.size() == n_dom_size && n_failed_exits.size() == n_dom_size &&
            n_failed_climbs.size() == n_dom_size && seconds.size() == n_dom_size && n_singletons.size() == n_dom_size &&
            missing.size() == n_dom_size,
        "a per-domain dataset of /search (n_mobile ... missing) does not have one entry per domain");
  auto csr_ok = [&](const std::vector<std::int64_t>& off, std::size_t len, std::size_t width) {
    if (static_cast<std::int64_t>(off.size()) != n_dom + 1 || off.front() != 0 ||
        static_cast<std::size_t>(off.back()) * width != len)
      return false;
    return std::is_sorted(off.begin(), off.end());
  };
  check(csr_ok(m_off, m_e.size(), 1) && m_ok.size() == m_e.size(),
        "/search/minima_offset does not fit /search/minima_energy");
  check(csr_ok(s_off, s_e.size(), 1) && s_ok.size() == s_e.size() && s_ends.size() == 2 * s_e.size(),
        "/search/saddle_offset does not fit /search/saddle_energy");
  check(csr_ok(p_off, p_row.size(), 1), "/search/pair_offset does not fit /search/pair_row");
  for (std::int64_t r : p_row)
    check(r >= 0 && r < static_cast<std::int64_t>(rows.size()), "/search/pair_row outside /tls");

  for (std::int64_t d = 0; d < n_dom; ++d) {
    if (status[d] == 0) continue;
    DomainOutcome o;
    o.domain = d;
    o.status = status[d];
    o.center = info.grid->center(d);
    o.n_mobile = n_mobile[d], o.n_frozen = n_frozen[d], o.n_attempts = n_attempts[d], o.n_events = n_events[d];
    o.n_failed_exits = n_failed_exits[d], o.n_failed_climbs = n_failed_climbs[d];
    o.seconds = seconds[d];
    o.n_singletons = n_singletons[d], o.missing = missing[d];
    o.minima_energy.assign(m_e.begin() + m_off[d], m_e.begin() + m_off[d + 1]);
    o.minima_verified.assign(m_ok.begin() + m_off[d], m_ok.begin() + m_off[d + 1]);
    o.saddle_energy.assign(s_e.begin() + s_off[d], s_e.begin() + s_off[d + 1]);
    o.saddle_verified.assign(s_ok.begin() + s_off[d], s_ok.begin() + s_off[d + 1]);
    o.saddle_minima.assign(s_ends.begin() + 2 * s_off[d], s_ends.begin() + 2 * s_off[d + 1]);
    // A merged copy comes back as the row it was merged into; merging it again gives the same row.
    for (std::int64_t k = p_off[d]; k < p_off[d + 1]; ++k) o.pairs.push_back(rows[p_row[k]]);
    done.emplace(d, std::move(o));
  }
  return done;
}

// Collective: merge, relax the rows not relaxed yet (writing the energies back into `done`, so the
// next checkpoint keeps them), and rewrite the file.
Merged checkpoint(std::map<std::int64_t, DomainOutcome>& done, const RunInfo& info, const WholeSample& rc,
                  const std::string& path, Progress& progress, std::int64_t* n_relaxed, double* relax_seconds) {
  Merged m = merge_rows(done, rc.box, info.s->kernel);
  if (info.s->relax) {
    std::int64_t n_new = 0;
    const double t0 = MPI_Wtime();
    double last_line = t0;  // rank 0's clock decides only what rank 0 prints
    const auto n_todo =
        std::count_if(m.rows.begin(), m.rows.end(), [](const TlsRow& r) { return std::isnan(r.energy_a_relaxed); });
    for (std::size_t q = 0; q < m.rows.size(); ++q) {
      if (!std::isnan(m.rows[q].energy_a_relaxed)) continue;
      // Whole-sample relaxations of a polar glass take tens of seconds each: a heartbeat line.
      if (info.s->heartbeat > 0.0 && MPI_Wtime() - last_line >= info.s->heartbeat) {
        progress.say(fmt::format("relaxing both states of each new row: {} of {} done, {:.0f} s", n_new, n_todo,
                                 MPI_Wtime() - t0));
        last_line = MPI_Wtime();
      }
      relax_row(rc, info.s->kernel.minimizer.f_tol, info.s->kernel.dedup_distance, m.rows[q]);
      TlsRow& src = done.at(m.source[q].first).pairs[m.source[q].second];
      src.energy_a_relaxed = m.rows[q].energy_a_relaxed;
      src.energy_b_relaxed = m.rows[q].energy_b_relaxed;
      src.asymmetry_relaxed = m.rows[q].asymmetry_relaxed;
      src.relaxed_adjacent = m.rows[q].relaxed_adjacent;
      ++n_new;
    }
    *n_relaxed += n_new;
    *relax_seconds += MPI_Wtime() - t0;
    if (n_new > 0)
      progress.say(fmt::format("relaxed both states of {} rows with {} free ({:.1f} s)", n_new,
                               info.s->relax_radius > 0.0
                                   ? fmt::format("the beads within {:g} sigma of the mobile ones", info.s->relax_radius)
                                   : std::string("every bead"),
                               MPI_Wtime() - t0));
  }
  Hdf5File f(path, Hdf5File::Mode::update, rc.comm);
  write_catalogue(f, done, m, info);
  f.commit();
  return m;
}

// Collective: rank 0 holds a batch's results (work_queue.hpp); every rank gets them, in item order,
// so every rank holds the same catalogue.
std::vector<DomainOutcome> broadcast_results(const WorkResult& r, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::vector<char> packed;
  if (rank == 0)
    for (const auto& b : r.bytes) {
      const std::uint64_t len = b.size();
      packed.insert(packed.end(), reinterpret_cast<const char*>(&len), reinterpret_cast<const char*>(&len) + 8);
      packed.insert(packed.end(), b.begin(), b.end());
    }
  std::uint64_t n_packed = packed.size();
  MPI_Bcast(&n_packed, 1, MPI_UINT64_T, 0, comm);
  packed.resize(n_packed);
  MPI_Bcast(packed.data(), static_cast<int>(n_packed), MPI_CHAR, 0, comm);
  std::vector<DomainOutcome> out;
  for (std::size_t at = 0; at < packed.size();) {
    std::uint64_t len;
    std::memcpy(&len, packed.data() + at, 8);
    out.push_back(deserialize_outcome(packed.data() + at + 8, len));
    at += 8 + len;
  }
  return out;
}

// The closing line: domains, rows per class, merged copies, time.
void summarise(const std::map<std::int64_t, DomainOutcome>& done, const Merged& m, std::int64_t n_dom,
               std::int64_t n_finished, const std::string& path, Progress& progress) {
  std::int64_t n_failed = 0;
  for (const auto& [d, o] : done) n_failed += o.status == 2;
  std::map<std::string, std::int64_t> per_class;
  for (const TlsRow& r : m.rows) ++per_class[r.cls];
  std::string classes;
  for (const auto& [name, n] : per_class) classes += fmt::format(", {} {}", name, n);
  progress.say(fmt::format(
      "{} of {} domains done ({} failed); {} rows{} ({} copies merged); this run searched "
      "{} domains in {:.1f} s; wrote /tls and /search to {}",
      done.size(), n_dom, n_failed, m.rows.size(), classes, m.n_merged, n_finished, progress.elapsed(), path));
  // Where the attempts went (domains that record it): the first thing to read when a region gives no rows.
  std::int64_t attempts = 0, events = 0, exits = 0, climbs = 0;
  for (const auto& [d, o] : done)
    if (o.status == 1 && o.n_failed_exits >= 0)
      attempts += o.n_attempts, events += o.n_events, exits += o.n_failed_exits, climbs += o.n_failed_climbs;
  if (attempts > 0)
    progress.say(
        fmt::format("attempts: {} in all; {} reached a verified saddle, {} found no way out of the basin "
                    "(/search/n_failed_exits), {} climbs did not converge (/search/n_failed_climbs)",
                    attempts, events, exits, climbs));
  // Convergence of the domains done (Good–Turing, search.target_missing): the median and the largest.
  std::vector<double> missing;
  for (const auto& [d, o] : done)
    if (o.status == 1 && std::isfinite(o.missing)) missing.push_back(o.missing);
  if (!missing.empty()) {
    std::sort(missing.begin(), missing.end());
    progress.say(
        fmt::format("convergence: chance that one more attempt finds a new minimum (Good-Turing, "
                    "/search/missing_mass) median {:.3g}, largest {:.3g} over {} domains",
                    missing[missing.size() / 2], missing.back(), missing.size()));
  }
}

}  // namespace

NebParams neb_params_from(const Input& in) {
  NebParams p;
  p.n_images = static_cast<int>(in.get_int("search.neb_images"));
  p.spring = in.get_double("search.neb_spring");
  p.f_tol = in.get_double("search.neb_tol");
  p.max_iter = in.get_int("search.neb_max_iter");
  p.end_levels = static_cast<int>(in.get_int("search.neb_end_levels"));
  p.optimizer = in.get_string("search.neb_optimizer") == "fire" ? NebOptimizer::fire : NebOptimizer::lbfgs;
  return p;
}

double max_splitting_from(const Input& in) {
  if (in.has("tls.max_splitting_epsilon")) {
    if (in.given("tls.max_splitting"))
      in.fail("tls.max_splitting_epsilon",
              "give the threshold once: tls.max_splitting (K) or tls.max_splitting_epsilon");
    return in.get_double("tls.max_splitting_epsilon");
  }
  return in.get_double("tls.max_splitting") / in.get_double("units.epsilon_kelvin");
}

// ---- the stage --------------------------------------------------------------------------------

namespace {

// With active charges the local model's pair list reaches R_c = the shell plus its skin (0.5),
// which must stay within half the box.
void check_shell_fits(const Input& in, const SearchSettings& s, const Box& box) {
  if (s.shell + 0.5 > 0.5 * box.len.minCoeff())
    in.fail("search.shell",
            "is the local model's Coulomb cut-off with active charges: it must be at most half the "
            "box edge minus 0.5 (" +
                std::to_string(0.5 * box.len.minCoeff() - 0.5) + " here; a larger sample is needed)");
}

// The packing, replicated on every rank (domains.hpp), its model and the whole-sample energy.
struct Packing {
  Box box;
  std::int64_t n_beads = 0;
  GlobalBeads g;
  Model model;
  LJTable table;  // the species table, or empty for the soft spheres (each bead's diameter is in the copy)
  double e_sample = 0.0;
  // Active charges: the whole sample's Coulomb split and its forces by id − 1; what the local models
  // add (LocalPhysics, its sample_force pointed at this one's by physics()).
  std::optional<CoulombParams> coulomb;
  std::vector<Vec3> sample_force;
  LocalPhysics local;
  LocalPhysics physics() const {
    LocalPhysics l = local;
    if (l.coulomb.on()) l.sample_force = &sample_force;
    return l;
  }
};

// Collective. The shell grows to twice the sample's largest cutoff (soft spheres) unless it was given.
Packing read_packing(const Input& in, const std::string& path, SearchSettings& s, MPI_Comm comm) {
  Configuration c = read_configuration(path, comm);
  GlobalBeads g = gather_by_id(c.beads, comm);
  // A species table, or the soft spheres with the sample's own diameters (then the table is empty
  // and the local models take each bead's diameter from the copy).
  Model model = model_for_sample(s.model, g.diameter, path);
  LJTable table = model.has_diameters() ? LJTable{} : model.table;
  if (model.has_diameters() && s.shell < 2.0 * model.max_cutoff()) {
    if (in.has("search.shell"))
      in.fail("search.shell", "must be at least 2 r_c = " + std::to_string(2.0 * model.max_cutoff()) +
                                  " (sigma) for the diameters of " + path);
    s.shell = 2.0 * model.max_cutoff();
  }
  check_bonds_match_model(model, input_model_setting(s.model), !g.partner.empty(), path);
  const std::optional<CoulombParams> coulomb = active_coulomb_from_input(in, c.box, s.skin);
  if (coulomb) check_shell_fits(in, s, c.box);
  double e_sample = 0.0;
  std::vector<Vec3> sample_force;
  {
    const auto sys = sample_system(comm, c.box, model, s.skin, s.proc_grid, std::move(c.beads), coulomb);
    sys->compute_forces();
    e_sample = sys->potential_energy();
    if (coulomb) sample_force = gather_by_id(sys->beads(), comm).force;
  }
  Packing p{
      c.box, c.n_global, std::move(g), std::move(model), std::move(table), e_sample, coulomb, std::move(sample_force),
      {}};
  if (p.model.bond) p.local.bond = *p.model.bond;
  // R_c = the shell, α = 1/R_c (docs/polar.md: the error measured at R_c = 5, α = 0.2).
  if (coulomb) p.local.coulomb = ShiftedForceCoulomb(s.shell, 1.0 / s.shell, coulomb->epsilon);
  return p;
}

DomainGrid domain_grid(const Input& in, const Box& box, const SearchSettings& s) {
  try {
    return DomainGrid(box, s.xi, s.spacing);
  } catch (const Error& e) {
    in.fail("search.xi", e.what());
  }
}

// Collective: the domains already in the file (if made from the same configuration and settings).
std::map<std::int64_t, DomainOutcome> resume(const std::string& path, const RunInfo& info, MPI_Comm comm,
                                             const Progress& progress) {
  Hdf5File f(path, Hdf5File::Mode::read_only, comm);
  std::string why;
  std::map<std::int64_t, DomainOutcome> done = read_catalogue(f, info, &why);
  if (!why.empty()) progress.say(why + ": starting over (the old /search and /tls will be replaced)");
  return done;
}

// The opening lines: the sample, the domain grid, what is left to do, the class rule.
void say_plan(const Packing& p, const DomainGrid& grid, const SearchSettings& s, std::size_t n_todo,
              std::int64_t n_target, const Progress& progress) {
  const Vec3 a = grid.spacing();
  progress.say(
      fmt::format("{} beads, E_sample = {:.10f}; {} domains ({} x {} x {}, spacing {:.4g} x {:.4g} x {:.4g}), "
                  "R_xi = {:.4f}, shell {:.4g} sigma; {} to search now, {} already in the file",
                  p.n_beads, p.e_sample, grid.size(), grid.counts()[0], grid.counts()[1], grid.counts()[2], a[0], a[1],
                  a[2], grid.radius(), s.shell, n_todo, static_cast<long long>(n_target - n_todo)));
  progress.say(fmt::format(
      "pairs adjacent to the occupied state; class tls: E_qs <= {:.4g} epsilon ({:.4g} K), "
      "hbar* = {:.5f}",
      s.kernel.max_splitting, s.kernel.max_splitting * s.kernel.units.epsilon_kelvin, hbar_reduced(s.kernel.units)));
}

// One item of the work queue: search domain d of the packing (a failure is recorded with
// on_error = "skip", else rethrown).
WorkOutput search_work(std::int64_t d, const Packing& p, const DomainGrid& grid, const SearchSettings& s) {
  const GlobalBeads& g = p.g;
  const LocalCopy copy =
      local_copy(p.box, g.pos, g.species, g.charge, grid.center(d), grid.radius(), s.shell, g.diameter, g.partner);
  DomainOutcome o;
  try {
    o = search_one_domain(copy, p.table, p.physics(), s.kernel, s.seed, d, p.e_sample);
  } catch (const std::exception& e) {
    if (!s.skip_failed) throw;
    o = DomainOutcome{};
    o.domain = d, o.status = 2, o.error = e.what(), o.center = copy.center;
    o.n_mobile = copy.n_mobile, o.n_frozen = copy.size() - copy.n_mobile;
    fmt::print(stderr, "[search] domain {} failed (skipped, on_error = \"skip\"): {}\n", d, e.what());
  }
  WorkOutput out;
  out.counters = {static_cast<std::int64_t>(o.pairs.size()), o.n_attempts};
  out.bytes = serialize(o);
  return out;
}

// What this run did, for the log.
struct RunTally {
  std::int64_t n_finished = 0, pairs_before = 0, attempts = 0, n_pairs_run = 0, n_relaxed = 0;
  double step_seconds[4] = {0, 0, 0, 0}, relax_seconds = 0.0;
};

// Collective: the domains of `todo` through the work queue, checkpoint_every at a time, each batch
// merged, relaxed and written to the file.
RunTally search_batches(const std::vector<std::int64_t>& todo, std::map<std::int64_t, DomainOutcome>& done,
                        const Packing& p, const DomainGrid& grid, const RunInfo& info, const WholeSample& rc,
                        const std::string& path, Progress& progress) {
  const SearchSettings& s = *info.s;
  MPI_Comm comm = rc.comm;
  progress.begin("domains");
  RunTally t;
  for (const auto& [d, o] : done) t.pairs_before += static_cast<std::int64_t>(o.pairs.size());
  const double t0 = MPI_Wtime();
  // Nothing to do (a rerun of a finished search): the file is left exactly as it is.
  for (std::size_t start = 0; start < todo.size(); start += s.checkpoint_every) {
    const std::vector<std::int64_t> batch(todo.begin() + start,
                                          todo.begin() + std::min(todo.size(), start + s.checkpoint_every));
    auto work = [&](std::int64_t d) {
      const HeartbeatScope beat(fmt::format("[search] domain {} (rank {})", d, comm_rank(comm)), s.heartbeat);
      return search_work(d, p, grid, s);
    };
    WorkResult r = run_work_queue(comm, batch, work, [&](const WorkTally& w) {
      const double dt = MPI_Wtime() - t0;
      progress.report(static_cast<long>(t.n_finished + w.done), static_cast<long>(todo.size()),
                      fmt::format("pairs {}, {:.2f} attempts/s", t.pairs_before + w.counters[0],
                                  dt > 0 ? static_cast<double>(t.attempts + w.counters[1]) / dt : 0.0));
    });
    for (DomainOutcome& o : broadcast_results(r, comm)) {
      t.n_pairs_run += static_cast<std::int64_t>(o.pairs.size());
      for (int k = 0; k < 4; ++k) t.step_seconds[k] += o.pair_seconds[k];
      t.pairs_before += static_cast<std::int64_t>(o.pairs.size());
      t.attempts += o.n_attempts;
      const std::int64_t d = o.domain;
      done[d] = std::move(o);
      ++t.n_finished;
    }
    const Merged m = checkpoint(done, info, rc, path, progress, &t.n_relaxed, &t.relax_seconds);
    if (r.failed)
      throw Error("search stopped: " + r.message + " (the " + std::to_string(done.size()) +
                  " domains finished are saved in " + path +
                  "; a rerun continues from there; [search] on_error = \"skip\" records failing domains and goes on)");
    progress.say(fmt::format("checkpoint: {} of {} domains, {} rows ({} merged copies) in {}", done.size(), grid.size(),
                             m.rows.size(), m.n_merged, path));
  }
  return t;
}

}  // namespace

void run_search(const Input& in, MPI_Comm comm) {
  if (in.get_string("search.method") == "md-pairs") return run_md_pairs(in, comm);
  const std::string& path = output_path(in);
  SearchSettings s = SearchSettings::from_input(in);  // the shell may still grow to the sample's diameters
  Progress progress(comm, "search");

  const Packing p = read_packing(in, path, s, comm);
  const DomainGrid grid = domain_grid(in, p.box, s);
  const RunInfo info{&s, &grid, p.e_sample, fingerprint(s, p.box, p.g, p.coulomb), p.n_beads};
  WholeSample rc{comm, p.box, &p.g, p.model, s.skin, s.proc_grid, s.relax_radius, p.e_sample};
  if (p.coulomb) {
    rc.coulomb_cutoff = p.coulomb->cutoff;
    rc.coulomb_term = [params = *p.coulomb, skin = s.skin](const System& sys) {
      return std::make_shared<ActiveCoulomb>(sys, params, skin);
    };
  }

  std::map<std::int64_t, DomainOutcome> done = resume(path, info, comm, progress);
  const std::int64_t n_dom = grid.size();
  const std::int64_t n_target = s.max_domains > 0 ? std::min(s.max_domains, n_dom) : n_dom;
  std::vector<std::int64_t> todo;
  for (std::int64_t d = 0; d < n_target; ++d)
    if (!done.count(d)) todo.push_back(d);
  say_plan(p, grid, s, todo.size(), n_target, progress);

  const RunTally t = search_batches(todo, done, p, grid, info, rc, path, progress);
  if (t.n_pairs_run > 0)
    progress.say(
        fmt::format("cost per pair this run ({} pairs): NEB {:.3g} s, 1D levels {:.3g} s, delta_zpe {:.3g} s, "
                    "saddle connectivity {:.3g} s; relaxation of both states {:.3g} s",
                    t.n_pairs_run, t.step_seconds[0] / t.n_pairs_run, t.step_seconds[1] / t.n_pairs_run,
                    t.step_seconds[2] / t.n_pairs_run, t.step_seconds[3] / t.n_pairs_run,
                    t.n_relaxed > 0 ? t.relax_seconds / t.n_relaxed : 0.0));
  summarise(done, merge_rows(done, p.box, s.kernel), n_dom, t.n_finished, path, progress);
}

void check_search_input(const Input& in, const std::optional<Box>& box) {
  if (in.get_string("search.method") == "md-pairs") return check_md_pairs_input(in);
  const SearchSettings s = SearchSettings::from_input(in);
  if (!box) return;
  (void)domain_grid(in, *box, s);
  if (s.active) {
    (void)active_coulomb_from_input(in, *box, s.skin);
    check_shell_fits(in, s, *box);
  }
}

}  // namespace tlsmap
