// LAMMPS data files: rank 0 parses or writes, the other ranks learn the outcome by broadcast.
//
// Parsing follows LAMMPS's read_data for the subset we support: the first line is a title;
// header lines until the first capitalised word (a section name); "#" starts a comment, except
// that "Atoms # style" names the atom style. Section bodies are read by count (atoms, types), as
// LAMMPS does, skipping blank lines. Doubles are written by std::to_chars in the shortest form
// that reads back exactly (like %.17g, but "0.3" instead of "0.29999999999999999") and read by
// std::from_chars, which rounds correctly: a write-read round trip is bit for bit.
#include "tlsmap/io/lammps_data.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/reduction.hpp"
#include "tlsmap/io/validate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tlsmap {
namespace {

// Rank 0 runs f; if it throws, every rank throws the same Error.
template <class F>
void on_root(MPI_Comm comm, F&& f) {
  std::string msg;
  if (comm_rank(comm) == 0) {
    try {
      f();
    } catch (const std::exception& e) {
      msg = e.what();
      if (msg.empty()) msg = "unknown error";
    }
  }
  std::uint64_t n = msg.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm);
  msg.resize(n);
  MPI_Bcast(msg.data(), static_cast<int>(n), MPI_CHAR, 0, comm);
  if (n) throw Error(msg);
}

template <class T>
bool parse(std::string_view s, T& v) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);  // from_chars rejects a leading '+'
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if constexpr (std::is_floating_point_v<T>)
    if (!std::isfinite(v)) return false;
  return ec == std::errc() && end == s.data() + s.size();
}

std::vector<std::string> split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

class Parser {
 public:
  explicit Parser(const std::string& path) : path_(path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw Error(path + ": cannot open file: no such file");
    // Opening a FIFO would block until someone writes to it; a device could be read forever.
    if (!std::filesystem::is_regular_file(path, ec))
      throw Error(path + ": not a regular file (a directory, FIFO or device)");
    size_ = std::filesystem::file_size(path, ec);
    in_.open(path);
    if (!in_ || ec) throw Error(path + ": cannot open file");
  }

  [[noreturn]] void fail(const std::string& msg) const {
    throw Error(path_ + ":" + std::to_string(line_no_) + ": " + msg);
  }

  // Next line; words_ = its words before any '#', comment_ = the words after it.
  bool next() {
    if (!std::getline(in_, line_)) return false;
    ++line_no_;
    const auto hash = line_.find('#');
    words_ = split(line_.substr(0, hash));
    comment_ = hash == std::string::npos ? std::vector<std::string>{} : split(line_.substr(hash + 1));
    return true;
  }
  // Next line with words; fails naming the section if the file ends first.
  void next_content(const std::string& section, std::int64_t need, std::int64_t done) {
    do {
      if (!next())
        fail("file ends inside the " + section + " section (" + std::to_string(done) + " of " + std::to_string(need) +
             " lines read)");
    } while (words_.empty());
  }

  template <class T>
  T number(std::size_t i, const char* what) const {
    T v{};
    if (!parse(words_[i], v)) fail("cannot read " + std::string(what) + " from '" + words_[i] + "'");
    return v;
  }

  const std::vector<std::string>& words() const { return words_; }
  const std::vector<std::string>& comment() const { return comment_; }
  const std::string& path() const { return path_; }
  long line() const { return line_no_; }
  std::uintmax_t size() const { return size_; }

 private:
  std::string path_;
  std::uintmax_t size_ = 0;
  std::ifstream in_;
  std::string line_;
  long line_no_ = 0;
  std::vector<std::string> words_, comment_;
};

