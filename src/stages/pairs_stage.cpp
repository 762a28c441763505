// The `tlsmap pairs` stage: catalogue rows from state pairs given by another code (see
// include/tlsmap/stages/pairs_stage.hpp for the design, docs/pairs.md for the rows and /pairs).
//
// Data layout: every distinct state is held on every rank as positions by id − 1 (24 bytes a bead
// per state; species, charges and the box are common and kept once). The pair analyses are serial
// and independent, so they are handed out by the work queue; everything a pair's analysis reads is
// replicated, so any rank computes the same row, and the file does not depend on the rank count.
#include "tlsmap/stages/pairs_stage.hpp"

#include "tlsmap/core/bytes.hpp"
#include "tlsmap/core/error.hpp"
#include "tlsmap/core/heartbeat.hpp"
#include "tlsmap/core/progress.hpp"
#include "tlsmap/core/reduction.hpp"
#include "tlsmap/couplings/active_coulomb.hpp"
#include "tlsmap/io/catalogue.hpp"
#include "tlsmap/io/config_file.hpp"
#include "tlsmap/io/h5md.hpp"
#include "tlsmap/io/input.hpp"
#include "tlsmap/io/lammps_data.hpp"
#include "tlsmap/io/units.hpp"
#include "tlsmap/parallel/domains.hpp"
#include "tlsmap/parallel/gather.hpp"
#include "tlsmap/parallel/work_queue.hpp"
#include "tlsmap/search/event_search.hpp"
#include "tlsmap/search/relax.hpp"
#include "tlsmap/stages/active_charges.hpp"
#include "tlsmap/stages/search_stage.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

namespace tlsmap {

namespace fs = std::filesystem;

std::vector<StatePair> parse_pair_list(const std::string& text, const std::string& list_path) {
  const fs::path base = fs::path(list_path).parent_path();
  auto resolve = [&](const std::string& p) {
    const fs::path q(p);
    return (q.is_absolute() ? q : base / q).lexically_normal().string();
  };
  std::vector<StatePair> out;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string s; words >> s;) w.push_back(s);
    if (w.empty()) continue;
    const std::string where = list_path + ":" + std::to_string(n) + ": ";
    if (w.size() != 2)
      throw Error(where + "expected two paths (state A, then state B), found " + std::to_string(w.size()) +
                  (w.size() > 2 ? " (a path cannot contain spaces)" : ""));
    StatePair p{resolve(w[0]), resolve(w[1]), n};
    if (p.a == p.b) throw Error(where + "state A and state B are the same file, " + p.a);
    out.push_back(std::move(p));
  }
  if (out.empty()) throw Error(list_path + ": no pairs (one pair per line: two paths, state A then state B)");
  return out;
}

namespace {

using Vector = LocalModel::Vector;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string fmt(double v, int digits = 6) {
  std::ostringstream os;
  os << std::setprecision(digits) << v;
  return os.str();
}

// ---- settings ---------------------------------------------------------------------------------

struct PairsSettings {
  std::string list, format, model, output;
  double margin = 1.5, shell = 5.0, skin = 0.3, core_threshold = 0.02;
  std::int64_t max_mobile = 2000;
  bool check_whole = false;
  double heartbeat = 60.0;   // run.heartbeat (s)
  std::string neb = "auto";  // pairs.neb as given
  bool whole = false;        // resolved once the sample's size is known (resolve_neb)
  Int3 proc_grid = {0, 0, 0};
  SearchParams kernel;  // the search's pair analysis, with the search's keys

  // with_list: `tlsmap pairs` (pairs.list required); without: another sampler's pairs (md-pairs).
  static PairsSettings from_input(const Input& in, bool with_list = true);
};

// The list's path: relative to the input file's directory.
std::string list_path(const Input& in) {
  if (!in.has("pairs.list"))
    in.fail("pairs.list", "is required by `tlsmap pairs`: a text file with two state files (A, B) per line");
  const fs::path p(in.get_string("pairs.list"));
  return (p.is_absolute() ? p : fs::path(in.path()).parent_path() / p).lexically_normal().string();
}

PairsSettings PairsSettings::from_input(const Input& in, bool with_list) {
  PairsSettings s;
  if (with_list) s.list = list_path(in);
  s.format = in.get_string("pairs.format");
  s.margin = in.get_double("pairs.margin");
  s.core_threshold = in.get_double("pairs.core_threshold");
  s.check_whole = in.get_bool("pairs.check_whole");
  s.heartbeat = in.get_double("run.heartbeat");
  s.neb = in.get_string("pairs.neb");
  s.max_mobile = in.get_int("pairs.max_mobile");
  s.output = output_path(in);
  s.model = in.get_string("system.model");
  s.skin = in.get_double("system.skin");
  s.proc_grid = in.get_int3("system.proc_grid");
  charges_act(in);  // charge.mode against the model (set_physics reads [coulomb] once the box is known)
  const double two_rc = 2.0 * model_by_name(s.model).max_cutoff();
  s.shell = in.has("search.shell") ? in.get_double("search.shell") : two_rc;
  if (s.shell < two_rc) in.fail("search.shell", "must be at least 2 r_c = " + fmt(two_rc) + " (sigma) of the model");
  SearchParams& k = s.kernel;
  k.minimizer.f_tol = in.get_double("minimize.f_tol");
  k.dedup_distance = in.get_double("search.dedup_distance");
  k.dedup_energy = in.get_double("search.dedup_energy");
  k.neb = neb_params_from(in);
  k.units = PhysicalUnits::from_input(in);
  k.max_splitting = max_splitting_from(in);
  return s;
}

// ---- the states -------------------------------------------------------------------------------

// What every state shares (taken from the first state file read).
struct Sample {
  Box box;
  std::vector<int> species;
  std::vector<double> charge;
  std::string first;                  // the file they were taken from
  std::vector<double> diameter;       // per-bead diameters (models with diameters), else empty
  std::vector<std::int64_t> partner;  // bond partner ids (bonded models), else empty
  // Active charges: the whole sample's Coulomb split, and what the local models add (the bond, the
  // shifted-force Coulomb; their far-field forces are each state A's, PairInput::force_a).
  std::optional<CoulombParams> coulomb;
  LocalPhysics local;
};

Model sample_model(const std::string& name, const Sample& sample) {
  return model_for_sample(name, sample.diameter, sample.first);
}

// Collective: the list file's text on every rank (rank 0 reads it), or Error naming it.
std::string read_list(const std::string& path, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string text, error;
  if (rank == 0) {
    std::error_code ec;
    std::ifstream f(path, std::ios::binary);
    std::ostringstream os;
    if (fs::is_directory(path, ec)) error = path + ": the pair list ([pairs] list) is a directory";
    else if (!f) error = path + ": cannot read the pair list ([pairs] list): " + std::strerror(errno);
    else os << f.rdbuf(), text = os.str();
  }
  root_verdict(comm, error);
  std::uint64_t n = text.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm);
  text.resize(n);
  MPI_Bcast(text.data(), static_cast<int>(n), MPI_CHAR, 0, comm);
  return text;
}

