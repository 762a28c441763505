#include "tlsmap/parallel/halo.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/petsc_util.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace tlsmap {
namespace {

constexpr int kTagCount = 101, kTagData = 102;

// Exchange variable-length double buffers with two partners (send to `to`, receive from `from`).
std::vector<double> sendrecv(MPI_Comm comm, const std::vector<double>& out, int to, int from) {
  int n_out = static_cast<int>(out.size()), n_in = 0;
  MPI_Sendrecv(&n_out, 1, MPI_INT, to, kTagCount, &n_in, 1, MPI_INT, from, kTagCount, comm, MPI_STATUS_IGNORE);
  std::vector<double> in(n_in);
  MPI_Sendrecv(out.data(), n_out, MPI_DOUBLE, to, kTagData, in.data(), n_in, MPI_DOUBLE, from, kTagData, comm,
               MPI_STATUS_IGNORE);
  return in;
}

// Migration record: pos(3) vel(3) image(3) species charge id [diameter] [partner] extra(n_extra);
// the diameter and the bond partner only when the beads have them (Beads::has_diameter,
// has_partner, the same on every rank).
constexpr int kMigrateFixed = 12;
int migrate_optional(const Beads& b) { return (b.has_diameter ? 1 : 0) + (b.has_partner ? 1 : 0); }
int migrate_stride(const Beads& b) { return kMigrateFixed + migrate_optional(b) + b.n_extra; }
// Ghost record: pos(3) species charge id [diameter].
constexpr int kGhostFixed = 6;

void pack_owned(const Beads& b, int i, std::vector<double>& buf) {
  buf.insert(buf.end(), b.pos[i].data(), b.pos[i].data() + 3);
  buf.insert(buf.end(), b.vel[i].data(), b.vel[i].data() + 3);
  for (int d = 0; d < 3; ++d) buf.push_back(b.image[i][d]);
  buf.push_back(b.species[i]);
  buf.push_back(b.charge[i]);
  buf.push_back(static_cast<double>(b.id[i]));  // ids < 2^53 are exact in a double
  if (b.has_diameter) buf.push_back(b.diameter[i]);
  if (b.has_partner) buf.push_back(static_cast<double>(b.partner[i]));
  const double* e = b.extra.data() + static_cast<std::size_t>(i) * b.n_extra;
  buf.insert(buf.end(), e, e + b.n_extra);
}

void unpack_owned(Beads& b, const double* r) {
  Vec3 x(r[0], r[1], r[2]), v(r[3], r[4], r[5]);
  Int3 img{static_cast<int>(r[6]), static_cast<int>(r[7]), static_cast<int>(r[8])};
  const int fixed = kMigrateFixed + migrate_optional(b);
  b.push_owned(x, static_cast<int>(r[9]), r[10], static_cast<std::int64_t>(r[11]), v, img,
               b.has_diameter ? r[kMigrateFixed] : 0.0);
  if (b.has_partner) b.partner.back() = static_cast<std::int64_t>(r[kMigrateFixed + (b.has_diameter ? 1 : 0)]);
  std::copy(r + fixed, r + fixed + b.n_extra, b.extra.end() - b.n_extra);
}

// Move owned bead `from` into slot `to` (compaction).
void move_owned(Beads& b, int from, int to) {
  b.pos[to] = b.pos[from];
  b.vel[to] = b.vel[from];
  b.force[to] = b.force[from];
  b.image[to] = b.image[from];
  b.species[to] = b.species[from];
  b.charge[to] = b.charge[from];
  b.id[to] = b.id[from];
  if (b.has_diameter) b.diameter[to] = b.diameter[from];
  if (b.has_partner) b.partner[to] = b.partner[from];
  std::copy_n(b.extra.begin() + static_cast<std::size_t>(from) * b.n_extra, b.n_extra,
              b.extra.begin() + static_cast<std::size_t>(to) * b.n_extra);
}

}  // namespace

Halo::Halo(const Decomposition& decomp, double cutoff) : decomp_(decomp), cutoff_(cutoff) {
  const Box& box = decomp.box();
  for (int d = 0; d < 3; ++d) {
    if (box.len[d] < 2.0 * cutoff) {
      std::ostringstream msg;
      msg << "box edge " << d << " (" << box.len[d]
          << ") is shorter than twice the interaction range r_c + skin = " << cutoff
          << "; use more beads or a smaller skin";
      throw Error(msg.str());
    }
    // The hop count must be the same on every rank (each hop is a message exchange), so it comes
    // from the narrowest slab, not from this rank's width, which differs in the last bits.
    double width = box.len[d];
    for (int k = 0; k < decomp.dims()[d]; ++k)
      width = std::min(width, decomp.boundary(d, k + 1) - decomp.boundary(d, k));
    hops_[d] = decomp.dims()[d] == 1 ? 1 : static_cast<int>(std::ceil(cutoff / width));
  }
}

