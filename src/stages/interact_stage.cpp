// `tlsmap interact`: the TLS–TLS coupling maps of /tls into /interactions (include/tlsmap/couplings/interact.hpp).
//
// Cost: one grid solve and one Hessian solve per TLS (plus two force evaluations for its force
// dipole); pair products are sparse (J_el: one interpolation per transition charge; J_mech: a dot
// over the force dipole's support), so the stage grows with the number of TLS, not pairs × grid.
// A few pairs (interact.check_pairs) are re-done by four-state relaxation as a check.
#include "tlsmap/stages/interact_stage.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/couplings/active_coulomb.hpp"
#include "tlsmap/couplings/coulomb_stiffness.hpp"
#include "tlsmap/couplings/far_field.hpp"
#include "tlsmap/couplings/interact.hpp"
#include "tlsmap/couplings/point_coupling.hpp"
#include "tlsmap/io/input.hpp"
#include "tlsmap/parallel/decomposition.hpp"
#include "tlsmap/stages/active_charges.hpp"
#include "tlsmap/stages/coulomb_share.hpp"

#include "tlsmap/core/progress.hpp"
#include "tlsmap/electrostatics/poisson_grid.hpp"
#include "tlsmap/io/tls_io.hpp"
#include "tlsmap/md/material.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
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

// Largest relative deviation of the Coulomb share's pair part from the Hessian route that is taken
// as free of plastic events (measured 1.3e-7 to 2.3e-6 without one on the test and study glasses;
// a plastic event gives O(1)).
constexpr double kCoulombPathTolerance = 1e-3;

// What `tlsmap interact` reads from the input file.
struct InteractSettings {
  std::string output;
  double eps = 0.0, spacing = 0.0, sigma_factor = 0.0;
  double cutoff = std::numeric_limits<double>::infinity();  // infinite when interact.cutoff is not set
  bool far = false, far_mech = false;                       // far field by dipoles (J_el; J_mech too)
  double far_width = 0.0;
  std::string response, model_name;
  MechResponse mode = MechResponse::held;
  std::size_t n_check = 0;
  double f_tol = 0.0, strain = 0.0, minimize_f_tol = 0.0, skin = 0.0;
  CoulombStiffnessParams coulomb;  // strain 0: no Coulomb share
  std::int64_t coulomb_max_beads = 0;
  Int3 proc_grid{0, 0, 0};

  static InteractSettings from_input(const Input& in);
};

InteractSettings InteractSettings::from_input(const Input& in) {
  InteractSettings s;
  s.output = output_path(in);
  s.eps = in.get_double("dipole.epsilon");
  s.spacing = in.get_double("dipole.spacing");
  s.sigma_factor = in.get_double("dipole.sigma_factor");
  if (in.has("interact.cutoff")) s.cutoff = in.get_double("interact.cutoff");
  s.far = in.get_string("interact.far") == "dipole";
  s.far_width = in.get_double("interact.far_width");
  s.far_mech = s.far && in.get_string("interact.far_mech") == "dipole";
  if (s.far && !std::isfinite(s.cutoff))
    throw Error(in.path() +
                ": [interact] far = \"dipole\" couples the pairs at or beyond interact.cutoff through their "
                "dipoles, but interact.cutoff is not set (every pair would be exact)");
  s.response = in.get_string("interact.mech_response");
  s.mode = parse_mech_response(s.response);
  s.n_check = static_cast<std::size_t>(in.get_int("interact.check_pairs"));
  s.f_tol = in.get_double("interact.relax_f_tol");
  s.proc_grid = in.get_int3("system.proc_grid");
  s.skin = in.get_double("system.skin");
  s.model_name = in.get_string("system.model");
  s.strain = in.get_double("interact.elastic_strain");
  s.minimize_f_tol = in.get_double("minimize.f_tol");
  s.coulomb.strain = in.get_double("interact.coulomb_strain");
  s.coulomb.f_tol = in.get_double("interact.coulomb_f_tol");
  s.coulomb_max_beads = in.get_int("interact.coulomb_max_beads");
  s.coulomb.epsilon = s.eps;
  return s;
}

