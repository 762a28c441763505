#include "tlsmap/pack.hpp"

#include "tlsmap/config_file.hpp"
#include "tlsmap/error.hpp"
#include "tlsmap/h5md.hpp"
#include "tlsmap/input.hpp"
#include "tlsmap/md.hpp"
#include "tlsmap/random.hpp"
#include "tlsmap/units.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace tlsmap {

PackParams PackParams::from_input(const Input& in) {
  PackParams p;
  p.n_beads = in.get_int("system.n_beads");
  p.density = in.get_double("system.density");
  auto a = in.get_vec3("system.box_aspect");
  p.aspect = Vec3(a[0], a[1], a[2]);
  p.model = in.get_string("system.model");
  p.skin = in.get_double("system.skin");
  p.proc_grid = in.get_int3("system.proc_grid");
  p.seed = static_cast<std::uint64_t>(in.get_int("run.seed"));
  p.log_every = in.get_int("run.log_every");
  p.dt = in.get_double("md.dt");
  p.friction = in.get_string("md.thermostat") == "langevin" ? in.get_double("md.friction") : 0.0;
  p.t_parent = in.get_double("pack.t_parent");
  p.t_final = in.get_double("pack.t_final");
  p.equil_steps = in.get_int("pack.equil_steps");
  p.quench_steps = in.get_int("pack.quench_steps");
  p.linear_quench = in.get_string("pack.quench") == "linear";
  p.minimizer = in.get_string("minimize.method");
  p.fire.f_tol = p.lbfgs.f_tol = in.get_double("minimize.f_tol");
  p.fire.max_iter = p.lbfgs.max_iter = in.get_int("minimize.max_iter");
  p.lbfgs.memory = static_cast<int>(in.get_int("minimize.lbfgs_memory"));
  p.lbfgs.max_step = in.get_double("minimize.max_step");
  if (p.friction == 0.0 && p.equil_steps + p.quench_steps > 0)
    in.fail("md.thermostat", "packing needs the Langevin thermostat (with friction > 0) to set its temperatures");
  return p;
}

Box packing_box(std::int64_t n, double density, const Vec3& aspect) {
  const double volume = static_cast<double>(n) / density;
  const double scale = std::cbrt(volume / aspect.prod());
  Box box;
  box.len = scale * aspect;
  return box;
}

Beads lattice_start(MPI_Comm comm, std::int64_t n, const Box& box, const std::vector<double>& composition,
                    std::uint64_t seed) {
  Beads b;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0) return b;
  // Sites per edge in proportion to the edge lengths, enough for n beads.
  const double a = std::cbrt(box.volume() / static_cast<double>(n));
  Int3 m;
  for (int d = 0; d < 3; ++d) m[d] = std::max(1, static_cast<int>(std::floor(box.len[d] / a)));
  for (int d = 0; static_cast<std::int64_t>(m[0]) * m[1] * m[2] < n; d = (d + 1) % 3) ++m[d];
  const std::int64_t n_sites = static_cast<std::int64_t>(m[0]) * m[1] * m[2];
  // Random order of sites: sort by a keyed uniform number (independent of everything but the seed).
  std::vector<std::pair<double, std::int64_t>> order(n_sites);
  for (std::int64_t s = 0; s < n_sites; ++s) order[s] = {uniform4(seed, Stream::packing, s + 1, 0)[0], s};
  std::sort(order.begin(), order.end());
  // Species by id: the first round(c_0 n) ids are species 0, and so on.
  std::vector<std::int64_t> first_id_of(composition.size() + 1, 1);
  double acc = 0.0;
  for (std::size_t k = 0; k < composition.size(); ++k) {
    acc += composition[k];
    first_id_of[k + 1] = k + 1 == composition.size() ? n + 1 : 1 + std::llround(acc * static_cast<double>(n));
  }
  for (std::int64_t id = 1; id <= n; ++id) {
    std::int64_t s = order[id - 1].second;
    Int3 c{static_cast<int>(s % m[0]), static_cast<int>((s / m[0]) % m[1]), static_cast<int>(s / (m[0] * m[1]))};
    Vec3 x;
    for (int d = 0; d < 3; ++d) x[d] = box.lo[d] + (c[d] + 0.5) * box.len[d] / m[d];
    int species = 0;
    while (id >= first_id_of[species + 1]) ++species;
    b.push_owned(x, species, 0.0, id);
  }
  return b;
}

