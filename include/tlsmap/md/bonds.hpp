#pragma once
// Harmonic bonds of diatomic molecules (model "polar-dimers"): u(r) = ½ k (r − r0)² between a bead
// and its partner (Beads::partner, by id). The bonded pair does not interact through the pair model
// (as LAMMPS's default special_bonds 0 0 0): the pair loop runs over full neighbour lists that
// include the partner, and add_bond_terms subtracts that pair term again, which costs the loop no
// test per pair. (The Coulomb exclusion is the active Coulomb term's business.)
//
// The partner is resolved by id among the owned beads and ghosts at every rebuild: the ghost range
// r_c + skin is several bond lengths, so the partner is always present, and its nearest copy is
// the one in the same molecule (periodic copies are ≥ 2 (r_c + skin) apart). Each owned bead adds
// the force on itself, half the bond energy and half its virial (no reverse communication), as in
// the pair loop.
#include "tlsmap/md/forces.hpp"
#include "tlsmap/md/pair_potential.hpp"
#include "tlsmap/parallel/beads.hpp"

#include <cstdint>
#include <vector>

namespace tlsmap {

// Local index (owned or ghost) of each owned bead's partner: its nearest copy; −1 without partner.
// Returns the id of an owned bead whose partner is not among the local beads (0: all found).
std::int64_t resolve_partners(const Beads& b, std::vector<int>& partner_local);

// Adds the bond force, half the bond energy and half the bond virial to each owned bead with a
// partner, and removes the bonded pair's term of `table` (the exclusion).
void add_bond_terms(const LJTable& table, const HarmonicBond& bond, const std::vector<int>& partner_local, Beads& b,
                    PerBeadTerms& terms);

}  // namespace tlsmap