// Collective: [run] output must not be one of the states (it is replaced on success).
void check_output_is_no_state(const std::vector<StatePair>& pairs, const std::string& output, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string error;
  std::error_code ec;
  if (rank == 0 && fs::exists(output, ec))
    for (const StatePair& p : pairs)
      for (const std::string* path : {&p.a, &p.b})
        if (error.empty() && fs::equivalent(output, *path, ec))
          error = *path + ": is [run] output too, which `tlsmap pairs` replaces; write the catalogue to another file";
  root_verdict(comm, error);
}

// Collective: one state file, every bead on every rank by id − 1, positions wrapped into *box.
GlobalBeads load_state(const std::string& path, const std::string& format, bool diameters, MPI_Comm comm, Box* box) {
  Beads beads;
  const std::string use = "the pairs stage (mass-weighted paths, the tunnelling splitting)";
  if (diameters) {  // a LAMMPS file's charge column, or /particles/all/diameter (config_file.hpp)
    LoadedConfiguration c = load_configuration(path, comm, true);
    require_unit_masses(c.masses, path, use);
    *box = c.box, beads = std::move(c.beads);
  } else if (format == "lammps") {
    LammpsData d = read_lammps_data(path, comm);
    require_unit_masses(d.masses, path, use);
    *box = d.box, beads = std::move(d.beads);
  } else if (format == "h5md") {
    Configuration c = read_configuration(path, comm);
    *box = c.box, beads = std::move(c.beads);
  } else {
    LoadedConfiguration c = load_configuration(path, comm);
    require_unit_masses(c.masses, path, use);
    *box = c.box, beads = std::move(c.beads);
  }
  GlobalBeads g = gather_by_id(beads, comm);
  for (Vec3& x : g.pos) box->wrap(x);
  return g;
}

// Not collective (every rank holds the same data, so every rank throws alike): a state must hold the
// beads of the first one, in the same box.
void check_same_sample(const Sample& ref, const Box& box, const GlobalBeads& g, const std::string& path) {
  const std::string rule =
      ": every state must hold the same beads (ids 1..N, species, charges, diameters, bonds) in the same box";
  auto fail = [&](const std::string& what) { throw Error(path + ": " + what + rule); };
  if (g.size() != ref.species.size())
    fail(std::to_string(g.size()) + " beads, but " + ref.first + " has " + std::to_string(ref.species.size()));
  for (int d = 0; d < 3; ++d) {
    const double tol = 1e-12 * std::max(1.0, std::abs(ref.box.len[d]));
    if (std::abs(box.len[d] - ref.box.len[d]) > tol || std::abs(box.lo[d] - ref.box.lo[d]) > tol)
      fail("box edge " + std::to_string(d) + " is [" + fmt(box.lo[d], 17) + ", +" + fmt(box.len[d], 17) + "), in " +
           ref.first + " [" + fmt(ref.box.lo[d], 17) + ", +" + fmt(ref.box.len[d], 17) + ")");
  }
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (g.species[i] != ref.species[i])
      fail("bead " + std::to_string(i + 1) + " has species " + std::to_string(g.species[i]) + ", in " + ref.first +
           " " + std::to_string(ref.species[i]));
    if (std::abs(g.charge[i] - ref.charge[i]) > 1e-12)
      fail("bead " + std::to_string(i + 1) + " has charge " + fmt(g.charge[i], 17) + ", in " + ref.first + " " +
           fmt(ref.charge[i], 17));
    if (!ref.diameter.empty() && g.diameter[i] != ref.diameter[i])
      fail("bead " + std::to_string(i + 1) + " has diameter " + fmt(g.diameter[i], 17) + ", in " + ref.first + " " +
           fmt(ref.diameter[i], 17));
  }
  if (g.partner != ref.partner) {
    std::size_t i = 0;
    while (i < g.partner.size() && i < ref.partner.size() && g.partner[i] == ref.partner[i]) ++i;
    fail(g.partner.empty() || ref.partner.empty()
             ? std::string(g.partner.empty() ? "has no bonds" : "has bonds") + ", " + ref.first +
                   (ref.partner.empty() ? " has none" : " has")
             : "bead " + std::to_string(i + 1) + " has bond partner " + std::to_string(g.partner[i]) + ", in " +
                   ref.first + " " + std::to_string(ref.partner[i]));
  }
}

// Collective (every rank alike): the bonds and the charges' physics of the sample, from the first
// state (its bonds must be the model's) and the input; Error or Input::fail otherwise.
void set_physics(const Input& in, const PairsSettings& s, Sample& sample) {
  const Model model = model_by_name(s.model);
  check_bonds_match_model(model, input_model_setting(s.model), !sample.partner.empty(), sample.first);
  if (model.bond) sample.local.bond = *model.bond;
  sample.coulomb = active_coulomb_from_input(in, sample.box, s.skin);
  if (!sample.coulomb) return;
  // The local model's Coulomb list reaches R_c + 0.5 (docs/polar.md), within half the box.
  if (s.shell + 0.5 > 0.5 * sample.box.len.minCoeff())
    in.fail("search.shell",
            "is the local model's Coulomb cut-off with active charges: it must be at most half the "
            "box edge minus 0.5 (" +
                fmt(0.5 * sample.box.len.minCoeff() - 0.5) + " for " + sample.first + "; a larger sample is needed)");
  sample.local.coulomb = ShiftedForceCoulomb(s.shell, 1.0 / s.shell, sample.coulomb->epsilon);
}

// Collective: every distinct state of the list, checked against the first, in list order of first use.
std::map<std::string, std::vector<Vec3>> load_states(const std::vector<StatePair>& pairs, const PairsSettings& s,
                                                     MPI_Comm comm, Sample* sample) {
  std::map<std::string, std::vector<Vec3>> states;
  for (const StatePair& p : pairs)
    for (const std::string* path : {&p.a, &p.b}) {
      if (states.count(*path)) continue;
      Box box;
      GlobalBeads g = load_state(*path, s.format, model_has_diameters(s.model), comm, &box);
      if (states.empty()) *sample = Sample{box, g.species, g.charge, *path, g.diameter, g.partner, {}, {}};
      check_same_sample(*sample, box, g, *path);
      for (Vec3& x : g.pos) sample->box.wrap(x);  // within 1e-12 of it: wrap into the common box
      states.emplace(*path, std::move(g.pos));
    }
  return states;
}

