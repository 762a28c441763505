#include "tlsmap/stages/energy_cli.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/reduction.hpp"
#include "tlsmap/couplings/active_coulomb.hpp"
#include "tlsmap/electrostatics/coulomb.hpp"
#include "tlsmap/io/config_file.hpp"
#include "tlsmap/io/h5md.hpp"
#include "tlsmap/io/lammps_data.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/stages/active_charges.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace tlsmap {
namespace {

constexpr const char* kUsage =
    "usage: tlsmap energy FILE [--json] [--forces OUT] [--lammps OUT] [--model NAME] [--accuracy A] [--cutoff R] "
    "[--epsilon E] [--coulomb-solver fft|mg]";
constexpr double kSkin = 0.3;

// A positive number from a command-line value, or Error naming the option.
double positive_number(const std::string& option, const std::string& text, bool zero_ok = false) {
  std::size_t used = 0;
  double v = 0.0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !std::isfinite(v) || v < 0.0 || (v == 0.0 && !zero_ok))
    throw Error(option + " needs a positive number, got '" + text + "'; " + kUsage);
  return v;
}

// Collective: "id fx fy fz" lines sorted by id, written by rank 0 to "<path>.tmp", then renamed.
void write_forces(const std::string& path, const Beads& b, MPI_Comm comm) {
  std::vector<double> out;
  out.reserve(4 * static_cast<std::size_t>(b.n_owned));
  for (int i = 0; i < b.n_owned; ++i)
    out.insert(out.end(), {static_cast<double>(b.id[i]), b.force[i][0], b.force[i][1], b.force[i][2]});
  int size = 0, n_out = static_cast<int>(out.size());
  MPI_Comm_size(comm, &size);
  std::vector<int> counts(size), displs(size + 1, 0);
  MPI_Gather(&n_out, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm);
  for (int r = 0; r < size; ++r) displs[r + 1] = displs[r] + counts[r];
  std::vector<double> all(comm_rank(comm) == 0 ? displs[size] : 0);
  MPI_Gatherv(out.data(), n_out, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE, 0, comm);
  std::string error;
  if (comm_rank(comm) == 0) {
    std::vector<std::size_t> order(all.size() / 4);
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](auto a, auto c) { return all[4 * a] < all[4 * c]; });
    const std::string tmp = path + ".tmp";
    if (std::FILE* f = std::fopen(tmp.c_str(), "w")) {
      fmt::memory_buffer line;
      bool written = true;
      for (std::size_t k : order) {
        line.clear();
        fmt::format_to(std::back_inserter(line), "{} {:.17g} {:.17g} {:.17g}\n", static_cast<long long>(all[4 * k]),
                       all[4 * k + 1], all[4 * k + 2], all[4 * k + 3]);
        written = written && std::fwrite(line.data(), 1, line.size(), f) == line.size();
      }
      if (std::fclose(f) != 0 || !written || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        error = path + ": cannot write forces";
      }
    } else {
      error = path + ": cannot create " + tmp;
    }
  }
  root_verdict(comm, error);
}

// The named model; one with per-bead diameters gets the neighbour range of the largest diameter
// in the file (published data reach slightly beyond the default sigma_max).
Model model_for(const std::string& name, const LoadedConfiguration& c) {
  Model m = model_by_name(name);
  if (m.has_diameters()) m = Model(PolydisperseSoftSphere::for_diameters_up_to(c.max_diameter));
  return m;
}

}  // namespace

