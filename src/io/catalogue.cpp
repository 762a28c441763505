// The /tls schema and the loops that move a catalogue through bytes and HDF5 (see catalogue.hpp).
#include "tlsmap/io/catalogue.hpp"

#include "tlsmap/core/bytes.hpp"
#include "tlsmap/core/error.hpp"
#include "tlsmap/io/h5md.hpp"

#include <map>
#include <type_traits>

namespace tlsmap {

const std::vector<TlsColumn>& tls_schema() {
  using R = TlsRow;
  static const std::vector<TlsColumn> columns = {
      {"domain", "1", &R::domain, nullptr},
      {"center", "sigma", &R::center, nullptr},
      {"radius", "sigma", &R::radius, nullptr},
      {"method", "", &R::method, nullptr},
      {"n_merged", "1", &R::n_merged, nullptr},
      {"class", "", &R::cls, nullptr},
      {"involves_occupied", "1", &R::involves_occupied, nullptr},
      {"adjacent", "1", &R::adjacent, nullptr},
      {"energy_a", "epsilon", &R::energy_a, nullptr},
      {"energy_b", "epsilon", &R::energy_b, nullptr},
      {"asymmetry", "epsilon", &R::asymmetry, nullptr},
      {"barrier", "epsilon", &R::barrier, nullptr},
      {"energy_a_relaxed", "epsilon", &R::energy_a_relaxed, nullptr},
      {"energy_b_relaxed", "epsilon", &R::energy_b_relaxed, nullptr},
      {"asymmetry_relaxed", "epsilon", &R::asymmetry_relaxed, nullptr},
      {"relaxed_adjacent", "1", &R::relaxed_adjacent, nullptr},
      {"delta_zpe", "epsilon", &R::delta_zpe, nullptr},
      {"e_qs", "epsilon", &R::e_qs, nullptr},
      {"e_qs_kelvin", "K", &R::e_qs_kelvin, nullptr},
      {"e_qs_mirror", "epsilon", &R::e_qs_mirror, nullptr},
      {"splitting", "epsilon", &R::splitting, nullptr},
      {"splitting_kelvin", "K", &R::splitting_kelvin, nullptr},
      {"over_barrier", "1", &R::over_barrier, nullptr},
      {"d_l", "sigma", &R::d_l, nullptr},
      {"participation", "1", &R::participation, nullptr},
      {"path_length", "sigma m^1/2", &R::path_length, nullptr},
      {"distance", "sigma m^1/2", &R::distance, nullptr},
      {"n_moving", "1", &R::n_moving, nullptr},
      {"intermediate_minima", "1", &R::intermediate_minima, nullptr},
      {"saddle_verified", "1", &R::saddle_verified, nullptr},
      {"saddle_connects", "1", &R::saddle_connects, nullptr},
      {"neb_converged", "1", &R::neb_converged, nullptr},
      {"mu_direct", "q* sigma", &R::mu_direct, nullptr},
      {"profile_energy", "epsilon", &R::profile_energy, "profile_offset"},
      {"profile_coordinate", "sigma m^1/2", &R::profile_coordinate, "profile_offset"},
      {"mobile_id", "1", &R::mobile_id, "mobile_offset"},
      {"position_a", "sigma", &R::position_a, "mobile_offset"},
      {"position_b", "sigma", &R::position_b, "mobile_offset"},
  };
  return columns;
}

std::string tls_schema_signature() {
  std::string s;
  for (const TlsColumn& c : tls_schema())
    s += std::string(c.name) + ":" + std::to_string(c.member.index()) + ":" + c.unit + ":" +
         (c.offset ? c.offset : "") + ";";
  return s;
}

void put_row(ByteWriter& w, const TlsRow& row) {
  for (const TlsColumn& c : tls_schema()) std::visit([&](auto m) { w.put(row.*m); }, c.member);
}

TlsRow get_row(ByteReader& r) {
  TlsRow row;
  for (const TlsColumn& c : tls_schema()) std::visit([&](auto m) { r.get(row.*m); }, c.member);
  return row;
}

std::string classify(bool adjacent, double e_qs, bool levels_below_barrier, double max_splitting) {
  if (adjacent && e_qs <= max_splitting) return "tls";
  return levels_below_barrier ? "double_well" : "single_well";
}

// ---- HDF5 ---------------------------------------------------------------------------------

namespace {

template <class T>
constexpr bool is_vector = false;
template <class T>
constexpr bool is_vector<std::vector<T>> = true;

template <class T>
struct ColumnKind {  // how a member's values are stored: element type and values per entry
  using Element = T;
  static constexpr std::size_t width = 1;
};
template <>
struct ColumnKind<Vec3> {
  using Element = double;
  static constexpr std::size_t width = 3;
};

template <class T>
void append(std::vector<typename ColumnKind<T>::Element>& out, const T& v) {
  if constexpr (std::is_same_v<T, Vec3>) out.insert(out.end(), {v[0], v[1], v[2]});
  else out.push_back(v);
}

template <class T>
T element(const std::vector<typename ColumnKind<T>::Element>& in, std::size_t k) {
  if constexpr (std::is_same_v<T, Vec3>) return row3(in, k);
  else return in[k];
}

template <class T>
Shape shape(std::size_t n) {
  if (ColumnKind<T>::width == 1) return {n};
  return {n, ColumnKind<T>::width};
}

std::string where(const char* name) { return std::string("/tls/") + name; }

// f(column, its /tls path, its TlsRow member pointer) for every column of the schema, in order:
// the one walk the writer and the reader share.
template <class F>
void for_each_column(F&& f) {
  for (const TlsColumn& c : tls_schema()) {
    const std::string path = where(c.name);
    std::visit([&](auto m) { f(c, path, m); }, c.member);
  }
}

}  // namespace

void write_tls(Hdf5File& file, const std::vector<TlsRow>& rows, const TlsAttributes& attrs) {
  remove_object(file, "/tls");
  const std::size_t n = rows.size();
  std::map<std::string, std::vector<std::int64_t>> offsets;  // per offset dataset, from its first column
  for_each_column([&](const TlsColumn& c, const std::string& path, auto m) {
    using V = std::remove_cvref_t<decltype(TlsRow{}.*m)>;
    if constexpr (std::is_same_v<V, std::string>) {
      std::vector<std::string> v;
      for (const TlsRow& r : rows) v.push_back(r.*m);
      write_replicated_strings(file, path, v);
    } else if constexpr (is_vector<V>) {  // a ragged column
      using T = typename V::value_type;
      std::vector<typename ColumnKind<T>::Element> values;
      std::vector<std::int64_t> off{0};
      for (const TlsRow& r : rows) {
        for (const T& x : r.*m) append(values, x);
        off.push_back(off.back() + static_cast<std::int64_t>((r.*m).size()));
      }
      auto [it, first] = offsets.emplace(c.offset, off);
      if (first) write_replicated(file, where(c.offset), off, {n + 1});
      else if (it->second != off)
        throw Error(std::string("catalogue: /tls/") + c.name + " does not have the rows of /tls/" + c.offset);
      write_replicated(file, path, values, shape<T>(off.back()));
    } else {
      std::vector<typename ColumnKind<V>::Element> values;
      for (const TlsRow& r : rows) append(values, r.*m);
      write_replicated(file, path, values, shape<V>(n));
    }
    if (*c.unit) write_attribute(file, path, "unit", c.unit);
  });
  write_attribute(file, "/tls", "units", "lj");
  write_attribute(file, "/tls", "n_pairs", double(n));
  write_attribute(file, "/tls", "hbar_reduced", attrs.hbar_reduced);
  write_attribute(file, "/tls", "max_splitting", attrs.max_splitting);
  write_attribute(file, "/tls", "max_splitting_kelvin", attrs.max_splitting * attrs.epsilon_kelvin);
  write_attribute(file, "/tls", "n_merged", double(attrs.n_merged));
}

std::vector<TlsRow> read_tls(Hdf5File& file) {
  const std::string& fname = file.path();
  auto fail = [&](const std::string& what) { throw Error(fname + ": " + what); };
  Shape dims;
  const std::size_t n = read_dataset<std::int64_t>(file, "/tls/domain", &dims).size();
  std::vector<TlsRow> rows(n);
  std::map<std::string, std::vector<std::int64_t>> offsets;
  for_each_column([&](const TlsColumn& c, const std::string& path, auto m) {
    using V = std::remove_cvref_t<decltype(TlsRow{}.*m)>;
    if constexpr (std::is_same_v<V, std::string>) {
      const auto v = read_strings(file, path);
      if (v.size() != n) fail(path + " has " + std::to_string(v.size()) + " rows, /tls/domain " + std::to_string(n));
      for (std::size_t k = 0; k < n; ++k) rows[k].*m = v[k];
    } else if constexpr (is_vector<V>) {
      using T = typename V::value_type;
      auto it = offsets.find(c.offset);
      if (it == offsets.end()) {
        const std::string opath = where(c.offset);
        auto off = read_dataset<std::int64_t>(file, opath, &dims);
        if (dims.size() != 1 || off.size() != n + 1 || off[0] != 0)
          fail(opath + " must have " + std::to_string(n + 1) + " entries starting at 0");
        for (std::size_t k = 0; k < n; ++k)
          if (off[k + 1] < off[k]) fail(opath + " decreases at row " + std::to_string(k));
        it = offsets.emplace(c.offset, std::move(off)).first;
      }
      const auto& off = it->second;
      const auto values = read_dataset<typename ColumnKind<T>::Element>(file, path, &dims);
      if (dims != shape<T>(off.back()))
        fail(path + " must have " + std::to_string(off.back()) + " rows (the end of /tls/" + c.offset + ")");
      for (std::size_t k = 0; k < n; ++k)
        for (std::int64_t j = off[k]; j < off[k + 1]; ++j) (rows[k].*m).push_back(element<T>(values, j));
    } else {
      const auto values = read_dataset<typename ColumnKind<V>::Element>(file, path, &dims);
      if (dims != shape<V>(n)) fail(path + " must have " + std::to_string(n) + " rows (those of /tls/domain)");
      for (std::size_t k = 0; k < n; ++k) rows[k].*m = element<V>(values, k);
    }
  });
  return rows;
}

}  // namespace tlsmap
