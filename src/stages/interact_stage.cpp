// `tlsmap interact`: the TLS–TLS coupling maps of /tls into /interactions (include/tlsmap/couplings/interact.hpp).
//
// Cost: one grid solve and one Hessian solve per TLS (plus two force evaluations for its force
// dipole); pair products are sparse (J_el: one interpolation per transition charge; J_mech: a dot
// over the force dipole's support), so the stage grows with the number of TLS, not pairs × grid.
// A few pairs (interact.check_pairs) are re-done by four-state relaxation as a check.
#include "tlsmap/stages/interact_stage.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/couplings/far_field.hpp"
#include "tlsmap/couplings/interact.hpp"
#include "tlsmap/io/input.hpp"
#include "tlsmap/parallel/decomposition.hpp"

#include "tlsmap/core/progress.hpp"
#include "tlsmap/electrostatics/poisson_grid.hpp"
#include "tlsmap/io/tls_io.hpp"
#include "tlsmap/md/material.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace tlsmap {

namespace {

// Smallest distance between the mobile beads of i and j (either state): pairs closer than the
// potential's cutoff interact directly, which J_mech does not include, so they are not used as checks.
double mobile_gap(const TlsSet& t, std::size_t i, std::size_t j, const Box& box) {
  double d = std::numeric_limits<double>::infinity();
  for (std::int64_t a = t.begin(i); a < t.end(i); ++a)
    for (std::int64_t b = t.begin(j); b < t.end(j); ++b)
      for (const Vec3* x : {&t.pos_a[a], &t.pos_b[a]})
        for (const Vec3* y : {&t.pos_a[b], &t.pos_b[b]}) d = std::min(d, box.minimum_image(*x - *y).norm());
  return d;
}

// The pairs of `all` listed by `rows`, in that order.
TlsPairs subset(const TlsPairs& all, const std::vector<std::size_t>& rows) {
  TlsPairs out;
  for (std::size_t p : rows) out.i.push_back(all.i[p]), out.j.push_back(all.j[p]), out.r.push_back(all.r[p]);
  return out;
}

// Far-field couplings of every listed pair from the TLS's dipoles, between transition centres
// (include/tlsmap/couplings/far_field.hpp): the electric periodic point-dipole sum and the continuum elastic kernel.
struct FarField {
  std::vector<Vec3> r;               // transition centre j − transition centre i (minimum image)
  std::vector<double> j_el, j_mech;  // dipole approximations of J_el and J_mech
  Int3 grid{0, 0, 0};                // the elastic kernel's FFT grid
};
FarField far_field_couplings(const TlsSet& tls, const TlsPairs& pairs, const Box& box, const std::vector<Vec3>& mu,
                             double eps, const std::vector<Mat3>& elastic_dipole, const ElasticTensor& medium,
                             double width) {
  FarField f;
  const std::size_t k = pairs.size();
  std::vector<Vec3> centre(tls.size());
  for (std::size_t t = 0; t < tls.size(); ++t) centre[t] = transition_center(tls, t, box);
  std::vector<Mat3> p_i(k), p_j(k);
  for (std::size_t p = 0; p < k; ++p) {
    f.r.push_back(box.minimum_image(centre[pairs.j[p]] - centre[pairs.i[p]]));
    f.j_el.push_back(dipole_dipole_periodic(mu[pairs.i[p]], mu[pairs.j[p]], f.r[p], box, eps));
    p_i[p] = elastic_dipole[pairs.i[p]], p_j[p] = elastic_dipole[pairs.j[p]];
  }
  const bool medium_known = medium.relaxed.allFinite() && medium.stress.allFinite();
  if (!medium_known || k == 0) {  // no elastic constants (a failed Hessian route): no elastic far field
    f.j_mech.assign(k, std::numeric_limits<double>::quiet_NaN());
    return f;
  }
  const ElasticFarField kernel(box, stress_strain_tensor(medium), width);
  f.grid = kernel.grid();
  f.j_mech = kernel.couplings(p_i, p_j, f.r);
  return f;
}

}  // namespace

