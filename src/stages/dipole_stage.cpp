// `tlsmap dipole`: μ_direct and μ_eq13 for every TLS of /tls, the bond-dipole statistics, and a
// convergence table over grid spacing and integration radius (include/tlsmap/couplings/dipole.hpp, docs/dipole.md).
//
// Parallel layout: the TLS loop is sequential and every grid solve uses all ranks (the grid is laid
// out on the bead decomposition); per-TLS data (/tls rows, charges by id, bond partners) are
// replicated, O(N + m) per rank. Uniform ε: one PoissonGrid serves every TLS (one solve each);
// ε_in ≠ ε_ext: each TLS gets its own grid with its dielectric sphere (set-up + solve each).
#include "tlsmap/stages/dipole_stage.hpp"

#include "tlsmap/couplings/dipole.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/progress.hpp"
#include "tlsmap/electrostatics/poisson_grid.hpp"
#include "tlsmap/io/input.hpp"
#include "tlsmap/io/tls_io.hpp"
#include "tlsmap/io/units.hpp"
#include "tlsmap/parallel/decomposition.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <memory>
#include <numbers>

namespace tlsmap {

namespace {

constexpr double pi = std::numbers::pi;

double ratio(const Vec3& mu, const Vec3& direct) {
  const double n2 = direct.squaredNorm();
  return n2 > 0.0 ? mu.dot(direct) / n2 : 0.0;
}

// What `tlsmap dipole` reads from the input file.
struct DipoleSettings {
  std::string output;
  Eq13Options gs;  // grid spacing, smoothing, ε outside and inside the sphere
  double radius_factor = 0.0;
  std::array<double, 3> conv_h{}, conv_r{};  // convergence table: grid spacings and radius factors
  std::size_t conv_n = 0;                    // convergence table: how many TLS
  Int3 proc_grid{0, 0, 0};
  double debye = 0.0;  // D per reduced dipole, unless the configuration records its own

