// A short NVE trajectory of a configuration file with the engine, for the peer comparison of
// tests/cli/polar_trajectory.sh (LAMMPS runs the same steps from the same data file):
//
//   nve_trajectory_tool FILE MODEL STEPS DT ACCURACY EVERY OUT
//
// FILE: a LAMMPS data file or H5MD file with velocities (LAMMPS: a Velocities section); MODEL: the
// pair model (e.g. polar-dimers); charges act through the engine's split (fft, P3M) at ACCURACY
// when any bead is charged. Velocity Verlet without thermostat, unit masses. OUT (rank 0): lines
// "step potential kinetic" every EVERY steps, then "id x y z vx vy vz" per bead with x unwrapped
// (x + image · L), sorted by id. A test tool, not part of tlsmap.
#include "tlsmap/core/error.hpp"
#include "tlsmap/couplings/active_coulomb.hpp"
#include "tlsmap/io/config_file.hpp"
#include "tlsmap/md/md.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/parallel/gather.hpp"

#include <mpi.h>
#include <petscsys.h>

#include <array>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace tlsmap;

namespace {

void run(int argc, char** argv) {
  if (argc != 8) throw Error("usage: nve_trajectory_tool FILE MODEL STEPS DT ACCURACY EVERY OUT");
  const std::string file = argv[1], model = argv[2], out = argv[7];
  const long steps = std::stol(argv[3]), every = std::stol(argv[6]);
  const double dt = std::stod(argv[4]), accuracy = std::stod(argv[5]);
  constexpr double kSkin = 0.3;
  LoadedConfiguration c = load_configuration(file, MPI_COMM_WORLD);
  const Box box = c.box;
  int charged = 0;
  for (int i = 0; i < c.beads.n_owned; ++i) charged |= c.beads.charge[i] != 0.0;
  MPI_Allreduce(MPI_IN_PLACE, &charged, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
  std::optional<CoulombParams> p;
  if (charged) p = coulomb_params(box, accuracy, 0.0, 1.0, 0.5 * box.len.minCoeff() - kSkin, 16, CoulombSolver::fft);
  System sys(MPI_COMM_WORLD, box, model_by_name(model), kSkin, {0, 0, 0}, p ? p->cutoff : 0.0);
  sys.set_beads(std::move(c.beads));
  const std::shared_ptr<ActiveCoulomb> term = p ? activate_coulomb(sys, *p, kSkin) : nullptr;
  MolecularDynamics md(sys, MDParams{.dt = dt, .langevin = false, .friction = 0.0, .seed = 1});
  std::vector<std::array<double, 3>> energies;
  auto record = [&](long step) {
    const Thermo t = sys.thermo();
    energies.push_back({static_cast<double>(step), t.potential, t.kinetic});
  };
  record(0);
  md.run(
      steps, [](long) { return 0.0; }, record, every);
  const GlobalBeads g = gather_by_id(sys.beads(), MPI_COMM_WORLD);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) return;
  std::FILE* f = std::fopen(out.c_str(), "w");
  if (!f) throw Error(out + ": cannot create");
  std::fprintf(f, "# step potential kinetic\n");
  for (const auto& e : energies) std::fprintf(f, "%ld %.17g %.17g\n", static_cast<long>(e[0]), e[1], e[2]);
  std::fprintf(f, "# id x y z vx vy vz\n");
  for (std::size_t k = 0; k < g.size(); ++k) {
    const Vec3 x =
        g.pos[k] + Vec3(g.image[k][0] * box.len.x(), g.image[k][1] * box.len.y(), g.image[k][2] * box.len.z());
    std::fprintf(f, "%zu %.17g %.17g %.17g %.17g %.17g %.17g\n", k + 1, x.x(), x.y(), x.z(), g.vel[k].x(), g.vel[k].y(),
                 g.vel[k].z());
  }
  std::fclose(f);
}

}  // namespace

int main(int argc, char** argv) {
  // PETSc owns MPI_Init (the fft solver is PETSc's FFTW interface).
  if (PetscInitialize(&argc, &argv, nullptr, nullptr) != 0) return 1;
  int rc = 0;
  try {
    run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nve_trajectory_tool: %s\n", e.what());
    rc = 1;
  }
  if (rc != 0) MPI_Abort(MPI_COMM_WORLD, rc);
  PetscFinalize();
  return 0;
}
