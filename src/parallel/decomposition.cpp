#include "tlsmap/parallel/decomposition.hpp"

#include "tlsmap/core/error.hpp"

#include <algorithm>
#include <numeric>
#include <sstream>

namespace tlsmap {

Decomposition::Decomposition(MPI_Comm comm, const Box& box, Int3 dims) : box_(box) {
  int size = 0;
  MPI_Comm_size(comm, &size);
  int n_fixed = 1;
  for (int d : dims) {
    if (d < 0) throw Error("process grid entries must be >= 0 (0 = automatic)");
    if (d > 0) n_fixed *= d;
  }
  if (size % n_fixed != 0) {
    std::ostringstream msg;
    msg << "process grid " << dims[0] << "x" << dims[1] << "x" << dims[2] << " does not divide " << size << " ranks";
    throw Error(msg.str());
  }
  // MPI_Dims_create fills the free entries in non-increasing order; hand the largest counts to the
  // longest free box edges so subdomains stay as cubic as possible.
  int free_dims[3] = {0, 0, 0};
  int n_free = 0;
  for (int d : dims) n_free += (d == 0);
  if (n_free > 0) {
    MPI_Dims_create(size / n_fixed, n_free, free_dims);
    std::array<int, 3> order{0, 1, 2};
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return box.len[a] > box.len[b]; });
    int k = 0;
    for (int d : order)
      if (dims[d] == 0) dims[d] = free_dims[k++];
  }
  if (dims[0] * dims[1] * dims[2] != size) {
    std::ostringstream msg;
    msg << "process grid " << dims[0] << "x" << dims[1] << "x" << dims[2] << " needs " << dims[0] * dims[1] * dims[2]
        << " ranks, the job has " << size;
    throw Error(msg.str());
  }
  dims_ = dims;
  // (z, y, x) order: MPI's row-major rank numbering becomes x-fastest, as in PETSc.
  int cart_dims[3] = {dims[2], dims[1], dims[0]};
  int periods[3] = {1, 1, 1};
  MPI_Cart_create(comm, 3, cart_dims, periods, /*reorder=*/0, &cart_);
  MPI_Comm_rank(cart_, &rank_);
  MPI_Comm_size(cart_, &size_);
  int c[3];
  MPI_Cart_coords(cart_, rank_, 3, c);
  coords_ = {c[2], c[1], c[0]};
  for (int d = 0; d < 3; ++d) MPI_Cart_shift(cart_, 2 - d, 1, &lower_[d], &upper_[d]);
  for (int d = 0; d < 3; ++d) {
    sub_lo_[d] = boundary(d, coords_[d]);
    sub_hi_[d] = boundary(d, coords_[d] + 1);
  }
}

Decomposition::~Decomposition() {
  if (cart_ != MPI_COMM_NULL) MPI_Comm_free(&cart_);
}

double Decomposition::boundary(int d, int k) const {
  if (k == dims_[d]) return box_.lo[d] + box_.len[d];
  return box_.lo[d] + box_.len[d] * k / dims_[d];
}

int Decomposition::owner_coord(int d, double x) const {
  int k = static_cast<int>((x - box_.lo[d]) / box_.len[d] * dims_[d]);
  k = std::clamp(k, 0, dims_[d] - 1);
  // The estimate can be one slab off at a boundary; settle it with the exact boundary formula.
  while (k > 0 && x < boundary(d, k)) --k;
  while (k < dims_[d] - 1 && x >= boundary(d, k + 1)) ++k;
  return k;
}

int Decomposition::owner_rank(const Vec3& x) const {
  int c[3] = {owner_coord(2, x[2]), owner_coord(1, x[1]), owner_coord(0, x[0])};
  int r = 0;
  MPI_Cart_rank(cart_, c, &r);
  return r;
}

bool Decomposition::owns(const Vec3& x) const {
  for (int d = 0; d < 3; ++d)
    if (x[d] < sub_lo_[d] || x[d] >= sub_hi_[d]) return false;
  return true;
}

}  // namespace tlsmap
