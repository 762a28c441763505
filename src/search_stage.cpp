// The `tlsmap search` stage: domains → work queue → serial kernel → /tls catalogue (see
// include/tlsmap/search_stage.hpp for the design, docs/file-format.md for the file layout).
//
// The adapter search_one_domain maps a LocalCopy to the kernel's LocalConfig and its DomainSearch
// result to the driver's DomainOutcome, adding the whole-sample energy offset and the direct dipole.
// Note for the kernel (event_search.hpp), not a change request to its API: with a small budget on
// the default glass the "pair" is sometimes two minima ~1e-4 ε apart in which no bead moves more
// than moving_threshold (n_moving = 0, d_l = 0) and whose NEB does not converge (barrier ~1e5 ε);
// the catalogue keeps such rows with their flags (n_moving, neb_converged, saddle_verified) so
// users can filter them, but choosing only pairs with at least one moving bead would be better.
#include "tlsmap/search_stage.hpp"

#include "tlsmap/domains.hpp"
#include "tlsmap/error.hpp"
#include "tlsmap/event_search.hpp"
#include "tlsmap/gather.hpp"
#include "tlsmap/h5md.hpp"
#include "tlsmap/input.hpp"
#include "tlsmap/local_model.hpp"
#include "tlsmap/pair_potential.hpp"
#include "tlsmap/progress.hpp"
#include "tlsmap/system.hpp"
#include "tlsmap/units.hpp"
#include "tlsmap/work_queue.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <type_traits>

namespace tlsmap {

// ---- byte form of an outcome ------------------------------------------------------------------

namespace {

class ByteWriter {
 public:
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const char* p = reinterpret_cast<const char*>(&v);
    b_.insert(b_.end(), p, p + sizeof(T));
  }
  template <class T>
  void put_vec(const std::vector<T>& v) {
    put<std::uint64_t>(v.size());
    for (const auto& x : v) put(x);
  }
  void put_vec3(const Vec3& v) { put(v[0]), put(v[1]), put(v[2]); }
  void put_string(const std::string& s) {
    put<std::uint64_t>(s.size());
    b_.insert(b_.end(), s.begin(), s.end());
  }
  std::vector<char> take() { return std::move(b_); }

