#!/usr/bin/env bash
# Install what the tests need (scripts/install.sh), then lint and run every test:
# unit, EMT integration, tiny real GPAW runs and the Snakemake workflow end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
echo "== ruff"
.venv/bin/ruff check src tests workflow/scripts structures benchmarks
echo "== snakemake --lint (advice only: it objects to input functions beside rules)"
.venv/bin/snakemake --lint 2>&1 | grep -E '^\s+\* ' | sort | uniq -c || true
echo "== pytest"
exec .venv/bin/python -m pytest -p no:cacheprovider --durations=8 "$@"
