#pragma once
// Close pairs of a set of points in a periodic box, serially: the cell scan behind the bead pairing of
// `tlsmap charge` (every bond candidate) and the input checks (the first coincident pair).
#include "tlsmap/core/box.hpp"

#include <cstddef>
#include <functional>
#include <span>

namespace tlsmap {

// Calls visit(i, j, r²) for every pair i < j of positions closer than `cutoff` under minimum image,
// each pair once, until visit returns false. Cells are at least `cutoff` wide and at most 2^20 per
// edge; only occupied cells are stored, so memory is O(N) for any box. The order of the visits is a
// function of the positions and the box alone (sorted cell keys, then position order within a cell).
// Positions need not be wrapped but must be finite and within 2^20 box lengths of the box.
void for_each_close_pair(std::span<const Vec3> pos, const Box& box, double cutoff,
                         const std::function<bool(std::size_t, std::size_t, double)>& visit);

}  // namespace tlsmap
