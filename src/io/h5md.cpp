// H5MD configuration I/O with parallel HDF5 (layout: docs/file-format.md).
//
// Every HDF5 call is made by all ranks and its status is agreed on (one Allreduce): a failure on
// any rank becomes the same tlsmap::Error on every rank, so no rank is left waiting inside a
// collective call. Handles are owned by RAII wrappers created *before* the status check, so a
// throw closes everything and H5Fclose (which refuses open objects under MPI-IO) still works.
//
// Rows are ordered by id. Writing routes beads to row blocks with one MPI_Alltoallv, then each
// rank writes one hyperslab with a collective H5Dwrite; reading reads the same blocks back.
#include "tlsmap/io/h5md.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/petsc_util.hpp"
#include "tlsmap/core/reduction.hpp"
#include "tlsmap/io/input.hpp"
#include "tlsmap/io/units.hpp"
#include "tlsmap/io/validate.hpp"
#include "tlsmap/parallel/gather.hpp"

#include <fcntl.h>
#include <hdf5_hl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tlsmap {
namespace {

constexpr const char* kVersion = "0.1.0";
constexpr hsize_t kChunkRows = 1 << 16;   // rows per chunk: ~1.5 MB for (N,3) doubles
constexpr hsize_t kChunkBytes = 1 << 20;  // chunk size of the other datasets (whole rows, at least one)

// Owns an HDF5 id; closes it on scope exit.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, -1)), close_(o.close_) {}
  Handle& operator=(Handle&& o) noexcept {
    std::swap(id_, o.id_);
    std::swap(close_, o.close_);
    return *this;
  }
  ~Handle() {
    if (id_ >= 0 && close_) close_(id_);
  }
  operator hid_t() const { return id_; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

void silence_hdf5() {
  static const bool done = [] { return H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) >= 0; }();
  (void)done;
}

// The innermost message of HDF5's error stack (the original cause), then clear the stack.
std::string hdf5_detail() {
  std::string out;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* e, void* data) -> herr_t {
        if (n == 0 && e->desc) *static_cast<std::string*>(data) = e->desc;
        return 0;
      },
      &out);
  H5Eclear2(H5E_DEFAULT);
  return out;
}

// HDF5 calls whose failure was agreed on (agree_io), the same count on every rank of a file's
// communicator: a writable file opened before a failure is abandoned, not closed (Hdf5File).
long hdf5_failures = 0;

// How long a rank whose HDF5 call failed waits for the others at the status check (agree_io).
// TLSMAP_IO_WAIT_SECONDS overrides the default (tests).
double io_wait_seconds() {
  static const double seconds = [] {
    const char* v = std::getenv("TLSMAP_IO_WAIT_SECONDS");
    const double s = v ? std::atof(v) : 0.0;
    return s > 0.0 ? s : 60.0;
  }();
  return seconds;
}

// agree() for the status of an HDF5 call: the same Error on every rank, or none. The reduction is
// non-blocking so that a rank whose call failed can stop waiting: HDF5 1.10 is not robust to a
// write failing on one rank only (a full disk, a file-size limit: the failing rank returns early,
// the others wait at a barrier inside HDF5 for ever), so after io_wait_seconds() without an answer
// the failing rank removes its uncommitted temporaries and aborts the job with its message
// (abort_all) instead of hanging. Ranks whose call succeeded wait without a limit, as in agree().
void agree_io(MPI_Comm comm, bool ok, const std::string& message) {
  const int rank = comm_rank(comm);
  int mine = ok ? std::numeric_limits<int>::max() : rank, lowest = 0;
  MPI_Request request;
  MPI_Iallreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, comm, &request);
  if (ok) {
    MPI_Wait(&request, MPI_STATUS_IGNORE);
  } else {
    const double deadline = MPI_Wtime() + io_wait_seconds();
    for (int done = 0; MPI_Test(&request, &done, MPI_STATUS_IGNORE), !done;) {
      if (MPI_Wtime() > deadline) {
        remove_uncommitted_temporaries();
        abort_all(comm, message + " (the other ranks are stuck in HDF5 after this failure; aborting the job)");
      }
      usleep(1000);
    }
  }
  if (lowest == std::numeric_limits<int>::max()) return;
  ++hdf5_failures;
  agree(comm, rank != lowest, message);  // every rank is here: the lowest failing rank's message
}

// Collective status checks for one file.
struct Io {
  MPI_Comm comm;
  std::string path;

  void fail_unless(bool ok, const std::string& what) const { agree(comm, ok, path + ": " + what); }
  // The status of an HDF5 call (agree_io: a failure on one rank cannot hang the job).
  herr_t check(herr_t status, const std::string& what) const {
    std::string detail = status < 0 ? hdf5_detail() : "";
    agree_io(comm, status >= 0, path + ": " + what + (detail.empty() ? "" : " (HDF5: " + detail + ")"));
    return status;
  }
  // A read of dataset `name`: a Fletcher32 mismatch (the innermost HDF5 error, "data error detected
  // by Fletcher32 checksum") is reported as corrupted data, naming the dataset.
  void check_read(herr_t status, const std::string& name) const {
    std::string detail = status < 0 ? hdf5_detail() : "";
    const bool checksum = detail.find("Fletcher32") != std::string::npos;
    agree_io(comm, status >= 0,
             path + ": " +
                 (checksum ? name + ": data corrupted (checksum mismatch)"
                           : "cannot read " + name + (detail.empty() ? "" : " (HDF5: " + detail + ")")));
  }
  Handle make(hid_t id, herr_t (*close)(hid_t), const std::string& what) const {
    Handle h(id, close);
    check(id < 0 ? -1 : 0, what);
    return h;
  }
  bool exists(hid_t loc, const std::string& name) const {
    htri_t e = H5Lexists(loc, name.c_str(), H5P_DEFAULT);
    check(e < 0 ? -1 : 0, "cannot look up " + name);
    return e > 0;
  }
  // Whether every component of an absolute path exists (H5Lexists alone fails on a missing
  // parent; H5LTpath_valid walks the components, and the last one need only be a link).
  bool path_exists(hid_t file, const std::string& object) const {
    const htri_t e = H5LTpath_valid(file, object.c_str(), false);
    check(e < 0 ? -1 : 0, "cannot look up " + object);
    return e > 0;
  }
};

// Row blocks: rank r holds rows [block_begin(r), block_begin(r + 1)).
std::int64_t block_begin(int r, std::int64_t n, int p) { return r * n / p; }
int block_owner(std::int64_t row, std::int64_t n, int p) { return static_cast<int>(((row + 1) * p - 1) / n); }

// Send items[i] to rank dest[i]; returns what this rank receives (in rank order).
template <class T>
std::vector<T> route(MPI_Comm comm, const std::vector<T>& items, const std::vector<int>& dest) {
  const int p = comm_size(comm);
  std::vector<int> send_n(p, 0), recv_n(p), send_off(p, 0), recv_off(p, 0);
  for (int d : dest) ++send_n[d];
  MPI_Alltoall(send_n.data(), 1, MPI_INT, recv_n.data(), 1, MPI_INT, comm);
  std::partial_sum(send_n.begin(), send_n.end() - 1, send_off.begin() + 1);
  std::partial_sum(recv_n.begin(), recv_n.end() - 1, recv_off.begin() + 1);
  std::vector<T> send(items.size()), recv(recv_off.back() + recv_n.back());
  std::vector<int> fill = send_off;
  for (std::size_t i = 0; i < items.size(); ++i) send[fill[dest[i]]++] = items[i];
  MPI_Datatype type;  // counts in items, not bytes, so large blocks do not overflow int
  MPI_Type_contiguous(sizeof(T), MPI_BYTE, &type);
  MPI_Type_commit(&type);
  MPI_Alltoallv(send.data(), send_n.data(), send_off.data(), type, recv.data(), recv_n.data(), recv_off.data(), type,
                comm);
  MPI_Type_free(&type);
  return recv;
}

// Collective: the ids (each in 1..n) of this rank's block, received in any order, must cover
// the block exactly once.
void check_block_ids(const Io& io, const std::vector<std::int64_t>& ids, std::int64_t begin, std::int64_t count) {
  std::vector<char> seen(count, 0);
  std::string problem;
  for (std::int64_t id : ids) {
    if (seen[id - 1 - begin]++ && problem.empty()) problem = "id " + std::to_string(id) + " appears more than once";
  }
  for (std::int64_t k = 0; k < count && problem.empty(); ++k)
    if (!seen[k]) problem = "id " + std::to_string(begin + k + 1) + " is missing";
  io.fail_unless(problem.empty(), "bead ids must be exactly 1..N: " + problem);
}

