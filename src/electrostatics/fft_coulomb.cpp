#include "tlsmap/electrostatics/fft_coulomb.hpp"

#include "tlsmap/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <sstream>

namespace tlsmap {

namespace {

constexpr double pi = std::numbers::pi;
constexpr int kAliases = 2;  // |m_d| ≤ 2 in the alias sums (LAMMPS uses the same)
constexpr int kM = 2 * kAliases + 1;

// Per dimension and mesh index: the aliased wave numbers k + 2π m/h, Û_d² = sinc^{2p}(k_m h/2)
// and the Gaussian factor e^{−k_m²/4α²}, for m = −2..2.
struct Alias1D {
  double k = 0.0;  // the zone's wave number (sign as the FFT index gives it)
  double km[kM], u2[kM], e[kM];
  double u2_sum = 0.0;
};

Alias1D alias_1d(double k, double h, int order, double alpha) {
  Alias1D a;
  a.k = k;
  for (int m = -kAliases; m <= kAliases; ++m) {
    const double km = k + 2.0 * pi * m / h, x = 0.5 * km * h;
    const double sinc = x == 0.0 ? 1.0 : std::sin(x) / x;
    const int j = m + kAliases;
    a.km[j] = km;
    a.u2[j] = std::pow(sinc, 2 * order);
    a.e[j] = std::exp(-km * km / (4.0 * alpha * alpha));
    a.u2_sum += a.u2[j];
  }
  return a;
}

// At one k: num = Σ_m Û²(k_m)(k·k_m) 4π e^{−k_m²/4α²}/k_m², den = Σ_m Û²(k_m) (separable),
// s1 = Σ_{m: k_m≠0} (4π)² e^{−k_m²/2α²}/k_m², exact = Σ_{m: k_m≠0} 4π e^{−k_m²/4α²}/k_m².
struct KTerms {
  double num = 0.0, den = 0.0, s1 = 0.0, exact = 0.0, k2 = 0.0;
};

KTerms k_terms(const Alias1D& ax, const Alias1D& ay, const Alias1D& az) {
  KTerms t;
  t.k2 = ax.k * ax.k + ay.k * ay.k + az.k * az.k;
  t.den = ax.u2_sum * ay.u2_sum * az.u2_sum;
  for (int i = 0; i < kM; ++i)
    for (int j = 0; j < kM; ++j) {
      const double uxy = ax.u2[i] * ay.u2[j], exy = ax.e[i] * ay.e[j];
      const double kxy2 = ax.km[i] * ax.km[i] + ay.km[j] * ay.km[j];
      const double dot_xy = ax.k * ax.km[i] + ay.k * ay.km[j];
      for (int l = 0; l < kM; ++l) {
        const double km2 = kxy2 + az.km[l] * az.km[l];
        if (km2 == 0.0) continue;
        const double e = exy * az.e[l];
        const double w = 4.0 * pi * e / km2;
        t.num += uxy * az.u2[l] * (dot_xy + az.k * az.km[l]) * w;
        t.s1 += 4.0 * pi * e * w;
        t.exact += w;
      }
    }
  return t;
}

// The FFT index i of a dimension with n points: signed mode number.
int mode(int i, int n) { return 2 * i <= n ? i : i - n; }

bool smooth235(int n) {
  for (int f : {2, 3, 5})
    while (n % f == 0) n /= f;
  return n == 1;
}
int next_smooth(int n) {
  while (!smooth235(n)) ++n;
  return n;
}

}  // namespace

int fft_order_for(double accuracy) { return accuracy >= 1e-6 ? 5 : 7; }

FftErrorSums fft_error_sums(const Box& box, const Int3& n, int order, double alpha) {
  // G and the sums are even in every component of k: the non-negative octant with multiplicities.
  std::vector<Alias1D> a[3];
  std::vector<double> mult[3];
  for (int d = 0; d < 3; ++d) {
    const double h = box.len[d] / n[d];
    for (int i = 0; 2 * i <= n[d]; ++i) {
      a[d].push_back(alias_1d(2.0 * pi * i / box.len[d], h, order, alpha));
      mult[d].push_back((i == 0 || 2 * i == n[d]) ? 1.0 : 2.0);
    }
  }
  FftErrorSums s;
  for (std::size_t x = 0; x < a[0].size(); ++x)
    for (std::size_t y = 0; y < a[1].size(); ++y)
      for (std::size_t z = 0; z < a[2].size(); ++z) {
        const KTerms t = k_terms(a[0][x], a[1][y], a[2][z]);
        const double w = mult[0][x] * mult[1][y] * mult[2][z];
        const double caught = t.k2 > 0.0 ? t.num * t.num / (t.k2 * t.den * t.den) : 0.0;
        s.err += w * std::max(0.0, t.s1 - caught);
        s.ref += w * t.s1;
      }
  return s;
}

Int3 fft_mesh_for(const Box& box, int order, double alpha, double ratio) {
  const double l_max = box.len.maxCoeff();
  auto mesh = [&](int n_long) {
    const double h = l_max / n_long;
    Int3 n;
    for (int d = 0; d < 3; ++d) n[d] = next_smooth(std::max(order, static_cast<int>(std::ceil(box.len[d] / h - 1e-9))));
    return n;
  };
  auto good = [&](int n_long) {
    const FftErrorSums s = fft_error_sums(box, mesh(n_long), order, alpha);
    return s.ref <= 0.0 || std::sqrt(s.err / s.ref) <= ratio;
  };
  // The error falls monotonically with the mesh: grow by 1.25× until good, then bisect.
  int lo = std::max(order, 4) - 1, hi = lo + 1;
  while (!good(hi)) {
    lo = hi;
    hi = std::max(hi + 1, static_cast<int>(std::ceil(1.25 * hi)));
    if (hi > 2048) throw Error("FFT Coulomb: no mesh up to 2048 nodes per dimension reaches the accuracy");
  }
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    (good(mid) ? hi : lo) = mid;
  }
  return mesh(hi);
}

