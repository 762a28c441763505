// Input layer: schema checks, error messages (file, line, key, what is allowed), identical
// behaviour on every rank, and agree(). Runs at 1, 2 and 4 ranks; nothing here depends on the count.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tlsmap/core/error.hpp"
#include "tlsmap/io/input.hpp"

using namespace tlsmap;

namespace {

std::string data_dir() {
  const char* d = std::getenv("TLSMAP_TEST_DATA");
  return d ? d : "tests/data";
}
std::string data(const std::string& name) { return data_dir() + "/" + name; }

int rank_of(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}

// Rank 0's string on every rank, to check all ranks saw the same thing.
std::string from_rank0(std::string s) {
  unsigned long n = s.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG, 0, MPI_COMM_WORLD);
  s.resize(n);
  MPI_Bcast(s.data(), int(n), MPI_CHAR, 0, MPI_COMM_WORLD);
  return s;
}

// Parses `file` collectively, expects an Error on this rank, and returns its message.
std::string parse_error(const std::string& file, const Schema& schema = default_schema()) {
  try {
    Input::parse(MPI_COMM_WORLD, file, schema);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << file << " parsed without error";
  return "";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace

TEST(Input, ValidFileFillsDefaults) {
  const Input in = Input::parse(MPI_COMM_WORLD, data("input_valid.toml"), default_schema());
  EXPECT_EQ(in.get_string("run.output"), "valid.h5");
  EXPECT_EQ(in.get_int("run.seed"), 7);
  EXPECT_EQ(in.get_int("system.n_beads"), 500);
  EXPECT_EQ(in.get_vec3("system.box_aspect"), (std::array<double, 3>{1, 1, 2.5}));
  EXPECT_EQ(in.get_int3("system.proc_grid"), (std::array<int, 3>{0, 0, 1}));
  EXPECT_EQ(in.get_double("md.temperature"), 1.0);  // integer converted
  EXPECT_EQ(in.get_string("md.thermostat"), "none");
  // defaults
  EXPECT_EQ(in.get_int("run.log_every"), 1000);
  EXPECT_EQ(in.get_double("system.density"), 1.2);
  EXPECT_EQ(in.get_string("system.model"), "kob-andersen");
  EXPECT_EQ(in.get_double("md.dt"), 0.005);
  EXPECT_EQ(in.get_double("minimize.f_tol"), 1e-10);
  EXPECT_EQ(in.get_string("charge.mode"), "passive");
  EXPECT_EQ(in.get_double("units.mass_amu"), 39.948);
  EXPECT_TRUE(in.has("md.dt"));
  EXPECT_FALSE(in.given("md.dt"));
  EXPECT_TRUE(in.given("md.thermostat"));
  EXPECT_EQ(in.line("md.thermostat"), 13);
  EXPECT_EQ(in.line("md.dt"), 0);
  EXPECT_EQ(in.path(), data("input_valid.toml"));
  EXPECT_EQ(in.raw_text(), slurp(data("input_valid.toml")));  // on every rank, not just rank 0
}

TEST(Input, EffectiveTomlReadsBackToTheSameValues) {
  const Input a = Input::parse(MPI_COMM_WORLD, data("input_valid.toml"), default_schema());
  const Input b = Input::from_string(a.effective_toml(), "effective", default_schema());
  for (const auto& k : b.schema().keys()) {
    if (k.presence == Presence::Optional && !a.has(k.key)) continue;  // an unset optional key stays unset
    EXPECT_TRUE(b.given(k.key)) << k.key;
  }
  EXPECT_EQ(b.get_vec3("system.box_aspect"), a.get_vec3("system.box_aspect"));
  EXPECT_EQ(b.get_double("minimize.f_tol"), a.get_double("minimize.f_tol"));
  EXPECT_EQ(b.get_string("md.thermostat"), a.get_string("md.thermostat"));
  EXPECT_EQ(b.effective_toml(), a.effective_toml());
}

// Each bad file: the error names the file, the line and the key, and says what is allowed.
struct BadCase {
  std::string file;
  int line;
  std::vector<std::string> expect;  // substrings of the message
};

TEST(Input, BadFilesGiveOneClearErrorOnEveryRank) {
  const std::vector<BadCase> cases = {
      {"input_bad_range.toml", 7, {"'md.dt' = -0.1 is out of range: must be in (0, 0.1] (time step, unit: tau)"}},
      {"input_unknown_key.toml",
       4,
       {"unknown key 'pack.equil_step'", "did you mean 'pack.equil_steps'?", "keys in [pack]:"}},
      {"input_unknown_table.toml", 3, {"unknown table [mdd]", "did you mean [md]?"}},
      {"input_double_for_int.toml",
       5,
       {"'system.n_beads' = 4000.0 has the wrong type: expected an integer in [2, 2147483647]"}},
      {"input_string_for_double.toml", 2, {"'md.dt' = \"fast\" has the wrong type: expected a number in (0, 0.1]"}},
      {"input_bad_choice.toml",
       4,
       {"'md.thermostat' = \"langevn\" is not allowed: must be one of \"langevin\", \"none\"",
        "did you mean \"langevin\"?"}},
      {"input_charge_mode.toml",
       3,
       {"'charge.mode' = \"dynamic\" is not allowed: must be one of \"passive\", \"active\""}},
      {"input_syntax.toml", 6, {"TOML syntax error"}},
      {"input_duplicate.toml", 4, {"TOML syntax error", "already exists"}},
      {"input_vec_length.toml",
       3,
       {"'system.box_aspect' = [1.0, 2.0] has the wrong type (2 elements): expected an array of 3 "
        "numbers, in [0.01, 100] each"}},
      {"input_vec_element.toml",
       2,
       {"'system.box_aspect' = [1.0, -2.0, 1.0] is out of range (element 2 is -2): must be in [0.01, 100] for each "
        "element"}},
      {"input_outside_table.toml", 2, {"key 'dt' is outside any table", "did you mean 'md.dt'?"}},
      {"input_wrong_table.toml", 3, {"unknown key 'system.temperature'", "did you mean 'md.temperature'?"}},
      {"input_not_a_table.toml", 2, {"'md' must be a table"}},
      {"input_int_overflow.toml", 2, {"'system.n_beads'", "too large"}},
  };
  for (const auto& c : cases) {
    const std::string path = data(c.file);
    const std::string msg = parse_error(path);
    const std::string prefix = path + ":" + std::to_string(c.line) + ": ";
    EXPECT_EQ(msg.rfind(prefix, 0), 0u) << "expected prefix " << prefix << "\ngot: " << msg;
    for (const auto& s : c.expect) EXPECT_NE(msg.find(s), std::string::npos) << "missing: " << s << "\nin: " << msg;
    EXPECT_EQ(msg, from_rank0(msg)) << "ranks disagree on " << c.file;
  }
}

TEST(Input, AllProblemsOfAFileReportedTogetherInLineOrder) {
  const std::string path = data("input_multiple.toml");
  const std::string msg = parse_error(path);
  const auto l3 = msg.find(path + ":3: key 'md.dt' = 0.5 is out of range");
  const auto l4 = msg.find(path + ":4: key 'md.thermostat' = \"nose\" is not allowed");
  const auto l6 = msg.find(path + ":6: key 'charge.zeta' = 2 is out of range: must be in [0, 1]");
  ASSERT_NE(l3, std::string::npos) << msg;
  ASSERT_NE(l4, std::string::npos) << msg;
  ASSERT_NE(l6, std::string::npos) << msg;
  EXPECT_LT(l3, l4);
  EXPECT_LT(l4, l6);
}

TEST(Input, MissingOrUnreadableFile) {
  const std::string missing = data("no_such_input.toml");
  std::string msg = parse_error(missing);
  EXPECT_NE(msg.find(missing + ": cannot open input file"), std::string::npos) << msg;
  EXPECT_EQ(msg, from_rank0(msg));
  msg = parse_error(data_dir());
  EXPECT_NE(msg.find("is a directory"), std::string::npos) << msg;
}

TEST(Input, RequiredAndOptionalKeys) {
  Schema s;
  s.add_string("sample.name", required, {}, "sample name")
      .add_int("sample.size", 1, "[1, 10]", "", "sample size")
      .add_double("sample.weight", optional_key, "(0, inf)", "kg", "weight if known")
      .add_bool("sample.fast", false, "take shortcuts");
  const std::string path = data("input_missing_required.toml");
  const std::string msg = parse_error(path, s);
  EXPECT_EQ(msg.rfind(path + ":2: missing required key 'sample.name'", 0), 0u) << msg;

  const Input in = Input::from_string("[sample]\nname = \"x\"\nfast = true\n", "mem.toml", s);
  EXPECT_EQ(in.get_string("sample.name"), "x");
  EXPECT_TRUE(in.get_bool("sample.fast"));
  EXPECT_FALSE(in.has("sample.weight"));
  EXPECT_THROW(in.get_double("sample.weight"), Error);
  EXPECT_EQ(in.get_double("sample.size"), 1.0);  // an int key read as double is fine

  // Without the table at all, the message has no line but still names file and key.
  try {
    Input::from_string("", "empty.toml", s);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("empty.toml: missing required key 'sample.name'", 0), 0u) << e.what();
  }
}

TEST(Input, AccessorMisuseThrows) {
  const Input in = Input::from_string("", "empty.toml", default_schema());
  EXPECT_THROW(in.get_double("md.no_such_key"), Error);
  EXPECT_THROW(in.get_int("md.dt"), Error);
  EXPECT_THROW(in.get_string("system.n_beads"), Error);
  EXPECT_FALSE(in.has("md.no_such_key"));
}

TEST(Input, FailNamesFileLineAndKey) {
  const Input in = Input::parse(MPI_COMM_WORLD, data("input_valid.toml"), default_schema());
  try {
    in.fail("system.proc_grid", "must multiply to the number of ranks (3)");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), data("input_valid.toml") +
                                         ":9: key 'system.proc_grid' = [0, 0, 1]: must multiply to "
                                         "the number of ranks (3)");
  }
  try {
    in.fail("md.dt", "too large for this model");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("key 'md.dt' (default 0.005): too large"), std::string::npos) << e.what();
  }
}

