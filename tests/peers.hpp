#pragma once
// Tests that need a peer program (LAMMPS's lmp, Python with h5py) skip visibly when it is missing, and
// fail instead when TLSMAP_REQUIRE_PEERS=1 (CI sets it: a cross-check that did not run must not pass).
// A skip marks the run; tests/mpi_gtest_main.cpp then exits with kSkipReturnCode (77, CTest's
// SKIP_RETURN_CODE in tests/CMakeLists.txt), so CTest reports "Skipped", not "Passed" — unless a test
// failed, which wins.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace tlsmap::testing {

inline constexpr int kSkipReturnCode = 77;
inline bool peer_missing = false;  // set by TLSMAP_PEER_MISSING on this rank

inline bool peers_required() {
  const char* v = std::getenv("TLSMAP_REQUIRE_PEERS");
  return v && std::string(v) == "1";
}

// The peer program's path: the environment variable `var` if set (so the skip path can be tested),
// else `fallback`.
inline std::string peer_path(const char* var, const char* fallback) {
  const char* v = std::getenv(var);
  return v && *v ? std::string(v) : std::string(fallback);
}

}  // namespace tlsmap::testing

// In a TEST body: the peer `what` is missing. Fails under TLSMAP_REQUIRE_PEERS=1, else skips the test.
#define TLSMAP_PEER_MISSING(what)                                                                          \
  do {                                                                                                     \
    if (::tlsmap::testing::peers_required()) FAIL() << (what) << " is missing and TLSMAP_REQUIRE_PEERS=1"; \
    ::tlsmap::testing::peer_missing = true;                                                                \
    GTEST_SKIP() << (what) << " is missing: skipped (TLSMAP_REQUIRE_PEERS=1 makes this a failure)";        \
  } while (0)