namespace {
int fft_coulombs_alive = 0;  // FftCoulomb objects of this process (at most one: the header's FFTW note)
}  // namespace

FftCoulomb::FftCoulomb(const Decomposition& decomp, const Int3& mesh, int order, double alpha, double epsilon,
                       double drift)
    : decomp_(decomp), n_(mesh), order_(order), alpha_(alpha), epsilon_(epsilon), drift_(drift) {
  // The same on every rank (each constructs its own), so the Error is collective.
  if (fft_coulombs_alive > 0)
    throw Error("FFT Coulomb: one solver at a time (destroying a PETSc FFTW matrix ends FFTW-MPI for all)");
  if (order < 1 || order > 7) throw Error("FFT Coulomb: charge assignment order must be 1..7");
  if (!(drift >= 0.0)) throw Error("FFT Coulomb: the drift allowance must be ≥ 0");
  for (int d = 0; d < 3; ++d)
    if (n_[d] < order) throw Error("FFT Coulomb: the mesh needs at least `order` nodes per dimension");
  const Box& box = decomp.box();
  for (int d = 0; d < 3; ++d) h_[d] = box.len[d] / n_[d];
  padded_ = decomp.size() > 1;
  set_up_brick(set_up_transform());
  set_up_influence();
  ++fft_coulombs_alive;  // counted once constructed: a throwing constructor runs no destructor
}

FftCoulomb::SlabLayout FftCoulomb::set_up_transform() {
  MPI_Comm comm = decomp_.comm();
  const int size = decomp_.size();
  const int nzc = n_[2] / 2 + 1;
  SlabLayout s;
  s.stride = padded_ ? 2 * nzc : n_[2];

  // The transform and its vectors (FFTW's layout; the forward input and backward output agree).
  PetscInt dim[3] = {n_[0], n_[1], n_[2]};
  petsc_check(MatCreateFFT(comm, 3, dim, MATFFTW, fft_.out()), "MatCreateFFT");
  petsc_check(MatCreateVecsFFTW(fft_, fin_.out(), fout_.out(), bout_.out()), "MatCreateVecsFFTW");
  petsc_check(MatCreateVecsFFTW(fft_, nullptr, work_.out(), nullptr), "MatCreateVecsFFTW");

  // FFTW-MPI's x slabs: default block ⌈n_x/P⌉ (serial: everything on rank 0).
  s.block = padded_ ? (n_[0] + size - 1) / size : n_[0];
  local_0_start_ = std::min(n_[0], decomp_.rank() * s.block);
  local_n0_ = std::min(n_[0], local_0_start_ + s.block) - local_0_start_;
  PetscInt lo = 0, hi = 0;
  petsc_check(VecGetOwnershipRange(fin_, &lo, &hi), "VecGetOwnershipRange");
  PetscInt out_lo = 0, out_hi = 0;
  petsc_check(VecGetOwnershipRange(fout_, &out_lo, &out_hi), "VecGetOwnershipRange");
  int ok = (hi - lo) >= static_cast<PetscInt>(local_n0_) * n_[1] * s.stride &&
           (out_hi - out_lo) >= 2 * static_cast<PetscInt>(local_n0_) * n_[1] * nzc;
  MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_LAND, comm);
  if (!ok) throw Error("FFT Coulomb: PETSc's FFTW vectors do not have the expected slab layout");
  s.starts.resize(size);
  MPI_Allgather(&lo, 1, MPIU_INT, s.starts.data(), 1, MPIU_INT, comm);
  return s;
}

