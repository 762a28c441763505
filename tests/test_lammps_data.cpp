// LAMMPS data files: exact round trips from any bead distribution, LAMMPS itself reading our file
// (and us reading LAMMPS's write_data back), and errors naming file and line.
#include "tlsmap/error.hpp"
#include "tlsmap/lammps_data.hpp"

#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace tlsmap;

namespace {

int rank_of() {
  int r;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int size_of() {
  int p;
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  return p;
}

struct Bead {
  std::int64_t id;
  double pos[3], vel[3], charge;
  std::int32_t species, image[3];
  bool operator==(const Bead&) const = default;
};

std::vector<Bead> make_beads(std::int64_t n, const Box& box, unsigned seed) {
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

// Each bead to a pseudo-random rank, in shuffled order.
Beads distribute(const std::vector<Bead>& all, unsigned seed) {
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
std::vector<Bead> gather_all(const Beads& beads) {
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

// A path unique to this run; rank 0 removes it (and its temp file) at scope exit.
struct TempPath {
  std::string path;
  explicit TempPath(const std::string& stem, const std::string& ext = ".data") {
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

void expect_error(const std::function<void()>& f, const std::vector<std::string>& pieces) {
  try {
    f();
    ADD_FAILURE() << "no tlsmap::Error thrown";
  } catch (const Error& e) {
    for (const auto& s : pieces) EXPECT_NE(std::string(e.what()).find(s), std::string::npos) << e.what();
  }
}

// Rank 0 writes `text` to path; everyone waits for it.
void write_text(const std::string& path, const std::string& text) {
  if (rank_of() == 0) std::ofstream(path) << text;
  MPI_Barrier(MPI_COMM_WORLD);
}

// lo = 0: xhi - xlo then gives back len exactly, so the box round-trips bit for bit.
Box test_box() {
  Box box;
  box.lo = Vec3::Zero();
  box.len = Vec3(7.0, 8.5, 9.123456789);
  return box;
}

// Beads read on rank 0 only; every rank checks the gathered result.
void expect_read_matches(const LammpsData& d, std::vector<Bead> expect, bool velocities, bool charges) {
  for (auto& b : expect) {
    if (!velocities) b.vel[0] = b.vel[1] = b.vel[2] = 0.0;
    if (!charges) b.charge = 0.0;
  }
  EXPECT_EQ(d.beads.n_owned, rank_of() == 0 ? static_cast<int>(expect.size()) : 0);
  EXPECT_EQ(gather_all(d.beads), expect);
}

}  // namespace

TEST(LammpsData, ChargeRoundTripIsExact) {
  const Box box = test_box();
  TempPath tmp("charge");
  const auto all = make_beads(500, box, 21);
  LammpsWriteOptions opt;
  opt.with_velocity = true;
  opt.masses = {1.0, 0.5, 2.25};
  write_lammps_data(tmp.path, box, distribute(all, 4), MPI_COMM_WORLD, opt);
  EXPECT_FALSE(std::filesystem::exists(tmp.path + ".tmp"));
  const LammpsData d = read_lammps_data(tmp.path, MPI_COMM_WORLD);
  EXPECT_EQ(d.n_atoms, 500);
  EXPECT_EQ(d.n_types, 3);
  EXPECT_EQ(d.atom_style, "charge");
  EXPECT_TRUE(d.has_velocity);
  EXPECT_EQ(d.masses, opt.masses);
  EXPECT_EQ(d.box.lo, box.lo);
  EXPECT_EQ(d.box.len, box.len);
  expect_read_matches(d, all, true, true);
}

TEST(LammpsData, AtomicRoundTripDropsCharges) {
  const Box box = test_box();
  TempPath tmp("atomic");
  const auto all = make_beads(64, box, 5);
  LammpsWriteOptions opt;
  opt.atom_style = "atomic";
  opt.n_types = 4;  // more types than species used
  write_lammps_data(tmp.path, box, distribute(all, 7), MPI_COMM_WORLD, opt);
  const LammpsData d = read_lammps_data(tmp.path, MPI_COMM_WORLD);
  EXPECT_EQ(d.atom_style, "atomic");
  EXPECT_EQ(d.n_types, 4);
  EXPECT_FALSE(d.has_velocity);
  EXPECT_EQ(d.masses, std::vector<double>(4, 1.0));
  expect_read_matches(d, all, false, false);
}

TEST(LammpsData, HandWrittenFileWithoutStyleHint) {
  TempPath tmp("hand");
  write_text(tmp.path,
             "title line\n\n  3 atoms  # a comment\n 2 atom types\n0 bonds\n-1 1 xlo xhi\n-1 1 ylo yhi\n"
             "-1 1 zlo zhi\n\nAtoms\n\n3 2 0.25 0.5 0.5 0.5\n1 1 -0.25 1.5 0 0 0 0 0\n2 1 0 -0.5 0.0 +1e-1\n"
             "\nVelocities\n\n2 1 2 3\n1 0 0 0\n3 4 5 6\n");
  const LammpsData d = read_lammps_data(tmp.path, MPI_COMM_WORLD);
  EXPECT_EQ(d.atom_style, "charge");  // 6 and 9 fields
  EXPECT_TRUE(d.masses.empty());
  EXPECT_EQ(d.box.lo, Vec3::Constant(-1.0));
  const auto all = gather_all(d.beads);
  ASSERT_EQ(all.size(), 3u);
  // x = 1.5 lies outside [-1, 1): wrapped to -0.5 with image +1, as LAMMPS does.
  EXPECT_EQ(all[0].pos[0], -0.5);
  EXPECT_EQ(all[0].image[0], 1);
  EXPECT_EQ(all[2].species, 1);
  EXPECT_EQ(all[2].charge, 0.25);
  EXPECT_EQ(all[1].vel[2], 3.0);
  EXPECT_EQ(all[1].pos[2], 0.1);
}

TEST(LammpsData, TiltFactorsAreRejectedNamingTheLine) {
  const char* dir = std::getenv("TLSMAP_TEST_DATA");
  ASSERT_NE(dir, nullptr) << "TLSMAP_TEST_DATA is not set";
  const std::string path = std::string(dir) + "/lammps_tilted.data";
  expect_error([&] { read_lammps_data(path, MPI_COMM_WORLD); }, {path + ":9:", "tilt"});
}

TEST(LammpsData, BadInputNamesFileAndLine) {
  TempPath tmp("bad");
  const std::string head = "t\n\n2 atoms\n1 atom types\n0 4 xlo xhi\n0 4 ylo yhi\n0 4 zlo zhi\n\n";
  auto check = [&](const std::string& body, const std::vector<std::string>& pieces) {
    write_text(tmp.path, head + body);
    expect_error([&] { read_lammps_data(tmp.path, MPI_COMM_WORLD); }, pieces);
  };
  check("Atoms # atomic\n\n1 1 0.5 0.5 0.5\n2 1 1.5 1.5x 1.5\n", {tmp.path + ":12:", "'1.5x'"});
  check("Atoms # full\n\n1 1 1 0 0.5 0.5 0.5\n", {tmp.path + ":9:", "atom style 'full'"});
  check("Atoms # atomic\n\n1 1 0.5 0.5 0.5\n1 1 1.5 1.5 1.5\n", {tmp.path + ":12:", "id 1 appears twice"});
  check("Atoms # atomic\n\n1 1 0.5 0.5 0.5\n2 2 1.5 1.5 1.5\n", {tmp.path + ":12:", "atom type 2"});
  check("Atoms # atomic\n\n1 1 0.5 0.5 0.5\n", {"file ends inside the Atoms section"});
  check("Bonds\n\n1 1 1 2\n", {tmp.path + ":9:", "unsupported section 'Bonds'"});
  check("Masses\n\n1 1.0\n", {tmp.path + ": no Atoms section"});
  expect_error([&] { read_lammps_data(tmp.path + ".missing", MPI_COMM_WORLD); },
               {tmp.path + ".missing", "cannot open"});
}

TEST(LammpsData, BadIdsAreRejectedOnWrite) {
  const Box box = test_box();
  TempPath tmp("badids");
  auto all = make_beads(20, box, 2);
  all[4].id = 9;
  expect_error([&] { write_lammps_data(tmp.path, box, distribute(all, 1), MPI_COMM_WORLD); },
               {tmp.path, "id 5 is missing"});
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_FALSE(std::filesystem::exists(tmp.path));
  EXPECT_FALSE(std::filesystem::exists(tmp.path + ".tmp"));
}

// LAMMPS reads our file, runs 0 steps and writes its own data file, which we read back: every
// number must survive both trips (LAMMPS writes with %-1.16e, 17 significant digits).
TEST(LammpsData, LammpsReadsOurFile) {
  const Box box = test_box();
  TempPath ours("for_lmp"), theirs("from_lmp"), script("lmp", ".in"), log("lmp", ".log");
  const auto all = make_beads(200, box, 13);
  LammpsWriteOptions opt;
  opt.with_velocity = true;
  write_lammps_data(ours.path, box, distribute(all, 8), MPI_COMM_WORLD, opt);
  int status = 0, have_lmp = std::filesystem::exists("/usr/bin/lmp");
  if (!have_lmp) GTEST_SKIP() << "no /usr/bin/lmp";
  if (rank_of() == 0) {
    std::ofstream(script.path) << "units lj\natom_style charge\nread_data " << ours.path << "\nrun 0\nwrite_data "
                               << theirs.path << "\n";
    // A clean environment: lmp is an MPI program and must not join this job's MPI world.
    const std::string cmd = "env -i PATH=/usr/bin:/bin HOME=/tmp OMPI_ALLOW_RUN_AS_ROOT=1 "
                            "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 /usr/bin/lmp -in " +
                            script.path + " -log " + log.path + " > /dev/null 2>&1";
    status = std::system(cmd.c_str());
    status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  }
  MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (status != 0 && rank_of() == 0) {
    std::ifstream in(log.path);
    std::stringstream s;
    s << in.rdbuf();
    ADD_FAILURE() << "lmp exited with " << status << "; log:\n" << s.str();
  }
  ASSERT_EQ(status, 0);
  const LammpsData d = read_lammps_data(theirs.path, MPI_COMM_WORLD);
  EXPECT_EQ(d.atom_style, "charge");
  EXPECT_EQ(d.box.len, box.len);
  expect_read_matches(d, all, true, true);
}
