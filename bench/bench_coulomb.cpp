// Electrostatics benchmark: grid-solve cost versus grid size, and Coulomb evaluations on a glass.
//
//   bench_coulomb solve [--box L] [--n 32,64,128,256] [--order 2] [--sphere] [--repeat 5]
//     One PoissonGrid per n (h = L/n, σ = 2h, kernel 4σ, rtol 1e-10): random neutral charges
//     (1 per σ³... N = 4000 by default, --beads) spread once, then: the first solve from zero, and
//     `repeat` solves after moving every charge by ≤ 0.01 (new RHS, previous φ as initial guess,
//     the multigrid preconditioner kept). Reports seconds per solve (min/avg/max over ranks of the
//     per-rank wall time), CG iterations, memory of the grid (PETSc's resident-size difference,
//     summed over ranks) and the peak resident size. --sphere adds a dielectric sphere (ε 4 in 1,
//     radius L/4) to time variable ε (order 2 only).
//
//   bench_coulomb glass --data FILE [--accuracy 1e-5] [--cutoff R] [--evals 10] [--forces OUT]
//                       [--ratio r] [--order p] [--solver mg|fft] [--virial]
//     The Coulomb split on a configuration (LAMMPS data or H5MD): set-up, then `evals` force
//     evaluations, each after displacing every bead by ≤ 0.005 (nearby configurations: previous φ as
//     initial guess, preconditioner reused), timed by phase (real space, spread, solve, field;
//     max over ranks). --forces writes the Coulomb forces of the unperturbed configuration
//     ("id fx fy fz") for accuracy checks against a reference; --ratio overrides σ/h. --solver fft
//     times the P3M reciprocal part instead of the multigrid one (default mg; "CG its" is then 0).
//     --virial (fft) also evaluates the virial tensor in every timed evaluation (CoulombResult::virial).
#include "tlsmap/core/error.hpp"
#include "tlsmap/core/random.hpp"
#include "tlsmap/electrostatics/coulomb.hpp"
#include "tlsmap/io/config_file.hpp"
#include "tlsmap/md/pair_potential.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/parallel/gather.hpp"

#include <mpi.h>
#include <petscsys.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

using namespace tlsmap;

namespace {

int rank_of(MPI_Comm c) {
  int r;
  MPI_Comm_rank(c, &r);
  return r;
}

struct Stat {
  double min, avg, max;
};
Stat over_ranks(double t) {
  int n;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  Stat s{t, t, t};
  MPI_Allreduce(&t, &s.min, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&t, &s.max, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(&t, &s.avg, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  s.avg /= n;
  return s;
}

double resident_mb() {
  PetscLogDouble m = 0;
  PetscMemoryGetCurrentUsage(&m);
  double sum = m / 1048576.0;
  MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return sum;
}

double peak_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  double sum = u.ru_maxrss / 1024.0;
  MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return sum;
}

std::string arg(int argc, char** argv, const char* name, const std::string& def) {
  for (int i = 2; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], name)) return argv[i + 1];
  return def;
}
bool flag(int argc, char** argv, const char* name) {
  for (int i = 2; i < argc; ++i)
    if (!std::strcmp(argv[i], name)) return true;
  return false;
}