  static DipoleSettings from_input(const Input& in);
};

DipoleSettings DipoleSettings::from_input(const Input& in) {
  DipoleSettings s;
  s.output = output_path(in);
  s.gs.sigma_factor = in.get_double("dipole.sigma_factor");
  s.gs.eps_ext = in.get_double("dipole.epsilon");
  s.gs.eps_in = in.has("dipole.epsilon_in") ? in.get_double("dipole.epsilon_in") : s.gs.eps_ext;
  s.gs.spacing = in.get_double("dipole.spacing");
  s.radius_factor = in.get_double("dipole.radius_factor");
  s.conv_h = in.get_vec3("dipole.convergence_spacing");
  s.conv_r = in.get_vec3("dipole.convergence_radius");
  s.conv_n = static_cast<std::size_t>(in.get_int("dipole.convergence_tls"));
  s.proc_grid = in.get_int3("system.proc_grid");
  s.debye = PhysicalUnits::from_input(in).debye_per_dipole();
  return s;
}

// The bonds of /charge (passive charges), or the molecules of a bonded model (/particles/all/bonds,
// active charges: each molecule's dipole is its bond's): each bead's partner (0: none, or neither
// table) and the bond charge ζq.
struct Bonds {
  std::vector<std::int64_t> partner;
  double charge_reduced = 0.0;
};

Bonds read_bonds(Hdf5File& file, const std::string& path, std::int64_t n_beads, const Progress& progress) {
  Bonds b;
  const bool passive = has_object(file, "/charge"), molecules = has_object(file, "/particles/all/bonds");
  if (!passive && !molecules) {
    progress.say("no /charge group and no /particles/all/bonds: bond statistics (n_bonds, g) are left at 0");
    return b;
  }
  const std::string table = passive ? "/charge/bonds" : "/particles/all/bonds";
  b.partner.assign(n_beads, 0);
  const auto bonds = read_dataset<std::int64_t>(file, table);
  for (std::size_t k = 0; k + 1 < bonds.size(); k += 2) {
    if (bonds[k] < 1 || bonds[k] > n_beads || bonds[k + 1] < 1 || bonds[k + 1] > n_beads)
      throw Error(path + ": " + table + " holds an id outside 1.." + std::to_string(n_beads));
    b.partner[bonds[k] - 1] = bonds[k + 1], b.partner[bonds[k + 1] - 1] = bonds[k];
  }
  if (passive) {
    b.charge_reduced = read_attribute(file, "/charge", "charge_reduced");
  } else {  // the molecules' charge ±ζ: that of the first bonded bead
    const auto q = read_dataset<double>(file, "/particles/all/charge/value");
    if (!bonds.empty()) b.charge_reduced = std::abs(q.at(static_cast<std::size_t>(bonds[0] - 1)));
    progress.say("bonds: the molecules of /particles/all/bonds (bond statistics over molecular dipoles)");
  }
  return b;
}

// Every TLS's integration sphere (with the largest convergence radius) must fit in half the box.
void check_radii(const TlsSet& tls, const Box& box, const DipoleSettings& s) {
  const auto& conv_r = s.conv_r;
  for (std::size_t k = 0; k < tls.size(); ++k) {
    const double r_max = s.radius_factor * tls.radius[k] * std::max({1.0, conv_r[0], conv_r[1], conv_r[2]});
    if (!(r_max < 0.5 * box.len.minCoeff()))
      throw Error(s.output + ": TLS " + std::to_string(k) + " has an integration radius " + std::to_string(r_max) +
                  " (radius x dipole.radius_factor, x the largest dipole.convergence_radius) that is not below half "
                  "the shortest box edge " +
                  std::to_string(box.len.minCoeff()));
  }
}

// Per TLS: the dipoles and bond statistics written to /tls.
struct DipoleRows {
  explicit DipoleRows(std::size_t n)
      : mu_direct(n),
        mu_eq13(n),
        mu_raw(n),
        cut(n),
        radius(n),
        ratio_eq13(n),
        deb_direct(n),
        deb_eq13(n),
        sum_dmu2(n),
        g(n),
        d_l(n),
        mu_eq1(n),
        n_bonds(n),
        n_charges(n),
        n_outside(n),
        iterations(n) {}
  std::vector<Vec3> mu_direct, mu_eq13, mu_raw, cut;  // cut: cut_dipole of the integration sphere
  std::vector<double> radius, ratio_eq13, deb_direct, deb_eq13, sum_dmu2, g, d_l, mu_eq1;
  std::vector<std::int64_t> n_bonds, n_charges, n_outside;
  std::vector<int> iterations;
};

// What every TLS's solve shares: the sample, its bonds and the image-field tensor.
struct DipoleContext {
  const TlsSet& tls;
  const std::vector<double>& charge;
  const Bonds& bonds;
  const Box& box;
  const Decomposition& dec;
  const Mat3& T;
  double debye;
};

// Row k of `rows`: μ_direct, μ_eq13 by one grid solve (on `grid`), the bond statistics.
void dipole_of_tls(std::size_t k, PoissonGrid& grid, double R, const DipoleContext& x, const DipoleSettings& s,
                   DipoleRows& rows) {
  const TlsSet& tls = x.tls;
  const PointCharges dq = transition_charges(tls, k, x.charge, x.box);
  const double radii[1] = {R};
  rows.mu_direct[k] = direct_dipole(tls, k, x.charge, x.box);
  const Eq13Dipole eq13 = eq13_dipoles(grid, x.dec, s.gs, x.T, dq, rows.mu_direct[k], tls.center[k], radii)[0];
  rows.iterations[k] = grid.iterations();
  rows.mu_raw[k] = eq13.uncorrected;
  rows.mu_eq13[k] = eq13.corrected;
  rows.radius[k] = R;
  rows.ratio_eq13[k] = ratio(rows.mu_eq13[k], rows.mu_direct[k]);
  rows.deb_direct[k] = rows.mu_direct[k].norm() * x.debye;
  rows.deb_eq13[k] = rows.mu_eq13[k].norm() * x.debye;
  const BondDipoleChanges b = bond_dipole_changes(tls, k, x.charge, x.bonds.partner, x.box);
  rows.n_bonds[k] = b.n_bonds;
  rows.sum_dmu2[k] = b.sum_dmu2;
  rows.g[k] = b.sum_dmu2 > 0.0 ? rows.mu_direct[k].squaredNorm() / b.sum_dmu2 : 0.0;
  rows.d_l[k] = b.d_l;
  rows.mu_eq1[k] = x.bonds.charge_reduced * std::sqrt(static_cast<double>(b.n_bonds)) * b.d_l;  // ζq [(ξ/a)³/2]^½ d_L
  rows.n_charges[k] = static_cast<std::int64_t>(dq.q.size() / 2);
  for (std::size_t p = 0; p < dq.pos.size(); p += 2)
    rows.n_outside[k] += (x.box.minimum_image(dq.pos[p] - tls.center[k]).norm() >= R ||
                          x.box.minimum_image(dq.pos[p + 1] - tls.center[k]).norm() >= R);
  rows.cut[k] = cut_dipole(dq, tls.center[k], R, s.gs.sigma(), x.box);
}

// Every TLS in turn: one grid shared by all (uniform ε) or one grid each (a dielectric sphere).
DipoleRows dipoles_of_all(const DipoleContext& x, const DipoleSettings& s, Progress& progress) {
  const std::size_t n = x.tls.size();
  std::unique_ptr<PoissonGrid> shared;
  if (s.gs.uniform()) shared = make_eq13_grid(x.dec, s.gs, Vec3::Zero(), 0.0);
  DipoleRows rows(n);
  progress.begin("TLS");
  for (std::size_t k = 0; k < n; ++k) {
    const double R = s.radius_factor * x.tls.radius[k];
    std::unique_ptr<PoissonGrid> own;
    if (!s.gs.uniform()) own = make_eq13_grid(x.dec, s.gs, x.tls.center[k], R);
    dipole_of_tls(k, s.gs.uniform() ? *shared : *own, R, x, s, rows);
    progress.report(
        static_cast<long>(k + 1), static_cast<long>(n),
        fmt::format(
            "|mu_direct| {:.4g} D, |mu_eq13| {:.4g} D, ratio {:.4f} (the sphere's cut {:.4f}), g {:.3g}, {} its",
            rows.deb_direct[k], rows.deb_eq13[k], rows.ratio_eq13[k], ratio(rows.cut[k], rows.mu_direct[k]) / 3.0,
            rows.g[k], rows.iterations[k]));
  }
  return rows;
}

// The convergence table's grid of TLS k at spacing h; an impossible grid (e.g. too few nodes per rank
// for its Gaussians at a coarse h) names the key that asked for it.
std::unique_ptr<PoissonGrid> convergence_grid(const DipoleContext& x, const DipoleSettings& s, std::size_t k,
                                              double h) {
  Eq13Options gh = s.gs;
  gh.spacing = h;
  try {
    return make_eq13_grid(x.dec, gh, x.tls.center[k], s.radius_factor * x.tls.radius[k]);
  } catch (const Error& e) {
    throw Error(fmt::format("dipole.convergence_spacing entry {:g}: {} (dipole.convergence_tls = 0 skips the table)", h,
                            e.what()));
  }
}

// Every grid of the convergence table can be made: checked before the TLS loop, not after it.
void check_convergence_grids(const DipoleContext& x, const DipoleSettings& s) {
  if (s.conv_n == 0 || x.tls.size() == 0) return;
  for (double h : s.conv_h)
    if (h > 0.0) convergence_grid(x, s, 0, h);
}

// Convergence: the first conv_n TLS on each requested grid, integrated over each radius factor;
// 10 numbers a row (/tls/dipole_convergence).
std::vector<double> convergence_table(const DipoleContext& x, const DipoleSettings& s,
                                      const std::vector<Vec3>& mu_direct, const Progress& progress) {
  std::vector<double> conv;
  const std::size_t n_conv = std::min(s.conv_n, x.tls.size());
  if (n_conv > 0) progress.say("convergence: tls  h_requested  h_actual  radius_factor  ratio  ratio_uncorrected");
  for (std::size_t k = 0; k < n_conv; ++k)
    for (double h : s.conv_h) {
      if (!(h > 0.0)) continue;
      Eq13Options gh = s.gs;
      gh.spacing = h;
      const double R = s.radius_factor * x.tls.radius[k];
      auto grid = convergence_grid(x, s, k, h);
      std::vector<double> radii;
      for (double f : s.conv_r)
        if (f > 0.0) radii.push_back(f * s.radius_factor * x.tls.radius[k]);  // not f * R: the same rounding
      const PointCharges dq = transition_charges(x.tls, k, x.charge, x.box);
      const auto eq13 = eq13_dipoles(*grid, x.dec, gh, x.T, dq, mu_direct[k], x.tls.center[k], radii);
      for (std::size_t r = 0; r < radii.size(); ++r) {
        const Vec3& raw = eq13[r].uncorrected;
        const Vec3& mu = eq13[r].corrected;
        const double f = radii[r] / R;
        conv.insert(conv.end(), {static_cast<double>(k), h, grid->spacing().maxCoeff(), f, radii[r],
                                 ratio(mu, mu_direct[k]), ratio(raw, mu_direct[k]), mu[0], mu[1], mu[2]});
        progress.say(fmt::format("convergence: {:>3}  {:>8.4f}  {:>8.4f}  {:>6.3f}  {:>10.6f}  {:>10.6f}", k, h,
                                 grid->spacing().maxCoeff(), f, ratio(mu, mu_direct[k]), ratio(raw, mu_direct[k])));
      }
    }
  return conv;
}

// The per-TLS datasets into /tls (replacing earlier ones), with their units.
void write_dipole_rows(Hdf5File& file, const DipoleRows& rows) {
  const std::size_t hn = rows.radius.size();
  const std::vector<std::pair<std::string, const std::vector<double>*>> scalars = {
      {"mu_eq13_radius", &rows.radius},  {"mu_ratio", &rows.ratio_eq13},    {"mu_direct_debye", &rows.deb_direct},
      {"mu_eq13_debye", &rows.deb_eq13}, {"bond_dmu2_sum", &rows.sum_dmu2}, {"g_kirkwood", &rows.g},
      {"d_l_dipole", &rows.d_l},         {"mu_eq1", &rows.mu_eq1}};
  const std::vector<std::pair<std::string, const std::vector<std::int64_t>*>> counts = {
      {"n_bonds_moving", &rows.n_bonds},
      {"n_transition_charges", &rows.n_charges},
      {"n_charges_outside", &rows.n_outside}};
  for (const auto& [name, v] : scalars)
    remove_object(file, "/tls/" + name), write_replicated(file, "/tls/" + name, *v, {hn});
  for (const auto& [name, v] : counts)
    remove_object(file, "/tls/" + name), write_replicated(file, "/tls/" + name, *v, {hn});
  for (const auto& [name, v] : {std::pair<std::string, const std::vector<Vec3>*>{"mu_direct", &rows.mu_direct},
                                {"mu_eq13", &rows.mu_eq13},
                                {"mu_eq13_uncorrected", &rows.mu_raw},
                                {"mu_eq13_cut", &rows.cut}}) {
    remove_object(file, "/tls/" + name);
    write_replicated(file, "/tls/" + name, flatten(*v), {hn, 3});
  }
  const std::pair<const char*, const char*> units[] = {{"mu_direct", "q* sigma"},
                                                       {"mu_eq13", "q* sigma"},
                                                       {"mu_eq13_uncorrected", "q* sigma"},
                                                       {"mu_eq13_radius", "sigma"},
                                                       {"mu_ratio", "1"},
                                                       {"mu_direct_debye", "D"},
                                                       {"mu_eq13_debye", "D"},
                                                       {"bond_dmu2_sum", "(q* sigma)^2"},
                                                       {"g_kirkwood", "1"},
                                                       {"d_l_dipole", "sigma"},
                                                       {"mu_eq1", "q* sigma"},
                                                       {"n_bonds_moving", "1"},
                                                       {"n_transition_charges", "1"},
                                                       {"n_charges_outside", "1"},
                                                       {"mu_eq13_cut", "q* sigma"}};
  for (const auto& [name, unit] : units) write_attribute(file, std::string("/tls/") + name, "unit", unit);
}

// The convergence table and the settings used, as /tls attributes.
void write_dipole_settings(Hdf5File& file, const std::vector<double>& conv, const DipoleSettings& s, const Mat3& T,
                           double debye) {
  remove_object(file, "/tls/dipole_convergence");
  write_replicated(file, "/tls/dipole_convergence", conv, {conv.size() / 10, 10});
  const double spacing = s.gs.spacing;
  const std::pair<const char*, double> attrs[] = {{"dipole_spacing", spacing},
                                                  {"dipole_sigma", s.gs.sigma()},
                                                  {"dipole_epsilon", s.gs.eps_ext},
                                                  {"dipole_epsilon_in", s.gs.eps_in},
                                                  {"dipole_radius_factor", s.radius_factor},
                                                  {"dipole_image_tensor_trace", T.trace()},
                                                  {"debye_per_reduced_dipole", debye}};
  for (const auto& [name, value] : attrs) write_attribute(file, "/tls", name, value);
}

}  // namespace

void check_dipole_input(const Input& in) { (void)DipoleSettings::from_input(in); }

void run_dipole(const Input& in, MPI_Comm comm) {
  const DipoleSettings s = DipoleSettings::from_input(in);
  const std::string& path = s.output;
  Progress progress(comm, "dipole");

  Hdf5File file(path, Hdf5File::Mode::update, comm);
  const Configuration c = read_configuration(file);
  const Box box = c.box;
  const std::int64_t n_beads = c.n_global;
  const std::vector<double> charge = read_dataset<double>(file, "/particles/all/charge/value");
  if (charge.size() != static_cast<std::size_t>(n_beads))
    throw Error(path + ": /particles/all/charge/value does not hold one frame of " + std::to_string(n_beads) +
                " charges");
  const Bonds bonds = read_bonds(file, path, n_beads, progress);
  const TlsSet tls = read_tls_set(file, n_beads);
  const std::size_t n = tls.size();
  double debye = s.debye;
  if (auto it = c.meta.values.find("debye_per_reduced_dipole"); it != c.meta.values.end()) debye = it->second;
  check_radii(tls, box, s);

  Decomposition dec(comm, box, s.proc_grid);
  const Mat3 T = image_field_tensor(box);
  const double spacing = s.gs.spacing;
  progress.say(
      fmt::format("{} TLS in {}; grid spacing {:.4g}, sigma {:.4g}, eps {:.4g}{}; images: T = diag({:.6g}, "
                  "{:.6g}, {:.6g}) (trace/3 = 4pi/3V = {:.6g})",
                  n, path, spacing, s.gs.sigma(), s.gs.eps_ext,
                  s.gs.uniform() ? std::string(" (uniform)") : ", eps_in " + std::to_string(s.gs.eps_in), T(0, 0),
                  T(1, 1), T(2, 2), 4 * pi / (3 * box.volume())));

  const DipoleContext x{tls, charge, bonds, box, dec, T, debye};
  check_convergence_grids(x, s);
  const DipoleRows rows = dipoles_of_all(x, s, progress);
  const std::vector<double> conv = convergence_table(x, s, rows.mu_direct, progress);

  write_dipole_rows(file, rows);
  write_dipole_settings(file, conv, s, T, debye);
  file.commit();

  double mean_ratio = 0.0, mean_d = 0.0;
  for (std::size_t k = 0; k < n; ++k) mean_ratio += rows.ratio_eq13[k] / n, mean_d += rows.deb_direct[k] / n;
  progress.say(
      fmt::format("mean |mu_direct| {:.4g} D, mean mu_eq13/mu_direct {:.5f} (uniform eps: -1/3)", mean_d, mean_ratio));
  progress.say(fmt::format("updated {} in {:.2f} s", path, progress.elapsed()));
}

}  // namespace tlsmap