 private:
  std::vector<char> b_;
};

class ByteReader {
 public:
  ByteReader(const char* p, std::size_t n) : p_(p), end_(p + n) {}
  template <class T>
  T get() {
    if (static_cast<std::size_t>(end_ - p_) < sizeof(T)) throw Error("corrupt domain result (truncated)");
    T v;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  template <class T>
  std::vector<T> get_vec() {
    std::vector<T> v(get<std::uint64_t>());
    for (auto& x : v) x = get<T>();
    return v;
  }
  Vec3 get_vec3() {
    Vec3 v;
    v[0] = get<double>(), v[1] = get<double>(), v[2] = get<double>();
    return v;
  }
  std::string get_string() {
    const auto n = get<std::uint64_t>();
    if (static_cast<std::size_t>(end_ - p_) < n) throw Error("corrupt domain result (truncated)");
    std::string s(p_, n);
    p_ += n;
    return s;
  }

 private:
  const char* p_;
  const char* end_;
};

void put_points(ByteWriter& w, const std::vector<Vec3>& v) {
  w.put<std::uint64_t>(v.size());
  for (const auto& x : v) w.put_vec3(x);
}
std::vector<Vec3> get_points(ByteReader& r) {
  std::vector<Vec3> v(r.get<std::uint64_t>());
  for (auto& x : v) x = r.get_vec3();
  return v;
}

}  // namespace

std::vector<char> serialize(const DomainOutcome& o) {
  ByteWriter w;
  w.put(o.domain), w.put(o.status), w.put_string(o.error);
  w.put_vec3(o.center);
  w.put(o.n_mobile), w.put(o.n_frozen), w.put(o.n_attempts), w.put(o.n_events), w.put(o.seconds);
  w.put_vec(o.minima_energy), w.put_vec(o.minima_verified);
  w.put_vec(o.saddle_energy), w.put_vec(o.saddle_verified), w.put_vec(o.saddle_minima);
  w.put(o.has_pair);
  w.put(o.energy_a), w.put(o.energy_b), w.put(o.asymmetry), w.put(o.barrier), w.put(o.d_l), w.put(o.participation);
  w.put(o.path_length), w.put(o.distance), w.put(o.splitting), w.put(o.splitting_kelvin), w.put(o.over_barrier);
  w.put(o.n_moving), w.put(o.intermediate_minima), w.put(o.saddle_ok), w.put(o.neb_converged);
  w.put_vec3(o.mu_direct);
  w.put_vec(o.profile_energy), w.put_vec(o.profile_coordinate), w.put_vec(o.mobile_id);
  put_points(w, o.position_a), put_points(w, o.position_b);
  return w.take();
}

DomainOutcome deserialize_outcome(const char* data, std::size_t size) {
  ByteReader r(data, size);
  DomainOutcome o;
  o.domain = r.get<std::int64_t>(), o.status = r.get<int>(), o.error = r.get_string();
  o.center = r.get_vec3();
  o.n_mobile = r.get<std::int64_t>(), o.n_frozen = r.get<std::int64_t>(), o.n_attempts = r.get<std::int64_t>();
  o.n_events = r.get<std::int64_t>(), o.seconds = r.get<double>();
  o.minima_energy = r.get_vec<double>(), o.minima_verified = r.get_vec<int>();
  o.saddle_energy = r.get_vec<double>(), o.saddle_verified = r.get_vec<int>();
  o.saddle_minima = r.get_vec<std::int64_t>();
  o.has_pair = r.get<bool>();
  o.energy_a = r.get<double>(), o.energy_b = r.get<double>(), o.asymmetry = r.get<double>();
  o.barrier = r.get<double>(), o.d_l = r.get<double>(), o.participation = r.get<double>();
  o.path_length = r.get<double>(), o.distance = r.get<double>(), o.splitting = r.get<double>();
  o.splitting_kelvin = r.get<double>(), o.over_barrier = r.get<int>();
  o.n_moving = r.get<std::int64_t>(), o.intermediate_minima = r.get<std::int64_t>();
  o.saddle_ok = r.get<int>(), o.neb_converged = r.get<int>();
  o.mu_direct = r.get_vec3();
  o.profile_energy = r.get_vec<double>(), o.profile_coordinate = r.get_vec<double>();
  o.mobile_id = r.get_vec<std::int64_t>();
  o.position_a = get_points(r), o.position_b = get_points(r);
  return o;
}

// ---- the kernel adapter -----------------------------------------------------------------------

DomainOutcome search_one_domain(const LocalCopy& copy, const LJTable& table, const SearchParams& params,
                                std::uint64_t seed, std::int64_t domain, double e_sample) {
  DomainOutcome o;
  o.domain = domain;
  o.status = 1;
  o.center = copy.center;
  o.n_mobile = copy.n_mobile;
  o.n_frozen = copy.size() - copy.n_mobile;
  o.mobile_id.assign(copy.id.begin(), copy.id.begin() + copy.n_mobile);
  if (copy.n_mobile < 2) return o;  // nothing to search (an almost empty region)

  LocalConfig config{copy.box, table, copy.id, copy.species, copy.pos, copy.n_mobile};
  LocalModel model(std::move(config));
  // The kernel's energy omits frozen–frozen pairs (a constant): shift to whole-sample totals.
  const double offset = e_sample - model.energy(model.initial_coordinates());
  const DomainSearch s = search_domain(model, params, seed, static_cast<std::uint64_t>(domain));

  o.n_attempts = s.attempts;
  o.n_events = s.events;
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
  if (!s.has_pair) return o;

  const TlsPair& p = s.pair;
  o.has_pair = true;
  o.energy_a = p.energy_a + offset;
  o.energy_b = p.energy_b + offset;
  o.asymmetry = p.asymmetry;
  o.barrier = p.barrier;
  o.d_l = p.d_l;
  o.n_moving = p.n_moving;
  o.participation = p.participation;
  o.path_length = p.path_length;
  o.distance = p.distance;
  o.splitting = p.splitting.delta0;
  o.splitting_kelvin = p.splitting.delta0_kelvin;
  o.over_barrier = p.splitting.over_barrier ? 1 : 0;
  o.intermediate_minima = p.intermediate_minima ? std::max(1, p.path.n_intermediate_minima) : 0;
  o.saddle_ok = p.saddle.verified ? 1 : 0;
  o.neb_converged = p.path.converged ? 1 : 0;
  for (double e : p.path.energy) o.profile_energy.push_back(e + offset);
  o.profile_coordinate = p.path.arc;
  // μ_direct = Σ q_i d_i with d_i = x_i^B − x_i^A (minimum image, the kernel's displacement).
  for (int i = 0; i < copy.n_mobile; ++i)
    o.mu_direct += copy.charge[i] * Vec3(p.displacement[3 * i], p.displacement[3 * i + 1], p.displacement[3 * i + 2]);
  o.position_a = model.positions(s.minima[p.a].x);
  o.position_b = model.positions(s.minima[p.b].x);
  for (auto* v : {&o.position_a, &o.position_b})
    for (Vec3& x : *v) copy.box.wrap(x);
  return o;
}

// ---- settings ---------------------------------------------------------------------------------

namespace {

struct Settings {
  double xi = 5.5, spacing = 5.5, shell = 5.0;
  std::int64_t max_domains = 0, checkpoint_every = 32;
  bool skip_failed = false;
  std::uint64_t seed = 0;
  std::string model;
  SearchParams kernel;
};

Settings settings_from(const Input& in) {
  Settings s;
  s.xi = in.get_double("search.xi");
  s.spacing = in.has("search.spacing") ? in.get_double("search.spacing") : s.xi;
  s.model = in.get_string("system.model");
  const double two_rc = 2.0 * make_model(s.model).max_cutoff();
  s.shell = in.has("search.shell") ? in.get_double("search.shell") : two_rc;
  if (s.shell < two_rc)
    in.fail("search.shell", "must be at least 2 r_c = " + std::to_string(two_rc) +
                                " (sigma) of the model, so every bead a mobile bead can reach is present");
  s.max_domains = in.get_int("search.max_domains");
  s.checkpoint_every = in.get_int("search.checkpoint_every");
  s.skip_failed = in.get_string("search.on_error") == "skip";
  s.seed = static_cast<std::uint64_t>(in.get_int("run.seed"));
  SearchParams& k = s.kernel;
  k.minimizer.f_tol = in.get_double("minimize.f_tol");
  k.max_attempts = static_cast<int>(in.get_int("search.max_attempts"));
  k.stop_after_stale = static_cast<int>(in.get_int("search.stop_after_stale"));
  k.dedup_distance = in.get_double("search.dedup_distance");
  k.dedup_energy = in.get_double("search.dedup_energy");
  k.follow_modes = static_cast<int>(in.get_int("search.follow_modes"));
  k.neb.n_images = static_cast<int>(in.get_int("search.neb_images"));
  k.neb.spring = in.get_double("search.neb_spring");
  k.neb.f_tol = in.get_double("search.neb_tol");
  k.units = PhysicalUnits::from_input(in);
  return s;
}

// FNV-1a over the bytes of what determines the results: the configuration and every setting the
// kernel sees. A rerun resumes only when this matches the file's /search.
class Fingerprint {
 public:
  template <class T>
  void add(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    add_bytes(&v, sizeof v);
  }
  template <class T>
  void add_vec(const std::vector<T>& v) {
    for (const auto& x : v) add(x);
  }
  void add_bytes(const void* p, std::size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    for (std::size_t k = 0; k < n; ++k) h_ = (h_ ^ c[k]) * 1099511628211ULL;
  }
  std::string hex() const {
    char b[20];
    std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(h_));
    return b;
  }

