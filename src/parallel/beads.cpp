#include "tlsmap/parallel/beads.hpp"

namespace tlsmap {

void Beads::resize_owned(int n) {
  pos.assign(n, Vec3::Zero());
  vel.assign(n, Vec3::Zero());
  force.assign(n, Vec3::Zero());
  image.assign(n, Int3{0, 0, 0});
  species.assign(n, 0);
  charge.assign(n, 0.0);
  id.assign(n, 0);
  diameter.assign(has_diameter ? n : 0, 0.0);
  partner.assign(has_partner ? n : 0, 0);
  extra.assign(static_cast<std::size_t>(n) * n_extra, 0.0);
  n_owned = n;
  n_ghost = 0;
}

void Beads::truncate_owned(int n) {
  n_owned = n;
  n_ghost = 0;
  pos.resize(n);
  vel.resize(n);
  force.resize(n);
  image.resize(n);
  species.resize(n);
  charge.resize(n);
  id.resize(n);
  if (has_diameter) diameter.resize(n);
  if (has_partner) partner.resize(n);
  extra.resize(static_cast<std::size_t>(n) * n_extra);
}

void Beads::clear_ghosts() {
  pos.resize(n_owned);
  species.resize(n_owned);
  charge.resize(n_owned);
  id.resize(n_owned);
  if (has_diameter) diameter.resize(n_owned);
  n_ghost = 0;
}

void Beads::push_owned(const Vec3& x, int species_, double q, std::int64_t id_, const Vec3& v, const Int3& img,
                       double d) {
  clear_ghosts();
  pos.push_back(x);
  vel.resize(n_owned);
  force.resize(n_owned);
  image.resize(n_owned);
  vel.push_back(v);
  force.push_back(Vec3::Zero());
  image.push_back(img);
  species.push_back(species_);
  charge.push_back(q);
  id.push_back(id_);
  if (has_diameter) diameter.push_back(d);
  if (has_partner) partner.push_back(0);
  extra.resize(static_cast<std::size_t>(n_owned + 1) * n_extra, 0.0);
  ++n_owned;
}

void Beads::enable_diameter() {
  if (has_diameter) return;
  clear_ghosts();
  diameter.assign(n_owned, 0.0);
  has_diameter = true;
}

void Beads::enable_partner() {
  if (has_partner) return;
  partner.assign(n_owned, 0);
  has_partner = true;
}

}  // namespace tlsmap
