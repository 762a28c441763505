#pragma once
// Global sums that do not depend on how the terms are distributed over ranks or ordered.
//
// Floating-point addition is not associative, so an MPI_SUM of per-rank partial sums changes in
// the last bits with the rank count, and a minimiser steering on such sums (FIRE's power F·v)
// would follow a different path at each rank count. Here every term is rounded to a fixed-point
// grid (a power of two chosen from the global max |term| and the global term count so that no
// sum can overflow 63 bits) and summed as int64 — exactly, hence in any order. The price is a
// relative precision of about n_terms · 2^-62 with respect to the largest term (1e-13 for a
// million terms) and one extra MPI_Allreduce of the maxima.
#include <mpi.h>

#include <span>
#include <vector>

namespace tlsmap {

// This process's rank in comm, and comm's size.
inline int comm_rank(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}
inline int comm_size(MPI_Comm comm) {
  int p = 1;
  MPI_Comm_size(comm, &p);
  return p;
}

// Collective. Returns, on every rank, the reproducible global sum of each list of local terms.
std::vector<double> reproducible_sums(MPI_Comm comm, const std::vector<std::span<const double>>& terms);

inline double reproducible_sum(MPI_Comm comm, std::span<const double> terms) {
  return reproducible_sums(comm, {terms})[0];
}

}  // namespace tlsmap