// The whole sample of beads g (relax.hpp), with the charges acting when they do.
WholeSample whole_sample(const Sample& sample, const PairsSettings& s, const GlobalBeads* g, MPI_Comm comm) {
  WholeSample w{comm, sample.box, g, sample_model(s.model, sample), s.skin, s.proc_grid};
  if (sample.coulomb) {
    w.coulomb_cutoff = sample.coulomb->cutoff;
    w.coulomb_term = [params = *sample.coulomb, skin = s.skin](const System& sys) {
      return std::make_shared<ActiveCoulomb>(sys, params, skin);
    };
  }
  return w;
}

GlobalBeads sample_beads(const Sample& sample, const std::vector<Vec3>& pos) {
  GlobalBeads g;
  g.pos = pos, g.species = sample.species, g.charge = sample.charge, g.diameter = sample.diameter;
  g.partner = sample.partner;
  return g;
}

// Collective: the whole sample's forces in each state (by id − 1), which the local models' far-field
// term needs with active charges (docs/polar.md); empty without.
std::map<std::string, std::vector<Vec3>> state_forces(const Sample& sample, const PairsSettings& s,
                                                      const std::map<std::string, std::vector<Vec3>>& x,
                                                      MPI_Comm comm) {
  std::map<std::string, std::vector<Vec3>> out;
  if (!sample.coulomb) return out;
  for (const auto& [path, pos] : x) {
    const GlobalBeads g = sample_beads(sample, pos);
    out[path] = whole_sample_forces(whole_sample(sample, s, &g, comm), pos);
  }
  return out;
}

// Collective: minimise one state with every bead free (relax.hpp); returns its energy.
double minimise_state(const Sample& sample, const PairsSettings& s, const std::string& path, std::vector<Vec3>& pos,
                      MPI_Comm comm) {
  const GlobalBeads g = sample_beads(sample, pos);
  const WholeSample w = whole_sample(sample, s, &g, comm);
  bool converged = false;
  std::vector<Vec3> out;
  const double e = relax_state(w, {}, {}, s.kernel.minimizer.f_tol, &out, &converged);
  if (!converged)
    throw Error(path + ": the minimisation with every bead free did not reach max|F| <= minimize.f_tol = " +
                fmt(s.kernel.minimizer.f_tol) + " (is it a configuration of system.model = \"" + s.model + "\"?)");
  for (Vec3& x : out) sample.box.wrap(x);
  pos = std::move(out);
  return e;
}

// ---- one pair ---------------------------------------------------------------------------------

// The beads that move between the two whole-sample minima and the sphere the analysis frees.
struct Region {
  Vec3 center = Vec3::Zero();
  double radius = 0.0;            // of the mobile sphere (σ)
  double max_displacement = 0.0;  // largest |d_i| over the sample (σ)
  std::int64_t n_moving = 0;      // beads with |d_i| > moving_threshold
  std::int64_t n_mobile = 0;      // mobile beads of the region's local copy
  int grown = 0;                  // times the radius was enlarged by `margin` (B unstable in the shell)
};

void put_region(ByteWriter& w, const Region& r) {
  w.put(r.center), w.put(r.radius), w.put(r.max_displacement), w.put(r.n_moving), w.put(r.n_mobile), w.put(r.grown);
}
Region get_region(ByteReader& rd) {
  Region r;
  rd.get(r.center), rd.get(r.radius), rd.get(r.max_displacement), rd.get(r.n_moving), rd.get(r.n_mobile),
      rd.get(r.grown);
  return r;
}

// n_moving counts the beads with |d_i| > threshold; the region is built around those with
// |d_i| > core (pairs.core_threshold), or around the one that moved most if none did.
Region region_of(const Box& box, const std::vector<Vec3>& a, const std::vector<Vec3>& b, double threshold, double core,
                 double margin) {
  Region r;
  std::vector<std::size_t> moving;
  std::size_t largest = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = box.minimum_image(Vec3(b[i] - a[i])).norm();
    if (d > r.max_displacement) r.max_displacement = d, largest = i;
    if (d > threshold) ++r.n_moving;
    if (d > core) moving.push_back(i);
  }
  if (moving.empty()) moving.push_back(largest);
  const Vec3 ref = a[moving[0]];
  Vec3 sum = Vec3::Zero();
  for (std::size_t i : moving) sum += box.minimum_image(Vec3(a[i] - ref));
  r.center = ref + sum / static_cast<double>(moving.size());
  box.wrap(r.center);
  for (std::size_t i : moving)
    for (const Vec3* x : {&a[i], &b[i]}) r.radius = std::max(r.radius, box.minimum_image(Vec3(*x - r.center)).norm());
  r.radius += margin;
  return r;
}

// The local copy of a region (domains.hpp), cut from state A. A sphere that holds every bead becomes
// the whole sample with the bead farthest from the centre pinned: with no frozen bead the model
// would be a free cluster and remove rigid rotations, wrong in a periodic box.
LocalCopy region_copy(const Sample& sample, const std::vector<Vec3>& a, const Vec3& center, double radius,
                      double shell) {
  LocalCopy c =
      local_copy(sample.box, a, sample.species, sample.charge, center, radius, shell, sample.diameter, sample.partner);
  if (c.size() > c.n_mobile || c.n_mobile < 2) return c;
  int pin = 0;
  for (int i = 1; i < c.n_mobile; ++i)
    if (sample.box.minimum_image(Vec3(c.pos[i] - center)).norm() >
        sample.box.minimum_image(Vec3(c.pos[pin] - center)).norm())
      pin = i;
  std::rotate(c.id.begin() + pin, c.id.begin() + pin + 1, c.id.end());  // the pinned bead last: frozen
  std::rotate(c.species.begin() + pin, c.species.begin() + pin + 1, c.species.end());
  std::rotate(c.charge.begin() + pin, c.charge.begin() + pin + 1, c.charge.end());
  if (!c.diameter.empty()) std::rotate(c.diameter.begin() + pin, c.diameter.begin() + pin + 1, c.diameter.end());
  // A pinned bead's partner stays mobile: the local model bonds a mobile bead to a frozen one.
  if (!c.partner.empty()) std::rotate(c.partner.begin() + pin, c.partner.begin() + pin + 1, c.partner.end());
  std::rotate(c.pos.begin() + pin, c.pos.begin() + pin + 1, c.pos.end());
  c.n_mobile -= 1;
  return c;
}

