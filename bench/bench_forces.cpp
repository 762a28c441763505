// Force + neighbour-list throughput on the Kob–Andersen liquid, in bead-steps per second.
//
// What: NVE velocity Verlet (dt = 0.005, skin 0.3, rebuild when a bead moved more than skin/2) on
// the KA 80:20 mixture at ρ = 1.2, T ≈ 1, timed over `--steps` steps, with the time split into
// force, neighbour-list build, communication (migration, ghost build and refresh, the rebuild
// check's allreduce) and integration, each as min/avg/max over ranks (CoMD's timer report).
// bead-steps/s = N · steps / (max over ranks of the loop's wall time).
//
// Why this protocol: it is the one LAMMPS can run identically (bench/lammps_forces.sh), so the
// figure compares the same work — same start configuration and velocities (one data file), same
// cutoffs, skin and rebuild rule, same number of steps — and the energies printed at the first and
// last step of both codes check that the two really ran the same system.
//
// The start configuration: with `--data FILE` existing, it is read (LAMMPS data, with velocities).
// Otherwise 4·n³ beads on an fcc lattice (n = --cells, default 20: N = 32,000), 20% of them B at
// random, are melted with Langevin dynamics at T = 2 and equilibrated at T = 1, then written to
// FILE (atom_style atomic, both masses 1) and read back, so both codes start from its doubles.
//
// The timed loop mirrors MolecularDynamics::run without thermostat (md.cpp) step for step; it is
// spelled out here only to put timers between its phases.
#include "tlsmap/core/error.hpp"
#include "tlsmap/core/kernel_isa.hpp"
#include "tlsmap/io/lammps_data.hpp"
#include "tlsmap/md/md.hpp"
#include "tlsmap/md/system.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <time.h>

using namespace tlsmap;

namespace {

struct Options {
  std::string data = "ka32000.data";
  int cells = 20;           // fcc cells per edge: N = 4 cells³
  long steps = 500;         // timed steps
  long melt_steps = 2000;   // Langevin at T = 2 (only when generating)
  long equil_steps = 2000;  // Langevin at T = 1 (only when generating)
  double density = 1.2;
  double skin = 0.3;
  double dt = 0.005;
  int kernel_repeats = 0;  // > 0: also time that many force calls and list builds alone (min, median)
};

Options parse(int argc, char** argv) {
  Options o;
  for (int k = 1; k < argc; ++k) {
    auto value = [&](const char* name) -> const char* {
      if (k + 1 >= argc) {
        std::fprintf(stderr, "bench_forces: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++k];
    };
    if (!std::strcmp(argv[k], "--data")) o.data = value("--data");
    else if (!std::strcmp(argv[k], "--cells")) o.cells = std::atoi(value("--cells"));
    else if (!std::strcmp(argv[k], "--steps")) o.steps = std::atol(value("--steps"));
    else if (!std::strcmp(argv[k], "--melt-steps")) o.melt_steps = std::atol(value("--melt-steps"));
    else if (!std::strcmp(argv[k], "--equil-steps")) o.equil_steps = std::atol(value("--equil-steps"));
    else if (!std::strcmp(argv[k], "--kernel-repeats")) o.kernel_repeats = std::atoi(value("--kernel-repeats"));
    else {
      std::fprintf(stderr,
                   "usage: bench_forces [--data FILE] [--steps N] [--cells n] [--melt-steps N] [--equil-steps N]\n"
                   "                    [--kernel-repeats K]\n");
      std::exit(2);
    }
  }
  return o;
}

// 4·n³ beads on an fcc lattice filling a cube at the given density; exactly 20% species B, chosen
// by a seeded shuffle. All beads on the calling rank (migration distributes them).
Beads fcc_ka(int n, const Box& box) {
  const int n_beads = 4 * n * n * n;
  std::vector<int> species(n_beads, 0);
  std::fill(species.begin(), species.begin() + n_beads / 5, 1);
  std::mt19937_64 rng(20240601);
  std::shuffle(species.begin(), species.end(), rng);
  const double a = box.len[0] / n;
  const double basis[4][3] = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}};
  Beads b;
  std::int64_t id = 1;
  for (int z = 0; z < n; ++z)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x)
        for (const auto& s : basis) {
          Vec3 p = box.lo + a * Vec3(x + s[0] + 0.25, y + s[1] + 0.25, z + s[2] + 0.25);
          b.push_owned(p, species[id - 1], 0.0, id);
          ++id;
        }
  return b;
}

