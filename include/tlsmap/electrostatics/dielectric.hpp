#pragma once
// Dielectric function ε(r) for the grid Poisson solver: a background ε_∞ plus spherical regions
// of ε_in (the "domains"), in a periodic box (distances by minimum image).
//
// Profile across a sphere surface: width w > 0 gives a tanh step,
//   ε ← ε + (ε_in − ε) · ½ [1 − tanh((|r − c| − R)/w)]   (applied sphere by sphere, so where
// regions overlap the later one wins); w = 0 is a sharp step. On the grid each cell takes the
// arithmetic mean of ε over the cell, sampled 4×4×4 in cells the interface passes through (cell
// centre value elsewhere) — so a sharp sphere enters with its cell volume fractions rather than a
// staircase; faces then take the harmonic mean of the two cell values (poisson_grid.cpp), which is
// the series-capacitor rule and keeps the flux across an interface continuous.
#include "tlsmap/core/box.hpp"

#include <cmath>
#include <vector>

namespace tlsmap {

struct DielectricSphere {
  Vec3 centre = Vec3::Zero();
  double radius = 0.0;
  double epsilon = 1.0;
};

class Dielectric {
 public:
  explicit Dielectric(double epsilon_background = 1.0, double width = 0.0)
      : background_(epsilon_background), width_(width) {}

  Dielectric& add_sphere(const Vec3& centre, double radius, double epsilon) {
    spheres_.push_back({centre, radius, epsilon});
    return *this;
  }

  double background() const { return background_; }
  double width() const { return width_; }
  const std::vector<DielectricSphere>& spheres() const { return spheres_; }

  // Point value at x.
  double at(const Vec3& x, const Box& box) const {
    double e = background_;
    for (const auto& s : spheres_) {
      const double r = box.minimum_image(x - s.centre).norm();
      const double inside =
          width_ > 0.0 ? 0.5 * (1.0 - std::tanh((r - s.radius) / width_)) : (r < s.radius ? 1.0 : 0.0);
      e += (s.epsilon - e) * inside;
    }
    return e;
  }

  // Mean of ε over the cell of size h centred on c (see the head comment).
  double cell_average(const Vec3& c, const Vec3& h, const Box& box) const {
    const double half_diag = 0.5 * h.norm() + 4.0 * width_;  // tanh is flat to 1e-3 beyond 4w
    bool crossed = false;
    for (const auto& s : spheres_)
      crossed = crossed || std::abs(box.minimum_image(c - s.centre).norm() - s.radius) < half_diag;
    if (!crossed) return at(c, box);
    double sum = 0.0;
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 4; ++b)
        for (int k = 0; k < 4; ++k)
          sum += at(c + Vec3((a - 1.5) / 4 * h[0], (b - 1.5) / 4 * h[1], (k - 1.5) / 4 * h[2]), box);
    return sum / 64.0;
  }

 private:
  double background_;
  double width_;
  std::vector<DielectricSphere> spheres_;
};

}  // namespace tlsmap