// What the stage reads from the file: the configuration, its model, the charges and /tls.
struct Sample {
  Configuration c;
  Model model;
  std::vector<double> charge;
  TlsSet tls;
};

Sample read_sample(Hdf5File& file, const InteractSettings& s, MPI_Comm comm) {
  Configuration c = read_configuration(file);
  // The model of this sample: for soft spheres, with the list range of its largest diameter.
  double max_diameter = 0.0;
  for (int i = 0; i < c.beads.n_owned && c.beads.has_diameter; ++i)
    max_diameter = std::max(max_diameter, c.beads.diameter[i]);
  MPI_Allreduce(MPI_IN_PLACE, &max_diameter, 1, MPI_DOUBLE, MPI_MAX, comm);
  Model model = model_for_sample(
      s.model_name, max_diameter > 0.0 ? std::vector<double>{max_diameter} : std::vector<double>{}, s.output);
  std::vector<double> charge = read_dataset<double>(file, "/particles/all/charge/value");
  TlsSet tls = read_tls_set(file, c.n_global);
  return Sample{std::move(c), std::move(model), std::move(charge), std::move(tls)};
}

// Every listed pair, and which of them get J_el and J_mech exactly.
struct PairLists {
  TlsPairs all;                    // every listed pair
  std::vector<std::size_t> exact;  // rows of `all` closer than the cutoff: J_el exactly
  TlsPairs near;                   // those pairs
  std::vector<std::size_t> mech;   // rows of `all` with J_mech exactly
  TlsPairs mech_pairs;             // those pairs
};

PairLists list_pairs(const TlsSet& tls, const Box& box, const InteractSettings& s) {
  PairLists l;
  // Every listed pair; those closer than the cutoff (all of them unless far = "dipole") exactly.
  l.all = tls_pairs(tls, box, s.far ? std::numeric_limits<double>::infinity() : s.cutoff);
  const std::size_t k = l.all.size();
  for (std::size_t p = 0; p < k; ++p)
    if (l.all.r[p].norm() < s.cutoff) l.exact.push_back(p);
  l.near = subset(l.all, l.exact);
  // J_mech exactly for every listed pair unless far_mech = "dipole" (with `held`, a far pair costs
  // only a dot product once every TLS's response is solved, which the elastic dipoles need anyway).
  l.mech = l.exact;
  if (s.far && !s.far_mech) {
    l.mech.resize(k);
    std::iota(l.mech.begin(), l.mech.end(), std::size_t{0});
  }
  l.mech_pairs = subset(l.all, l.mech);
  return l;
}

// The electric couplings: J_el of the near pairs by grid solves, J_dd of every pair.
struct Electric {
  std::vector<double> j_el_near, j_el_transpose;  // per near pair
  std::vector<double> j_el_point_near;            // per near pair: point charges, Ewald
  std::vector<Vec3> mu;                           // per TLS: the direct dipole
  std::vector<double> j_dd, j_dd_periodic;        // per listed pair
  double grid_spacing = 0.0;
};