void FftCoulomb::set_up_brick(const SlabLayout& s) {
  // The local brick: every node a bead in the subdomain (widened by the drift) can reach, plus one
  // node of margin.
  const Box& box = decomp_.box();
  const Vec3 sub_lo = decomp_.sub_lo() - Vec3::Constant(drift_), sub_hi = decomp_.sub_hi() + Vec3::Constant(drift_);
  for (int d = 0; d < 3; ++d) {
    const double ulo = (sub_lo[d] - box.lo[d]) / h_[d] + 0.5 * order_,
                 uhi = (sub_hi[d] - box.lo[d]) / h_[d] + 0.5 * order_;
    brick_lo_[d] = static_cast<int>(std::floor(ulo)) - order_ + 1 - 1;
    brick_n_[d] = static_cast<int>(std::floor(uhi)) + 1 - brick_lo_[d] + 1;
  }
  const std::size_t nb = static_cast<std::size_t>(brick_n_[0]) * brick_n_[1] * brick_n_[2];
  std::vector<PetscInt> idx(nb);
  std::size_t c = 0;
  for (int bx = 0; bx < brick_n_[0]; ++bx) {
    const int ix = ((brick_lo_[0] + bx) % n_[0] + n_[0]) % n_[0];
    const int owner = ix / s.block;
    const PetscInt base = s.starts[owner] + static_cast<PetscInt>(ix - owner * s.block) * n_[1] * s.stride;
    for (int by = 0; by < brick_n_[1]; ++by) {
      const int iy = ((brick_lo_[1] + by) % n_[1] + n_[1]) % n_[1];
      for (int bz = 0; bz < brick_n_[2]; ++bz) {
        const int iz = ((brick_lo_[2] + bz) % n_[2] + n_[2]) % n_[2];
        idx[c++] = base + static_cast<PetscInt>(iy) * s.stride + iz;
      }
    }
  }
  brick_.assign(nb, 0.0);
  for (auto& f : field_brick_) f.assign(nb, 0.0);
  petsc_check(VecCreateSeq(PETSC_COMM_SELF, static_cast<PetscInt>(nb), brick_vec_.out()), "VecCreateSeq");
  PetscHandle<IS, ISDestroy> is;
  petsc_check(ISCreateGeneral(PETSC_COMM_SELF, static_cast<PetscInt>(nb), idx.data(), PETSC_COPY_VALUES, is.out()),
              "ISCreateGeneral");
  petsc_check(VecScatterCreate(fin_, is, brick_vec_, nullptr, scatter_.out()), "VecScatterCreate");
}

