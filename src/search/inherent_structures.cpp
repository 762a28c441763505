// Inherent structures of MD runs (see inherent_structures.hpp).
#include "tlsmap/search/inherent_structures.hpp"

#include "tlsmap/md/system.hpp"
#include "tlsmap/search/relax.hpp"

#include <algorithm>
#include <memory>

namespace tlsmap {

std::uint64_t replica_seed(std::uint64_t run_seed, int replica) {
  // SplitMix64's finaliser of (seed, replica): distinct replicas get unrelated Philox keys.
  std::uint64_t z = run_seed + 0x9E3779B97F4A7C15ULL * (static_cast<std::uint64_t>(replica) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void align_to(const Box& box, const std::vector<Vec3>& ref, std::vector<Vec3>& x) {
  Vec3 shift;
  std::vector<double> d(x.size());
  for (int c = 0; c < 3; ++c) {
    for (std::size_t i = 0; i < x.size(); ++i) d[i] = box.minimum_image(Vec3(x[i] - ref[i]))[c];
    auto mid = d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2);
    std::nth_element(d.begin(), mid, d.end());
    shift[c] = *mid;
  }
  for (Vec3& xi : x) {
    xi -= shift;
    box.wrap(xi);
  }
}

double max_displacement(const Box& box, const std::vector<Vec3>& x, const std::vector<Vec3>& y) {
  double m = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, box.minimum_image(Vec3(x[i] - y[i])).norm());
  return m;
}

namespace {
// The MD's System of beads g (with the Coulomb term when the charges act).
std::unique_ptr<System> md_system(const Box& box, const Model& model, const ReplicaParams& p, const GlobalBeads& g,
                                  MPI_Comm comm) {
  auto sys = std::make_unique<System>(comm, box, model, p.skin, Int3{0, 0, 0}, p.coulomb_cutoff);
  sys->set_beads(block_by_id(g, g.pos, comm, true));
  if (p.coulomb_term) sys->add_force_term(p.coulomb_term(*sys));
  return sys;
}
}  // namespace

std::vector<Quench> run_replica(const Box& box, const GlobalBeads& glass, const Model& model, const ReplicaParams& p,
                                MPI_Comm comm, const std::function<void(const Quench&)>& on_quench) {
  std::unique_ptr<System> sys = md_system(box, model, p, glass, comm);
  assign_velocities(*sys, p.temperature, p.md.seed);
  std::vector<Quench> out;
  std::vector<Vec3> previous = glass.pos;
  long step = 0;  // the thermostat noise is keyed by it (md.hpp): the MD goes on across quenches
  for (long done = 0; done + p.quench_every <= p.md_steps; done += p.quench_every) {
    {
      MolecularDynamics md(*sys, p.md);
      md.set_step(step);
      md.run(p.quench_every, [&](long) { return p.temperature; });
      step = md.step();
    }
    GlobalBeads snapshot = gather_by_id(sys->beads(), comm);  // positions and velocities
    // The quench's own System holds a Coulomb term too, and the FFT grid allows one solver at a time
    // (fft_coulomb.hpp): with the charges acting, the MD's System is rebuilt from the snapshot after.
    if (p.coulomb_term) sys.reset();
    WholeSample w{comm, box, &snapshot, model, p.skin};
    w.coulomb_cutoff = p.coulomb_cutoff, w.coulomb_term = p.coulomb_term;
    Quench q;
    q.step = step;
    std::vector<Vec3> is;
    q.energy = relax_state(w, {}, {}, p.f_tol, &is, &q.converged);
    if (!sys) sys = md_system(box, model, p, snapshot, comm);
    align_to(box, glass.pos, is);
    if (q.converged && max_displacement(box, is, previous) > p.dedup_distance) {  // a new basin
      previous = is;
      q.pos = std::move(is);
    }
    if (on_quench) on_quench(q);
    out.push_back(std::move(q));
  }
  return out;
}

void add_replica(const Box& box, const std::vector<Quench>& quenches, double dedup_distance, IsCatalogue* c,
                 std::vector<std::vector<Vec3>>* structures) {
  c->first_seen.resize(structures->size(), {-1, -1});  // the glass (and nothing else) on the first call
  const int r = static_cast<int>(c->state.size());
  auto known = [&](const std::vector<Vec3>& x) {
    for (std::size_t s = 0; s < structures->size(); ++s)
      if (max_displacement(box, x, (*structures)[s]) <= dedup_distance) return static_cast<int>(s);
    return -1;
  };
  auto add_pair = [&](int a, int b) {
    if (b == 0) std::swap(a, b);  // the glass is state A when it takes part
    for (const auto& [x, y] : c->pairs)
      if ((x == a && y == b) || (x == b && y == a)) return;
    c->pairs.emplace_back(a, b);
  };
  int current = 0;  // every replica starts in the glass
  std::vector<int> states;
  for (std::size_t k = 0; k < quenches.size(); ++k) {
    const Quench& q = quenches[k];
    if (!q.pos.empty()) {
      int s = known(q.pos);
      if (s < 0) {
        s = static_cast<int>(structures->size());
        structures->push_back(q.pos);
        c->first_seen.emplace_back(r, static_cast<int>(k));
      }
      if (s != current) add_pair(current, s);
      current = s;
    }
    states.push_back(current);
  }
  c->state.push_back(std::move(states));
}

IsCatalogue identify_structures(const Box& box, const std::vector<std::vector<Quench>>& replicas, double dedup_distance,
                                std::vector<std::vector<Vec3>>* structures) {
  IsCatalogue c;
  for (const auto& q : replicas) add_replica(box, q, dedup_distance, &c, structures);
  return c;
}

}  // namespace tlsmap