// B's mobile coordinates as near images of A's. With a single frozen bead (the whole sample) B is
// first translated so that bead sits where A has it: an exact symmetry of the periodic sample.
Vector b_coordinates(const LocalCopy& c, const LocalModel& model, const std::vector<Vec3>& a,
                     const std::vector<Vec3>& b) {
  Vec3 shift = Vec3::Zero();
  if (c.size() - c.n_mobile == 1) shift = c.box.minimum_image(Vec3(a[c.id.back() - 1] - b[c.id.back() - 1]));
  Vector x = model.initial_coordinates();
  for (int i = 0; i < c.n_mobile; ++i) {
    const std::size_t k = c.id[i] - 1;
    x.segment<3>(3 * i) += c.box.minimum_image(Vec3(b[k] + shift - a[k]));
  }
  return x;
}

// Whatever a pair's row does not hold: the shell checks and the whole-sample comparison.
struct PairExtras {
  Region region;
  int shares_reference = 1;                             // state A is /particles/all (mobile_id = the region)
  double asymmetry_shell = 0.0;                         // E(B re-minimised in the frozen shell) − E_A (ε)
  double b_shell_deviation = 0.0;                       // max |x_B(shell) − x_B(whole sample)| over the region (σ)
  double barrier_whole = kNaN, asymmetry_whole = kNaN;  // check_whole only
  int intermediate_minima_whole = -1, neb_converged_whole = -1;
};

struct PairOutcome {
  TlsRow row;
  PairExtras x;
};

std::vector<char> serialize(const PairOutcome& o) {
  ByteWriter w;
  put_row(w, o.row);
  const PairExtras& x = o.x;
  put_region(w, x.region);
  w.put(x.shares_reference), w.put(x.asymmetry_shell), w.put(x.b_shell_deviation), w.put(x.barrier_whole);
  w.put(x.asymmetry_whole), w.put(x.intermediate_minima_whole), w.put(x.neb_converged_whole);
  return w.take();
}

PairOutcome deserialize_pair(const char* data, std::size_t size) {
  ByteReader r(data, size);
  PairOutcome o;
  o.row = get_row(r);
  PairExtras& x = o.x;
  x.region = get_region(r);
  r.get(x.shares_reference), r.get(x.asymmetry_shell), r.get(x.b_shell_deviation), r.get(x.barrier_whole);
  r.get(x.asymmetry_whole), r.get(x.intermediate_minima_whole), r.get(x.neb_converged_whole);
  if (!r.at_end()) throw Error("corrupt pair result (trailing bytes)");
  return o;
}

// Everything one pair's analysis reads (replicated on every rank).
struct PairInput {
  const Sample* sample;
  const LJTable* table;
  const PairsSettings* s;
  const StatePair* pair;
  const std::vector<Vec3>* a;    // whole-sample minimum A, by id − 1
  const std::vector<Vec3>* b;    // whole-sample minimum B
  const std::vector<Vec3>* ref;  // /particles/all (state A of the first pair)
  double energy_a = 0.0, energy_b = 0.0;
  Region region;
  const std::vector<Vec3>* force_a = nullptr;  // active charges: the whole sample's forces in A, by id − 1
  std::string where() const { return s->list + ":" + std::to_string(pair->line) + ": "; }
};

// The local model of a copy cut from state A: the pair table and the sample's physics (bonds; with
// active charges the shifted-force Coulomb and A's far field).
LocalModel model_of(const PairInput& in, const LocalCopy& c) {
  LocalPhysics physics = in.sample->local;
  if (physics.coulomb.on()) physics.sample_force = in.force_a;
  return LocalModel(local_config(c, *in.table, physics));
}

// B minimised in the region with the rest frozen at A. ok: it stayed B (no bead moved more than
// dedup_distance from the whole-sample B) and is distinct from A.
struct ShellB {
  Vector x;
  double energy = 0.0, deviation = 0.0;
  bool ok = false;
};

ShellB shell_b(const PairInput& in, const LocalCopy& c, const LocalModel& model) {
  const Vector x0 = b_coordinates(c, model, *in.a, *in.b);
  const MinimizeOutcome m = minimize_local(model, x0, in.s->kernel.minimizer);
  const double dedup = in.s->kernel.dedup_distance;
  ShellB out{m.x, m.energy, LocalModel::max_bead_norm(model.displacement(x0, m.x)), false};
  out.ok = m.converged && out.deviation <= dedup &&
           LocalModel::max_bead_norm(model.displacement(model.initial_coordinates(), m.x)) > dedup;
  return out;
}

// Serial, pass 1: the region in which B stays a minimum with the rest frozen at A, growing the
// radius by `margin` as long as it does not (a shallow B can fall back into A when the far field of
// the rearrangement, |d_i| < moving_threshold, is frozen at A's values). The whole sample with one
// pinned bead always holds B, so the growth ends — unless it passes [pairs] max_mobile.
Region size_region(const PairInput& in) {
  Region r = in.region;
  if (in.s->whole) return r;  // the whole sample holds B: nothing to size
  for (;;) {
    const LocalCopy c = region_copy(*in.sample, *in.a, r.center, r.radius, in.s->shell);
    if (c.n_mobile > in.s->max_mobile)
      throw Error(in.where() + "state B (" + in.pair->b + ") needs a region of radius " + fmt(r.radius, 4) +
                  " sigma, " + std::to_string(c.n_mobile) +
                  " mobile beads, to stay a minimum with the rest frozen at state A: more "
                  "than [pairs] max_mobile = " +
                  std::to_string(in.s->max_mobile) +
                  " (not one local rearrangement? raise max_mobile to analyse it anyway)");
    const LocalModel model = model_of(in, c);
    if (shell_b(in, c, model).ok) {
      r.n_mobile = c.n_mobile;
      return r;
    }
    if (c.size() - c.n_mobile <= 1)
      throw Error(in.where() + "state B (" + in.pair->b +
                  ") is not a minimum even in the whole sample (minimize.f_tol?)");
    r.radius += in.s->margin;
    ++r.grown;
  }
}

std::string pair_name(const StatePair& p) { return p.a + " -> " + p.b; }