void generate(const Options& o, MPI_Comm comm, int rank) {
  const int n_beads = 4 * o.cells * o.cells * o.cells;
  const double len = std::cbrt(n_beads / o.density);
  Box box;
  box.len = Vec3(len, len, len);
  System sys(comm, box, kob_andersen(), o.skin);
  sys.set_beads(rank == 0 ? fcc_ka(o.cells, box) : Beads{});
  assign_velocities(sys, 2.0, 7);
  MolecularDynamics md(sys, MDParams{o.dt, true, 1.0, 11});
  md.run(o.melt_steps, [](long) { return 2.0; });
  md.run(o.equil_steps, [](long) { return 1.0; });
  LammpsWriteOptions w;
  w.atom_style = "atomic";
  w.n_types = 2;
  w.masses = {1.0, 1.0};
  w.with_velocity = true;
  w.title = "tlsmap bench_forces: Kob-Andersen liquid, rho 1.2, T 1 (Langevin-equilibrated)";
  write_lammps_data(o.data, box, sys.beads(), comm, w);
  Thermo th = sys.thermo();
  if (rank == 0)
    std::printf("generated %s: N = %lld, %ld + %ld Langevin steps, T = %.4f\n", o.data.c_str(),
                static_cast<long long>(sys.n_global()), o.melt_steps, o.equil_steps, th.temperature);
}

double cpu_seconds(clockid_t clock = CLOCK_PROCESS_CPUTIME_ID) {
  timespec t{};
  clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

struct MinAvgMax {
  double min, avg, max;
};

MinAvgMax over_ranks(double t, MPI_Comm comm) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  MinAvgMax r{};
  MPI_Allreduce(&t, &r.min, 1, MPI_DOUBLE, MPI_MIN, comm);
  MPI_Allreduce(&t, &r.max, 1, MPI_DOUBLE, MPI_MAX, comm);
  MPI_Allreduce(&t, &r.avg, 1, MPI_DOUBLE, MPI_SUM, comm);
  r.avg /= size;
  return r;
}