 private:
  std::uint64_t h_ = 14695981039346656037ULL;
};

std::string fingerprint(const Settings& s, const Box& box, const GlobalBeads& g) {
  Fingerprint f;
  for (const Vec3& x : g.pos) f.add(x[0]), f.add(x[1]), f.add(x[2]);
  f.add_vec(g.species), f.add_vec(g.charge);
  for (int d = 0; d < 3; ++d) f.add(box.lo[d]), f.add(box.len[d]);
  f.add(s.xi), f.add(s.spacing), f.add(s.shell), f.add(s.seed);
  f.add_bytes(s.model.data(), s.model.size());
  const SearchParams& k = s.kernel;
  f.add(k.minimizer.f_tol), f.add(k.max_attempts), f.add(k.stop_after_stale), f.add(k.dedup_distance);
  f.add(k.dedup_energy), f.add(k.neb.n_images), f.add(k.neb.spring), f.add(k.neb.f_tol);
  f.add(k.units.sigma_angstrom), f.add(k.units.epsilon_kelvin), f.add(k.units.mass_amu);
  if (k.follow_modes > 0) f.add(k.follow_modes);  // absent at 0: files from before the key still resume
  return f.hex();
}

// ---- the file ---------------------------------------------------------------------------------

bool has_object(H5File& file, const char* name) {
  const htri_t has = H5Lexists(file.id(), name, H5P_DEFAULT);
  agree(file.comm(), has >= 0, file.path() + ": cannot look up " + name);
  return has > 0;
}

void remove_object(H5File& file, const char* name) {
  if (has_object(file, name))
    agree(file.comm(), H5Ldelete(file.id(), name, H5P_DEFAULT) >= 0, file.path() + ": cannot delete " + name);
}

template <class T, class F>
std::vector<T> column(const std::vector<const DomainOutcome*>& rows, F f) {
  std::vector<T> v;
  for (const auto* o : rows) {
    if constexpr (std::is_same_v<std::invoke_result_t<F, const DomainOutcome&>, Vec3>) {
      const Vec3 x = f(*o);
      v.insert(v.end(), {x[0], x[1], x[2]});
    } else {
      v.push_back(static_cast<T>(f(*o)));
    }
  }
  return v;
}

std::vector<double> flat(const std::vector<Vec3>& p) {
  std::vector<double> v;
  v.reserve(3 * p.size());
  for (const Vec3& x : p) v.insert(v.end(), {x[0], x[1], x[2]});
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
  const Settings* s;
  const DomainGrid* grid;
  double e_sample;
  std::string fingerprint;
  std::int64_t n_beads;
};

// Collective; `done` is the same on every rank. Replaces /tls and /search with the full catalogue.
void write_catalogue(H5File& f, const std::map<std::int64_t, DomainOutcome>& done, const RunInfo& info) {
  const DomainGrid& grid = *info.grid;
  const std::int64_t n_dom = grid.size();
  remove_object(f, "/tls");
  remove_object(f, "/search");
  auto h = [](std::int64_t n) { return static_cast<hsize_t>(n); };

  // /search: one row per domain of the grid (not done: zeros, empty landscape).
  std::vector<const DomainOutcome*> all(n_dom, nullptr);
  DomainOutcome blank;
  for (std::int64_t d = 0; d < n_dom; ++d) {
    auto it = done.find(d);
    all[d] = it != done.end() ? &it->second : &blank;
  }
  std::vector<double> centers;
  for (std::int64_t d = 0; d < n_dom; ++d) {
    const Vec3 c = grid.center(d);
    centers.insert(centers.end(), {c[0], c[1], c[2]});
  }
  write_replicated(f, "/search/domain_center", centers, {h(n_dom), 3});
  write_replicated(f, "/search/domain_done", column<int>(all, [](const DomainOutcome& o) { return o.status; }), {h(n_dom)});
  std::vector<std::int64_t> tls_row(n_dom, -1);
  std::vector<const DomainOutcome*> pairs;
  for (std::int64_t d = 0; d < n_dom; ++d)
    if (all[d]->has_pair) tls_row[d] = static_cast<std::int64_t>(pairs.size()), pairs.push_back(all[d]);
  write_replicated(f, "/search/tls_row", tls_row, {h(n_dom)});
  const std::pair<const char*, std::int64_t DomainOutcome::*> counts[] = {
      {"n_mobile", &DomainOutcome::n_mobile}, {"n_frozen", &DomainOutcome::n_frozen},
      {"n_attempts", &DomainOutcome::n_attempts}, {"n_events", &DomainOutcome::n_events}};
  for (const auto& [name, member] : counts)
    write_replicated(f, std::string("/search/") + name,
                     column<std::int64_t>(all, [m = member](const DomainOutcome& o) { return o.*m; }), {h(n_dom)});
  write_replicated(f, "/search/n_minima",
                   column<std::int64_t>(all, [](const DomainOutcome& o) { return o.minima_energy.size(); }), {h(n_dom)});
  write_replicated(f, "/search/n_saddles",
                   column<std::int64_t>(all, [](const DomainOutcome& o) { return o.saddle_energy.size(); }), {h(n_dom)});
  write_replicated(f, "/search/seconds", column<double>(all, [](const DomainOutcome& o) { return o.seconds; }), {h(n_dom)});
  {
    auto [off, e] = csr<double>(all, [](const DomainOutcome& o) -> const auto& { return o.minima_energy; });
    auto [off2, ok] = csr<int>(all, [](const DomainOutcome& o) -> const auto& { return o.minima_verified; });
    write_replicated(f, "/search/minima_offset", off, {off.size()});
    write_replicated(f, "/search/minima_energy", e, {e.size()});
    write_replicated(f, "/search/minima_verified", ok, {ok.size()});
  }
  {
    auto [off, e] = csr<double>(all, [](const DomainOutcome& o) -> const auto& { return o.saddle_energy; });
    auto [off2, ok] = csr<int>(all, [](const DomainOutcome& o) -> const auto& { return o.saddle_verified; });
    auto [off3, ends] = csr<std::int64_t>(all, [](const DomainOutcome& o) -> const auto& { return o.saddle_minima; });
    write_replicated(f, "/search/saddle_offset", off, {off.size()});
    write_replicated(f, "/search/saddle_energy", e, {e.size()});
    write_replicated(f, "/search/saddle_verified", ok, {ok.size()});
    write_replicated(f, "/search/saddle_minima", ends, {ends.size() / 2, 2});
  }
  const Settings& s = *info.s;
  const Vec3 a = grid.spacing();
  std::int64_t n_done = 0, n_failed = 0;
  for (const auto& [d, o] : done) (o.status == 1 ? n_done : n_failed) += 1;
  const std::pair<const char*, double> attrs[] = {
      {"xi", s.xi}, {"radius", grid.radius()}, {"spacing", s.spacing}, {"spacing_x", a[0]}, {"spacing_y", a[1]},
      {"spacing_z", a[2]}, {"n_x", double(grid.counts()[0])}, {"n_y", double(grid.counts()[1])},
      {"n_z", double(grid.counts()[2])}, {"shell", s.shell}, {"seed", double(s.seed)},
      {"n_domains", double(n_dom)}, {"n_done", double(n_done)}, {"n_failed", double(n_failed)},
      {"n_pairs", double(pairs.size())}, {"e_sample", info.e_sample}, {"n_beads", double(info.n_beads)},
      {"max_attempts", double(s.kernel.max_attempts)}, {"stop_after_stale", double(s.kernel.stop_after_stale)},
      {"dedup_distance", s.kernel.dedup_distance}, {"dedup_energy", s.kernel.dedup_energy},
      {"neb_images", double(s.kernel.neb.n_images)}, {"neb_spring", s.kernel.neb.spring},
      {"neb_tol", s.kernel.neb.f_tol}, {"f_tol", s.kernel.minimizer.f_tol}};
  for (const auto& [name, value] : attrs) write_attribute(f, "/search", name, value);
  for (const auto& [name, unit] : {std::pair{"domain_center", "sigma"}, std::pair{"minima_energy", "epsilon"},
                                   std::pair{"saddle_energy", "epsilon"}, std::pair{"seconds", "s"}})
    write_attribute(f, std::string("/search/") + name, "unit", unit);
  write_attribute(f, "/search", "fingerprint", info.fingerprint);
  write_attribute(f, "/search", "model", s.model);

  // /tls: one row per domain that yielded a pair, by domain index.
  const hsize_t n = pairs.size();
  write_replicated(f, "/tls/domain", column<std::int64_t>(pairs, [](const DomainOutcome& o) { return o.domain; }), {n});
  write_replicated(f, "/tls/center", column<double>(pairs, [](const DomainOutcome& o) { return o.center; }), {n, 3});
  write_replicated(f, "/tls/radius", std::vector<double>(n, grid.radius()), {n});
  const std::pair<const char*, double DomainOutcome::*> reals[] = {
      {"energy_a", &DomainOutcome::energy_a},       {"energy_b", &DomainOutcome::energy_b},
      {"asymmetry", &DomainOutcome::asymmetry},     {"barrier", &DomainOutcome::barrier},
      {"d_l", &DomainOutcome::d_l},                 {"participation", &DomainOutcome::participation},
      {"splitting", &DomainOutcome::splitting},     {"splitting_kelvin", &DomainOutcome::splitting_kelvin},
      {"path_length", &DomainOutcome::path_length}, {"distance", &DomainOutcome::distance}};
  for (const auto& [name, member] : reals)
    write_replicated(f, std::string("/tls/") + name,
                     column<double>(pairs, [m = member](const DomainOutcome& o) { return o.*m; }), {n});
  write_replicated(f, "/tls/n_moving", column<std::int64_t>(pairs, [](const DomainOutcome& o) { return o.n_moving; }), {n});
  write_replicated(f, "/tls/intermediate_minima",
                   column<std::int64_t>(pairs, [](const DomainOutcome& o) { return o.intermediate_minima; }), {n});
  const std::pair<const char*, int DomainOutcome::*> flags[] = {{"over_barrier", &DomainOutcome::over_barrier},
                                                                {"saddle_verified", &DomainOutcome::saddle_ok},
                                                                {"neb_converged", &DomainOutcome::neb_converged}};
  for (const auto& [name, member] : flags)
    write_replicated(f, std::string("/tls/") + name,
                     column<int>(pairs, [m = member](const DomainOutcome& o) { return o.*m; }), {n});
  write_replicated(f, "/tls/mu_direct", column<double>(pairs, [](const DomainOutcome& o) { return o.mu_direct; }), {n, 3});
  write_replicated(f, "/tls/mu_eq13", std::vector<double>(3 * n, std::numeric_limits<double>::quiet_NaN()), {n, 3});
  {
    auto [off, ids] = csr<std::int64_t>(pairs, [](const DomainOutcome& o) -> const auto& { return o.mobile_id; });
    std::vector<double> pa, pb;
    for (const auto* o : pairs) {
      const auto a1 = flat(o->position_a), b1 = flat(o->position_b);
      pa.insert(pa.end(), a1.begin(), a1.end());
      pb.insert(pb.end(), b1.begin(), b1.end());
    }
    write_replicated(f, "/tls/mobile_offset", off, {off.size()});
    write_replicated(f, "/tls/mobile_id", ids, {ids.size()});
    write_replicated(f, "/tls/position_a", pa, {ids.size(), 3});
    write_replicated(f, "/tls/position_b", pb, {ids.size(), 3});
  }
  {
    auto [off, e] = csr<double>(pairs, [](const DomainOutcome& o) -> const auto& { return o.profile_energy; });
    auto [off2, sc] = csr<double>(pairs, [](const DomainOutcome& o) -> const auto& { return o.profile_coordinate; });
    write_replicated(f, "/tls/profile_offset", off, {off.size()});
    write_replicated(f, "/tls/profile_energy", e, {e.size()});
    write_replicated(f, "/tls/profile_coordinate", sc, {sc.size()});
  }
  // Units of every dataset (reduced LJ units; see docs/file-format.md).
  const std::pair<const char*, const char*> units[] = {
      {"center", "sigma"}, {"radius", "sigma"}, {"energy_a", "epsilon"}, {"energy_b", "epsilon"},
      {"asymmetry", "epsilon"}, {"barrier", "epsilon"}, {"d_l", "sigma"}, {"n_moving", "1"},
      {"participation", "1"}, {"splitting", "epsilon"}, {"splitting_kelvin", "K"},
      {"path_length", "sigma m^1/2"}, {"distance", "sigma m^1/2"}, {"mu_direct", "q* sigma"},
      {"mu_eq13", "q* sigma"}, {"position_a", "sigma"}, {"position_b", "sigma"}, {"profile_energy", "epsilon"},
      {"profile_coordinate", "sigma m^1/2"}};
  for (const auto& [name, unit] : units) write_attribute(f, std::string("/tls/") + name, "unit", unit);
  write_attribute(f, "/tls", "units", "lj");
  write_attribute(f, "/tls", "n_pairs", double(n));
  write_attribute(f, "/tls", "mu_eq13", "NaN until the dipole stage fills it");
}

// Collective: the outcomes stored in the file (all ranks read the same), if its /search was made
// from the same configuration and settings; otherwise empty, and *why says so.
std::map<std::int64_t, DomainOutcome> read_catalogue(H5File& f, const RunInfo& info, std::string* why) {
  std::map<std::int64_t, DomainOutcome> done;
  if (!has_object(f, "/search")) return done;
  const std::string fp = read_string_attribute(f, "/search", "fingerprint");
  if (fp != info.fingerprint) {
    *why = "the /search in the file was made from another configuration or other [search] settings";
    return done;
  }
  std::vector<hsize_t> dims;
  const auto status = read_dataset<int>(f, "/search/domain_done");
  const auto n_mobile = read_dataset<std::int64_t>(f, "/search/n_mobile");
  const auto n_frozen = read_dataset<std::int64_t>(f, "/search/n_frozen");
  const auto n_attempts = read_dataset<std::int64_t>(f, "/search/n_attempts");
  const auto n_events = read_dataset<std::int64_t>(f, "/search/n_events");
  const auto seconds = read_dataset<double>(f, "/search/seconds");
  const auto tls_row = read_dataset<std::int64_t>(f, "/search/tls_row");
  const auto m_off = read_dataset<std::int64_t>(f, "/search/minima_offset");
  const auto m_e = read_dataset<double>(f, "/search/minima_energy");
  const auto m_ok = read_dataset<int>(f, "/search/minima_verified");
  const auto s_off = read_dataset<std::int64_t>(f, "/search/saddle_offset");
  const auto s_e = read_dataset<double>(f, "/search/saddle_energy");
  const auto s_ok = read_dataset<int>(f, "/search/saddle_verified");
  const auto s_ends = read_dataset<std::int64_t>(f, "/search/saddle_minima");
  const std::int64_t n_dom = info.grid->size();
  agree(f.comm(), static_cast<std::int64_t>(status.size()) == n_dom, f.path() + ": /search has the wrong number of domains");

  auto reals = [&](const char* name) { return read_dataset<double>(f, std::string("/tls/") + name); };
  const auto center = reals("center"), e_a = reals("energy_a"), e_b = reals("energy_b"), asym = reals("asymmetry");
  const auto barrier = reals("barrier"), d_l = reals("d_l"), part = reals("participation"), spl = reals("splitting");
  const auto spl_k = reals("splitting_kelvin"), path = reals("path_length"), dist = reals("distance");
  const auto mu = reals("mu_direct"), pa = reals("position_a"), pb = reals("position_b");
  const auto prof_e = reals("profile_energy"), prof_s = reals("profile_coordinate");
  const auto n_moving = read_dataset<std::int64_t>(f, "/tls/n_moving");
  const auto inter = read_dataset<std::int64_t>(f, "/tls/intermediate_minima");
  const auto over = read_dataset<int>(f, "/tls/over_barrier");
  const auto sad_ok = read_dataset<int>(f, "/tls/saddle_verified");
  const auto neb_ok = read_dataset<int>(f, "/tls/neb_converged");
  const auto mob_off = read_dataset<std::int64_t>(f, "/tls/mobile_offset");
  const auto mob_id = read_dataset<std::int64_t>(f, "/tls/mobile_id");
  const auto prof_off = read_dataset<std::int64_t>(f, "/tls/profile_offset");

  auto vec3 = [](const std::vector<double>& v, std::int64_t k) { return Vec3(v[3 * k], v[3 * k + 1], v[3 * k + 2]); };
  for (std::int64_t d = 0; d < n_dom; ++d) {
    if (status[d] == 0) continue;
    DomainOutcome o;
    o.domain = d;
    o.status = status[d];
    o.center = info.grid->center(d);
    o.n_mobile = n_mobile[d], o.n_frozen = n_frozen[d], o.n_attempts = n_attempts[d], o.n_events = n_events[d];
    o.seconds = seconds[d];
    o.minima_energy.assign(m_e.begin() + m_off[d], m_e.begin() + m_off[d + 1]);
    o.minima_verified.assign(m_ok.begin() + m_off[d], m_ok.begin() + m_off[d + 1]);
    o.saddle_energy.assign(s_e.begin() + s_off[d], s_e.begin() + s_off[d + 1]);
    o.saddle_verified.assign(s_ok.begin() + s_off[d], s_ok.begin() + s_off[d + 1]);
    o.saddle_minima.assign(s_ends.begin() + 2 * s_off[d], s_ends.begin() + 2 * s_off[d + 1]);
    const std::int64_t r = tls_row[d];
    if (r >= 0) {
      o.has_pair = true;
      o.center = vec3(center, r);
      o.energy_a = e_a[r], o.energy_b = e_b[r], o.asymmetry = asym[r], o.barrier = barrier[r], o.d_l = d_l[r];
      o.participation = part[r], o.splitting = spl[r], o.splitting_kelvin = spl_k[r], o.path_length = path[r];
      o.distance = dist[r], o.n_moving = n_moving[r], o.intermediate_minima = inter[r], o.over_barrier = over[r];
      o.saddle_ok = sad_ok[r], o.neb_converged = neb_ok[r], o.mu_direct = vec3(mu, r);
      o.profile_energy.assign(prof_e.begin() + prof_off[r], prof_e.begin() + prof_off[r + 1]);
      o.profile_coordinate.assign(prof_s.begin() + prof_off[r], prof_s.begin() + prof_off[r + 1]);
      o.mobile_id.assign(mob_id.begin() + mob_off[r], mob_id.begin() + mob_off[r + 1]);
      for (std::int64_t k = mob_off[r]; k < mob_off[r + 1]; ++k) {
        o.position_a.push_back(vec3(pa, k));
        o.position_b.push_back(vec3(pb, k));
      }
    }
    done.emplace(d, std::move(o));
  }
  return done;
}

std::string format(const char* fmt, auto... args) {
  char b[512];
  std::snprintf(b, sizeof b, fmt, args...);
  return b;
}

}  // namespace