void read_atoms(Parser& p, LammpsData& d, std::vector<char>& seen, std::vector<long>& line_of) {
  std::string style = p.comment().empty() ? "" : p.comment()[0];
  if (!style.empty() && style != "atomic" && style != "charge" && style != "full")
    p.fail("atom style '" + style + "' is not supported (atomic, charge or full)");
  for (std::int64_t k = 0; k < d.n_atoms; ++k) {
    p.next_content("Atoms", d.n_atoms, k);
    const auto& w = p.words();
    if (style.empty()) {  // no hint: 5 or 8 fields are atomic, 6 or 9 charge, 7 or 10 full
      if (w.size() == 5 || w.size() == 8) style = "atomic";
      else if (w.size() == 6 || w.size() == 9) style = "charge";
      else if (w.size() == 7 || w.size() == 10) style = "full";
      else p.fail("cannot tell the atom style from " + std::to_string(w.size()) + " fields; add 'Atoms # charge'");
    }
    // full: id molecule type q x y z; the molecule id is not kept (bonds say which beads belong together).
    const std::size_t skip = style == "full" ? 1 : 0;
    const std::size_t base = style == "full" ? 7 : style == "charge" ? 6 : 5;
    if (w.size() != base && w.size() != base + 3)
      p.fail("atom style " + style + " needs " + std::to_string(base) + " or " + std::to_string(base + 3) +
             " fields, found " + std::to_string(w.size()));
    const auto id = p.number<std::int64_t>(0, "atom id");
    const int type = p.number<int>(1 + skip, "atom type");
    if (id < 1 || id > d.n_atoms)
      p.fail("atom id " + std::to_string(id) + " outside 1.." + std::to_string(d.n_atoms) + " (tlsmap needs ids 1..N)");
    if (seen[id - 1]++) p.fail("atom id " + std::to_string(id) + " appears twice");
    if (type < 1 || type > d.n_types)
      p.fail("atom type " + std::to_string(type) + " outside 1.." + std::to_string(d.n_types));
    const std::size_t x0 = (style == "atomic" ? 2 : 3) + skip;
    Beads& b = d.beads;
    const std::size_t i = id - 1;
    b.id[i] = id;
    b.species[i] = type - 1;
    b.charge[i] = style == "atomic" ? 0.0 : p.number<double>(2 + skip, "charge");
    for (int c = 0; c < 3; ++c) b.pos[i][c] = p.number<double>(x0 + c, "a coordinate");
    for (int c = 0; c < 3; ++c) b.image[i][c] = w.size() == base ? 0 : p.number<int>(base + c, "an image flag");
    // Before the wrap: 1e300 in a box of a few sigma would overflow the image count.
    if (const std::string why = coordinate_problem(b.pos[i], d.box); !why.empty())
      p.fail("atom id " + std::to_string(id) + ": " + why);
    for (int c = 0; c < 3; ++c)
      if (std::abs(b.image[i][c]) >= (1 << 30))
        p.fail("atom id " + std::to_string(id) + ": image flag " + std::to_string(b.image[i][c]) + " outside +-2^30");
    line_of[i] = p.line();
    const Int3 shift = d.box.wrap(b.pos[i]);  // as LAMMPS: remap into the periodic box
    for (int c = 0; c < 3; ++c) b.image[i][c] += shift[c];
  }
  d.atom_style = style;
}

// No two atoms closer than kMinBeadDistance (validate.hpp); the error names both lines.
void check_spacing(const std::string& path, const LammpsData& d, const std::vector<long>& line_of) {
  const auto pair = close_pair(d.beads.pos, d.box);
  if (!pair) return;
  const auto [i, j] = *pair;  // index = id - 1
  const double r = d.box.minimum_image(Vec3(d.beads.pos[j] - d.beads.pos[i])).norm();
  throw Error(path + ":" + std::to_string(line_of[j]) +
              ": Atoms: " + close_pair_message(static_cast<std::int64_t>(i) + 1, static_cast<std::int64_t>(j) + 1, r) +
              " (the other is on line " + std::to_string(line_of[i]) + ")");
}

