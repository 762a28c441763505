#pragma once
// FFT reciprocal part of the bead Coulomb split for uniform ε: particle–particle particle–mesh
// (P3M) in the form of Hockney & Eastwood with the optimal influence function for ik
// differentiation (Deserno & Holm, J. Chem. Phys. 109, 7678 (1998); docs/electrostatics.md §10).
// The same role as the multigrid grid part (PoissonGrid in coulomb.cpp): it gives the smooth,
// long-range part of q_i q_j erf(α r)/(ε r); the real-space erfc part and the self term stay in
// coulomb.cpp.
//
//   mesh charges  Q_n = Σ_i q_i W(x_n − r_i),  W the order-p cardinal B-spline (Hockney–Eastwood
//                 assignment: p nodes per dimension, centred on the bead), separable
//   energy        E = 1/(2Vε) Σ_{k≠0, k in the mesh's Brillouin zone} G(k) |Q̂(k)|²
//   field         E_n = −(1/(Vε)) Σ_k i k G(k) Q̂(k) e^{ik·x_n} (three inverse FFTs; the Nyquist
//                 component of the derivative set to 0), back at the beads with the same W
//   influence     G(k) = Σ_m Û²(k_m) (k·k_m) 4π e^{−k_m²/4α²}/k_m² / (k² [Σ_m Û²(k_m)]²),
//                 k_m = k + 2π m/h, Û(k) = Π_d sinc(k_d h_d/2)^p, |m_d| ≤ 2
//
// Transforms: PETSc's FFTW interface (MatCreateFFT with MATFFTW: r2c forward, c2r backward,
// parallel FFTW-MPI slabs along x). A rank spreads its owned beads into a local brick of nodes
// around its subdomain; one VecScatter moves the brick to and from the FFTW layout (ADD on the way
// in, INSERT on the way out). Forces are not the exact gradient of the energy (ik differentiation;
// the difference is at the level of the mesh error) but conserve momentum to rounding.
//
// Accuracy (a priori, Deserno & Holm eq. 31 evaluated numerically for this box and mesh): for N
// uncorrelated charges with Σq² = Q², the RMS mesh force error is Q² √(Q_err/(N V))/ε with
//   Q_err = (1/V) Σ_{k≠0} [ Σ_m |R(k_m)|² − (Σ_m Û²(k_m) k·R̃(k_m))² / (k² [Σ_m Û²(k_m)]²) ],
//   R(k) = 4π k e^{−k²/4α²}/k² (the reference force's transform), R̃ its k·k_m form above,
// and the reference (exact) RMS reciprocal force Q² √(Q_ref/(N V))/ε, Q_ref = (1/V) Σ_k Σ_m |R(k_m)|².
//
// FFTW note: PETSc's MatDestroy of an FFTW matrix calls fftw_mpi_cleanup(), which invalidates every
// FFTW plan of the process. So one FftCoulomb may be alive at a time (a second throws Error), and no
// other FFTW plan may live across its destruction.
#include "tlsmap/core/box.hpp"
#include "tlsmap/core/petsc_util.hpp"
#include "tlsmap/core/voigt.hpp"
#include "tlsmap/parallel/decomposition.hpp"

#include <petscmat.h>

#include <span>
#include <vector>

namespace tlsmap {

// The two k sums of the a-priori estimate: err = Q_err, ref = Q_ref (both · V, i.e. Σ_k without 1/V).
struct FftErrorSums {
  double err = 0.0, ref = 0.0;
};
FftErrorSums fft_error_sums(const Box& box, const Int3& mesh, int order, double alpha);

// The smallest mesh (each n_d 2,3,5-smooth, spacing about equal in every dimension, n_d ≥ order)
// whose estimated RMS mesh force error is ≤ ratio × the RMS reciprocal force (both for
// uncorrelated charges): √(err/ref) ≤ ratio.
Int3 fft_mesh_for(const Box& box, int order, double alpha, double ratio);

// Assignment order for a relative accuracy δ: 5 (LAMMPS's default) for δ ≥ 1e-6, else 7.
int fft_order_for(double accuracy);

// The mesh energy's derivatives with respect to a homogeneous Lagrangian strain η (Voigt) of the box
// and every bead, the mesh's node counts fixed (FftCoulomb::strain_derivatives). Summed over ranks
// except the per-bead fields.
struct MeshStrainDerivatives {
  double first[6] = {0, 0, 0, 0, 0, 0};  // ∂E/∂η_I
  Mat6 second = Mat6::Zero();            // ∂²E/∂η_I∂η_J
  std::vector<Vec3> field;               // the mesh field at each bead (as compute())
  std::vector<Vec3> strain_field[6];     // ∂field/∂η_I at fixed reduced coordinates, reference frame
};

class FftCoulomb {
 public:
  // Collective over decomp.comm(); decomp must outlive this. mesh[d] ≥ order, 1 ≤ order ≤ 7.
  // drift ≥ 0: positions may lie up to this far outside the rank's subdomain (beads that moved since
  // the last migration); the local brick is widened by that much.
  FftCoulomb(const Decomposition& decomp, const Int3& mesh, int order, double alpha, double epsilon,
             double drift = 0.0);
  FftCoulomb(const FftCoulomb&) = delete;
  FftCoulomb& operator=(const FftCoulomb&) = delete;
  ~FftCoulomb();

