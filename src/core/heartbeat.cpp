#include "tlsmap/core/heartbeat.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <utility>

namespace tlsmap {

namespace {
thread_local HeartbeatScope* innermost = nullptr;
}  // namespace

HeartbeatScope::HeartbeatScope(std::string label, double every_seconds, Sink sink)
    : label_(std::move(label)), every_(every_seconds), sink_(std::move(sink)), start_(Clock::now()), outer_(innermost) {
  next_ = start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(every_));
  innermost = this;
}

HeartbeatScope::~HeartbeatScope() { innermost = outer_; }

void HeartbeatScope::beat(const char* loop, long step, const char* quantity, double value) {
  if (every_ <= 0.0) return;
  const Clock::time_point now = Clock::now();
  if (now < next_) return;
  const double t = std::chrono::duration<double>(now - start_).count();
  // The next line one interval after this one, not after the missed deadline: no bursts after a
  // long step.
  next_ = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(every_));
  const std::string line =
      fmt::format("{}, {:.0f} s in: {} step {}, {} {:.3g}", label_, t, loop, step, quantity, value);
  if (sink_) {
    sink_(line);
  } else {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
  }
}

void heartbeat(const char* loop, long step, const char* quantity, double value) {
  if (innermost) innermost->beat(loop, step, quantity, value);
}

}  // namespace tlsmap