Electric electric_step(const Sample& m, const PairLists& l, const InteractSettings& s, MPI_Comm comm,
                       Progress& progress) {
  const Box& box = m.c.box;
  Electric e;
  // One solve per TLS on a uniform-ε grid.
  Decomposition dec(comm, box, s.proc_grid);
  PoissonGridOptions go;
  go.spacing = s.spacing;
  go.sigma = s.sigma_factor * s.spacing;
  PoissonGrid grid(dec, go, Dielectric(s.eps));
  progress.begin("J_el solves");
  e.j_el_near = electric_couplings(
      grid, dec, m.tls, m.charge, l.near, &e.j_el_transpose, [&](std::size_t done, std::size_t total, int its) {
        progress.report(static_cast<long>(done), static_cast<long>(total), std::to_string(its) + " KSP iterations");
      });
  // The same pairs as point charges, exactly (the grid's J_el carries its O(h²/σ²) error and the
  // Gaussians' width; docs/dipole.md §2).
  PointCouplingSplit split;
  e.j_el_point_near = point_charge_couplings(comm, box, m.tls, m.charge, l.near, s.eps, 0.0, &split);
  progress.say(fmt::format("J_el of the point charges (Ewald, j_el_point; r_c {:.2f}, {} k-vectors) done ({:.2f} s)",
                           split.real_cut, split.k_vectors, progress.elapsed()));
  e.mu.resize(m.tls.size());
  for (std::size_t t = 0; t < m.tls.size(); ++t) e.mu[t] = direct_dipole(m.tls, t, m.charge, box);
  const TlsPairs& pairs = l.all;
  e.j_dd.resize(pairs.size()), e.j_dd_periodic.resize(pairs.size());
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    e.j_dd[p] = dipole_dipole(e.mu[pairs.i[p]], e.mu[pairs.j[p]], pairs.r[p], s.eps);
    e.j_dd_periodic[p] = dipole_dipole_periodic(e.mu[pairs.i[p]], e.mu[pairs.j[p]], pairs.r[p], box, s.eps);
  }
  e.grid_spacing = grid.spacing().maxCoeff();
  progress.say(fmt::format("J_el done ({:.2f} s)", progress.elapsed()));
  return e;
}

// The elastic couplings: the Hessian at /particles/all (in `sys`), one solve per TLS.
MechResult mechanical_step(System& sys, const TlsSet& tls, const PairLists& l, const InteractSettings& s,
                           Progress& progress) {
  progress.begin("J_mech solves");
  const MechResult mech =
      mechanical_couplings(sys, tls, l.mech_pairs, s.mode, [&](std::size_t done, std::size_t total, int its) {
        progress.report(static_cast<long>(done), static_cast<long>(total), std::to_string(its) + " KSP iterations");
      });
  const double worst = mech.net_force.empty() ? 0.0 : *std::max_element(mech.net_force.begin(), mech.net_force.end());
  if (s.mode == MechResponse::held && worst > 1e-3) {
    progress.say(fmt::format(
        "warning: a force dipole carries a net force (|sum f|/sum|f| up to {:.3g}): its states are not force-free, "
        "and the held response (which assumes they are) may be off; mech_response = \"pair\" is exact",
        worst));
  }
  progress.say(
      fmt::format("J_mech done ({:.2f} s; KSP iterations per TLS up to {})", progress.elapsed(),
                  mech.iterations.empty() ? 0 : *std::max_element(mech.iterations.begin(), mech.iterations.end())));
  return mech;
}

// The four-state checks: the closest pairs whose mobile sets do not interact directly.
struct Checks {
  std::vector<std::int64_t> row;  // row of the listed pairs
  std::vector<double> four;       // the four-state coupling
};

// With charges acting the four-state value includes the direct interaction of the two mobile sets
// (their unrelaxed cross term, what J_el measures): the check is the rest, the environment's response.
Checks four_state_checks(const Sample& m, const PairLists& l, const MechResult& mech, const InteractSettings& s,
                         MPI_Comm comm, const Progress& progress, const std::optional<CoulombParams>& coulomb) {
  const TlsPairs& mp = l.mech_pairs;
  std::vector<std::size_t> order(mp.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return mp.r[a].norm() < mp.r[b].norm(); });
  Checks ch;
  for (std::size_t p : order) {
    if (ch.row.size() >= s.n_check) break;
    if (mobile_gap(m.tls, mp.i[p], mp.j[p], m.c.box) < m.model.max_cutoff()) continue;
    double direct = 0.0;
    const double four = four_state_coupling(comm, m.c.box, m.c.beads, m.model, s.skin, s.proc_grid, m.tls, mp.i[p],
                                            mp.j[p], s.f_tol, coulomb, coulomb ? &direct : nullptr);
    ch.row.push_back(static_cast<std::int64_t>(l.mech[p]));
    ch.four.push_back(four - direct);
    progress.say(fmt::format("check pair ({}, {}), r = {:.4g}: J_mech {:.6g} (transpose {:.6g}), four-state {:.6g}{}",
                             mp.i[p], mp.j[p], mp.r[p].norm(), mech.j[p], mech.j_transpose[p], four - direct,
                             coulomb ? fmt::format(" (direct term {:.6g} removed)", direct) : std::string()));
  }
  return ch;
}