// The header, up to the first section line (a capitalised word): counts and box into d. Returns
// whether a section line follows (p then holds it).
bool parse_header(Parser& p, LammpsData& d) {
  bool has_atoms_line = false, has_types_line = false;
  bool more = false;
  while (!more && p.next()) {
    const auto& w = p.words();
    if (w.empty()) continue;
    if (std::isupper(static_cast<unsigned char>(w[0][0]))) {
      more = true;
      break;
    }
    if (w.size() == 2 && w[1] == "atoms") {
      d.n_atoms = p.number<std::int64_t>(0, "the number of atoms");
      if (d.n_atoms < 1 || d.n_atoms > INT_MAX) p.fail("the number of atoms must lie in 1..2^31-1");
      // An Atoms line takes at least 9 bytes (5 one-character fields): refuse a count the file cannot
      // hold before allocating for it.
      if (static_cast<std::uintmax_t>(d.n_atoms) > p.size() / 9)
        p.fail("the header promises " + std::to_string(d.n_atoms) + " atoms, more than a file of " +
               std::to_string(p.size()) + " bytes can hold");
      has_atoms_line = true;
    } else if (w.size() == 3 && w[1] == "atom" && w[2] == "types") {
      d.n_types = p.number<int>(0, "the number of atom types");
      if (d.n_types < 1 || d.n_types > kMaxSpecies)
        p.fail("the number of atom types must lie in 1.." + std::to_string(kMaxSpecies));
      has_types_line = true;
    } else if (w.size() == 4 && (w[2] == "xlo" || w[2] == "ylo" || w[2] == "zlo") && w[3] == w[2].substr(0, 1) + "hi") {
      const int c = w[2][0] - 'x';
      const double lo = p.number<double>(0, "a box bound"), hi = p.number<double>(1, "a box bound");
      if (!(hi > lo)) p.fail("box bound " + w[3] + " must exceed " + w[2]);
      d.box.lo[c] = lo;
      d.box.len[c] = hi - lo;
      if (const std::string why = box_problem(d.box); !why.empty()) p.fail(why);
    } else if (w.size() == 6 && w[3] == "xy" && w[4] == "xz" && w[5] == "yz") {
      // LAMMPS writes this line for every box made triclinic (change_box all triclinic), tilted or
      // not: zero tilts are an orthorhombic box.
      for (int t = 0; t < 3; ++t)
        if (p.number<double>(t, "a tilt factor") != 0.0)
          p.fail(
              "triclinic boxes (tilt factors xy xz yz) are not supported; tlsmap needs an orthorhombic box "
              "(zero tilts are accepted)");
    } else if (w.size() == 2 && w[1] == "bonds") {
      d.n_bonds = p.number<std::int64_t>(0, "the number of bonds");
      if (d.n_bonds < 0 || static_cast<std::uintmax_t>(d.n_bonds) > p.size() / 8)
        p.fail("the number of bonds must be at least 0 and fit in a file of " + std::to_string(p.size()) + " bytes");
    } else if (w.size() == 3 && w[1] == "bond" && w[2] == "types") {
      d.n_bond_types = p.number<int>(0, "the number of bond types");
      if (d.n_bond_types < 0 || d.n_bond_types > kMaxSpecies)
        p.fail("the number of bond types must lie in 0.." + std::to_string(kMaxSpecies));
    } else if (w.size() >= 2 && w[0] == "0") {
      // "0 bonds", "0 ellipsoids", ...: harmless.
    } else {
      p.fail("unsupported header line (atoms, atom types, bonds, bond types and the box only)");
    }
  }
  if (!has_atoms_line) p.fail("the header has no 'N atoms' line");
  if (!has_types_line) p.fail("the header has no 'N atom types' line");
  return more;
}

// The Masses section: one mass per type.
void read_masses(Parser& p, LammpsData& d) {
  d.masses.assign(d.n_types, 0.0);
  for (int k = 0; k < d.n_types; ++k) {
    p.next_content("Masses", d.n_types, k);
    if (p.words().size() != 2) p.fail("a Masses line is 'type mass'");
    const int type = p.number<int>(0, "atom type");
    if (type < 1 || type > d.n_types)
      p.fail("atom type " + std::to_string(type) + " outside 1.." + std::to_string(d.n_types));
    d.masses[type - 1] = p.number<double>(1, "a mass");
    if (!(d.masses[type - 1] > 0)) p.fail("masses must be positive");
  }
  for (int t = 0; t < d.n_types; ++t)
    if (d.masses[t] == 0.0) p.fail("the Masses section gives no mass for type " + std::to_string(t + 1));
}

// The Velocities section: one line per atom id.
void read_velocities(Parser& p, LammpsData& d) {
  std::vector<char> seen_v(d.n_atoms, 0);
  for (std::int64_t k = 0; k < d.n_atoms; ++k) {
    p.next_content("Velocities", d.n_atoms, k);
    if (p.words().size() != 4) p.fail("a Velocities line is 'id vx vy vz'");
    const auto id = p.number<std::int64_t>(0, "atom id");
    if (id < 1 || id > d.n_atoms || seen_v[id - 1]++) p.fail("bad or repeated atom id " + p.words()[0]);
    for (int c = 0; c < 3; ++c) d.beads.vel[id - 1][c] = p.number<double>(1 + c, "a velocity");
  }
  d.has_velocity = true;
}

