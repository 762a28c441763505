// H5MD configuration I/O: round trips independent of the rank count, the documented layout
// (checked through the HDF5 C API and h5py), and clean errors on bad files.
#include "io_test_support.hpp"
#include "peers.hpp"
#include "tlsmap/core/error.hpp"
#include "tlsmap/io/h5md.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace tlsmap;
using namespace tlsmap::testing;

namespace {

// A temporary path (io_test_support.hpp) with the .h5 extension.
struct H5Path : TempPath {
  explicit H5Path(const std::string& stem) : TempPath(stem, ".h5") {}
};

bool exists(const std::string& p) { return std::filesystem::exists(p); }

Box test_box() {
  Box box;
  box.lo = Vec3(-1.25, 0.0, 3.5);
  box.len = Vec3(7.0, 8.5, 9.25);
  return box;
}

ConfigMeta test_meta() {
  ConfigMeta m;
  m.units = "lj";
  m.input = std::string(100000, 'x') + "\n[pack]\nseed = 7\n";  // > 64 kB: needs dense attribute storage
  m.values = {{"sigma_angstrom", 3.405},
              {"epsilon_kelvin", 119.8},
              {"mass_amu", 39.948},
              {"debye_per_reduced_dipole", 0.1234567890123}};
  m.author = "test";
  m.step = 42;
  m.time = 0.125;
  return m;
}

void write_file(const std::string& path, const Box& box, const Beads& beads, const ConfigMeta& meta, bool vel) {
  Hdf5File f(path, Hdf5File::Mode::create, MPI_COMM_WORLD);
  write_configuration(f, box, beads, meta, vel);
  f.commit();
}

std::vector<hsize_t> dims_of(hid_t file, const char* name) {
  hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
  EXPECT_GE(d, 0) << name;
  if (d < 0) return {};
  hid_t s = H5Dget_space(d);
  std::vector<hsize_t> dims(H5Sget_simple_extent_ndims(s));
  H5Sget_simple_extent_dims(s, dims.data(), nullptr);
  H5Sclose(s);
  H5Dclose(d);
  return dims;
}

}  // namespace

TEST(H5md, RoundTripIsIndependentOfRankCount) {
  const Box box = test_box();
  for (std::int64_t n : {1000, 3}) {  // 3 < 4 ranks: some ranks own no rows
    H5Path tmp("roundtrip" + std::to_string(n));
    const auto all = make_beads(n, box, 11);
    const Beads beads = distribute(all, 5);
    const ConfigMeta meta = test_meta();
    write_file(tmp.path, box, beads, meta, true);
    EXPECT_TRUE(exists(tmp.path));
    EXPECT_FALSE(exists(tmp.path + ".tmp"));

    const Configuration c = read_configuration(tmp.path, MPI_COMM_WORLD);
    EXPECT_EQ(c.n_global, n);
    EXPECT_TRUE(c.has_velocity);
    // Row blocks: rank r holds rows [r n / P, (r + 1) n / P), in id order.
    const int p = size_of(), r = rank_of();
    ASSERT_EQ(c.beads.n_owned, (r + 1) * n / p - r * n / p);
    for (int i = 0; i < c.beads.n_owned; ++i) EXPECT_EQ(c.beads.id[i], r * n / p + i + 1);
    EXPECT_EQ(gather_all(c.beads), all);
    EXPECT_EQ(c.box.lo, box.lo);
    EXPECT_EQ(c.box.len, box.len);
    EXPECT_EQ(c.meta.units, meta.units);
    EXPECT_EQ(c.meta.input, meta.input);
    EXPECT_EQ(c.meta.values, meta.values);
    EXPECT_EQ(c.meta.author, meta.author);
    EXPECT_EQ(c.meta.step, meta.step);
    EXPECT_EQ(c.meta.time, meta.time);
  }
}