void FftCoulomb::set_up_influence() {
  // Influence function on this rank's slab of the half spectrum, and the self-energy correction.
  const Box& box = decomp_.box();
  const int nzc = n_[2] / 2 + 1;
  std::vector<Alias1D> a[3];
  for (int d = 0; d < 3; ++d) {
    const int count = d == 2 ? nzc : n_[d];
    for (int i = 0; i < count; ++i)
      a[d].push_back(alias_1d(2.0 * pi * mode(i, n_[d]) / box.len[d], h_[d], order_, alpha_));
    kvec_[d].resize(count);
    kmode_[d].resize(count);
    for (int i = 0; i < count; ++i) {
      kmode_[d][i] = 2.0 * pi * mode(i, n_[d]) / box.len[d];
      kvec_[d][i] = (2 * i == n_[d]) ? 0.0 : kmode_[d][i];  // Nyquist: 0 in the derivative
    }
  }
  const double v = box.volume();
  g_.assign(static_cast<std::size_t>(local_n0_) * n_[1] * nzc, 0.0);
  double self_sum = 0.0;
  std::size_t q = 0;
  for (int l = 0; l < local_n0_; ++l)
    for (int y = 0; y < n_[1]; ++y)
      for (int z = 0; z < nzc; ++z, ++q) {
        const KTerms t = k_terms(a[0][local_0_start_ + l], a[1][y], a[2][z]);
        const double mult = (z == 0 || 2 * z == n_[2]) ? 1.0 : 2.0;
        double g = 0.0;
        if (t.k2 > 0.0) g = t.num / (t.k2 * t.den * t.den);
        g_[q] = g / (v * epsilon_);
        self_sum += mult * (g * t.den - t.exact);
      }
  MPI_Allreduce(MPI_IN_PLACE, &self_sum, 1, MPI_DOUBLE, MPI_SUM, decomp_.comm());
  self_correction_ = self_sum / (2.0 * v * epsilon_);
}

FftCoulomb::~FftCoulomb() { --fft_coulombs_alive; }

void FftCoulomb::stencil(const Vec3& x, Stencil& s) const {
  const Box& box = decomp_.box();
  for (int d = 0; d < 3; ++d) {
    const double u = (x[d] - box.lo[d]) / h_[d] + 0.5 * order_;
    const double fl = std::floor(u), w = u - fl;
    // a[j] = M_p(w + j), the cardinal B-spline of order p (support [0, p)), by its recursion.
    double a[8] = {1.0, 0, 0, 0, 0, 0, 0, 0};
    for (int n = 2; n <= order_; ++n)
      for (int j = n - 1; j >= 0; --j) a[j] = ((w + j) * a[j] + (n - w - j) * (j > 0 ? a[j - 1] : 0.0)) / (n - 1);
    s.first[d] = static_cast<int>(fl) - order_ + 1;
    for (int j = 0; j < order_; ++j) s.w[d][order_ - 1 - j] = a[j];  // node fl − j gets M_p(w + j)
  }
}

std::vector<FftCoulomb::Stencil> FftCoulomb::spread(std::span<const Vec3> pos, std::span<const double> q) {
  const int p = order_;
  const int bny = brick_n_[1], bnz = brick_n_[2];
  std::fill(brick_.begin(), brick_.end(), 0.0);
  std::vector<Stencil> st(pos.size());
  int inside = 1;
  for (std::size_t i = 0; i < pos.size(); ++i) {
    Stencil& s = st[i];
    stencil(pos[i], s);
    for (int d = 0; d < 3; ++d) inside &= s.first[d] >= brick_lo_[d] && s.first[d] + p <= brick_lo_[d] + brick_n_[d];
    if (!inside) break;
    const int ox = s.first[0] - brick_lo_[0], oy = s.first[1] - brick_lo_[1], oz = s.first[2] - brick_lo_[2];
    for (int a = 0; a < p; ++a)
      for (int b = 0; b < p; ++b) {
        const double wab = q[i] * s.w[0][a] * s.w[1][b];
        double* row = brick_.data() + (static_cast<std::size_t>(ox + a) * bny + (oy + b)) * bnz + oz;
        for (int c = 0; c < p; ++c) row[c] += wab * s.w[2][c];
      }
  }
  MPI_Allreduce(MPI_IN_PLACE, &inside, 1, MPI_INT, MPI_LAND, decomp_.comm());
  if (!inside)
    throw Error("FFT Coulomb: a bead lies outside its rank's subdomain and drift allowance (rebuild before compute)");

  // Brick → FFTW layout (adding the parts of other ranks and periodic images), forward transform.
  PetscScalar* bv = nullptr;
  petsc_check(VecGetArray(brick_vec_, &bv), "VecGetArray");
  std::copy(brick_.begin(), brick_.end(), bv);
  petsc_check(VecRestoreArray(brick_vec_, &bv), "VecRestoreArray");
  petsc_check(VecSet(fin_, 0.0), "VecSet");
  petsc_check(VecScatterBegin(scatter_, brick_vec_, fin_, ADD_VALUES, SCATTER_REVERSE), "VecScatterBegin");
  petsc_check(VecScatterEnd(scatter_, brick_vec_, fin_, ADD_VALUES, SCATTER_REVERSE), "VecScatterEnd");
  petsc_check(MatMult(fft_, fin_, fout_), "MatMult (FFT)");
  return st;
}

