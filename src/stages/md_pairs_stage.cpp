// search.method = "md-pairs" (see include/tlsmap/stages/md_pairs_stage.hpp).
#include "tlsmap/stages/md_pairs_stage.hpp"

#include "tlsmap/core/bytes.hpp"
#include "tlsmap/core/error.hpp"
#include "tlsmap/core/progress.hpp"
#include "tlsmap/couplings/active_coulomb.hpp"
#include "tlsmap/io/h5md.hpp"
#include "tlsmap/io/input.hpp"
#include "tlsmap/io/units.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/parallel/gather.hpp"
#include "tlsmap/search/inherent_structures.hpp"
#include "tlsmap/search/tunnelling.hpp"
#include "tlsmap/stages/active_charges.hpp"
#include "tlsmap/stages/fingerprint.hpp"
#include "tlsmap/stages/pairs_stage.hpp"
#include "tlsmap/stages/search_stage.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>

namespace tlsmap {

namespace {

struct MdPairsSettings {
  std::string output, model;
  ReplicaParams replica;
  int replicas = 1;
  std::uint64_t seed = 0;

  static MdPairsSettings from_input(const Input& in);
};

MdPairsSettings MdPairsSettings::from_input(const Input& in) {
  MdPairsSettings s;
  s.output = output_path(in);
  s.model = in.get_string("system.model");
  if (!in.has("search.md_temperature"))
    in.fail("search.md_temperature",
            "is required by search.method = \"md-pairs\" (the MD temperature, e.g. 0.5-0.8 T_f)");
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
    in.fail("md.thermostat",
            "md-pairs needs the Langevin thermostat with md.friction > 0 (the MD is at md_temperature)");
  p.f_tol = in.get_double("minimize.f_tol");
  p.dedup_distance = in.get_double("search.dedup_distance");
  p.skin = in.get_double("system.skin");
  s.replicas = static_cast<int>(in.get_int("search.replicas"));
  s.seed = static_cast<std::uint64_t>(in.get_int("run.seed"));
  charges_act(in);  // refuses a charge.mode that does not fit the model
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

// Collective: replicas first .. replicas − 1, in rounds of one replica per group (replica first + k
// of a round on group k), every round's records on every rank, then after_round(records of the
// round, in replica order). Which group runs a replica does not change its record.
void run_replicas(const MdPairsSettings& s, int first, const Box& box, const GlobalBeads& glass, const Model& model,
                  MPI_Comm comm, const std::function<void(std::vector<std::vector<Quench>>&)>& after_round) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const int n_groups = std::max(1, std::min(s.replicas - first, size));
  auto group_of = [&](int r) { return static_cast<int>(static_cast<long>(r) * n_groups / size); };
  MPI_Comm group;
  MPI_Comm_split(comm, group_of(rank), rank, &group);
  Progress progress(group, "search");  // each group's first rank reports its replica
  for (int start = first; start < s.replicas; start += n_groups) {
    const int mine = start + group_of(rank);
    std::vector<char> bytes;
    std::string error;
    if (mine < s.replicas) {
      try {
        ReplicaParams p = s.replica;
        p.md.seed = replica_seed(s.seed, mine);
        const long n_quench = p.md_steps / p.quench_every;
        progress.begin("replica " + std::to_string(mine));
        bytes = serialize(run_replica(box, glass, model, p, group, [&](const Quench& q) {
          progress.report(q.step / p.quench_every, n_quench,
                          "quenches of replica " + std::to_string(mine) + ": E_IS = " + std::to_string(q.energy) +
                              (q.converged ? "" : " (not converged: ignored)") +
                              (q.pos.empty() ? "" : ", new structure"));
        }));
      } catch (const Error& e) {  // thrown alike on every rank of the group
        error = e.what();
      }
    }
    agree(comm, error.empty(), error);
    std::vector<std::vector<Quench>> round;
    for (int r = start; r < std::min(s.replicas, start + n_groups); ++r) {
      int root = 0;
      while (group_of(root) != r - start) ++root;
      std::vector<char> b = rank == root ? bytes : std::vector<char>{};
      std::uint64_t n = b.size();
      MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm);
      b.resize(n);
      MPI_Bcast(b.data(), static_cast<int>(n), MPI_CHAR, root, comm);
      round.push_back(deserialize(b));
    }
    after_round(round);
  }
  MPI_Comm_free(&group);
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

// What determines the quench record (not the replica count: more replicas resume a record; not the
// analysis settings: the analysis is redone from the record on every run).
std::string sampling_fingerprint(const MdPairsSettings& s, const Box& box, const GlobalBeads& g,
                                 const std::optional<CoulombParams>& coulomb) {
  Fingerprint f;
  f.add_string("md-pairs");
  for (const Vec3& x : g.pos) f.add(x[0]), f.add(x[1]), f.add(x[2]);
  f.add_vec(g.species), f.add_vec(g.charge), f.add_vec(g.diameter), f.add_vec(g.partner);
  f.add(coulomb.has_value());  // charge.mode = "active"
  if (coulomb) f.add(coulomb->accuracy), f.add(coulomb->cutoff), f.add(coulomb->epsilon), f.add(int(coulomb->solver));
  for (int d = 0; d < 3; ++d) f.add(box.lo[d]), f.add(box.len[d]);
  const ReplicaParams& p = s.replica;
  f.add(p.temperature), f.add(p.md_steps), f.add(p.quench_every), f.add(p.md.dt), f.add(p.md.friction);
  f.add(p.f_tol), f.add(p.dedup_distance), f.add(p.skin), f.add(s.seed);
  f.add_string(s.model);
  return f.hex();
}

// The sampler's state: the quench record of the replicas done, the structures and the candidates.
struct Record {
  std::vector<std::vector<Quench>> reps;  // positions not kept (the structures hold them)
  IsCatalogue cat;
  MinimaSample m;  // structures (minima) and their energies; structure 0 is the glass
};

// Collective: /search as the quench record (docs/file-format.md); complete = 0 at a checkpoint.
void write_search(Hdf5File& f, const MdPairsSettings& s, const Record& rec, const std::vector<int>& pair_row,
                  std::size_t n_rows, const std::string& fp, bool complete) {
  remove_object(f, "/search");
  const MinimaSample& m = rec.m;
  std::vector<std::int64_t> offset{0}, step, structure;
  std::vector<double> energy;
  std::vector<int> converged;
  for (std::size_t r = 0; r < rec.reps.size(); ++r) {
    for (std::size_t k = 0; k < rec.reps[r].size(); ++k) {
      step.push_back(rec.reps[r][k].step), energy.push_back(rec.reps[r][k].energy);
      converged.push_back(rec.reps[r][k].converged ? 1 : 0), structure.push_back(rec.cat.state[r][k]);
    }
    offset.push_back(static_cast<std::int64_t>(step.size()));
  }
  const std::size_t nq = step.size(), ns = m.energy.size(), np = rec.cat.pairs.size(), n = m.species.size();
  write_replicated(f, "/search/quench_offset", offset, {offset.size()});
  write_replicated(f, "/search/quench_step", step, {nq});
  write_replicated(f, "/search/quench_energy", energy, {nq});
  write_attribute(f, "/search/quench_energy", "unit", "epsilon");
  write_replicated(f, "/search/quench_converged", converged, {nq});
  write_replicated(f, "/search/quench_structure", structure, {nq});
  write_replicated(f, "/search/structure_energy", m.energy, {ns});
  write_attribute(f, "/search/structure_energy", "unit", "epsilon");
  std::vector<std::int64_t> first_r, first_k, pairs;
  for (const auto& [r, k] : rec.cat.first_seen) first_r.push_back(r), first_k.push_back(k);
  write_replicated(f, "/search/structure_replica", first_r, {ns});
  write_replicated(f, "/search/structure_quench", first_k, {ns});
  std::vector<double> pos;
  pos.reserve(3 * n * ns);
  for (const auto& x : m.minima) {
    const std::vector<double> flat = flatten(x);
    pos.insert(pos.end(), flat.begin(), flat.end());
  }
  write_replicated(f, "/search/structure_position", pos, {ns, n, 3});
  write_attribute(f, "/search/structure_position", "unit", "sigma");
  for (const auto& [a, b] : rec.cat.pairs) pairs.push_back(a), pairs.push_back(b);
  write_replicated(f, "/search/candidate_structures", pairs, {np, 2});
  std::vector<std::int64_t> prow(np, -1);
  for (std::size_t k = 0; k < pair_row.size(); ++k) prow[k] = pair_row[k];
  write_replicated(f, "/search/candidate_row", prow, {np});
  const ReplicaParams& p = s.replica;
  write_attribute(f, "/search", "method", "md-pairs");
  write_attribute(f, "/search", "fingerprint", fp);  // never a domain search's: that one starts over
  write_attribute(f, "/search", "complete", complete ? 1.0 : 0.0);
  write_attribute(f, "/search", "replicas_done", static_cast<double>(rec.reps.size()));
  write_attribute(f, "/search", "md_temperature", p.temperature);
  write_attribute(f, "/search", "md_steps", static_cast<double>(p.md_steps));
  write_attribute(f, "/search", "quench_every", static_cast<double>(p.quench_every));
  write_attribute(f, "/search", "replicas", static_cast<double>(s.replicas));
  write_attribute(f, "/search", "dt", p.md.dt);
  write_attribute(f, "/search", "friction", p.md.friction);
  write_attribute(f, "/search", "seed", static_cast<double>(s.seed));
  write_attribute(f, "/search", "f_tol", p.f_tol);
  write_attribute(f, "/search", "dedup_distance", p.dedup_distance);
  write_attribute(f, "/search", "e_sample", m.energy[0]);
  write_attribute(f, "/search", "n_beads", static_cast<double>(n));
  write_attribute(f, "/search", "n_structures", static_cast<double>(ns));
  write_attribute(f, "/search", "n_candidates", static_cast<double>(np));
  write_attribute(f, "/search", "n_pairs", static_cast<double>(n_rows));
}

void write_tls_rows(Hdf5File& f, const Input& in, const std::vector<TlsRow>& rows) {
  TlsAttributes ta;
  const PhysicalUnits units = PhysicalUnits::from_input(in);
  ta.hbar_reduced = hbar_reduced(units);
  ta.max_splitting = max_splitting_from(in);
  ta.epsilon_kelvin = units.epsilon_kelvin;
  write_tls(f, rows, ta);
  const std::size_t n = rows.size();
  write_replicated(f, "/tls/mu_eq13", std::vector<double>(3 * n, std::numeric_limits<double>::quiet_NaN()), {n, 3});
  write_attribute(f, "/tls/mu_eq13", "unit", "q* sigma");
  write_attribute(f, "/tls", "mu_eq13", "NaN until the dipole stage fills it");
}

// Collective: the record of a previous run of the same sampling (fingerprint), or an empty one
// (structure 0 = the glass) with *why saying why not. Every rank reads the same data and reaches
// the same verdict; a record that does not hang together is an Error naming the file.
Record read_record(const std::string& path, const std::string& fp, const Record& fresh, MPI_Comm comm,
                   std::string* why) {
  Hdf5File f(path, Hdf5File::Mode::read_only, comm);
  if (!has_object(f, "/search")) return fresh;
  if (read_string_attribute(f, "/search", "fingerprint") != fp) {
    *why = "the /search in the file is not an md-pairs record of this glass and these [search] and [md] settings";
    return fresh;
  }
  Record rec = fresh;
  auto fail = [&](const std::string& what) { throw Error(path + ": /search (md-pairs record) " + what); };
  const auto off = read_dataset<std::int64_t>(f, "/search/quench_offset");
  const auto step = read_dataset<std::int64_t>(f, "/search/quench_step");
  const auto energy = read_dataset<double>(f, "/search/quench_energy");
  const auto conv = read_dataset<int>(f, "/search/quench_converged");
  const auto st = read_dataset<std::int64_t>(f, "/search/quench_structure");
  const auto se = read_dataset<double>(f, "/search/structure_energy");
  const auto fr = read_dataset<std::int64_t>(f, "/search/structure_replica");
  const auto fk = read_dataset<std::int64_t>(f, "/search/structure_quench");
  const auto pos = read_dataset<double>(f, "/search/structure_position");
  const auto pairs = read_dataset<std::int64_t>(f, "/search/candidate_structures");
  const std::size_t n = fresh.m.species.size(), ns = se.size(), nq = step.size();
  if (off.empty() || off[0] != 0 || static_cast<std::size_t>(off.back()) != nq ||
      !std::is_sorted(off.begin(), off.end()))
    fail("has quench_offset not running from 0 to the number of quenches");
  if (energy.size() != nq || conv.size() != nq || st.size() != nq) fail("has quench datasets of different lengths");
  if (ns < 1 || fr.size() != ns || fk.size() != ns || pos.size() != 3 * n * ns || pairs.size() % 2)
    fail("has structure datasets of inconsistent shapes");
  for (std::int64_t x : st)
    if (x < 0 || static_cast<std::size_t>(x) >= ns) fail("quench_structure names a structure it does not hold");
  for (std::int64_t x : pairs)
    if (x < 0 || static_cast<std::size_t>(x) >= ns) fail("candidate_structures names a structure it does not hold");
  const std::size_t replicas = off.size() - 1;
  for (std::size_t r = 0; r < replicas; ++r) {
    std::vector<Quench>& qs = rec.reps.emplace_back();
    std::vector<int>& states = rec.cat.state.emplace_back();
    for (std::int64_t k = off[r]; k < off[r + 1]; ++k) {
      Quench q;
      q.step = step[k], q.energy = energy[k], q.converged = conv[k] != 0;
      qs.push_back(q);
      states.push_back(static_cast<int>(st[k]));
    }
  }
  rec.cat.first_seen.clear();
  for (std::size_t k = 0; k < ns; ++k)
    rec.cat.first_seen.emplace_back(static_cast<int>(fr[k]), static_cast<int>(fk[k]));
  for (std::size_t k = 0; k < pairs.size(); k += 2)
    rec.cat.pairs.emplace_back(static_cast<int>(pairs[k]), static_cast<int>(pairs[k + 1]));
  rec.m.minima.assign(ns, std::vector<Vec3>(n));
  for (std::size_t k = 0; k < ns; ++k)
    for (std::size_t i = 0; i < n; ++i) rec.m.minima[k][i] = row3(pos, k * n + i);
  rec.m.energy = se;
  return rec;
}

}  // namespace

void check_md_pairs_input(const Input& in) {
  (void)MdPairsSettings::from_input(in);
  check_pairs_input(in, /*with_list=*/false);
}

void run_md_pairs(const Input& in, MPI_Comm comm) {
  MdPairsSettings s = MdPairsSettings::from_input(in);
  Progress progress(comm, "search");
  Configuration c = read_configuration(s.output, comm);
  const GlobalBeads g = gather_by_id(c.beads, comm);
  const Model model = model_for_sample(s.model, g.diameter, s.output);
  check_bonds_match_model(model, input_model_setting(s.model), !g.partner.empty(), s.output);
  const std::optional<CoulombParams> coulomb = active_coulomb_from_input(in, c.box, s.replica.skin);
  if (coulomb) {
    s.replica.coulomb_cutoff = coulomb->cutoff;
    s.replica.coulomb_term = [params = *coulomb, skin = s.replica.skin](const System& sys) {
      return std::make_shared<ActiveCoulomb>(sys, params, skin);
    };
  }
  double e_sample = 0.0;
  {
    const auto sys = sample_system(comm, c.box, model, s.replica.skin, {0, 0, 0}, std::move(c.beads), coulomb);
    sys->compute_forces();
    e_sample = sys->potential_energy();
  }
  const ReplicaParams& p = s.replica;
  const std::string fp = sampling_fingerprint(s, c.box, g, coulomb);

  // The record so far: a previous run's replicas (the same sampling), else the glass alone.
  Record fresh;
  fresh.m = MinimaSample{c.box, g.species, g.charge, g.diameter, {g.pos}, {e_sample}, g.partner};
  std::string why;
  Record rec = read_record(s.output, fp, fresh, comm, &why);
  if (!why.empty()) progress.say(why + ": starting over (the old /search and /tls will be replaced)");
  if (static_cast<int>(rec.reps.size()) > s.replicas) {
    progress.say("the file holds " + std::to_string(rec.reps.size()) +
                 " replicas, more than search.replicas = " + std::to_string(s.replicas) + ": starting over");
    rec = fresh;
  }
  const int first = static_cast<int>(rec.reps.size());
  progress.say("md-pairs: " + std::to_string(g.size()) + " beads, E_glass = " + std::to_string(e_sample) + "; " +
               std::to_string(s.replicas) + " replicas of " + std::to_string(p.md_steps) + " MD steps at T = " +
               std::to_string(p.temperature) + ", a quench every " + std::to_string(p.quench_every) + " steps; " +
               std::to_string(s.replicas - first) + " to run now, " + std::to_string(first) + " already in the file");

  // 1. The quenches, a checkpoint after every round; 2. structures and candidates as they come.
  run_replicas(s, first, c.box, g, model, comm, [&](std::vector<std::vector<Quench>>& round) {
    for (auto& qs : round) {
      add_replica(c.box, qs, p.dedup_distance, &rec.cat, &rec.m.minima);
      for (std::size_t st = rec.m.energy.size(); st < rec.m.minima.size(); ++st)
        rec.m.energy.push_back(qs[rec.cat.first_seen[st].second].energy);
      for (Quench& q : qs) q.pos = {};  // the structures hold them
      rec.reps.push_back(std::move(qs));
    }
    Hdf5File f(s.output, Hdf5File::Mode::update, comm);
    write_search(f, s, rec, {}, 0, fp, false);
    write_tls_rows(f, in, {});
    f.commit();
    progress.say("checkpoint: " + std::to_string(rec.reps.size()) + " of " + std::to_string(s.replicas) +
                 " replicas in " + s.output);
  });
  long n_quench = 0, n_failed = 0;
  for (const auto& qs : rec.reps)
    for (const Quench& q : qs) ++n_quench, n_failed += q.converged ? 0 : 1;
  progress.say(std::to_string(n_quench) + " quenches (" + std::to_string(n_failed) +
               " not converged, ignored): " + std::to_string(rec.m.minima.size() - 1) +
               " structures besides the glass, " + std::to_string(rec.cat.pairs.size()) + " candidate pairs");

  // 3. The analysis of `tlsmap pairs` (not checkpointed: a rerun redoes it from the record).
  const auto analysed = analyse_minima_pairs(in, rec.m, rec.cat.pairs, "md-pairs candidate", progress, comm);
  std::vector<TlsRow> rows;
  std::vector<int> pair_row(rec.cat.pairs.size(), -1);
  std::map<std::string, int> per_class;
  for (std::size_t k = 0; k < analysed.size(); ++k) {
    if (!analysed[k].analysed) {
      progress.say("candidate " + std::to_string(k) + " skipped: " + analysed[k].why);
      continue;
    }
    pair_row[k] = static_cast<int>(rows.size());
    rows.push_back(md_row(analysed[k], rec.m, rec.cat.pairs[k].first, rec.cat.pairs[k].second));
    ++per_class[rows.back().cls];
  }
  {
    Hdf5File f(s.output, Hdf5File::Mode::update, comm);
    write_search(f, s, rec, pair_row, rows.size(), fp, true);
    write_tls_rows(f, in, rows);
    f.commit();
  }
  std::string classes;
  for (const auto& [name, n] : per_class) classes += (classes.empty() ? "" : ", ") + name + " " + std::to_string(n);
  progress.say("wrote /tls (" + std::to_string(rows.size()) + " rows" + (classes.empty() ? "" : ": " + classes) +
               ") and /search to " + s.output + " in " + std::to_string(progress.elapsed()) + " s");
}

}  // namespace tlsmap
