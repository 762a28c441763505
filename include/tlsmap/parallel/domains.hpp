#pragma once
// Domains of the TLS search: where they are, and the local copy of the sample each one works on.
//
// A domain is a sphere of volume ξ³ (radius R_ξ = (3/(4π))^{1/3} ξ ≈ 0.620 ξ, the paper's
// "region of size ξ"). Centres sit on a simple-cubic lattice that tiles the periodic box: along
// each edge n_d = max(1, round(L_d / spacing)) sites at lo_d + (i + ½) L_d / n_d, so the lattice is
// commensurate with the box and the actual spacing is L_d / n_d (within a factor 1 ± 1/(2 n_d) of
// the requested one). With spacing = ξ the n_x n_y n_z domains of volume ξ³ sum to the box volume:
// the cubic cells tile the sample exactly (the spheres overlap a little at cell corners and leave
// the corners between them uncovered; both are properties of the paper's construction). Domain
// index = ix + n_x (iy + n_y iz), so the list is deterministic and independent of the ranks.
//
// The local copy of a domain (the paper's Ω_b construction): beads whose minimum-image distance to
// the centre is < R_ξ are mobile; beads at R_ξ ≤ r < R_ξ + shell are frozen; the rest are left out.
// A mobile bead relaxes by far less than r_c, so with shell ≥ 2 r_c every bead that can interact with
// a mobile bead (within r_c of it) is present, and the frozen beads that touch those are too. Beads
// are ordered mobile first, then frozen, each part by id; positions are those of the sample (wrapped
// into the box), and the local model measures pair distances by the minimum image, so a copy larger
// than the box (small samples) is simply the whole sample with a mobile sphere.
//
// Every function here is serial: the stage replicates the configuration on every rank once
// (gather_by_id, ~100 bytes per bead) and cuts local copies from it. Why that is fine: 32 000 beads
// are ~3 MB per rank, 10⁶ beads ~100 MB, and the copy is made once per run, while a domain's search
// costs seconds to minutes; fetching only the beads near the domains a rank will get is not possible
// up front with dynamic load balancing (nobody knows in advance which rank gets which domain).
#include "tlsmap/core/box.hpp"
#include "tlsmap/core/vec3.hpp"

#include <cstdint>
#include <vector>

namespace tlsmap {

// R_ξ: the radius of the sphere of volume ξ³.
double domain_radius(double xi);

class DomainGrid {
 public:
  DomainGrid() = default;
  // Throws Error if spacing <= 0, or if R_ξ is not below half the shortest box edge (the mobile
  // sphere must not meet its own periodic image).
  DomainGrid(const Box& box, double xi, double spacing);

  std::int64_t size() const { return static_cast<std::int64_t>(n_[0]) * n_[1] * n_[2]; }
  const Int3& counts() const { return n_; }
  Vec3 spacing() const;  // actual lattice spacing L_d / n_d
  double radius() const { return radius_; }
  double xi() const { return xi_; }
  const Box& box() const { return box_; }
  // Centre of domain `index` in [0, size()), inside the box.
  Vec3 center(std::int64_t index) const;

 private:
  Box box_;
  Int3 n_{1, 1, 1};
  double xi_ = 0.0, radius_ = 0.0;
};

// A domain's local copy: mobile beads [0, n_mobile), frozen beads after; each part sorted by id.
struct LocalCopy {
  Box box;
  Vec3 center = Vec3::Zero();
  double radius = 0.0, shell = 0.0;
  std::vector<std::int64_t> id;
  std::vector<int> species;
  std::vector<double> charge;
  std::vector<Vec3> pos;  // as in the sample (wrapped into the box)
  int n_mobile = 0;
  std::vector<double> diameter;       // per-bead diameters (models with diameters), else empty
  std::vector<std::int64_t> partner;  // bond partner ids (bonded models, 0: none), else empty
  int size() const { return static_cast<int>(id.size()); }
};

// Serial. pos/species/charge/diameter are indexed by id − 1 (as gather_by_id returns them); charge
// may be empty (zeros), diameter empty (a species model), partner empty (no bonds). Mobile:
// minimum-image distance² < R², or (bonded models) the partner's is: molecules move whole; frozen:
// R² ≤ d² < (R + shell)² otherwise.
LocalCopy local_copy(const Box& box, const std::vector<Vec3>& pos, const std::vector<int>& species,
                     const std::vector<double>& charge, const Vec3& center, double radius, double shell,
                     const std::vector<double>& diameter = {}, const std::vector<std::int64_t>& partner = {});

}  // namespace tlsmap
