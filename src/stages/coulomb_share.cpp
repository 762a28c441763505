// /material's Coulomb share of the stiffness (include/tlsmap/stages/coulomb_share.hpp).
#include "tlsmap/stages/coulomb_share.hpp"

#include <utility>
#include <vector>

namespace tlsmap {

void write_coulomb_stiffness(Hdf5File& file, const CoulombStiffness& c, const char* check_name, double check) {
  const std::pair<const char*, double> values[] = {{"coulomb_share", c.share_sound},
                                                   {"coulomb_share_bulk", c.share_bulk},
                                                   {"coulomb_share_shear", c.share_shear},
                                                   {"coulomb_share_affine", c.affine_share_sound},
                                                   {"coulomb_share_affine_bulk", c.affine_share_bulk},
                                                   {"coulomb_share_affine_shear", c.affine_share_shear},
                                                   {"bulk_modulus_coulomb", c.coulomb.bulk},
                                                   {"shear_modulus_coulomb", c.coulomb.shear},
                                                   {"bulk_modulus_pair_path", c.pair.bulk},
                                                   {"shear_modulus_pair_path", c.pair.shear},
                                                   {"coulomb_energy", c.energy_coulomb},
                                                   {"coulomb_strain", c.strain},
                                                   {check_name, check}};
  for (const auto& [name, value] : values) write_attribute(file, "/material", name, value);
  for (const auto& [name, part] : {std::pair{"/material/elastic_block_coulomb", &c.coulomb},
                                   std::pair{"/material/elastic_block_pair_path", &c.pair}}) {
    std::vector<double> block(9);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) block[3 * a + b] = part->c(a, b);
    write_replicated(file, name, block, {3, 3});
    write_attribute(file, name, "unit", "epsilon/sigma^3");
  }
}

}  // namespace tlsmap
