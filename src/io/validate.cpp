// Checks on what tlsmap reads; see include/tlsmap/io/validate.hpp for what is checked and why.
#include "tlsmap/io/validate.hpp"

#include "tlsmap/core/close_pairs.hpp"
#include "tlsmap/core/error.hpp"
#include "tlsmap/core/reduction.hpp"
#include "tlsmap/io/input.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace tlsmap {
namespace {

constexpr const char* kAxis[3] = {"x", "y", "z"};

// Shortest text that reads back to the same double ("0.3", "1e+300", "nan", "-inf").
std::string num(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

}  // namespace

// ---- collective verdicts -----------------------------------------------------------------------

void agree_first(MPI_Comm comm, std::int64_t key, const std::string& message) {
  std::int64_t lowest = key;
  MPI_Allreduce(MPI_IN_PLACE, &lowest, 1, MPI_INT64_T, MPI_MIN, comm);
  if (lowest == kNoProblem) return;
  const int rank = comm_rank(comm);
  int mine = key == lowest ? rank : INT_MAX, speaker = INT_MAX;
  MPI_Allreduce(&mine, &speaker, 1, MPI_INT, MPI_MIN, comm);
  std::string msg = rank == speaker ? message : std::string();
  unsigned long n = msg.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG, speaker, comm);
  msg.resize(n);
  MPI_Bcast(msg.data(), static_cast<int>(n), MPI_CHAR, speaker, comm);
  throw Error(msg);
}

// ---- configurations ----------------------------------------------------------------------------

std::string box_problem(const Box& box) {
  for (int d = 0; d < 3; ++d) {
    if (!std::isfinite(box.lo[d]))
      return "box origin " + std::string(kAxis[d]) + "lo = " + num(box.lo[d]) + " is not finite";
    if (!(std::isfinite(box.len[d]) && box.len[d] > 0.0))
      return "box edge " + std::string(kAxis[d]) + " = " + num(box.len[d]) + " must be finite and positive";
    if (!std::isfinite(box.lo[d] + box.len[d]))
      return "box " + std::string(kAxis[d]) + "lo + edge = " + num(box.lo[d]) + " + " + num(box.len[d]) + " overflows";
  }
  return {};
}

std::string coordinate_problem(const Vec3& x, const Box& box) {
  for (int d = 0; d < 3; ++d) {
    if (!std::isfinite(x[d])) return "coordinate " + std::string(kAxis[d]) + " = " + num(x[d]) + " is not finite";
    const double periods = (x[d] - box.lo[d]) / box.len[d];
    if (!(std::fabs(periods) < kMaxBoxPeriods))
      return "coordinate " + std::string(kAxis[d]) + " = " + num(x[d]) + " lies more than 2^20 box lengths (" +
             num(box.len[d]) + ") outside the box";
  }
  return {};
}

std::optional<std::array<std::size_t, 2>> close_pair(const std::vector<Vec3>& pos, const Box& box,
                                                     double min_distance) {
  // The first pair the scan meets ends it: beads farther apart than min_distance fill a cell only
  // sparsely, so the work before it is O(N) even if every bead coincides.
  std::optional<std::array<std::size_t, 2>> found;
  for_each_close_pair(pos, box, min_distance, [&](std::size_t i, std::size_t j, double) {
    found = std::array<std::size_t, 2>{i, j};
    return false;
  });
  return found;
}

std::string close_pair_message(std::int64_t id_a, std::int64_t id_b, double distance) {
  return fmt::format(
      "beads with ids {} and {} are {:.3g} sigma apart (minimum image), closer than {} sigma: "
      "coincident or nearly coincident beads (no model can start from them)",
      id_a, id_b, distance, num(kMinBeadDistance));
}

void require_finite(const std::string& file, const std::string& dataset, const std::vector<double>& values,
                    std::size_t row_width) {
  const auto bad = std::find_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); });
  if (bad == values.end()) return;
  const std::size_t k = static_cast<std::size_t>(bad - values.begin()) / std::max<std::size_t>(1, row_width);
  throw Error(file + ": " + dataset + ": row " + std::to_string(k) + " has a value that is not finite (" + num(*bad) +
              ")");
}

// ---- the input file ----------------------------------------------------------------------------