// The Bonds section: 'id type atom1 atom2'; one bond per atom (the engine's diatomic molecules).
void read_bonds(Parser& p, LammpsData& d) {
  Beads& b = d.beads;
  b.enable_partner();
  for (std::int64_t k = 0; k < d.n_bonds; ++k) {
    p.next_content("Bonds", d.n_bonds, k);
    if (p.words().size() != 4) p.fail("a Bonds line is 'id type atom1 atom2'");
    const int type = p.number<int>(1, "bond type");
    if (type < 1 || type > d.n_bond_types)
      p.fail("bond type " + std::to_string(type) + " outside 1.." + std::to_string(d.n_bond_types));
    const auto a = p.number<std::int64_t>(2, "atom id"), c = p.number<std::int64_t>(3, "atom id");
    if (a < 1 || a > d.n_atoms || c < 1 || c > d.n_atoms || a == c)
      p.fail("a bond needs two distinct atom ids in 1.." + std::to_string(d.n_atoms));
    if (b.partner[a - 1] != 0 || b.partner[c - 1] != 0)
      p.fail("atom " + std::to_string(b.partner[a - 1] != 0 ? a : c) +
             " is in a second bond (one bond per atom is supported: diatomic molecules)");
    b.partner[a - 1] = c;
    b.partner[c - 1] = a;
  }
}

LammpsData parse_file(const std::string& path) {
  Parser p(path);
  LammpsData d;
  d.box.lo = Vec3::Constant(-0.5);  // LAMMPS's default box
  d.box.len = Vec3::Ones();
  bool has_atoms_section = false, has_bonds_section = false;
  if (!p.next()) p.fail("empty file");  // line 1: title
  bool more = parse_header(p, d);
  d.beads.resize_owned(static_cast<int>(d.n_atoms));
  std::vector<char> seen(d.n_atoms, 0);
  std::vector<long> line_of(d.n_atoms, 0);  // line of each atom, for the spacing check
  // Sections: p holds the current section line.
  while (more) {
    const auto& w = p.words();
    const std::string name = w.size() == 2 ? w[0] + " " + w[1] : w[0];
    if (name == "Atoms") {
      if (has_atoms_section) p.fail("second Atoms section");
      read_atoms(p, d, seen, line_of);
      has_atoms_section = true;
    } else if (name == "Masses") {
      read_masses(p, d);
    } else if (name == "Velocities") {
      read_velocities(p, d);
    } else if (name == "Bonds") {
      if (d.n_bonds == 0) p.fail("a Bonds section, but the header has no 'N bonds' line");
      if (has_bonds_section) p.fail("second Bonds section");
      read_bonds(p, d);
      has_bonds_section = true;
    } else if (name == "Pair Coeffs" || name == "PairIJ Coeffs" || name == "Bond Coeffs") {  // not ours to use
      const std::int64_t n = name == "Pair Coeffs"   ? d.n_types
                             : name == "Bond Coeffs" ? d.n_bond_types
                                                     : std::int64_t{d.n_types} * (d.n_types + 1) / 2;
      for (std::int64_t k = 0; k < n; ++k) p.next_content(name, n, k);
    } else {
      p.fail("unsupported section '" + name + "' (Masses, Atoms, Velocities, Bonds, Pair Coeffs, Bond Coeffs only)");
    }
    more = false;  // on to the next section line, or the end
    while (!more && p.next()) more = !p.words().empty();
  }
  if (!has_atoms_section) throw Error(path + ": no Atoms section");
  if (d.n_bonds > 0 && !has_bonds_section) throw Error(path + ": the header has bonds, but there is no Bonds section");
  check_spacing(path, d, line_of);
  return d;
}

// One bead on its way to rank 0.
struct Row {
  std::int64_t id, partner;  // partner: bonded models (0: none)
  double pos[3], vel[3], charge;
  std::int32_t species, image[3];
};