TEST(H5md, LayoutMatchesTheDocumentation) {
  const Box box = test_box();
  const std::int64_t n = 77;
  H5Path tmp("layout");
  write_file(tmp.path, box, distribute(make_beads(n, box, 3), 9), test_meta(), true);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_of() != 0) return;
  // Plain serial HDF5 on rank 0, as an outside reader would open the file.
  hid_t f = H5Fopen(tmp.path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  using D = std::vector<hsize_t>;
  const hsize_t N = n;
  EXPECT_EQ(dims_of(f, "/particles/all/position/value"), (D{1, N, 3}));
  EXPECT_EQ(dims_of(f, "/particles/all/velocity/value"), (D{1, N, 3}));
  EXPECT_EQ(dims_of(f, "/particles/all/image/value"), (D{1, N, 3}));
  EXPECT_EQ(dims_of(f, "/particles/all/species/value"), (D{1, N}));
  EXPECT_EQ(dims_of(f, "/particles/all/charge/value"), (D{1, N}));
  EXPECT_EQ(dims_of(f, "/particles/all/id/value"), (D{1, N}));
  EXPECT_EQ(dims_of(f, "/particles/all/position/step"), (D{1}));
  EXPECT_EQ(dims_of(f, "/particles/all/position/time"), (D{1}));
  EXPECT_EQ(dims_of(f, "/particles/all/box/edges/value"), (D{1, 3}));
  EXPECT_EQ(dims_of(f, "/particles/all/box/offset"), (D{3}));
  // Types: species and image int32, id int64, the rest double.
  auto type_is = [&](const char* name, hid_t want) {
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT), t = H5Dget_type(d);
    EXPECT_GT(H5Tequal(t, want), 0) << name;
    H5Tclose(t);
    H5Dclose(d);
  };
  type_is("/particles/all/species/value", H5T_STD_I32LE);
  type_is("/particles/all/image/value", H5T_STD_I32LE);
  type_is("/particles/all/id/value", H5T_STD_I64LE);
  type_is("/particles/all/position/value", H5T_IEEE_F64LE);
  type_is("/particles/all/charge/value", H5T_IEEE_F64LE);
  // H5MD version attribute [1, 1]; box dimension 3.
  int version[2] = {0, 0}, dim = 0;
  hid_t a = H5Aopen_by_name(f, "/h5md", "version", H5P_DEFAULT, H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_INT, version);
  H5Aclose(a);
  EXPECT_EQ(version[0], 1);
  EXPECT_EQ(version[1], 1);
  a = H5Aopen_by_name(f, "/particles/all/box", "dimension", H5P_DEFAULT, H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_INT, &dim);
  H5Aclose(a);
  EXPECT_EQ(dim, 3);
  for (const char* name :
       {"units", "input", "sigma_angstrom", "epsilon_kelvin", "mass_amu", "debye_per_reduced_dipole"})
    EXPECT_GT(H5Aexists(f, name), 0) << name;
  H5Fclose(f);
}

TEST(H5md, H5pyReadsTheFile) {
  const Box box = test_box();
  H5Path tmp("h5py");
  write_file(tmp.path, box, distribute(make_beads(50, box, 4), 2), test_meta(), false);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_of() != 0) return;
  const std::string python = peer_path("TLSMAP_TEST_PYTHON", "/usr/bin/python3");
  if (!exists(python)) TLSMAP_PEER_MISSING(python);
  const std::string script = R"(
import sys
try:
    import h5py
except ImportError:
    sys.exit(77)
f = h5py.File(sys.argv[1], 'r')
p = f['particles/all']
assert list(f['h5md'].attrs['version']) == [1, 1]
assert f['h5md/creator'].attrs['name'] in (b'tlsmap', 'tlsmap')
assert p['box'].attrs['dimension'] == 3
assert [x.decode() if isinstance(x, bytes) else x for x in p['box'].attrs['boundary']] == ['periodic'] * 3
assert p['box/edges/value'].shape == (1, 3)
assert p['position/value'].shape == (1, 50, 3)
assert p['position/step'][0] == 42 and p['position/time'][0] == 0.125
assert p['species/value'].shape == (1, 50) and p['charge/value'].shape == (1, 50)
assert list(p['id/value'][0]) == list(range(1, 51))
assert p['image/value'].shape == (1, 50, 3)
assert 'velocity' not in p
assert abs(f.attrs['sigma_angstrom'] - 3.405) == 0
)";
  const std::string py = tmp.path + ".py";
  std::ofstream(py) << script;
  // A clean environment: the child must not think it is one of this job's MPI ranks.
  const int status = std::system(("env -i PATH=/usr/bin:/bin " + python + " " + py + " " + tmp.path).c_str());
  std::remove(py.c_str());
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) TLSMAP_PEER_MISSING("h5py (for " + python + ")");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "h5py check failed";
}