// The row of a pair from the kernel's analysis on the local copy (energies: whole-sample totals).
TlsRow given_row(const PairInput& in, const LocalCopy& copy, const LocalModel& model, const TlsPair& p,
                 const Vector& xb, double offset) {
  TlsRow r;
  r.domain = -1, r.center = copy.center, r.radius = copy.radius, r.method = "given", r.n_merged = 0;
  r.cls = p.cls, r.involves_occupied = 1, r.adjacent = p.adjacent ? 1 : 0;
  r.energy_a = r.energy_a_relaxed = in.energy_a;
  r.energy_b = r.energy_b_relaxed = in.energy_b;
  r.asymmetry = r.asymmetry_relaxed = in.energy_b - in.energy_a;
  r.barrier = p.barrier, r.delta_zpe = p.delta_zpe;
  r.e_qs = p.levels.e_qs, r.e_qs_mirror = p.levels.e_qs_other;
  r.e_qs_kelvin = p.levels.e_qs * in.s->kernel.units.epsilon_kelvin;
  r.splitting = p.splitting.delta0, r.splitting_kelvin = p.splitting.delta0_kelvin;
  r.over_barrier = p.splitting.over_barrier ? 1 : 0;
  r.d_l = p.d_l, r.n_moving = p.n_moving, r.participation = p.participation;
  r.path_length = p.path_length, r.distance = p.distance;
  r.intermediate_minima = p.intermediate_minima ? std::max(1, p.path.n_intermediate_minima) : 0;
  r.saddle_verified = p.saddle.verified ? 1 : 0, r.saddle_connects = p.saddle_connects ? 1 : 0;
  r.neb_converged = p.path.converged ? 1 : 0;
  for (double e : p.path.energy) r.profile_energy.push_back(e + offset);
  r.profile_coordinate = p.path.arc;
  // The row lists the region's beads. In shell mode these are the model's mobile beads; in whole
  // mode the model has every bead, and the row keeps those inside the region (the rest hold only
  // the far field, |d_i| < moving_threshold), so that interact sees force changes outside it.
  r.radius = in.region.radius;
  const std::vector<Vec3> xa = model.positions(model.initial_coordinates()), xbv = model.positions(xb);
  for (int i = 0; i < copy.n_mobile; ++i) {
    if (in.s->whole && copy.box.minimum_image(Vec3(xa[i] - copy.center)).norm() > in.region.radius) continue;
    r.mu_direct += copy.charge[i] * Vec3(p.displacement[3 * i], p.displacement[3 * i + 1], p.displacement[3 * i + 2]);
    r.mobile_id.push_back(copy.id[i]);
    r.position_a.push_back(xa[i]);
    r.position_b.push_back(xbv[i]);
  }
  for (auto* v : {&r.position_a, &r.position_b})
    for (Vec3& x : *v) copy.box.wrap(x);
  return r;
}

// relax.hpp's relaxed_adjacent rule, on the whole-sample minima the stage already has: the states
// are distinct, and no bead's displacement B − A (whole sample) differs from the frozen-shell one
// (B re-minimised in the shell, 0 outside the region) by more than half the largest shell displacement.
int relaxed_adjacent(const PairInput& in, const TlsRow& r) {
  const Box& box = in.sample->box;
  std::vector<Vec3> shell(in.a->size(), Vec3::Zero());
  double d_max = 0.0, apart = 0.0, changed = 0.0;
  for (std::size_t k = 0; k < r.mobile_id.size(); ++k) {
    shell[r.mobile_id[k] - 1] = box.minimum_image(Vec3(r.position_b[k] - r.position_a[k]));
    d_max = std::max(d_max, shell[r.mobile_id[k] - 1].norm());
  }
  for (std::size_t i = 0; i < shell.size(); ++i) {
    const Vec3 d = box.minimum_image(Vec3((*in.b)[i] - (*in.a)[i]));
    apart = std::max(apart, d.norm());
    changed = std::max(changed, (d - shell[i]).norm());
  }
  return apart > in.s->kernel.dedup_distance && changed <= 0.5 * d_max;
}

// When state A is not /particles/all, every bead where they differ joins the mobile set (at A in
// both states: outside the region B is A), so /particles/all plus the row rebuilds both states.
int extend_to_reference(const PairInput& in, TlsRow& r) {
  const std::vector<Vec3>& a = *in.a;
  const std::vector<Vec3>& ref = *in.ref;
  std::vector<char> listed(a.size(), 0);
  for (std::int64_t id : r.mobile_id) listed[id - 1] = 1;
  std::map<std::int64_t, std::pair<Vec3, Vec3>> rows;
  for (std::size_t k = 0; k < r.mobile_id.size(); ++k) rows[r.mobile_id[k]] = {r.position_a[k], r.position_b[k]};
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!listed[i] && (a[i].array() != ref[i].array()).any()) rows[static_cast<std::int64_t>(i) + 1] = {a[i], a[i]};
  if (rows.size() == r.mobile_id.size()) return 1;
  r.mobile_id.clear(), r.position_a.clear(), r.position_b.clear();
  for (const auto& [id, xy] : rows)
    r.mobile_id.push_back(id), r.position_a.push_back(xy.first), r.position_b.push_back(xy.second);
  return 0;
}

// check_whole: the NEB again with every bead mobile but one pinned (region_copy of a sphere holding
// the sample), from the whole-sample minima. Only the band: its climbing image is the saddle to
// within neb_tol, and the dense Hessians of the full analysis (3N coordinates) are what a large
// sample cannot afford.
void whole_sample_check(const PairInput& in, PairExtras& x) {
  const Box& box = in.sample->box;
  const LocalCopy c = region_copy(*in.sample, *in.a, in.region.center, box.len.norm(), in.s->shell);
  const LocalModel model = model_of(in, c);
  const NebResult path =
      nudged_elastic_band(model, model.initial_coordinates(), b_coordinates(c, model, *in.a, *in.b), in.s->kernel.neb);
  x.barrier_whole = path.energy[path.highest] - path.energy.front();
  x.asymmetry_whole = path.energy.back() - path.energy.front();
  x.intermediate_minima_whole = path.n_intermediate_minima;
  x.neb_converged_whole = path.converged ? 1 : 0;
}

