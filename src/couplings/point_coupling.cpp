// J_el of point transition charges by an Ewald sum (include/tlsmap/couplings/point_coupling.hpp).
#include "tlsmap/couplings/point_coupling.hpp"

#include "tlsmap/electrostatics/ewald_kspace.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <unordered_map>
#include <utility>

namespace tlsmap {

namespace {

using cplx = std::complex<double>;

// The transition charges of a TLS and how far they reach from the first one (minimum image).
struct Charges {
  std::vector<Vec3> x;  // wrapped into the box
  std::vector<double> q;
  std::vector<std::int64_t> id;
  double extent = 0.0;
};

Charges charges_of(const TlsSet& t, std::size_t k, std::span<const double> charge, const Box& box) {
  PointCharges pc = transition_charges(t, k, charge, box);
  Charges c{std::move(pc.pos), std::move(pc.q), std::move(pc.id)};
  for (const Vec3& x : c.x) c.extent = std::max(c.extent, box.minimum_image(x - c.x[0]).norm());
  return c;
}

struct KVector {
  int n[3];
  double w;  // 2 · 4π/(εV) · exp(−k²/4α²)/k²: the half space stands for ±k
};

// A same-bead pair (charge u of TLS i and v of TLS j on one bead): taken out of the k-space sum.
struct Same {
  std::size_t pair;
  double qq;
};

// The split for a real-space cut-off r_c: erfc(α r_c) = 6e-14 and exp(−k_c²/4α²) = 7e-14. J sums
// many terms of size q²/r that cancel to a far smaller J (1e-4 of them between TLS 5 σ apart): at
// 1e-10 per term J was off by 1e-7 relative.
double alpha_of(double rc) { return 5.3 / rc; }
double k_cut_of(double rc) { return 2.0 * alpha_of(rc) * 5.5; }

// Whether pair (a, b) needs the real-space loop: some of their charges may come within r_c.
bool within_reach(const Box& box, const Charges& a, const Charges& b, double rc) {
  return !a.x.empty() && !b.x.empty() && box.minimum_image(a.x[0] - b.x[0]).norm() <= a.extent + b.extent + rc;
}

// The r_c in [min(L/2, 4), L/2] (steps of 0.25 σ) with the least estimated work: k-space ∝ the
// half-space k-vectors (∝ V k_c³ ∝ V/r_c³) × (charges + pairs + same-bead pairs), real space ∝ the
// charge pairs of the pairs within reach. Measured on one core (bench/bench_point_coupling, 32,000
// beads, 44 TLS of 100 moving beads): 5 ns per k-vector and term, 25 ns per real-space charge pair.
double cheapest_real_cut(const Box& box, const std::unordered_map<std::int64_t, Charges>& c, const TlsPairs& pairs,
                         std::size_t n_same) {
  const double half = 0.5 * box.len.minCoeff();
  double terms = static_cast<double>(pairs.size() + n_same);
  for (const auto& [t, ch] : c) terms += static_cast<double>(ch.x.size());
  const double first = std::min(half, 4.0);
  double best = first, best_cost = HUGE_VAL;
  for (int step = 0; first + 0.25 * step <= half; ++step) {
    const double rc = first + 0.25 * step;
    const double kc = k_cut_of(rc);
    const double n_k =
        0.5 * (4.0 / 3.0) * std::numbers::pi * kc * kc * kc * box.volume() / std::pow(2.0 * std::numbers::pi, 3);
    double real = 0.0;
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      const Charges &a = c.at(pairs.i[p]), &b = c.at(pairs.j[p]);
      if (within_reach(box, a, b, rc)) real += static_cast<double>(a.x.size() * b.x.size());
    }
    const double cost = 5.0 * n_k * terms + 25.0 * real;
    if (cost < best_cost) best = rc, best_cost = cost;
  }
  return best;
}

}  // namespace