// Collective: every id in [1, n], and each exactly once over all ranks.
void check_ids(const Io& io, const std::vector<std::int64_t>& ids, std::int64_t n) {
  const int p = comm_size(io.comm), r = comm_rank(io.comm);
  auto bad = std::find_if(ids.begin(), ids.end(), [n](std::int64_t id) { return id < 1 || id > n; });
  io.fail_unless(bad == ids.end(), "bead ids must be exactly 1..N (N = " + std::to_string(n) + "): found id " +
                                       (bad == ids.end() ? "" : std::to_string(*bad)));
  std::vector<int> dest(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) dest[i] = block_owner(ids[i] - 1, n, p);
  check_block_ids(io, route(io.comm, ids, dest), block_begin(r, n, p), block_begin(r + 1, n, p) - block_begin(r, n, p));
}

void bcast_string(MPI_Comm comm, std::string& s) {
  std::uint64_t n = s.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm);
  s.resize(n);
  MPI_Bcast(s.data(), static_cast<int>(n), MPI_CHAR, 0, comm);
}

// HDF5 metadata must be identical on all ranks: use rank 0's copy.
ConfigMeta bcast_meta(MPI_Comm comm, ConfigMeta m) {
  bcast_string(comm, m.units);
  bcast_string(comm, m.input);
  bcast_string(comm, m.author);
  MPI_Bcast(&m.step, 1, MPI_INT64_T, 0, comm);
  MPI_Bcast(&m.time, 1, MPI_DOUBLE, 0, comm);
  std::uint64_t n = m.values.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm);
  std::vector<std::pair<std::string, double>> kv(m.values.begin(), m.values.end());
  kv.resize(n);
  for (auto& [k, v] : kv) {
    bcast_string(comm, k);
    MPI_Bcast(&v, 1, MPI_DOUBLE, 0, comm);
  }
  m.values = std::map<std::string, double>(kv.begin(), kv.end());
  return m;
}

// ---- writing -------------------------------------------------------------------------------

Handle string_type(const Io& io, std::size_t len) {
  Handle t = io.make(H5Tcopy(H5T_C_S1), H5Tclose, "cannot create a string type");
  io.check(H5Tset_size(t, len + 1), "cannot size a string type");  // +1: room for the NUL
  io.check(H5Tset_cset(t, H5T_CSET_UTF8), "cannot set a string type's character set");
  return t;
}

void write_attr(const Io& io, hid_t obj, const std::string& name, hid_t file_type, hid_t mem_type, hid_t space,
                const void* data) {
  Handle a = io.make(H5Acreate2(obj, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                     "cannot create attribute " + name);
  io.check(H5Awrite(a, mem_type, data), "cannot write attribute " + name);
}

void write_string_attr(const Io& io, hid_t obj, const std::string& name, const std::string& value) {
  Handle space = io.make(H5Screate(H5S_SCALAR), H5Sclose, "cannot create a dataspace");
  Handle type = string_type(io, value.size());
  write_attr(io, obj, name, type, type, space, value.c_str());
}

void write_double_attr(const Io& io, hid_t obj, const std::string& name, double value) {
  Handle space = io.make(H5Screate(H5S_SCALAR), H5Sclose, "cannot create a dataspace");
  write_attr(io, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space, &value);
}

void write_int_attrs(const Io& io, hid_t obj, const std::string& name, const std::vector<std::int32_t>& values,
                     bool scalar) {
  const hsize_t n = values.size();
  Handle space =
      io.make(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), H5Sclose, "cannot create a dataspace");
  write_attr(io, obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, space, values.data());
}

Handle create_group(const Io& io, hid_t loc, const std::string& name) {
  return io.make(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                 "cannot create group " + name);
}

// Chunks of whole rows (the first dimension split) of about kChunkBytes, for a non-empty dataset
// of shape dims whose elements take element_size bytes.
std::vector<hsize_t> row_chunks(const std::vector<hsize_t>& dims, std::size_t element_size) {
  std::vector<hsize_t> chunk = dims;
  hsize_t row_bytes = std::max<hsize_t>(1, element_size);
  for (std::size_t k = 1; k < dims.size(); ++k) row_bytes *= dims[k];
  chunk[0] = std::clamp<hsize_t>(kChunkBytes / row_bytes, 1, dims[0]);
  return chunk;
}

// Chunked layout with HDF5's Fletcher32 checksum filter (docs/file-format.md, "Checksums"): every
// chunk carries a checksum written with it and verified on every read, so flipped bits in the raw
// data give an error ("data corrupted (checksum)") instead of wrong numbers. Filters need chunked
// storage, and parallel HDF5 writes filtered datasets only collectively (every write here is).
void set_checksummed_chunks(const Io& io, hid_t dcpl, const std::vector<hsize_t>& chunk, const std::string& name) {
  io.check(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), "cannot set chunking for " + name);
  io.check(H5Pset_fletcher32(dcpl), "cannot set a checksum for " + name);
}

// Create a dataset of the given shape; the first dimension is unlimited if `framed` (H5MD's
// "variable" time dimension). Chunked and checksummed (dims are never empty here).
Handle create_dataset(const Io& io, hid_t loc, const std::string& name, hid_t file_type,
                      const std::vector<hsize_t>& dims, bool framed) {
  std::vector<hsize_t> max = dims;
  if (framed) max[0] = H5S_UNLIMITED;
  Handle space = io.make(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max.data()), H5Sclose,
                         "cannot create a dataspace for " + name);
  Handle dcpl = io.make(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "cannot create a property list");
  io.check(H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER), "cannot set fill time");  // every element is written
  std::vector<hsize_t> chunk = row_chunks(dims, H5Tget_size(file_type));
  if (framed) {
    chunk = dims;
    chunk[0] = 1;
    if (chunk.size() > 1) chunk[1] = std::max<hsize_t>(1, std::min(chunk[1], kChunkRows));
  }
  set_checksummed_chunks(io, dcpl, chunk, name);
  return io.make(H5Dcreate2(loc, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
                 "cannot create dataset " + name);
}

// Collective transfer of the block (start, count) of dset to or from the flat buffer `data`. A rank
// with nothing to move (a zero in count) selects nothing but still joins the collective call.
void transfer(const Io& io, hid_t dset, const std::string& name, hid_t mem_type, void* data,
              const std::vector<hsize_t>& start, const std::vector<hsize_t>& count, hid_t dxpl, bool write) {
  Handle fspace = io.make(H5Dget_space(dset), H5Sclose, "cannot get the dataspace of " + name);
  if (H5Sget_simple_extent_npoints(fspace) == 0) return;  // an empty dataset has no storage to touch
  const hsize_t n = std::accumulate(count.begin(), count.end(), hsize_t{1}, std::multiplies<>());
  const hsize_t n_mem = std::max<hsize_t>(1, n);
  Handle mspace = io.make(H5Screate_simple(1, &n_mem, nullptr), H5Sclose, "cannot create a dataspace");
  // One status check on either branch: every rank must make the same sequence of agree() calls.
  const herr_t selected =
      n == 0          ? std::min(H5Sselect_none(fspace), H5Sselect_none(mspace))
      : start.empty() ? H5Sselect_all(fspace)  // a scalar dataset
                      : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  io.check(selected, "cannot select in " + name);
  if (write) io.check(H5Dwrite(dset, mem_type, mspace, fspace, dxpl, data), "cannot write " + name);
  else io.check_read(H5Dread(dset, mem_type, mspace, fspace, dxpl, data), name);
}

// Rows [begin, begin + count) of a (frames, N[, width]) or (N[, width]) dataset, frame `frame`.
std::pair<std::vector<hsize_t>, std::vector<hsize_t>> rows_block(bool framed, hsize_t frame, hsize_t begin,
                                                                 hsize_t count, hsize_t width) {
  std::vector<hsize_t> start, cnt;
  if (framed) start.push_back(frame), cnt.push_back(1);
  start.push_back(begin), cnt.push_back(count);
  if (width > 1) start.push_back(0), cnt.push_back(width);
  return {start, cnt};
}

void write_rows(const Io& io, hid_t dset, const std::string& name, hid_t mem_type, const void* data, bool framed,
                hsize_t frame, hsize_t begin, hsize_t count, hsize_t width, hid_t dxpl) {
  auto [start, cnt] = rows_block(framed, frame, begin, count, width);
  transfer(io, dset, name, mem_type, const_cast<void*>(data), start, cnt, dxpl, true);
}

// An H5MD time-dependent element with one frame: group `name` holding value (1, N[, 3]),
// step (1) and time (1). `data` holds this rank's rows [begin, begin + count).
void write_element(const Io& io, hid_t parent, const std::string& name, hid_t file_type, hid_t mem_type,
                   const void* data, std::int64_t n, std::int64_t begin, std::int64_t count, int width,
                   const ConfigMeta& meta, hid_t dxpl, bool root) {
  Handle g = create_group(io, parent, name);
  std::vector<hsize_t> dims{1, static_cast<hsize_t>(n)};
  if (width > 1) dims.push_back(width);
  Handle v = create_dataset(io, g, "value", file_type, dims, true);
  write_rows(io, v, name + "/value", mem_type, data, true, 0, begin, count, width, dxpl);
  Handle s = create_dataset(io, g, "step", H5T_STD_I64LE, {1}, true);
  write_rows(io, s, name + "/step", H5T_NATIVE_INT64, &meta.step, false, 0, 0, root ? 1 : 0, 1, dxpl);
  Handle t = create_dataset(io, g, "time", H5T_IEEE_F64LE, {1}, true);
  write_rows(io, t, name + "/time", H5T_NATIVE_DOUBLE, &meta.time, false, 0, 0, root ? 1 : 0, 1, dxpl);
}

