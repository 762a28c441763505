#pragma once
// Shared by the I/O tests (test_h5md, test_lammps_data): random beads spread over the ranks in a
// scattered order, gathered back by id, per-run temporary paths and error-message checks.
#include "tlsmap/core/box.hpp"
#include "tlsmap/core/error.hpp"
#include "tlsmap/parallel/beads.hpp"

#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace tlsmap::testing {

inline int rank_of() {
  int r;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
inline int size_of() {
  int p;
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  return p;
}

// One bead with everything a file stores.
struct Bead {
  std::int64_t id;
  double pos[3], vel[3], charge;
  std::int32_t species, image[3];
  bool operator==(const Bead&) const = default;  // exact, bit for bit (no NaNs here)
};

// The same N beads on every rank (fixed seed), id k + 1 for entry k.
inline std::vector<Bead> make_beads(std::int64_t n, const Box& box, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<Bead> all(n);
  for (std::int64_t k = 0; k < n; ++k) {
    Bead& b = all[k];
    b.id = k + 1;
    for (int d = 0; d < 3; ++d) {
      b.pos[d] = box.lo[d] + u(rng) * box.len[d];
      b.vel[d] = u(rng) - 0.5;
      b.image[d] = static_cast<int>(rng() % 7) - 3;
    }
    b.charge = u(rng) < 0.5 ? -0.3 * u(rng) : 0.3 * u(rng);
    b.species = static_cast<int>(rng() % 3);
  }
  return all;
}

// This rank's share: each bead goes to a pseudo-random rank, in shuffled order (ids scattered).
inline Beads distribute(const std::vector<Bead>& all, unsigned seed) {
  const int p = size_of(), r = rank_of();
  std::mt19937_64 rng(seed);
  std::vector<const Bead*> mine;
  for (const Bead& b : all)
    if (static_cast<int>(rng() % p) == r) mine.push_back(&b);
  std::shuffle(mine.begin(), mine.end(), std::mt19937_64(seed + r));
  Beads beads;
  for (const Bead* b : mine)
    beads.push_owned(Vec3(b->pos[0], b->pos[1], b->pos[2]), b->species, b->charge, b->id,
                     Vec3(b->vel[0], b->vel[1], b->vel[2]), Int3{b->image[0], b->image[1], b->image[2]});
  return beads;
}

// All owned beads of all ranks, sorted by id (MPI_Allgatherv).
inline std::vector<Bead> gather_all(const Beads& beads) {
  const int p = size_of();
  std::vector<Bead> mine(beads.n_owned);
  for (int i = 0; i < beads.n_owned; ++i) {
    Bead& b = mine[i];
    b.id = beads.id[i];
    for (int d = 0; d < 3; ++d) b.pos[d] = beads.pos[i][d], b.vel[d] = beads.vel[i][d], b.image[d] = beads.image[i][d];
    b.charge = beads.charge[i];
    b.species = beads.species[i];
  }
  int n = beads.n_owned * sizeof(Bead);
  std::vector<int> counts(p), offsets(p, 0);
  MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  for (int r = 1; r < p; ++r) offsets[r] = offsets[r - 1] + counts[r - 1];
  std::vector<Bead> all((offsets.back() + counts.back()) / sizeof(Bead));
  MPI_Allgatherv(mine.data(), n, MPI_BYTE, all.data(), counts.data(), offsets.data(), MPI_BYTE, MPI_COMM_WORLD);
  std::sort(all.begin(), all.end(), [](const Bead& a, const Bead& b) { return a.id < b.id; });
  return all;
}

// A path unique to this run (ctest may run the 1, 2 and 4 rank variants at once); rank 0
// removes it and its temp file at scope exit.
struct TempPath {
  std::string path;
  explicit TempPath(const std::string& stem, const std::string& ext) {
    long pid = getpid();
    MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    path = (std::filesystem::temp_directory_path() /
            ("tlsmap_" + stem + "_np" + std::to_string(size_of()) + "_" + std::to_string(pid) + ext))
               .string();
  }
  ~TempPath() {
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank_of() == 0) std::remove(path.c_str()), std::remove((path + ".tmp").c_str());
  }
};

// Expect f to throw tlsmap::Error on this rank with every piece in the message.
inline void expect_error(const std::function<void()>& f, const std::vector<std::string>& pieces) {
  try {
    f();
    ADD_FAILURE() << "no tlsmap::Error thrown";
  } catch (const Error& e) {
    for (const auto& s : pieces) EXPECT_NE(std::string(e.what()).find(s), std::string::npos) << e.what();
  }
}

}  // namespace tlsmap::testing
