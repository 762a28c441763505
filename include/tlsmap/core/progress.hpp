#pragma once
// Progress lines for long runs, printed by rank 0 only: what, how far, elapsed, estimated time left.
#include <mpi.h>

#include <string>

namespace tlsmap {

class Progress {
 public:
  Progress(MPI_Comm comm, std::string stage);
  // Start a phase: the time-left estimate uses the rate within the current phase.
  void begin(const std::string& phase);
  // Print "[stage] <phase> <done>/<total> <detail> | elapsed, left"; total <= 0 (open-ended work
  // such as a minimisation, whose iteration limit says nothing about when it converges): no
  // total and no time-left estimate.
  void report(long done, long total, const std::string& detail) const;
  // Print a free-form line "[stage] text".
  void say(const std::string& text) const;
  double elapsed() const;
  const std::string& stage() const { return stage_; }

 private:
  std::string stage_;
  bool root_ = false;
  double t0_ = 0.0, phase_t0_ = 0.0;
  std::string phase_;
};

}  // namespace tlsmap