// Rank 0: the gathered rows must fit the options (style, species, masses) and hold ids 1..N;
// sorts them by id.
void check_rows(const std::string& path, std::vector<Row>& all, int n_types, int min_species, int max_species,
                const LammpsWriteOptions& options) {
  const std::string& style = options.atom_style;
  if (style != "atomic" && style != "charge" && style != "full")
    throw Error(path + ": atom style '" + style + "' (atomic, charge or full)");
  if (options.diameter_as_charge && style != "charge")
    throw Error(path + ": diameters go in the charge column: atom style charge, not " + style);
  if (min_species < 0 || max_species >= n_types)
    throw Error(path + ": species must lie in 0.." + std::to_string(n_types - 1));
  if (!options.masses.empty() && static_cast<int>(options.masses.size()) != n_types)
    throw Error(path + ": " + std::to_string(options.masses.size()) + " masses given for " + std::to_string(n_types) +
                " atom types");
  std::sort(all.begin(), all.end(), [](const Row& a, const Row& b) { return a.id < b.id; });
  for (std::size_t k = 0; k < all.size(); ++k)
    if (all[k].id != static_cast<std::int64_t>(k) + 1)
      throw Error(path + ": bead ids must be exactly 1..N (N = " + std::to_string(all.size()) + "): " +
                  (all[k].id > static_cast<std::int64_t>(k) + 1
                       ? "id " + std::to_string(k + 1) + " is missing"
                       : "id " + std::to_string(all[k].id) + " is repeated or out of range"));
  if (all.empty()) throw Error(path + ": no beads to write");
  // Bond partners (ids 1..N after the check above): each names a bead that names it back.
  const auto n = static_cast<std::int64_t>(all.size());
  for (const Row& r : all)
    if (r.partner != 0 && (r.partner < 1 || r.partner > n || r.partner == r.id || all[r.partner - 1].partner != r.id))
      throw Error(path + ": bead " + std::to_string(r.id) + " names bond partner " + std::to_string(r.partner) +
                  ", which does not name it back");
}

// Rank 0: the data file, written to path.tmp and renamed.
void write_text(const std::string& path, const Box& box, const std::vector<Row>& all, int n_types,
                const LammpsWriteOptions& options) {
  // Bonded beads: atom style full, each bond once (lower id first, in id order), molecule id = the
  // bond's number; an unbonded bead is a molecule of its own, numbered after the bonds.
  std::int64_t n_bonds = 0;
  for (const Row& r : all) n_bonds += r.partner > r.id ? 1 : 0;
  const std::string style = n_bonds > 0 ? "full" : options.atom_style;
  std::vector<std::int64_t> molecule(all.size(), 0);
  std::int64_t next_molecule = 0;
  for (const Row& r : all)
    if (r.partner > r.id) molecule[r.id - 1] = molecule[r.partner - 1] = ++next_molecule;
  for (auto& m : molecule)
    if (m == 0) m = ++next_molecule;
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) throw Error(path + ": cannot create " + tmp);
  // Text is built in a buffer of fields; doubles in the shortest form that reads back exactly.
  std::string out;
  auto put = [&out](auto x, char sep = ' ') {
    char buf[32];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, x).ptr);
    out += sep;
  };
  auto flush = [&] {
    std::fwrite(out.data(), 1, out.size(), f);
    out.clear();
  };
  std::string title = options.title;
  std::replace(title.begin(), title.end(), '\n', ' ');
  out += title + "\n\n";
  put(all.size()), out += "atoms\n";
  put(n_types), out += "atom types\n";
  if (n_bonds > 0) put(n_bonds), out += "bonds\n", out += "1 bond types\n";
  out += "\n";
  const char* axis[3] = {"x", "y", "z"};
  for (int c = 0; c < 3; ++c) {
    put(box.lo[c]), put(box.lo[c] + box.len[c]);
    out += axis[c] + std::string("lo ") + axis[c] + "hi\n";
  }
  out += "\nMasses\n\n";
  for (int t = 0; t < n_types; ++t) put(t + 1), put(options.masses.empty() ? 1.0 : options.masses[t], '\n');
  out += "\nAtoms # " + style + "\n\n";
  for (const Row& r : all) {
    put(r.id);
    if (style == "full") put(molecule[r.id - 1]);
    put(r.species + 1);
    if (style != "atomic") put(r.charge);
    put(r.pos[0]), put(r.pos[1]), put(r.pos[2]), put(r.image[0]), put(r.image[1]), put(r.image[2], '\n');
    if (out.size() > (1 << 20)) flush();
  }
  if (n_bonds > 0) {
    out += "\nBonds\n\n";
    std::int64_t k = 0;
    for (const Row& r : all)
      if (r.partner > r.id) put(++k), put(1), put(r.id), put(r.partner, '\n');
  }
  if (options.with_velocity) {
    out += "\nVelocities\n\n";
    for (const Row& r : all) {
      put(r.id), put(r.vel[0]), put(r.vel[1]), put(r.vel[2], '\n');
      if (out.size() > (1 << 20)) flush();
    }
  }
  flush();
  const bool ok = !std::ferror(f);
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp.c_str());
    throw Error(path + ": write error on " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(path + ": cannot rename " + tmp + " to it");
  }
}

}  // namespace

