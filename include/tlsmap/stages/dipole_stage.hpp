#pragma once
// Stage 4, `tlsmap dipole` (src/stages/dipole_stage.cpp; the physics is include/tlsmap/couplings/dipole.hpp).
#include <mpi.h>

namespace tlsmap {

class Input;

// Reads /particles, /charge and /tls from [run] output, writes /tls/mu_direct, /tls/mu_eq13 and the
// dipole datasets of docs/file-format.md (atomically).
void run_dipole(const Input& in, MPI_Comm comm);

// The stage's input checks alone (Input::fail on a bad key), for `tlsmap run` before its first stage.
void check_dipole_input(const Input& in);

}  // namespace tlsmap