namespace {

// The command line of `tlsmap energy`.
struct EnergyOptions {
  std::string file, model, forces_out, lammps_out;
  bool json = false;
  double accuracy = 1e-5, cutoff = 0.0, epsilon = 1.0;
  // The reciprocal part: fft by default (ε is uniform here: no spatially varying ε reaches the bead
  // Coulomb split), mg on request (docs/electrostatics.md §10).
  CoulombSolver solver = CoulombSolver::fft;
};

EnergyOptions parse_energy_options(const std::vector<std::string>& args) {
  EnergyOptions o;
  for (std::size_t k = 0; k < args.size(); ++k) {
    const std::string& a = args[k];
    auto value = [&]() -> const std::string& {
      if (k + 1 >= args.size()) throw Error(a + " needs a value; " + kUsage);
      return args[++k];
    };
    if (a == "--json") o.json = true;
    else if (a == "--forces") o.forces_out = value();
    else if (a == "--lammps") o.lammps_out = value();
    else if (a == "--model") o.model = value();
    else if (a == "--accuracy") o.accuracy = positive_number(a, value());
    else if (a == "--cutoff") o.cutoff = positive_number(a, value(), true);
    else if (a == "--epsilon") o.epsilon = positive_number(a, value());
    else if (a == "--coulomb-solver") {
      try {
        o.solver = coulomb_solver_by_name(value());
      } catch (const Error& e) {
        throw Error(std::string(e.what()) + "; " + kUsage);
      }
    } else if (a.size() > 1 && a[0] == '-') throw Error("unknown option '" + a + "'; " + kUsage);
    else if (o.file.empty()) o.file = a;
    else throw Error("more than one configuration file ('" + o.file + "', '" + a + "'); " + kUsage);
  }
  if (o.file.empty()) throw Error(std::string("no configuration file; ") + kUsage);
  return o;
}

// The Coulomb part of the report, if some bead is charged.
struct CoulombPart {
  bool charged = false;
  CoulombParams params;
  CoulombResult result;
  Int3 grid{0, 0, 0};  // the mg grid or the fft mesh
};

// The bonds' energy Σ ½ k (r − r0)² of the owned beads' bonds (half per bead), summed over ranks.
double bond_energy(const System& sys) {
  const Beads& b = sys.beads();
  const HarmonicBond& bond = *sys.model().bond;
  std::vector<double> e(static_cast<std::size_t>(b.n_owned), 0.0);
  for (int i = 0; i < b.n_owned; ++i) {
    const int j = sys.bond_partner()[i];
    if (j < 0) continue;
    const double dr = (b.pos[i] - b.pos[j]).norm() - bond.r0;
    e[i] = 0.25 * bond.k * dr * dr;
  }
  return reproducible_sum(sys.comm(), e);
}

// Collective: the Coulomb split's energies into r and its forces added to the System's.
void add_coulomb(System& sys, CoulombPart& c, EnergyReport& r) {
  Coulomb coulomb(sys.decomp(), c.params);
  std::vector<Vec3> fc;
  const CoulombResult& cr = c.result = coulomb.compute(sys.beads(), *sys.coulomb_list(), fc);
  c.grid = coulomb.mesh();
  Beads& b = sys.beads();
  for (int i = 0; i < b.n_owned; ++i) b.force[i] += fc[i];
  r.coulomb_real = cr.real, r.coulomb_reciprocal = cr.reciprocal, r.coulomb_self = cr.self;
  r.coulomb = cr.total;
  r.accuracy = c.params.accuracy;
  r.accuracy_estimate = cr.relative_error;
}

// Keys in the documented order; doubles printed shortest-round-trip (they read back exactly),
// strings escaped by the library (a file name that is not UTF-8 gets U+FFFD for its bad bytes).
void print_json(const EnergyReport& r, const CoulombPart& c, const std::string& note) {
  nlohmann::ordered_json j;
  j["file"] = r.file;
  j["format"] = r.format;
  j["model"] = r.model;
  j["n_beads"] = r.n_beads;
  j["pair"] = r.lj;
  j["lj"] = r.lj - r.bond;
  j["coulomb"] = r.coulomb;
  j["coulomb_real"] = r.coulomb_real;
  j["coulomb_reciprocal"] = r.coulomb_reciprocal;
  j["coulomb_self"] = r.coulomb_self;
  j["total"] = r.total;
  j["per_bead"] = r.total / static_cast<double>(r.n_beads);
  j["pressure"] = r.pressure;
  j["max_force"] = r.max_force;
  j["accuracy"] = r.accuracy;
  j["accuracy_estimate"] = r.accuracy_estimate;
  j["coulomb_rms_force"] = c.result.rms_force;
  j["coulomb_cutoff"] = c.charged ? c.params.cutoff : 0.0;
  j["coulomb_sigma"] = c.charged ? c.params.sigma : 0.0;
  j["grid"] = {c.grid[0], c.grid[1], c.grid[2]};
  j["solver_iterations"] = c.result.iterations;
  j["note"] = note;
  j["bond"] = r.bond;                                // bonded models (else 0): part of "pair"
  j["coulomb_bonded_exclusion"] = r.coulomb_bonded;  // bonded models (else 0): part of "coulomb"
  const Mat3& w = r.virial;                          // what the pressure includes (the note says)
  j["virial"] = {w(0, 0), w(1, 1), w(2, 2), w(0, 1), w(0, 2), w(1, 2)};
  fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

void print_text(const EnergyReport& r, const Box& box, bool poly, bool bonded, const CoulombPart& c) {
  const CoulombParams& cp = c.params;
  fmt::print("configuration  {} ({}), {} beads, box {:.10g} x {:.10g} x {:.10g}\n", r.file, r.format, r.n_beads,
             box.len[0], box.len[1], box.len[2]);
  if (poly) {
    fmt::print("model          {} (soft spheres, per-bead diameters, non-additive)\n", r.model);
    fmt::print("pair           {:.17g}\n", r.lj);
  } else if (bonded) {
    fmt::print("model          {} (Lennard-Jones, truncated and shifted, without the bonded pairs; harmonic bonds)\n",
               r.model);
    fmt::print("lj             {:.17g}\n", r.lj - r.bond);
    fmt::print("bond           {:.17g}\n", r.bond);
  } else {
    fmt::print("model          {} (Lennard-Jones, truncated and shifted)\n", r.model);
    fmt::print("lj             {:.17g}\n", r.lj);
  }
  if (c.charged) {
    fmt::print("coulomb        {:.17g}  (epsilon {:g}; Ewald sum, conducting boundary)\n", r.coulomb, cp.epsilon);
    fmt::print("  real         {:.17g}  (erfc, r_c = {:.6g}, alpha = {:.6g})\n", r.coulomb_real, cp.cutoff, cp.alpha);
    if (cp.solver == CoulombSolver::fft)
      fmt::print(
          "  reciprocal   {:.17g}  (P3M mesh {} x {} x {}, sigma = {:.6g}, B-spline order {}, optimal influence "
          "function)\n",
          r.coulomb_reciprocal, c.grid[0], c.grid[1], c.grid[2], cp.sigma, cp.assignment_order);
    else
      fmt::print("  reciprocal   {:.17g}  (grid {} x {} x {}, sigma = {:.6g}, order {}, {} CG iterations)\n",
                 r.coulomb_reciprocal, c.grid[0], c.grid[1], c.grid[2], cp.sigma, cp.order, c.result.iterations);
    fmt::print("  self         {:.17g}\n", r.coulomb_self);
    if (bonded) fmt::print("  bonded pairs {:.17g}  (each bond's q_i q_j/r left out)\n", r.coulomb_bonded);
    fmt::print(
        "accuracy       requested {:.3g}, estimated {:.3g} (relative RMS Coulomb force error; RMS |F_C| {:.6g})\n",
        r.accuracy, r.accuracy_estimate, c.result.rms_force);
  } else {
    fmt::print("coulomb        0  (no bead is charged)\n");
  }
  fmt::print("total          {:.17g}\n", r.total);
  fmt::print("per bead       {:.17g}\n", r.total / static_cast<double>(r.n_beads));
  fmt::print("pressure       {:.17g}  ({})\n", r.pressure,
             !bonded     ? "pair virial only"
             : c.charged ? "pair, bond and Coulomb virial"
                         : "pair and bond virial");
  const Mat3& w = r.virial;
  fmt::print(
      "virial         {:.10g} {:.10g} {:.10g} {:.10g} {:.10g} {:.10g}  (xx yy zz xy xz yz of sum r_a f_b, as the "
      "pressure)\n",
      w(0, 0), w(1, 1), w(2, 2), w(0, 1), w(0, 2), w(1, 2));
  fmt::print("max |F_i|      {:.17g}  (pair + Coulomb)\n", r.max_force);
}

}  // namespace

EnergyReport run_energy(const std::vector<std::string>& args, MPI_Comm comm) {
  const EnergyOptions o = parse_energy_options(args);
  EnergyReport r;
  r.file = o.file;
  r.model = o.model;
  const bool diameters_asked = !r.model.empty() && model_has_diameters(r.model);  // an unknown name fails here
  LoadedConfiguration loaded = load_configuration(r.file, comm, diameters_asked);
  // Without --model the file's diameters or bonds name the model. A model that disagrees with the
  // file's bonds is refused: read as Kob–Andersen, a molecular glass would count each bond's LJ
  // and q_i q_j/r as if its beads were strangers.
  if (r.model.empty())
    r.model = loaded.beads.has_diameter  ? Model::kPolydisperseName
              : loaded.beads.has_partner ? Model::kPolarDimersName
                                         : "kob-andersen";
  Model model = model_for(r.model, loaded);
  check_bonds_match_model(model, "--model " + r.model, loaded.beads.has_partner, r.file);
  if (!model.has_diameters()) require_species_in_model(loaded, r.file, model.table.n_species(), r.model, comm);
  const bool poly = model.has_diameters();
  r.format = loaded.format;
  const Box box = loaded.box;
  Beads beads = std::move(loaded.beads);
  for (auto& v : beads.vel) v.setZero();  // the configuration's energy and virial pressure only
  // Coulomb only if some bead is charged; its parameters follow the accuracy rule (coulomb.hpp).
  CoulombPart c;
  int charged = 0;
  for (int i = 0; i < beads.n_owned; ++i) charged |= beads.charge[i] != 0.0;
  MPI_Allreduce(MPI_IN_PLACE, &charged, 1, MPI_INT, MPI_LOR, comm);
  c.charged = charged != 0;
  if (c.charged)
    c.params = coulomb_params(box, o.accuracy, o.cutoff, o.epsilon, 0.5 * box.len.minCoeff() - kSkin, 16, o.solver);
  const bool bonded = model.has_bonds();
  System sys(comm, box, std::move(model), kSkin, {0, 0, 0}, c.charged ? c.params.cutoff : 0.0);
  sys.set_beads(std::move(beads));
  // Bonded molecules: the engine's active term, which leaves the bonded pairs' q_i q_j/r out.
  const std::shared_ptr<ActiveCoulomb> term = bonded && c.charged ? activate_coulomb(sys, c.params, kSkin) : nullptr;
  if (term && c.params.solver == CoulombSolver::fft) term->set_virial_tensor(true);
  sys.compute_forces();
  const Thermo th = sys.thermo();
  r.n_beads = sys.n_global();
  r.pressure = th.pressure;
  r.virial = th.virial;
  std::string note = "pressure is the pair virial pressure";
  if (bonded) {
    r.bond = bond_energy(sys);
    note += "; bonded molecules: pair is LJ + bonds, coulomb leaves each bond's q_i q_j/r out";
  }
  if (term) {
    const CoulombResult& cr = c.result = term->last();
    c.grid = term->mesh();
    r.coulomb_real = cr.real, r.coulomb_reciprocal = cr.reciprocal, r.coulomb_self = cr.self;
    r.coulomb = cr.total;
    r.coulomb_bonded = cr.total - (cr.real + cr.reciprocal + cr.self);
    r.accuracy = c.params.accuracy;
    r.accuracy_estimate = cr.relative_error;
    r.lj = th.potential - r.coulomb;  // the active term is part of the potential
    if (o.solver == CoulombSolver::fft)
      note += "; coulomb solver fft (P3M, assignment order " + std::to_string(c.params.assignment_order) + ")";
    note += o.solver == CoulombSolver::fft ? "; pressure and virial include the charges' whole virial tensor"
                                           : "; pressure includes the charges' virial (its trace is exact; the "
                                             "virial tensor holds its isotropic part only with mg)";
  } else if (c.charged) {
    r.lj = th.potential;
    add_coulomb(sys, c, r);
    // mg: the note stays what it was (outputs bitwise unchanged); fft names itself.
    if (o.solver == CoulombSolver::fft)
      note += "; coulomb solver fft (P3M, assignment order " + std::to_string(c.params.assignment_order) + ")";
  } else {
    r.lj = th.potential;
    note += "; no bead is charged: coulomb is 0";
  }
  r.total = r.lj + r.coulomb;
  r.max_force = sys.max_force();

  if (!o.forces_out.empty()) write_forces(o.forces_out, sys.beads(), comm);
  if (!o.lammps_out.empty()) {
    LammpsWriteOptions w;
    w.n_types = poly ? 0 : sys.table().n_species();  // 0: max species + 1
    w.diameter_as_charge = poly;                     // the convention of published polydisperse data
    w.title = "tlsmap energy: " + r.file;
    write_lammps_data(o.lammps_out, box, sys.beads(), comm, w);
  }
  if (comm_rank(comm) == 0) {
    if (o.json) print_json(r, c, note);
    else print_text(r, box, poly, bonded, c);
    std::fflush(stdout);
  }
  return r;
}

}  // namespace tlsmap
