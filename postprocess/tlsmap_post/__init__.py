"""tlsmap postprocessing: read, validate and merge per-sample HDF5 files, compute the statistics
that test the estimates of Lubchenko, Silbey & Wolynes (2005), and write figures and a report.

Modules (each usable alone):
  io         read one sample file, validate it against the data contract (docs/postprocess.md)
  merge      many sample files -> one table per quantity with a sample index
  stats      distributions, means and sample-to-sample error bars (jackknife, bootstrap)
  estimates  the paper's formulas (Eqs. 1/6, 13, 21/22 and the TLS density of states)
  units      reduced Lennard-Jones units -> Debye, kelvin, metres, joules
  analysis   the numbers of the report (estimate vs measured), per parameter group
  polar      polar-dimer glasses: g, its random-sign null test, the Eq. 6 slope, the glass Kirkwood factor
  figures    PNG figures (matplotlib, Agg backend)
  report     the `tlsmap-report` command line: figures + report.md + merged.h5
"""

__version__ = "0.1"
