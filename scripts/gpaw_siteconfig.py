# GPAW build configuration (GPAW_CONFIG=scripts/gpaw_siteconfig.py; used by scripts/install.sh).
# GPAW's setup.py exec()s this file with `libraries`, `include_dirs`, ... already defined.
#
# MPI + ScaLAPACK + FFTW against Debian's packages:
#   openmpi-bin libopenmpi-dev libscalapack-openmpi-dev libfftw3-dev libxc-dev libopenblas-dev
# The same build runs serially under plain `python` (no MPI_Init: GPAW's serial backend);
# `mpiexec -n N python -m gpaw python ...` (or srun) runs it on N ranks.
# On a cluster whose MPI and ScaLAPACK come from environment modules, set
# PHILICITY_MPI_COMPILER and PHILICITY_SCALAPACK_LIB (e.g. "scalapack"), or point
# GPAW_CONFIG at a siteconfig of your own.
# ruff: noqa: F821
import os

mpi = True
# GPAW's C sources are C++: the MPI wrapper of the C++ compiler.
compiler = os.environ.get("PHILICITY_MPI_COMPILER", "mpic++")

fftw = True
libraries += ["fftw3"]

scalapack = True
libraries += [os.environ.get("PHILICITY_SCALAPACK_LIB", "scalapack-openmpi")]

# A siteconfig replaces GPAW's default 'blas': name the BLAS explicitly (libxc is
# in `libraries` already).
libraries += ["openblas"]