void print_thermo(const char* label, long step, const System& sys) {
  Thermo th = sys.thermo();
  const double n = static_cast<double>(sys.n_global());
  int rank = 0;
  MPI_Comm_rank(sys.comm(), &rank);
  // Per bead, as LAMMPS's thermo output in lj units (thermo_modify norm yes).
  if (rank == 0)
    std::printf("%-6s step %6ld  pe %.10f  ke %.10f  etotal %.10f  press %.8f\n", label, step, th.potential / n,
                th.kinetic / n, (th.potential + th.kinetic) / n, th.pressure);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The kernels alone on the start configuration: K force calls and K full rebuilds (migration,
// ghosts, list), thread CPU time, min and median over calls, max over ranks. Short repeated
// measurements of CPU time resist a shared machine better than the wall time of one long loop.
void kernel_timings(System& sys, int k) {
  std::vector<double> force(k), build(k);
  for (int r = 0; r < k; ++r) {
    MPI_Barrier(sys.comm());
    const double t = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    sys.compute_forces();
    force[r] = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - t;
  }
  for (int r = 0; r < k; ++r) {
    MPI_Barrier(sys.comm());
    const double t = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    sys.rebuild();
    build[r] = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - t;
  }
  sys.compute_forces();
  const double f_min = over_ranks(*std::min_element(force.begin(), force.end()), sys.comm()).max;
  const double f_med = over_ranks(median(force), sys.comm()).max;
  const double b_min = over_ranks(*std::min_element(build.begin(), build.end()), sys.comm()).max;
  const double b_med = over_ranks(median(build), sys.comm()).max;
  int rank = 0;
  MPI_Comm_rank(sys.comm(), &rank);
  if (rank == 0)
    std::printf(
        "KERNEL (thread CPU time) force min %.3f ms median %.3f ms   rebuild min %.3f ms median %.3f ms"
        "   (%d calls)\n",
        1e3 * f_min, 1e3 * f_med, 1e3 * b_min, 1e3 * b_med, k);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const Options o = parse(argc, argv);
  try {
    if (!file_exists(o.data)) generate(o, MPI_COMM_WORLD, rank);

    LammpsData d = read_lammps_data(o.data, MPI_COMM_WORLD);
    agree(MPI_COMM_WORLD, d.has_velocity, o.data + " has no Velocities section");
    System sys(MPI_COMM_WORLD, d.box, kob_andersen(), o.skin);
    sys.set_beads(std::move(d.beads));
    sys.compute_forces();  // as MolecularDynamics's constructor
    print_thermo("start", 0, sys);

    if (o.kernel_repeats > 0) kernel_timings(sys, o.kernel_repeats);

    Beads& b = sys.beads();
    const double dt = o.dt, half = 0.5 * dt;
    const long builds_before = sys.neighbor_list().n_builds();
    const double build_before = sys.neighbor_list().build_seconds();
    double t_force = 0, t_update = 0, t_integrate = 0, cpu_force = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    const double t_begin = MPI_Wtime(), cpu_begin = cpu_seconds();
    for (long step = 1; step <= o.steps; ++step) {
      const double t0 = MPI_Wtime();
      for (int i = 0; i < b.n_owned; ++i) {
        b.vel[i] += half * b.force[i];
        b.pos[i] += dt * b.vel[i];
      }
      const double t1 = MPI_Wtime();
      sys.positions_changed();
      const double t2 = MPI_Wtime(), c2 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
      sys.compute_forces();
      const double t3 = MPI_Wtime();
      cpu_force += cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - c2;
      for (int i = 0; i < b.n_owned; ++i) b.vel[i] += half * b.force[i];
      const double t4 = MPI_Wtime();
      t_integrate += (t1 - t0) + (t4 - t3);
      t_update += t2 - t1;
      t_force += t3 - t2;
    }
    const double t_loop = MPI_Wtime() - t_begin, cpu_loop = cpu_seconds() - cpu_begin;
    const double t_neigh = sys.neighbor_list().build_seconds() - build_before;
    const long n_builds = sys.neighbor_list().n_builds() - builds_before;
    print_thermo("end", o.steps, sys);

    const MinAvgMax loop = over_ranks(t_loop, MPI_COMM_WORLD);
    // CPU use as LAMMPS reports it: this process's CPU time over the loop's wall time, averaged over
    // ranks. Below 100% the machine was shared during the run (or MPI waited without spinning).
    const double cpu_use = 100.0 * over_ranks(cpu_loop / t_loop, MPI_COMM_WORLD).avg;
    // Noise-resistant figures for development on a shared machine: CPU time of the loop and of
    // the force kernel (max over ranks).
    const double cpu_loop_max = over_ranks(cpu_loop, MPI_COMM_WORLD).max;
    const double cpu_force_max = over_ranks(cpu_force, MPI_COMM_WORLD).max;
    const MinAvgMax rows[] = {over_ranks(t_force, MPI_COMM_WORLD), over_ranks(t_neigh, MPI_COMM_WORLD),
                              over_ranks(t_update - t_neigh, MPI_COMM_WORLD), over_ranks(t_integrate, MPI_COMM_WORLD),
                              over_ranks(t_loop - t_force - t_update - t_integrate, MPI_COMM_WORLD)};
    const char* names[] = {"force", "neigh", "comm", "modify", "other"};
    long long pairs = static_cast<long long>(sys.neighbor_list().n_pairs());
    MPI_Allreduce(MPI_IN_PLACE, &pairs, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    const double n = static_cast<double>(sys.n_global());
    const double rate = n * static_cast<double>(o.steps) / loop.max;
    if (rank == 0) {
      std::printf(
          "tlsmap: N = %.0f, %d ranks, %ld steps, %ld neighbour builds, %.1f list entries per bead, kernels %s\n", n,
          size, o.steps, n_builds, static_cast<double>(pairs) / n, to_string(kernel_isa()).c_str());
      std::printf("loop %.4f s   %.4g bead-steps/s   %.4g bead-steps/s per rank   %.1f%% CPU use\n", loop.max, rate,
                  rate / size, cpu_use);
      std::printf("CPU time: loop %.4f s (%.4g bead-steps/s per CPU-second), force %.4f s\n", cpu_loop_max,
                  n * static_cast<double>(o.steps) / cpu_loop_max, cpu_force_max);
      std::printf("%-7s %10s %10s %10s %7s\n", "section", "min (s)", "avg (s)", "max (s)", "%avg");
      for (int k = 0; k < 5; ++k)
        std::printf("%-7s %10.4f %10.4f %10.4f %7.1f\n", names[k], rows[k].min, rows[k].avg, rows[k].max,
                    100.0 * rows[k].avg / loop.avg);
      // One machine-readable line for bench/run_force_bench.sh.
      std::printf(
          "RESULT code=tlsmap ranks=%d n=%.0f steps=%ld loop=%.6f rate=%.6g cpu=%.1f builds=%ld cpu_loop=%.6f "
          "cpu_force=%.6f",
          size, n, o.steps, loop.max, rate, cpu_use, n_builds, cpu_loop_max, cpu_force_max);
      for (int k = 0; k < 5; ++k) std::printf(" %s=%.6f/%.6f/%.6f", names[k], rows[k].min, rows[k].avg, rows[k].max);
      std::printf("\n");
    }
  } catch (const Error& e) {
    if (rank == 0) std::fprintf(stderr, "bench_forces: %s\n", e.what());
    MPI_Finalize();
    return 1;
  }
  MPI_Finalize();
  return 0;
}
