// The /tls schema (catalogue.hpp): a catalogue makes an exact round trip through bytes and through
// HDF5 at any rank count; every schema column is in the file with its unit; a corrupt file (a
// column of the wrong length, decreasing or overrunning CSR offsets) is refused with the dataset
// named; the class rule at its boundaries.
#include "io_test_support.hpp"
#include "tlsmap/core/bytes.hpp"
#include "tlsmap/core/error.hpp"
#include "tlsmap/io/catalogue.hpp"
#include "tlsmap/io/h5md.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <set>

namespace tlsmap {
namespace {

using testing::TempPath;

// Three rows that differ in every column kind, including an empty ragged row and a NaN.
std::vector<TlsRow> sample_rows() {
  std::vector<TlsRow> rows(3);
  for (int k = 0; k < 3; ++k) {
    TlsRow& r = rows[k];
    r.domain = 7 + k, r.center = Vec3(0.5 * k, -1.25, 1e-300), r.radius = 3.41;
    r.method = k == 2 ? "given" : "domain", r.n_merged = k;
    r.cls = k == 0 ? "tls" : (k == 1 ? "double_well" : "single_well");
    r.involves_occupied = k != 2, r.adjacent = k == 0;
    r.energy_a = -7564.25 + k, r.energy_b = -7563.0, r.asymmetry = 1.25 - k, r.barrier = 3.75;
    r.energy_a_relaxed = k == 1 ? kNotComputed : -7564.5, r.energy_b_relaxed = -7563.5, r.asymmetry_relaxed = 1.0;
    r.relaxed_adjacent = 1, r.delta_zpe = -0.015625 * k, r.e_qs = 1e-3 * (k + 1), r.e_qs_kelvin = 0.12 * (k + 1);
    r.e_qs_mirror = 1.1e-3, r.splitting = 1e-9, r.splitting_kelvin = 1.2e-7, r.over_barrier = k == 2;
    r.d_l = 0.11, r.participation = 17.5, r.path_length = 1.3, r.distance = 0.9;
    r.n_moving = 33 + k, r.intermediate_minima = k, r.saddle_verified = 1, r.neb_converged = k != 1;
    r.mu_direct = Vec3(0.01, 0.02, -0.03 * k);
    for (int j = 0; j < k + 2; ++j)
      r.profile_energy.push_back(-7564.0 + 0.5 * j), r.profile_coordinate.push_back(0.1 * j);
    for (int j = 0; j < 2 * k; ++j) {  // row 0 has no mobile beads: an empty CSR row
      r.mobile_id.push_back(10 * k + j + 1);
      r.position_a.emplace_back(j, k, 0.5);
      r.position_b.emplace_back(j, k, 0.75);
    }
  }
  return rows;
}

// Field-by-field equality through the schema itself (NaN equal to NaN).
void expect_same(const std::vector<TlsRow>& a, const std::vector<TlsRow>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    ByteWriter wa, wb;
    put_row(wa, a[k]), put_row(wb, b[k]);
    EXPECT_EQ(wa.take(), wb.take()) << "row " << k;  // bitwise: every field, NaN included
  }
}

TEST(Catalogue, BytesRoundTripIsExact) {
  const auto rows = sample_rows();
  ByteWriter w;
  for (const TlsRow& r : rows) put_row(w, r);
  const std::vector<char> b = w.take();
  ByteReader r(b.data(), b.size());
  std::vector<TlsRow> back;
  for (int k = 0; k < 3; ++k) back.push_back(get_row(r));
  EXPECT_TRUE(r.at_end());
  expect_same(rows, back);
  EXPECT_EQ(back[1].cls, "double_well");
  EXPECT_TRUE(std::isnan(back[1].energy_a_relaxed));
  ByteReader cut(b.data(), b.size() - 5);
  EXPECT_THROW(
      {
        for (int k = 0; k < 3; ++k) get_row(cut);
      },
      Error);
}

TEST(Catalogue, HdfRoundTripAtAnyRankCount) {
  TempPath tmp("catalogue", ".h5");
  const auto rows = sample_rows();
  TlsAttributes at;
  at.hbar_reduced = 0.0295865, at.max_splitting = 1.0 / 120.0, at.epsilon_kelvin = 120.0, at.n_merged = 3;
  {
    Hdf5File f(tmp.path, Hdf5File::Mode::create, MPI_COMM_WORLD);
    write_tls(f, rows, at);
    f.commit();
  }
  Hdf5File f(tmp.path, Hdf5File::Mode::read_only, MPI_COMM_WORLD);
  expect_same(rows, read_tls(f));
  EXPECT_DOUBLE_EQ(read_attribute(f, "/tls", "max_splitting"), 1.0 / 120.0);
  EXPECT_DOUBLE_EQ(read_attribute(f, "/tls", "max_splitting_kelvin"), 1.0);
  EXPECT_DOUBLE_EQ(read_attribute(f, "/tls", "hbar_reduced"), 0.0295865);
  EXPECT_DOUBLE_EQ(read_attribute(f, "/tls", "n_pairs"), 3.0);
  // Every column of the schema is in the file, with its unit; CSR offsets written once each.
  std::set<std::string> names;
  for (const TlsColumn& c : tls_schema()) {
    EXPECT_TRUE(names.insert(c.name).second) << "column listed twice: " << c.name;
    EXPECT_TRUE(has_object(f, std::string("/tls/") + c.name)) << c.name;
    if (*c.unit) {
      EXPECT_EQ(read_string_attribute(f, std::string("/tls/") + c.name, "unit"), c.unit) << c.name;
    }
  }
  EXPECT_EQ(read_dataset<std::int64_t>(f, "/tls/mobile_offset"), (std::vector<std::int64_t>{0, 0, 2, 6}));
  EXPECT_EQ(read_dataset<std::int64_t>(f, "/tls/profile_offset"), (std::vector<std::int64_t>{0, 2, 5, 9}));
  EXPECT_EQ(read_strings(f, "/tls/class"), (std::vector<std::string>{"tls", "double_well", "single_well"}));
}

// Write the catalogue, then let rank 0 damage one dataset with plain HDF5 calls.
void damaged(const std::string& path, const std::string& dataset, const std::vector<std::int64_t>& values) {
  {
    Hdf5File f(path, Hdf5File::Mode::create, MPI_COMM_WORLD);
    write_tls(f, sample_rows(), TlsAttributes{});
    f.commit();
  }
  if (testing::rank_of() == 0) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(file, dataset.c_str(), H5P_DEFAULT);
    const hsize_t n = values.size();
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t d = H5Dcreate2(file, dataset.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Dclose(d), H5Sclose(space), H5Fclose(file);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST(Catalogue, CorruptFilesAreRefusedWithTheDatasetNamed) {
  TempPath tmp("catalogue_bad", ".h5");
  const std::vector<std::pair<std::vector<std::int64_t>, std::string>> offsets = {
      {{0, 2, 1, 6}, "/tls/mobile_offset decreases at row 1"},
      {{0, 0, 2, 7}, "/tls/mobile_id must have 7 rows"},
      {{1, 1, 2, 6}, "/tls/mobile_offset must have 4 entries starting at 0"},
      {{0, 2, 6}, "/tls/mobile_offset must have 4 entries starting at 0"}};
  for (const auto& [values, message] : offsets) {
    damaged(tmp.path, "/tls/mobile_offset", values);
    Hdf5File f(tmp.path, Hdf5File::Mode::read_only, MPI_COMM_WORLD);
    testing::expect_error([&] { read_tls(f); }, {tmp.path, message});
  }
  damaged(tmp.path, "/tls/n_moving", {1, 2});
  Hdf5File f(tmp.path, Hdf5File::Mode::read_only, MPI_COMM_WORLD);
  testing::expect_error([&] { read_tls(f); }, {"/tls/n_moving must have 3 rows"});
}

TEST(Catalogue, ClassRule) {
  const double t = 1.0 / 120.0;
  EXPECT_EQ(classify(true, t, true, t), "tls");  // at the threshold: tls
  EXPECT_EQ(classify(true, std::nextafter(t, 1.0), true, t), "double_well");
  EXPECT_EQ(classify(false, 0.0, true, t), "double_well");  // never tls when not adjacent
  EXPECT_EQ(classify(false, 0.0, false, t), "single_well");
  EXPECT_EQ(classify(true, 1.0, false, t), "single_well");
}

}  // namespace
}  // namespace tlsmap
