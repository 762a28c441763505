#pragma once
// Spatial domain decomposition: geometry and ranks only, no beads.
//
// The box is cut into dims[0] x dims[1] x dims[2] equal subdomains (MPI_Dims_create chooses the
// counts; the largest count goes to the longest box edge). The Cartesian communicator is created
// with its dimensions listed as (z, y, x), so that MPI's row-major rank order is x-fastest — the
// order PETSc's DMDA uses. A DMDA built on comm() with (dims[0], dims[1], dims[2]) processes
// therefore puts the same piece of space on the same rank as the beads (checked in the
// electrostatics set-up).
//
// Subdomain boundaries are computed by one formula, boundary(d, k), everywhere, so ownership
// tests agree bit for bit between neighbouring ranks.
#include "tlsmap/core/box.hpp"

#include <mpi.h>

namespace tlsmap {

class Decomposition {
 public:
  // dims entries of 0 are chosen automatically. Collective over comm. Throws Error if the
  // requested grid does not match the communicator size.
  Decomposition(MPI_Comm comm, const Box& box, Int3 dims = {0, 0, 0});
  ~Decomposition();
  Decomposition(const Decomposition&) = delete;
  Decomposition& operator=(const Decomposition&) = delete;

  MPI_Comm comm() const { return cart_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  const Box& box() const { return box_; }
  const Int3& dims() const { return dims_; }
  const Int3& coords() const { return coords_; }

  // Rank of the neighbour one step in direction dir (-1 or +1) along dimension d (periodic).
  int neighbor(int d, int dir) const { return dir < 0 ? lower_[d] : upper_[d]; }

  // Lower edge of slab k (0..dims[d]) along d; boundary(d, dims[d]) = box.lo + box.len.
  double boundary(int d, int k) const;
  Vec3 sub_lo() const { return sub_lo_; }
  Vec3 sub_hi() const { return sub_hi_; }
  Vec3 sub_len() const { return sub_hi_ - sub_lo_; }

  // Slab index along d that owns coordinate x (x must be inside the box).
  int owner_coord(int d, double x) const;
  // Rank owning a position inside the box.
  int owner_rank(const Vec3& x) const;
  bool owns(const Vec3& x) const;

 private:
  Box box_;
  MPI_Comm cart_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  Int3 dims_{1, 1, 1}, coords_{0, 0, 0}, lower_{0, 0, 0}, upper_{0, 0, 0};
  Vec3 sub_lo_, sub_hi_;
};

}  // namespace tlsmap
