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
# The SLURM test (tests/workflow/test_slurm.py) starts a one-node cluster with
# scripts/slurm_local.sh, installing slurm-wlm and munge if needed; here it must run,
# not skip, and its cluster folder is ours so that the sbatch jobs can be listed.
export PHILICITY_REQUIRE_SLURM=${PHILICITY_REQUIRE_SLURM:-1}
slurm_dir=${PHILICITY_SLURM_DIR:-}
if [ -z "$slurm_dir" ]; then
  slurm_dir=$(mktemp -d /tmp/philicity-slurm.XXXXXX)
  trap 'bash scripts/slurm_local.sh stop "$slurm_dir" >/dev/null 2>&1 || true; rm -rf "$slurm_dir"' EXIT
fi
export PHILICITY_SLURM_DIR=$slurm_dir
echo "== pytest"
rc=0
.venv/bin/python -m pytest -p no:cacheprovider --durations=20 "$@" || rc=$?
if [ -s "$slurm_dir/jobcomp.txt" ]; then
  echo "== sbatch jobs of the SLURM test (jobcomp/filetxt)"
  awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
         print f["JobId"], f["JobState"], f["Name"], f["StartTime"], f["EndTime"] }' \
    "$slurm_dir/jobcomp.txt"
fi
exit "$rc"
