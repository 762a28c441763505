#pragma once
// Small PETSc utilities shared by every part of tlsmap that talks to PETSc:
//
//  * PetscHandle<T, Destroy>: owns a PETSc object (DM, Vec, Mat, KSP, AO, ...) and destroys it.
//  * petsc_check(): the error bridge — a non-zero PetscErrorCode becomes tlsmap::Error at the C++
//    boundary (functions returning PetscErrorCode use PetscCall inside; destructors, which cannot
//    throw, use PetscCallAbort).
//  * The log registry: tlsmap's PETSc log stages (one per pipeline stage) and log events (neighbour
//    list, halo, forces, Hessian, domain search, HDF5, Poisson grid), so that -log_view accounts for
//    a whole run (docs/profiling.md). ScopedLogStage / ScopedLogEvent push/pop and begin/end them,
//    balanced on every path including exceptions. Both are no-ops when PETSc is not initialised
//    (unit tests of the engine, bench_forces), and PetscLogEventBegin costs a few loads and a
//    branch when -log_view is off. Timing only: nothing here touches the computation.
#include <petscdm.h>
#include <petscksp.h>

#include <string>
#include <utility>
#include <vector>

namespace tlsmap {

// Owns a PETSc object and destroys it (aborting on error: destructors cannot throw).
template <class T, PetscErrorCode (*Destroy)(T*)>
class PetscHandle {
 public:
  PetscHandle() = default;
  ~PetscHandle() { reset(); }
  PetscHandle(PetscHandle&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  PetscHandle& operator=(PetscHandle&& o) noexcept {
    if (this != &o) reset(), p_ = std::exchange(o.p_, nullptr);
    return *this;
  }
  void reset() {
    if (p_) PetscCallAbort(PETSC_COMM_WORLD, Destroy(&p_));
    p_ = nullptr;
  }
  T* out() {
    reset();
    return &p_;
  }  // for PETSc's XxxCreate(..., &out)
  operator T() const { return p_; }

 private:
  T p_ = nullptr;
};
using DMHandle = PetscHandle<DM, DMDestroy>;
using VecHandle = PetscHandle<Vec, VecDestroy>;
using MatHandle = PetscHandle<Mat, MatDestroy>;
using KSPHandle = PetscHandle<KSP, KSPDestroy>;

// Throws Error("PETSc error <code> in <what>") for a non-zero code: the C++ boundary.
void petsc_check(PetscErrorCode code, const char* what);

// ---- log registry -------------------------------------------------------------------------------

// tlsmap's log events; -log_view lists them under the names in the comments.
enum class LogEvent : int {
  neighbor_build,    // NeighborBuild    NeighborList::build
  halo_migrate,      // HaloMigrate      Halo::migrate
  halo_ghosts,       // HaloGhosts       Halo::build_ghosts
  halo_update,       // HaloUpdate       Halo::update_ghosts
  forces,            // Forces           System::compute_forces (pair forces, energies, virial)
  hessian_assembly,  // HessianAssembly  assemble_hessian
  domain_search,     // DomainSearch     search_domain (one domain of the event search)
  h5_write,          // HDF5Write        h5md writes (datasets, attributes, configurations) and commit
  h5_read,           // HDF5Read         h5md reads of datasets and configurations
  poisson_setup,     // PoissonSetUp     PoissonGrid construction (DMDAs, operators, KSP)
  poisson_spread,    // PoissonSpread    PoissonGrid::spread
  poisson_solve,     // PoissonSolve     PoissonGrid::solve
  poisson_field,     // PoissonField     PoissonGrid::field_at
  poisson_integral,  // PoissonIntegral  PoissonGrid::sphere_field_integral
  count
};
const char* log_event_name(LogEvent e);

// Registers every tlsmap log event, then the given stage names, in a fixed order. Call it on every
// rank right after PetscInitialize (main does), so that all ranks number them alike, which -log_view
// needs to line its tables up across ranks; without it events register on first use and stages on
// first push. Idempotent (names already registered are skipped); a no-op without PETSc.
void register_petsc_logging(const std::vector<std::string>& stage_names);

namespace detail {
// The PETSc id of an event (registering all events on first use), or -1 outside PetscInitialize
// .. PetscFinalize.
PetscLogEvent log_event_id(LogEvent e) noexcept;
}  // namespace detail

// PetscLogEventBegin on construction, PetscLogEventEnd on destruction (also during unwinding).
// Nesting an event in itself counts the outer one only (PETSc's own rule).
class ScopedLogEvent {
 public:
  explicit ScopedLogEvent(LogEvent e) noexcept : id_(detail::log_event_id(e)) {
    if (id_ >= 0) PetscCallAbort(PETSC_COMM_SELF, PetscLogEventBegin(id_, 0, 0, 0, 0));
  }
  ~ScopedLogEvent() {
    if (id_ >= 0) PetscCallAbort(PETSC_COMM_SELF, PetscLogEventEnd(id_, 0, 0, 0, 0));
  }
  ScopedLogEvent(const ScopedLogEvent&) = delete;
  ScopedLogEvent& operator=(const ScopedLogEvent&) = delete;

 private:
  PetscLogEvent id_;
};

// PetscLogStagePush of the stage `name` (registered on first use) on construction, PetscLogStagePop
// on destruction. The time of an enclosing stage stops while this one runs.
class ScopedLogStage {
 public:
  explicit ScopedLogStage(const std::string& name);
  ~ScopedLogStage();
  ScopedLogStage(const ScopedLogStage&) = delete;
  ScopedLogStage& operator=(const ScopedLogStage&) = delete;

 private:
  bool pushed_ = false;
};

}  // namespace tlsmap
