#!/usr/bin/env bash
# Install everything (scripts/install.sh), then screen the shipped coatings with the
# default config (fast preset, real GPAW). Extra arguments go to snakemake, e.g.
#   bash scripts/screen.sh --config anodes='[Na]' coatings='[Ag,Zn]'
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
exec .venv/bin/snakemake --profile workflow/profiles/default "$@"