// One bead as it travels to the rank that writes its row.
struct Row {
  std::int64_t id;
  double pos[3], vel[3], charge, diameter;
  std::int32_t species, image[3];
};

// ---- reading -------------------------------------------------------------------------------

std::string shape_string(const std::vector<hsize_t>& d) {
  std::string s = "(";
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(d[i]);
  }
  return s + ")";
}

// Open a per-particle element: either an H5MD time-dependent group (read its value's last
// frame) or a plain time-independent dataset. Checks rank, N (if n >= 0) and the type class.
struct Element {
  Handle dset;
  std::string name;
  bool framed = false;
  hsize_t frame = 0, n = 0;
};

Element open_element(const Io& io, hid_t file, const std::string& name, int width, std::int64_t n, H5T_class_t cls) {
  Element e;
  io.fail_unless(io.path_exists(file, name), "missing dataset " + name);
  Handle obj = io.make(H5Oopen(file, name.c_str(), H5P_DEFAULT), H5Oclose, "cannot open " + name);
  e.framed = H5Iget_type(obj) == H5I_GROUP;
  e.name = e.framed ? name + "/value" : name;
  if (e.framed) io.fail_unless(io.exists(obj, "value"), "missing dataset " + e.name);
  e.dset = io.make(H5Dopen2(file, e.name.c_str(), H5P_DEFAULT), H5Dclose, "cannot open dataset " + e.name);
  Handle space = io.make(H5Dget_space(e.dset), H5Sclose, "cannot get the dataspace of " + e.name);
  const int nd = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(std::max(nd, 0));
  if (nd > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  const int want = (e.framed ? 1 : 0) + 1 + (width > 1 ? 1 : 0);
  const std::string want_s = std::string("(") + (e.framed ? "n_frames, " : "") + (n >= 0 ? std::to_string(n) : "N") +
                             (width > 1 ? ", " + std::to_string(width) : "") + ")";
  bool ok = nd == want && (!e.framed || dims[0] >= 1) && (width == 1 || dims.back() == static_cast<hsize_t>(width)) &&
            (n < 0 || dims[e.framed ? 1 : 0] == static_cast<hsize_t>(n));
  io.fail_unless(ok, "dataset " + e.name + " has shape " + shape_string(dims) + ", expected " + want_s);
  Handle type = io.make(H5Dget_type(e.dset), H5Tclose, "cannot get the type of " + e.name);
  io.fail_unless(H5Tget_class(type) == cls, "dataset " + e.name + " has the wrong type (expected " +
                                                (cls == H5T_FLOAT ? "floating point" : "integer") + ")");
  e.frame = e.framed ? dims[0] - 1 : 0;
  e.n = dims[e.framed ? 1 : 0];
  return e;
}

void read_rows(const Io& io, const Element& e, hid_t mem_type, void* data, hsize_t begin, hsize_t count, hsize_t width,
               hid_t dxpl) {
  auto [start, cnt] = rows_block(e.framed, e.frame, begin, count, width);
  transfer(io, e.dset, e.name, mem_type, data, start, cnt, dxpl, false);
}

// A scalar or last element of a 1-D dataset (H5MD step/time), read by every rank.
template <class T>
T read_last(const Io& io, hid_t file, const std::string& name, hid_t mem_type, hid_t dxpl) {
  Handle d = io.make(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose, "cannot open dataset " + name);
  Handle fspace = io.make(H5Dget_space(d), H5Sclose, "cannot get the dataspace of " + name);
  const int nd = H5Sget_simple_extent_ndims(fspace);
  hsize_t dims[1] = {0};
  if (nd == 1) H5Sget_simple_extent_dims(fspace, dims, nullptr);
  io.fail_unless(nd == 0 || (nd == 1 && dims[0] >= 1), "dataset " + name + " must be a scalar or non-empty 1-D");
  if (nd == 1) {
    hsize_t start = dims[0] - 1, one = 1;
    io.check(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, nullptr, &one, nullptr), "cannot select in " + name);
  }
  Handle mspace = io.make(H5Screate(H5S_SCALAR), H5Sclose, "cannot create a dataspace");
  T value{};
  io.check_read(H5Dread(d, mem_type, mspace, fspace, dxpl, &value), name);
  return value;
}

std::string read_string_attr(const Io& io, hid_t obj, const std::string& name) {
  Handle a = io.make(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "cannot open attribute " + name);
  Handle type = io.make(H5Aget_type(a), H5Tclose, "cannot get the type of attribute " + name);
  io.fail_unless(H5Tget_class(type) == H5T_STRING, "attribute " + name + " is not a string");
  Handle mem = io.make(H5Tcopy(H5T_C_S1), H5Tclose, "cannot create a string type");
  io.check(H5Tset_cset(mem, H5Tget_cset(type)), "cannot set a string type's character set");  // HDF5 will not convert
  if (H5Tis_variable_str(type) > 0) {
    io.check(H5Tset_size(mem, H5T_VARIABLE), "cannot size a string type");
    char* s = nullptr;
    io.check(H5Aread(a, mem, &s), "cannot read attribute " + name);
    std::string out = s ? s : "";
    H5free_memory(s);
    return out;
  }
  const std::size_t n = H5Tget_size(type);
  std::string buf(n + 1, '\0');
  io.check(H5Tset_size(mem, n + 1), "cannot size a string type");
  io.check(H5Aread(a, mem, buf.data()), "cannot read attribute " + name);
  buf.resize(std::strlen(buf.c_str()));
  return buf;
}

// Root attributes: units and input (strings), every scalar floating-point one into values.
void read_meta(const Io& io, hid_t file, ConfigMeta& meta) {
  std::vector<std::string> names;
  hsize_t idx = 0;
  io.check(H5Aiterate2(
               file, H5_INDEX_NAME, H5_ITER_INC, &idx,
               [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
                 static_cast<std::vector<std::string>*>(data)->push_back(name);
                 return 0;
               },
               &names),
           "cannot list the root attributes");
  meta.units.clear();
  for (const auto& name : names) {
    if (name == "units" || name == "input") {
      (name == "units" ? meta.units : meta.input) = read_string_attr(io, file, name);
      continue;
    }
    Handle a = io.make(H5Aopen(file, name.c_str(), H5P_DEFAULT), H5Aclose, "cannot open attribute " + name);
    Handle type = io.make(H5Aget_type(a), H5Tclose, "cannot get the type of attribute " + name);
    Handle space = io.make(H5Aget_space(a), H5Sclose, "cannot get the dataspace of attribute " + name);
    if (H5Tget_class(type) != H5T_FLOAT || H5Sget_simple_extent_npoints(space) != 1) continue;
    double v = 0;
    io.check(H5Aread(a, H5T_NATIVE_DOUBLE, &v), "cannot read attribute " + name);
    meta.values[name] = v;
  }
  if (io.path_exists(file, "/h5md/author")) {
    Handle g = io.make(H5Gopen2(file, "/h5md/author", H5P_DEFAULT), H5Gclose, "cannot open /h5md/author");
    htri_t has = H5Aexists(g, "name");
    if (has > 0) meta.author = read_string_attr(io, g, "name");
  }
}

// ---- checks on a configuration as read (include/tlsmap/io/validate.hpp) ----------------------------
// Each check names the file, the dataset and the first offending row (bead id and row), the same
// message at every rank count (agree_first: the lowest row speaks).

// Collective; the box is replicated, so every rank reaches the same verdict.
void check_box(const Io& io, const Box& box, const std::string& edges_name) {
  const std::string problem = box_problem(box);
  const bool origin = problem.rfind("box origin", 0) == 0;
  agree_first(io.comm, problem.empty() ? kNoProblem : 0,
              io.path + ": " + (origin ? std::string("/particles/all/box/offset") : edges_name) + ": " + problem);
}

struct RowNames {
  std::string position, species, charge, velocity, image;
};