void bench_solve(int argc, char** argv) {
  const double len = std::stod(arg(argc, argv, "--box", "14.938"));
  const int order = std::stoi(arg(argc, argv, "--order", "2"));
  const int repeat = std::stoi(arg(argc, argv, "--repeat", "5"));
  const int n_beads = std::stoi(arg(argc, argv, "--beads", "4000"));
  const bool sphere = flag(argc, argv, "--sphere");
  std::vector<int> sizes;
  std::stringstream ss(arg(argc, argv, "--n", "32,64,128,256"));
  for (std::string t; std::getline(ss, t, ',');) sizes.push_back(std::stoi(t));
  Box box;
  box.len = Vec3::Constant(len);
  Decomposition dec(MPI_COMM_WORLD, box);
  if (rank_of(MPI_COMM_WORLD) == 0)
    std::printf(
        "# solve: box %.4g, %d charges, order %d%s, %d ranks (dims %d %d %d)\n"
        "#   n   nodes      first_s  its   repeat_s(min/avg/max)        its  grid_MB  peak_MB\n",
        len, n_beads, order, sphere ? ", dielectric sphere eps 4 in 1" : "", dec.size(), dec.dims()[0], dec.dims()[1],
        dec.dims()[2]);
  for (int n : sizes) {
    PoissonGridOptions o;
    o.spacing = len / n * (1 + 1e-12);
    o.sigma = 2.0 * len / n;
    o.kernel_cutoff = 4.0;
    o.rtol = 1e-10;
    o.order = order;
    o.reuse_solution = true;
    Dielectric eps(1.0);
    if (sphere) eps.add_sphere(box.lo + 0.5 * box.len, 0.25 * len, 4.0);
    const double mem0 = resident_mb();
    PoissonGrid g(dec, o, eps);
    // Charges: ±1 alternating by id at counter-based random positions; each rank keeps its own.
    std::vector<Vec3> pos;
    std::vector<double> q;
    auto place = [&](int step) {
      pos.clear(), q.clear();
      for (int i = 0; i < n_beads; ++i) {
        const auto u = uniform4(7, Stream::test, i + 1, 0);
        const auto v = uniform4(7, Stream::test, i + 1, step + 1);
        Vec3 x =
            box.lo + Vec3(u[0] * len, u[1] * len, u[2] * len) + 0.01 * step * Vec3(v[0] - 0.5, v[1] - 0.5, v[2] - 0.5);
        box.wrap(x);
        if (dec.owns(x)) pos.push_back(x), q.push_back(i % 2 ? 1.0 : -1.0);
      }
    };
    place(0);
    g.spread(pos, q);
    MPI_Barrier(MPI_COMM_WORLD);
    double t = MPI_Wtime();
    g.solve();
    const double first = MPI_Wtime() - t;
    const int first_its = g.iterations();
    double t_rep = 0.0;
    int its = 0;
    for (int r = 1; r <= repeat; ++r) {
      place(r);
      g.spread(pos, q);
      MPI_Barrier(MPI_COMM_WORLD);
      t = MPI_Wtime();
      g.solve();
      t_rep += MPI_Wtime() - t;
      its += g.iterations();
    }
    const Stat s = over_ranks(t_rep / repeat), f = over_ranks(first);
    const double mem = resident_mb() - mem0, peak = peak_mb();
    const Int3 nn = g.n_nodes();
    if (rank_of(MPI_COMM_WORLD) == 0)
      std::printf("%5d %9ld  %9.4f %4d   %8.4f %8.4f %8.4f   %5.1f %8.1f %8.1f\n", nn[0],
                  static_cast<long>(nn[0]) * nn[1] * nn[2], f.max, first_its, s.min, s.avg, s.max,
                  static_cast<double>(its) / repeat, mem, peak);
  }
}

