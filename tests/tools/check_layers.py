#!/usr/bin/env python3
"""Check that src/ and include/tlsmap/ follow the layers of docs/architecture.md.

Usage: check_layers.py ROOT     (exit 0 when clean; each violation printed as FILE:LINE: why)

Rules (docs/architecture.md, "Layers"):
  1. every source or header sits in one of the layer folders (main.cpp alone at src/);
  2. a file includes tlsmap headers of its own folder or of a lower layer only:
        core < parallel < io < {md, electrostatics} < {search, couplings} < stages < main.cpp
     folders on the same layer do not include each other;
  3. the file access modules of io (h5md, tls_io, lammps_data, config_file) are included only by
     io itself, the stages and main.cpp: physics reads io's records (catalogue, units, input,
     validate), never files;
  4. HDF5 is called (H5xxx(...)) and <hdf5.h> included in src/io/h5md.cpp and its header only;
  5. a stage includes another stage's header only along the edges listed in STAGE_EDGES.
"""
import pathlib
import re
import sys

RANK = {"core": 0, "parallel": 1, "io": 2, "md": 3, "electrostatics": 3, "search": 4,
        "couplings": 4, "stages": 5}
FILE_ACCESS = {"h5md", "tls_io", "lammps_data", "config_file"}
# Stages that reuse another stage's analysis (docs/architecture.md); fingerprint, active_charges and
# coulomb_share are stage helpers.
STAGE_EDGES = {("md_pairs_stage", "pairs_stage"), ("md_pairs_stage", "search_stage"),
               ("pairs_stage", "search_stage"), ("search_stage", "md_pairs_stage"),
               ("search_stage", "fingerprint"), ("md_pairs_stage", "fingerprint"),
               ("search_stage", "active_charges"), ("interact_stage", "active_charges"),
               ("pairs_stage", "active_charges"), ("md_pairs_stage", "active_charges"),
               ("energy_cli", "active_charges"), ("pack", "coulomb_share"),
               ("interact_stage", "coulomb_share")}
INCLUDE = re.compile(r'^\s*#\s*include\s+"tlsmap/([a-z_]+)/([a-z0-9_]+)\.hpp"')
HDF5_CALL = re.compile(r"\bH5[A-Z][A-Za-z]*_?[A-Za-z_]*\s*\(")
HDF5_HEADER = re.compile(r"^\s*#\s*include\s+<(hdf5|H5)")


def layer_of(root, path):
    rel = path.relative_to(root).parts
    if rel[0] == "src":
        return "main" if len(rel) == 2 else rel[1]
    return rel[2] if len(rel) > 3 else None  # include/tlsmap/<layer>/x.hpp


def check(root):
    root = pathlib.Path(root)
    files = sorted(list((root / "src").rglob("*.cpp")) + list((root / "include/tlsmap").rglob("*.hpp")))
    bad = []
    for f in files:
        layer = layer_of(root, f)
        rel = f.relative_to(root)
        if layer != "main" and layer not in RANK:
            bad.append(f"{rel}:1: not in a layer folder ({', '.join(RANK)})")
            continue
        if layer == "main" and f.name != "main.cpp":
            bad.append(f"{rel}:1: only main.cpp sits at src/")
        module = f.stem
        for n, line in enumerate(f.read_text().splitlines(), 1):
            code = line.split("//", 1)[0]
            m = INCLUDE.match(code)
            if m:
                dep, name = m.group(1), m.group(2)
                if dep not in RANK:
                    bad.append(f"{rel}:{n}: includes tlsmap/{dep}/, not a layer folder")
                elif layer != "main" and dep != layer and RANK[dep] >= RANK[layer]:
                    bad.append(f"{rel}:{n}: {layer} includes {dep}/{name}.hpp (same or higher layer)")
                if name in FILE_ACCESS and layer not in ("io", "stages", "main"):
                    bad.append(f"{rel}:{n}: {layer} includes the file-access header io/{name}.hpp")
                if layer == "stages" and dep == "stages" and name != module \
                        and (module, name) not in STAGE_EDGES:
                    bad.append(f"{rel}:{n}: stage {module} includes stage {name} (not a documented edge)")
            if module != "h5md" and (HDF5_CALL.search(code) or HDF5_HEADER.match(code)):
                bad.append(f"{rel}:{n}: HDF5 outside src/io/h5md.cpp")
    return bad


def main():
    if len(sys.argv) != 2:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    bad = check(sys.argv[1])
    for b in bad:
        print(b)
    print(f"check_layers: {len(bad)} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
