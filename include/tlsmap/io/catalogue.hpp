#pragma once
// The TLS catalogue (/tls): one row per rearrangement of a glass, and the one schema that says what
// a row holds.
//
// Why a schema: a row travels between ranks as bytes, is written to and read back from HDF5 (a
// resumed search reads its own catalogue), and its layout enters the resume fingerprint. Listing
// the fields by hand in each of those places made every new column five edits, each of which could
// be forgotten. Here every column is declared once, in tls_schema() (catalogue.cpp): its HDF5
// name, its unit and the TlsRow member it holds; transport, HDF5 write, HDF5 read and the
// signature are loops over that table. Adding a column is one member plus one table line.
//
// Row kinds. Scalar columns are datasets of shape (n) or, for a Vec3, (n, 3); string columns are
// fixed-length strings (n). Ragged columns (a variable number of values per row) are CSR: an offset
// dataset (n + 1) shared by the columns listed with it, and the concatenated values.
//
// The states. position_a/b hold every mobile bead of the row (mobile_id), in A and in B; every other
// bead is where /particles/all has it. State A is the occupied state (the packing's inherent
// structure restricted to the domain) wherever involves_occupied = 1, so asymmetry = E_B − E_A is
// signed. docs/file-format.md lists every column with its meaning.
#include "tlsmap/core/vec3.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

namespace tlsmap {

class Hdf5File;
class ByteWriter;
class ByteReader;

inline constexpr double kNotComputed = std::numeric_limits<double>::quiet_NaN();

struct TlsRow {
  // Where it came from.
  std::int64_t domain = -1;       // search domain (−1: not from the domain search)
  Vec3 center = Vec3::Zero();     // centre of the region (σ)
  double radius = 0.0;            // radius of the mobile region (σ)
  std::string method = "domain";  // "domain", "md-pairs" or "given"
  std::int64_t n_merged = 0;      // copies of this rearrangement found from other domains and merged
  // What it is.
  std::string cls;            // "tls", "double_well" or "single_well" (HDF5 name: class)
  int involves_occupied = 1;  // state A is the occupied state O
  int adjacent = 0;           // one verified first-order saddle joins A and B, no minimum between
  // Energies (ε): frozen shell, and relaxed with every bead free.
  double energy_a = 0.0, energy_b = 0.0, asymmetry = 0.0, barrier = 0.0;
  double energy_a_relaxed = kNotComputed, energy_b_relaxed = kNotComputed, asymmetry_relaxed = kNotComputed;
  int relaxed_adjacent = 0;  // relaxed pair still the same rearrangement (search_stage.cpp: relax_row)
  double delta_zpe = 0.0;    // (ħ/2) Σ (ω_B − ω_A) over the mobile-bead normal modes
  // Quantum levels along the path.
  double e_qs = 0.0, e_qs_kelvin = 0.0;            // E1 − E0 of the 1D Schrödinger equation (harmonic continuation)
  double e_qs_mirror = 0.0;                        // the same with the band mirrored past its ends (continuation check)
  double splitting = 0.0, splitting_kelvin = 0.0;  // WKB Δ0
  int over_barrier = 0;                            // WKB: a zero-point level at or above the barrier top
  // Geometry of the rearrangement.
  double d_l = 0.0, participation = 0.0, path_length = 0.0, distance = 0.0;
  std::int64_t n_moving = 0, intermediate_minima = 0;
  int saddle_verified = 0, neb_converged = 0;
  int saddle_connects = 0;        // the verified saddle's unstable mode falls into A one way and B the other
  Vec3 mu_direct = Vec3::Zero();  // Σ q_i (r_i^B − r_i^A) (q* σ)
  // Ragged: the band and the two states.
  std::vector<double> profile_energy, profile_coordinate;
  std::vector<std::int64_t> mobile_id;
  std::vector<Vec3> position_a, position_b;
};

// One column of /tls.
struct TlsColumn {
  using Member =
      std::variant<double TlsRow::*, std::int64_t TlsRow::*, int TlsRow::*, Vec3 TlsRow::*, std::string TlsRow::*,
                   std::vector<double> TlsRow::*, std::vector<std::int64_t> TlsRow::*, std::vector<Vec3> TlsRow::*>;
  const char* name;  // dataset name under /tls
  const char* unit;  // "unit" attribute ("" for strings)
  Member member;
  const char* offset;  // ragged columns: the offset dataset they share; nullptr for one value per row
};

// Every column, in file order.
const std::vector<TlsColumn>& tls_schema();
// The schema's names, kinds and units as one string (enters the search's resume fingerprint, so a
// file written under another layout is searched again rather than misread).
std::string tls_schema_signature();

// Byte form of a row (exact round trip).
void put_row(ByteWriter& w, const TlsRow& row);
TlsRow get_row(ByteReader& r);

// Class of a pair from its quantum levels: "tls" when adjacent and E_qs <= max_splitting (ε);
// otherwise "double_well" when the two lowest levels lie below the barrier top, else "single_well".
std::string classify(bool adjacent, double e_qs, bool levels_below_barrier, double max_splitting);

// Attributes written with the catalogue.
struct TlsAttributes {
  double hbar_reduced = 0.0;    // ħ* used for E_qs and Δ0
  double max_splitting = 0.0;   // class tls threshold on E_qs (ε)
  double epsilon_kelvin = 0.0;  // K per ε (the [units] mapping)
  std::int64_t n_merged = 0;    // duplicate rows merged away
};

// The /tls catalogue as far as the dipole and interact stages need it (replicated on every rank);
// read and written by read_tls_set/write_tls_set (include/tlsmap/io/tls_io.hpp).
struct TlsSet {
  std::vector<Vec3> center;
  std::vector<double> radius;
  std::vector<std::int64_t> offset;  // CSR: TLS k has mobile rows [offset[k], offset[k + 1])
  std::vector<std::int64_t> id;      // bead ids of the mobile rows
  std::vector<Vec3> pos_a, pos_b;    // positions of the mobile rows in states A and B

  std::size_t size() const { return center.size(); }
  std::int64_t begin(std::size_t k) const { return offset[k]; }
  std::int64_t end(std::size_t k) const { return offset[k + 1]; }
};

// Collective: replace /tls with these rows (every rank holds the same rows).
void write_tls(Hdf5File& file, const std::vector<TlsRow>& rows, const TlsAttributes& attrs);
// Collective: the rows of /tls, checked (every column present with n rows; offsets start at 0,
// never decrease and end at the length of their columns); Error naming the dataset otherwise.
std::vector<TlsRow> read_tls(Hdf5File& file);

}  // namespace tlsmap