// Serial, pass 2: one pair, from the whole-sample minima and its sized region to its row.
PairOutcome analyse_given(const PairInput& in) {
  const double radius = in.s->whole ? in.sample->box.len.norm() : in.region.radius;  // whole: a sphere holding all
  const LocalCopy copy = region_copy(*in.sample, *in.a, in.region.center, radius, in.s->shell);
  const LocalModel model = model_of(in, copy);
  const ShellB b = shell_b(in, copy, model);
  if (!b.ok) throw Error(in.where() + "state B is not a minimum in the sized region (cannot happen: pass 1 sized it)");
  Minimum ma, mb;
  ma.x = model.initial_coordinates();
  ma.energy = model.energy(ma.x);
  mb.x = b.x, mb.energy = b.energy;
  const TlsPair p = analyse_pair(model, ma, mb, in.s->kernel, 0, 1);
  PairOutcome o;
  o.row = given_row(in, copy, model, p, b.x, in.energy_a - ma.energy);  // the kernel omits frozen–frozen pairs
  o.row.relaxed_adjacent = relaxed_adjacent(in, o.row);
  o.x.region = in.region;
  o.x.asymmetry_shell = p.asymmetry;
  o.x.b_shell_deviation = b.deviation;
  o.x.shares_reference = extend_to_reference(in, o.row);
  if (in.s->check_whole) whole_sample_check(in, o.x);
  return o;
}

// ---- the stage --------------------------------------------------------------------------------

// Collective: rank 0 holds a queue's results (work_queue.hpp); every rank gets them, in item order.
std::vector<std::vector<char>> broadcast_results(const WorkResult& r, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  ByteWriter w;
  if (rank == 0) w.put(r.bytes);
  std::vector<char> packed = w.take();
  std::uint64_t n = packed.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm);
  packed.resize(n);
  MPI_Bcast(packed.data(), static_cast<int>(n), MPI_CHAR, 0, comm);
  ByteReader rd(packed.data(), packed.size());
  std::vector<std::vector<char>> items;
  rd.get(items);
  return items;
}

// Collective: work(k) for every pair through the work queue, the results on every rank in pair
// order; a failing pair stops the stage with its message (nothing is written). While a pair runs,
// its rank prints a heartbeat line at most every `heartbeat` seconds.
std::vector<std::vector<char>> for_each_pair(std::size_t n, const std::function<std::vector<char>(std::int64_t)>& work,
                                             const std::string& what, double heartbeat, Progress& progress,
                                             MPI_Comm comm) {
  std::vector<std::int64_t> items(n);
  for (std::size_t k = 0; k < n; ++k) items[k] = static_cast<std::int64_t>(k);
  progress.begin(what);
  const WorkResult r = run_work_queue(
      comm, items,
      [&](std::int64_t k) {
        const HeartbeatScope beat(
            fmt::format("[{}] {} of pair {} (rank {})", progress.stage(), what, k, comm_rank(comm)), heartbeat);
        return WorkOutput{work(k), {0, 0}};
      },
      [&](const WorkTally& t) { progress.report(static_cast<long>(t.done), static_cast<long>(t.n_items), "pairs"); });
  if (r.failed) throw Error(r.message + "; nothing was written");
  return broadcast_results(r, comm);
}

// Not collective: step 3 of pairs_stage.hpp — distinct structures, each pair's starting region.
// skipped == nullptr: a pair that is no local rearrangement is an Error; otherwise its reason is
// put in (*skipped)[k] and its region gets n_mobile = -1.
std::vector<Region> check_pairs(const std::vector<StatePair>& pairs, const std::map<std::string, std::vector<Vec3>>& x,
                                const Sample& sample, const PairsSettings& s, const Progress& progress,
                                std::vector<std::string>* skipped = nullptr) {
  std::vector<Region> regions;
  for (const StatePair& p : pairs) {
    Region r = region_of(sample.box, x.at(p.a), x.at(p.b), s.kernel.moving_threshold, s.core_threshold, s.margin);
    const std::string where = s.list + ":" + std::to_string(p.line) + ": ";
    std::string why;
    if (r.max_displacement <= s.kernel.dedup_distance)
      why = p.a + " and " + p.b + " minimise to the same structure (largest bead displacement " +
            fmt(r.max_displacement, 3) + " sigma <= search.dedup_distance = " + fmt(s.kernel.dedup_distance) + ")";
    r.n_mobile = s.whole ? static_cast<std::int64_t>(sample.species.size()) - 1
                         : region_copy(sample, x.at(p.a), r.center, r.radius, s.shell).n_mobile;
    if (why.empty() && !s.whole && r.n_mobile > s.max_mobile)
      why = "the " + std::to_string(r.n_moving) + " beads that move more than " + fmt(s.kernel.moving_threshold) +
            " sigma between " + p.a + " and " + p.b + " need a region of " + std::to_string(r.n_mobile) +
            " mobile beads (radius " + fmt(r.radius, 4) +
            " sigma), more than [pairs] max_mobile = " + std::to_string(s.max_mobile) +
            ": not one local rearrangement? (raise max_mobile to analyse it anyway: "
            "dense Hessians of 3 n_mobile coordinates)";
    if (!why.empty()) {
      if (!skipped) throw Error(where + why);
      skipped->push_back(why);
      r.n_mobile = -1;
      progress.say("pair " + std::to_string(regions.size()) + " " + pair_name(p) + ": skipped, " + why);
      regions.push_back(r);
      continue;
    }
    if (skipped) skipped->emplace_back();
    progress.say("pair " + std::to_string(regions.size()) + " " + pair_name(p) + ": " + std::to_string(r.n_moving) +
                 " beads move more than " + fmt(s.kernel.moving_threshold) + " sigma (largest " +
                 fmt(r.max_displacement, 4) + "); region radius " + fmt(r.radius, 4) + " sigma, " +
                 std::to_string(r.n_mobile) + " mobile beads" +
                 (s.whole ? " (the whole sample, one bead pinned)" : ""));
    regions.push_back(r);
  }
  return regions;
}