TEST(H5md, MissingFileIsAnError) {
  H5Path tmp("missing");
  expect_error([&] { read_configuration(tmp.path, MPI_COMM_WORLD); }, {tmp.path, "no such file"});
}

TEST(H5md, CorruptFileIsAnError) {
  H5Path tmp("corrupt");
  if (rank_of() == 0) std::ofstream(tmp.path) << "this is not an HDF5 file, just garbage bytes \x01\x02\x03";
  MPI_Barrier(MPI_COMM_WORLD);
  expect_error([&] { read_configuration(tmp.path, MPI_COMM_WORLD); }, {tmp.path, "not an HDF5 file"});
}

// Write a good file, then let rank 0 damage it with serial HDF5.
static void write_then_edit(const std::string& path, const std::function<void(hid_t)>& edit) {
  const Box box = test_box();
  write_file(path, box, distribute(make_beads(20, box, 1), 1), test_meta(), false);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_of() == 0) {
    hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    edit(f);
    H5Fclose(f);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST(H5md, MissingDatasetIsNamed) {
  H5Path tmp("nocharge");
  write_then_edit(tmp.path, [](hid_t f) { EXPECT_GE(H5Ldelete(f, "/particles/all/charge", H5P_DEFAULT), 0); });
  expect_error([&] { read_configuration(tmp.path, MPI_COMM_WORLD); },
               {tmp.path, "missing dataset /particles/all/charge"});
}

TEST(H5md, WrongShapeIsNamed) {
  H5Path tmp("badshape");
  write_then_edit(tmp.path, [](hid_t f) {
    EXPECT_GE(H5Ldelete(f, "/particles/all/species/value", H5P_DEFAULT), 0);
    hsize_t dims[2] = {1, 21};
    hid_t s = H5Screate_simple(2, dims, nullptr);
    hid_t d = H5Dcreate2(f, "/particles/all/species/value", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(d, 0);
    H5Dclose(d);
    H5Sclose(s);
  });
  expect_error([&] { read_configuration(tmp.path, MPI_COMM_WORLD); },
               {tmp.path, "/particles/all/species/value", "shape (1,21)", "expected (n_frames, 20)"});
}

TEST(H5md, BadIdsAreRejectedAndLeaveNoFile) {
  const Box box = test_box();
  H5Path tmp("badids");
  auto all = make_beads(30, box, 8);
  all[7].id = 3;  // id 3 twice, id 8 missing
  expect_error([&] { write_file(tmp.path, box, distribute(all, 3), test_meta(), false); },
               {tmp.path, "ids must be exactly 1..N"});
  all[7].id = 31;  // out of range
  expect_error([&] { write_file(tmp.path, box, distribute(all, 3), test_meta(), false); }, {tmp.path, "found id 31"});
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_FALSE(exists(tmp.path));
  EXPECT_FALSE(exists(tmp.path + ".tmp"));
}

TEST(H5md, UncommittedFileIsRemoved) {
  const Box box = test_box();
  H5Path tmp("uncommitted");
  {
    Hdf5File f(tmp.path, Hdf5File::Mode::create, MPI_COMM_WORLD);
    write_configuration(f, box, distribute(make_beads(10, box, 2), 2), test_meta());
    MPI_Barrier(MPI_COMM_WORLD);
    EXPECT_TRUE(exists(tmp.path + ".tmp"));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_FALSE(exists(tmp.path + ".tmp"));
  EXPECT_FALSE(exists(tmp.path));
}

TEST(H5md, ReadWriteModeAddsGroups) {
  const Box box = test_box();
  H5Path tmp("readwrite");
  const auto all = make_beads(40, box, 6);
  write_file(tmp.path, box, distribute(all, 1), test_meta(), false);
  {
    Hdf5File f(tmp.path, Hdf5File::Mode::read_write, MPI_COMM_WORLD);
    hid_t g = H5Gcreate2(f.id(), "/tls", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(g, 0);
    H5Gclose(g);
    // A second configuration in the same file is refused.
    expect_error([&] { write_configuration(f, box, distribute(all, 1), test_meta()); }, {"already holds"});
  }
  Hdf5File f(tmp.path, Hdf5File::Mode::read_only, MPI_COMM_WORLD);
  EXPECT_GT(H5Lexists(f.id(), "/tls", H5P_DEFAULT), 0);
  auto c = read_configuration(f);
  c.beads.vel.assign(c.beads.vel.size(), Vec3::Zero());
  auto expect = all;
  for (auto& b : expect) b.vel[0] = b.vel[1] = b.vel[2] = 0.0;  // written without velocities
  EXPECT_FALSE(c.has_velocity);
  EXPECT_EQ(gather_all(c.beads), expect);
}

TEST(H5md, StageDatasetsAndAttributes) {
  const Box box = test_box();
  H5Path tmp("stage");
  write_file(tmp.path, box, distribute(make_beads(12, box, 6), 1), test_meta(), false);
  const int r = rank_of(), p = size_of();
  {
    Hdf5File f(tmp.path, Hdf5File::Mode::read_write, MPI_COMM_WORLD);
    write_replicated(f, "/pack/trace", std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
    // Rank r contributes r + 1 rows of (2, 3) ints; rows concatenate in rank order.
    std::vector<int> local(6 * (r + 1));
    for (std::size_t k = 0; k < local.size(); ++k) local[k] = 1000 * r + static_cast<int>(k);
    EXPECT_EQ(write_distributed(f, "/tls/block", local, {2, 3}), r * (r + 1) / 2);
    write_distributed(f, "/tls/ids", std::vector<std::int64_t>(r == 0 ? 0 : 1, r));  // some ranks empty
    write_attribute(f, "/pack", "max_force", 1e-11);
    write_attribute(f, "/pack", "max_force", 2e-11);  // replaced, not an error
    write_attribute(f, "/pack/trace", "columns", "a b c");
    write_attribute(f, "/new/group", "note", "made on demand");
  }
  Hdf5File f(tmp.path, Hdf5File::Mode::read_only, MPI_COMM_WORLD);
  Shape dims;
  EXPECT_EQ(read_dataset<double>(f, "/pack/trace", &dims), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(dims, (Shape{2, 3}));
  const auto block = read_dataset<int>(f, "/tls/block", &dims);
  EXPECT_EQ(dims, (Shape{static_cast<std::size_t>(p * (p + 1) / 2), 2, 3}));
  std::size_t k = 0;
  for (int q = 0; q < p; ++q)
    for (int i = 0; i < 6 * (q + 1); ++i, ++k) EXPECT_EQ(block[k], 1000 * q + i);
  std::vector<std::int64_t> ids;
  for (int q = 1; q < p; ++q) ids.push_back(q);
  EXPECT_EQ(read_dataset<std::int64_t>(f, "/tls/ids"), ids);
  EXPECT_EQ(read_attribute(f, "/pack", "max_force"), 2e-11);
  EXPECT_EQ(read_string_attribute(f, "/pack/trace", "columns"), "a b c");
  EXPECT_EQ(read_string_attribute(f, "/new/group", "note"), "made on demand");
  EXPECT_EQ(read_attribute(f, "/", "sigma_angstrom"), 3.405);
  expect_error([&] { read_dataset<double>(f, "/tls/missing"); }, {tmp.path, "missing dataset /tls/missing"});
  expect_error([&] { read_dataset<double>(f, "/tls/block"); }, {"/tls/block", "wrong type"});
  expect_error([&] { read_attribute(f, "/pack", "nope"); }, {"missing attribute nope of /pack"});
  expect_error([&] { write_attribute(f, "/pack", "x", 1.0); }, {"read-only"});
}

TEST(H5md, ReadsTimeIndependentElements) {
  // Other H5MD writers may store a fixed quantity as a plain (N) dataset instead of a group.
  H5Path tmp("fixed");
  write_then_edit(tmp.path, [](hid_t f) {
    EXPECT_GE(H5Ldelete(f, "/particles/all/species", H5P_DEFAULT), 0);
    hsize_t n = 20;
    std::vector<int> s(n);
    for (hsize_t k = 0; k < n; ++k) s[k] = static_cast<int>(k % 4);
    hid_t sp = H5Screate_simple(1, &n, nullptr);
    hid_t d = H5Dcreate2(f, "/particles/all/species", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, s.data()), 0);
    H5Dclose(d);
    H5Sclose(sp);
  });
  const auto c = read_configuration(tmp.path, MPI_COMM_WORLD);
  for (int i = 0; i < c.beads.n_owned; ++i) EXPECT_EQ(c.beads.species[i], (c.beads.id[i] - 1) % 4);
}