double FftCoulomb::mesh_energy(const PetscScalar* rho, bool virial) {
  const int nzc = n_[2] / 2 + 1;
  const double b = 0.25 / (alpha_ * alpha_);
  // energy, then the virial's xx, yy, zz, xy, xz, yz
  double sums[7] = {0, 0, 0, 0, 0, 0, 0};
  std::size_t k = 0;
  for (int l = 0; l < local_n0_; ++l)
    for (int y = 0; y < n_[1]; ++y)
      for (int z = 0; z < nzc; ++z, ++k) {
        const double mult = (z == 0 || 2 * z == n_[2]) ? 1.0 : 2.0;
        const double e2 = mult * g_[k] * (rho[2 * k] * rho[2 * k] + rho[2 * k + 1] * rho[2 * k + 1]);  // 2 E_k
        sums[0] += e2;
        if (!virial || e2 == 0.0) continue;  // e2 = 0 at k = 0 (G = 0)
        const double e = 0.5 * e2;
        const double kx = kmode_[0][local_0_start_ + l], ky = kmode_[1][y], kz = kmode_[2][z];
        const double v = -2.0 * (1.0 / (kx * kx + ky * ky + kz * kz) + b) * e;
        sums[1] += e + v * kx * kx, sums[2] += e + v * ky * ky, sums[3] += e + v * kz * kz;
        sums[4] += v * kx * ky, sums[5] += v * kx * kz, sums[6] += v * ky * kz;
      }
  MPI_Allreduce(MPI_IN_PLACE, sums, virial ? 7 : 1, MPI_DOUBLE, MPI_SUM, decomp_.comm());
  if (virial) virial_ << sums[1], sums[4], sums[5], sums[4], sums[2], sums[6], sums[5], sums[6], sums[3];
  else virial_.setConstant(std::numeric_limits<double>::quiet_NaN());
  return 0.5 * sums[0];
}

void FftCoulomb::mesh_field(const PetscScalar* rho, const double* factor) {
  // Field components: E_d(k) = −i k_d G Q̂/(Vε), one backward transform each (c2r destroys its
  // input, so each starts from a fresh copy), then FFTW layout → brick.
  const int nzc = n_[2] / 2 + 1;
  for (int d = 0; d < 3; ++d) {
    PetscScalar* w = nullptr;
    petsc_check(VecGetArray(work_, &w), "VecGetArray");
    std::size_t k = 0;
    for (int l = 0; l < local_n0_; ++l)
      for (int y = 0; y < n_[1]; ++y)
        for (int z = 0; z < nzc; ++z, ++k) {
          const double kd = d == 0 ? kvec_[0][local_0_start_ + l] : d == 1 ? kvec_[1][y] : kvec_[2][z];
          const double f = kd * g_[k] * (factor ? factor[k] : 1.0);
          w[2 * k] = f * rho[2 * k + 1];
          w[2 * k + 1] = -f * rho[2 * k];
        }
    petsc_check(VecRestoreArray(work_, &w), "VecRestoreArray");
    petsc_check(MatMultTranspose(fft_, work_, bout_), "MatMultTranspose (FFT)");
    petsc_check(VecScatterBegin(scatter_, bout_, brick_vec_, INSERT_VALUES, SCATTER_FORWARD), "VecScatterBegin");
    petsc_check(VecScatterEnd(scatter_, bout_, brick_vec_, INSERT_VALUES, SCATTER_FORWARD), "VecScatterEnd");
    const PetscScalar* e = nullptr;
    petsc_check(VecGetArrayRead(brick_vec_, &e), "VecGetArrayRead");
    std::copy(e, e + field_brick_[d].size(), field_brick_[d].begin());
    petsc_check(VecRestoreArrayRead(brick_vec_, &e), "VecRestoreArrayRead");
  }
}