void bench_glass(int argc, char** argv) {
  const std::string data = arg(argc, argv, "--data", "");
  if (data.empty()) throw Error("glass: --data FILE is required");
  const double accuracy = std::stod(arg(argc, argv, "--accuracy", "1e-5"));
  const double cutoff = std::stod(arg(argc, argv, "--cutoff", "0"));
  const int evals = std::stoi(arg(argc, argv, "--evals", "10"));
  const double ratio = std::stod(arg(argc, argv, "--ratio", "0"));
  const int order = std::stoi(arg(argc, argv, "--order", "16"));
  const std::string forces_out = arg(argc, argv, "--forces", "");
  const CoulombSolver solver = coulomb_solver_by_name(arg(argc, argv, "--solver", "mg"));
  const bool virial = flag(argc, argv, "--virial");
  const double skin = 0.3;
  LoadedConfiguration c = load_configuration(data, MPI_COMM_WORLD);
  CoulombParams p = coulomb_params(c.box, accuracy, cutoff, 1.0, 0.5 * c.box.len.minCoeff() - skin, order, solver);
  if (ratio > 0) p.spacing = p.sigma / ratio;
  const double t0 = MPI_Wtime();
  System sys(MPI_COMM_WORLD, c.box, make_model("kob-andersen"), skin, {0, 0, 0}, p.cutoff);
  sys.set_beads(std::move(c.beads));
  const double mem0 = resident_mb();
  Coulomb coulomb(sys.decomp(), p);
  const double mem = resident_mb() - mem0;
  std::vector<Vec3> f;
  CoulombResult r = coulomb.compute(sys.beads(), *sys.coulomb_list(), f);
  const double t_setup = MPI_Wtime() - t0;
  const Int3 nn = coulomb.mesh();
  const double h_max = std::max({c.box.len[0] / nn[0], c.box.len[1] / nn[1], c.box.len[2] / nn[2]});
  if (!forces_out.empty()) {
    Beads& b = sys.beads();
    for (int i = 0; i < b.n_owned; ++i) b.force[i] = f[i];
    const GlobalBeads g = gather_by_id(b, MPI_COMM_WORLD);
    if (rank_of(MPI_COMM_WORLD) == 0) {
      std::FILE* out = std::fopen(forces_out.c_str(), "w");
      for (std::size_t i = 0; i < g.size(); ++i)
        std::fprintf(out, "%zu %.17g %.17g %.17g\n", i + 1, g.force[i][0], g.force[i][1], g.force[i][2]);
      std::fclose(out);
    }
  }
  // Timed evaluations of nearby configurations.
  double t_total = 0.0;
  int its = 0;
  for (int e = 1; e <= evals; ++e) {
    Beads& b = sys.beads();
    for (int i = 0; i < b.n_owned; ++i) {
      const auto u = uniform4(11, Stream::test, b.id[i], e);
      b.pos[i] += 0.005 * Vec3(u[0] - 0.5, u[1] - 0.5, u[2] - 0.5);
    }
    sys.rebuild();  // wraps and migrates, so every owned bead is inside its subdomain for the grid
    MPI_Barrier(MPI_COMM_WORLD);
    const double t = MPI_Wtime();
    r = coulomb.compute(sys.beads(), *sys.coulomb_list(), f, virial);
    t_total += MPI_Wtime() - t;
    its += r.iterations;
  }
  const Stat s = over_ranks(t_total / std::max(evals, 1));
  const double peak = peak_mb();  // collective
  if (rank_of(MPI_COMM_WORLD) == 0)
    std::printf(
        "glass %s: solver %s%s, N %lld, accuracy %.1e (estimate %.2e), r_c %.4f sigma %.4f sigma/h %.3f grid %d %d %d "
        "order %d kernel %.2f sigma | set-up + first %.3f s | per evaluation %.4f / %.4f / %.4f s "
        "(min/avg/max), CG its %.1f | grid memory %.1f MB, peak %.1f MB\n",
        data.c_str(), coulomb_solver_name(solver), r.virial ? " + virial tensor" : "",
        static_cast<long long>(sys.n_global()), accuracy, r.relative_error, p.cutoff, p.sigma, p.sigma / h_max, nn[0],
        nn[1], nn[2], solver == CoulombSolver::fft ? p.assignment_order : p.order, p.kernel_cutoff, t_setup, s.min,
        s.avg, s.max, static_cast<double>(its) / std::max(evals, 1), mem, peak);
}

}  // namespace

int main(int argc, char** argv) {
  PetscCall(PetscInitialize(&argc, &argv, nullptr, nullptr));
  int status = 0;
  try {
    if (argc >= 2 && !std::strcmp(argv[1], "solve")) bench_solve(argc, argv);
    else if (argc >= 2 && !std::strcmp(argv[1], "glass")) bench_glass(argc, argv);
    else throw Error("usage: bench_coulomb solve|glass [options] (see the head of bench/bench_coulomb.cpp)");
  } catch (const std::exception& e) {
    if (rank_of(MPI_COMM_WORLD) == 0) std::fprintf(stderr, "bench_coulomb: %s\n", e.what());
    status = 1;
  }
  PetscCall(PetscFinalize());
  return status;
}