// Collective, steps 3 (sizing) and 4 (analysis) for the pairs whose region check_pairs accepted
// (n_mobile >= 0). skipped == nullptr: a region that cannot be sized stops the stage; otherwise the
// pair is left out (nullopt) and its reason put in (*skipped)[k]. Results in pair order on every rank.
std::vector<std::optional<PairOutcome>> analyse_regions(
    const std::vector<StatePair>& pairs, const std::map<std::string, std::vector<Vec3>>& x,
    const std::map<std::string, double>& energy, const std::map<std::string, std::vector<Vec3>>& force,
    const Sample& sample, const PairsSettings& s, std::vector<Region>& regions, const std::vector<Vec3>& ref,
    Progress& progress, MPI_Comm comm, std::vector<std::string>* skipped = nullptr) {
  const LJTable table = model_has_diameters(s.model) ? LJTable{} : model_by_name(s.model).table;  // diameters: unused
  auto input = [&](std::int64_t k) {
    const StatePair& p = pairs[k];
    return PairInput{&sample,
                     &table,
                     &s,
                     &p,
                     &x.at(p.a),
                     &x.at(p.b),
                     &ref,
                     energy.at(p.a),
                     energy.at(p.b),
                     regions[k],
                     force.empty() ? nullptr : &force.at(p.a)};
  };
  // Each item: empty (refused by check_pairs), or a flag (1 sized, 0 not) and the region or the reason.
  const auto sized = for_each_pair(
      pairs.size(),
      [&](std::int64_t k) {
        ByteWriter w;
        if (regions[k].n_mobile < 0) return w.take();
        try {
          const Region r = size_region(input(k));
          w.put(1), put_region(w, r);
        } catch (const Error& e) {
          if (!skipped) throw;
          ByteWriter why;
          why.put(0), why.put(std::string(e.what()));
          return why.take();
        }
        return w.take();
      },
      "regions", s.heartbeat, progress, comm);
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    if (sized[k].empty()) continue;
    ByteReader rd(sized[k].data(), sized[k].size());
    int ok = 0;
    rd.get(ok);
    if (!ok) {
      regions[k].n_mobile = -1;
      rd.get((*skipped)[k]);
      progress.say("pair " + std::to_string(k) + " skipped: " + (*skipped)[k]);
      continue;
    }
    regions[k] = get_region(rd);
    if (regions[k].grown > 0)
      progress.say("pair " + std::to_string(k) +
                   ": state B falls back with the shell frozen at state A; region grown " +
                   std::to_string(regions[k].grown) + " times by [pairs] margin to radius " +
                   fmt(regions[k].radius, 4) + " sigma, " + std::to_string(regions[k].n_mobile) + " mobile beads");
  }
  const auto bytes = for_each_pair(
      pairs.size(),
      [&](std::int64_t k) {
        if (regions[k].n_mobile < 0) return std::vector<char>{};
        return serialize(analyse_given(input(k)));
      },
      "analyse", s.heartbeat, progress, comm);
  std::vector<std::optional<PairOutcome>> out;
  for (const auto& b : bytes) {
    if (b.empty()) out.emplace_back();
    else out.emplace_back(deserialize_pair(b.data(), b.size()));
  }
  return out;
}

// Collective: the output file (create mode: <output>.tmp, renamed on commit).
void write_pairs_group(Hdf5File& f, const PairsSettings& s, const std::vector<StatePair>& pairs,
                       const std::vector<PairOutcome>& out) {
  std::vector<std::string> state_a, state_b;
  for (const StatePair& p : pairs) state_a.push_back(p.a), state_b.push_back(p.b);
  write_replicated_strings(f, "/pairs/state_a", state_a);
  write_replicated_strings(f, "/pairs/state_b", state_b);
  const std::size_t n = out.size();
  auto column = [&](const char* name, const char* unit, auto get) {
    using T = decltype(get(PairExtras{}));
    std::vector<T> v;
    for (const PairOutcome& o : out) v.push_back(get(o.x));
    write_replicated(f, std::string("/pairs/") + name, v, {n});
    write_attribute(f, std::string("/pairs/") + name, "unit", unit);
  };
  column("n_moving_whole", "1", [](const PairExtras& x) { return x.region.n_moving; });
  column("max_displacement", "sigma", [](const PairExtras& x) { return x.region.max_displacement; });
  column("n_region", "1", [](const PairExtras& x) { return x.region.n_mobile; });
  column("grown", "1", [](const PairExtras& x) { return x.region.grown; });
  column("shares_reference", "1", [](const PairExtras& x) { return x.shares_reference; });
  column("asymmetry_shell", "epsilon", [](const PairExtras& x) { return x.asymmetry_shell; });
  column("b_shell_deviation", "sigma", [](const PairExtras& x) { return x.b_shell_deviation; });
  column("barrier_whole", "epsilon", [](const PairExtras& x) { return x.barrier_whole; });
  column("asymmetry_whole", "epsilon", [](const PairExtras& x) { return x.asymmetry_whole; });
  column("intermediate_minima_whole", "1", [](const PairExtras& x) { return x.intermediate_minima_whole; });
  column("neb_converged_whole", "1", [](const PairExtras& x) { return x.neb_converged_whole; });
  write_attribute(f, "/pairs", "list", s.list);
  write_attribute(f, "/pairs", "format", s.format);
  write_attribute(f, "/pairs", "margin", s.margin);
  write_attribute(f, "/pairs", "shell", s.shell);
  write_attribute(f, "/pairs", "max_mobile", static_cast<double>(s.max_mobile));
  write_attribute(f, "/pairs", "moving_threshold", s.kernel.moving_threshold);
  write_attribute(f, "/pairs", "core_threshold", s.core_threshold);
  write_attribute(f, "/pairs", "check_whole", s.check_whole ? 1.0 : 0.0);
  write_attribute(f, "/pairs", "neb", s.whole ? "whole" : "shell");
}

void write_output(const Input& in, const PairsSettings& s, const Sample& sample, const std::vector<Vec3>& ref,
                  const std::vector<StatePair>& pairs, const std::vector<PairOutcome>& out, MPI_Comm comm) {
  const Beads mine = block_by_id(sample_beads(sample, ref), ref, comm);  // a block of ids per rank
  Hdf5File f(s.output, Hdf5File::Mode::create, comm);
  write_configuration(f, sample.box, mine, config_meta(in));
  std::vector<TlsRow> rows;
  for (const PairOutcome& o : out) rows.push_back(o.row);
  TlsAttributes ta;
  ta.hbar_reduced = hbar_reduced(s.kernel.units);
  ta.max_splitting = s.kernel.max_splitting;
  ta.epsilon_kelvin = s.kernel.units.epsilon_kelvin;
  write_tls(f, rows, ta);
  const std::size_t n = rows.size();
  write_replicated(f, "/tls/mu_eq13", std::vector<double>(3 * n, kNaN), {n, 3});
  write_attribute(f, "/tls/mu_eq13", "unit", "q* sigma");
  write_attribute(f, "/tls", "mu_eq13", "NaN until the dipole stage fills it");
  write_pairs_group(f, s, pairs, out);
  f.commit();
}

