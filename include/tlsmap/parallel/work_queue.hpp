#pragma once
// Dynamic load balancing of independent work items over the ranks of a communicator (machinery
// only, no physics).
//
// Items are handed out one at a time, first come first served, from a shared counter in a window
// on rank 0 (MPI_Fetch_and_op, passive target): a rank that finishes an item takes the next one, so
// a few slow items (a TLS search can take 10× the median) do not hold up the others, and rank 0
// works like everybody else. Which rank does which item depends on timing; the results must not:
// each item's result has to be a function of the item alone, and run_work_queue returns them to
// rank 0 ordered by item, so the output does not depend on the rank count or on the schedule.
//
// Progress without target participation: on shared memory (OpenMPI osc/sm) and on networks with
// remote atomics (osc/ucx) the counter advances while rank 0 computes; with an MPI whose one-sided
// operations need the target's progress engine, a request may wait until rank 0 next calls MPI —
// slower, never wrong.
//
// Errors: the work function runs inside try/catch. A rank whose item throws raises a failure flag
// in the window and stops; every other rank sees the flag before taking its next item and stops
// too; then all meet in the final (collective) gather, so nothing deadlocks. The caller gets the
// results completed so far plus the failure (lowest failing rank's message, on every rank), and can
// save those before stopping.
#include <mpi.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tlsmap {

// What one item produces: opaque bytes for rank 0, plus small counters summed over all items for
// progress lines (e.g. pairs found, events tried).
struct WorkOutput {
  std::vector<char> bytes;
  std::array<std::int64_t, 2> counters{0, 0};
};

// Live totals, as rank 0 sees them in its progress callback.
struct WorkTally {
  std::int64_t n_items = 0;     // in this queue
  std::int64_t handed_out = 0;  // items taken by some rank (started)
  std::int64_t done = 0;        // items finished
  std::array<std::int64_t, 2> counters{0, 0};
};

struct WorkResult {
  // Rank 0 only: the finished items, ascending, and their bytes. Other ranks: empty.
  std::vector<std::int64_t> items;
  std::vector<std::vector<char>> bytes;
  // On every rank: whether some item failed, and the lowest failing rank's message
  // ("item k on rank r: what").
  bool failed = false;
  std::string message;
  // Items this rank did (for load-balance statistics).
  std::int64_t n_mine = 0;
};

// Collective. Runs work(item) for every item of `items` (any values, e.g. domain indices), each
// exactly once on some rank, unless an item fails (then the remaining ones are skipped). work must
// be local (no communication). progress (may be empty) is called on rank 0 after each item rank 0
// finishes, with the live totals.
WorkResult run_work_queue(MPI_Comm comm, const std::vector<std::int64_t>& items,
                          const std::function<WorkOutput(std::int64_t item)>& work,
                          const std::function<void(const WorkTally&)>& progress = {});

}  // namespace tlsmap
