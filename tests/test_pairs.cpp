// The pair list of `tlsmap pairs` (parse_pair_list, pairs_stage.hpp): what a line may hold and how
// its paths are resolved. The stage itself runs in tests/cli/pairs_stage.sh (states made by LAMMPS).
//
// References: hand-written lists with the paths they must give — relative to the list file's
// directory, absolute ones kept, "./" and "../" normalised, comments and blank lines skipped, the
// line numbers of the pairs — and the messages of each kind of bad list ("list:line: ...").
#include "tlsmap/core/error.hpp"
#include "tlsmap/stages/pairs_stage.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tlsmap {
namespace {

TEST(PairList, PathsAreRelativeToTheListsDirectory) {
  const std::string text =
      "# state A    state B\n"
      "\n"
      "is_0.data is_1.data\n"
      "  ./is_1.data\t../other/is_2.h5   # tabs and spaces separate; '#' starts a comment\n"
      "/abs/a.data sub/b.data\n";
  const auto p = parse_pair_list(text, "runs/glass7/pairs.txt");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].a, "runs/glass7/is_0.data");
  EXPECT_EQ(p[0].b, "runs/glass7/is_1.data");
  EXPECT_EQ(p[0].line, 3);
  EXPECT_EQ(p[1].a, "runs/glass7/is_1.data");
  EXPECT_EQ(p[1].b, "runs/other/is_2.h5");
  EXPECT_EQ(p[1].line, 4);
  EXPECT_EQ(p[2].a, "/abs/a.data");
  EXPECT_EQ(p[2].b, "runs/glass7/sub/b.data");
  // A list in the working directory: paths as written.
  const auto q = parse_pair_list("a.data b.data\n", "pairs.txt");
  EXPECT_EQ(q[0].a, "a.data");
  EXPECT_EQ(q[0].b, "b.data");
}

// The message of the Error that parsing `text` throws (empty: none thrown).
std::string error_of(const std::string& text) {
  try {
    parse_pair_list(text, "dir/pairs.txt");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(PairList, BadListsNameTheLine) {
  EXPECT_EQ(error_of("a.data b.data\nc.data\n"),
            "dir/pairs.txt:2: expected two paths (state A, then state B), found 1");
  EXPECT_EQ(error_of("a.data b.data c.data\n"),
            "dir/pairs.txt:1: expected two paths (state A, then state B), found 3 (a path cannot contain spaces)");
  EXPECT_EQ(error_of("a.data ./a.data\n"), "dir/pairs.txt:1: state A and state B are the same file, dir/a.data");
  EXPECT_EQ(error_of("# nothing\n\n"), "dir/pairs.txt: no pairs (one pair per line: two paths, state A then state B)");
  EXPECT_EQ(error_of(""), "dir/pairs.txt: no pairs (one pair per line: two paths, state A then state B)");
  EXPECT_EQ(error_of("a.data b.data"), "");  // no final newline: fine
}

}  // namespace
}  // namespace tlsmap