void draw_diameters(Beads& beads, std::uint64_t seed) {
  beads.enable_diameter();
  for (int i = 0; i < beads.n_owned; ++i) {
    const double u = uniform4(seed, Stream::diameter, static_cast<std::uint64_t>(beads.id[i]), 0)[0];
    beads.diameter[i] = PolydisperseSoftSphere::diameter_at(u);
  }
}

namespace {

// Large diameters on neighbouring lattice sites (spacing ≈ 0.95 at density 1) overlap, with
// forces of 10³–10⁴ ε/σ that blow up the first MD steps; L-BFGS, whose steps are capped at
// minimize.max_step per bead, brings max|F| down to kStartForce first (a few dozen iterations).
void remove_overlaps(System& sys, const PackParams& p, Progress& progress) {
  constexpr double kStartForce = 10.0;
  LbfgsParams relax = p.lbfgs;
  relax.f_tol = kStartForce;
  relax.max_iter = 10000;
  const MinimizeResult r = minimize_lbfgs(sys, relax);
  char line[160];
  std::snprintf(line, sizeof line, "lattice start relaxed to max|F| = %.3g in %ld L-BFGS iterations", r.max_force,
                r.iterations);
  progress.say(line);
  agree(sys.comm(), r.converged, "could not relax the lattice start's overlaps (" + std::string(line) + ")");
}

}  // namespace

PackResult make_glass(System& sys, const PackParams& p, Progress& progress) {
  PackResult res;
  const double t0 = MPI_Wtime();
  const double n = static_cast<double>(sys.n_global());
  if (sys.model().has_diameters() && p.equil_steps + p.quench_steps > 0) remove_overlaps(sys, p, progress);
  assign_velocities(sys, p.t_parent, p.seed);
  MolecularDynamics md(sys, MDParams{p.dt, true, p.friction, p.seed});
  auto target = [&](long step) {
    if (step <= p.equil_steps) return p.t_parent;
    if (!p.linear_quench) return p.t_final;
    double f = static_cast<double>(step - p.equil_steps) / static_cast<double>(std::max(1L, p.quench_steps));
    return p.t_parent + (p.t_final - p.t_parent) * std::min(f, 1.0);
  };
  const long total = p.equil_steps + p.quench_steps;
  // Trace resolution: ~200 points over the run, or every log_every steps if that is finer.
  const long every = std::max(1L, std::min(p.log_every, total / 200));
  auto observe = [&](long step) {
    if (step % every != 0 && step != total) return;
    Thermo th = sys.thermo();
    auto& t = res.trace;
    t.step.push_back(static_cast<double>(step));
    t.t_target.push_back(target(step));
    t.t_kinetic.push_back(th.temperature);
    t.e_pot.push_back(th.potential / n);
    t.pressure.push_back(th.pressure);
    if (step % p.log_every != 0 && step != total) return;
    char line[160];
    std::snprintf(line, sizeof line, "T_bath %.3f  T %.3f  e_pot %.5f  P %.4f", target(step), th.temperature,
                  th.potential / n, th.pressure);
    const bool equil = step <= p.equil_steps;
    progress.report(equil ? step : step - p.equil_steps, equil ? p.equil_steps : p.quench_steps, line);
  };
  progress.begin("equilibrate");
  md.run(p.equil_steps, target, observe, 1);
  progress.begin("quench");
  md.run(p.quench_steps, target, observe, 1);
  progress.begin("minimize");
  auto report = [&](long it, double e, double fmax) {
    char line[120];
    std::snprintf(line, sizeof line, "e_pot %.10f  max|F| %.3e (stop at %.0e)", e / n, fmax, p.fire.f_tol);
    progress.report(it, 0, line);
  };
  const double t_min = MPI_Wtime();
  res.minimum = p.minimizer == "lbfgs" ? minimize_lbfgs(sys, p.lbfgs, report, p.log_every)
                                       : minimize_fire(sys, p.fire, report, p.log_every);
  res.minimize_seconds = MPI_Wtime() - t_min;
  Thermo th = sys.thermo();
  res.e_per_bead = th.potential / n;
  res.pressure = th.pressure;
  res.seconds = MPI_Wtime() - t0;
  agree(sys.comm(), res.minimum.converged,
        "the minimiser did not reach max|F| <= " + std::to_string(p.fire.f_tol) + " in " +
            std::to_string(res.minimum.iterations) + " iterations (max|F| = " + std::to_string(res.minimum.max_force) +
            "); raise minimize.max_iter");
  return res;
}

}  // namespace tlsmap