// Material constants of the same sample (Eqs. 17, 21, 22 inputs): the Hessian route, and the
// finite-strain route as a cross-check when interact.elastic_strain > 0.
MaterialConstants material_step(const Sample& m, System& sys, double strain, const InteractSettings& s, MPI_Comm comm,
                                const Progress& progress) {
  MaterialConstants mat;
  if (strain > 0.0) {
    mat = measure_material(comm, m.c.box, m.c.beads, m.model, s.skin, s.proc_grid, strain, s.minimize_f_tol);
  } else {
    sys.compute_forces();
    add_hessian_route(mat, sys);
  }
  progress.say(
      fmt::format("material (Hessian route): rho {:.5g}, P {:.5g}, K {:.5g} (affine {:.5g}), G {:.5g} (affine {:.5g}), "
                  "c_L {:.5g}, c_T {:.5g}",
                  mat.density, mat.pressure, mat.bulk_modulus_hessian, mat.bulk_born_hessian, mat.shear_modulus_hessian,
                  mat.shear_born_hessian, mat.c_longitudinal_hessian, mat.c_transverse_hessian));
  if (!mat.hessian_failure.empty()) progress.say("  the Hessian route failed: " + mat.hessian_failure);
  if (strain > 0.0) {
    progress.say(fmt::format(
        "material (finite strain {:.3g}, cross-check): K {:.5g}, G_tetragonal {:.5g} (xy {:.4g}, yz {:.4g}, zx {:.4g})",
        strain, mat.bulk_modulus, mat.shear_modulus, mat.shear_xy, mat.shear_yz, mat.shear_zx));
  }
  return mat;
}

// The Coulomb share of the stiffness (the paper's ζ², Eq. 12), when the beads carry charges and
// interact.coulomb_strain > 0. The pair part of the same differences must reproduce the Hessian-route
// tensor: a plastic event within ±h breaks that (at h = 1e-5 in the 1000-bead default glass), and the
// step is retried at h/3, up to three times. A relaxation that does not reach its f_tol (collective)
// is reported and leaves the share out rather than losing the couplings.
struct CoulombShare {
  CoulombStiffness c;
  double path_check = 0.0;  // max |C^pair(differences) − C(Hessian)| / max |C(Hessian)|, orthorhombic block
};

