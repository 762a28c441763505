// Input file reading and checking; see include/tlsmap/io/input.hpp for the why.
//
// Every problem found in a file is collected, sorted by line, and thrown as one Error: a user whose
// job waited hours in a queue should learn about all mistakes at once, not one per submission.
// The checks in Schema::add (defaults against their own ranges) run the same code as the file
// checks, so a schema cannot declare a default the reader would reject.
#include "tlsmap/io/input.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <toml.hpp>

#include "tlsmap/core/error.hpp"

namespace tlsmap {

// ---------------------------------------------------------------------------------------------
// The schema of tlsmap's input. One line per key: name, default, allowed range or choices, unit,
// meaning. Units are reduced Lennard-Jones units (sigma, epsilon, m, tau) unless stated.
Schema default_schema() {
  Schema s;
  s.add_string("run.output", "tlsmap.h5", {}, "HDF5 output file; each stage adds its group");
  s.add_int("run.seed", 12345, "[0, inf)", "", "seed of all random streams");
  s.add_int("run.log_every", 1000, "[1, inf)", "steps", "print progress every this many steps");
  s.add_double("run.heartbeat", 60.0, "[0, inf)", "s",
               "search, pairs, md-pairs: a line from the rank working on a domain or pair at most this "
               "often while it runs (its current loop, step and max|F|), and from the search's row "
               "relaxation; 0 = none");

  s.add_int("system.n_beads", 4000, "[2, 2147483647]", "", "number of beads");
  s.add_double("system.density", 1.2, "[0.01, 10]", "sigma^-3", "number density");
  s.add_vec3("system.box_aspect", {1, 1, 1}, "[0.01, 100]", "", "box edge ratios Lx:Ly:Lz");
  s.add_string("system.model", "kob-andersen",
               {"kob-andersen", "lennard-jones", "polydisperse-soft-sphere", "polar-dimers"},
               "interaction model (polydisperse-soft-sphere: pack, pairs and energy so far; polar-dimers: A-B "
               "molecules with a harmonic bond and charges +zeta/-zeta acting while the liquid forms, pack only, "
               "with charge.mode = \"active\")");
  s.add_double("system.skin", 0.3, "(0, 2]", "sigma", "Verlet-list skin beyond the cutoff");
  s.add_int3("system.proc_grid", {0, 0, 0}, "[0, inf)", "", "MPI process grid; 0 = chosen automatically");

  s.add_double("md.dt", 0.005, "(0, 0.1]", "tau", "time step");
  s.add_string("md.thermostat", "langevin", {"langevin", "none"}, "thermostat of MD runs");
  s.add_double("md.friction", 1.0, "[0, inf)", "1/tau", "Langevin friction gamma");
  s.add_double("md.temperature", 2.0, "(0, inf)", "epsilon/k_B", "MD temperature");

  s.add_double("pack.t_parent", 2.0, "(0, 100]", "epsilon/k_B", "temperature of the parent liquid");
  s.add_int("pack.equil_steps", 2000, "[0, inf)", "steps", "liquid equilibration at t_parent");
  s.add_int("pack.quench_steps", 6000, "[0, inf)", "steps", "quench from t_parent to t_final");
  s.add_double("pack.t_final", 0.3, "(0, 100]", "epsilon/k_B", "temperature at the quench end");
  s.add_string("pack.quench", "linear", {"linear", "instant"}, "temperature schedule of the quench");
  s.add_bool("pack.swap", false,
             "swap Monte Carlo between MD blocks (polydisperse-soft-sphere only): stable glasses at T_f = t_final");
  s.add_int("pack.swap_every", 10, "[1, inf)", "steps", "MD steps between swap sweeps (one attempt per bead)");
  s.add_double("pack.coulomb_share_strain", 1e-5, "[0, 0.01]", "",
               "active charges: the Coulomb share of the stiffness of the packed glass (/material/coulomb_share) "
               "by central differences +-e along the path relaxed with the charges acting (13 relaxations, the "
               "split at accuracy 1e-7; retried at e/3 after a plastic event); 0: skip");
  s.add_double("pack.coulomb_share_f_tol", 1e-10, "(0, 1]", "epsilon/sigma",
               "force tolerance of those relaxations (below about 1e-11 the grid forces stall L-BFGS)");
  s.add_int("pack.coulomb_share_max_beads", 4000, "[0, inf)", "",
            "samples with more beads skip the Coulomb share (13 relaxations with the grid at accuracy 1e-7: "
            "about 1.5 min at 400 beads on one core)");
  s.add_string(
      "pack.from", optional_key, {},
      "minimise this glass (LAMMPS data file or H5MD) instead of making one; n_beads, density are then the file's");

  s.add_string("minimize.method", "lbfgs", {"lbfgs", "fire"}, "energy minimiser (docs/minimizers.md)");
  s.add_double("minimize.f_tol", 1e-10, "(0, 1]", "epsilon/sigma", "stop when max |F| <= f_tol");
  s.add_int("minimize.max_iter", 100000, "[1, inf)", "", "iteration limit of the minimiser");
  s.add_int("minimize.lbfgs_memory", 8, "[1, 100]", "", "L-BFGS: correction pairs kept");
  s.add_double("minimize.max_step", 0.1, "(0, 1]", "sigma", "L-BFGS: largest displacement of any bead in one step");
  s.add_double("minimize.bond_precondition", 1000.0, "[0, inf)", "epsilon/sigma^2",
               "L-BFGS on bonded models: the surroundings' stiffness alpha that the bond-stretch preconditioner "
               "scales each bond's 2k back to (docs/minimizers.md); 0 turns it off");

  s.add_double("charge.zeta", 0.1, "[0, 1]", "e", "partial charge: the two beads of a bond carry +zeta and -zeta");
  s.add_double("charge.bond_cutoff", 1.5, "(0, inf)", "sigma", "beads closer than this may be paired into a bond");
  s.add_double("charge.max_bond_cutoff", 2.5, "(0, inf)", "sigma",
               "largest bond cutoff the automatic enlargement may reach to pair every bead");
  s.add_string("charge.mode", "passive", {"passive", "active"},
               "passive: charges are assigned to the finished glass and do not enter the mechanics; active: the "
               "charges act through the Coulomb split ([coulomb]) in the MD and minimisers of pack: system.model = "
               "\"polar-dimers\" only, whose charges exist while the liquid forms");

  s.add_double("coulomb.accuracy", 1e-5, "(0, 0.01]", "",
               "requested RMS Coulomb force error relative to the RMS Coulomb force (sets sigma, grid, cutoff)");
  s.add_double("coulomb.cutoff", 0.0, "[0, inf)", "sigma",
               "real-space cutoff of the Ewald split; 0 = chosen from accuracy");
  s.add_double("coulomb.epsilon", 1.0, "(0, inf)", "", "uniform dielectric constant of Coulomb energies and forces");
  s.add_string("coulomb.solver", "fft", {"fft", "mg"},
               "reciprocal part of the Ewald split: fft = P3M on FFTW (uniform epsilon only; the default, since no "
               "spatially varying epsilon reaches the bead Coulomb split), mg = Gaussian charges on the multigrid "
               "Poisson grid (any epsilon; docs/electrostatics.md section 10)");

  s.add_string("search.method", "domain", {"domain", "md-pairs"},
               "domain: the activation search per domain; md-pairs: MD on the whole sample at md_temperature, a "
               "quench every quench_every steps, consecutive distinct inherent structures as candidate pairs "
               "(docs/search.md)");
  s.add_double("search.md_temperature", optional_key, "(0, inf)", "epsilon/k_B",
               "md-pairs: temperature of the MD (Langevin, md.dt, md.friction); required with md-pairs");
  s.add_int("search.quench_every", 200, "[1, inf)", "steps", "md-pairs: MD steps between quenches");
  s.add_int("search.md_steps", 20000, "[1, inf)", "steps", "md-pairs: MD steps per replica");
  s.add_int("search.replicas", 1, "[1, inf)", "",
            "md-pairs: independent MD runs from the glass (own thermostat noise and velocities), shared out over "
            "groups of ranks");
  s.add_double("search.xi", 5.5, "(0, inf)", "sigma", "domain size: spheres of volume xi^3 (radius 0.620 xi)");
  s.add_double("search.spacing", optional_key, "(0, inf)", "sigma",
               "distance between domain centres (simple cubic, rounded to tile the box); absent: = xi");
  s.add_double("search.shell", optional_key, "(0, inf)", "sigma",
               "thickness of the frozen shell around a domain; absent: 2 r_c; at least 2 r_c");
  s.add_int("search.max_domains", 0, "[0, inf)", "", "search only domains 0 .. max_domains-1; 0 = all");
  s.add_int("search.max_attempts", 60, "[1, inf)", "", "activation attempts per domain (the budget)");
  s.add_int("search.stop_after_stale", 25, "[1, inf)", "",
            "stop a domain after this many attempts without a new minimum");
  s.add_double("search.target_missing", 0.0, "[0, 1)", "",
               "stop a domain once the Good-Turing chance that one more attempt finds a new minimum within "
               "target_window of the occupied state is at most this (and at least 1/target_missing attempts "
               "were made); 0: off");
  s.add_double("search.target_window", 1.0, "(0, inf)", "epsilon",
               "energy window |E - E_O| of the minima the convergence measure counts");
  s.add_int("search.follow_modes", 0, "[0, inf)", "",
            "first 2n attempts from each minimum: eigenvector following along +- its n softest modes (dense "
            "Hessian each step; 0 = random pushes only)");
  s.add_double("search.dedup_distance", 0.05, "(0, inf)", "sigma",
               "two minima (saddles) are the same if no bead differs by more than this ...");
  s.add_double("search.dedup_energy", 1e-3, "(0, inf)", "epsilon",
               "permutational copies (relabelled same-species beads within dedup_distance) are one structure if their "
               "energies differ by less than this");
  s.add_int("search.neb_images", 16, "[3, 1000]", "", "NEB images including both end points");
  s.add_int("search.neb_end_levels", 3, "[0, 8]", "",
            "refinements of the band at each end minimum, each halving the end spacing (a 5-image band from the "
            "minimum to the third node); they resolve the wells the 1D levels live in");
  s.add_double("search.neb_spring", 5.0, "(0, 10000]", "epsilon/sigma^2", "NEB spring constant");
  s.add_double("search.neb_tol", 1e-4, "(0, 1]", "epsilon/sigma", "NEB converged when max |F_NEB| <= neb_tol");
  s.add_int("search.neb_max_iter", 5000, "[1, inf)", "steps",
            "NEB optimiser steps; a band still above neb_tol then is kept, its row marked neb_converged = 0");
  s.add_string(
      "search.neb_optimizer", "lbfgs", {"fire", "lbfgs"},
      "optimiser of the NEB band: global L-BFGS (Sheppard et al. 2008; 2-4x fewer steps than FIRE, which takes "
      "over if it blows up or stalls), or FIRE; both stop at neb_tol");
  s.add_int("search.checkpoint_every", 32, "[1, inf)", "domains", "save the catalogue after this many domains");
  s.add_string("search.start_from", "occupied", {"occupied", "window"},
               "attempts start from the occupied state O only, or cycle over the minima within explore_window of "
               "the lowest (the wider exploration the catalogue does not need: its pairs all involve O)");
  s.add_bool("search.relax", true,
             "relax both states of every catalogue row with every bead of the sample free (energy_*_relaxed)");
  s.add_double("search.relax_radius", 0.0, "[0, inf)", "sigma",
               "0: the relaxation frees every bead of the sample; > 0: only the beads within this distance of the "
               "row's mobile beads (the rest held at the packing), for large samples where the whole-sample "
               "relaxation dominates the cost");
  s.add_string("search.on_error", "stop", {"stop", "skip"},
               "a domain whose search fails: stop the run (finished domains are saved), or record it and go on");

  // `tlsmap pairs` (docs/pairs.md); it also reads search.shell, dedup_*, neb_* and [tls], [units].
  s.add_string("pairs.list", optional_key, {},
               "tlsmap pairs: text file of state pairs, two paths (state A, state B) per line, relative to the "
               "list's own directory; the list's path is relative to the input file's directory");
  s.add_string("pairs.format", "auto", {"auto", "lammps", "h5md"},
               "format of the state files: LAMMPS data or H5MD; auto: H5MD if the file is HDF5");
  s.add_double("pairs.margin", 1.5, "(0, inf)", "sigma",
               "region of a pair: radius = farthest moving bead from the moving beads' centroid + margin");
  s.add_double("pairs.core_threshold", 0.02, "(0, inf)", "sigma",
               "a pair's region is built around the beads with |d_i| > core_threshold between the two minima (default: "
               "the 0.02 sigma moving threshold); larger values leave the elastic far field out of the region");
  s.add_int(
      "pairs.max_mobile", 2000, "[2, inf)", "",
      "largest region (mobile beads) a pair may need; the analysis uses dense Hessians of 3 n_mobile coordinates");
  s.add_string(
      "pairs.neb", "auto", {"auto", "whole", "shell"},
      "where a pair's CI-NEB, saddle, E_qs and ZPE run: the whole sample (one bead pinned; exact barriers), the "
      "region plus a frozen shell at state A (cheap; overestimates barriers), or auto: whole when the sample's "
      "beads minus one fit in max_mobile");
  s.add_bool(
      "pairs.check_whole", false,
      "also run every pair's NEB with the whole sample mobile (one bead pinned; small samples only): /pairs/*_whole");

  s.add_double("tls.max_splitting", 1.0, "(0, inf)", "K",
               "class tls: quantum splitting E_qs at most this (converted to epsilon with units.epsilon_kelvin)");
  s.add_double("tls.max_splitting_epsilon", optional_key, "(0, inf)", "epsilon",
               "the same threshold in epsilon, instead of tls.max_splitting (give one of the two)");

  s.add_double("dipole.spacing", 0.25, "(0, 5]", "sigma", "grid spacing of the Delta-rho solves (dipole and interact)");
  s.add_double("dipole.sigma_factor", 1.0, "[0.5, 4]", "", "Gaussian spreading width in grid spacings");
  s.add_double("dipole.epsilon", 1.0, "(0, 10000]", "",
               "dielectric constant outside the domains (uniform if epsilon_in is absent)");
  s.add_double("dipole.epsilon_in", optional_key, "(0, 10000]", "",
               "dielectric constant inside the TLS's domain sphere; absent: = epsilon");
  s.add_double("dipole.radius_factor", 1.0, "(0, 10]", "",
               "integration (and dielectric) sphere radius over /tls/radius");
  s.add_int("dipole.convergence_tls", 2, "[0, inf)", "", "convergence table for this many TLS (the first ones)");
  s.add_vec3("dipole.convergence_spacing", {0.5, 0.35, 0.25}, "[0, inf)", "sigma",
             "grid spacings of the convergence table (0: skip)");
  s.add_vec3("dipole.convergence_radius", {0.9, 1.0, 1.1}, "[0, 10]", "",
             "integration radii of the convergence table, over radius_factor x /tls/radius (0: skip)");

  s.add_double("interact.cutoff", optional_key, "(0, inf)", "sigma",
               "TLS pairs with centres closer than this (minimum image) get exact couplings; absent: all pairs");
  s.add_string("interact.far", "none", {"none", "dipole"},
               "pairs at or beyond interact.cutoff: left out (none) or coupled through their dipoles (dipole: mu_T "
               "periodic dipole sum and the continuum elastic kernel of the elastic dipoles)");
  s.add_string("interact.far_mech", "exact", {"exact", "dipole"},
               "with far = \"dipole\": J_mech of the far pairs exact (held: a dot product per pair) or by the "
               "continuum kernel (not accurate pair by pair in glasses at 10-20 sigma: docs/dipole.md)");
  s.add_double("interact.far_width", 1.0, "(0, 5]", "sigma",
               "Gaussian width of the elastic dipoles in the continuum kernel (its grid spacing is <= width/2)");
  s.add_string(
      "interact.mech_response", "held", {"held", "pair", "source", "whole"},
      "J_mech response: both TLS's mobile beads held, from one solve per TLS (held) or exactly, one solve per pair "
      "(pair); the source's only or none (diagnostics)");
  s.add_int("interact.check_pairs", 2, "[0, inf)", "",
            "validate J_mech on this many closest separated pairs by four-state relaxation");
  s.add_double("interact.relax_f_tol", 1e-9, "(0, 1]", "epsilon/sigma",
               "force tolerance of the four-state relaxations");
  s.add_double("interact.elastic_strain", 0.0, "[0, 0.01]", "",
               "> 0: also measure K and the tetragonal G by finite strain ±e with relaxation (a cross-check of the "
               "Hessian route; 1e-5 suits glasses); 0: skip");
  s.add_double(
      "interact.coulomb_strain", 3e-6, "[0, 0.01]", "",
      "the Coulomb share of the stiffness (the paper's zeta^2, /material/coulomb_share) by central differences "
      "+-e of the Ewald energy along the pair-relaxed path (13 relaxations; retried at e/3 after a plastic "
      "event); 0: skip");
  s.add_int("interact.coulomb_max_beads", 20000, "[0, inf)", "",
            "samples with more beads skip the Coulomb share: its 13 Ewald sums are O(N^2) (about 1 min each at "
            "32000 beads)");
  s.add_double("interact.coulomb_f_tol", 1e-12, "(0, 1]", "epsilon/sigma",
               "force tolerance of those relaxations (the Coulomb energy's error is linear in the residual)");

  s.add_double("units.sigma_angstrom", 3.4, "(0, 1000]", "angstrom", "bead diameter sigma");
  s.add_double("units.epsilon_kelvin", 120.0, "(0, 100000]", "K", "well depth epsilon/k_B");
  s.add_double("units.mass_amu", 39.948, "(0, inf)", "u", "bead mass m");
  return s;
}

namespace {

// Shortest text that reads back as the same double ("0.1", "1e-10", "inf").
std::string number(double x) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

std::string join(const std::vector<std::string>& items, const std::string& sep, bool quote) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + (quote ? in_quotes(items[i]) : items[i]);
  return out;
}

const char* type_name(KeyType t) {
  switch (t) {
    case KeyType::Int: return "int";
    case KeyType::Double: return "double";
    case KeyType::Bool: return "bool";
    case KeyType::String: return "string";
    case KeyType::Double3: return "double[3]";
    case KeyType::Integer3: return "int[3]";
  }
  return "?";
}

// Optimal string alignment distance: Levenshtein plus adjacent transposition ("md.td" -> "md.dt"
// costs 1), the commonest typing slip.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// Closest candidate within distance 3 (first one on ties, so the answer is deterministic).
std::optional<std::string> closest(const std::string& word, const std::vector<std::string>& cands) {
  std::optional<std::string> best;
  std::size_t best_d = 4;
  for (const auto& c : cands) {
    std::size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

std::string doc_suffix(const KeySpec& s) { return " (" + s.doc + (s.unit.empty() ? "" : ", unit: " + s.unit) + ")"; }

// Compact one-line rendering of a TOML value, for values whose source text spans lines.
std::string compact(const toml::value& v) {
  if (v.is_array()) {
    std::string out = "[";
    const auto& a = v.as_array();
    for (std::size_t i = 0; i < a.size(); ++i) out += (i ? ", " : "") + compact(a[i]);
    return out + "]";
  }
  if (v.is_table()) return "{...}";
  std::ostringstream os;
  os << v;
  return os.str();
}

// The value as the user wrote it (toml11 records line, column and length of each value).
std::string source_text(const toml::value& v) {
  const auto loc = v.location();
  const std::string& line = loc.line_str();
  std::string out = compact(v);
  if (loc.column() >= 1 && loc.column() - 1 + loc.region() <= line.size())
    out = line.substr(loc.column() - 1, loc.region());
  if (out.size() > 60) out = out.substr(0, 57) + "...";
  return out;
}

// Checks of a converted value against its spec. Returns the message tail, empty when fine.
std::string check_value(const KeySpec& s, const InputValue& v) {
  auto check_number = [&](double x, const std::string& what) -> std::string {
    if (!std::isfinite(x)) return "is not a finite number" + what;
    if (!s.range.contains(x)) return "is out of range" + what + ": must be " + s.range.describe();
    return "";
  };
  switch (s.type) {
    case KeyType::Int: return check_number(double(std::get<std::int64_t>(v)), "");
    case KeyType::Double: return check_number(std::get<double>(v), "");
    case KeyType::Bool: return "";
    case KeyType::String: {
      const auto& str = std::get<std::string>(v);
      if (s.choices.empty() || std::count(s.choices.begin(), s.choices.end(), str)) return "";
      std::string msg = "is not allowed: must be " + s.allowed();
      if (auto c = closest(str, s.choices)) msg += "; did you mean " + in_quotes(*c) + "?";
      return msg;
    }
    case KeyType::Double3:
    case KeyType::Integer3:
      for (int i = 0; i < 3; ++i) {
        double x =
            s.type == KeyType::Double3 ? std::get<std::array<double, 3>>(v)[i] : std::get<std::array<int, 3>>(v)[i];
        auto msg = check_number(x, " (element " + std::to_string(i + 1) + " is " + number(x) + ")");
        if (!msg.empty()) return msg + (s.range.unbounded() ? "" : " for each element");
      }
      return "";
  }
  return "";
}

// TOML value -> InputValue of the spec's type. On failure returns nullopt and sets `why` to the
// message tail ("has the wrong type: expected ...").
std::optional<InputValue> convert(const KeySpec& s, const toml::value& v, std::string& why) {
  auto wrong = [&](const std::string& detail = "") {
    why = "has the wrong type" + detail + ": expected " + s.allowed();
    return std::nullopt;
  };
  // toml11 clamps integer literals that overflow to the int64 limits instead of failing.
  auto too_big = [](std::int64_t i) { return i == INT64_MAX || i == INT64_MIN; };
  switch (s.type) {
    case KeyType::Int:
      if (!v.is_integer()) return wrong();
      if (too_big(v.as_integer())) return why = "is too large for a 64-bit integer", std::nullopt;
      return InputValue(std::int64_t(v.as_integer()));
    case KeyType::Double:
      if (v.is_integer()) return InputValue(double(v.as_integer()));  // 2 means 2.0
      if (!v.is_floating()) return wrong();
      return InputValue(v.as_floating());
    case KeyType::Bool:
      if (!v.is_boolean()) return wrong();
      return InputValue(v.as_boolean());
    case KeyType::String:
      if (!v.is_string()) return wrong();
      return InputValue(v.as_string().str);
    case KeyType::Double3:
    case KeyType::Integer3: {
      if (!v.is_array()) return wrong();
      const auto& a = v.as_array();
      if (a.size() != 3) return wrong(" (" + std::to_string(a.size()) + " elements)");
      std::array<double, 3> d{};
      std::array<int, 3> n{};
      for (int i = 0; i < 3; ++i) {
        const std::string elem = " (element " + std::to_string(i + 1) + " is " + compact(a[i]) + ")";
        if (a[i].is_integer()) {
          std::int64_t x = a[i].as_integer();
          if (s.type == KeyType::Integer3 && (x < INT_MIN || x > INT_MAX))
            return why = "is too large for an int" + elem, std::nullopt;
          d[i] = double(x), n[i] = int(x);
        } else if (a[i].is_floating() && s.type == KeyType::Double3) {
          d[i] = a[i].as_floating();
        } else {
          return wrong(elem);
        }
      }
      return s.type == KeyType::Double3 ? InputValue(d) : InputValue(n);
    }
  }
  return std::nullopt;
}

struct Problem {
  int line;  // 0: no line (sorted last)
  std::string message;
};

// toml11's message: "[error] toml::parse_table: invalid line format\n --> file\n   |\n 2 | ..."
// becomes "file:2: TOML syntax error: invalid line format", followed by toml11's source excerpt.
std::string syntax_message(const std::string& path, const toml::exception& e) {
  std::string what = e.what();
  std::string first = what.substr(0, what.find('\n'));
  std::string rest = what.find('\n') == std::string::npos ? "" : what.substr(what.find('\n'));
  if (first.rfind("[error] ", 0) == 0) first = first.substr(8);
  if (first.rfind("toml::", 0) == 0 && first.find(": ") != std::string::npos)
    first = first.substr(first.find(": ") + 2);
  return path + ":" + std::to_string(e.location().line()) + ": TOML syntax error: " + first + rest;
}

// Rank 0's half of Input::parse. Returns false and sets `text` to the message on failure.
bool read_file(const std::string& path, std::string& text) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    text = path + ": cannot read input file: it is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    text = path + ": cannot open input file: " + std::strerror(errno);
    return false;
  }
  std::ostringstream os;
  os << in.rdbuf();
  if (in.bad()) {
    text = path + ": cannot read input file: " + std::strerror(errno);
    return false;
  }
  text = os.str();
  // An HDF5 output given where the input belongs would otherwise give a baffling syntax error.
  if (text.find('\0') != std::string::npos) {
    text = path + ": not a TOML text file (it contains binary data)";
    return false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Range

Range Range::parse(std::string_view text) {
  auto bad = [&] { return std::logic_error("malformed range '" + std::string(text) + "'"); };
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  auto bound = [&](std::string_view s) {
    s = trim(s);
    if (s == "inf" || s == "+inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    double x = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), x);
    if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) throw bad();
    return x;
  };
  text = trim(text);
  Range r;
  if (text.empty()) return r;
  const auto comma = text.find(',');
  if (text.size() < 5 || comma == std::string_view::npos || !std::strchr("([", text.front()) ||
      !std::strchr(")]", text.back()))
    throw bad();
  r.lo_open = text.front() == '(';
  r.hi_open = text.back() == ')';
  r.lo = bound(text.substr(1, comma - 1));
  r.hi = bound(text.substr(comma + 1, text.size() - comma - 2));
  if (!(r.lo <= r.hi) || (std::isinf(r.lo) && !r.lo_open) || (std::isinf(r.hi) && !r.hi_open)) throw bad();
  return r;
}

bool Range::contains(double x) const { return (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi); }

bool Range::unbounded() const { return std::isinf(lo) && std::isinf(hi); }

std::string Range::notation() const {
  if (unbounded()) return "";
  return (lo_open ? "(" : "[") + number(lo) + ", " + number(hi) + (hi_open ? ")" : "]");
}

std::string Range::describe() const {
  if (unbounded()) return "any value";
  if (std::isinf(hi)) return (lo_open ? "> " : ">= ") + number(lo);
  if (std::isinf(lo)) return (hi_open ? "< " : "<= ") + number(hi);
  return "in " + notation();
}

std::string KeySpec::allowed() const {
  const std::string r = range.unbounded() ? "" : " " + range.describe();
  switch (type) {
    case KeyType::Int: return "an integer" + r;
    case KeyType::Double: return "a number" + r;
    case KeyType::Bool: return "true or false";
    case KeyType::String: return choices.empty() ? "a string" : "one of " + join(choices, ", ", true);
    case KeyType::Double3: return "an array of 3 numbers" + (r.empty() ? "" : "," + r + " each");
    case KeyType::Integer3: return "an array of 3 integers" + (r.empty() ? "" : "," + r + " each");
  }
  return "";
}

std::string format_value(const InputValue& v) {
  auto real = [](double x) {  // TOML floats need a '.' or exponent, or they read back as ints
    std::string s = number(x);
    if (s.find_first_of(".eni") == std::string::npos) s += ".0";
    return s;
  };
  return std::visit(
      [&](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::int64_t>) return std::to_string(x);
        else if constexpr (std::is_same_v<T, double>) return real(x);
        else if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::string>) return in_quotes(x);
        else if constexpr (std::is_same_v<T, std::array<double, 3>>)
          return "[" + real(x[0]) + ", " + real(x[1]) + ", " + real(x[2]) + "]";
        else return "[" + std::to_string(x[0]) + ", " + std::to_string(x[1]) + ", " + std::to_string(x[2]) + "]";
      },
      v);
}

// ---------------------------------------------------------------------------------------------
// Schema

Schema& Schema::add(KeySpec spec) {
  const auto dot = spec.key.find('.');
  const bool bare = std::all_of(spec.key.begin(), spec.key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
  if (!bare || dot == 0 || dot == std::string::npos || dot + 1 == spec.key.size() ||
      spec.key.find('.', dot + 1) != std::string::npos)
    throw std::logic_error("schema: key '" + spec.key + "' must be 'table.name'");
  if (find(spec.key)) throw std::logic_error("schema: key '" + spec.key + "' declared twice");
  if (spec.presence == Presence::Default) {
    if (auto msg = check_value(spec, spec.default_value); !msg.empty())
      throw std::logic_error("schema: default of '" + spec.key + "' " + msg);
  }
  keys_.push_back(std::move(spec));
  return *this;
}

namespace {
KeySpec make_spec(std::string key, KeyType type, Presence p, InputValue def, std::string_view range, std::string unit,
                  std::vector<std::string> choices, std::string doc) {
  return {std::move(key),  type,          p, std::move(def), Range::parse(range), std::move(choices),
          std::move(unit), std::move(doc)};
}
// The Presence overloads are for keys without a default.
Presence no_default(Presence p, const std::string& key) {
  if (p == Presence::Default) throw std::logic_error("schema: '" + key + "' needs a default value");
  return p;
}
}  // namespace

Schema& Schema::add_int(std::string key, std::int64_t def, std::string_view range, std::string unit, std::string doc) {
  return add(make_spec(key, KeyType::Int, Presence::Default, def, range, unit, {}, doc));
}
Schema& Schema::add_int(std::string key, Presence p, std::string_view range, std::string unit, std::string doc) {
  return add(make_spec(key, KeyType::Int, no_default(p, key), {}, range, unit, {}, doc));
}
Schema& Schema::add_double(std::string key, double def, std::string_view range, std::string unit, std::string doc) {
  return add(make_spec(key, KeyType::Double, Presence::Default, def, range, unit, {}, doc));
}
Schema& Schema::add_double(std::string key, Presence p, std::string_view range, std::string unit, std::string doc) {
  return add(make_spec(key, KeyType::Double, no_default(p, key), {}, range, unit, {}, doc));
}
Schema& Schema::add_bool(std::string key, bool def, std::string doc) {
  return add(make_spec(key, KeyType::Bool, Presence::Default, def, "", "", {}, doc));
}
Schema& Schema::add_bool(std::string key, Presence p, std::string doc) {
  return add(make_spec(key, KeyType::Bool, no_default(p, key), {}, "", "", {}, doc));
}
Schema& Schema::add_string(std::string key, std::string def, std::vector<std::string> choices, std::string doc) {
  return add(make_spec(key, KeyType::String, Presence::Default, def, "", "", choices, doc));
}
Schema& Schema::add_string(std::string key, Presence p, std::vector<std::string> choices, std::string doc) {
  return add(make_spec(key, KeyType::String, no_default(p, key), {}, "", "", choices, doc));
}
Schema& Schema::add_vec3(std::string key, std::array<double, 3> def, std::string_view range, std::string unit,
                         std::string doc) {
  return add(make_spec(key, KeyType::Double3, Presence::Default, def, range, unit, {}, doc));
}
Schema& Schema::add_vec3(std::string key, Presence p, std::string_view range, std::string unit, std::string doc) {
  return add(make_spec(key, KeyType::Double3, no_default(p, key), {}, range, unit, {}, doc));
}
Schema& Schema::add_int3(std::string key, std::array<int, 3> def, std::string_view range, std::string unit,
                         std::string doc) {
  return add(make_spec(key, KeyType::Integer3, Presence::Default, def, range, unit, {}, doc));
}
Schema& Schema::add_int3(std::string key, Presence p, std::string_view range, std::string unit, std::string doc) {
  return add(make_spec(key, KeyType::Integer3, no_default(p, key), {}, range, unit, {}, doc));
}

const KeySpec* Schema::find(std::string_view key) const {
  for (const auto& k : keys_)
    if (k.key == key) return &k;
  return nullptr;
}

bool Schema::has_table(std::string_view table) const {
  return std::any_of(keys_.begin(), keys_.end(), [&](const KeySpec& k) { return k.table() == table; });
}

std::vector<std::string> Schema::tables() const {
  std::vector<std::string> out;
  for (const auto& k : keys_)
    if (std::find(out.begin(), out.end(), k.table()) == out.end()) out.push_back(k.table());
  return out;
}

std::string schema_help(const Schema& schema) {
  const std::vector<std::string> head = {"key", "type", "default", "allowed", "unit", "meaning"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : schema.keys()) {
    std::string def = k.presence == Presence::Required   ? "required"
                      : k.presence == Presence::Optional ? "(unset)"
                                                         : format_value(k.default_value);
    std::string allowed = k.type == KeyType::String ? join(k.choices, " | ", false) : k.range.notation();
    rows.push_back({k.key, type_name(k.type), def, allowed, k.unit, k.doc});
  }
  std::vector<std::size_t> w(head.size());
  for (std::size_t c = 0; c < head.size(); ++c) {
    w[c] = head[c].size();
    for (const auto& r : rows) w[c] = std::max(w[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (std::size_t c = 0; c < r.size(); ++c)
      out += c + 1 < r.size() ? r[c] + std::string(w[c] - r[c].size() + 2, ' ') : r[c];
    return out + "\n";
  };
  std::string out =
      "Input file keys (TOML; write [table] then key = value; units: reduced LJ "
      "unless stated)\n\n" +
      line(head);
  std::string table;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (schema.keys()[i].table() != table) out += "\n", table = schema.keys()[i].table();
    out += line(rows[i]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Input

Input Input::parse(MPI_Comm comm, const std::string& path, const Schema& schema) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string text;
  int ok = rank == 0 ? read_file(path, text) : 0;
  std::uint64_t n = text.size();
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm);
  text.resize(n);
  for (std::uint64_t off = 0; off < n; off += INT_MAX)  // MPI counts are int
    MPI_Bcast(text.data() + off, int(std::min<std::uint64_t>(n - off, INT_MAX)), MPI_CHAR, 0, comm);
  if (!ok) throw Error(text);  // the same message, read on rank 0, on every rank
  return from_string(text, path, schema);
}

namespace {

toml::value parse_toml(const std::string& text, const std::string& path) {
  try {
    std::istringstream is(text);
    return toml::parse(is, path);
  } catch (const toml::exception& e) {
    throw Error(syntax_message(path, e));
  } catch (const std::exception& e) {
    throw Error(path + ": cannot parse input file: " + e.what());
  }
}

// What the file gives, checked against the schema: the values of the keys it sets, the line of
// each table header, and every problem found (reported together, by line).
struct ParsedKey {
  InputValue value;
  int line = 0;
  std::string text;  // as written
};
struct ParsedFile {
  std::map<std::string, ParsedKey> keys;
  std::map<std::string, int> table_line;
  std::vector<Problem> problems;
};

class FileReader {
 public:
  FileReader(const Schema& schema, const std::string& path) : schema_(schema), path_(path) {
    for (const auto& k : schema.keys()) all_keys_.push_back(k.key);
  }

  ParsedFile read(const toml::value& root) {
    const auto& top = root.as_table();
    for (const auto& tname : sorted_keys(top)) read_table(tname, top.at(tname));
    return std::move(out_);
  }

 private:
  std::string at(int line) const { return path_ + ":" + std::to_string(line) + ": "; }

  static std::vector<std::string> sorted_keys(const toml::table& t) {
    std::vector<std::string> ks;
    for (const auto& kv : t) ks.push_back(kv.first);
    std::sort(ks.begin(), ks.end());  // toml::table is unordered; sort for identical output
    return ks;
  }

  // Suggestion for an unknown key: the nearest declared key, else one with the same name in
  // another table (e.g. temperature under [system] -> md.temperature).
  std::string suggest_key(const std::string& full, const std::string& name) const {
    auto c = closest(full, all_keys_);
    if (!c)
      for (const auto& k : schema_.keys())
        if (k.name() == name) c = k.key;
    return c ? "; did you mean '" + *c + "'?" : std::string();
  }

  void read_table(const std::string& tname, const toml::value& tval) {
    const int tline = int(tval.location().line());
    if (!schema_.has_table(tname)) {
      const auto tables = schema_.tables();
      if (tval.is_table()) {
        auto c = closest(tname, tables);
        out_.problems.push_back({tline, at(tline) + "unknown table [" + tname + "]" +
                                            (c ? "; did you mean [" + *c + "]?" : "") +
                                            " (tables: " + join(tables, ", ", false) + ")"});
      } else {
        out_.problems.push_back({tline, at(tline) + "key '" + tname + "' is outside any table" +
                                            suggest_key(tname, tname) + " (every key belongs under a [table] header)"});
      }
      return;
    }
    if (!tval.is_table()) {
      out_.problems.push_back({tline, at(tline) + "'" + tname + "' must be a table: write [" + tname +
                                          "] on a line of its own, then its keys"});
      return;
    }
    out_.table_line[tname] = tline;
    for (const auto& name : sorted_keys(tval.as_table())) read_key(tname, name, tval.as_table().at(name));
  }

  void read_key(const std::string& tname, const std::string& name, const toml::value& v) {
    const std::string full = tname + "." + name;
    const int line = int(v.location().line());
    const KeySpec* spec = schema_.find(full);
    if (!spec) {
      std::vector<std::string> names;
      for (const auto& k : schema_.keys())
        if (k.table() == tname) names.push_back(k.name());
      out_.problems.push_back({line, at(line) + "unknown key '" + full + "'" + suggest_key(full, name) + " (keys in [" +
                                         tname + "]: " + join(names, ", ", false) + ")"});
      return;
    }
    const std::string text_v = source_text(v);
    std::string why;
    auto value = convert(*spec, v, why);
    if (value && why.empty()) why = check_value(*spec, *value);
    if (!why.empty()) {
      out_.problems.push_back({line, at(line) + "key '" + full + "' = " + text_v + " " + why + doc_suffix(*spec)});
      return;
    }
    out_.keys[full] = ParsedKey{std::move(*value), line, text_v};
  }

  const Schema& schema_;
  const std::string& path_;
  std::vector<std::string> all_keys_;
  ParsedFile out_;
};

// Every problem, one per line, by line (problems without a line last).
[[noreturn]] void throw_problems(std::vector<Problem> problems) {
  std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
    return unsigned(a.line - 1) < unsigned(b.line - 1);  // line 0 wraps to the end
  });
  std::string msg;
  for (const auto& p : problems) msg += (msg.empty() ? "" : "\n") + p.message;
  throw Error(msg);
}

}  // namespace

Input Input::from_string(const std::string& text, const std::string& path, const Schema& schema) {
  const toml::value root = parse_toml(text, path);
  ParsedFile parsed = FileReader(schema, path).read(root);
  Input in;
  in.path_ = path;
  in.raw_text_ = text;
  in.schema_ = schema;
  for (auto& [key, k] : parsed.keys) in.entries_[key] = Entry{std::move(k.value), true, k.line, k.text};
  // Keys the file does not set: their defaults, or a problem if required.
  for (const auto& k : schema.keys()) {
    if (in.entries_.count(k.key)) continue;
    if (k.presence == Presence::Required) {
      auto t = parsed.table_line.find(k.table());
      const int line = t == parsed.table_line.end() ? 0 : t->second;
      parsed.problems.push_back({line, (line ? path + ":" + std::to_string(line) + ": " : path + ": ") +
                                           "missing required key '" + k.key + "': expected " + k.allowed() +
                                           " under [" + k.table() + "]" + doc_suffix(k)});
    }
    in.entries_[k.key] = Entry{k.default_value, k.presence == Presence::Default, 0, ""};
  }
  if (!parsed.problems.empty()) throw_problems(std::move(parsed.problems));
  return in;
}

const Input::Entry& Input::entry(std::string_view key, KeyType want) const {
  const KeySpec* spec = schema_.find(key);
  if (!spec) throw Error("input: '" + std::string(key) + "' is not a declared input key");
  if (spec->type != want && !(want == KeyType::Double && spec->type == KeyType::Int))
    throw Error("input: key '" + std::string(key) + "' is " + type_name(spec->type) + ", read as " + type_name(want));
  const Entry& e = entries_.find(key)->second;
  if (!e.present) throw Error("input: optional key '" + std::string(key) + "' is not set (check has() first)");
  return e;
}

std::int64_t Input::get_int(std::string_view key) const {
  return std::get<std::int64_t>(entry(key, KeyType::Int).value);
}
double Input::get_double(std::string_view key) const {
  const auto& v = entry(key, KeyType::Double).value;
  return std::holds_alternative<std::int64_t>(v) ? double(std::get<std::int64_t>(v)) : std::get<double>(v);
}
bool Input::get_bool(std::string_view key) const { return std::get<bool>(entry(key, KeyType::Bool).value); }
const std::string& Input::get_string(std::string_view key) const {
  return std::get<std::string>(entry(key, KeyType::String).value);
}
std::array<double, 3> Input::get_vec3(std::string_view key) const {
  return std::get<std::array<double, 3>>(entry(key, KeyType::Double3).value);
}
std::array<int, 3> Input::get_int3(std::string_view key) const {
  return std::get<std::array<int, 3>>(entry(key, KeyType::Integer3).value);
}

bool Input::has(std::string_view key) const {
  auto e = entries_.find(key);
  return e != entries_.end() && e->second.present;
}
bool Input::given(std::string_view key) const {
  auto e = entries_.find(key);
  return e != entries_.end() && e->second.line > 0;
}
int Input::line(std::string_view key) const {
  auto e = entries_.find(key);
  return e == entries_.end() ? 0 : e->second.line;
}

void Input::fail(std::string_view key, const std::string& what) const {
  auto e = entries_.find(key);
  if (e == entries_.end()) throw Error("input: '" + std::string(key) + "' is not a declared input key");
  const Entry& en = e->second;
  std::string where = path_ + (en.line ? ":" + std::to_string(en.line) : "") + ": key '" + std::string(key) + "'";
  if (en.line) where += " = " + en.text;
  else if (en.present) where += " (default " + format_value(en.value) + ")";
  throw Error(where + ": " + what);
}

std::string Input::effective_toml() const {
  std::string out, table;
  for (const auto& k : schema_.keys()) {
    if (k.table() != table) out += (out.empty() ? "[" : "\n[") + k.table() + "]\n", table = k.table();
    const Entry& e = entries_.at(k.key);
    out += e.present ? k.name() + " = " + format_value(e.value) + "\n" : "# " + k.name() + " (unset)\n";
  }
  return out;
}

}  // namespace tlsmap
