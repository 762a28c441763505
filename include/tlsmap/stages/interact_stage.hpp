#pragma once
// Stage 5, `tlsmap interact` (src/stages/interact_stage.cpp; the physics is
// include/tlsmap/couplings/interact.hpp and far_field.hpp).
#include <mpi.h>

namespace tlsmap {

class Input;

// Reads /particles and /tls from [run] output, writes /interactions and /material (atomically).
void run_interact(const Input& in, MPI_Comm comm);

// The stage's input checks alone (Input::fail on a bad key), for `tlsmap run` before its first stage.
void check_interact_input(const Input& in);

}  // namespace tlsmap
