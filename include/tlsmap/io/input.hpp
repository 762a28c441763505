#pragma once
// The input file: TOML, checked against a schema that lists every allowed key.
//
// Why a schema: the key list, defaults, ranges, units and documentation live in one place
// (default_schema() in input.cpp), so the checks, the error messages, `tlsmap --help-input` and
// docs/input.md cannot drift apart. Anything not in the schema is an error, never silently ignored:
// a misspelt key in an HPC job script would otherwise run a whole job with the default.
//
// Why broadcast the text: rank 0 alone reads the file (one metadata hit on a parallel file system),
// then every rank parses the same bytes with the same code, so every rank reaches the same verdict
// and throws the same tlsmap::Error at the same point, with no further communication and no hang.
// The raw text is kept so the output file can record exactly what produced it.
#include <mpi.h>

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tlsmap {

enum class KeyType { Int, Double, Bool, String, Double3, Integer3 };

// A value as the schema and Input hold it; the alternative matches KeyType.
using InputValue = std::variant<std::int64_t, double, bool, std::string, std::array<double, 3>, std::array<int, 3>>;

// Whether a key may be absent: Required keys must be given; Optional keys without a default make
// Input::has() false when absent. Keys given a default value are neither.
enum class Presence { Default, Required, Optional };
inline constexpr Presence required = Presence::Required;
inline constexpr Presence optional_key = Presence::Optional;

// Allowed interval of a number (each element of a vector), parsed from the notation used in
// messages and docs: "(0, 0.1]", "[0, inf)", "[-1, 1]"; "" means any value.
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = true, hi_open = true;
  static Range parse(std::string_view text);  // throws std::logic_error on a malformed spec
  bool contains(double x) const;
  bool unbounded() const;
  std::string describe() const;  // "in (0, 0.1]", "> 0", ">= 1"
  std::string notation() const;  // "(0, 0.1]", "(0, inf)"; "" when unbounded
};

struct KeySpec {
  std::string key;  // "table.name"
  KeyType type = KeyType::Double;
  Presence presence = Presence::Default;
  InputValue default_value;  // meaningful only when presence == Default
  Range range;
  std::vector<std::string> choices;  // String keys: allowed values (empty = any string)
  std::string unit, doc;

  std::string table() const { return key.substr(0, key.find('.')); }
  std::string name() const { return key.substr(key.find('.') + 1); }
  std::string allowed() const;  // what is allowed, in words, for messages and help
};

// The declared keys, in declaration order. Declaring a key twice, a malformed key or range, or a
// default outside its own range is a programming error (std::logic_error).
class Schema {
 public:
  Schema& add_int(std::string key, std::int64_t def, std::string_view range, std::string unit, std::string doc);
  Schema& add_int(std::string key, Presence p, std::string_view range, std::string unit, std::string doc);
  Schema& add_double(std::string key, double def, std::string_view range, std::string unit, std::string doc);
  Schema& add_double(std::string key, Presence p, std::string_view range, std::string unit, std::string doc);
  Schema& add_bool(std::string key, bool def, std::string doc);
  Schema& add_bool(std::string key, Presence p, std::string doc);
  // choices empty = any string
  Schema& add_string(std::string key, std::string def, std::vector<std::string> choices, std::string doc);
  Schema& add_string(std::string key, Presence p, std::vector<std::string> choices, std::string doc);
  Schema& add_vec3(std::string key, std::array<double, 3> def, std::string_view range, std::string unit,
                   std::string doc);
  Schema& add_vec3(std::string key, Presence p, std::string_view range, std::string unit, std::string doc);
  Schema& add_int3(std::string key, std::array<int, 3> def, std::string_view range, std::string unit, std::string doc);
  Schema& add_int3(std::string key, Presence p, std::string_view range, std::string unit, std::string doc);

  const KeySpec* find(std::string_view key) const;  // nullptr if undeclared
  bool has_table(std::string_view table) const;
  std::vector<std::string> tables() const;  // in declaration order
  const std::vector<KeySpec>& keys() const& { return keys_; }
  // `for (auto& k : default_schema().keys())` would dangle; make it a compile error.
  const std::vector<KeySpec>& keys() && = delete;

 private:
  Schema& add(KeySpec spec);
  std::vector<KeySpec> keys_;
};

// The schema of tlsmap's own input file.
Schema default_schema();

// The schema as a plain-text table (for `tlsmap --help-input`); same columns as docs/input.md.
std::string schema_help(const Schema& schema);

// A value in the text form TOML (and the docs) use: 0.005, "langevin", [1, 1, 1].
std::string format_value(const InputValue& v);

class Input {
 public:
  // Collective over comm. Throws tlsmap::Error on every rank for any problem with the file.
  static Input parse(MPI_Comm comm, const std::string& path, const Schema& schema);
  // Not collective: parse text already in memory (e.g. the copy stored in an output file);
  // `path` only names the source in messages.
  static Input from_string(const std::string& text, const std::string& path, const Schema& schema);

  // Typed access by "table.key". Asking for an undeclared key, a key of another type, or an
  // absent optional key throws Error (a programming error, but identical on every rank).
  // get_double also accepts Int keys.
  std::int64_t get_int(std::string_view key) const;
  double get_double(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  const std::string& get_string(std::string_view key) const;
  std::array<double, 3> get_vec3(std::string_view key) const;
  std::array<int, 3> get_int3(std::string_view key) const;

  bool has(std::string_view key) const;    // a value exists (given, or a default)
  bool given(std::string_view key) const;  // set in the file
  int line(std::string_view key) const;    // line in the file, 0 if not given

  // For checks the schema cannot express (e.g. proc_grid must multiply to the rank count):
  // throws Error "file:line: key 'k' = value: what" in the same style as the schema checks.
  [[noreturn]] void fail(std::string_view key, const std::string& what) const;

  const std::string& raw_text() const { return raw_text_; }
  const std::string& path() const { return path_; }
  // Every key with its effective value (defaults filled), as TOML: records what a run used even
  // if defaults change between versions.
  std::string effective_toml() const;
  const Schema& schema() const { return schema_; }

 private:
  struct Entry {
    InputValue value;
    bool present = false;
    int line = 0;      // 0: not given in the file
    std::string text;  // as written in the file
  };
  const Entry& entry(std::string_view key, KeyType want) const;

  std::string path_, raw_text_;
  Schema schema_;
  std::map<std::string, Entry, std::less<>> entries_;
};

// The file every stage reads and writes (`run.output`): the one place a stage learns its name.
inline const std::string& output_path(const Input& in) { return in.get_string("run.output"); }

}  // namespace tlsmap
