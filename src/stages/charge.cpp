// Stage 2, charge: bead pairing by maximum matching, ±ζq charges, in-place update of the file.
#include "tlsmap/stages/charge.hpp"

#include "tlsmap/core/close_pairs.hpp"
#include "tlsmap/core/error.hpp"
#include "tlsmap/core/progress.hpp"
#include "tlsmap/core/random.hpp"
#include "tlsmap/core/reduction.hpp"
#include "tlsmap/io/h5md.hpp"
#include "tlsmap/io/input.hpp"
#include "tlsmap/io/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace tlsmap {
namespace {

// ---- the candidate graph: pairs closer than the cutoff --------------------------------------

struct Edge {
  double r2;
  std::int32_t i, j;                     // i < j
  bool operator<(const Edge& o) const {  // by length, ties by ids: a strict total order
    if (r2 != o.r2) return r2 < o.r2;
    return i != o.i ? i < o.i : j < o.j;
  }
};

// All pairs with minimum-image distance < cutoff (in the scan's order; the caller sorts them).
std::vector<Edge> close_pairs(const std::vector<Vec3>& pos, const Box& box, double cutoff) {
  std::vector<Edge> edges;
  edges.reserve(pos.size() * 10);
  for_each_close_pair(pos, box, cutoff, [&](std::size_t i, std::size_t j, double r2) {
    edges.push_back({r2, static_cast<std::int32_t>(i), static_cast<std::int32_t>(j)});
    return true;
  });
  return edges;
}

// ---- maximum-cardinality matching (Edmonds' blossoms, union-find bases) ----------------------

// One BFS per free vertex grows an alternating tree; an edge between two even vertices of
// different blossoms closes an odd cycle, which is contracted by pointing the union-find parent
// of its members at the cycle's base. Per-search state is reset only for the vertices the search
// touched, so a search that finds a short augmenting path costs only its neighbourhood — the
// greedy start leaves few free vertices, each usually a few hops from another.
class Matcher {
 public:
  Matcher(std::vector<std::int64_t> offset, std::vector<std::int32_t> adj, std::vector<std::int32_t> match)
      : off_(std::move(offset)), adj_(std::move(adj)), match_(std::move(match)) {
    const std::size_t n = match_.size();
    base_.resize(n);
    std::iota(base_.begin(), base_.end(), 0);
    state_.assign(n, kUnseen);
    pred_.assign(n, -1);
    stamp_.assign(n, 0);
  }

  // Augment from every free vertex in index order. A vertex with no augmenting path now has none
  // after later augmentations either (Edmonds), so one pass gives a maximum matching.
  const std::vector<std::int32_t>& run() {
    for (std::int32_t v = 0; v < static_cast<std::int32_t>(match_.size()); ++v)
      if (match_[v] < 0) augment_from(v);
    return match_;
  }

 private:
  static constexpr signed char kUnseen = 0, kEven = 1, kOdd = 2;

  std::int32_t find(std::int32_t v) {
    while (base_[v] != v) v = base_[v] = base_[base_[v]];
    return v;
  }
  void visit(std::int32_t v, signed char s) {
    if (state_[v] == kUnseen) touched_.push_back(v);
    state_[v] = s;
  }
  // The base where the tree paths from the blossoms of x and y meet (walk both up alternately).
  std::int32_t meet(std::int32_t x, std::int32_t y) {
    ++time_;
    x = find(x), y = find(y);
    for (;; std::swap(x, y)) {
      if (x < 0) continue;
      if (stamp_[x] == time_) return x;
      stamp_[x] = time_;
      x = match_[x] < 0 ? -1 : find(pred_[match_[x]]);
    }
  }
  // Contract the path from x up to base b into one blossom; its odd vertices become even.
  void contract(std::int32_t x, std::int32_t y, std::int32_t b) {
    while (find(x) != b) {
      pred_[x] = y;
      y = match_[x];
      if (state_[y] == kOdd) {
        state_[y] = kEven;
        queue_.push_back(y);
      }
      if (find(x) == x) base_[x] = b;
      if (find(y) == y) base_[y] = b;
      x = pred_[y];
    }
  }
  void augment_from(std::int32_t root) {
    queue_.clear();
    visit(root, kEven);
    queue_.push_back(root);
    bool found = false;
    for (std::size_t head = 0; head < queue_.size() && !found; ++head) {
      const std::int32_t x = queue_[head];
      for (std::int64_t e = off_[x]; e < off_[x + 1]; ++e) {
        const std::int32_t y = adj_[e];
        if (state_[y] == kOdd || find(x) == find(y)) continue;
        if (state_[y] == kUnseen) {
          visit(y, kOdd);
          pred_[y] = x;
          if (match_[y] < 0) {  // flip the alternating path y … root
            for (std::int32_t u = y, next; u >= 0; u = next) {
              next = match_[pred_[u]];
              match_[u] = pred_[u];
              match_[pred_[u]] = u;
            }
            found = true;
            break;
          }
          visit(match_[y], kEven);
          queue_.push_back(match_[y]);
        } else {  // both even, different blossoms: an odd cycle
          const std::int32_t b = meet(x, y);
          contract(x, y, b);
          contract(y, x, b);
        }
      }
    }
    for (std::int32_t v : touched_) state_[v] = kUnseen, base_[v] = v;
    touched_.clear();
  }

