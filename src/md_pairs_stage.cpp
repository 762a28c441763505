// search.method = "md-pairs" (see include/tlsmap/md_pairs_stage.hpp).
#include "tlsmap/md_pairs_stage.hpp"

#include "tlsmap/bytes.hpp"
#include "tlsmap/error.hpp"
#include "tlsmap/gather.hpp"
#include "tlsmap/h5md.hpp"
#include "tlsmap/inherent_structures.hpp"
#include "tlsmap/input.hpp"
#include "tlsmap/pairs_stage.hpp"
#include "tlsmap/progress.hpp"
#include "tlsmap/search_stage.hpp"
#include "tlsmap/system.hpp"
#include "tlsmap/tunnelling.hpp"
#include "tlsmap/units.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

namespace tlsmap {

namespace {

struct Settings {
  std::string output, model;
  ReplicaParams replica;
  int replicas = 1;
  std::uint64_t seed = 0;
};

Settings settings_from(const Input& in) {
  Settings s;
  s.output = in.get_string("run.output");
  s.model = in.get_string("system.model");
  if (!in.has("search.md_temperature"))
    in.fail("search.md_temperature", "is required by search.method = \"md-pairs\" (the MD temperature, e.g. 0.5-0.8 T_f)");
  ReplicaParams& p = s.replica;
  p.temperature = in.get_double("search.md_temperature");
  p.md_steps = in.get_int("search.md_steps");
  p.quench_every = in.get_int("search.quench_every");
  if (p.quench_every > p.md_steps)
    in.fail("search.quench_every", "= " + std::to_string(p.quench_every) + " is more than search.md_steps = " +
                                       std::to_string(p.md_steps) + ": no quench would be made");
  p.md.dt = in.get_double("md.dt");
  p.md.langevin = in.get_string("md.thermostat") == "langevin";
  p.md.friction = in.get_double("md.friction");
  if (!p.md.langevin || p.md.friction <= 0.0)
    in.fail("md.thermostat", "md-pairs needs the Langevin thermostat with md.friction > 0 (the MD is at md_temperature)");
  p.f_tol = in.get_double("minimize.f_tol");
  p.dedup_distance = in.get_double("search.dedup_distance");
  p.skin = in.get_double("system.skin");
  s.replicas = static_cast<int>(in.get_int("search.replicas"));
  s.seed = static_cast<std::uint64_t>(in.get_int("run.seed"));
  return s;
}

std::vector<char> serialize(const std::vector<Quench>& qs) {
  ByteWriter w;
  w.put<std::uint64_t>(qs.size());
  for (const Quench& q : qs) w.put(q.step), w.put(q.energy), w.put(static_cast<int>(q.converged)), w.put(q.pos);
  return w.take();
}

std::vector<Quench> deserialize(const std::vector<char>& b) {
  ByteReader r(b.data(), b.size());
  std::uint64_t n = 0;
  r.get(n);
  std::vector<Quench> qs(n);
  for (Quench& q : qs) {
    int ok = 0;
    r.get(q.step), r.get(q.energy), r.get(ok), r.get(q.pos);
    q.converged = ok != 0;
  }
  return qs;
}

// Collective: every replica's quenches on every rank. Replica r runs on group r % n_groups.
std::vector<std::vector<Quench>> run_replicas(const Settings& s, const Box& box, const GlobalBeads& glass,
                                              const Model& model, MPI_Comm comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const int n_groups = std::min(s.replicas, size);
  auto group_of = [&](int r) { return static_cast<int>(static_cast<long>(r) * n_groups / size); };
  MPI_Comm group;
  MPI_Comm_split(comm, group_of(rank), rank, &group);
  int group_rank = 0;
  MPI_Comm_rank(group, &group_rank);
  Progress progress(group, "search");  // each group's first rank reports its replicas
  std::vector<std::vector<char>> mine(s.replicas);
  std::string error;
  try {
    for (int r = group_of(rank); r < s.replicas; r += n_groups) {
      ReplicaParams p = s.replica;
      p.md.seed = replica_seed(s.seed, r);
      const long n_quench = p.md_steps / p.quench_every;
      progress.begin("replica " + std::to_string(r));
      const auto qs = run_replica(box, glass, model, p, group, [&](const Quench& q) {
        progress.report(q.step / p.quench_every, n_quench,
                        "quenches of replica " + std::to_string(r) + ": E_IS = " + std::to_string(q.energy) +
                            (q.converged ? "" : " (not converged: ignored)") + (q.pos.empty() ? "" : ", new structure"));
      });
      mine[r] = serialize(qs);
    }
  } catch (const Error& e) {  // thrown alike on every rank of the group
    error = e.what();
  }
  MPI_Comm_free(&group);
  agree(comm, error.empty(), error);
  // Replica r's record from its group's first rank to every rank.
  std::vector<std::vector<Quench>> out(s.replicas);
  for (int r = 0; r < s.replicas; ++r) {
    int root = 0;
    while (group_of(root) != r % n_groups) ++root;
    std::uint64_t n = mine[r].size();
    MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm);
    mine[r].resize(n);
    MPI_Bcast(mine[r].data(), static_cast<int>(n), MPI_CHAR, root, comm);
    out[r] = deserialize(mine[r]);
  }
  (void)group_rank;
  return out;
}

// The catalogue row of an analysed candidate (md_pairs_stage.hpp: every bead listed).
TlsRow md_row(const AnalysedPair& p, const MinimaSample& m, int a, int b) {
  TlsRow r = p.row;
  r.method = "md-pairs";
  r.involves_occupied = a == 0 ? 1 : 0;
  r.mobile_id.clear(), r.position_a.clear(), r.position_b.clear();
  r.mu_direct = Vec3::Zero();
  for (std::size_t i = 0; i < m.species.size(); ++i) {
    r.mobile_id.push_back(static_cast<std::int64_t>(i) + 1);
    r.position_a.push_back(m.minima[a][i]);
    r.position_b.push_back(m.minima[b][i]);
    r.mu_direct += m.charge[i] * m.box.minimum_image(Vec3(m.minima[b][i] - m.minima[a][i]));
  }
  return r;
}

void write_output(const Input& in, const Settings& s, const MinimaSample& m, const std::vector<std::vector<Quench>>& reps,
                  const IsCatalogue& cat, const std::vector<int>& pair_row, const std::vector<TlsRow>& rows,
                  const std::vector<double>& glass_energy, MPI_Comm comm) {
  H5File f(s.output, H5File::Mode::update, comm);
  remove_object(f, "/search");
  TlsAttributes ta;
  const PhysicalUnits units = PhysicalUnits::from_input(in);
  ta.hbar_reduced = hbar_reduced(units);
  ta.max_splitting = max_splitting_from(in);
  ta.epsilon_kelvin = units.epsilon_kelvin;
  write_tls(f, rows, ta);
  const hsize_t n = rows.size();
  write_replicated(f, "/tls/mu_eq13", std::vector<double>(3 * n, std::numeric_limits<double>::quiet_NaN()), {n, 3});
  write_attribute(f, "/tls/mu_eq13", "unit", "q* sigma");
  write_attribute(f, "/tls", "mu_eq13", "NaN until the dipole stage fills it");

  std::vector<std::int64_t> offset{0}, step, structure;
  std::vector<double> energy;
  std::vector<int> converged;
  for (std::size_t r = 0; r < reps.size(); ++r) {
    for (std::size_t k = 0; k < reps[r].size(); ++k) {
      step.push_back(reps[r][k].step), energy.push_back(reps[r][k].energy);
      converged.push_back(reps[r][k].converged ? 1 : 0), structure.push_back(cat.state[r][k]);
    }
    offset.push_back(static_cast<std::int64_t>(step.size()));
  }
  const hsize_t nq = step.size(), ns = m.energy.size(), np = cat.pairs.size();
  write_replicated(f, "/search/quench_offset", offset, {offset.size()});
  write_replicated(f, "/search/quench_step", step, {nq});
  write_replicated(f, "/search/quench_energy", energy, {nq});
  write_attribute(f, "/search/quench_energy", "unit", "epsilon");
  write_replicated(f, "/search/quench_converged", converged, {nq});
  write_replicated(f, "/search/quench_structure", structure, {nq});
  write_replicated(f, "/search/structure_energy", m.energy, {ns});
  write_attribute(f, "/search/structure_energy", "unit", "epsilon");
  std::vector<std::int64_t> first, pa, pb, prow;
  for (const auto& [r, k] : cat.first_seen) first.push_back(r);
  write_replicated(f, "/search/structure_replica", first, {ns});
  for (std::size_t k = 0; k < cat.pairs.size(); ++k)
    pa.push_back(cat.pairs[k].first), pb.push_back(cat.pairs[k].second), prow.push_back(pair_row[k]);
  std::vector<std::int64_t> pairs_flat;
  for (std::size_t k = 0; k < np; ++k) pairs_flat.push_back(pa[k]), pairs_flat.push_back(pb[k]);
  write_replicated(f, "/search/candidate_structures", pairs_flat, {np, 2});
  write_replicated(f, "/search/candidate_row", prow, {np});
  const ReplicaParams& p = s.replica;
  write_attribute(f, "/search", "method", "md-pairs");
  write_attribute(f, "/search", "fingerprint", "md-pairs");  // never a domain search's: it starts over
  write_attribute(f, "/search", "md_temperature", p.temperature);
  write_attribute(f, "/search", "md_steps", static_cast<double>(p.md_steps));
  write_attribute(f, "/search", "quench_every", static_cast<double>(p.quench_every));
  write_attribute(f, "/search", "replicas", static_cast<double>(s.replicas));
  write_attribute(f, "/search", "dt", p.md.dt);
  write_attribute(f, "/search", "friction", p.md.friction);
  write_attribute(f, "/search", "seed", static_cast<double>(s.seed));
  write_attribute(f, "/search", "f_tol", p.f_tol);
  write_attribute(f, "/search", "dedup_distance", p.dedup_distance);
  write_attribute(f, "/search", "e_sample", glass_energy[0]);
  write_attribute(f, "/search", "n_beads", static_cast<double>(m.species.size()));
  write_attribute(f, "/search", "n_structures", static_cast<double>(ns));
  write_attribute(f, "/search", "n_candidates", static_cast<double>(np));
  write_attribute(f, "/search", "n_pairs", static_cast<double>(n));
  f.commit();
}

}  // namespace