std::string row_summary(std::size_t k, const PairOutcome& o) {
  const TlsRow& r = o.row;
  std::string line = "pair " + std::to_string(k) + ": class " + r.cls + ", adjacent " + std::to_string(r.adjacent) +
                     ", barrier " + fmt(r.barrier) + ", asymmetry " + fmt(r.asymmetry) + " (shell " +
                     fmt(o.x.asymmetry_shell) + "), E_qs " + fmt(r.e_qs_kelvin, 4) + " K, d_L " + fmt(r.d_l, 4) + ", " +
                     std::to_string(r.n_moving) + " moving of " + std::to_string(o.x.region.n_mobile) + " mobile";
  if (!std::isnan(o.x.barrier_whole))
    line += "; whole sample: barrier " + fmt(o.x.barrier_whole) + ", asymmetry " + fmt(o.x.asymmetry_whole);
  return line;
}

// pairs.neb: whole or shell, now that the sample's size is known. The same on every rank.
void resolve_neb(const Input& in, std::int64_t n_beads, PairsSettings& s) {
  const bool fits = n_beads - 1 <= s.max_mobile;
  if (s.neb == "whole" && !fits)
    in.fail("pairs.neb", "= \"whole\" needs n_beads - 1 = " + std::to_string(n_beads - 1) +
                             " mobile beads, more than [pairs] max_mobile = " + std::to_string(s.max_mobile) +
                             " (dense Hessians of 3 (N - 1) coordinates): raise max_mobile or use \"shell\"");
  s.whole = s.neb == "whole" || (s.neb == "auto" && fits);
}

}  // namespace

void run_pairs(const Input& in, MPI_Comm comm) {
  PairsSettings s = PairsSettings::from_input(in);
  Progress progress(comm, "pairs");
  const std::vector<StatePair> pairs = parse_pair_list(read_list(s.list, comm), s.list);
  check_output_is_no_state(pairs, s.output, comm);

  // 1. Every distinct state, checked; 2. minimised with every bead free.
  Sample sample;
  std::map<std::string, std::vector<Vec3>> x = load_states(pairs, s, comm, &sample);
  set_physics(in, s, sample);
  resolve_neb(in, static_cast<std::int64_t>(sample.species.size()), s);
  progress.say(
      std::to_string(pairs.size()) + " pairs of " + std::to_string(x.size()) + " states from " + s.list + ": " +
      std::to_string(sample.species.size()) + " beads each, box " + fmt(sample.box.len[0]) + " x " +
      fmt(sample.box.len[1]) + " x " + fmt(sample.box.len[2]) + "; NEB on " +
      (s.whole ? std::string("the whole sample") : "each region with a frozen shell of " + fmt(s.shell) + " sigma") +
      (sample.coulomb ? "; charges acting (Ewald split on the whole sample, shifted-force Coulomb to " + fmt(s.shell) +
                            " sigma plus the far field in the regions)"
                      : ""));
  std::map<std::string, double> energy;
  progress.begin("minimise");
  for (auto& [path, pos] : x) {
    energy[path] = minimise_state(sample, s, path, pos, comm);
    progress.report(static_cast<long>(energy.size()), static_cast<long>(x.size()),
                    path + ": E = " + fmt(energy[path], 12));
  }
  const auto force = state_forces(sample, s, x, comm);
  // 3. Distinct structures, local rearrangements; each region sized so that B stays a minimum in it.
  std::vector<Region> regions = check_pairs(pairs, x, sample, s, progress);
  const auto analysed = analyse_regions(pairs, x, energy, force, sample, s, regions, x.at(pairs[0].a), progress, comm);
  std::vector<PairOutcome> out;
  for (const auto& o : analysed) out.push_back(*o);
  for (std::size_t k = 0; k < out.size(); ++k) progress.say(row_summary(k, out[k]));

  // 5. The file.
  write_output(in, s, sample, x.at(pairs[0].a), pairs, out, comm);
  std::map<std::string, int> per_class;
  for (const PairOutcome& o : out) ++per_class[o.row.cls];
  std::string classes;
  for (const auto& [name, n] : per_class) classes += (classes.empty() ? "" : ", ") + name + " " + std::to_string(n);
  progress.say("wrote /particles/all (state A of the first pair), /tls (" + std::to_string(out.size()) +
               " rows: " + classes + ") and /pairs to " + s.output + " in " + fmt(progress.elapsed(), 3) + " s");
}

void check_pairs_input(const Input& in, bool with_list) { (void)PairsSettings::from_input(in, with_list); }

std::vector<AnalysedPair> analyse_minima_pairs(const Input& in, const MinimaSample& m,
                                               const std::vector<std::pair<int, int>>& pairs, const std::string& label,
                                               Progress& progress, MPI_Comm comm) {
  if (pairs.empty()) return {};
  PairsSettings s = PairsSettings::from_input(in, /*with_list=*/false);
  s.list = label;
  resolve_neb(in, static_cast<std::int64_t>(m.species.size()), s);
  Sample sample{m.box, m.species, m.charge, label, m.diameter, m.partner, {}, {}};
  set_physics(in, s, sample);
  std::map<std::string, std::vector<Vec3>> x;
  std::map<std::string, double> energy;
  auto name = [](int i) { return "IS " + std::to_string(i); };
  for (std::size_t i = 0; i < m.minima.size(); ++i)
    x[name(static_cast<int>(i))] = m.minima[i], energy[name(static_cast<int>(i))] = m.energy[i];
  std::vector<StatePair> list;
  for (std::size_t k = 0; k < pairs.size(); ++k)
    list.push_back(StatePair{name(pairs[k].first), name(pairs[k].second), static_cast<int>(k)});
  std::vector<std::string> skipped;
  std::vector<Region> regions = check_pairs(list, x, sample, s, progress, &skipped);
  std::map<std::string, std::vector<Vec3>> force;  // active charges: of the structures that are some pair's A
  if (sample.coulomb) {
    std::map<std::string, std::vector<Vec3>> as_a;
    for (std::size_t k = 0; k < list.size(); ++k)
      if (regions[k].n_mobile >= 0) as_a[list[k].a] = x.at(list[k].a);
    force = state_forces(sample, s, as_a, comm);
  }
  const auto analysed =
      analyse_regions(list, x, energy, force, sample, s, regions, x.at(list[0].a), progress, comm, &skipped);
  std::vector<AnalysedPair> out(pairs.size());
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    if (analysed[k]) {
      out[k].analysed = true, out[k].row = analysed[k]->row;
      progress.say(row_summary(k, *analysed[k]));
    } else {
      out[k].why = skipped[k];
    }
  }
  return out;
}

}  // namespace tlsmap
