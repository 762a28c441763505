#include "tlsmap/energy_cli.hpp"

#include "tlsmap/config_file.hpp"
#include "tlsmap/error.hpp"
#include "tlsmap/h5md.hpp"
#include "tlsmap/lammps_data.hpp"
#include "tlsmap/system.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace tlsmap {
namespace {

constexpr const char* kUsage = "usage: tlsmap energy FILE [--json] [--forces OUT] [--lammps OUT] [--model NAME]";
constexpr const char* kCoulombNote = "charges are not yet included: coulomb is 0";

int comm_rank(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}

// Collective: "id fx fy fz" lines sorted by id, written by rank 0 to "<path>.tmp", then renamed.
void write_forces(const std::string& path, const Beads& b, MPI_Comm comm) {
  std::vector<double> out;
  out.reserve(4 * static_cast<std::size_t>(b.n_owned));
  for (int i = 0; i < b.n_owned; ++i)
    out.insert(out.end(), {static_cast<double>(b.id[i]), b.force[i][0], b.force[i][1], b.force[i][2]});
  int size = 0, n_out = static_cast<int>(out.size());
  MPI_Comm_size(comm, &size);
  std::vector<int> counts(size), displs(size + 1, 0);
  MPI_Gather(&n_out, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm);
  for (int r = 0; r < size; ++r) displs[r + 1] = displs[r] + counts[r];
  std::vector<double> all(comm_rank(comm) == 0 ? displs[size] : 0);
  MPI_Gatherv(out.data(), n_out, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE, 0, comm);
  std::string error;
  if (comm_rank(comm) == 0) {
    std::vector<std::size_t> order(all.size() / 4);
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](auto a, auto c) { return all[4 * a] < all[4 * c]; });
    const std::string tmp = path + ".tmp";
    if (std::FILE* f = std::fopen(tmp.c_str(), "w")) {
      for (std::size_t k : order)
        std::fprintf(f, "%lld %.17g %.17g %.17g\n", static_cast<long long>(all[4 * k]), all[4 * k + 1],
                     all[4 * k + 2], all[4 * k + 3]);
      if (std::fclose(f) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        error = path + ": cannot write forces";
      }
    } else {
      error = path + ": cannot create " + tmp;
    }
  }
  root_verdict(comm, error);
}

}  // namespace

EnergyReport run_energy(const std::vector<std::string>& args, MPI_Comm comm) {
  EnergyReport r;
  r.model = "kob-andersen";
  bool json = false;
  std::string forces_out, lammps_out;
  for (std::size_t k = 0; k < args.size(); ++k) {
    const std::string& a = args[k];
    auto value = [&]() -> const std::string& {
      if (k + 1 >= args.size()) throw Error(a + " needs a value; " + kUsage);
      return args[++k];
    };
    if (a == "--json") json = true;
    else if (a == "--forces") forces_out = value();
    else if (a == "--lammps") lammps_out = value();
    else if (a == "--model") r.model = value();
    else if (a.size() > 1 && a[0] == '-') throw Error("unknown option '" + a + "'; " + kUsage);
    else if (r.file.empty()) r.file = a;
    else throw Error("more than one configuration file ('" + r.file + "', '" + a + "'); " + kUsage);
  }
  if (r.file.empty()) throw Error(std::string("no configuration file; ") + kUsage);

  LJTable table = make_model(r.model);
  LoadedConfiguration loaded = load_configuration(r.file, comm);
  r.format = loaded.format;
  const Box box = loaded.box;
  Beads beads = std::move(loaded.beads);
  for (auto& v : beads.vel) v.setZero();  // the configuration's energy and virial pressure only
  System sys(comm, box, std::move(table), 0.3);
  sys.set_beads(std::move(beads));
  sys.compute_forces();
  const Thermo th = sys.thermo();
  r.n_beads = sys.n_global();
  r.lj = th.potential;
  r.total = r.lj + r.coulomb;
  r.pressure = th.pressure;
  r.max_force = sys.max_force();

  if (!forces_out.empty()) write_forces(forces_out, sys.beads(), comm);
  if (!lammps_out.empty()) {
    LammpsWriteOptions o;
    o.n_types = sys.table().n_species();
    o.title = "tlsmap energy: " + r.file;
    write_lammps_data(lammps_out, box, sys.beads(), comm, o);
  }
  if (comm_rank(comm) == 0) {
    const double n = static_cast<double>(r.n_beads);
    if (json) {
      std::string file;  // JSON string escaping of the path
      for (char ch : r.file) file += (ch == '"' || ch == '\\') ? std::string("\\") + ch : std::string(1, ch);
      std::printf("{\"file\": \"%s\", \"format\": \"%s\", \"model\": \"%s\", \"n_beads\": %lld, \"lj\": %.17g, "
                  "\"coulomb\": %.17g, \"total\": %.17g, \"per_bead\": %.17g, \"pressure\": %.17g, "
                  "\"max_force\": %.17g, \"note\": \"%s\"}\n",
                  file.c_str(), r.format.c_str(), r.model.c_str(), r.n_beads, r.lj, r.coulomb, r.total, r.total / n,
                  r.pressure, r.max_force, kCoulombNote);
    } else {
      std::printf("configuration  %s (%s), %lld beads, box %.10g x %.10g x %.10g\n", r.file.c_str(),
                  r.format.c_str(), r.n_beads, box.len[0], box.len[1], box.len[2]);
      std::printf("model          %s (Lennard-Jones, truncated and shifted)\n", r.model.c_str());
      std::printf("lj             %.17g\n", r.lj);
      std::printf("coulomb        %.17g  (%s)\n", r.coulomb, kCoulombNote);
      std::printf("total          %.17g\n", r.total);
      std::printf("per bead       %.17g\n", r.total / n);
      std::printf("pressure       %.17g  (virial only)\n", r.pressure);
      std::printf("max |F_i|      %.17g\n", r.max_force);
    }
    std::fflush(stdout);
  }
  return r;
}

}  // namespace tlsmap