  std::vector<std::int64_t> off_;
  std::vector<std::int32_t> adj_, match_, base_, pred_;
  std::vector<signed char> state_;
  std::vector<std::uint64_t> stamp_;
  std::uint64_t time_ = 0;
  std::vector<std::int32_t> queue_, touched_;
};

}  // namespace

BondSet max_matching(const std::vector<Vec3>& pos, const Box& box, double cutoff) {
  if (pos.size() >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw Error("pairing: " + std::to_string(pos.size()) + " beads exceed the 2^31 - 1 the matching handles");
  const std::size_t n = pos.size();
  std::vector<Edge> edges = close_pairs(pos, box, cutoff);
  std::sort(edges.begin(), edges.end());
  // Greedy by increasing length: the shortest available bond first.
  std::vector<std::int32_t> match(n, -1);
  for (const Edge& e : edges)
    if (match[e.i] < 0 && match[e.j] < 0) match[e.i] = e.j, match[e.j] = e.i;
  // Adjacency (CSR), each row in order of increasing length, so searches try short bonds first.
  std::vector<std::int64_t> off(n + 1, 0);
  for (const Edge& e : edges) ++off[e.i + 1], ++off[e.j + 1];
  std::partial_sum(off.begin(), off.end(), off.begin());
  std::vector<std::int32_t> adj(off[n]);
  {
    std::vector<std::int64_t> fill(off.begin(), off.end() - 1);
    for (const Edge& e : edges) adj[fill[e.i]++] = e.j, adj[fill[e.j]++] = e.i;
  }
  std::vector<Edge>().swap(edges);  // free before the search allocates
  match = Matcher(std::move(off), std::move(adj), std::move(match)).run();

  BondSet out;
  out.cutoff = cutoff;
  for (std::size_t k = 0; k < n; ++k) {
    const std::int32_t m = match[k];
    if (m < 0) out.unpaired.push_back(static_cast<std::int64_t>(k) + 1);
    else if (static_cast<std::size_t>(m) > k) {
      out.bonds.push_back({static_cast<std::int64_t>(k) + 1, static_cast<std::int64_t>(m) + 1});
      out.length.push_back(box.minimum_image(pos[m] - pos[k]).norm());
    }
  }
  return out;
}

BondSet pair_beads(const std::vector<Vec3>& pos, const Box& box, double cutoff, double max_cutoff) {
  const double half_edge = 0.5 * box.len.minCoeff();
  // Beyond half a box edge "nearest neighbour" has no meaning (and minimum images are ambiguous).
  const double limit = std::min(std::max(max_cutoff, cutoff), half_edge);
  if (cutoff > limit)
    throw Error("pairing: bond cutoff " + std::to_string(cutoff) + " exceeds half the shortest box edge (" +
                std::to_string(half_edge) + ")");
  const std::size_t allowed = pos.size() % 2;
  int enlargements = 0;
  for (double c = cutoff;; c = std::min(1.1 * c, limit), ++enlargements) {
    BondSet b = max_matching(pos, box, c);
    b.enlargements = enlargements;
    if (b.unpaired.size() <= allowed) return b;
    if (c >= limit) {
      throw Error(
          fmt::format("pairing: {} of {} beads stay unpaired even with bond cutoff {:.4g} (the largest "
                      "allowed: charge.max_bond_cutoff = {:.4g}, half the shortest box edge = {:.4g}); raise "
                      "charge.max_bond_cutoff",
                      b.unpaired.size(), pos.size(), c, max_cutoff, half_edge));
    }
  }
}

BondSet pair_beads(const Beads& owned, const Box& box, double cutoff, double max_cutoff, MPI_Comm comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  // Gather ids and positions to rank 0 only (O(N) there, nothing extra elsewhere).
  const int n_mine = owned.n_owned;
  std::vector<int> counts(size), displs(size + 1, 0);
  MPI_Gather(&n_mine, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm);
  for (int r = 0; r < size; ++r) displs[r + 1] = displs[r] + counts[r];
  std::vector<std::int64_t> ids(rank == 0 ? displs[size] : 0);
  std::vector<Vec3> xs(ids.size());
  MPI_Datatype vec3;
  MPI_Type_contiguous(3, MPI_DOUBLE, &vec3);
  MPI_Type_commit(&vec3);
  MPI_Gatherv(owned.id.data(), n_mine, MPI_INT64_T, ids.data(), counts.data(), displs.data(), MPI_INT64_T, 0, comm);
  MPI_Gatherv(owned.pos.data(), n_mine, vec3, xs.data(), counts.data(), displs.data(), vec3, 0, comm);
  MPI_Type_free(&vec3);

  BondSet b;
  std::string problem;
  if (rank == 0) {
    try {
      const std::size_t n = ids.size();
      std::vector<Vec3> pos(n);
      std::vector<char> seen(n, 0);
      for (std::size_t k = 0; k < n; ++k) {
        if (ids[k] < 1 || static_cast<std::size_t>(ids[k]) > n || seen[ids[k] - 1]++)
          throw Error("pairing: bead ids are not 1..N each exactly once");
        pos[ids[k] - 1] = xs[k];
      }
      b = pair_beads(pos, box, cutoff, max_cutoff);
    } catch (const Error& e) {
      problem = e.what();
    }
  }
  // Rank 0's verdict and result, everywhere.
  std::uint64_t sizes[3] = {problem.size(), b.bonds.size(), b.unpaired.size()};
  MPI_Bcast(sizes, 3, MPI_UINT64_T, 0, comm);
  problem.resize(sizes[0]);
  MPI_Bcast(problem.data(), static_cast<int>(sizes[0]), MPI_CHAR, 0, comm);
  if (!problem.empty()) throw Error(problem);
  b.bonds.resize(sizes[1]);
  b.length.resize(sizes[1]);
  b.unpaired.resize(sizes[2]);
  MPI_Bcast(b.bonds.data(), static_cast<int>(2 * sizes[1]), MPI_INT64_T, 0, comm);
  MPI_Bcast(b.length.data(), static_cast<int>(sizes[1]), MPI_DOUBLE, 0, comm);
  MPI_Bcast(b.unpaired.data(), static_cast<int>(sizes[2]), MPI_INT64_T, 0, comm);
  MPI_Bcast(&b.cutoff, 1, MPI_DOUBLE, 0, comm);
  MPI_Bcast(&b.enlargements, 1, MPI_INT, 0, comm);
  return b;
}

std::vector<double> bond_charges(const BondSet& bonds, std::int64_t n_beads, double q, std::uint64_t seed) {
  std::vector<double> charge(n_beads, 0.0);
  for (const auto& [a, b] : bonds.bonds) {
    const bool a_positive = uniform4(seed, Stream::charge_sign, static_cast<std::uint64_t>(a), 0)[0] < 0.5;
    charge[a - 1] = a_positive ? q : -q;
    charge[b - 1] = a_positive ? -q : q;
  }
  return charge;
}

void assign_charges(const BondSet& bonds, std::int64_t n_beads, double q, std::uint64_t seed, Beads& beads) {
  const std::vector<double> charge = bond_charges(bonds, n_beads, q, seed);
  for (int k = 0; k < beads.n_local(); ++k) beads.charge[k] = charge[beads.id[k] - 1];
}

BondStats bond_stats(const BondSet& bonds) {
  BondStats s;
  const std::size_t n = bonds.length.size();
  s.histogram.assign(static_cast<std::size_t>(std::ceil(bonds.cutoff / s.bin_width)), 0);
  if (n == 0) return s;
  long double sum = 0.0L, sum2 = 0.0L;  // the same data in the same order everywhere: deterministic
  s.min = s.max = bonds.length[0];
  for (double r : bonds.length) {
    sum += r;
    s.min = std::min(s.min, r), s.max = std::max(s.max, r);
    const auto bin = static_cast<std::size_t>(r / s.bin_width);
    ++s.histogram[std::min(bin, s.histogram.size() - 1)];
  }
  s.mean = static_cast<double>(sum / n);
  for (double r : bonds.length) sum2 += (r - s.mean) * (r - s.mean);
  s.std = static_cast<double>(std::sqrt(sum2 / n));
  return s;
}

// ---- the stage --------------------------------------------------------------------------------

namespace {

// What `tlsmap charge` reads from the input file.
struct ChargeSettings {
  std::string output, mode;
  double zeta = 0.0, cutoff = 0.0, max_cutoff = 0.0;
  std::uint64_t seed = 0;
  PhysicalUnits units;
  double q = 0.0;  // ζ e in the reduced charge unit q*

  static ChargeSettings from_input(const Input& in);
};

ChargeSettings ChargeSettings::from_input(const Input& in) {
  ChargeSettings s;
  s.output = output_path(in);
  s.zeta = in.get_double("charge.zeta");
  s.cutoff = in.get_double("charge.bond_cutoff");
  s.max_cutoff = in.get_double("charge.max_bond_cutoff");
  if (s.max_cutoff < s.cutoff) in.fail("charge.max_bond_cutoff", "must be at least charge.bond_cutoff");
  s.seed = static_cast<std::uint64_t>(in.get_int("run.seed"));
  s.units = PhysicalUnits::from_input(in);
  s.q = s.zeta / s.units.e_per_charge();
  s.mode = in.get_string("charge.mode");
  if (s.mode == "active")
    in.fail("charge.mode",
            "the charge stage gives a finished glass passive charges; active charges belong to a "
            "model whose charges exist while the liquid forms (system.model = \"polar-dimers\", set "
            "by pack)");
  return s;
}

// Charges are stored in q*, which depends on σ and ε: the file's mapping must be the input's.
void check_charge_unit(const Configuration& c, const ChargeSettings& s) {
  const PhysicalUnits& units = s.units;
  if (auto it = c.meta.values.find("e_per_reduced_charge"); it != c.meta.values.end()) {
    if (std::abs(it->second - units.e_per_charge()) > 1e-12 * units.e_per_charge())
      throw Error(s.output + ": was written with e_per_reduced_charge = " + std::to_string(it->second) +
                  ", but the input's [units] give " + std::to_string(units.e_per_charge()) +
                  "; use the [units] the configuration was made with");
  }
}

// This rank's beads are the file rows [first_row, first_row + n_owned) (read_configuration's row
// blocks, in order): overwrite the last frame of /particles/all/charge in place.
void write_charge_rows(Hdf5File& file, const Beads& beads, std::int64_t n, MPI_Comm comm) {
  std::int64_t n_mine = beads.n_owned, first_row = 0;
  MPI_Exscan(&n_mine, &first_row, 1, MPI_INT64_T, MPI_SUM, comm);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) first_row = 0;  // MPI_Exscan leaves rank 0's result undefined
  overwrite_rows(file, "/particles/all/charge", beads.charge, first_row, n);
}

// /charge: the bonds, their lengths and statistics, and the settings used.
void write_charge_group(Hdf5File& file, const BondSet& bonds, const BondStats& st, const ChargeSettings& s,
                        double mu_reduced, double net) {
  const std::size_t nb = bonds.bonds.size();
  std::vector<std::int64_t> flat(2 * nb);
  for (std::size_t k = 0; k < nb; ++k) flat[2 * k] = bonds.bonds[k][0], flat[2 * k + 1] = bonds.bonds[k][1];
  write_replicated(file, "/charge/bonds", flat, {nb, 2});
  write_replicated(file, "/charge/bond_length", bonds.length, {nb});
  write_replicated(file, "/charge/unpaired", bonds.unpaired, {bonds.unpaired.size()});
  write_replicated(file, "/charge/bond_length_histogram", st.histogram, {st.histogram.size()});
  std::vector<double> edges(st.histogram.size() + 1);
  for (std::size_t k = 0; k < edges.size(); ++k) edges[k] = static_cast<double>(k) * st.bin_width;
  write_replicated(file, "/charge/bond_length_bin_edges", edges, {edges.size()});
  const std::pair<const char*, double> attrs[] = {
      {"zeta", s.zeta},
      {"charge_reduced", s.q},
      {"mu_mol_reduced", mu_reduced},
      {"mu_mol_debye", mu_reduced * s.units.debye_per_dipole()},
      {"bond_length_mean", st.mean},
      {"bond_length_std", st.std},
      {"bond_length_min", st.min},
      {"bond_length_max", st.max},
      {"bond_cutoff", s.cutoff},
      {"bond_cutoff_used", bonds.cutoff},
      {"n_bonds", static_cast<double>(nb)},
      {"n_unpaired", static_cast<double>(bonds.unpaired.size())},
      {"net_charge", net},
      {"seed", static_cast<double>(s.seed)},
  };
  for (const auto& [name, value] : attrs) write_attribute(file, "/charge", name, value);
  write_attribute(file, "/charge", "mode", s.mode);
  write_attribute(file, "/charge/bond_length", "unit", "sigma");
  write_attribute(file, "/charge/bond_length_bin_edges", "unit", "sigma");
}

}  // namespace