  // Collective. Mesh energy of the owned beads' charges (each bead's own mesh self energy
  // included; see self_correction) and the mesh field at each owned bead (field.size() = pos.size()).
  // Every position must lie in this rank's subdomain widened by the drift (throws Error otherwise).
  // virial: also the mesh virial tensor (virial()); without it virial() is NaN, and the pass over the
  // modes costs no division.
  double compute(std::span<const Vec3> pos, std::span<const double> q, std::vector<Vec3>& field, bool virial = false);

  // The mean error of the mesh self energy per unit q², relative to the exact Gaussian one:
  // (1/(2Vε)) [Σ_{k≠0 in the zone} G Σ_m Û²(k_m) − Σ_{k≠0} 4π e^{−k²/4α²}/k²]. A constant: subtract
  // self_correction() Σq² from compute()'s energy (no force changes).
  double self_correction() const { return self_correction_; }

  // The mesh energy's virial Σ r_a f_b of the last compute(…, true) (summed over ranks): each mode's energy
  // E_k times (δ_ab − 2 k_a k_b (1/k² + 1/4α²)), the Ewald reciprocal tensor (as LAMMPS's PPPM
  // evaluates it with the optimal influence function); its trace is the strain derivative of the
  // mesh energy exactly, the traceless part to the mesh error (docs/electrostatics.md §11).
  const Mat3& virial() const { return virial_; }

  // Collective. The strain derivatives of the mesh energy of these charges (MeshStrainDerivatives).
  // Under the strain the charges' reduced coordinates, hence Q̂, stay fixed; only G(k)/V changes,
  // taken, as for the virial, as the Ewald kernel's: per mode E_k(η) ∝ e^{−κ²/4α²}/(κ² V) with
  // κ² = kᵀ(1 + 2η)⁻¹k and V = V₀ √det(1 + 2η), so with c = 1/k² + 1/4α²
  //   ∂E_k/∂η_I = E_k D_I,  D_I = −tr ε_I + 2c kᵀε_I k,
  //   ∂²E_k/∂η_I∂η_J = E_k [D_I D_J + 2 tr ε_Iε_J + 4 (kᵀε_I k)(kᵀε_J k)/k⁴ − 8c (ε_I k)·(ε_J k)],
  // and the field's derivative is the field of the kernel G D_I (docs/elastic.md §4).
  MeshStrainDerivatives strain_derivatives(std::span<const Vec3> pos, std::span<const double> q);

  const Int3& mesh() const { return n_; }
  Vec3 spacing() const { return h_; }
  int order() const { return order_; }

 private:
  struct Stencil {
    int first[3];    // first node (unwrapped index) per dimension
    double w[3][8];  // weights
  };
  void stencil(const Vec3& x, Stencil& s) const;
  // Set-up steps of the constructor, in order.
  struct SlabLayout {
    int block = 0, stride = 0;     // x planes per rank's slab; doubles per (x, y) row of the layout
    std::vector<PetscInt> starts;  // each rank's first index in the FFTW input vector
  };
  SlabLayout set_up_transform();           // the FFTW matrix, its vectors, this rank's slab
  void set_up_brick(const SlabLayout& s);  // the local node brick and its scatter to the slabs
  void set_up_influence();                 // G(k) on the slab, k per index, the self correction
  // Steps of compute(), in order: charges → Q̂ (in fout_), the mesh energy (collective), the field on
  // the brick, the field at the beads.
  std::vector<Stencil> spread(std::span<const Vec3> pos, std::span<const double> q);
  double mesh_energy(const PetscScalar* rho, bool virial);  // virial: also sets virial_ (else NaN)
  // factor: per mode of the slab, multiplies G (nullptr: 1).
  void mesh_field(const PetscScalar* rho, const double* factor = nullptr);
  std::vector<Vec3> interpolate(const std::vector<Stencil>& st) const;

  const Decomposition& decomp_;
  Int3 n_{0, 0, 0};
  Vec3 h_ = Vec3::Zero();
  int order_ = 5;
  double alpha_ = 1.0, epsilon_ = 1.0;
  double drift_ = 0.0;  // positions may lie this far outside the subdomain
  double self_correction_ = 0.0;
  bool padded_ = false;                        // parallel FFTW layout: last dimension padded to 2(n_z/2+1)
  int local_n0_ = 0, local_0_start_ = 0;       // this rank's x slab
  Int3 brick_lo_{0, 0, 0}, brick_n_{0, 0, 0};  // local node brick [lo, lo + n) (unwrapped indices)
  std::vector<double> g_;                      // G(k)/(Vε) on this rank's slab of the half spectrum
  std::vector<double> kvec_[3];                // k_d per index (0 at the Nyquist index, for the derivative)
  std::vector<double> kmode_[3];               // k_d per index (the Nyquist mode's own), for the virial
  Mat3 virial_ = Mat3::Zero();
  std::vector<double> brick_;  // local mesh charges, then field components
  std::vector<double> field_brick_[3];
  MatHandle fft_;
  VecHandle fin_, fout_, work_, bout_, brick_vec_;
  PetscHandle<VecScatter, VecScatterDestroy> scatter_;
};

}  // namespace tlsmap