namespace tlsmap {

void run_pack(const Input& in, MPI_Comm comm) {
  PackParams p = PackParams::from_input(in);
  Progress progress(comm, "pack");
  // [pack] from: a glass made elsewhere (LAMMPS data or H5MD) is only minimised, not re-made.
  const bool imported = in.has("pack.from");
  Model model = model_by_name(p.model);
  LoadedConfiguration loaded;
  if (imported) {
    loaded = load_configuration(in.get_string("pack.from"), comm, model.has_diameters());
    if (model.has_diameters()) model = Model(PolydisperseSoftSphere::for_diameters_up_to(loaded.max_diameter));
    p.equil_steps = p.quench_steps = 0;
  }
  const Box box = imported ? loaded.box : packing_box(p.n_beads, p.density, p.aspect);
  const bool diameters = model.has_diameters();
  System sys(comm, box, std::move(model), p.skin, p.proc_grid);
  Beads start = imported ? std::move(loaded.beads)
                          : lattice_start(comm, p.n_beads, box, model_composition(p.model), p.seed);
  if (diameters && !imported) draw_diameters(start, p.seed);
  sys.set_beads(std::move(start));
  const Int3 g = sys.decomp().dims();
  char line[400];
  std::snprintf(line, sizeof line, "%lld %s beads%s%s, density %.4g, box %.4g x %.4g x %.4g, %d ranks (%dx%dx%d)",
                static_cast<long long>(sys.n_global()), p.model.c_str(), imported ? " read from " : "",
                imported ? in.get_string("pack.from").c_str() : "", static_cast<double>(sys.n_global()) / box.volume(),
                box.len[0], box.len[1], box.len[2], sys.decomp().size(), g[0], g[1], g[2]);
  progress.say(line);
  const PackResult res = make_glass(sys, p, progress);
  std::snprintf(line, sizeof line,
                "inherent structure: e_IS = %.10f per bead, P = %.5f, max|F| = %.2e after %ld %s iterations "
                "(%ld force calls, %.2f s); total %.1f s",
                res.e_per_bead, res.pressure, res.minimum.max_force, res.minimum.iterations,
                p.minimizer == "lbfgs" ? "L-BFGS" : "FIRE", res.minimum.force_calls, res.minimize_seconds, res.seconds);
  progress.say(line);

  const std::string path = in.get_string("run.output");
  H5File file(path, H5File::Mode::create, comm);
  write_configuration(file, box, sys.beads(), config_meta(in), /*with_velocity=*/false);
  const auto& t = res.trace;
  const std::size_t rows = t.step.size();
  std::vector<double> trace;
  trace.reserve(rows * 5);
  for (std::size_t k = 0; k < rows; ++k)
    trace.insert(trace.end(), {t.step[k], t.t_target[k], t.t_kinetic[k], t.e_pot[k], t.pressure[k]});
  write_replicated(file, "/pack/quench_trace", trace, {rows, 5});
  write_attribute(file, "/pack/quench_trace", "columns", "step t_target t_kinetic e_pot_per_bead pressure");
  write_attribute(file, "/pack", "e_is_per_bead", res.e_per_bead);
  write_attribute(file, "/pack", "pressure", res.pressure);
  write_attribute(file, "/pack", "max_force", res.minimum.max_force);
  write_attribute(file, "/pack", "minimizer", p.minimizer);
  write_attribute(file, "/pack", "model", p.model);
  write_attribute(file, "/pack", "minimizer_iterations", static_cast<double>(res.minimum.iterations));
  write_attribute(file, "/pack", "minimizer_force_calls", static_cast<double>(res.minimum.force_calls));
  write_attribute(file, "/pack", "minimizer_seconds", res.minimize_seconds);
  write_attribute(file, "/pack", "wall_seconds", res.seconds);
  file.commit();
  progress.say("wrote " + path);
}

}  // namespace tlsmap