void check_charge_input(const Input& in) { (void)ChargeSettings::from_input(in); }

void run_charge(const Input& in, MPI_Comm comm) {
  const ChargeSettings s = ChargeSettings::from_input(in);
  const std::string& path = s.output;
  Progress progress(comm, "charge");

  Hdf5File file(path, Hdf5File::Mode::update, comm);
  Configuration c = read_configuration(file);
  check_charge_unit(c, s);
  const std::int64_t n = c.n_global;
  progress.say(fmt::format("{} beads from {}; zeta = {:.4g} e = {:.6g} q*; bond cutoff {:.4g} (up to {:.4g})", n, path,
                           s.zeta, s.q, s.cutoff, s.max_cutoff));

  const BondSet bonds = pair_beads(c.beads, c.box, s.cutoff, s.max_cutoff, comm);
  if (bonds.enlargements > 0) {
    progress.say(fmt::format("bond cutoff enlarged {} times, from {:.4g} to {:.4g}, to pair every bead",
                             bonds.enlargements, s.cutoff, bonds.cutoff));
  }
  assign_charges(bonds, n, s.q, s.seed, c.beads);
  c.beads.charge.resize(c.beads.n_owned);
  const double net = reproducible_sum(comm, c.beads.charge);  // exact: ±q in equal numbers
  const BondStats st = bond_stats(bonds);
  const double mu_reduced = s.q * st.mean;  // the paper's μ_mol = ζ q ⟨r_bond⟩
  const double mu_debye = mu_reduced * s.units.debye_per_dipole();

  // Overwrite the charges in place, and remove /charge if a previous run wrote it, so the stage can be rerun.
  write_charge_rows(file, c.beads, n, comm);
  remove_object(file, "/charge");
  write_charge_group(file, bonds, st, s, mu_reduced, net);
  file.commit();

  progress.say(fmt::format("{} bonds, {} unpaired; bond length {:.4f} +- {:.4f} sigma (min {:.4f}, max {:.4f})",
                           bonds.bonds.size(), bonds.unpaired.size(), st.mean, st.std, st.min, st.max));
  progress.say(fmt::format("mu_mol = zeta q <r_bond> = {:.5g} q* sigma = {:.4g} D; net charge {:.3g}", mu_reduced,
                           mu_debye, net));
  progress.say(fmt::format("updated {} in {:.2f} s", path, progress.elapsed()));
}

}  // namespace tlsmap
