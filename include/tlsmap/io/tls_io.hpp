#pragma once
// The /tls datasets the dipole and interact stages read (I/O layer: include/tlsmap/io/h5md.hpp), as
// the replicated TlsSet of include/tlsmap/io/catalogue.hpp.
#include "tlsmap/io/catalogue.hpp"
#include "tlsmap/io/h5md.hpp"

#include <cstdint>

namespace tlsmap {

// Collective. Reads /tls/{center, radius, mobile_offset, mobile_id, position_a, position_b}; throws
// Error naming the dataset if one is missing or inconsistent (shapes, offsets, ids outside 1..n_beads).
TlsSet read_tls_set(Hdf5File& file, std::int64_t n_beads);
// Collective. Writes the same six datasets, replacing them if present (test fixtures; the search
// stage writes the real ones).
void write_tls_set(Hdf5File& file, const TlsSet& tls);

}  // namespace tlsmap