// Collective. Rows [begin, begin + ids.size()) of the file as read on this rank: finite coordinates
// within reach of the box, finite charges (and velocities if read), species in 0..kMaxSpecies-1,
// image counts small enough to add a wrap to.
void check_rows(const Io& io, const Box& box, std::int64_t begin, const RowNames& names, const std::vector<double>& x,
                const std::vector<double>* v, const std::vector<double>& q, const std::vector<std::int32_t>& sp,
                const std::vector<std::int32_t>& img, const std::vector<std::int64_t>& ids) {
  std::int64_t first = kNoProblem;
  std::string message;
  auto bead = [&](std::size_t k) {
    return "bead id " + std::to_string(ids[k]) + " (row " + std::to_string(begin + static_cast<std::int64_t>(k)) + ")";
  };
  for (std::size_t k = 0; k < ids.size() && first == kNoProblem; ++k) {
    std::string what;
    const Vec3 xk(x[3 * k], x[3 * k + 1], x[3 * k + 2]);
    if (std::string p = coordinate_problem(xk, box); !p.empty()) what = names.position + ": " + bead(k) + ": " + p;
    else if (!std::isfinite(q[k]))
      what = names.charge + ": " + bead(k) + " has charge " + std::to_string(q[k]) + ", not finite";
    else if (sp[k] < 0 || sp[k] >= kMaxSpecies)
      what = names.species + ": " + bead(k) + " has species " + std::to_string(sp[k]) +
             "; species are 0-based indices below " + std::to_string(kMaxSpecies);
    else if (v && !Vec3((*v)[3 * k], (*v)[3 * k + 1], (*v)[3 * k + 2]).allFinite())
      what = names.velocity + ": " + bead(k) + " has a velocity component that is not finite";
    else
      for (int d = 0; d < 3 && what.empty(); ++d)
        if (std::abs(static_cast<std::int64_t>(img[3 * k + d])) >= (std::int64_t{1} << 30))
          what = names.image + ": " + bead(k) + " has image count " + std::to_string(img[3 * k + d]) +
                 "; image counts must lie within +-2^30";
    if (!what.empty()) first = begin + static_cast<std::int64_t>(k), message = io.path + ": " + what;
  }
  agree_first(io.comm, first, message);
}

// Collective. Diameters (rows [begin, begin + ids.size()) as read on this rank) finite and positive.
void check_diameters(const Io& io, const std::string& name, std::int64_t begin, const std::vector<double>& d,
                     const std::vector<std::int64_t>& ids) {
  std::int64_t first = kNoProblem;
  std::string message;
  for (std::size_t k = 0; k < d.size() && first == kNoProblem; ++k)
    if (!(std::isfinite(d[k]) && d[k] > 0.0)) {
      first = begin + static_cast<std::int64_t>(k);
      message = io.path + ": " + name + ": bead id " + std::to_string(ids[k]) + " (row " + std::to_string(first) +
                ") has diameter " + std::to_string(d[k]) + "; diameters must be positive and finite";
    }
  agree_first(io.comm, first, message);
}

// Collective. No two beads closer than kMinBeadDistance (minimum image). The positions are
// gathered to rank 0 (24 bytes per bead) and searched there by cell; rank 0's verdict is everyone's.
void check_spacing(const Io& io, const Box& box, const std::string& position_name, const std::vector<double>& x,
                   const std::vector<std::int64_t>& ids) {
  const int p = comm_size(io.comm), rank = comm_rank(io.comm);
  const int count = static_cast<int>(ids.size());
  std::vector<int> counts(p, 0), offsets(p, 0);
  MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, io.comm);
  for (int r = 1; r < p; ++r) offsets[r] = offsets[r - 1] + counts[r - 1];
  const std::size_t total = rank == 0 ? static_cast<std::size_t>(offsets.back()) + counts.back() : 0;
  std::vector<double> all_x(3 * total);
  std::vector<std::int64_t> all_ids(total);
  MPI_Datatype three;  // counts in rows, not doubles
  MPI_Type_contiguous(3, MPI_DOUBLE, &three);
  MPI_Type_commit(&three);
  MPI_Gatherv(x.data(), count, three, all_x.data(), counts.data(), offsets.data(), three, 0, io.comm);
  MPI_Type_free(&three);
  MPI_Gatherv(ids.data(), count, MPI_INT64_T, all_ids.data(), counts.data(), offsets.data(), MPI_INT64_T, 0, io.comm);
  std::string message;
  if (rank == 0) {
    std::vector<Vec3> pos(total);
    for (std::size_t k = 0; k < total; ++k) pos[k] = Vec3(all_x[3 * k], all_x[3 * k + 1], all_x[3 * k + 2]);
    if (const auto pair = close_pair(pos, box)) {
      const auto [i, j] = *pair;
      const double r = box.minimum_image(Vec3(pos[j] - pos[i])).norm();
      message = io.path + ": " + position_name + ": " +
                close_pair_message(std::min(all_ids[i], all_ids[j]), std::max(all_ids[i], all_ids[j]), r);
    }
  }
  agree_first(io.comm, message.empty() ? kNoProblem : 0, message);
}

}  // namespace

// ---- Hdf5File --------------------------------------------------------------------------------

namespace {
// Temp files a signal handler may have to remove: fixed storage, written outside handlers only.
constexpr int kMaxPending = 8;
char pending_tmp[kMaxPending][4096];
volatile std::sig_atomic_t pending_used[kMaxPending];

void register_tmp(const std::string& tmp) {
  for (int k = 0; k < kMaxPending; ++k)
    if (!pending_used[k] && tmp.size() < sizeof pending_tmp[k]) {
      std::memcpy(pending_tmp[k], tmp.c_str(), tmp.size() + 1);
      pending_used[k] = 1;
      return;
    }
}
void unregister_tmp(const std::string& tmp) {
  for (int k = 0; k < kMaxPending; ++k)
    if (pending_used[k] && tmp == pending_tmp[k]) pending_used[k] = 0;
}
}  // namespace

namespace {
bool close_failed = false;  // an H5Fclose failed on this rank (hdf5_close_failed)
}  // namespace

bool hdf5_close_failed() noexcept { return close_failed; }

void remove_uncommitted_temporaries() noexcept {
  for (int k = 0; k < kMaxPending; ++k)
    if (pending_used[k]) unlink(pending_tmp[k]);
}

Hdf5File::Hdf5File(const std::string& path, Mode mode, MPI_Comm comm)
    : path_(path), mode_(mode), comm_(comm), failures_at_open_(hdf5_failures) {
  silence_hdf5();
  Io io{comm, path};
  if (mode != Mode::create) {  // clear messages for the common mistakes, decided once on rank 0
    int state = 0;
    if (comm_rank(comm) == 0) {
      std::error_code ec;
      if (!std::filesystem::exists(path, ec)) state = 1;
      else if (!std::filesystem::is_regular_file(path, ec)) state = 3;  // a directory, a FIFO (would block)
      else if (H5Fis_hdf5(path.c_str()) <= 0) state = 2;
      H5Eclear2(H5E_DEFAULT);
    }
    MPI_Bcast(&state, 1, MPI_INT, 0, comm);
    if (state == 1) throw Error(path + ": no such file");
    if (state == 2) throw Error(path + ": not an HDF5 file (corrupt or another format)");
    if (state == 3) throw Error(path + ": not a regular file (a directory, FIFO or device)");
  }
  Handle fapl = io.make(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "cannot create a file access property list");
  io.check(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL), "cannot set the MPI-IO driver");
  // 1.8 object format: attributes larger than 64 kB (long input texts) go to dense storage, and
  // readers from HDF5 1.8 on can open the file.
  io.check(H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18), "cannot set the format version");
  // Metadata is read by one rank and broadcast, and written collectively: scales to many ranks.
  io.check(H5Pset_all_coll_metadata_ops(fapl, true), "cannot set collective metadata reads");
  io.check(H5Pset_coll_metadata_write(fapl, true), "cannot set collective metadata writes");
  const std::string tmp = path + ".tmp";
  const bool uses_tmp = mode == Mode::create || mode == Mode::update;
  if (mode == Mode::update) {  // edit a copy: the original stays intact until commit()
    std::string problem;
    if (comm_rank(comm) == 0) {
      std::error_code ec;
      std::filesystem::copy_file(path, tmp, std::filesystem::copy_options::overwrite_existing, ec);
      if (ec) {
        problem = "cannot copy to " + tmp + ": " + ec.message();
        // libstdc++'s copy_file reports a short write (a full disk) as EIO: say what it was.
        std::error_code ec_size, ec_space;
        const auto need = std::filesystem::file_size(path, ec_size);
        const auto room = std::filesystem::space(std::filesystem::absolute(tmp).parent_path(), ec_space);
        if (!ec_size && !ec_space && room.available < need)
          problem += " (no space left on the device: " + std::to_string(need) + " bytes needed, " +
                     std::to_string(room.available) + " free)";
      }
    }
    bcast_string(comm, problem);
    if (!problem.empty()) {
      if (comm_rank(comm) == 0) std::remove(tmp.c_str());
      throw Error(path + ": " + problem);
    }
  }
  // Chunk indexes (v1 B-trees in the 1.8 format) with nodes of 2 * 4 entries, not HDF5's 2 * 32:
  // most datasets are one or a few chunks, and 64-entry nodes would add ~2 kB to each of them.
  Handle fcpl = io.make(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "cannot create a file creation property list");
  io.check(H5Pset_istore_k(fcpl, 4), "cannot set the chunk index node size");
  if (mode == Mode::create) id_ = H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
  else if (mode == Mode::update) id_ = H5Fopen(tmp.c_str(), H5F_ACC_RDWR, fapl);
  else id_ = H5Fopen(path.c_str(), mode == Mode::read_write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
  try {
    io.check(id_ < 0 ? -1 : 0, mode == Mode::create   ? "cannot create " + tmp
                               : mode == Mode::update ? "cannot open " + tmp
                                                      : "cannot open the file");
  } catch (...) {
    if (id_ >= 0) H5Fclose(id_);
    if (uses_tmp && comm_rank(comm) == 0) std::remove(tmp.c_str());
    throw;
  }
  if (uses_tmp && comm_rank(comm) == 0) register_tmp(tmp);
}