TEST(Schema, DeclarationMistakesAreCaught) {
  Schema s;
  s.add_double("a.x", 1.0, "(0, 1]", "", "x");
  EXPECT_THROW(s.add_double("a.x", 1.0, "", "", "twice"), std::logic_error);
  EXPECT_THROW(s.add_double("a.y", 0.0, "(0, 1]", "", "default outside range"), std::logic_error);
  EXPECT_THROW(s.add_string("a.z", "c", {"a", "b"}, "default not a choice"), std::logic_error);
  EXPECT_THROW(s.add_int("noTable", 1, "", "", "no table"), std::logic_error);
  EXPECT_THROW(s.add_int("a.b.c", 1, "", "", "too deep"), std::logic_error);
  EXPECT_THROW(s.add_int("a.w", 1, "[0, 2", "", "bad range"), std::logic_error);
  EXPECT_THROW(s.add_int("a.w", 1, "[2, 0]", "", "empty range"), std::logic_error);
  EXPECT_THROW(s.add_int("a.w", Presence::Default, "", "", "presence without default"), std::logic_error);
}

TEST(Schema, RangeNotation) {
  EXPECT_EQ(Range::parse("(0, 0.1]").describe(), "in (0, 0.1]");
  EXPECT_EQ(Range::parse("(0, inf)").describe(), "> 0");
  EXPECT_EQ(Range::parse("[1, inf)").describe(), ">= 1");
  EXPECT_EQ(Range::parse("(-inf, 3]").describe(), "<= 3");
  EXPECT_EQ(Range::parse("").describe(), "any value");
  EXPECT_TRUE(Range::parse("[0, 1]").contains(0.0));
  EXPECT_FALSE(Range::parse("(0, 1]").contains(0.0));
  EXPECT_FALSE(Range::parse("").contains(std::nan("")));
}