void run_interact(const Input& in, MPI_Comm comm) {
  const std::string path = in.get_string("run.output");
  const double eps = in.get_double("dipole.epsilon");
  const double spacing = in.get_double("dipole.spacing");
  const double cutoff =
      in.has("interact.cutoff") ? in.get_double("interact.cutoff") : std::numeric_limits<double>::infinity();
  const bool far = in.get_string("interact.far") == "dipole";
  const double far_width = in.get_double("interact.far_width");
  const bool far_mech = far && in.get_string("interact.far_mech") == "dipole";
  if (far && !std::isfinite(cutoff))
    throw Error(in.path() +
                ": [interact] far = \"dipole\" couples the pairs at or beyond interact.cutoff through their "
                "dipoles, but interact.cutoff is not set (every pair would be exact)");
  const std::string response = in.get_string("interact.mech_response");
  const MechResponse mode = parse_mech_response(response);
  const auto n_check = static_cast<std::size_t>(in.get_int("interact.check_pairs"));
  const double f_tol = in.get_double("interact.relax_f_tol");
  const Int3 proc_grid = in.get_int3("system.proc_grid");
  const double skin = in.get_double("system.skin");
  Progress progress(comm, "interact");

  H5File file(path, H5File::Mode::update, comm);
  const Configuration c = read_configuration(file);
  const Box box = c.box;
  // The model of this sample: for soft spheres, with the list range of its largest diameter.
  double max_diameter = 0.0;
  for (int i = 0; i < c.beads.n_owned && c.beads.has_diameter; ++i)
    max_diameter = std::max(max_diameter, c.beads.diameter[i]);
  MPI_Allreduce(MPI_IN_PLACE, &max_diameter, 1, MPI_DOUBLE, MPI_MAX, comm);
  const Model model =
      model_for_sample(in.get_string("system.model"),
                       max_diameter > 0.0 ? std::vector<double>{max_diameter} : std::vector<double>{}, path);
  const std::vector<double> charge = read_dataset<double>(file, "/particles/all/charge/value");
  const TlsSet tls = read_tls_set(file, c.n_global);
  const std::size_t n = tls.size();
  // Every listed pair; those closer than the cutoff (all of them unless far = "dipole") exactly.
  const TlsPairs pairs = tls_pairs(tls, box, far ? std::numeric_limits<double>::infinity() : cutoff);
  const std::size_t k = pairs.size();
  std::vector<std::size_t> exact_rows;
  for (std::size_t p = 0; p < k; ++p)
    if (pairs.r[p].norm() < cutoff) exact_rows.push_back(p);
  const TlsPairs near = subset(pairs, exact_rows);
  // J_mech exactly for every listed pair unless far_mech = "dipole" (with `held`, a far pair costs
  // only a dot product once every TLS's response is solved, which the elastic dipoles need anyway).
  std::vector<std::size_t> mech_rows = exact_rows;
  if (far && !far_mech) {
    mech_rows.resize(k);
    std::iota(mech_rows.begin(), mech_rows.end(), std::size_t{0});
  }
  const TlsPairs mech_pairs = subset(pairs, mech_rows);
  progress.say(
      fmt::format("{} TLS, {} pairs, {} exact (within {:.4g}){}; grid spacing {:.4g}, eps {:.4g}; J_mech response: {}",
                  n, k, near.size(), cutoff, far ? ", the rest by their dipoles" : "", spacing, eps, response));

  // Electric: one solve per TLS on a uniform-ε grid.
  Decomposition dec(comm, box, proc_grid);
  PoissonGridOptions go;
  go.spacing = spacing;
  go.sigma = in.get_double("dipole.sigma_factor") * spacing;
  PoissonGrid grid(dec, go, Dielectric(eps));
  std::vector<double> j_el_t;
  progress.begin("J_el solves");
  const std::vector<double> j_el_near =
      electric_couplings(grid, dec, tls, charge, near, &j_el_t, [&](std::size_t done, std::size_t total, int its) {
        progress.report(static_cast<long>(done), static_cast<long>(total), std::to_string(its) + " KSP iterations");
      });
  std::vector<Vec3> mu(n);
  for (std::size_t t = 0; t < n; ++t) mu[t] = direct_dipole(tls, t, charge, box);
  std::vector<double> j_dd(k), j_dd_p(k);
  for (std::size_t p = 0; p < k; ++p) {
    j_dd[p] = dipole_dipole(mu[pairs.i[p]], mu[pairs.j[p]], pairs.r[p], eps);
    j_dd_p[p] = dipole_dipole_periodic(mu[pairs.i[p]], mu[pairs.j[p]], pairs.r[p], box, eps);
  }
  progress.say(fmt::format("J_el done ({:.2f} s)", progress.elapsed()));

  // Elastic: the Hessian at /particles/all, one solve per TLS.
  System sys(comm, box, model, skin, proc_grid);
  sys.set_beads(c.beads);
  progress.begin("J_mech solves");
  const MechResult mech =
      mechanical_couplings(sys, tls, mech_pairs, mode, [&](std::size_t done, std::size_t total, int its) {
        progress.report(static_cast<long>(done), static_cast<long>(total), std::to_string(its) + " KSP iterations");
      });
  const double worst = mech.net_force.empty() ? 0.0 : *std::max_element(mech.net_force.begin(), mech.net_force.end());
  if (mode == MechResponse::held && worst > 1e-3) {
    progress.say(fmt::format(
        "warning: a force dipole carries a net force (|sum f|/sum|f| up to {:.3g}): its states are not force-free, "
        "and the held response (which assumes they are) may be off; mech_response = \"pair\" is exact",
        worst));
  }
  progress.say(
      fmt::format("J_mech done ({:.2f} s; KSP iterations per TLS up to {})", progress.elapsed(),
                  mech.iterations.empty() ? 0 : *std::max_element(mech.iterations.begin(), mech.iterations.end())));

  // Checks: the closest pairs whose mobile sets do not interact directly.
  const TlsPairs& mp = mech_pairs;
  std::vector<std::size_t> order(mp.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return mp.r[a].norm() < mp.r[b].norm(); });
  std::vector<std::int64_t> check_row;
  std::vector<double> check_four;
  for (std::size_t p : order) {
    if (check_row.size() >= n_check) break;
    if (mobile_gap(tls, mp.i[p], mp.j[p], box) < model.max_cutoff()) continue;
    const double four = four_state_coupling(comm, box, c.beads, model, skin, proc_grid, tls, mp.i[p], mp.j[p], f_tol);
    check_row.push_back(static_cast<std::int64_t>(mech_rows[p]));
    check_four.push_back(four);
    progress.say(fmt::format("check pair ({}, {}), r = {:.4g}: J_mech {:.6g} (transpose {:.6g}), four-state {:.6g}",
                             mp.i[p], mp.j[p], mp.r[p].norm(), mech.j[p], mech.j_transpose[p], four));
  }

  // Material constants of the same sample (Eqs. 17, 21, 22 inputs): the Hessian route, and the
  // finite-strain route as a cross-check when interact.elastic_strain > 0.
  const double strain = in.get_double("interact.elastic_strain");
  MaterialConstants mat;
  if (strain > 0.0) {
    mat = measure_material(comm, box, c.beads, model, skin, proc_grid, strain, in.get_double("minimize.f_tol"));
  } else {
    sys.compute_forces();
    add_hessian_route(mat, sys);
  }
  progress.say(
      fmt::format("material (Hessian route): rho {:.5g}, P {:.5g}, K {:.5g} (affine {:.5g}), G {:.5g} (affine {:.5g}), "
                  "c_L {:.5g}, c_T {:.5g}",
                  mat.density, mat.pressure, mat.bulk_modulus_hessian, mat.bulk_born_hessian, mat.shear_modulus_hessian,
                  mat.shear_born_hessian, mat.c_longitudinal_hessian, mat.c_transverse_hessian));
  if (strain > 0.0) {
    progress.say(fmt::format(
        "material (finite strain {:.3g}, cross-check): K {:.5g}, G_tetragonal {:.5g} (xy {:.4g}, yz {:.4g}, zx {:.4g})",
        strain, mat.bulk_modulus, mat.shear_modulus, mat.shear_xy, mat.shear_yz, mat.shear_zx));
  }

  // Far field of every listed pair; the exact values where they were computed.
  const FarField ff = far_field_couplings(tls, pairs, box, mu, eps, mech.elastic_dipole, mat.tensor, far_width);
  std::vector<double> j_el = ff.j_el, j_mech = ff.j_mech, j_el_tr = ff.j_el, j_mech_tr = ff.j_mech;
  std::vector<int> exact_el(k, 0), exact_mech(k, 0);
  for (std::size_t e = 0; e < exact_rows.size(); ++e) {
    const std::size_t p = exact_rows[e];
    exact_el[p] = 1;
    j_el[p] = j_el_near[e], j_el_tr[p] = j_el_t[e];
  }
  for (std::size_t e = 0; e < mech_rows.size(); ++e) {
    const std::size_t p = mech_rows[e];
    exact_mech[p] = 1;
    j_mech[p] = mech.j[e], j_mech_tr[p] = mech.j_transpose[e];
  }
  if (far) {
    progress.say(
        fmt::format("far field: J_el of {} pairs and J_mech of {} by their dipoles (elastic kernel on a {}x{}x{} "
                    "grid, width {:.3g})",
                    k - exact_rows.size(), k - mech_rows.size(), ff.grid[0], ff.grid[1], ff.grid[2], far_width));
  }

  if (n_check > 0 && check_row.empty())
    progress.say("no four-state check: no pair has mobile sets farther apart than the potential's cutoff");

  remove_object(file, "/interactions");
  remove_object(file, "/material");
  {
    std::vector<std::pair<const char*, double>> values = {{"density", mat.density},
                                                          {"mass_density", mat.mass_density},
                                                          {"pressure", mat.pressure},
                                                          {"bulk_modulus", mat.bulk_modulus_hessian},
                                                          {"bulk_modulus_affine", mat.bulk_born_hessian},
                                                          {"shear_modulus", mat.shear_modulus_hessian},
                                                          {"shear_modulus_affine", mat.shear_born_hessian},
                                                          {"shear_xy", mat.shear_xy_hessian},
                                                          {"shear_yz", mat.shear_yz_hessian},
                                                          {"shear_zx", mat.shear_zx_hessian},
                                                          {"sound_speed_longitudinal", mat.c_longitudinal_hessian},
                                                          {"sound_speed_transverse", mat.c_transverse_hessian},
                                                          {"strain", strain}};
    if (strain > 0.0)
      values.insert(values.end(), {{"bulk_modulus_finite_strain", mat.bulk_modulus},
                                   {"shear_modulus_finite_strain", mat.shear_modulus},
                                   {"shear_xy_finite_strain", mat.shear_xy},
                                   {"shear_yz_finite_strain", mat.shear_yz},
                                   {"shear_zx_finite_strain", mat.shear_zx}});
    for (const auto& [name, value] : values) write_attribute(file, "/material", name, value);
    std::vector<double> cv(36), cb(36);
    for (int r = 0; r < 6; ++r)
      for (int q = 0; q < 6; ++q) cv[6 * r + q] = mat.c_voigt(r, q), cb[6 * r + q] = mat.c_voigt_born(r, q);
    write_replicated(file, "/material/elastic_constants", cv, {6, 6});
    write_replicated(file, "/material/elastic_constants_affine", cb, {6, 6});
    std::vector<double> stress(9);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) stress[3 * a + b] = mat.tensor.stress(a, b);
    write_replicated(file, "/material/stress", stress, {3, 3});
    for (const char* name : {"/material/elastic_constants", "/material/elastic_constants_affine", "/material/stress"})
      write_attribute(file, name, "unit", "epsilon/sigma^3");
    write_attribute(file, "/material", "units", "lj");
  }
  const std::size_t hk = k;
  std::vector<double> r(3 * k);
  for (std::size_t p = 0; p < k; ++p)
    for (int d = 0; d < 3; ++d) r[3 * p + d] = pairs.r[p][d];
  write_replicated(file, "/interactions/i", pairs.i, {hk});
  write_replicated(file, "/interactions/j", pairs.j, {hk});
  write_replicated(file, "/interactions/r", r, {hk, 3});
  write_replicated(file, "/interactions/j_el", j_el, {hk});
  write_replicated(file, "/interactions/j_dd", j_dd, {hk});
  write_replicated(file, "/interactions/j_mech", j_mech, {hk});
  write_replicated(file, "/interactions/exact_el", exact_el, {hk});
  write_replicated(file, "/interactions/exact_mech", exact_mech, {hk});
  std::vector<double> r_dipole(3 * k);
  for (std::size_t p = 0; p < k; ++p)
    for (int d = 0; d < 3; ++d) r_dipole[3 * p + d] = ff.r[p][d];
  write_replicated(file, "/interactions/r_transition", r_dipole, {hk, 3});
  write_replicated(file, "/interactions/j_el_dipole", ff.j_el, {hk});
  write_replicated(file, "/interactions/j_mech_dipole", ff.j_mech, {hk});
  // The σᶻσᶻ convention: J_zz, the coefficient of σᶻ_i σᶻ_j in the pair Hamiltonian, is a quarter of
  // the four-state combination E_BB − E_BA − E_AB + E_AA (docs/file-format.md, /interactions).
  auto quarter = [](std::vector<double> v) {
    for (double& x : v) x *= 0.25;
    return v;
  };
  write_replicated(file, "/interactions/j_el_zz", quarter(j_el), {hk});
  write_replicated(file, "/interactions/j_dd_zz", quarter(j_dd), {hk});
  write_replicated(file, "/interactions/j_mech_zz", quarter(j_mech), {hk});
  write_replicated(file, "/interactions/j_el_transpose", j_el_tr, {hk});
  write_replicated(file, "/interactions/j_dd_periodic", j_dd_p, {hk});
  write_replicated(file, "/interactions/j_mech_transpose", j_mech_tr, {hk});
  write_replicated(file, "/interactions/check_row", check_row, {check_row.size()});
  write_replicated(file, "/interactions/check_j_four_state", check_four, {check_four.size()});
  write_replicated(file, "/interactions/mech_iterations", mech.iterations, {mech.iterations.size()});
  write_replicated(file, "/interactions/mech_net_force", mech.net_force, {mech.net_force.size()});
  std::vector<double> pd;
  for (const Mat3& m : mech.elastic_dipole)
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) pd.push_back(m(a, b));
  write_replicated(file, "/interactions/elastic_dipole", pd, {mech.elastic_dipole.size(), 3, 3});
  // Deformation potentials γ = ∂ε/∂e from the dressed dipoles (held response only; NaN otherwise).
  {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> gamma, gl, gt;
    for (std::size_t t = 0; t < mech.elastic_dipole.size(); ++t) {
      const Mat3 g = t < mech.gamma.size() ? mech.gamma[t] : Mat3::Constant(nan);
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) gamma.push_back(g(a, b));
      gl.push_back(gamma_longitudinal(g)), gt.push_back(gamma_transverse(g));
    }
    const std::size_t hn = mech.elastic_dipole.size();
    for (const char* name : {"/tls/gamma", "/tls/gamma_l", "/tls/gamma_t"}) remove_object(file, name);
    write_replicated(file, "/tls/gamma", gamma, {hn, 3, 3});
    write_replicated(file, "/tls/gamma_l", gl, {hn});
    write_replicated(file, "/tls/gamma_t", gt, {hn});
    for (const char* name : {"/tls/gamma", "/tls/gamma_l", "/tls/gamma_t"})
      write_attribute(file, name, "unit", "epsilon");
  }
  // Units of every dataset, as in /tls (docs/file-format.md).
  const std::pair<const char*, const char*> units[] = {{"r", "sigma"},
                                                       {"j_el", "epsilon"},
                                                       {"j_dd", "epsilon"},
                                                       {"j_mech", "epsilon"},
                                                       {"j_el_zz", "epsilon"},
                                                       {"j_dd_zz", "epsilon"},
                                                       {"j_mech_zz", "epsilon"},
                                                       {"j_el_transpose", "epsilon"},
                                                       {"j_dd_periodic", "epsilon"},
                                                       {"j_mech_transpose", "epsilon"},
                                                       {"check_j_four_state", "epsilon"},
                                                       {"elastic_dipole", "epsilon"},
                                                       {"mech_net_force", "1"},
                                                       {"exact_el", "1"},
                                                       {"exact_mech", "1"},
                                                       {"r_transition", "sigma"},
                                                       {"j_el_dipole", "epsilon"},
                                                       {"j_mech_dipole", "epsilon"}};
  for (const auto& [name, unit] : units) write_attribute(file, std::string("/interactions/") + name, "unit", unit);
  write_attribute(file, "/interactions", "units", "lj");
  write_attribute(file, "/interactions", "cutoff", std::isfinite(cutoff) ? cutoff : 0.0);
  write_attribute(file, "/interactions", "epsilon", eps);
  write_attribute(file, "/interactions", "grid_spacing", grid.spacing().maxCoeff());
  write_attribute(file, "/interactions", "mech_response", response);
  write_attribute(file, "/interactions", "far", far ? "dipole" : "none");
  write_attribute(file, "/interactions", "far_width", far_width);
  write_attribute(file, "/interactions", "far_mech", far_mech ? "dipole" : "exact");
  file.commit();
  progress.say(fmt::format("updated {} in {:.2f} s", path, progress.elapsed()));
}

}  // namespace tlsmap
