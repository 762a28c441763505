#include "tlsmap/core/progress.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace tlsmap {

Progress::Progress(MPI_Comm comm, std::string stage) : stage_(std::move(stage)), t0_(MPI_Wtime()) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  root_ = rank == 0;
}

double Progress::elapsed() const { return MPI_Wtime() - t0_; }

void Progress::begin(const std::string& phase) {
  phase_ = phase;
  phase_t0_ = MPI_Wtime();
}

void Progress::report(long done, long total, const std::string& detail) const {
  if (!root_) return;
  if (total <= 0) {  // open-ended (a minimiser): no honest time estimate exists
    fmt::print("[{}] {:<11} {:>8}  {} | {:>7.1f} s elapsed\n", stage_, phase_, done, detail, elapsed());
    std::fflush(stdout);
    return;
  }
  const double in_phase = MPI_Wtime() - phase_t0_;
  const double left = done > 0 ? in_phase * static_cast<double>(total - done) / static_cast<double>(done) : 0.0;
  fmt::print("[{}] {:<11} {:>8}/{:<8} {} | {:>7.1f} s elapsed, ~{:.1f} s left in {}\n", stage_, phase_, done, total,
             detail, elapsed(), left, phase_);
  std::fflush(stdout);
}

void Progress::say(const std::string& text) const {
  if (!root_) return;
  fmt::print("[{}] {}\n", stage_, text);
  std::fflush(stdout);
}

}  // namespace tlsmap