std::optional<CoulombShare> coulomb_step(const Sample& m, const InteractSettings& s, const MaterialConstants& mat,
                                         MPI_Comm comm, const Progress& progress) {
  const bool charged = std::any_of(m.charge.begin(), m.charge.end(), [](double q) { return q != 0.0; });
  if (s.coulomb.strain <= 0.0 || !charged) {
    progress.say(charged ? "Coulomb share of the stiffness: skipped (interact.coulomb_strain = 0)"
                         : "Coulomb share of the stiffness: skipped (no charges)");
    return std::nullopt;
  }
  if (static_cast<std::int64_t>(m.charge.size()) > s.coulomb_max_beads) {
    progress.say(
        fmt::format("Coulomb share of the stiffness: skipped ({} beads > interact.coulomb_max_beads = {}: "
                    "13 O(N^2) Ewald sums)",
                    m.charge.size(), s.coulomb_max_beads));
    return std::nullopt;
  }
  const Mat3 hessian = mat.tensor.relaxed.topLeftCorner<3, 3>();
  CoulombStiffnessParams p = s.coulomb;
  CoulombShare out;
  try {
    for (int attempt = 0; attempt < 3; ++attempt, p.strain /= 3.0) {
      progress.say(
          fmt::format("Coulomb share of the stiffness: 13 relaxations to {:.3g} at strains ±{:.3g}, Ewald sums",
                      p.f_tol, p.strain));
      out.c = coulomb_stiffness(comm, m.c.box, m.c.beads, m.charge, m.model, s.skin, s.proc_grid, p);
      progress.say(relaxation_summary(out.c));
      out.path_check = (out.c.pair.c - hessian).cwiseAbs().maxCoeff() / hessian.cwiseAbs().maxCoeff();
      if (!hessian.allFinite()) {
        progress.say("  no Hessian-route tensor to check the differences against (its solve failed)");
        break;
      }
      if (out.path_check <= kCoulombPathTolerance) break;
      progress.say(
          fmt::format("  the pair part differs from the Hessian route by {:.3g} (> {:.0e}): a plastic event, "
                      "or the strain beyond the harmonic range (an O(h^2) difference){}",
                      out.path_check, kCoulombPathTolerance, attempt < 2 ? "; retrying at a third" : ""));
    }
  } catch (const Error& e) {
    progress.say(fmt::format("Coulomb share of the stiffness left out: {}", e.what()));
    return std::nullopt;
  }
  CoulombStiffness& c = out.c;
  if (!(out.path_check <= kCoulombPathTolerance)) {  // no step passed, or nothing to check
    const double nan = std::numeric_limits<double>::quiet_NaN();
    c.share_bulk = c.share_shear = c.share_sound = nan;
    progress.say("  the shares are written as NaN (the moduli are kept for inspection)");
  }
  progress.say(
      fmt::format("Coulomb share: K^c {:.5g} of K {:.5g} ({:.4g}), G^c {:.5g} of G {:.5g} ({:.4g}), "
                  "of rho c_s^2: zeta^2 = {:.4g} (pair part vs Hessian route: {:.2g})",
                  c.coulomb.bulk, c.pair.bulk + c.coulomb.bulk, c.share_bulk, c.coulomb.shear,
                  c.pair.shear + c.coulomb.shear, c.share_shear, c.share_sound, out.path_check));
  return out;
}

// Per listed pair: the far-field values, replaced by the exact ones where they were computed.
struct Couplings {
  std::vector<double> j_el, j_mech, j_el_transpose, j_mech_transpose;
  std::vector<double> j_el_point;  // NaN where J_el is the dipole approximation
  std::vector<int> exact_el, exact_mech;
};

Couplings combine(const FarField& ff, const PairLists& l, const Electric& e, const MechResult& mech) {
  const std::size_t k = l.all.size();
  Couplings c{ff.j_el,
              ff.j_mech,
              ff.j_el,
              ff.j_mech,
              std::vector<double>(k, std::numeric_limits<double>::quiet_NaN()),
              std::vector<int>(k, 0),
              std::vector<int>(k, 0)};
  for (std::size_t x = 0; x < l.exact.size(); ++x) {
    const std::size_t p = l.exact[x];
    c.exact_el[p] = 1;
    c.j_el[p] = e.j_el_near[x], c.j_el_transpose[p] = e.j_el_transpose[x], c.j_el_point[p] = e.j_el_point_near[x];
  }
  for (std::size_t x = 0; x < l.mech.size(); ++x) {
    const std::size_t p = l.mech[x];
    c.exact_mech[p] = 1;
    c.j_mech[p] = mech.j[x], c.j_mech_transpose[p] = mech.j_transpose[x];
  }
  return c;
}

