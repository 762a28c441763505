#include "tlsmap/parallel/work_queue.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <numeric>
#include <string>

namespace tlsmap {

namespace {

// The window's slots on rank 0.
enum Slot : int { next_item = 0, n_done = 1, failed_flag = 2, counter0 = 3, counter1 = 4, n_slots = 5 };

std::int64_t fetch_add(MPI_Win win, int slot, std::int64_t add) {
  std::int64_t old = 0;
  MPI_Fetch_and_op(&add, &old, MPI_INT64_T, 0, slot, MPI_SUM, win);
  MPI_Win_flush(0, win);
  return old;
}

std::int64_t read_slot(MPI_Win win, int slot) {
  std::int64_t dummy = 0, value = 0;
  MPI_Fetch_and_op(&dummy, &value, MPI_INT64_T, 0, slot, MPI_NO_OP, win);
  MPI_Win_flush(0, win);
  return value;
}

using Finished = std::vector<std::pair<std::int64_t, std::vector<char>>>;  // (index into items, bytes)

// Takes items off the shared counter until none is left or some rank failed: this rank's finished
// items, and its failure message ("" if none). Rank 0 reports progress after each of its items.
Finished process_items(MPI_Win win, int rank, const std::vector<std::int64_t>& items,
                       const std::function<WorkOutput(std::int64_t)>& work,
                       const std::function<void(const WorkTally&)>& progress, std::string& error) {
  const auto n = static_cast<std::int64_t>(items.size());
  Finished mine;
  for (;;) {
    if (read_slot(win, failed_flag) != 0) break;
    const std::int64_t k = fetch_add(win, next_item, 1);
    if (k >= n) break;
    WorkOutput out;
    try {
      out = work(items[k]);
    } catch (const std::exception& e) {
      error = "item " + std::to_string(items[k]) + " on rank " + std::to_string(rank) + ": " + e.what();
    } catch (...) {
      error = "item " + std::to_string(items[k]) + " on rank " + std::to_string(rank) + ": unknown exception";
    }
    if (!error.empty()) {
      fetch_add(win, failed_flag, 1);
      break;
    }
    fetch_add(win, counter0, out.counters[0]);
    fetch_add(win, counter1, out.counters[1]);
    const std::int64_t done = fetch_add(win, n_done, 1) + 1;
    mine.emplace_back(k, std::move(out.bytes));
    if (rank == 0 && progress) {
      WorkTally t;
      t.n_items = n;
      t.handed_out = std::min(read_slot(win, next_item), n);
      t.done = done;
      t.counters = {read_slot(win, counter0), read_slot(win, counter1)};
      progress(t);
    }
  }
  return mine;
}

// Failure: every rank learns it, with the lowest failing rank's message.
void agree_on_failure(MPI_Comm comm, int rank, int size, std::string& error, WorkResult& result) {
  int fail_rank = error.empty() ? size : rank, lowest = size;
  MPI_Allreduce(&fail_rank, &lowest, 1, MPI_INT, MPI_MIN, comm);
  if (lowest < size) {
    int len = rank == lowest ? static_cast<int>(error.size()) : 0;
    MPI_Bcast(&len, 1, MPI_INT, lowest, comm);
    error.resize(len);
    MPI_Bcast(error.data(), len, MPI_CHAR, lowest, comm);
    result.failed = true;
    result.message = error;
  }
}

// Gathers the finished items to rank 0 (per item [index, n_bytes, bytes...]); on rank 0 all of
// them, in arrival order; elsewhere none.
Finished gather_to_root(MPI_Comm comm, int rank, int size, const Finished& mine) {
  std::vector<char> packed;
  for (const auto& [k, bytes] : mine) {
    const std::int64_t head[2] = {k, static_cast<std::int64_t>(bytes.size())};
    const char* h = reinterpret_cast<const char*>(head);
    packed.insert(packed.end(), h, h + sizeof head);
    packed.insert(packed.end(), bytes.begin(), bytes.end());
  }
  int n_packed = static_cast<int>(packed.size());
  std::vector<int> counts(rank == 0 ? size : 0), displs(rank == 0 ? size + 1 : 0, 0);
  MPI_Gather(&n_packed, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm);
  std::vector<char> all;
  if (rank == 0) {
    for (int r = 0; r < size; ++r) displs[r + 1] = displs[r] + counts[r];
    all.resize(displs[size]);
  }
  MPI_Gatherv(packed.data(), n_packed, MPI_CHAR, all.data(), counts.data(), displs.data(), MPI_CHAR, 0, comm);
  Finished got;
  for (std::size_t at = 0; at < all.size();) {
    std::int64_t head[2];
    std::memcpy(head, all.data() + at, sizeof head);
    at += sizeof head;
    got.emplace_back(head[0], std::vector<char>(all.begin() + at, all.begin() + at + head[1]));
    at += head[1];
  }
  return got;
}

}  // namespace

WorkResult run_work_queue(MPI_Comm comm, const std::vector<std::int64_t>& items,
                          const std::function<WorkOutput(std::int64_t)>& work,
                          const std::function<void(const WorkTally&)>& progress) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);

  std::int64_t* base = nullptr;
  MPI_Win win;
  MPI_Win_allocate(rank == 0 ? n_slots * sizeof(std::int64_t) : 0, sizeof(std::int64_t), MPI_INFO_NULL, comm, &base,
                   &win);
  if (rank == 0) {  // initialise before anyone can touch the window (the barrier orders it)
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win);
    std::fill(base, base + n_slots, 0);
    MPI_Win_unlock(0, win);
  }
  MPI_Barrier(comm);
  MPI_Win_lock_all(0, win);
  std::string error;
  const Finished mine = process_items(win, rank, items, work, progress, error);
  MPI_Win_unlock_all(win);
  MPI_Win_free(&win);

  WorkResult result;
  result.n_mine = static_cast<std::int64_t>(mine.size());
  agree_on_failure(comm, rank, size, error, result);
  Finished got = gather_to_root(comm, rank, size, mine);
  if (rank != 0) return result;
  // Order by item value (the caller's indices), so the result does not depend on the schedule.
  std::sort(got.begin(), got.end(), [&](const auto& a, const auto& b) { return items[a.first] < items[b.first]; });
  for (auto& [k, bytes] : got) {
    result.items.push_back(items[k]);
    result.bytes.push_back(std::move(bytes));
  }
  return result;
}

}  // namespace tlsmap