Hdf5File::~Hdf5File() {
  if (id_ >= 0 && mode_ != Mode::read_only && hdf5_failures > failures_at_open_) close_failed = true;  // abandoned
  else if (id_ >= 0 && H5Fclose(id_) < 0) close_failed = true;
  const bool uses_tmp = mode_ == Mode::create || mode_ == Mode::update;
  if (uses_tmp && !committed_ && comm_rank(comm_) == 0) {
    unregister_tmp(path_ + ".tmp");
    std::remove((path_ + ".tmp").c_str());
  }
}

void Hdf5File::commit() {
  const ScopedLogEvent event(LogEvent::h5_write);  // the close flushes the file
  Io io{comm_, path_};
  if ((mode_ != Mode::create && mode_ != Mode::update) || committed_)
    throw Error(path_ + ": commit() needs a file opened in create or update mode, once");
  {  // The room the close needs, claimed now: a full disk gives an Error here, not inside H5Fclose.
    // HDF5 gives no end of allocation under MPI-IO (H5Fget_eoa needs a SWMR driver), so: the file's
    // size now plus every byte of the metadata cache (what the close may still write; clean entries
    // too, an overestimate) plus 16 kB for the space aggregators (2 kB blocks each by default).
    std::size_t max_size = 0, min_clean = 0, cached = 0;
    int n_entries = 0;
    io.check(H5Fget_mdc_size(id_, &max_size, &min_clean, &cached, &n_entries), "cannot query the metadata cache");
    int err = 0;
    off_t need = 0;
    if (comm_rank(comm_) == 0) {
      const int fd = open((path_ + ".tmp").c_str(), O_WRONLY);
      struct stat st {};
      err = fd < 0 || fstat(fd, &st) != 0 ? errno : 0;
      need = st.st_size + static_cast<off_t>(cached) + (off_t{1} << 14);
      if (err == 0 && fallocate(fd, 0, 0, need) != 0) err = errno;
      if (fd >= 0) close(fd);
      if (err == EOPNOTSUPP || err == ENOSYS) err = 0;  // a file system without fallocate: no early check
    }
    agree_io(comm_, err == 0,
             path_ + ": cannot write " + path_ + ".tmp (" + std::to_string(need) + " bytes): " + std::strerror(err));
  }
  herr_t status = H5Fclose(id_);
  id_ = -1;
  if (status < 0) close_failed = true;
  io.check(status, "cannot close " + path_ + ".tmp");  // an Allreduce: every rank has closed after it
  int ok = 1;
  if (comm_rank(comm_) == 0) {
    unregister_tmp(path_ + ".tmp");
    ok = std::rename((path_ + ".tmp").c_str(), path_.c_str()) == 0;
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm_);
  if (!ok) throw Error(path_ + ": cannot rename " + path_ + ".tmp to it");
  committed_ = true;
}

// ---- configurations ------------------------------------------------------------------------

namespace {

// This rank's block of rows [begin, begin + count) of every per-bead column, in id order.
struct BlockColumns {
  std::int64_t begin = 0, count = 0;
  std::vector<double> pos, vel, charge, diameter;
  std::vector<std::int32_t> species, image;
  std::vector<std::int64_t> id;
};

// Collective: every owned bead routed to the rank writing its row (ids must be exactly 1..n).
BlockColumns block_columns(const Io& io, const Beads& beads, bool with_velocity, std::int64_t n) {
  const int p = comm_size(io.comm), rank = comm_rank(io.comm);
  const std::size_t n_local = beads.n_owned;
  std::vector<Row> rows(n_local);
  std::vector<int> dest(n_local);
  std::int64_t bad_id = 0;
  for (std::size_t i = 0; i < n_local; ++i) {
    Row& r = rows[i];
    r.id = beads.id[i];
    for (int d = 0; d < 3; ++d) {
      r.pos[d] = beads.pos[i][d];
      r.vel[d] = with_velocity ? beads.vel[i][d] : 0.0;
      r.image[d] = beads.image[i][d];
    }
    r.charge = beads.charge[i];
    r.diameter = beads.has_diameter ? beads.diameter[i] : 0.0;
    r.species = beads.species[i];
    if (r.id < 1 || r.id > n) bad_id = r.id, r.id = 1;  // reported below, after everyone has looked
    dest[i] = block_owner(r.id - 1, n, p);
  }
  io.fail_unless(bad_id == 0,
                 "bead ids must be exactly 1..N (N = " + std::to_string(n) + "): found id " + std::to_string(bad_id));
  const std::vector<Row> got = route(io.comm, rows, dest);
  BlockColumns c;
  c.begin = block_begin(rank, n, p);
  c.count = block_begin(rank + 1, n, p) - c.begin;
  std::vector<std::int64_t> got_ids(got.size());
  for (std::size_t i = 0; i < got.size(); ++i) got_ids[i] = got[i].id;
  check_block_ids(io, got_ids, c.begin, c.count);
  c.pos.resize(3 * c.count), c.vel.resize(3 * c.count), c.image.resize(3 * c.count);
  c.charge.resize(c.count), c.diameter.resize(c.count), c.species.resize(c.count), c.id.resize(c.count);
  for (const Row& r : got) {
    const std::int64_t k = r.id - 1 - c.begin;
    for (int d = 0; d < 3; ++d)
      c.pos[3 * k + d] = r.pos[d], c.vel[3 * k + d] = r.vel[d], c.image[3 * k + d] = r.image[d];
    c.charge[k] = r.charge, c.diameter[k] = r.diameter, c.species[k] = r.species, c.id[k] = r.id;
  }
  return c;
}

// /h5md (version, author, creator) and the root attributes: units, input, the metadata values.
void write_h5md_header(const Io& io, hid_t f, const ConfigMeta& meta) {
  {
    Handle h = create_group(io, f, "/h5md");
    write_int_attrs(io, h, "version", {1, 1}, false);
    Handle author = create_group(io, h, "author");
    std::string who = meta.author;
    if (who.empty()) who = std::getenv("USER") ? std::getenv("USER") : "unknown";
    write_string_attr(io, author, "name", who);
    Handle creator = create_group(io, h, "creator");
    write_string_attr(io, creator, "name", "tlsmap");
    write_string_attr(io, creator, "version", kVersion);
  }
  write_string_attr(io, f, "units", meta.units);
  write_string_attr(io, f, "input", meta.input);
  for (const auto& [k, v] : meta.values) write_double_attr(io, f, k, v);
}

// box: H5MD edges as a time-dependent element (MDAnalysis reads box/edges/value), plus offset.
void write_box(const Io& io, hid_t all, const Box& box, const ConfigMeta& meta, hid_t dxpl, bool root) {
  Handle b = create_group(io, all, "box");
  write_int_attrs(io, b, "dimension", {3}, true);
  const char boundary[3][9] = {"periodic", "periodic", "periodic"};
  const hsize_t three = 3;
  Handle space = io.make(H5Screate_simple(1, &three, nullptr), H5Sclose, "cannot create a dataspace");
  Handle type = string_type(io, 8);
  write_attr(io, b, "boundary", type, type, space, boundary);
  write_element(io, b, "edges", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, box.len.data(), 3, 0, root ? 3 : 0, 1, meta, dxpl,
                root);
  Handle off = create_dataset(io, b, "offset", H5T_IEEE_F64LE, {3}, false);
  write_rows(io, off, "box/offset", H5T_NATIVE_DOUBLE, box.lo.data(), false, 0, 0, root ? 3 : 0, 1, dxpl);
}

}  // namespace

