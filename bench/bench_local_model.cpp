// Cost of the search's local model on one domain of a packed sample: energy + gradient and the
// dense Hessian, without and with the active charges' shifted-force Coulomb (docs/polar.md).
//
//   bench_local_model FILE.h5 [--radius R] [--shell S] [--alpha A] [--repeat N]
//
// The domain is the sphere of radius R (default 3.41, the default input's R_ξ) at the box centre,
// with whole molecules when the file has bonds, and a frozen shell S (default 5 = the Coulomb
// cut-off, α = 1/S unless given). Charges from the file; the far-field forces are zero here (they cost one
// vector addition). Prints one line per variant: pairs in the list, ms per energy_gradient
// (mean of N calls at the start configuration, list kept), ms per Hessian.
#include "tlsmap/core/error.hpp"
#include "tlsmap/io/h5md.hpp"
#include "tlsmap/parallel/domains.hpp"
#include "tlsmap/parallel/gather.hpp"
#include "tlsmap/search/local_model.hpp"
#include "tlsmap/stages/search_stage.hpp"

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int status = 0;
  try {
    if (argc < 2) throw tlsmap::Error("usage: bench_local_model FILE.h5 [--radius R] [--shell S] [--repeat N]");
    double radius = 3.41, shell = 5.0, alpha = -1.0;
    int repeat = 200;
    for (int a = 2; a + 1 < argc; a += 2) {
      const std::string key = argv[a];
      if (key == "--radius") radius = std::atof(argv[a + 1]);
      else if (key == "--shell") shell = std::atof(argv[a + 1]);
      else if (key == "--repeat") repeat = std::atoi(argv[a + 1]);
      else if (key == "--alpha") alpha = std::atof(argv[a + 1]);
      else throw tlsmap::Error("unknown option " + key);
    }
    using namespace tlsmap;
    const Configuration c = read_configuration(argv[1], MPI_COMM_SELF);
    const GlobalBeads g = gather_by_id(c.beads, MPI_COMM_SELF);
    const bool bonded = !g.partner.empty();
    const LJTable table = bonded ? polar_dimer_table() : model_by_name("kob-andersen").table;
    const std::vector<Vec3> zero(g.size(), Vec3::Zero());
    const LocalCopy copy =
        local_copy(c.box, g.pos, g.species, g.charge, c.box.lo + 0.5 * c.box.len, radius, shell, {}, g.partner);
    for (bool charged : {false, true}) {
      LocalPhysics physics{HarmonicBond{kPolarDimerBondK, kPolarDimerBondLength}, {}, &zero};
      if (charged) physics.coulomb = ShiftedForceCoulomb(shell, alpha >= 0.0 ? alpha : 1.0 / shell, 1.0);
      const LocalModel m(local_config(copy, table, physics));
      const LocalModel::Vector x = m.initial_coordinates();
      LocalModel::Vector grad;
      m.energy_gradient(x, grad);  // builds the list
      double t0 = now_ms();
      for (int k = 0; k < repeat; ++k) m.energy_gradient(x, grad);
      const double t_grad = (now_ms() - t0) / repeat;
      t0 = now_ms();
      const LocalModel::Matrix h = m.hessian(x);
      const double t_hess = now_ms() - t0;
      std::printf("%-24s %d mobile, %d frozen: %.3f ms per energy_gradient, %.1f ms per Hessian (%lld entries)\n",
                  charged ? "with charges (R_c = S):" : "without charges:", m.n_mobile(), m.n_frozen(), t_grad, t_hess,
                  static_cast<long long>(h.size()));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_local_model: %s\n", e.what());
    status = 1;
  }
  MPI_Finalize();
  return status;
}
