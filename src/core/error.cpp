// The two error paths of include/tlsmap/core/error.hpp.
#include "tlsmap/core/error.hpp"

#include <climits>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace tlsmap {

void agree(MPI_Comm comm, bool ok, const std::string& message_if_not) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  // The lowest failing rank speaks for all: deterministic, and one message instead of n.
  int mine = ok ? INT_MAX : rank, lowest = INT_MAX;
  MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, comm);
  if (lowest == INT_MAX) return;
  std::string msg = rank == lowest ? message_if_not : std::string();
  unsigned long n = msg.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG, lowest, comm);
  msg.resize(n);
  MPI_Bcast(msg.data(), int(n), MPI_CHAR, lowest, comm);
  throw Error("[rank " + std::to_string(lowest) + "] " + msg);
}

void abort_all(MPI_Comm comm, const std::string& message) {
  int rank = -1, initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  const bool mpi_up = initialized && !finalized;
  if (mpi_up) MPI_Comm_rank(comm, &rank);
  fmt::print(stderr, "tlsmap: fatal error on rank {}: {}\n", rank, message);
  std::fflush(stderr);
  if (mpi_up) MPI_Abort(comm, 1);
  std::abort();  // MPI_Abort is not declared noreturn; outside MPI this is the abort
}

}  // namespace tlsmap
