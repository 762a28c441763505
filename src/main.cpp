// tlsmap command line: `tlsmap <stage> <input.toml> [PETSc options]`.
// Every stage reads the same input file; the input names the HDF5 output file, to which each stage
// adds its group. Errors that every rank sees (bad input, impossible values) print one message on
// rank 0 and exit with status 1 on all ranks; anything else aborts the whole job with the rank's
// message, so a job never hangs on an error.
#include "tlsmap/core/error.hpp"
#include "tlsmap/core/kernel_isa.hpp"
#include "tlsmap/core/petsc_util.hpp"
#include "tlsmap/io/h5md.hpp"
#include "tlsmap/io/input.hpp"
#include "tlsmap/io/validate.hpp"
#include "tlsmap/md/pair_potential.hpp"
#include "tlsmap/stages/charge.hpp"
#include "tlsmap/stages/dipole_stage.hpp"
#include "tlsmap/stages/energy_cli.hpp"
#include "tlsmap/stages/interact_stage.hpp"
#include "tlsmap/stages/pack.hpp"
#include "tlsmap/stages/pairs_stage.hpp"
#include "tlsmap/stages/search_stage.hpp"

#include <petscsys.h>

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace {

struct Stage {
  const char* name;
  const char* summary;
  std::function<void(const tlsmap::Input&, MPI_Comm)> run;
  bool composite = false;  // runs other stages, each under its own log stage
  bool bonded = false;     // supports bonded models (polar-dimers)
};

const std::vector<Stage>& stages();

// Runs a stage under its PETSc log stage of the same name, so that -log_view times every pipeline
// stage apart (docs/profiling.md); a composite stage's parts each push their own.
void run_stage(const Stage& s, const tlsmap::Input& in, MPI_Comm comm) {
  if (s.composite) return s.run(in, comm);
  // The stages after pack know nothing of bonds yet (their local models would drop them): stop
  // before they run rather than compute a different model.
  const std::string model = in.get_string("system.model");
  if (!s.bonded && tlsmap::model_by_name(model).has_bonds())
    throw tlsmap::Error(std::string("stage '") + s.name + "' does not support system.model = \"" + model +
                        "\" yet (bonded molecules: every stage but charge; docs/polar.md)");
  const tlsmap::ScopedLogStage log_stage(s.name);
  s.run(in, comm);
}

void run_stage(const std::string& name, const tlsmap::Input& in, MPI_Comm comm) {
  for (const auto& s : stages())
    if (name == s.name) return run_stage(s, in, comm);
  throw tlsmap::Error("unknown stage '" + name + "'");
}

// `tlsmap run`: every stage's input checks before the first stage runs, so that a bad [search] or
// [interact] key stops the job at once, not after hours of pack. The box-dependent checks of the
// search use the box pack will make (none when pack.from imports a glass: its box is in the file).
void check_run_input(const tlsmap::Input& in, bool bonded) {
  const tlsmap::PackParams p = tlsmap::PackParams::from_input(in);
  if (!bonded) tlsmap::check_charge_input(in);
  std::optional<tlsmap::Box> box;
  if (p.from.empty()) box = tlsmap::packing_box(p.n_beads, p.density, p.aspect);
  tlsmap::check_search_input(in, box);
  tlsmap::check_dipole_input(in);
  tlsmap::check_interact_input(in);
}

const std::vector<Stage>& stages() {
  static const std::vector<Stage> s = {
      {"pack", "make an amorphous packing: equilibrate, quench, minimise; writes /particles", tlsmap::run_pack, false,
       true},
      {"charge", "pair beads into bonds and give them +-zeta charges; writes /charge", tlsmap::run_charge},
      {"search", "TLS search over domains: pairs of minima, barriers, splittings; writes /tls, /search",
       tlsmap::run_search, false, true},
      {"pairs", "TLS rows from state pairs made elsewhere ([pairs] list); writes /particles, /tls, /pairs",
       tlsmap::run_pairs, false, true},
      {"dipole", "transition dipoles mu_direct and Eq. 13 of every TLS; writes /tls/mu_*", tlsmap::run_dipole, false,
       true},
      {"interact", "TLS-TLS couplings J_el, J_dd, J_mech; writes /interactions", tlsmap::run_interact, false, true},
      {"run",
       "the whole pipeline on one input (currently: pack, charge, search, dipole, interact; bonded models carry "
       "their charges: pack, search, dipole, interact)",
       [](const tlsmap::Input& in, MPI_Comm comm) {
         const bool bonded = tlsmap::model_by_name(in.get_string("system.model")).has_bonds();
         check_run_input(in, bonded);
         const std::vector<std::string> parts =
             bonded ? std::vector<std::string>{"pack", "search", "dipole", "interact"}
                    : std::vector<std::string>{"pack", "charge", "search", "dipole", "interact"};
         for (const auto& part : parts) run_stage(part, in, comm);
       },
       true},
  };
  return s;
}

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: tlsmap <stage> <input.toml> [PETSc options]\n"
               "       tlsmap energy FILE [--json] [--forces OUT] [--lammps OUT] [--model NAME]\n"
               "                          [--accuracy A] [--cutoff R] [--epsilon E] [--coulomb-solver fft|mg]\n"
               "       tlsmap --help | --help-input | --version\n\n"
               "stages:\n");
  for (const auto& s : stages()) std::fprintf(out, "  %-8s %s\n", s.name, s.summary);
  std::fprintf(out,
               "\nThe input file is TOML; `tlsmap --help-input` lists every key with its default, range and unit\n"
               "(reduced Lennard-Jones units throughout). The output file is [run] output.\n"
               "Run in parallel with mpiexec -n P tlsmap ...; options starting with '-' after the input go to\n"
               "PETSc (e.g. -log_view, -options_left).\n"
               "The force and neighbour-list loops run in the best instruction-set variant of the CPU (bitwise\n"
               "the same results in every variant); TLSMAP_KERNEL_ISA=generic|x86-64-v3|x86-64-v4 picks one,\n"
               "`tlsmap --version` names the one in use.\n");
}

