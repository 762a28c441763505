#pragma once
// Two kinds of error (the LAMMPS distinction):
//  * Error: every rank reaches the same conclusion (bad input parsed identically on all ranks,
//    a collective check). Thrown on all ranks; main() prints it once (rank 0) and exits non-zero.
//  * A problem one rank sees (a lost bead, a local solver failure): call agree() at the next
//    collective point so every rank throws together, or abort_all() when there is no such point.
#include <mpi.h>

#include <stdexcept>
#include <string>

namespace tlsmap {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Collective: if any rank passes ok == false, every rank throws Error. The message is that of the
// lowest failing rank, prefixed with its rank number, so the user sees one clear line.
void agree(MPI_Comm comm, bool ok, const std::string& message_if_not);

// Not collective: print "[rank r] message" and MPI_Abort the whole job (no deadlock possible).
[[noreturn]] void abort_all(MPI_Comm comm, const std::string& message);

}  // namespace tlsmap
