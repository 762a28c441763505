#pragma once
// Liveness lines from inside long serial work items. One domain of a polar glass, or the NEB of a
// whole-sample pair, runs for minutes on one rank between two progress lines of its stage; a job
// log that says nothing for that long looks hung. The loops that take the time (NEB, local
// minimiser, saddle convergence, search attempts) call heartbeat() once per step; the work item that
// started them opens a HeartbeatScope saying what it is called and how often to print. Without an
// open scope heartbeat() only tests a pointer. Per thread; printed by the rank that does the work.
#include <chrono>
#include <functional>
#include <string>

namespace tlsmap {

class HeartbeatScope {
 public:
  using Sink = std::function<void(const std::string& line)>;
  // Lines "<label>, <t> s in: <loop> step <n>, <quantity> <value>", the first `every_seconds` after
  // the scope opened, then at most one per `every_seconds`. every_seconds <= 0: no lines (a scope
  // that silences any outer one). sink: where lines go (default: stdout, flushed).
  HeartbeatScope(std::string label, double every_seconds, Sink sink = {});
  ~HeartbeatScope();
  HeartbeatScope(const HeartbeatScope&) = delete;
  HeartbeatScope& operator=(const HeartbeatScope&) = delete;

  void beat(const char* loop, long step, const char* quantity, double value);

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  double every_;
  Sink sink_;
  Clock::time_point start_, next_;
  HeartbeatScope* outer_;
};

// The innermost open scope's beat, if any.
void heartbeat(const char* loop, long step, const char* quantity, double value);

}  // namespace tlsmap
