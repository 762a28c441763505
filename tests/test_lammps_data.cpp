// LAMMPS data files: exact round trips from any bead distribution (with bonds: atom style full),
// LAMMPS itself reading our file (and us reading LAMMPS's write_data back), and errors naming file
// and line.
#include "io_test_support.hpp"
#include "peers.hpp"
#include "tlsmap/core/error.hpp"
#include "tlsmap/io/lammps_data.hpp"

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
using namespace tlsmap::testing;

namespace {

// A temporary path (io_test_support.hpp), .data unless told otherwise.
struct DataPath : TempPath {
  explicit DataPath(const std::string& stem, const std::string& ext = ".data") : TempPath(stem, ext) {}
};

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
  DataPath tmp("charge");
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
  DataPath tmp("atomic");
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
  DataPath tmp("hand");
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

// A box made triclinic in LAMMPS but not tilted ("0 0 0 xy xz yz", what write_data gives after
// change_box all triclinic) is orthorhombic: read as the same box and beads as without the line.
TEST(LammpsData, ZeroTiltFactorsReadAsTheOrthorhombicBox) {
  DataPath plain("plain"), tilted("zero_tilt");
  const std::string head = "t\n\n2 atoms\n1 atom types\n0 4 xlo xhi\n-1 3 ylo yhi\n0 5 zlo zhi\n";
  const std::string atoms = "\nAtoms # atomic\n\n1 1 0.5 0.5 0.5\n2 1 1.5 0.5 4.5\n";
  write_text(plain.path, head + atoms);
  write_text(tilted.path, head + "0.0 0 -0.0 xy xz yz\n" + atoms);
  const LammpsData a = read_lammps_data(plain.path, MPI_COMM_WORLD), b = read_lammps_data(tilted.path, MPI_COMM_WORLD);
  EXPECT_EQ(b.box.lo, a.box.lo);
  EXPECT_EQ(b.box.len, a.box.len);
  EXPECT_EQ(b.box.len, Vec3(4.0, 4.0, 5.0));
  const auto pa = gather_all(a.beads), pb = gather_all(b.beads);
  ASSERT_EQ(pb.size(), 2u);
  for (std::size_t k = 0; k < pa.size(); ++k)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(pb[k].pos[c], pa[k].pos[c]);
  EXPECT_EQ(pb[1].pos[2], 4.5);
  // One tilt that is not zero is still refused, naming the line.
  DataPath sheared("nonzero_tilt");
  write_text(sheared.path, head + "0 0 1e-9 xy xz yz\n" + atoms);
  expect_error([&] { read_lammps_data(sheared.path, MPI_COMM_WORLD); }, {sheared.path + ":8:", "tilt"});
}

TEST(LammpsData, BadInputNamesFileAndLine) {
  DataPath tmp("bad");
  const std::string head = "t\n\n2 atoms\n1 atom types\n0 4 xlo xhi\n0 4 ylo yhi\n0 4 zlo zhi\n\n";
  auto check = [&](const std::string& body, const std::vector<std::string>& pieces) {
    write_text(tmp.path, head + body);
    expect_error([&] { read_lammps_data(tmp.path, MPI_COMM_WORLD); }, pieces);
  };
  check("Atoms # atomic\n\n1 1 0.5 0.5 0.5\n2 1 1.5 1.5x 1.5\n", {tmp.path + ":12:", "'1.5x'"});
  check("Atoms # molecular\n\n1 1 1 0.5 0.5 0.5\n", {tmp.path + ":9:", "atom style 'molecular'"});
  check("Atoms # atomic\n\n1 1 0.5 0.5 0.5\n1 1 1.5 1.5 1.5\n", {tmp.path + ":12:", "id 1 appears twice"});
  check("Atoms # atomic\n\n1 1 0.5 0.5 0.5\n2 2 1.5 1.5 1.5\n", {tmp.path + ":12:", "atom type 2"});
  check("Atoms # atomic\n\n1 1 0.5 0.5 0.5\n", {"file ends inside the Atoms section"});
  check("Bonds\n\n1 1 1 2\n", {tmp.path + ":9:", "no 'N bonds' line"});
  check("Angles\n\n1 1 1 2 3\n", {tmp.path + ":9:", "unsupported section 'Angles'"});
  check("Masses\n\n1 1.0\n", {tmp.path + ": no Atoms section"});
  expect_error([&] { read_lammps_data(tmp.path + ".missing", MPI_COMM_WORLD); },
               {tmp.path + ".missing", "cannot open"});
}

namespace {

// Collective: rank 0 writes `script_text` to `script` and runs lmp on it with log `log`; every rank
// gets lmp's exit status, and a failure reports lmp's log.
int run_lmp(const std::string& lmp, const std::string& script, const std::string& script_text, const std::string& log) {
  int status = 0;
  if (rank_of() == 0) {
    std::ofstream(script) << script_text;
    // A clean environment: lmp is an MPI program and must not join this job's MPI world.
    const std::string cmd =
        "env -i PATH=/usr/bin:/bin HOME=/tmp OMPI_ALLOW_RUN_AS_ROOT=1 "
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " +
        lmp + " -in " + script + " -log " + log + " > /dev/null 2>&1";
    status = std::system(cmd.c_str());
    status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  }
  MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (status != 0 && rank_of() == 0) {
    std::ifstream in(log);
    std::stringstream s;
    s << in.rdbuf();
    ADD_FAILURE() << "lmp exited with " << status << "; log:\n" << s.str();
  }
  return status;
}

// Polar-dimer style topology: bead 2m − 1 bonded to 2m.
void pair_up(Beads& b) {
  b.enable_partner();
  for (int i = 0; i < b.n_owned; ++i) b.partner[i] = b.id[i] % 2 ? b.id[i] + 1 : b.id[i] - 1;
}

void expect_paired(const LammpsData& d) {
  ASSERT_TRUE(d.beads.has_partner);
  for (int i = 0; i < d.beads.n_owned; ++i)
    EXPECT_EQ(d.beads.partner[i], d.beads.id[i] % 2 ? d.beads.id[i] + 1 : d.beads.id[i] - 1) << "id " << d.beads.id[i];
}

}  // namespace

TEST(LammpsData, FullRoundTripKeepsBonds) {
  const Box box = test_box();
  DataPath tmp("full");
  const auto all = make_beads(500, box, 17);
  Beads mine = distribute(all, 3);
  pair_up(mine);
  write_lammps_data(tmp.path, box, mine, MPI_COMM_WORLD);
  const LammpsData d = read_lammps_data(tmp.path, MPI_COMM_WORLD);
  EXPECT_EQ(d.atom_style, "full");
  EXPECT_EQ(d.n_bonds, 250);
  expect_paired(d);
  expect_read_matches(d, all, false, true);
}

TEST(LammpsData, OneSidedBondIsRefusedOnWrite) {
  const Box box = test_box();
  DataPath tmp("onesided");
  Beads mine = distribute(make_beads(20, box, 3), 2);
  pair_up(mine);
  for (int i = 0; i < mine.n_owned; ++i)
    if (mine.id[i] == 3) mine.partner[i] = 7;  // 7 names 8
  expect_error([&] { write_lammps_data(tmp.path, box, mine, MPI_COMM_WORLD); },
               {tmp.path, "bead 3 names bond partner 7, which does not name it back"});
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_FALSE(std::filesystem::exists(tmp.path));
}

TEST(LammpsData, BadBondsNameFileAndLine) {
  DataPath tmp("badbonds");
  const std::string head =
      "t\n\n3 atoms\n1 atom types\n2 bonds\n1 bond types\n0 4 xlo xhi\n0 4 ylo yhi\n"
      "0 4 zlo zhi\n\nAtoms # full\n\n1 1 1 0 0.5 0.5 0.5\n2 1 1 0 1.5 0.5 0.5\n"
      "3 2 1 0 2.5 0.5 0.5\n\n";
  auto check = [&](const std::string& body, const std::vector<std::string>& pieces) {
    write_text(tmp.path, head + body);
    expect_error([&] { read_lammps_data(tmp.path, MPI_COMM_WORLD); }, pieces);
  };
  check("Bonds\n\n1 1 1 2\n2 1 2 3\n", {tmp.path + ":20:", "atom 2 is in a second bond"});
  check("Bonds\n\n1 1 1 2\n2 2 3 1\n", {tmp.path + ":20:", "bond type 2"});
  check("Bonds\n\n1 1 1 1\n", {tmp.path + ":19:", "two distinct atom ids"});
  check("Bonds\n\n1 1 1 2\n", {"file ends inside the Bonds section"});
  check("Masses\n\n1 1.0\n", {tmp.path + ": the header has bonds, but there is no Bonds section"});
}

TEST(LammpsData, BadIdsAreRejectedOnWrite) {
  const Box box = test_box();
  DataPath tmp("badids");
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
  DataPath ours("for_lmp"), theirs("from_lmp"), script("lmp", ".in"), log("lmp", ".log");
  const auto all = make_beads(200, box, 13);
  LammpsWriteOptions opt;
  opt.with_velocity = true;
  write_lammps_data(ours.path, box, distribute(all, 8), MPI_COMM_WORLD, opt);
  const std::string lmp = peer_path("TLSMAP_TEST_LMP", "/usr/bin/lmp");
  if (!std::filesystem::exists(lmp)) TLSMAP_PEER_MISSING(lmp);
  const int status = run_lmp(
      lmp, script.path,
      "units lj\natom_style charge\nread_data " + ours.path + "\nrun 0\nwrite_data " + theirs.path + "\n", log.path);
  ASSERT_EQ(status, 0);
  const LammpsData d = read_lammps_data(theirs.path, MPI_COMM_WORLD);
  EXPECT_EQ(d.atom_style, "charge");
  EXPECT_EQ(d.box.len, box.len);
  expect_read_matches(d, all, true, true);
}

// LAMMPS reads our bonded file (atom style full, a harmonic bond style) and writes it back: the
// bonds and every number survive.
TEST(LammpsData, LammpsReadsOurBonds) {
  const Box box = test_box();
  DataPath ours("full_for_lmp"), theirs("full_from_lmp"), script("lmp_full", ".in"), log("lmp_full", ".log");
  const auto all = make_beads(200, box, 19);
  Beads mine = distribute(all, 5);
  pair_up(mine);
  write_lammps_data(ours.path, box, mine, MPI_COMM_WORLD);
  const std::string lmp = peer_path("TLSMAP_TEST_LMP", "/usr/bin/lmp");
  if (!std::filesystem::exists(lmp)) TLSMAP_PEER_MISSING(lmp);
  const int status = run_lmp(lmp, script.path,
                             "units lj\natom_style full\nbond_style harmonic\nread_data " + ours.path +
                                 "\nbond_coeff 1 1000.0 0.8\npair_style zero 2.5\npair_coeff * *\nrun 0\nwrite_data " +
                                 theirs.path + "\n",
                             log.path);
  ASSERT_EQ(status, 0);
  const LammpsData d = read_lammps_data(theirs.path, MPI_COMM_WORLD);
  EXPECT_EQ(d.atom_style, "full");
  EXPECT_EQ(d.n_bonds, 100);
  expect_paired(d);
  expect_read_matches(d, all, false, true);
}