std::vector<double> point_charge_couplings(MPI_Comm comm, const Box& box, const TlsSet& tls,
                                           std::span<const double> charge, const TlsPairs& pairs, double eps,
                                           double real_cut, PointCouplingSplit* info) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  std::vector<double> j(pairs.size(), 0.0);
  if (info) *info = {};
  if (pairs.size() == 0) return j;

  std::unordered_map<std::int64_t, Charges> c;
  for (std::size_t p = 0; p < pairs.size(); ++p)
    for (std::int64_t t : {pairs.i[p], pairs.j[p]})
      if (!c.contains(t)) c.emplace(t, charges_of(tls, static_cast<std::size_t>(t), charge, box));

  std::vector<Same> same;
  std::vector<Vec3> same_d;  // their minimum-image x_u − x_v
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    const Charges &a = c.at(pairs.i[p]), &b = c.at(pairs.j[p]);
    for (std::size_t u = 0; u < a.x.size(); ++u)
      for (std::size_t v = 0; v < b.x.size(); ++v)
        if (a.id[u] == b.id[v]) {
          same.push_back({p, a.q[u] * b.q[v]});
          same_d.push_back(box.minimum_image(a.x[u] - b.x[v]));
        }
  }

  // The split (r_c ≤ L/2: the real-space sum takes the minimum image only).
  const double half = 0.5 * box.len.minCoeff();
  const double rc = real_cut > 0.0 ? std::min(real_cut, half) : cheapest_real_cut(box, c, pairs, same.size());
  const double alpha = alpha_of(rc), kmax = k_cut_of(rc), volume = box.volume();
  Int3 nmax;
  for (int d = 0; d < 3; ++d) nmax[d] = static_cast<int>(std::floor(kmax * box.len[d] / (2.0 * std::numbers::pi)));

  // This rank's k-vectors of the half space, every size-th one in a fixed order.
  std::vector<KVector> kv;
  long g = 0;
  for_half_k(box, nmax, kmax, [&](const Vec3& k, int nx, int ny, int nz) {
    if (g++ % size != rank) return;
    const double k2 = k.squaredNorm();
    kv.push_back(
        {{nx, ny, nz}, 2.0 * 4.0 * std::numbers::pi / (eps * volume) * std::exp(-k2 / (4.0 * alpha * alpha)) / k2});
  });
  if (info) *info = {rc, g};

  Box origin_box = box;
  origin_box.lo = Vec3::Zero();

  // k space, in chunks of k-vectors (memory: one chunk's structure factors per TLS).
  constexpr std::size_t kChunk = 2048;
  std::unordered_map<std::int64_t, std::vector<cplx>> s;
  for (std::size_t k0 = 0; k0 < kv.size(); k0 += kChunk) {
    const std::size_t k1 = std::min(kv.size(), k0 + kChunk);
    for (auto& [t, ch] : c) {
      const EwaldPhases phase(ch.x, box, nmax);
      std::vector<cplx>& st = s[t];
      st.assign(k1 - k0, cplx(0.0, 0.0));
      for (std::size_t p = 0; p < ch.x.size(); ++p)
        for (std::size_t k = k0; k < k1; ++k) st[k - k0] += ch.q[p] * phase(p, kv[k].n[0], kv[k].n[1], kv[k].n[2]);
    }
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      const std::vector<cplx>&si = s.at(pairs.i[p]), &sj = s.at(pairs.j[p]);
      double acc = 0.0;
      for (std::size_t k = k0; k < k1; ++k) acc += kv[k].w * (si[k - k0] * std::conj(sj[k - k0])).real();
      j[p] += acc;
    }
    if (!same.empty()) {  // cos(k·d) as the real part of d's phase (d from the origin: lo = 0)
      const EwaldPhases phase(same_d, origin_box, nmax);
      for (std::size_t e = 0; e < same.size(); ++e) {
        double acc = 0.0;
        for (std::size_t k = k0; k < k1; ++k) acc += kv[k].w * phase(e, kv[k].n[0], kv[k].n[1], kv[k].n[2]).real();
        j[same[e].pair] -= same[e].qq * acc;
      }
    }
  }

  // Real space, the pairs dealt out over the ranks; only pairs whose charges come within r_c.
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    if (static_cast<int>(p % static_cast<std::size_t>(size)) != rank) continue;
    const Charges &a = c.at(pairs.i[p]), &b = c.at(pairs.j[p]);
    if (!within_reach(box, a, b, rc)) continue;
    double acc = 0.0;
    for (std::size_t u = 0; u < a.x.size(); ++u)
      for (std::size_t v = 0; v < b.x.size(); ++v) {
        if (a.id[u] == b.id[v]) continue;
        const double r2 = box.minimum_image(a.x[u] - b.x[v]).squaredNorm();
        if (r2 >= rc * rc) continue;
        const double r = std::sqrt(r2);
        acc += a.q[u] * b.q[v] * std::erfc(alpha * r) / r;
      }
    j[p] += acc / eps;
  }
  MPI_Allreduce(MPI_IN_PLACE, j.data(), static_cast<int>(j.size()), MPI_DOUBLE, MPI_SUM, comm);
  return j;
}

}  // namespace tlsmap