LammpsData read_lammps_data(const std::string& path, MPI_Comm comm) {
  LammpsData d;
  on_root(comm, [&] { d = parse_file(path); });
  // Everything but the beads goes to every rank.
  MPI_Bcast(d.box.lo.data(), 3, MPI_DOUBLE, 0, comm);
  MPI_Bcast(d.box.len.data(), 3, MPI_DOUBLE, 0, comm);
  MPI_Bcast(&d.n_atoms, 1, MPI_INT64_T, 0, comm);
  MPI_Bcast(&d.n_types, 1, MPI_INT, 0, comm);
  int flags[3] = {d.has_velocity, d.atom_style == "charge" ? 1 : d.atom_style == "full" ? 2 : 0, d.beads.has_partner};
  MPI_Bcast(flags, 3, MPI_INT, 0, comm);
  d.has_velocity = flags[0];
  d.atom_style = flags[1] == 2 ? "full" : flags[1] == 1 ? "charge" : "atomic";
  d.beads.has_partner = flags[2] != 0;  // every rank alike (System checks it); ranks > 0 hold no beads
  MPI_Bcast(&d.n_bonds, 1, MPI_INT64_T, 0, comm);
  int n_masses = static_cast<int>(d.masses.size());
  MPI_Bcast(&n_masses, 1, MPI_INT, 0, comm);
  d.masses.resize(n_masses);
  MPI_Bcast(d.masses.data(), n_masses, MPI_DOUBLE, 0, comm);
  return d;
}

void write_lammps_data(const std::string& path, const Box& box, const Beads& beads, MPI_Comm comm,
                       const LammpsWriteOptions& options) {
  const int rank = comm_rank(comm);
  int size = 1;
  MPI_Comm_size(comm, &size);
  const int n_local = beads.n_owned;
  int max_species = -1, min_species = 0;
  int no_diameter = options.diameter_as_charge && !beads.has_diameter && n_local > 0;
  MPI_Allreduce(MPI_IN_PLACE, &no_diameter, 1, MPI_INT, MPI_LOR, comm);
  if (no_diameter) throw Error(path + ": diameters asked for in the charge column, but the beads have none");
  std::vector<Row> rows(n_local);
  for (int i = 0; i < n_local; ++i) {
    Row& r = rows[i];
    r.id = beads.id[i];
    for (int c = 0; c < 3; ++c) {
      r.pos[c] = beads.pos[i][c];
      r.vel[c] = options.with_velocity ? beads.vel[i][c] : 0.0;
      r.image[c] = beads.image[i][c];
    }
    r.charge = options.diameter_as_charge ? beads.diameter[i] : beads.charge[i];
    r.partner = beads.has_partner ? beads.partner[i] : 0;
    r.species = beads.species[i];
    max_species = std::max(max_species, r.species);
    min_species = std::min(min_species, r.species);
  }
  MPI_Allreduce(MPI_IN_PLACE, &max_species, 1, MPI_INT, MPI_MAX, comm);
  MPI_Allreduce(MPI_IN_PLACE, &min_species, 1, MPI_INT, MPI_MIN, comm);

  // Gather to rank 0 (counts in rows, not bytes, so large systems do not overflow int).
  std::vector<int> counts(size), offsets(size, 0);
  MPI_Gather(&n_local, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm);
  for (int r = 1; r < size; ++r) offsets[r] = offsets[r - 1] + counts[r - 1];
  std::vector<Row> all(rank == 0 ? offsets.back() + counts.back() : 0);
  MPI_Datatype type;
  MPI_Type_contiguous(sizeof(Row), MPI_BYTE, &type);
  MPI_Type_commit(&type);
  MPI_Gatherv(rows.data(), n_local, type, all.data(), counts.data(), offsets.data(), type, 0, comm);
  MPI_Type_free(&type);

  on_root(comm, [&] {
    const int n_types = options.n_types > 0 ? options.n_types : max_species + 1;
    check_rows(path, all, n_types, min_species, max_species, options);
    write_text(path, box, all, n_types, options);
  });
}

void require_unit_masses(const std::vector<double>& masses, const std::string& path, const std::string& use) {
  for (std::size_t t = 0; t < masses.size(); ++t)
    if (masses[t] != 1.0)
      throw Error(path + ": atom type " + std::to_string(t + 1) + " has mass " + fmt::format("{:g}", masses[t]) +
                  "; tlsmap's beads all have the unit mass m (reduced units; [units] mass_amu gives m in u), which " +
                  use + " uses: write the file with every mass 1");
}

}  // namespace tlsmap