void write_configuration(Hdf5File& file, const Box& box, const Beads& beads, const ConfigMeta& meta_in,
                         bool with_velocity) {
  const ScopedLogEvent event(LogEvent::h5_write);
  const Io io{file.comm(), file.path()};
  const std::size_t n_local = beads.n_owned;
  io.fail_unless(beads.pos.size() >= n_local && beads.species.size() >= n_local && beads.charge.size() >= n_local &&
                     beads.id.size() >= n_local && beads.image.size() >= n_local &&
                     (!with_velocity || beads.vel.size() >= n_local),
                 "bead arrays are shorter than n_owned");
  io.fail_unless(file.mode() != Hdf5File::Mode::read_only, "file is open read-only");
  std::int64_t n = static_cast<std::int64_t>(n_local);
  MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_INT64_T, MPI_SUM, io.comm);
  io.fail_unless(n > 0, "no beads to write");
  const ConfigMeta meta = bcast_meta(io.comm, meta_in);
  int with_diameter = beads.has_diameter;  // a rank without beads may lack the flag
  MPI_Allreduce(MPI_IN_PLACE, &with_diameter, 1, MPI_INT, MPI_LOR, io.comm);
  io.fail_unless(!beads.has_diameter || beads.diameter.size() >= n_local, "bead diameters are shorter than n_owned");
  for (const auto& [k, v] : meta.values)
    io.fail_unless(k != "units" && k != "input", "attribute name '" + k + "' is reserved");
  const BlockColumns c = block_columns(io, beads, with_velocity, n);

  const hid_t f = file.id();
  io.fail_unless(!io.exists(f, "/h5md") && !io.exists(f, "/particles"), "file already holds a configuration");
  Handle dxpl = io.make(H5Pcreate(H5P_DATASET_XFER), H5Pclose, "cannot create a transfer property list");
  io.check(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE), "cannot select collective transfers");
  const bool root = comm_rank(io.comm) == 0;
  write_h5md_header(io, f, meta);
  Handle particles = create_group(io, f, "/particles");
  Handle all = create_group(io, particles, "all");
  write_box(io, all, box, meta, dxpl, root);
  // This rank's rows [begin, begin + count) of one per-bead element.
  auto element = [&](const char* name, hid_t file_type, hid_t mem_type, const void* data, int width) {
    write_element(io, all, name, file_type, mem_type, data, n, c.begin, c.count, width, meta, dxpl, root);
  };
  element("position", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, c.pos.data(), 3);
  if (with_velocity) element("velocity", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, c.vel.data(), 3);
  element("image", H5T_STD_I32LE, H5T_NATIVE_INT32, c.image.data(), 3);
  element("species", H5T_STD_I32LE, H5T_NATIVE_INT32, c.species.data(), 1);
  element("charge", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, c.charge.data(), 1);
  if (with_diameter) element("diameter", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, c.diameter.data(), 1);
  element("id", H5T_STD_I64LE, H5T_NATIVE_INT64, c.id.data(), 1);
  int with_partner = beads.has_partner;
  MPI_Allreduce(MPI_IN_PLACE, &with_partner, 1, MPI_INT, MPI_LOR, io.comm);
  if (with_partner) write_bonds(file, beads);
}

void write_bonds(Hdf5File& file, const Beads& beads) {
  // Each bond once, (lower id, higher id), sorted: the same rows at any rank count. Topology is
  // written once per file, so gathering it (two ids per bond) is cheap beside the coordinates.
  std::vector<double> mine;
  for (int i = 0; i < beads.n_owned; ++i)
    if (beads.has_partner && beads.partner[i] > beads.id[i])
      mine.insert(mine.end(), {static_cast<double>(beads.id[i]), static_cast<double>(beads.partner[i])});
  const std::vector<double> all = allgather_concat(mine, file.comm());
  std::vector<std::pair<std::int64_t, std::int64_t>> bonds(all.size() / 2);
  for (std::size_t k = 0; k < bonds.size(); ++k)
    bonds[k] = {static_cast<std::int64_t>(all[2 * k]), static_cast<std::int64_t>(all[2 * k + 1])};
  std::sort(bonds.begin(), bonds.end());
  std::vector<std::int64_t> flat;
  flat.reserve(2 * bonds.size());
  for (const auto& [a, b] : bonds) flat.insert(flat.end(), {a, b});
  write_replicated(file, "/particles/all/bonds", flat, Shape{bonds.size(), 2});
}

Configuration read_configuration(Hdf5File& file) {
  const ScopedLogEvent event(LogEvent::h5_read);
  const Io io{file.comm(), file.path()};
  const int p = comm_size(io.comm), rank = comm_rank(io.comm);
  const hid_t f = file.id();
  Handle dxpl = io.make(H5Pcreate(H5P_DATASET_XFER), H5Pclose, "cannot create a transfer property list");
  io.check(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE), "cannot select collective transfers");
  Configuration c;

  const Element pos = open_element(io, f, "/particles/all/position", 3, -1, H5T_FLOAT);
  const std::int64_t n = static_cast<std::int64_t>(pos.n);
  io.fail_unless(n > 0, "dataset " + pos.name + " holds no beads");
  c.n_global = n;
  const Element species = open_element(io, f, "/particles/all/species", 1, n, H5T_INTEGER);
  const Element charge = open_element(io, f, "/particles/all/charge", 1, n, H5T_FLOAT);
  const Element id = open_element(io, f, "/particles/all/id", 1, n, H5T_INTEGER);
  const Element edges = open_element(io, f, "/particles/all/box/edges", 1, 3, H5T_FLOAT);

  const std::int64_t begin = block_begin(rank, n, p), count = block_begin(rank + 1, n, p) - begin;
  std::vector<double> x(3 * count), v(3 * count, 0.0), q(count), len(3), lo(3, 0.0);
  std::vector<std::int32_t> sp(count), img(3 * count, 0);
  std::vector<std::int64_t> ids(count);
  read_rows(io, pos, H5T_NATIVE_DOUBLE, x.data(), begin, count, 3, dxpl);
  read_rows(io, species, H5T_NATIVE_INT32, sp.data(), begin, count, 1, dxpl);
  read_rows(io, charge, H5T_NATIVE_DOUBLE, q.data(), begin, count, 1, dxpl);
  read_rows(io, id, H5T_NATIVE_INT64, ids.data(), begin, count, 1, dxpl);
  read_rows(io, edges, H5T_NATIVE_DOUBLE, len.data(), 0, 3, 1, dxpl);
  if (io.path_exists(f, "/particles/all/velocity")) {
    read_rows(io, open_element(io, f, "/particles/all/velocity", 3, n, H5T_FLOAT), H5T_NATIVE_DOUBLE, v.data(), begin,
              count, 3, dxpl);
    c.has_velocity = true;
  }
  std::vector<double> diameter;
  const bool has_diameter = io.path_exists(f, "/particles/all/diameter");
  if (has_diameter) {
    const Element e = open_element(io, f, "/particles/all/diameter", 1, n, H5T_FLOAT);
    diameter.resize(count);
    read_rows(io, e, H5T_NATIVE_DOUBLE, diameter.data(), begin, count, 1, dxpl);
    check_diameters(io, e.name, begin, diameter, ids);
  }
  if (io.path_exists(f, "/particles/all/image"))
    read_rows(io, open_element(io, f, "/particles/all/image", 3, n, H5T_INTEGER), H5T_NATIVE_INT32, img.data(), begin,
              count, 3, dxpl);
  if (io.path_exists(f, "/particles/all/box/offset"))
    read_rows(io, open_element(io, f, "/particles/all/box/offset", 1, 3, H5T_FLOAT), H5T_NATIVE_DOUBLE, lo.data(), 0, 3,
              1, dxpl);
  if (pos.framed) {
    if (io.path_exists(f, "/particles/all/position/step"))
      c.meta.step = read_last<std::int64_t>(io, f, "/particles/all/position/step", H5T_NATIVE_INT64, dxpl);
    if (io.path_exists(f, "/particles/all/position/time"))
      c.meta.time = read_last<double>(io, f, "/particles/all/position/time", H5T_NATIVE_DOUBLE, dxpl);
  }
  read_meta(io, f, c.meta);

  check_ids(io, ids, n);
  for (int d = 0; d < 3; ++d) c.box.lo[d] = lo[d], c.box.len[d] = len[d];
  // Before anything is wrapped or handed on: a usable box, sane values in every row, no two beads
  // on top of each other (validate.hpp). The data are only looked at, never changed.
  check_box(io, c.box, edges.name);
  check_rows(io, c.box, begin,
             {pos.name, species.name, charge.name, "/particles/all/velocity/value", "/particles/all/image/value"}, x,
             c.has_velocity ? &v : nullptr, q, sp, img, ids);
  check_spacing(io, c.box, pos.name, x, ids);
  Beads& b = c.beads;
  b.has_diameter = has_diameter;
  b.resize_owned(static_cast<int>(count));
  for (std::int64_t k = 0; k < count; ++k) {
    b.pos[k] = Vec3(x[3 * k], x[3 * k + 1], x[3 * k + 2]);
    b.vel[k] = Vec3(v[3 * k], v[3 * k + 1], v[3 * k + 2]);
    const Int3 shift = c.box.wrap(b.pos[k]);  // no-op for our files; keeps unwrapped positions
    for (int d = 0; d < 3; ++d) b.image[k][d] = img[3 * k + d] + shift[d];
    b.species[k] = sp[k];
    b.charge[k] = q[k];
    if (has_diameter) b.diameter[k] = diameter[k];
    b.id[k] = ids[k];
  }
  if (io.path_exists(f, "/particles/all/bonds")) read_bonds(file, b, n);
  return c;
}

