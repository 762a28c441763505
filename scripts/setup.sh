#!/usr/bin/env bash
# Install the Debian 12 packages tlsmap needs, only those missing. Needs root (or sudo) when
# something is missing; a second run with everything present takes a second or two.
set -euo pipefail
PACKAGES=(
  g++ make cmake pkg-config                       # toolchain
  openmpi-bin libopenmpi-dev                      # MPI
  petsc-dev libhdf5-openmpi-dev libeigen3-dev     # PETSc, parallel HDF5, Eigen
  libgtest-dev librandom123-dev libtoml11-dev     # tests, counter-based RNG, input parser
  libfmt-dev nlohmann-json3-dev                   # message formatting, JSON output
  libfftw3-dev                                    # FFTs: far-field elastic kernel; P3M via PETSc's MATFFTW
  python3-h5py python3-numpy python3-matplotlib python3-scipy  # postprocess/
  python3-tomlkit                                 # jobs/: TOML edits keeping comments
  lammps                                          # peer code for cross-checks and benchmarks
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
