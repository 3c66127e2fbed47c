#!/usr/bin/env bash
# Install everything the pipeline needs on a fresh Debian machine (idempotent).
#   - Debian packages: libxc-dev and OpenBLAS (GPAW links them), build tools.
#   - A project virtual environment in .venv with the package and its extras.
#   - GPAW compiled from source with CC=g++ (its C sources are C++), and
#     gpaw-data, which ships the PAW setups so nothing is downloaded at run time.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="libxc-dev libopenblas-dev build-essential python3-venv python3-dev"
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
# GPAW: build with g++ against Debian's libxc and OpenBLAS.
if ! .venv/bin/python -c "import gpaw, gpaw_data" >/dev/null 2>&1; then
  echo "install: building GPAW with CC=g++ (about a minute)"
  CC=g++ .venv/bin/python -m pip install -q "gpaw>=25" gpaw-data
fi
# ML potentials (ml-then-dft strategy): the CPU torch wheel first, then CHGNet and SevenNet
# with their weights inside the wheels (no download at run time).
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[dev,ml]"
echo "install: done ($(.venv/bin/python -c 'import gpaw, ase, pymatgen.core, snakemake; import chgnet, sevenn; print("gpaw", gpaw.__version__, "ase", ase.__version__, "pymatgen", pymatgen.core.__version__, "snakemake", snakemake.__version__, "chgnet", chgnet.__version__, "sevenn", sevenn.__version__)'))"