// ---- the stage --------------------------------------------------------------------------------

void run_search(const Input& in, MPI_Comm comm) {
  const std::string path = in.get_string("run.output");
  const Settings s = settings_from(in);
  Progress progress(comm, "search");
  int rank = 0;
  MPI_Comm_rank(comm, &rank);

  // The packing, replicated on every rank (domains.hpp), and the whole-sample energy.
  Configuration c = read_configuration(path, comm);
  const std::int64_t n_beads = c.n_global;
  const GlobalBeads g = gather_by_id(c.beads, comm);
  const LJTable table = make_model(s.model);
  double e_sample = 0.0;
  {
    System sys(comm, c.box, table, in.get_double("system.skin"), in.get_int3("system.proc_grid"));
    sys.set_beads(std::move(c.beads));
    sys.compute_forces();
    e_sample = sys.potential_energy();
  }
  const DomainGrid grid = [&] {
    try {
      return DomainGrid(c.box, s.xi, s.spacing);
    } catch (const Error& e) {
      in.fail("search.xi", e.what());
    }
  }();
  const RunInfo info{&s, &grid, e_sample, fingerprint(s, c.box, g), n_beads};

  std::map<std::int64_t, DomainOutcome> done;
  {
    H5File f(path, H5File::Mode::read_only, comm);
    std::string why;
    done = read_catalogue(f, info, &why);
    if (!why.empty()) progress.say(why + ": starting over (the old /search and /tls will be replaced)");
  }
  const std::int64_t n_dom = grid.size();
  const std::int64_t n_target = s.max_domains > 0 ? std::min(s.max_domains, n_dom) : n_dom;
  std::vector<std::int64_t> todo;
  for (std::int64_t d = 0; d < n_target; ++d)
    if (!done.count(d)) todo.push_back(d);
  const Vec3 a = grid.spacing();
  progress.say(format("%lld beads, E_sample = %.10f; %lld domains (%d x %d x %d, spacing %.4g x %.4g x %.4g), "
                      "R_xi = %.4f, shell %.4g sigma; %lld to search now, %lld already in the file",
                      static_cast<long long>(n_beads), e_sample, static_cast<long long>(n_dom), grid.counts()[0],
                      grid.counts()[1], grid.counts()[2], a[0], a[1], a[2], grid.radius(), s.shell,
                      static_cast<long long>(todo.size()), static_cast<long long>(n_target - todo.size())));

  auto work = [&](std::int64_t d) {
    const LocalCopy copy = local_copy(c.box, g.pos, g.species, g.charge, grid.center(d), grid.radius(), s.shell);
    DomainOutcome o;
    try {
      o = search_one_domain(copy, table, s.kernel, s.seed, d, e_sample);
    } catch (const std::exception& e) {
      if (!s.skip_failed) throw;
      o = DomainOutcome{};
      o.domain = d, o.status = 2, o.error = e.what(), o.center = copy.center;
      o.n_mobile = copy.n_mobile, o.n_frozen = copy.size() - copy.n_mobile;
      std::fprintf(stderr, "[search] domain %lld failed (skipped, on_error = \"skip\"): %s\n",
                   static_cast<long long>(d), e.what());
    }
    WorkOutput out;
    out.counters = {o.has_pair ? 1 : 0, o.n_attempts};
    out.bytes = serialize(o);
    return out;
  };

  progress.begin("domains");
  std::int64_t n_finished = 0, pairs_before = 0, attempts_before_batch = 0;
  for (const auto& [d, o] : done) pairs_before += o.has_pair;
  const double t0 = MPI_Wtime();
  // Nothing to do (a rerun of a finished search): the file is left exactly as it is.
  for (std::size_t start = 0; start < todo.size(); start += s.checkpoint_every) {
    const std::vector<std::int64_t> batch(todo.begin() + start,
                                          todo.begin() + std::min(todo.size(), start + s.checkpoint_every));
    WorkResult r = run_work_queue(comm, batch, work, [&](const WorkTally& t) {
      const double dt = MPI_Wtime() - t0;
      progress.report(static_cast<long>(n_finished + t.done), static_cast<long>(todo.size()),
                      format("pairs %lld, %.2f attempts/s", static_cast<long long>(pairs_before + t.counters[0]),
                             dt > 0 ? static_cast<double>(attempts_before_batch + t.counters[1]) / dt : 0.0));
    });
    // Rank 0 has the batch's results: broadcast them so every rank holds the same catalogue.
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
    for (std::size_t at = 0; at < packed.size();) {
      std::uint64_t len;
      std::memcpy(&len, packed.data() + at, 8);
      DomainOutcome o = deserialize_outcome(packed.data() + at + 8, len);
      at += 8 + len;
      pairs_before += o.has_pair;
      attempts_before_batch += o.n_attempts;
      const std::int64_t d = o.domain;
      done[d] = std::move(o);
      ++n_finished;
    }
    {
      H5File f(path, H5File::Mode::update, comm);
      write_catalogue(f, done, info);
      f.commit();
    }
    if (r.failed)
      throw Error("search stopped: " + r.message + " (the " + std::to_string(done.size()) +
                  " domains finished are saved in " + path +
                  "; a rerun continues from there; [search] on_error = \"skip\" records failing domains and goes on)");
    progress.say(format("checkpoint: %lld of %lld domains in %s", static_cast<long long>(done.size()),
                        static_cast<long long>(n_dom), path.c_str()));
  }

  std::int64_t n_pairs = 0, n_failed = 0;
  double domain_seconds = 0.0;
  for (const auto& [d, o] : done) n_pairs += o.has_pair, n_failed += o.status == 2, domain_seconds += o.seconds;
  progress.say(format("%lld of %lld domains done (%lld failed), %lld TLS pairs; this run searched %lld domains in "
                      "%.1f s; wrote /tls and /search to %s",
                      static_cast<long long>(done.size()), static_cast<long long>(n_dom),
                      static_cast<long long>(n_failed), static_cast<long long>(n_pairs),
                      static_cast<long long>(n_finished), progress.elapsed(), path.c_str()));
}

}  // namespace tlsmap
