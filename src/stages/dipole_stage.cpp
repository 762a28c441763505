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

}  // namespace

void run_dipole(const Input& in, MPI_Comm comm) {
  const std::string path = in.get_string("run.output");
  Eq13Options gs;
  gs.sigma_factor = in.get_double("dipole.sigma_factor");
  gs.eps_ext = in.get_double("dipole.epsilon");
  gs.eps_in = in.has("dipole.epsilon_in") ? in.get_double("dipole.epsilon_in") : gs.eps_ext;
  const double spacing = in.get_double("dipole.spacing");
  gs.spacing = spacing;
  const double radius_factor = in.get_double("dipole.radius_factor");
  const auto conv_h = in.get_vec3("dipole.convergence_spacing");
  const auto conv_r = in.get_vec3("dipole.convergence_radius");
  const auto conv_n = static_cast<std::size_t>(in.get_int("dipole.convergence_tls"));
  Progress progress(comm, "dipole");

  H5File file(path, H5File::Mode::update, comm);
  const Configuration c = read_configuration(file);
  const Box box = c.box;
  const std::int64_t n_beads = c.n_global;
  Shape dims;
  const std::vector<double> charge = read_dataset<double>(file, "/particles/all/charge/value", &dims);
  if (charge.size() != static_cast<std::size_t>(n_beads))
    throw Error(path + ": /particles/all/charge/value does not hold one frame of " + std::to_string(n_beads) +
                " charges");
  std::vector<std::int64_t> partner;
  double charge_reduced = 0.0;
  {
    if (has_object(file, "/charge")) {
      partner.assign(n_beads, 0);
      const auto bonds = read_dataset<std::int64_t>(file, "/charge/bonds");
      for (std::size_t b = 0; b + 1 < bonds.size(); b += 2) {
        if (bonds[b] < 1 || bonds[b] > n_beads || bonds[b + 1] < 1 || bonds[b + 1] > n_beads)
          throw Error(path + ": /charge/bonds holds an id outside 1.." + std::to_string(n_beads));
        partner[bonds[b] - 1] = bonds[b + 1], partner[bonds[b + 1] - 1] = bonds[b];
      }
      charge_reduced = read_attribute(file, "/charge", "charge_reduced");
    } else {
      progress.say("no /charge group: bond statistics (n_bonds, g) are left at 0");
    }
  }
  const TlsSet tls = read_tls_set(file, n_beads);
  const std::size_t n = tls.size();
  double debye = PhysicalUnits::from_input(in).debye_per_dipole();
  if (auto it = c.meta.values.find("debye_per_reduced_dipole"); it != c.meta.values.end()) debye = it->second;

  for (std::size_t k = 0; k < n; ++k) {
    const double r_max = radius_factor * tls.radius[k] * std::max({1.0, conv_r[0], conv_r[1], conv_r[2]});
    if (!(r_max < 0.5 * box.len.minCoeff()))
      throw Error(path + ": TLS " + std::to_string(k) + " has an integration radius " + std::to_string(r_max) +
                  " (radius x dipole.radius_factor, x the largest dipole.convergence_radius) that is not below half "
                  "the shortest box edge " +
                  std::to_string(box.len.minCoeff()));
  }

  Decomposition dec(comm, box, in.get_int3("system.proc_grid"));
  const Mat3 T = image_field_tensor(box);
  progress.say(
      fmt::format("{} TLS in {}; grid spacing {:.4g}, sigma {:.4g}, eps {:.4g}{}; images: T = diag({:.6g}, "
                  "{:.6g}, {:.6g}) (trace/3 = 4pi/3V = {:.6g})",
                  n, path, spacing, gs.sigma_factor * spacing, gs.eps_ext,
                  gs.uniform() ? std::string(" (uniform)") : ", eps_in " + std::to_string(gs.eps_in), T(0, 0), T(1, 1),
                  T(2, 2), 4 * pi / (3 * box.volume())));

  std::unique_ptr<PoissonGrid> shared;
  if (gs.uniform()) shared = make_eq13_grid(dec, gs, Vec3::Zero(), 0.0);
  std::vector<Vec3> mu_direct(n), mu_eq13(n), mu_raw(n);
  std::vector<double> radius(n), ratio_eq13(n), deb_direct(n), deb_eq13(n), sum_dmu2(n), g(n), d_l(n), mu_eq1(n);
  std::vector<std::int64_t> n_bonds(n), n_charges(n), n_outside(n);
  std::vector<int> iterations(n);
  progress.begin("TLS");
  for (std::size_t k = 0; k < n; ++k) {
    const PointCharges dq = transition_charges(tls, k, charge, box);
    const double R = radius_factor * tls.radius[k];
    std::unique_ptr<PoissonGrid> own;
    if (!gs.uniform()) own = make_eq13_grid(dec, gs, tls.center[k], R);
    PoissonGrid& grid = gs.uniform() ? *shared : *own;
    const double radii[1] = {R};
    mu_direct[k] = direct_dipole(tls, k, charge, box);
    const Eq13Dipole eq13 = eq13_dipoles(grid, dec, gs, T, dq, mu_direct[k], tls.center[k], radii)[0];
    iterations[k] = grid.iterations();
    mu_raw[k] = eq13.uncorrected;
    mu_eq13[k] = eq13.corrected;
    radius[k] = R;
    ratio_eq13[k] = ratio(mu_eq13[k], mu_direct[k]);
    deb_direct[k] = mu_direct[k].norm() * debye;
    deb_eq13[k] = mu_eq13[k].norm() * debye;
    const BondDipoleChanges b = bond_dipole_changes(tls, k, charge, partner, box);
    n_bonds[k] = b.n_bonds;
    sum_dmu2[k] = b.sum_dmu2;
    g[k] = b.sum_dmu2 > 0.0 ? mu_direct[k].squaredNorm() / b.sum_dmu2 : 0.0;
    d_l[k] = b.d_l;
    mu_eq1[k] = charge_reduced * std::sqrt(static_cast<double>(b.n_bonds)) * b.d_l;  // ζq [(ξ/a)³/2]^½ d_L
    n_charges[k] = static_cast<std::int64_t>(dq.q.size() / 2);
    for (std::size_t p = 0; p < dq.pos.size(); p += 2)
      n_outside[k] += (box.minimum_image(dq.pos[p] - tls.center[k]).norm() >= R ||
                       box.minimum_image(dq.pos[p + 1] - tls.center[k]).norm() >= R);
    progress.report(static_cast<long>(k + 1), static_cast<long>(n),
                    fmt::format("|mu_direct| {:.4g} D, |mu_eq13| {:.4g} D, ratio {:.4f}, g {:.3g}, {} its",
                                deb_direct[k], deb_eq13[k], ratio_eq13[k], g[k], iterations[k]));
  }

  // Convergence: the first conv_n TLS on each requested grid, integrated over each radius factor.
  std::vector<double> conv;
  const std::size_t n_conv = std::min(conv_n, n);
  if (n_conv > 0) progress.say("convergence: tls  h_requested  h_actual  radius_factor  ratio  ratio_uncorrected");
  for (std::size_t k = 0; k < n_conv; ++k)
    for (double h : conv_h) {
      if (!(h > 0.0)) continue;
      Eq13Options gh = gs;
      gh.spacing = h;
      auto grid = make_eq13_grid(dec, gh, tls.center[k], radius_factor * tls.radius[k]);
      std::vector<double> radii;
      for (double f : conv_r)
        if (f > 0.0) radii.push_back(f * radius_factor * tls.radius[k]);
      const PointCharges dq = transition_charges(tls, k, charge, box);
      const auto eq13 = eq13_dipoles(*grid, dec, gh, T, dq, mu_direct[k], tls.center[k], radii);
      for (std::size_t r = 0; r < radii.size(); ++r) {
        const Vec3& raw = eq13[r].uncorrected;
        const Vec3& mu = eq13[r].corrected;
        const double f = radii[r] / (radius_factor * tls.radius[k]);
        conv.insert(conv.end(), {static_cast<double>(k), h, grid->spacing().maxCoeff(), f, radii[r],
                                 ratio(mu, mu_direct[k]), ratio(raw, mu_direct[k]), mu[0], mu[1], mu[2]});
        progress.say(fmt::format("convergence: {:>3}  {:>8.4f}  {:>8.4f}  {:>6.3f}  {:>10.6f}  {:>10.6f}", k, h,
                                 grid->spacing().maxCoeff(), f, ratio(mu, mu_direct[k]), ratio(raw, mu_direct[k])));
      }
    }

  const std::size_t hn = n;
  const std::vector<std::pair<std::string, const std::vector<double>*>> scalars = {
      {"mu_eq13_radius", &radius},  {"mu_ratio", &ratio_eq13},    {"mu_direct_debye", &deb_direct},
      {"mu_eq13_debye", &deb_eq13}, {"bond_dmu2_sum", &sum_dmu2}, {"g_kirkwood", &g},
      {"d_l_dipole", &d_l},         {"mu_eq1", &mu_eq1}};
  const std::vector<std::pair<std::string, const std::vector<std::int64_t>*>> counts = {
      {"n_bonds_moving", &n_bonds}, {"n_transition_charges", &n_charges}, {"n_charges_outside", &n_outside}};
  for (const auto& [name, v] : scalars)
    remove_object(file, "/tls/" + name), write_replicated(file, "/tls/" + name, *v, {hn});
  for (const auto& [name, v] : counts)
    remove_object(file, "/tls/" + name), write_replicated(file, "/tls/" + name, *v, {hn});
  for (const auto& [name, v] : {std::pair<std::string, const std::vector<Vec3>*>{"mu_direct", &mu_direct},
                                {"mu_eq13", &mu_eq13},
                                {"mu_eq13_uncorrected", &mu_raw}}) {
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
                                                       {"n_charges_outside", "1"}};
  for (const auto& [name, unit] : units) write_attribute(file, std::string("/tls/") + name, "unit", unit);
  remove_object(file, "/tls/dipole_convergence");
  write_replicated(file, "/tls/dipole_convergence", conv, {conv.size() / 10, 10});
  const std::pair<const char*, double> attrs[] = {{"dipole_spacing", spacing},
                                                  {"dipole_sigma", gs.sigma_factor * spacing},
                                                  {"dipole_epsilon", gs.eps_ext},
                                                  {"dipole_epsilon_in", gs.eps_in},
                                                  {"dipole_radius_factor", radius_factor},
                                                  {"dipole_image_tensor_trace", T.trace()},
                                                  {"debye_per_reduced_dipole", debye}};
  for (const auto& [name, value] : attrs) write_attribute(file, "/tls", name, value);
  file.commit();

  double mean_ratio = 0.0, mean_d = 0.0;
  for (std::size_t k = 0; k < n; ++k) mean_ratio += ratio_eq13[k] / n, mean_d += deb_direct[k] / n;
  progress.say(
      fmt::format("mean |mu_direct| {:.4g} D, mean mu_eq13/mu_direct {:.5f} (uniform eps: -1/3)", mean_d, mean_ratio));
  progress.say(fmt::format("updated {} in {:.2f} s", path, progress.elapsed()));
}

}  // namespace tlsmap
