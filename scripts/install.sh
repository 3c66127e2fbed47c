#!/usr/bin/env bash
# Install everything the pipeline needs on a fresh Debian machine (idempotent).
#   - Debian packages: libxc-dev, OpenBLAS, Open MPI, ScaLAPACK and FFTW (GPAW links
#     them), build tools, and chromium (headless: the screenshot test of results/report.html).
#   - A project virtual environment in .venv with the package and its extras.
#   - GPAW compiled from source with MPI, ScaLAPACK and FFTW (scripts/gpaw_siteconfig.py,
#     compiler mpic++: its C sources are C++), and gpaw-data, which ships the PAW setups
#     so nothing is downloaded at run time. An installed GPAW without MPI is rebuilt.
#     The same build runs serially under plain python and on N ranks under mpiexec/srun.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="libxc-dev libopenblas-dev build-essential python3-venv python3-dev
  openmpi-bin libopenmpi-dev libscalapack-openmpi-dev libfftw3-dev chromium"
missing=""
for p in $APT_PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install: apt packages:$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip wheel setuptools
# GPAW: built from source (never a cached wheel, which may lack MPI) with MPI, ScaLAPACK
# and FFTW against Debian's libraries; rebuilt if the installed one lacks any of them.
GPAW_OK='import gpaw, gpaw_data, gpaw.cgpaw as c, gpaw.fftw as f
from gpaw.utilities import compiled_with_sl
assert c.have_mpi and compiled_with_sl() and f.have_fftw()'
if ! .venv/bin/python -c "$GPAW_OK" >/dev/null 2>&1; then
  echo "install: building GPAW with MPI, ScaLAPACK and FFTW (1 to 3 minutes)"
  # --force-reinstall --no-deps: replaces a serial build of the same version in place
  # (pip builds first, so GPAW stays importable for running jobs until the swap).
  GPAW_CONFIG="$PWD/scripts/gpaw_siteconfig.py" CC=mpic++ .venv/bin/python -m pip install -q \
    --no-cache-dir --no-binary gpaw --force-reinstall --no-deps "gpaw>=25"
  .venv/bin/python -m pip install -q "gpaw>=25" gpaw-data  # GPAW's dependencies, PAW data
  .venv/bin/python -c "$GPAW_OK" || { echo "install: GPAW built without MPI" >&2; exit 1; }
fi
# ML potentials (ml-then-dft strategy): the CPU torch wheel first, then CHGNet and SevenNet
# with their weights inside the wheels (no download at run time).
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[dev,ml]"
echo "install: done ($(.venv/bin/python -c 'import gpaw, ase, pymatgen.core, snakemake; import chgnet, sevenn; print("gpaw", gpaw.__version__, "(MPI)", "ase", ase.__version__, "pymatgen", pymatgen.core.__version__, "snakemake", snakemake.__version__, "chgnet", chgnet.__version__, "sevenn", sevenn.__version__)'))"