std::string toml_nesting_problem(const std::string& text, const std::string& path) {
  enum class In { code, comment, basic, literal, ml_basic, ml_literal } in = In::code;
  int depth = 0;
  long line = 1;
  const std::size_t n = text.size();
  auto at = [&](std::size_t k, const char* s) { return text.compare(k, std::char_traits<char>::length(s), s) == 0; };
  for (std::size_t k = 0; k < n; ++k) {
    const char ch = text[k];
    if (ch == '\n') {
      ++line;
      if (in == In::comment || in == In::basic || in == In::literal) in = In::code;  // single-line forms end
      continue;
    }
    switch (in) {
      case In::comment: break;
      case In::basic:
        if (ch == '\\') ++k;  // skip the escaped character
        else if (ch == '"') in = In::code;
        break;
      case In::literal:
        if (ch == '\'') in = In::code;
        break;
      case In::ml_basic:
        if (ch == '\\') ++k;
        else if (at(k, "\"\"\"")) in = In::code, k += 2;
        break;
      case In::ml_literal:
        if (at(k, "'''")) in = In::code, k += 2;
        break;
      case In::code:
        if (ch == '#') in = In::comment;
        else if (at(k, "\"\"\"")) in = In::ml_basic, k += 2;
        else if (at(k, "'''")) in = In::ml_literal, k += 2;
        else if (ch == '"') in = In::basic;
        else if (ch == '\'') in = In::literal;
        else if (ch == '[' || ch == '{') {
          if (++depth > kMaxTomlNesting)
            return path + ":" + std::to_string(line) + ": arrays or inline tables nested more than " +
                   std::to_string(kMaxTomlNesting) + " deep; no tlsmap key needs more than one level";
        } else if (ch == ']' || ch == '}') {
          depth = std::max(0, depth - 1);
        }
        break;
    }
  }
  return {};
}

std::string input_file_problem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};  // missing or unreadable: Input::parse says so
  if (!S_ISREG(st.st_mode)) {
    const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a file";
    return path + ": the input must be a regular TOML text file, this is " + kind;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream os;
  os << in.rdbuf();
  return toml_nesting_problem(os.str(), path);
}

bool same_file(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  std::error_code ea, eb;
  if (fs::exists(a, ea) && fs::exists(b, eb)) {
    std::error_code ec;
    const bool same = fs::equivalent(a, b, ec);  // same inode: catches hard and symbolic links
    if (!ec) return same;
  }
  const fs::path ca = fs::weakly_canonical(a, ea), cb = fs::weakly_canonical(b, eb);
  return !ea && !eb && ca == cb;
}

namespace {

// Rank 0's look at run.output before any work: "" if a stage may write (or read) it, else why not,
// as "file:line: key 'run.output' = ...: what". Every stage opens run.output: pack creates it,
// the others edit it; so a directory, a FIFO, a missing parent directory or the input file itself
// is wrong for all of them. (An unwritable directory shows only when the file is created.)
std::string output_problem(const std::string& out, const std::string& input_path) {
  namespace fs = std::filesystem;
  std::string what;
  std::error_code ec;
  const fs::path parent = fs::path(out).parent_path().empty() ? fs::path(".") : fs::path(out).parent_path();
  auto too_long = [](const fs::path& p) {            // the system refuses such a name; MPI-IO may not survive trying
    if (p.native().size() + 4 >= 4096) return true;  // + ".tmp"; PATH_MAX
    for (const auto& part : p)
      if (part.native().size() + 4 > 255) return true;  // NAME_MAX
    return false;
  };
  if (out.empty()) what = "is empty; name the HDF5 output file";
  else if (too_long(out)) what = "is too long for a file name (255 bytes per component, 4095 in all, with \".tmp\")";
  else if (same_file(out, input_path)) what = "is the input file itself; the stage would replace it by its HDF5 output";
  else if (same_file(out + ".tmp", input_path))
    what = "would be written through " + out + ".tmp, which is the input file itself";
  else if (fs::exists(out, ec) && !fs::is_regular_file(out, ec))
    what = "names a directory, FIFO or device, not an HDF5 file";
  else if (!fs::is_directory(parent, ec)) what = "is in " + parent.string() + ", which is not an existing directory";
  return what;
}

}  // namespace

Input read_input_file(MPI_Comm comm, const std::string& path, const Schema& schema) {
  const bool root = comm_rank(comm) == 0;
  const std::string problem = root ? input_file_problem(path) : std::string();
  agree_first(comm, problem.empty() ? kNoProblem : 0, problem);
  Input in = Input::parse(comm, path, schema);
  std::string why = root ? output_problem(output_path(in), path) : std::string();
  unsigned long n = why.size();  // rank 0's verdict to everyone, who then fail alike
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG, 0, comm);
  why.resize(n);
  MPI_Bcast(why.data(), static_cast<int>(n), MPI_CHAR, 0, comm);
  if (!why.empty()) in.fail("run.output", why);
  return in;
}

}  // namespace tlsmap