void run_md_pairs(const Input& in, MPI_Comm comm) {
  const Settings s = settings_from(in);
  Progress progress(comm, "search");
  Configuration c = read_configuration(s.output, comm);
  const GlobalBeads g = gather_by_id(c.beads, comm);
  const Model model = model_for_sample(s.model, g.diameter, s.output);
  double e_sample = 0.0;
  {
    System sys(comm, c.box, model, s.replica.skin);
    sys.set_beads(std::move(c.beads));
    sys.compute_forces();
    e_sample = sys.potential_energy();
  }
  const ReplicaParams& p = s.replica;
  progress.say("md-pairs: " + std::to_string(g.size()) + " beads, E_glass = " + std::to_string(e_sample) + "; " +
               std::to_string(s.replicas) + " replicas of " + std::to_string(p.md_steps) + " MD steps at T = " +
               std::to_string(p.temperature) + ", a quench every " + std::to_string(p.quench_every) + " steps");

  // 1. The quenches; 2. distinct structures and candidate pairs.
  const auto reps = run_replicas(s, c.box, g, model, comm);
  MinimaSample m{c.box, g.species, g.charge, g.diameter, {g.pos}, {e_sample}};
  const IsCatalogue cat = identify_structures(c.box, reps, p.dedup_distance, &m.minima);
  for (std::size_t st = 1; st < cat.first_seen.size(); ++st)
    m.energy.push_back(reps[cat.first_seen[st].first][cat.first_seen[st].second].energy);
  long n_quench = 0, n_failed = 0;
  for (const auto& qs : reps)
    for (const Quench& q : qs) ++n_quench, n_failed += q.converged ? 0 : 1;
  progress.say(std::to_string(n_quench) + " quenches (" + std::to_string(n_failed) + " not converged, ignored): " +
               std::to_string(m.minima.size() - 1) + " structures besides the glass, " + std::to_string(cat.pairs.size()) +
               " candidate pairs");

  // 3. The analysis of `tlsmap pairs`.
  const auto analysed = analyse_minima_pairs(in, m, cat.pairs, "md-pairs candidate", progress, comm);
  std::vector<TlsRow> rows;
  std::vector<int> pair_row(cat.pairs.size(), -1);
  std::map<std::string, int> per_class;
  for (std::size_t k = 0; k < analysed.size(); ++k) {
    if (!analysed[k].analysed) {
      progress.say("candidate " + std::to_string(k) + " skipped: " + analysed[k].why);
      continue;
    }
    pair_row[k] = static_cast<int>(rows.size());
    rows.push_back(md_row(analysed[k], m, cat.pairs[k].first, cat.pairs[k].second));
    ++per_class[rows.back().cls];
  }
  write_output(in, s, m, reps, cat, pair_row, rows, m.energy, comm);
  std::string classes;
  for (const auto& [name, n] : per_class) classes += (classes.empty() ? "" : ", ") + name + " " + std::to_string(n);
  progress.say("wrote /tls (" + std::to_string(rows.size()) + " rows" + (classes.empty() ? "" : ": " + classes) +
               ") and /search to " + s.output + " in " + std::to_string(progress.elapsed()) + " s");
}

}  // namespace tlsmap
