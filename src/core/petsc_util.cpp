// PETSc error bridge and log registry (see include/tlsmap/core/petsc_util.hpp).
#include "tlsmap/core/petsc_util.hpp"

#include "tlsmap/core/error.hpp"

#include <array>
#include <map>

namespace tlsmap {

namespace {

constexpr std::array<const char*, static_cast<int>(LogEvent::count)> kEventNames = {
    "NeighborBuild",   "HaloMigrate",  "HaloGhosts",   "HaloUpdate",     "Forces",
    "HessianAssembly", "DomainSearch", "HDF5Write",    "HDF5Read",       "PoissonSetUp",
    "PoissonSpread",   "PoissonSolve", "PoissonField", "PoissonIntegral"};

bool petsc_up() { return PetscInitializeCalled && !PetscFinalizeCalled; }

struct EventIds {
  std::array<PetscLogEvent, static_cast<int>(LogEvent::count)> id{};
};

// Registered once per process, on the first call inside PetscInitialize .. PetscFinalize (all at
// once, in enum order, so every rank numbers them alike whichever event it meets first).
const EventIds& event_ids() {
  static const EventIds ids = [] {
    EventIds e;
    PetscClassId cid;
    PetscCallAbort(PETSC_COMM_SELF, PetscClassIdRegister("tlsmap", &cid));
    for (std::size_t k = 0; k < kEventNames.size(); ++k)
      PetscCallAbort(PETSC_COMM_SELF, PetscLogEventRegister(kEventNames[k], cid, &e.id[k]));
    return e;
  }();
  return ids;
}

// Stages by name, registered on first use (no threads: tlsmap is MPI only).
std::map<std::string, PetscLogStage>& stage_ids() {
  static std::map<std::string, PetscLogStage> m;
  return m;
}

PetscLogStage stage_id(const std::string& name) {
  auto& m = stage_ids();
  auto it = m.find(name);
  if (it != m.end()) return it->second;
  PetscLogStage s = -1;
  PetscCallAbort(PETSC_COMM_SELF, PetscLogStageRegister(name.c_str(), &s));
  m.emplace(name, s);
  return s;
}

}  // namespace

void petsc_check(PetscErrorCode code, const char* what) {
  if (code) throw Error(std::string("PETSc error ") + std::to_string(static_cast<int>(code)) + " in " + what);
}

const char* log_event_name(LogEvent e) { return kEventNames.at(static_cast<std::size_t>(e)); }

void register_petsc_logging(const std::vector<std::string>& stage_names) {
  if (!petsc_up()) return;
  event_ids();
  for (const std::string& s : stage_names) stage_id(s);
}

namespace detail {
PetscLogEvent log_event_id(LogEvent e) noexcept {
  if (!petsc_up()) return -1;
  return event_ids().id[static_cast<std::size_t>(e)];
}
}  // namespace detail

ScopedLogStage::ScopedLogStage(const std::string& name) {
  if (!petsc_up()) return;
  PetscCallAbort(PETSC_COMM_SELF, PetscLogStagePush(stage_id(name)));
  pushed_ = true;
}

ScopedLogStage::~ScopedLogStage() {
  if (pushed_ && petsc_up()) PetscCallAbort(PETSC_COMM_SELF, PetscLogStagePop());
}

}  // namespace tlsmap