void Halo::migrate(Beads& b) const {
  const ScopedLogEvent event(LogEvent::halo_migrate);
  b.clear_ghosts();
  const Box& box = decomp_.box();
  for (int i = 0; i < b.n_owned; ++i) {
    Int3 n = box.wrap(b.pos[i]);
    for (int d = 0; d < 3; ++d) b.image[i][d] += n[d];
  }
  MPI_Comm comm = decomp_.comm();
  for (int d = 0; d < 3; ++d) {
    const int p = decomp_.dims()[d], mine = decomp_.coords()[d];
    if (p == 1) continue;
    // Forward hop by hop along the shorter periodic way until every bead has arrived.
    for (;;) {
      std::vector<double> to_lower, to_upper;
      int keep = 0;
      for (int i = 0; i < b.n_owned; ++i) {
        int delta = decomp_.owner_coord(d, b.pos[i][d]) - mine;
        if (2 * delta > p) delta -= p;  // shortest periodic way, delta in (-p/2, p/2]
        if (2 * delta <= -p) delta += p;
        if (delta == 0) {
          if (keep != i) move_owned(b, i, keep);
          ++keep;
        } else {
          pack_owned(b, i, delta < 0 ? to_lower : to_upper);
        }
      }
      int sent = (to_lower.size() + to_upper.size()) > 0, any = 0;
      MPI_Allreduce(&sent, &any, 1, MPI_INT, MPI_MAX, comm);
      b.truncate_owned(keep);
      if (!any) break;
      const std::size_t stride = migrate_stride(b);
      for (int dir : {-1, +1}) {
        auto in = sendrecv(comm, dir < 0 ? to_lower : to_upper, decomp_.neighbor(d, dir), decomp_.neighbor(d, -dir));
        for (std::size_t k = 0; k < in.size(); k += stride) unpack_owned(b, in.data() + k);
      }
    }
  }
}

void Halo::build_ghosts(Beads& b) {
  const ScopedLogEvent event(LogEvent::halo_ghosts);
  b.clear_ghosts();
  swaps_.clear();
  MPI_Comm comm = decomp_.comm();
  const Box& box = decomp_.box();
  for (int d = 0; d < 3; ++d) {
    const int p = decomp_.dims()[d], mine = decomp_.coords()[d];
    const double lo = decomp_.sub_lo()[d], hi = decomp_.sub_hi()[d];
    // Candidates for the first hop: everything present before this dimension's exchange.
    int first_lower = 0, n_lower = b.n_local();
    int first_upper = 0, n_upper = b.n_local();
    for (int hop = 0; hop < hops_[d]; ++hop) {
      for (int dir : {-1, +1}) {
        Swap s;
        s.dim = d;
        s.dir = dir;
        // Crossing the global boundary: a copy sent down from slab 0 appears above the top, and
        // vice versa.
        s.shift = (dir < 0 && mine == 0) ? box.len[d] : (dir > 0 && mine == p - 1) ? -box.len[d] : 0.0;
        int first = dir < 0 ? first_lower : first_upper, n = dir < 0 ? n_lower : n_upper;
        for (int i = first; i < first + n; ++i) {
          double x = b.pos[i][d];
          if (dir < 0 ? x < lo + cutoff_ : x >= hi - cutoff_) s.send_index.push_back(i);
        }
        const std::size_t stride = kGhostFixed + (b.has_diameter ? 1 : 0);
        std::vector<double> out;
        out.reserve(stride * s.send_index.size());
        for (int i : s.send_index) {
          Vec3 x = b.pos[i];
          x[d] += s.shift;
          out.insert(out.end(),
                     {x[0], x[1], x[2], static_cast<double>(b.species[i]), b.charge[i], static_cast<double>(b.id[i])});
          if (b.has_diameter) out.push_back(b.diameter[i]);
        }
        auto in = sendrecv(comm, out, decomp_.neighbor(d, dir), decomp_.neighbor(d, -dir));
        s.recv_first = b.n_local();
        s.n_recv = static_cast<int>(in.size() / stride);
        for (std::size_t k = 0; k < in.size(); k += stride) {
          b.pos.emplace_back(in[k], in[k + 1], in[k + 2]);
          b.species.push_back(static_cast<int>(in[k + 3]));
          b.charge.push_back(in[k + 4]);
          b.id.push_back(static_cast<std::int64_t>(in[k + 5]));
          if (b.has_diameter) b.diameter.push_back(in[k + kGhostFixed]);
        }
        b.n_ghost += s.n_recv;
        // The next hop in this direction forwards what this one received.
        if (dir < 0) {
          first_lower = s.recv_first;
          n_lower = s.n_recv;
        } else {
          first_upper = s.recv_first;
          n_upper = s.n_recv;
        }
        swaps_.push_back(std::move(s));
      }
    }
  }
}

void Halo::update_ghosts(Beads& b) const {
  const ScopedLogEvent event(LogEvent::halo_update);
  replay(b.pos, true);
}

void Halo::forward(std::vector<Vec3>& values) const {
  const ScopedLogEvent event(LogEvent::halo_update);
  replay(values, false);
}

void Halo::replay(std::vector<Vec3>& values, bool shift) const {
  MPI_Comm comm = decomp_.comm();
  std::vector<double> out, in;
  for (const Swap& s : swaps_) {
    out.clear();
    for (int i : s.send_index) {
      Vec3 x = values[i];
      if (shift) x[s.dim] += s.shift;
      out.insert(out.end(), {x[0], x[1], x[2]});
    }
    in.resize(3 * static_cast<std::size_t>(s.n_recv));
    MPI_Sendrecv(out.data(), static_cast<int>(out.size()), MPI_DOUBLE, decomp_.neighbor(s.dim, s.dir), kTagData,
                 in.data(), static_cast<int>(in.size()), MPI_DOUBLE, decomp_.neighbor(s.dim, -s.dir), kTagData, comm,
                 MPI_STATUS_IGNORE);
    for (int k = 0; k < s.n_recv; ++k) values[s.recv_first + k] = Vec3(in[3 * k], in[3 * k + 1], in[3 * k + 2]);
  }
}

}  // namespace tlsmap