// /material: the constants as attributes, the tensors as datasets.
void write_material(Hdf5File& file, const MaterialConstants& mat, double strain) {
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
  for (const char* name : {"/material/elastic_constants", "/material/elastic_constants_affine", "/material/stress"})
    remove_object(file, name);
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

// The couplings of every listed pair, the far-field values and the checks into /interactions.
void write_couplings(Hdf5File& file, const PairLists& l, const Electric& e, const Couplings& c, const FarField& ff,
                     const Checks& ch) {
  const std::size_t hk = l.all.size();
  write_replicated(file, "/interactions/i", l.all.i, {hk});
  write_replicated(file, "/interactions/j", l.all.j, {hk});
  write_replicated(file, "/interactions/r", flatten(l.all.r), {hk, 3});
  write_replicated(file, "/interactions/j_el", c.j_el, {hk});
  write_replicated(file, "/interactions/j_dd", e.j_dd, {hk});
  write_replicated(file, "/interactions/j_mech", c.j_mech, {hk});
  write_replicated(file, "/interactions/exact_el", c.exact_el, {hk});
  write_replicated(file, "/interactions/exact_mech", c.exact_mech, {hk});
  write_replicated(file, "/interactions/r_transition", flatten(ff.r), {hk, 3});
  write_replicated(file, "/interactions/j_el_dipole", ff.j_el, {hk});
  write_replicated(file, "/interactions/j_mech_dipole", ff.j_mech, {hk});
  // The σᶻσᶻ convention: J_zz, the coefficient of σᶻ_i σᶻ_j in the pair Hamiltonian, is a quarter of
  // the four-state combination E_BB − E_BA − E_AB + E_AA (docs/file-format.md, /interactions).
  auto quarter = [](std::vector<double> v) {
    for (double& x : v) x *= 0.25;
    return v;
  };
  write_replicated(file, "/interactions/j_el_zz", quarter(c.j_el), {hk});
  write_replicated(file, "/interactions/j_dd_zz", quarter(e.j_dd), {hk});
  write_replicated(file, "/interactions/j_mech_zz", quarter(c.j_mech), {hk});
  write_replicated(file, "/interactions/j_el_transpose", c.j_el_transpose, {hk});
  write_replicated(file, "/interactions/j_el_point", c.j_el_point, {hk});
  write_replicated(file, "/interactions/j_dd_periodic", e.j_dd_periodic, {hk});
  write_replicated(file, "/interactions/j_mech_transpose", c.j_mech_transpose, {hk});
  write_replicated(file, "/interactions/check_row", ch.row, {ch.row.size()});
  write_replicated(file, "/interactions/check_j_four_state", ch.four, {ch.four.size()});
}

// Per TLS: the KSP iterations, net force and elastic dipole into /interactions, and the
// deformation potentials γ = ∂ε/∂e from the dressed dipoles into /tls (held response only; NaN otherwise).
void write_per_tls(Hdf5File& file, const MechResult& mech) {
  write_replicated(file, "/interactions/mech_iterations", mech.iterations, {mech.iterations.size()});
  write_replicated(file, "/interactions/mech_net_force", mech.net_force, {mech.net_force.size()});
  std::vector<double> pd;
  for (const Mat3& m : mech.elastic_dipole)
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) pd.push_back(m(a, b));
  write_replicated(file, "/interactions/elastic_dipole", pd, {mech.elastic_dipole.size(), 3, 3});
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

// Units of every /interactions dataset, as in /tls (docs/file-format.md), and the settings used.
void write_interaction_attributes(Hdf5File& file, const InteractSettings& s, double grid_spacing) {
  const std::pair<const char*, const char*> units[] = {{"r", "sigma"},
                                                       {"j_el", "epsilon"},
                                                       {"j_dd", "epsilon"},
                                                       {"j_mech", "epsilon"},
                                                       {"j_el_zz", "epsilon"},
                                                       {"j_dd_zz", "epsilon"},
                                                       {"j_mech_zz", "epsilon"},
                                                       {"j_el_transpose", "epsilon"},
                                                       {"j_el_point", "epsilon"},
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
  write_attribute(file, "/interactions", "cutoff", std::isfinite(s.cutoff) ? s.cutoff : 0.0);
  write_attribute(file, "/interactions", "epsilon", s.eps);
  write_attribute(file, "/interactions", "grid_spacing", grid_spacing);
  write_attribute(file, "/interactions", "mech_response", s.response);
  write_attribute(file, "/interactions", "far", s.far ? "dipole" : "none");
  write_attribute(file, "/interactions", "far_width", s.far_width);
  write_attribute(file, "/interactions", "far_mech", s.far_mech ? "dipole" : "exact");
}

}  // namespace

void check_interact_input(const Input& in) { (void)InteractSettings::from_input(in); }

void run_interact(const Input& in, MPI_Comm comm) {
  const InteractSettings s = InteractSettings::from_input(in);
  Progress progress(comm, "interact");

  Hdf5File file(s.output, Hdf5File::Mode::update, comm);
  const Sample m = read_sample(file, s, comm);
  const Box& box = m.c.box;
  const PairLists l = list_pairs(m.tls, box, s);
  const std::size_t k = l.all.size();
  progress.say(
      fmt::format("{} TLS, {} pairs, {} exact (within {:.4g}){}; grid spacing {:.4g}, eps {:.4g}; J_mech response: {}",
                  m.tls.size(), k, l.near.size(), s.cutoff, s.far ? ", the rest by their dipoles" : "", s.spacing,
                  s.eps, s.response));

  // The System first: its checks of the box against the model's cut-off name the problem before
  // the grid's own (a box too small for the grid's ranks says nothing of the box). With active
  // charges (polar dimers) they act in J_mech's Hessian (couplings/coulomb_hessian.hpp).
  const std::optional<CoulombParams> coulomb = active_coulomb_from_input(in, box, s.skin);
  std::unique_ptr<System> sys = sample_system(comm, box, m.model, s.skin, s.proc_grid, m.c.beads, coulomb);
  const Electric e = electric_step(m, l, s, comm, progress);
  const MechResult mech = mechanical_step(*sys, m.tls, l, s, progress);
  // Material constants by the Hessian route, with the charges' Born, stress and Ξ terms when they act
  // (fft only: NaN with the multigrid part). Their Coulomb share is pack's, measured by finite strain
  // with the charges acting (/material/coulomb_*, kept).
  const double strain = coulomb ? 0.0 : s.strain;
  const MaterialConstants mat = material_step(m, *sys, strain, s, comm, progress);
  if (coulomb && s.strain > 0.0)
    progress.say(
        "material constants: no finite-strain cross-check with the charges acting (pack's Coulomb share is "
        "that measurement)");
  if (coulomb) sys.reset();  // one FFT solver at a time: the four-state checks make their own
  const Checks ch = four_state_checks(m, l, mech, s, comm, progress, coulomb);
  std::optional<CoulombShare> share;
  if (!coulomb) share = coulomb_step(m, s, mat, comm, progress);

  // Far field of every listed pair; the exact values where they were computed.
  const FarField ff = far_field_couplings(m.tls, l.all, box, e.mu, s.eps, mech.elastic_dipole, mat.tensor, s.far_width);
  const Couplings c = combine(ff, l, e, mech);
  if (s.far) {
    progress.say(
        fmt::format("far field: J_el of {} pairs and J_mech of {} by their dipoles (elastic kernel on a {}x{}x{} "
                    "grid, width {:.3g})",
                    k - l.exact.size(), k - l.mech.size(), ff.grid[0], ff.grid[1], ff.grid[2], s.far_width));
  }
  if (s.n_check > 0 && ch.row.empty())
    progress.say("no four-state check: no pair has mobile sets farther apart than the potential's cutoff");

  remove_object(file, "/interactions");
  if (!coulomb) remove_object(file, "/material");  // with active charges pack's Coulomb share stays
  write_material(file, mat, strain);
  if (share) write_coulomb_stiffness(file, share->c, "coulomb_path_check", share->path_check);
  write_couplings(file, l, e, c, ff, ch);
  write_per_tls(file, mech);
  write_interaction_attributes(file, s, e.grid_spacing);
  file.commit();
  progress.say(fmt::format("updated {} in {:.2f} s", s.output, progress.elapsed()));
}

}  // namespace tlsmap
