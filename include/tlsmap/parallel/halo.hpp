#pragma once
// Halo exchange: the one mechanism that moves beads between ranks.
//
//  migrate()      wrap owned beads into the box and send each to the rank owning its position;
//                 a bead may cross any number of subdomains (it is forwarded hop by hop along
//                 each dimension until it arrives). Drops all ghosts.
//  build_ghosts() for dimensions x, y, z in turn, send copies of beads within `cutoff` of each face
//                 to the neighbour across it; ghosts received along x are forwarded along y and z,
//                 so edge and corner regions need no diagonal messages. When the cutoff exceeds
//                 the subdomain width, the exchange along a dimension repeats in hops, each
//                 forwarding what the previous hop received. The periodic shift (±box length) is
//                 applied when a copy crosses the global boundary, so force kernels never apply
//                 minimum images. The send lists are stored. Ghosts carry position, species,
//                 charge, id, and the diameter when the beads have one (Beads::has_diameter).
//  update_ghosts() replays the stored lists to refresh ghost positions only (between rebuilds).
//  forward()      replays them for any per-bead vector (sized n_local, owned entries set): each ghost
//                 gets its bead's value, unshifted (LAMMPS's forward communication).
//
// Trade-off: ghost copies are never sent back (no reverse force communication); the neighbour
// list is full and each rank computes forces on its own beads only. Twice the pair work of a
// half list, but no second message per step and force sums that do not depend on the rank count.
#include "tlsmap/parallel/beads.hpp"
#include "tlsmap/parallel/decomposition.hpp"

#include <vector>

namespace tlsmap {

class Halo {
 public:
  // Throws Error if the box is too small for the cutoff (needs every edge >= 2 * cutoff).
  Halo(const Decomposition& decomp, double cutoff);

  void migrate(Beads& beads) const;
  void build_ghosts(Beads& beads);
  void update_ghosts(Beads& beads) const;
  void forward(std::vector<Vec3>& values) const;

  double cutoff() const { return cutoff_; }
  // Number of exchange hops along each dimension (1 unless cutoff > subdomain width).
  const Int3& hops() const { return hops_; }

 private:
  struct Swap {
    int dim, dir;                 // send towards dir (-1/+1) along dim
    double shift;                 // added to the sent coordinate (±box length across the boundary)
    std::vector<int> send_index;  // local indices sent
    int recv_first = 0, n_recv = 0;
  };
  const Decomposition& decomp_;
  double cutoff_;
  Int3 hops_{1, 1, 1};
  std::vector<Swap> swaps_;

  void replay(std::vector<Vec3>& values, bool shift) const;
};

}  // namespace tlsmap