TEST(Schema, DefaultSchemaHelpAndDocsListEveryKey) {
  const Schema s = default_schema();
  EXPECT_EQ(s.tables(), (std::vector<std::string>{"run", "system", "md", "pack", "minimize", "charge", "coulomb",
                                                  "search", "pairs", "tls", "dipole", "interact", "units"}));
  const std::string help = schema_help(s);
  const std::string docs = slurp(data_dir() + "/../../docs/input.md");
  ASSERT_FALSE(docs.empty()) << "docs/input.md not found";
  for (const auto& k : s.keys()) {
    EXPECT_NE(help.find(k.key), std::string::npos) << k.key;
    // docs/input.md is written by hand: each key must appear in its table's section.
    const auto section = docs.find("### [" + k.table() + "]");
    ASSERT_NE(section, std::string::npos) << "docs/input.md lacks section [" << k.table() << "]";
    EXPECT_NE(docs.find("| `" + k.name() + "` ", section), std::string::npos) << "docs/input.md lacks " << k.key;
  }
  // An empty file is valid: every key has a default.
  EXPECT_NO_THROW(Input::from_string("", "empty.toml", s));
}

// Every input the project ships (inputs/, recursively: the default, the large and polydisperse
// runs, the stability series, the polar templates) reads against the schema: no unknown key, no
// value of the wrong type or out of range. A typo there would surface only on a user's cluster.
TEST(Schema, EveryShippedInputReads) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(data_dir()) / ".." / ".." / "inputs";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().extension() != ".toml") continue;
    ++n;
    try {
      Input::parse(MPI_COMM_WORLD, e.path().string(), default_schema());
    } catch (const std::exception& x) {
      ADD_FAILURE() << e.path() << ": " << x.what();
    }
  }
  EXPECT_GE(n, 20) << "fewer shipped inputs than the 22 of 2026-12-06: is inputs/ where it was?";
}

TEST(Agree, AllOkDoesNotThrow) { EXPECT_NO_THROW(agree(MPI_COMM_WORLD, true, "unused")); }

TEST(Agree, OneFailingRankMakesEveryRankThrowItsMessage) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int rank = rank_of(MPI_COMM_WORLD);
  const int bad = size - 1;
  try {
    agree(MPI_COMM_WORLD, rank != bad, "bead 17 lost on rank " + std::to_string(rank));
    ADD_FAILURE() << "agree did not throw";
  } catch (const Error& e) {
    const std::string r = std::to_string(bad);
    EXPECT_EQ(std::string(e.what()), "[rank " + r + "] bead 17 lost on rank " + r);
  }
}

TEST(Agree, LowestFailingRankSpeaks) {
  const int rank = rank_of(MPI_COMM_WORLD);
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int lowest = size > 1 ? 1 : 0;  // ranks >= 1 fail (rank 0 too when alone)
  try {
    agree(MPI_COMM_WORLD, rank < lowest, "message from " + std::to_string(rank));
    ADD_FAILURE() << "agree did not throw";
  } catch (const Error& e) {
    const std::string r = std::to_string(lowest);
    EXPECT_EQ(std::string(e.what()), "[rank " + r + "] message from " + r);
  }
}