// Whether an MPI launcher (mpiexec of Open MPI or MPICH, Slurm's srun) started this process: read
// before MPI_Init, which may set some of these variables itself.
bool started_by_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "SLURM_STEP_ID"})
    if (std::getenv(v)) return true;
  return false;
}

// A launcher killed by SIGKILL cannot stop its ranks, which would run on as orphans (and keep their
// "<output>.tmp"). Ask Linux to send this rank SIGTERM when its parent (the launcher, or its
// daemon) dies, so the SIGTERM handler removes the temp file and the rank ends. `parent` is
// getppid() at the start of main: if it has changed by now, the launcher died before the request
// took effect, and the rank ends the same way. Not for a process started by hand (`nohup tlsmap`
// would die with its shell).
void end_with_launcher(pid_t parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) return;  // not Linux-like: keep the old behaviour
  if (getppid() != parent) std::raise(SIGTERM);
}

}  // namespace

extern "C" void on_termination_signal(int sig);   // the SIGTERM/SIGINT handler (C linkage)
extern "C" void on_termination_signal(int sig) {  // async-signal-safe calls only
  tlsmap::remove_uncommitted_temporaries();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

int main(int argc, char** argv) {
  // Informational flags need no MPI.
  if (argc >= 2 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) {
    usage(stdout);
    return 0;
  }
  if (argc >= 2 && !std::strcmp(argv[1], "--help-input")) {
    std::fputs(tlsmap::schema_help(tlsmap::default_schema()).c_str(), stdout);
    return 0;
  }
  if (argc >= 2 && !std::strcmp(argv[1], "--version")) {
    try {
      std::printf("tlsmap 0.1.0 (kernels: %s)\n", tlsmap::to_string(tlsmap::kernel_isa()).c_str());
    } catch (const tlsmap::Error& e) {
      std::fprintf(stderr, "tlsmap: error: %s\n", e.what());
      return 1;
    }
    return 0;
  }
  const pid_t parent = getppid();
  const bool launched = started_by_launcher();
  if (PetscInitialize(&argc, &argv, nullptr, nullptr) != 0) return 1;
  // After PETSc's own handlers: a batch system's SIGTERM (time limit) or a Ctrl-C must not leave
  // "<output>.tmp" behind; the handler removes it and dies of the signal as before.
  for (int sig : {SIGTERM, SIGINT}) std::signal(sig, on_termination_signal);
  if (launched) end_with_launcher(parent);
  // A file-size limit (ulimit -f) must not kill a rank with SIGXFSZ: ignored, the write fails with
  // EFBIG like a full disk, and the file layer turns that into an error (the old file kept).
  std::signal(SIGXFSZ, SIG_IGN);
  {  // every rank registers tlsmap's log stages and events in the same order (-log_view)
    std::vector<std::string> log_stages;
    for (const auto& s : stages())
      if (!s.composite) log_stages.emplace_back(s.name);
    log_stages.emplace_back("energy");
    tlsmap::register_petsc_logging(log_stages);
  }
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int status = 0;
  try {
    tlsmap::kernel_isa();  // a bad TLSMAP_KERNEL_ISA stops every rank here, before any work
    if (argc >= 2 && !std::strcmp(argv[1], "energy")) {  // takes a configuration, not an input
      const tlsmap::ScopedLogStage log_stage("energy");
      tlsmap::run_energy(std::vector<std::string>(argv + 2, argv + argc), MPI_COMM_WORLD);
    } else if (argc < 3 || argv[1][0] == '-' || argv[2][0] == '-') {
      if (rank == 0) usage(stderr);
      status = 2;
    } else {
      const Stage* stage = nullptr;
      for (const auto& s : stages())
        if (std::string(argv[1]) == s.name) stage = &s;
      if (!stage) throw tlsmap::Error(std::string("unknown stage '") + argv[1] + "' (see tlsmap --help)");
      // read_input_file: Input::parse, refusing FIFOs, deep nesting and a run.output that is the input.
      tlsmap::Input in = tlsmap::read_input_file(MPI_COMM_WORLD, argv[2], tlsmap::default_schema());
      run_stage(*stage, in, MPI_COMM_WORLD);
    }
  } catch (const tlsmap::Error& e) {
    // Raised on every rank alike (the Error contract): one message, a clean exit everywhere.
    if (rank == 0) std::fprintf(stderr, "tlsmap: error: %s\n", e.what());
    status = 1;
  } catch (const std::exception& e) {
    tlsmap::abort_all(MPI_COMM_WORLD, e.what());
  }
  // A file that failed to close (disk full) leaves HDF5 unable to finalize (h5md.hpp): then every
  // rank ends here with its status, without MPI_Finalize; the temp file is already removed.
  int close_failed = tlsmap::hdf5_close_failed();
  MPI_Allreduce(MPI_IN_PLACE, &close_failed, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
  if (close_failed) {
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(status != 0 ? status : 1);
  }
  PetscFinalize();
  return status;
}