std::vector<Vec3> FftCoulomb::interpolate(const std::vector<Stencil>& st) const {
  const int p = order_;
  const int bny = brick_n_[1], bnz = brick_n_[2];
  std::vector<Vec3> field(st.size(), Vec3::Zero());
  for (std::size_t i = 0; i < st.size(); ++i) {
    const Stencil& s = st[i];
    const int ox = s.first[0] - brick_lo_[0], oy = s.first[1] - brick_lo_[1], oz = s.first[2] - brick_lo_[2];
    double e[3] = {0.0, 0.0, 0.0};
    for (int a = 0; a < p; ++a)
      for (int b = 0; b < p; ++b) {
        const double wab = s.w[0][a] * s.w[1][b];
        const std::size_t row = (static_cast<std::size_t>(ox + a) * bny + (oy + b)) * bnz + oz;
        for (int c = 0; c < p; ++c) {
          const double w = wab * s.w[2][c];
          e[0] += w * field_brick_[0][row + c];
          e[1] += w * field_brick_[1][row + c];
          e[2] += w * field_brick_[2][row + c];
        }
      }
    field[i] = Vec3(e[0], e[1], e[2]);
  }
  return field;
}

double FftCoulomb::compute(std::span<const Vec3> pos, std::span<const double> q, std::vector<Vec3>& field,
                           bool virial) {
  const std::vector<Stencil> st = spread(pos, q);
  const PetscScalar* rho = nullptr;
  petsc_check(VecGetArrayRead(fout_, &rho), "VecGetArrayRead");
  const double energy = mesh_energy(rho, virial);
  mesh_field(rho);
  petsc_check(VecRestoreArrayRead(fout_, &rho), "VecRestoreArrayRead");
  field = interpolate(st);
  return energy;
}

MeshStrainDerivatives FftCoulomb::strain_derivatives(std::span<const Vec3> pos, std::span<const double> q) {
  const std::vector<Stencil> st = spread(pos, q);
  const PetscScalar* rho = nullptr;
  petsc_check(VecGetArrayRead(fout_, &rho), "VecGetArrayRead");
  Mat3 eps[6];
  double tr[6], tr2[6][6];
  for (int i = 0; i < 6; ++i) eps[i] = voigt_unit_strain(i), tr[i] = eps[i].trace();
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j) tr2[i][j] = (eps[i] * eps[j]).trace();
  const int nzc = n_[2] / 2 + 1;
  const double b = 0.25 / (alpha_ * alpha_);
  std::vector<double> d[6];
  for (auto& v : d) v.assign(g_.size(), 0.0);
  double sums[6 + 36] = {};  // ∂E/∂η_I, then ∂²E/∂η_I∂η_J
  std::size_t k = 0;
  for (int l = 0; l < local_n0_; ++l)
    for (int y = 0; y < n_[1]; ++y)
      for (int z = 0; z < nzc; ++z, ++k) {
        if (g_[k] == 0.0) continue;  // k = 0
        const double mult = (z == 0 || 2 * z == n_[2]) ? 1.0 : 2.0;
        const double e = 0.5 * mult * g_[k] * (rho[2 * k] * rho[2 * k] + rho[2 * k + 1] * rho[2 * k + 1]);
        const Vec3 kv(kmode_[0][local_0_start_ + l], kmode_[1][y], kmode_[2][z]);
        const double k2 = kv.squaredNorm(), c = 1.0 / k2 + b;
        Vec3 ek[6];
        double kek[6];
        for (int i = 0; i < 6; ++i) {
          ek[i] = eps[i] * kv, kek[i] = kv.dot(ek[i]);
          d[i][k] = -tr[i] + 2.0 * c * kek[i];
          sums[i] += e * d[i][k];
        }
        for (int i = 0; i < 6; ++i)
          for (int j = i; j < 6; ++j)
            sums[6 + 6 * i + j] += e * (d[i][k] * d[j][k] + 2.0 * tr2[i][j] + 4.0 * kek[i] * kek[j] / (k2 * k2) -
                                        8.0 * c * ek[i].dot(ek[j]));
      }
  MPI_Allreduce(MPI_IN_PLACE, sums, 42, MPI_DOUBLE, MPI_SUM, decomp_.comm());
  MeshStrainDerivatives out;
  for (int i = 0; i < 6; ++i) {
    out.first[i] = sums[i];
    for (int j = i; j < 6; ++j) out.second(i, j) = out.second(j, i) = sums[6 + 6 * i + j];
  }
  mesh_field(rho);
  out.field = interpolate(st);
  for (int i = 0; i < 6; ++i) {
    mesh_field(rho, d[i].data());
    out.strain_field[i] = interpolate(st);
  }
  petsc_check(VecRestoreArrayRead(fout_, &rho), "VecRestoreArrayRead");
  return out;
}

}  // namespace tlsmap