void read_bonds(Hdf5File& file, Beads& beads, std::int64_t n) {
  const Io io{file.comm(), file.path()};
  Shape dims;
  const std::vector<std::int64_t> flat = read_dataset<std::int64_t>(file, "/particles/all/bonds", &dims);
  io.fail_unless(dims.size() == 2 && dims[1] == 2, "/particles/all/bonds must have shape (n_bonds, 2)");
  // Every rank holds the whole table, so every rank reaches the same verdict on it.
  std::unordered_map<std::int64_t, std::int64_t> partner;
  std::string bad;
  for (std::size_t k = 0; k < dims[0] && bad.empty(); ++k) {
    const std::int64_t a = flat[2 * k], b = flat[2 * k + 1];
    if (a < 1 || a > n || b < 1 || b > n || a == b)
      bad = "row " + std::to_string(k) + " bonds ids " + std::to_string(a) + " and " + std::to_string(b) +
            ", not two distinct ids in 1.." + std::to_string(n);
    else if (!partner.emplace(a, b).second || !partner.emplace(b, a).second)
      bad = "row " + std::to_string(k) + ": a bead in more than one bond (one bond per bead is supported)";
  }
  io.fail_unless(bad.empty(), "/particles/all/bonds " + bad);
  beads.enable_partner();
  for (int i = 0; i < beads.n_owned; ++i) {
    const auto it = partner.find(beads.id[i]);
    beads.partner[i] = it == partner.end() ? 0 : it->second;
  }
}

Configuration read_configuration(const std::string& path, MPI_Comm comm) {
  Hdf5File file(path, Hdf5File::Mode::read_only, comm);
  return read_configuration(file);
}

ConfigMeta config_meta(const Input& in) {
  const PhysicalUnits u = PhysicalUnits::from_input(in);
  ConfigMeta m;
  m.units = "lj";
  m.input = in.raw_text();
  m.values = {{"sigma_angstrom", u.sigma_angstrom},
              {"epsilon_kelvin", u.epsilon_kelvin},
              {"mass_amu", u.mass_amu},
              {"e_per_reduced_charge", u.e_per_charge()},
              {"debye_per_reduced_dipole", u.debye_per_dipole()},
              {"tau_ps", u.tau_ps()}};
  return m;
}

void overwrite_rows(Hdf5File& file, const std::string& element, const std::vector<double>& local,
                    std::int64_t first_row, std::int64_t n) {
  const ScopedLogEvent event(LogEvent::h5_write);
  const MPI_Comm comm = file.comm();
  const std::string what = file.path() + ": cannot update " + element + ": ";
  const std::string value = element + "/value";
  // Closes every handle on scope exit, before the file is closed (MPI-IO refuses open objects).
  struct Ids {
    hid_t d = -1, fs = -1, ms = -1, x = -1;
    ~Ids() {
      if (x >= 0) H5Pclose(x);
      if (ms >= 0) H5Sclose(ms);
      if (fs >= 0) H5Sclose(fs);
      if (d >= 0) H5Dclose(d);
    }
  } h;
  const hid_t f = file.id();
  const bool framed = H5Lexists(f, element.c_str(), H5P_DEFAULT) > 0 && H5Lexists(f, value.c_str(), H5P_DEFAULT) > 0;
  h.d = H5Dopen2(f, framed ? value.c_str() : element.c_str(), H5P_DEFAULT);
  agree(comm, h.d >= 0, what + "cannot open the dataset");
  h.fs = H5Dget_space(h.d);
  hsize_t dims[2] = {0, 0};
  const int rank = h.fs >= 0 ? H5Sget_simple_extent_dims(h.fs, dims, nullptr) : -1;
  const bool shape_ok = framed ? rank == 2 && dims[0] >= 1 && dims[1] == static_cast<hsize_t>(n)
                               : rank == 1 && dims[0] == static_cast<hsize_t>(n);
  agree(comm, shape_ok, what + "unexpected shape");
  const hsize_t count = local.size(), mem_n = std::max<hsize_t>(1, count);
  h.ms = H5Screate_simple(1, &mem_n, nullptr);
  std::vector<hsize_t> start, cnt;  // (frame, row) or (row)
  if (framed) start.push_back(dims[0] - 1), cnt.push_back(1);
  start.push_back(static_cast<hsize_t>(first_row)), cnt.push_back(count);
  const herr_t st = count == 0 ? std::min(H5Sselect_none(h.fs), H5Sselect_none(h.ms))
                               : H5Sselect_hyperslab(h.fs, H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr);
  agree(comm, h.ms >= 0 && st >= 0, what + "cannot select rows");
  h.x = H5Pcreate(H5P_DATASET_XFER);
  agree(comm, h.x >= 0 && H5Pset_dxpl_mpio(h.x, H5FD_MPIO_COLLECTIVE) >= 0, what + "cannot set collective I/O");
  const herr_t written = H5Dwrite(h.d, H5T_NATIVE_DOUBLE, h.ms, h.fs, h.x, local.data());
  const std::string detail = written < 0 ? hdf5_detail() : "";
  agree_io(comm, written >= 0, what + "write failed" + (detail.empty() ? "" : " (HDF5: " + detail + ")"));
}

// ---- datasets and attributes of later stages ----------------------------------------------

namespace {

template <class T>
struct H5Of;
template <>
struct H5Of<double> {
  static hid_t file() { return H5T_IEEE_F64LE; }
  static hid_t mem() { return H5T_NATIVE_DOUBLE; }
  static constexpr H5T_class_t cls = H5T_FLOAT;
};
template <>
struct H5Of<std::int64_t> {
  static hid_t file() { return H5T_STD_I64LE; }
  static hid_t mem() { return H5T_NATIVE_INT64; }
  static constexpr H5T_class_t cls = H5T_INTEGER;
};
template <>
struct H5Of<int> {
  static hid_t file() { return H5T_STD_I32LE; }
  static hid_t mem() { return H5T_NATIVE_INT; }
  static constexpr H5T_class_t cls = H5T_INTEGER;
};

Handle collective_dxpl(const Io& io) {
  Handle dxpl = io.make(H5Pcreate(H5P_DATASET_XFER), H5Pclose, "cannot create a transfer property list");
  io.check(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE), "cannot select collective transfers");
  return dxpl;
}

Handle intermediate_groups(const Io& io) {
  Handle lcpl = io.make(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "cannot create a link property list");
  io.check(H5Pset_create_intermediate_group(lcpl, 1), "cannot ask for intermediate groups");
  return lcpl;
}

Io writable(Hdf5File& file, const std::string& path) {
  Io io{file.comm(), file.path()};
  io.fail_unless(file.mode() != Hdf5File::Mode::read_only, "file is open read-only");
  io.fail_unless(!path.empty() && path[0] == '/', "'" + path + "' is not an absolute path");
  return io;
}

hsize_t product(const std::vector<hsize_t>& d) {
  return std::accumulate(d.begin(), d.end(), hsize_t{1}, std::multiplies<>());
}

// A dataset at an absolute path (scalar if dims is empty), chunked and checksummed if it holds
// data; a scalar (a scalar dataspace cannot be chunked) or empty dataset (no data to protect, and
// chunks must hold at least one element) is contiguous, without a checksum.
Handle create_at(const Io& io, hid_t file, const std::string& path, hid_t type, const std::vector<hsize_t>& dims) {
  Handle space = io.make(
      dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
      H5Sclose, "cannot create a dataspace for " + path);
  Handle dcpl = io.make(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "cannot create a property list");
  if (!dims.empty() && product(dims) > 0) {
    io.check(H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER), "cannot set fill time");  // every element is written
    set_checksummed_chunks(io, dcpl, row_chunks(dims, H5Tget_size(type)), path);
  }
  return io.make(H5Dcreate2(file, path.c_str(), type, space, intermediate_groups(io), dcpl, H5P_DEFAULT), H5Dclose,
                 "cannot create dataset " + path);
}

// The object an attribute goes on, created as a group if missing.
Handle attribute_owner(const Io& io, hid_t file, const std::string& object, bool create) {
  if (!io.path_exists(file, object)) {
    io.fail_unless(create, "missing object " + object);
    return io.make(H5Gcreate2(file, object.c_str(), intermediate_groups(io), H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                   "cannot create group " + object);
  }
  return io.make(H5Oopen(file, object.c_str(), H5P_DEFAULT), H5Oclose, "cannot open " + object);
}

void replace_attribute(const Io& io, hid_t obj, const std::string& object, const std::string& name) {
  const htri_t has = H5Aexists(obj, name.c_str());
  io.check(has < 0 ? -1 : 0, "cannot look up attribute " + name + " of " + object);
  if (has > 0) io.check(H5Adelete(obj, name.c_str()), "cannot replace attribute " + name + " of " + object);
}

}  // namespace

template <class T>
void write_replicated(Hdf5File& file, const std::string& path, const std::vector<T>& data, const Shape& shape) {
  const ScopedLogEvent event(LogEvent::h5_write);
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  const Io io = writable(file, path);
  io.fail_unless(data.size() == product(dims),
                 path + ": " + std::to_string(data.size()) + " values for shape " + shape_string(dims));
  Handle d = create_at(io, file.id(), path, H5Of<T>::file(), dims);
  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  if (comm_rank(io.comm) != 0 && !dims.empty()) count[0] = 0;  // rank 0 writes (scalars: all, alike)
  transfer(io, d, path, H5Of<T>::mem(), const_cast<T*>(data.data()), start, count, collective_dxpl(io), true);
}

