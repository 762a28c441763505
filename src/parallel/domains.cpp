#include "tlsmap/parallel/domains.hpp"

#include "tlsmap/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

namespace tlsmap {

double domain_radius(double xi) { return std::cbrt(3.0 / (4.0 * std::numbers::pi)) * xi; }

DomainGrid::DomainGrid(const Box& box, double xi, double spacing) : box_(box), xi_(xi), radius_(domain_radius(xi)) {
  if (!(xi > 0.0)) throw Error("domain size xi must be > 0");
  if (!(spacing > 0.0)) throw Error("domain spacing must be > 0");
  const double shortest = box.len.minCoeff();
  if (!(radius_ < 0.5 * shortest))
    throw Error("domain radius R_xi = " + std::to_string(radius_) + " (xi = " + std::to_string(xi) +
                ") is not below half the shortest box edge (" + std::to_string(0.5 * shortest) +
                "): the mobile sphere would meet its own periodic image; use a smaller xi or a larger sample");
  for (int d = 0; d < 3; ++d) n_[d] = std::max(1, static_cast<int>(std::lround(box.len[d] / spacing)));
}

Vec3 DomainGrid::spacing() const { return Vec3(box_.len[0] / n_[0], box_.len[1] / n_[1], box_.len[2] / n_[2]); }

Vec3 DomainGrid::center(std::int64_t index) const {
  const std::int64_t ix = index % n_[0], iy = (index / n_[0]) % n_[1],
                     iz = index / (static_cast<std::int64_t>(n_[0]) * n_[1]);
  const Vec3 a = spacing();
  return box_.lo + Vec3((ix + 0.5) * a[0], (iy + 0.5) * a[1], (iz + 0.5) * a[2]);
}

LocalCopy local_copy(const Box& box, const std::vector<Vec3>& pos, const std::vector<int>& species,
                     const std::vector<double>& charge, const Vec3& center, double radius, double shell,
                     const std::vector<double>& diameter, const std::vector<std::int64_t>& partner) {
  LocalCopy c;
  c.box = box;
  c.center = center;
  c.radius = radius;
  c.shell = shell;
  const double r2 = radius * radius, outer2 = (radius + shell) * (radius + shell);
  std::vector<double> d2(pos.size());
  for (std::size_t k = 0; k < pos.size(); ++k) d2[k] = box.minimum_image(pos[k] - center).squaredNorm();
  // A molecule is mobile when one of its beads is inside the sphere.
  const auto inside = [&](std::size_t k) {
    return d2[k] < r2 || (!partner.empty() && partner[k] > 0 && d2[static_cast<std::size_t>(partner[k] - 1)] < r2);
  };
  std::vector<std::size_t> frozen;
  auto add = [&](std::size_t k) {
    c.id.push_back(static_cast<std::int64_t>(k) + 1);
    c.species.push_back(species[k]);
    c.charge.push_back(charge.empty() ? 0.0 : charge[k]);
    c.pos.push_back(pos[k]);
    if (!diameter.empty()) c.diameter.push_back(diameter[k]);
    if (!partner.empty()) c.partner.push_back(partner[k]);
  };
  // One pass in id order: mobile beads are appended at once, frozen ones after, so both parts
  // come out sorted by id.
  for (std::size_t k = 0; k < pos.size(); ++k) {
    if (inside(k)) add(k);
    else if (d2[k] < outer2) frozen.push_back(k);
  }
  c.n_mobile = c.size();
  for (std::size_t k : frozen) add(k);
  return c;
}

}  // namespace tlsmap
