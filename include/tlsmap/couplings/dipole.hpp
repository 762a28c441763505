#pragma once
// Stage 4, dipole: the transition dipole μ_T of every catalogued TLS, two ways (docs/dipole.md §1).
//
//  direct:  μ_direct = Σ_i q_i (r_i^B − r_i^A)   (minimum image; charges fixed on the beads)
//  Eq. 13:  μ_eq13   = (ε_in/4π) ∫_V ΔE dV        (V the domain sphere, ΔE = −∇Δφ)
//
// Δφ comes from ONE grid solve of ∇·(ε∇Δφ) = −4πΔρ with Δρ = ρ_B − ρ_A (the problem is linear, so
// the two states are never solved separately): every mobile bead with q ≠ 0 that moved contributes +q
// at r_B and −q at r_A; all other beads cancel exactly and are left out.
//
// Periodic images. The grid is periodic with a conducting (tin-foil) boundary, so the sphere also
// sees the field of the TLS's periodic images. That field is harmonic inside the sphere (images lie
// outside it when R < L/2), so its sphere integral is V_sph times its value at the centre; to dipole
// order that value is T·m/ε_ext with the lattice tensor
//     T = ∇∇[ψ(r) − 1/r] at r = 0,   ψ the tin-foil periodic Green's function (Ewald, image_field_tensor),
// which is (4π/3V)·I for a cubic box. With a dielectric sphere (ε_in in ε_ext, radius a = R) the images'
// local field polarises the sphere and vice versa (docs/electrostatics.md §4, generalised from 4π/3V to T):
//     m = (I − a³βT)⁻¹ m₀,   m₀ = 3ε_ext p/(2ε_ext + ε_in),   β = (ε_in − ε_ext)/(ε_in + 2ε_ext),
//     ∫_sph E_images dV = V_sph · 3/(ε_in + 2ε_ext) · T m,
// with p = μ_direct. For uniform ε the stage uses the exact image field of the transition charges instead
// (image_field: all multipoles; the dipole-order term alone leaves errors of a few % when the domain's
// higher moments are large next to its small net dipole, as for a random walk of bond dipoles).
// The stage subtracts the images' integral from the grid integral: μ_eq13 is the isolated-domain
// (free-space) value, μ_eq13_uncorrected the raw periodic one. At dipole order and uniform ε the
// correction is the (1 − V_sph/V_box) factor of docs/electrostatics.md §4, so μ_eq13/μ_direct → −1/3; with
// ε_in ≠ ε_ext it tends to −ε_in/(2ε_ext + ε_in) (the point-dipole closed form).
//
// The paper's Eq. 1/6 ingredients: each bond (from /charge/bonds) with a moving bead has a dipole
// change Δμ_b = q_a Δr_a + q_b Δr_b (= q_a [Δr_a − Δr_b] for a ±q bond); N_d = number of such bonds, Σ|Δμ_b|², and the Kirkwood-like
// factor g = |μ_direct|²/Σ|Δμ_b|² (μ_direct = Σ_b Δμ_b exactly when every charged bead is bonded).
#include "tlsmap/core/box.hpp"
#include "tlsmap/io/catalogue.hpp"

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tlsmap {

class PoissonGrid;
class Decomposition;

// Δρ = ρ_B − ρ_A of TLS k as point charges (+q at r_B, −q at r_A, wrapped into the box), for the
// mobile beads with q ≠ 0 that moved. charge[id − 1] is the charge of bead id.
struct PointCharges {
  std::vector<Vec3> pos;
  std::vector<double> q;
  std::vector<std::int64_t> id;  // the bead of each charge
};
PointCharges transition_charges(const TlsSet& tls, std::size_t k, std::span<const double> charge, const Box& box);
// What a sphere that cuts through Δρ's Gaussians (width sigma) takes off Eq. 13. A charge q at y
// (from the centre) adds −(4π/3) q y w(|y|) to ∫_sphere E dV, w = 1 inside and (R/|y|)³ outside, so
// for uniform ε (images removed) μ_eq13 = −(μ_direct − L)/3 with the cut dipole
//   L = Σ_p q_p ∫ ρ_p(y) (1 − w(|y|)) y d³y,
// ρ_p the unit Gaussian at x_p − c (minimum image). gaussian_cut_moment is that integral for one
// Gaussian centred at distance a from the centre, along its direction (angles in closed form, the
// radius by Simpson's rule over [max(R, a − 10σ), a + 10σ]; 0 when the Gaussian is > 10σ inside).
double gaussian_cut_moment(double a, double radius, double sigma);
Vec3 cut_dipole(const PointCharges& dq, const Vec3& centre, double radius, double sigma, const Box& box);
// Σ q (r_B − r_A), minimum image.
Vec3 direct_dipole(const TlsSet& tls, std::size_t k, std::span<const double> charge, const Box& box);

// T = ∇∇[ψ(r) − 1/r] at r = 0 (tin-foil Ewald sum, ε = 1): the field of a point dipole's periodic
// images at its own site is T p / ε. Isotropic 4π/(3V) for a cube.
Mat3 image_field_tensor(const Box& box);
// ∇∇ψ(r) for r ≠ 0 (all images, tin-foil, ε = 1): the periodic dipole–dipole coupling, i.e. the
// field at r of a lattice of point dipoles p at the origin's images is (∇∇ψ) p / ε.
Mat3 dipole_lattice_tensor(const Box& box, const Vec3& r);
// Field at x of the periodic images of the point charges (tin-foil Ewald, ε = 1), each charge's own
// n = 0 term left out: E_img(x) = −Σ_p q_p ∇[ψ(x − r_p) − 1/|x − r_p|]. For uniform ε the images' sphere
// integral is exactly V_sph E_img(centre)/ε (mean-value property), to all multipole orders.
Vec3 image_field(const Box& box, const PointCharges& charges, const Vec3& x);
// ∫_sphere of the images' field (dipole order, see the head comment) for a dipole p at the centre of a
// sphere of radius R with ε_in inside and ε_ext outside; T from image_field_tensor.
Vec3 image_sphere_integral(const Mat3& T, const Vec3& p, double R, double eps_in, double eps_ext);

// Bond-dipole changes of TLS k. partner[id − 1] = the bond partner's id (0 if unpaired).
struct BondDipoleChanges {
  int n_bonds = 0;        // N_d: bonds with at least one mobile bead that moved
  double sum_dmu2 = 0.0;  // Σ_b |Δμ_b|²
  Vec3 sum_dmu = Vec3::Zero();
  double d_l = 0.0;  // rms |r_B − r_A| over the mobile beads
};
BondDipoleChanges bond_dipole_changes(const TlsSet& tls, std::size_t k, std::span<const double> charge,
                                      std::span<const std::int64_t> partner, const Box& box);

// Collective. Spread Δρ (each rank the points it owns), solve, return ∫_sphere ΔE dV for each radius.
std::vector<Vec3> transition_field_integrals(PoissonGrid& grid, const Decomposition& decomp, const PointCharges& dq,
                                             const Vec3& centre, std::span<const double> radii);

// The Eq. 13 grid of the dipole stage: spacing h (the grid may round it down), Gaussian width
// σ = sigma_factor·h, ε_ext everywhere, and with ε_in ≠ ε_ext a sharp dielectric sphere of ε_in and
// radius R at the TLS centre (then one grid per TLS; uniform ε: one grid serves every TLS).
struct Eq13Options {
  double spacing = 0.25, sigma_factor = 1.0, kernel_cutoff = 5.0;
  double eps_ext = 1.0, eps_in = 1.0;
  double rtol = 1e-10;  // KSP relative tolerance
  bool uniform() const { return eps_in == eps_ext; }
  double sigma() const { return sigma_factor * spacing; }  // the Gaussians' width on the grid
};
// Collective over decomp.comm(); centre and radius are ignored for uniform ε.
std::unique_ptr<PoissonGrid> make_eq13_grid(const Decomposition& decomp, const Eq13Options& o, const Vec3& centre,
                                            double radius);

// μ_eq13 of one TLS for each integration radius, as the stage computes and stores it:
//   uncorrected = (ε_in/4π) ∫_sph ΔE dV,   corrected = (ε_in/4π) (∫_sph ΔE dV − ∫_sph E_images dV),
// the images' integral exact (all multipoles) for uniform ε and of dipole order (image_sphere_integral
// with T and p = mu_direct) for a dielectric sphere, of radius radii[r] each (exact when that is the
// radius of the grid's dielectric sphere; the convergence table also integrates other radii over the
// same grid). Collective: one solve of Δρ = dq on `grid` (from make_eq13_grid with the same options).
struct Eq13Dipole {
  Vec3 corrected = Vec3::Zero(), uncorrected = Vec3::Zero();
};
std::vector<Eq13Dipole> eq13_dipoles(PoissonGrid& grid, const Decomposition& decomp, const Eq13Options& o,
                                     const Mat3& T, const PointCharges& dq, const Vec3& mu_direct, const Vec3& centre,
                                     std::span<const double> radii);

}  // namespace tlsmap