template <class T>
std::int64_t write_distributed(Hdf5File& file, const std::string& path, const std::vector<T>& local,
                               const Shape& row_shape_in) {
  const ScopedLogEvent event(LogEvent::h5_write);
  const std::vector<hsize_t> row_shape(row_shape_in.begin(), row_shape_in.end());
  const Io io = writable(file, path);
  const hsize_t row = product(row_shape);
  io.fail_unless(
      row > 0 && local.size() % row == 0,
      path + ": " + std::to_string(local.size()) + " values are not whole rows of shape " + shape_string(row_shape));
  std::int64_t n_rows = row > 0 ? local.size() / row : 0, first = 0, total = 0;
  MPI_Exscan(&n_rows, &first, 1, MPI_INT64_T, MPI_SUM, io.comm);
  if (comm_rank(io.comm) == 0) first = 0;  // MPI_Exscan leaves rank 0's result undefined
  MPI_Allreduce(&n_rows, &total, 1, MPI_INT64_T, MPI_SUM, io.comm);
  std::vector<hsize_t> dims{static_cast<hsize_t>(total)}, start{static_cast<hsize_t>(first)},
      count{static_cast<hsize_t>(n_rows)};
  for (hsize_t s : row_shape) dims.push_back(s), start.push_back(0), count.push_back(s);
  Handle d = create_at(io, file.id(), path, H5Of<T>::file(), dims);
  transfer(io, d, path, H5Of<T>::mem(), const_cast<T*>(local.data()), start, count, collective_dxpl(io), true);
  return first;
}

template <class T>
std::vector<T> read_dataset(Hdf5File& file, const std::string& path, Shape* dims_out) {
  const ScopedLogEvent event(LogEvent::h5_read);
  const Io io{file.comm(), file.path()};
  io.fail_unless(io.path_exists(file.id(), path), "missing dataset " + path);
  Handle d = io.make(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), H5Dclose, "cannot open dataset " + path);
  Handle type = io.make(H5Dget_type(d), H5Tclose, "cannot get the type of " + path);
  io.fail_unless(H5Tget_class(type) == H5Of<T>::cls, "dataset " + path + " has the wrong type (expected " +
                                                         (H5Of<T>::cls == H5T_FLOAT ? "floating point" : "integer") +
                                                         ")");
  Handle space = io.make(H5Dget_space(d), H5Sclose, "cannot get the dataspace of " + path);
  std::vector<hsize_t> dims(std::max(H5Sget_simple_extent_ndims(space), 0));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  std::vector<T> data(product(dims));
  transfer(io, d, path, H5Of<T>::mem(), data.data(), std::vector<hsize_t>(dims.size(), 0), dims, collective_dxpl(io),
           false);
  if (dims_out) dims_out->assign(dims.begin(), dims.end());
  return data;
}

#define TLSMAP_H5MD_INSTANTIATE(T)                                                                                \
  template void write_replicated<T>(Hdf5File&, const std::string&, const std::vector<T>&, const Shape&);          \
  template std::int64_t write_distributed<T>(Hdf5File&, const std::string&, const std::vector<T>&, const Shape&); \
  template std::vector<T> read_dataset<T>(Hdf5File&, const std::string&, Shape*);
TLSMAP_H5MD_INSTANTIATE(double)
TLSMAP_H5MD_INSTANTIATE(std::int64_t)
TLSMAP_H5MD_INSTANTIATE(int)
#undef TLSMAP_H5MD_INSTANTIATE

void write_replicated_strings(Hdf5File& file, const std::string& path, const std::vector<std::string>& data) {
  const ScopedLogEvent event(LogEvent::h5_write);
  const Io io = writable(file, path);
  std::size_t width = 1;
  for (const auto& s : data) width = std::max(width, s.size());
  std::vector<char> packed(data.size() * width, '\0');  // NUL-padded rows, as H5T_STR_NULLPAD reads them
  for (std::size_t k = 0; k < data.size(); ++k) std::copy(data[k].begin(), data[k].end(), packed.begin() + k * width);
  Handle type = io.make(H5Tcopy(H5T_C_S1), H5Tclose, "cannot create a string type");
  io.check(H5Tset_size(type, width), "cannot size a string type");
  io.check(H5Tset_strpad(type, H5T_STR_NULLPAD), "cannot set string padding");
  io.check(H5Tset_cset(type, H5T_CSET_UTF8), "cannot set a string type's character set");
  const std::vector<hsize_t> dims{data.size()};
  Handle d = create_at(io, file.id(), path, type, dims);
  std::vector<hsize_t> start{0}, count = dims;
  if (comm_rank(io.comm) != 0) count[0] = 0;
  transfer(io, d, path, type, packed.data(), start, count, collective_dxpl(io), true);
}

std::vector<std::string> read_strings(Hdf5File& file, const std::string& path) {
  const ScopedLogEvent event(LogEvent::h5_read);
  const Io io{file.comm(), file.path()};
  io.fail_unless(io.path_exists(file.id(), path), "missing dataset " + path);
  Handle d = io.make(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), H5Dclose, "cannot open dataset " + path);
  Handle ftype = io.make(H5Dget_type(d), H5Tclose, "cannot get the type of " + path);
  io.fail_unless(H5Tget_class(ftype) == H5T_STRING && H5Tis_variable_str(ftype) == 0,
                 "dataset " + path + " has the wrong type (expected fixed-length strings)");
  Handle space = io.make(H5Dget_space(d), H5Sclose, "cannot get the dataspace of " + path);
  io.fail_unless(H5Sget_simple_extent_ndims(space) == 1, "dataset " + path + " must be one-dimensional");
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  const std::size_t width = H5Tget_size(ftype);
  // Read as stored (any padding and character set): rows are `width` bytes, NUL-padded or terminated.
  std::vector<char> packed(std::max<std::size_t>(1, n * width), '\0');
  transfer(io, d, path, ftype, packed.data(), {0}, {n}, collective_dxpl(io), false);
  std::vector<std::string> out(n);
  for (hsize_t k = 0; k < n; ++k) {
    const char* row = packed.data() + k * width;
    out[k].assign(row, std::find(row, row + width, '\0'));
  }
  return out;
}

bool has_object(Hdf5File& file, const std::string& path) {
  const Io io{file.comm(), file.path()};
  return io.path_exists(file.id(), path);
}

void remove_object(Hdf5File& file, const std::string& path) {
  const Io io{file.comm(), file.path()};
  if (io.path_exists(file.id(), path))
    io.check(H5Ldelete(file.id(), path.c_str(), H5P_DEFAULT), "cannot delete " + path);
}

void write_attribute(Hdf5File& file, const std::string& object, const std::string& name, double value) {
  const ScopedLogEvent event(LogEvent::h5_write);
  const Io io = writable(file, object);
  Handle obj = attribute_owner(io, file.id(), object, true);
  replace_attribute(io, obj, object, name);
  write_double_attr(io, obj, name, value);
}

void write_attribute(Hdf5File& file, const std::string& object, const std::string& name, const std::string& value) {
  const ScopedLogEvent event(LogEvent::h5_write);
  const Io io = writable(file, object);
  Handle obj = attribute_owner(io, file.id(), object, true);
  replace_attribute(io, obj, object, name);
  write_string_attr(io, obj, name, value);
}

double read_attribute(Hdf5File& file, const std::string& object, const std::string& name) {
  const Io io{file.comm(), file.path()};
  Handle obj = attribute_owner(io, file.id(), object, false);
  const htri_t has = H5Aexists(obj, name.c_str());
  io.fail_unless(has > 0, "missing attribute " + name + " of " + object);
  Handle a = io.make(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "cannot open attribute " + name);
  Handle type = io.make(H5Aget_type(a), H5Tclose, "cannot get the type of attribute " + name);
  Handle space = io.make(H5Aget_space(a), H5Sclose, "cannot get the dataspace of attribute " + name);
  const H5T_class_t cls = H5Tget_class(type);
  io.fail_unless((cls == H5T_FLOAT || cls == H5T_INTEGER) && H5Sget_simple_extent_npoints(space) == 1,
                 "attribute " + name + " of " + object + " is not a number");
  double v = 0;
  io.check(H5Aread(a, H5T_NATIVE_DOUBLE, &v), "cannot read attribute " + name + " of " + object);
  return v;
}

std::string read_string_attribute(Hdf5File& file, const std::string& object, const std::string& name) {
  const Io io{file.comm(), file.path()};
  Handle obj = attribute_owner(io, file.id(), object, false);
  io.fail_unless(H5Aexists(obj, name.c_str()) > 0, "missing attribute " + name + " of " + object);
  return read_string_attr(io, obj, name);
}

}  // namespace tlsmap
