#pragma once
// Bead storage on one rank, struct-of-arrays. Owned beads come first, [0, n_owned), ghost copies
// after, [n_owned, n_owned + n_ghost). Per-bead dynamical state (vel, image) is meaningful for owned
// beads only; force is written for owned beads only (full neighbour lists, no reverse
// communication). Every per-bead field travels with a bead on migration; pos, species, charge, id
// (and diameter) are also copied to ghosts.
//
// The diameter is used by models with per-bead diameters only (pair_potential.hpp). It is a flag
// and a vector that stays empty otherwise, so species models carry no extra bytes through
// migration and ghost exchange; has_diameter must be the same on every rank (System sets it).
#include "tlsmap/core/vec3.hpp"

#include <cstdint>
#include <vector>

namespace tlsmap {

struct Beads {
  std::vector<Vec3> pos;         // wrapped into the box for owned beads; ghosts carry the periodic shift
  std::vector<Vec3> vel;         // owned only
  std::vector<Vec3> force;       // owned only
  std::vector<Int3> image;       // owned only: unwrapped = pos + image * box.len
  std::vector<int> species;      // 0-based species index
  std::vector<double> charge;    // partial charge (reduced units, ζq)
  std::vector<std::int64_t> id;  // permanent id, 1-based as in LAMMPS
  std::vector<double> diameter;  // per-bead diameter σ_i, owned and ghosts; empty unless has_diameter
  bool has_diameter = false;
  // Bonded models (one bond per bead, a diatomic molecule): the id of the bead's bond partner, 0 for
  // none. Owned beads only (the partner is found among owned beads and ghosts by id); travels with
  // migration; empty unless has_partner, which must be the same on every rank (System sets it).
  std::vector<std::int64_t> partner;
  bool has_partner = false;
  // Optional per-bead payload of n_extra doubles (owned only) that travels with the bead on
  // migration: algorithms that keep per-bead history (reference positions, minimiser memory) use it.
  std::vector<double> extra;
  int n_extra = 0;
  int n_owned = 0;
  int n_ghost = 0;

  int n_local() const { return n_owned + n_ghost; }

  // Resize every array to n (new entries zero), keeping n_owned = n, no ghosts.
  void resize_owned(int n);
  // Keep the first n owned beads, drop the rest and all ghosts.
  void truncate_owned(int n);
  // Drop ghosts (arrays keep capacity).
  void clear_ghosts();
  // Append one owned bead (only valid while there are no ghosts); d is its diameter (kept only if
  // has_diameter).
  void push_owned(const Vec3& x, int species_, double q, std::int64_t id_, const Vec3& v = Vec3::Zero(),
                  const Int3& img = {0, 0, 0}, double d = 0.0);
  // Give every owned bead a diameter slot (0) if it has none: has_diameter becomes true.
  void enable_diameter();
  // Give every owned bead a partner slot (0) if it has none: has_partner becomes true.
  void enable_partner();
};

}  // namespace tlsmap
