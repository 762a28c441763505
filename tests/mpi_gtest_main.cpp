// GoogleTest main for MPI tests.
// Rank 0 prints the usual report; other ranks print only their failures, tagged with the rank, so a
// failure seen on one rank is visible. The exit code is the MPI_MAX of all ranks' results, so a
// failure on any rank fails the CTest entry. A test that skipped because a peer program is missing
// (tests/peers.hpp) makes the exit code 77, CTest's SKIP_RETURN_CODE, unless some test failed.
#include "peers.hpp"

#include <gtest/gtest.h>
#include <mpi.h>
#include <petscsys.h>

#include <cstdio>

namespace {
class RankFailurePrinter : public testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const testing::TestPartResult& r) override {
    if (r.failed())
      std::fprintf(stderr, "[rank %d] %s:%d: Failure\n%s\n", rank_, r.file_name() ? r.file_name() : "?",
                   r.line_number(), r.summary());
  }

 private:
  int rank_;
};
}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  // PETSc owns MPI_Init so that tests may use both; options after -- go to PETSc.
  PetscCall(PetscInitialize(&argc, &argv, nullptr, nullptr));
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  auto& listeners = testing::UnitTest::GetInstance()->listeners();
  if (rank != 0) {
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new RankFailurePrinter(rank));
  }
  int local[2] = {RUN_ALL_TESTS() != 0, tlsmap::testing::peer_missing ? 1 : 0}, global[2] = {0, 0};
  MPI_Allreduce(local, global, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  PetscCall(PetscFinalize());
  return global[0] ? 1 : global[1] ? tlsmap::testing::kSkipReturnCode : 0;
}
