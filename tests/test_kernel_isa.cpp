// The instruction-set variants of the hot loops (core/kernel_isa.hpp) must give bitwise the same
// neighbour lists, forces, energies and virials as the generic build of the same loops: the
// variants differ only in speed. A fused multiply-add creeping into a variant (a missing
// -ffp-contract=off), a sum reassociated by the vector width, or a compaction that drops or reorders
// a neighbour makes these tests fail. Every variant this machine supports is compared with the
// generic one; the generic one itself is checked against the all-pairs reference elsewhere
// (test_engine, test_polydisperse).
#include "test_support.hpp"
#include "tlsmap/core/error.hpp"
#include "tlsmap/core/kernel_isa.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/parallel/gather.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace tlsmap;
using namespace tlsmap::testing;

namespace {

// Everything the variants compute, per owned bead in local order (the same at every variant: the
// beads do not move between them).
struct Snapshot {
  std::vector<int> rows;       // per owned bead: segment lengths, then its neighbours' ids
  std::vector<double> values;  // force (3), energy, virial (6)
};

Snapshot snapshot(System& sys, KernelIsa isa) {
  set_kernel_isa(isa);
  sys.rebuild();
  sys.compute_forces();
  const Beads& b = sys.beads();
  const NeighborList& list = sys.neighbor_list();
  const Thermo th = sys.thermo();
  Snapshot s;
  for (int i = 0; i < b.n_owned; ++i) {
    for (int t = 0; t < list.n_species(); ++t) {
      s.rows.push_back(static_cast<int>(list.segment_end(i, t) - list.segment_begin(i, t)));
      for (const int* j = list.segment_begin(i, t); j < list.segment_end(i, t); ++j)
        s.rows.push_back(static_cast<int>(b.id[*j]));
    }
    for (int d = 0; d < 3; ++d) s.values.push_back(b.force[i][d]);
  }
  s.values.push_back(th.potential);
  for (int q = 0; q < 9; ++q) s.values.push_back(th.virial(q / 3, q % 3));
  return s;
}

// Bitwise: memcmp, so −0.0 vs 0.0 and NaN payloads count too.
void expect_bitwise(const Snapshot& a, const Snapshot& b, KernelIsa isa) {
  EXPECT_EQ(a.rows, b.rows) << "neighbour rows of " << to_string(isa);
  ASSERT_EQ(a.values.size(), b.values.size());
  std::size_t differ = 0;
  for (std::size_t k = 0; k < a.values.size(); ++k)
    differ += std::memcmp(&a.values[k], &b.values[k], sizeof(double)) != 0;
  EXPECT_EQ(differ, 0u) << to_string(isa) << ": " << differ << " of " << a.values.size()
                        << " forces/energies/virial components differ from the generic variant";
}

void compare_every_variant(System& sys) {
  const KernelIsa before = kernel_isa();
  const Snapshot generic = snapshot(sys, KernelIsa::generic);
  ASSERT_FALSE(generic.rows.empty() && sys.beads().n_owned > 0);
  for (KernelIsa isa : supported_kernel_isas()) {
    if (isa == KernelIsa::generic) continue;
    expect_bitwise(generic, snapshot(sys, isa), isa);
  }
  set_kernel_isa(before);
}

}  // namespace

// The variants the test covers on this machine (printed, so a log shows what was compared).
TEST(KernelIsa, GenericIsAlwaysSupportedAndFirst) {
  const auto isas = supported_kernel_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), KernelIsa::generic);
  if (world_rank() == 0) {
    std::string names;
    for (KernelIsa isa : isas) {
      names += ' ';
      names += to_string(isa);
    }
    std::printf("kernel variants on this machine:%s (in use: %s)\n", names.c_str(), to_string(kernel_isa()).c_str());
  }
}

// Kob–Andersen (two species, three cutoffs: the compaction's per-species limits), a jittered
// lattice with close contacts, so forces span many orders of magnitude.
TEST(KernelIsa, KobAndersenForcesAndListsBitwiseInEveryVariant) {
  const int n_side = 12;  // 1728 beads
  System sys(MPI_COMM_WORLD, ka_box(n_side), kob_andersen(), 0.3);
  sys.set_beads(jittered_lattice(n_side, ka_box(n_side), 0.5, 2, 11, world_rank() == 0));
  compare_every_variant(sys);
}

// Polydisperse soft spheres: the parameters per pair from two diameters (DiameterSegment).
TEST(KernelIsa, PolydisperseForcesAndListsBitwiseInEveryVariant) {
  const int n_side = 10;
  System sys(MPI_COMM_WORLD, cube(n_side), Model(PolydisperseSoftSphere{}), 0.3);
  sys.set_beads(poly_lattice(n_side, 0.4, 5, world_rank() == 0));
  compare_every_variant(sys);
}

TEST(KernelIsa, UnsupportedVariantIsRefused) {
  const auto isas = supported_kernel_isas();
  for (KernelIsa isa : {KernelIsa::x86_64_v3, KernelIsa::x86_64_v4}) {
    if (std::find(isas.begin(), isas.end(), isa) == isas.end()) {
      EXPECT_THROW(set_kernel_isa(isa), Error) << to_string(isa);
    }
  }
  EXPECT_NO_THROW(set_kernel_isa(KernelIsa::generic));
  set_kernel_isa(isas.back());
}
