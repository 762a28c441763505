#include "tlsmap/electrostatics/coulomb.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/reduction.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

namespace tlsmap {

namespace {

constexpr double pi = std::numbers::pi;
// The truncated kernel's weight jumps where a node enters or leaves its support as a bead moves;
// measured force errors are 1–8 × e^{−c²/2} × the grid force (tests/test_coulomb.cpp, scan):
// 8 keeps the estimate conservative.
constexpr double kKernelErrorFactor = 8.0;

// The two k sums of the grid estimate over the reciprocal lattice of `box`:
//   err = Σ_k k² (G_h − 1/k²)² e^{−2k²σ²},  ref = Σ_k k² (1/k²)² e^{−2k²σ²}   (k ≠ 0)
// with G_h = 1/Σ_d λ_d(k_d), λ_d the symbol of the order-p second difference, and G_h = 0 for k
// outside the grid's Brillouin zone (|k_d| > π/h_d): the grid does not carry those modes.
// Also self = Σ_k (G_h − 1/k²) e^{−k²σ²}: the grid's error in the self energy of a unit Gaussian is
// (2π/(Vε)) self, the same for every charge (to the aliasing level e^{−2π²σ²/h²}).
struct GridSums {
  double err = 0.0, ref = 0.0, self = 0.0;
};

GridSums grid_sums(const CoulombParams& p, const Box& box, const Vec3& h) {
  const std::vector<double> c = p.order == 2 ? std::vector<double>{1.0} : central_difference_coefficients(p.order);
  const double s2 = p.sigma * p.sigma, k_max = std::sqrt(35.0 / s2);  // e^{−2k²σ²} ≥ e^{−70}
  std::vector<double> k[3], lambda[3];
  std::vector<char> inside[3];
  for (int d = 0; d < 3; ++d) {
    const int m_max = static_cast<int>(std::ceil(k_max * box.len[d] / (2 * pi)));
    for (int m = -m_max; m <= m_max; ++m) {
      const double kd = 2 * pi * m / box.len[d];
      double l = 0.0;
      for (std::size_t j = 0; j < c.size(); ++j) l += 2.0 * c[j] * (1.0 - std::cos((j + 1.0) * kd * h[d]));
      k[d].push_back(kd);
      lambda[d].push_back(l / (h[d] * h[d]));
      inside[d].push_back(std::abs(kd) * h[d] <= pi * (1.0 + 1e-12));
    }
  }
  GridSums s;
  for (std::size_t x = 0; x < k[0].size(); ++x)
    for (std::size_t y = 0; y < k[1].size(); ++y)
      for (std::size_t z = 0; z < k[2].size(); ++z) {
        const double k2 = k[0][x] * k[0][x] + k[1][y] * k[1][y] + k[2][z] * k[2][z];
        if (k2 == 0.0 || k2 > k_max * k_max) continue;
        const double g = std::exp(-2.0 * k2 * s2), exact = 1.0 / k2;
        const double gh =
            (inside[0][x] && inside[1][y] && inside[2][z]) ? 1.0 / (lambda[0][x] + lambda[1][y] + lambda[2][z]) : 0.0;
        s.err += k2 * (gh - exact) * (gh - exact) * g;
        s.ref += k2 * exact * exact * g;
        s.self += (gh - exact) * std::exp(-k2 * s2);
      }
  return s;
}

// c_min: the kernel support actually reached on the short side, (s − 1) h/σ for s support nodes.
CoulombErrorEstimate estimate_from(const CoulombParams& p, const Box& box, const GridSums& s, double c_min, double n,
                                   double q2) {
  CoulombErrorEstimate e;
  if (n <= 0 || q2 <= 0) return e;
  const double v = box.volume();
  e.real = 2.0 * q2 * std::exp(-p.alpha * p.alpha * p.cutoff * p.cutoff) / (p.epsilon * std::sqrt(n * p.cutoff * v));
  const double pref = std::sqrt(q2 / n) * std::sqrt(q2) * 4.0 * pi / (v * p.epsilon);
  e.grid = pref * std::sqrt(s.err);
  e.grid_force = pref * std::sqrt(s.ref);
  e.kernel = kKernelErrorFactor * std::exp(-0.5 * c_min * c_min) * e.grid_force;
  return e;
}

}  // namespace

CoulombSolver coulomb_solver_by_name(const std::string& name, bool variable_epsilon) {
  if (name == "mg") return CoulombSolver::mg;
  if (name == "fft") {
    if (variable_epsilon)
      throw Error(
          "Coulomb solver \"fft\" needs a uniform dielectric constant; a spatially varying epsilon is in use: "
          "use \"mg\" (the multigrid solver)");
    return CoulombSolver::fft;
  }
  throw Error("unknown Coulomb solver '" + name + "' (\"fft\" or \"mg\")");
}

const char* coulomb_solver_name(CoulombSolver s) { return s == CoulombSolver::fft ? "fft" : "mg"; }

double CoulombErrorEstimate::total() const { return std::sqrt(real * real + grid * grid + kernel * kernel); }

CoulombParams coulomb_params(const Box& box, double accuracy, double cutoff, double epsilon, double max_cutoff,
                             int order, CoulombSolver solver) {
  if (!(accuracy > 0.0 && accuracy <= 0.01)) throw Error("Coulomb accuracy must be in (0, 0.01]");
  if (!(epsilon > 0.0)) throw Error("Coulomb epsilon must be positive");
  if (cutoff < 0.0) throw Error("Coulomb cutoff must be positive (or 0: automatic)");
  CoulombParams p;
  p.accuracy = accuracy;
  p.epsilon = epsilon;
  p.order = order;
  p.rtol = std::clamp(1e-3 * accuracy, 1e-12, 1e-8);  // solver error well below the requested one
  const double s = std::sqrt(-std::log(accuracy));
  if (cutoff > 0.0) {
    if (cutoff > max_cutoff) {
      std::ostringstream msg;
      msg << "Coulomb cutoff " << cutoff << " exceeds the largest this box allows, " << max_cutoff
          << " (half the shortest edge minus the skin)";
      throw Error(msg.str());
    }
    p.cutoff = cutoff;
  } else {
    p.cutoff = std::min(1.2 * s, max_cutoff);  // σ = 0.6 balances grid and real-space work
  }
  p.alpha = s / p.cutoff;
  p.sigma = 0.5 / p.alpha;
  // σ/h: the smallest multiple of 1/8 from 1.25 whose grid error is below δ/3 of the grid force;
  // the ratio depends on σ/h and the order only, so it is evaluated on a reference cube of side 16σ.
  // Below 1.25 the spreading aliases near the Nyquist frequency, which the estimate does not model
  // (measured 9× the estimate at σ/h = 1).
  Box ref;
  ref.len = Vec3::Constant(16.0 * p.sigma);
  double ratio = 1.25;
  for (; ratio < 4.0; ratio += 0.125) {
    const GridSums g = grid_sums(p, ref, Vec3::Constant(p.sigma / ratio));
    if (std::sqrt(g.err / g.ref) <= accuracy / 3.0) break;
  }
  p.spacing = p.sigma / ratio;
  // Kernel support: the short side reaches c − h/σ; 8 e^{−(c − h/σ)²/2} ≤ δ/3 of the grid force.
  p.kernel_cutoff = 1.0 / ratio + std::sqrt(2.0 * std::log(3.0 * kKernelErrorFactor / accuracy));
  p.solver = solver;
  if (solver == CoulombSolver::fft) {
    // The mesh: the smallest whose a-priori mesh error (fft_coulomb.hpp) is ≤ δ/3 of the
    // reciprocal force for this box, as the grid rule above.
    p.assignment_order = fft_order_for(accuracy);
    p.mesh = fft_mesh_for(box, p.assignment_order, p.alpha, accuracy / 3.0);
  }
  return p;
}

CoulombErrorEstimate coulomb_error_estimate(const CoulombParams& p, const Box& box, const Vec3& h, double n,
                                            double q2) {
  return estimate_from(p, box, grid_sums(p, box, h), p.kernel_cutoff - h.maxCoeff() / p.sigma, n, q2);
}

Coulomb::Coulomb(const Decomposition& decomp, const CoulombParams& p)
    : decomp_(decomp), p_(p), kernel_(p.alpha, p.cutoff) {
  if (p.solver == CoulombSolver::fft) {
    if (p.assignment_order < 1 || *std::min_element(p.mesh.begin(), p.mesh.end()) < 1)
      throw Error("Coulomb: the fft solver needs its mesh and assignment order (coulomb_params)");
    fft_ = std::make_unique<FftCoulomb>(decomp, p.mesh, p.assignment_order, p.alpha, p.epsilon, p.drift);
    const FftErrorSums e = fft_error_sums(decomp.box(), p.mesh, p.assignment_order, p.alpha);
    fft_err_sum_ = e.err, fft_ref_sum_ = e.ref;
    return;
  }
  // reuse_solution: nearby configurations, so the previous φ is a good first guess.
  const PoissonGridOptions o{.spacing = p.spacing,
                             .sigma = p.sigma,
                             .kernel_cutoff = p.kernel_cutoff,
                             .rtol = p.rtol,
                             .order = p.order,
                             .reuse_solution = true,
                             .drift = p.drift};
  grid_ = std::make_unique<PoissonGrid>(decomp, o, Dielectric(p.epsilon));
  const GridSums g = grid_sums(p_, decomp.box(), grid_->spacing());
  grid_err_sum_ = g.err, grid_ref_sum_ = g.ref, grid_self_sum_ = g.self;
  kernel_reach_ = (grid_->stencil_width() - 1) * grid_->spacing().minCoeff() / p_.sigma;
}

double Coulomb::reciprocal(std::span<const Vec3> pos, std::span<const double> q, std::vector<Vec3>& force,
                           bool virial) {
  std::vector<Vec3> field;
  double energy;
  if (fft_) {
    energy = fft_->compute(pos, q, field, virial);
  } else {
    grid_->spread(pos, q);
    grid_->solve();
    energy = grid_->energy();
    field = grid_->field_at(pos);
  }
  force.resize(pos.size());
  for (std::size_t i = 0; i < pos.size(); ++i) force[i] = q[i] * field[i];
  return energy;
}

MeshStrainDerivatives Coulomb::reciprocal_strain_derivatives(std::span<const Vec3> pos, std::span<const double> q) {
  if (!fft_)
    throw Error(
        "Coulomb: the strain derivatives of the grid part need coulomb.solver = \"fft\" (the multigrid part has "
        "none)");
  return fft_->strain_derivatives(pos, q);
}

namespace {
// visit(q_j, erfc kernel e, its f/r, d = x_i − x_j) for each charged bead j of bead i's row within r_c
// (a template, so that the force loop inlines it).
template <class Visit>
inline void for_each_real_pair(const Beads& b, const NeighborList& list, const RealSpaceTable& kernel, int i,
                               double rc2, Visit&& visit) {
  const Vec3 xi = b.pos[i];
  for (const int* p = list.row_begin(i); p != list.row_end(i); ++p) {
    const int j = *p;
    const double qj = b.charge[j];
    if (qj == 0.0) continue;
    const Vec3 d = xi - b.pos[j];
    const double r2 = d.squaredNorm();
    if (r2 >= rc2) continue;
    double ek, fk;
    kernel.evaluate(r2, ek, fk);
    visit(qj, ek, fk, d);
  }
}
}  // namespace

CoulombResult Coulomb::compute(const Beads& b, const NeighborList& list, std::vector<Vec3>& force, bool virial) {
  if (list.cutoff() < p_.cutoff) throw Error("Coulomb: the neighbour list is shorter than the real-space cutoff");
  const int n = b.n_owned;
  const double a = p_.alpha, rc2 = p_.cutoff * p_.cutoff, inv_eps = 1.0 / p_.epsilon;
  force.assign(n, Vec3::Zero());
  std::vector<double> e_real(n, 0.0), q2(n, 0.0), f2(n, 0.0);
  const bool tensor = virial && fft_;
  std::vector<double> w[6];  // per bead: ½ Σ_j d_a f_b, components xx, yy, zz, xy, xz, yz
  if (tensor)
    for (auto& c : w) c.assign(n, 0.0);

  // Real space: q_i q_j erfc(α r)/(ε r) over full rows (canonical order), half the energy per bead.
  for (int i = 0; i < n; ++i) {
    const double qi = b.charge[i];
    q2[i] = qi * qi;
    if (qi == 0.0) continue;
    double e = 0.0;
    Vec3 f = Vec3::Zero();
    if (!tensor) {
      for_each_real_pair(b, list, kernel_, i, rc2, [&](double qj, double ek, double fk, const Vec3& d) {
        e += qj * ek;
        f += (qj * fk) * d;
      });
    } else {  // the same sums (bitwise), and ½ Σ_j d_a f_b
      double t[6] = {0, 0, 0, 0, 0, 0};
      for_each_real_pair(b, list, kernel_, i, rc2, [&](double qj, double ek, double fk, const Vec3& d) {
        e += qj * ek;
        const Vec3 sd = (qj * fk) * d;
        f += sd;
        t[0] += sd[0] * d[0], t[1] += sd[1] * d[1], t[2] += sd[2] * d[2];
        t[3] += sd[0] * d[1], t[4] += sd[0] * d[2], t[5] += sd[1] * d[2];
      });
      for (int c = 0; c < 6; ++c) w[c][i] = 0.5 * qi * inv_eps * t[c];
    }
    e_real[i] = 0.5 * qi * e * inv_eps;
    force[i] = (qi * inv_eps) * f;
  }

  // Grid: Gaussian charges of the owned beads, field back at the beads.
  const std::span<const Vec3> pos(b.pos.data(), n);
  const std::span<const double> q(b.charge.data(), n);
  CoulombResult r;
  std::vector<Vec3> grid_force;
  r.reciprocal = reciprocal(pos, q, grid_force, tensor);
  if (grid_) r.iterations = grid_->iterations();
  double f_max = 0.0;
  for (int i = 0; i < n; ++i) {
    force[i] += grid_force[i];
    f2[i] = force[i].squaredNorm();
    f_max = std::max(f_max, f2[i]);
  }
  MPI_Allreduce(MPI_IN_PLACE, &f_max, 1, MPI_DOUBLE, MPI_MAX, decomp_.comm());
  double n_global = n;
  MPI_Allreduce(MPI_IN_PLACE, &n_global, 1, MPI_DOUBLE, MPI_SUM, decomp_.comm());
  const auto s = reproducible_sums(decomp_.comm(), {e_real, q2, f2});
  r.real = s[0];
  if (tensor) {
    const auto t = reproducible_sums(decomp_.comm(), {w[0], w[1], w[2], w[3], w[4], w[5]});
    Mat3 real;
    real << t[0], t[3], t[4], t[3], t[1], t[5], t[4], t[5], t[2];
    r.virial = real + fft_->virial();
  }
  // The discrete self energies' error is a constant per unit q²: removed, so energies converge as
  // fast as forces (it does not depend on positions, so forces are unchanged).
  if (fft_) r.reciprocal -= fft_->self_correction() * s[1];
  else r.reciprocal -= 2.0 * pi / (decomp_.box().volume() * p_.epsilon) * grid_self_sum_ * s[1];
  r.self = -a / std::sqrt(pi) * s[1] * inv_eps;
  r.total = r.real + r.reciprocal + r.self;
  r.rms_force = n_global > 0 ? std::sqrt(s[2] / n_global) : 0.0;
  r.max_force = std::sqrt(f_max);
  if (fft_) {
    // Real space as below; the mesh from the Deserno–Holm sums; B-splines have no truncation error.
    r.estimate = estimate_from(p_, decomp_.box(), GridSums{}, 0.0, n_global, s[1]);
    const double pref = n_global > 0 ? s[1] / (decomp_.box().volume() * p_.epsilon * std::sqrt(n_global)) : 0.0;
    r.estimate.grid = pref * std::sqrt(fft_err_sum_);
    r.estimate.grid_force = pref * std::sqrt(fft_ref_sum_);
    r.estimate.kernel = 0.0;
  } else {
    r.estimate = estimate_from(p_, decomp_.box(), GridSums{grid_err_sum_, grid_ref_sum_, grid_self_sum_}, kernel_reach_,
                               n_global, s[1]);
  }
  r.relative_error = r.rms_force > 0 ? r.estimate.total() / r.rms_force : 0.0;
  return r;
}

}  // namespace tlsmap
