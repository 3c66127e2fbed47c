"""Benchmark: Snakemake's scaling from ``--cores 1`` to ``--cores 2`` on one small screen.

Runs the same small screen twice, from empty results folders, through the real
Snakefile: first with ``--cores 1``, then with ``--cores 2`` (one BLAS thread per job in
both). Prints the wall time of each run, the core-seconds its jobs spent (sum of the
records' ``wall_s``) and, as the last line,

    speedup_cores2=<wall --cores 1 / wall --cores 2> efficiency=<speedup / 2>

The default screen is Na on Al(100) (2x2, 2 layers, one relaxed) with the Na(100)
baseline, the shipped ``fast`` preset and ``ml-then-dft``, without interfaces: about
15 jobs, 5 to 10 minutes per run on 2 cores.

    python benchmarks/cores_scaling.py
    python benchmarks/cores_scaling.py --coatings Al,Ag --strategy dft
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def screen_config(args: argparse.Namespace) -> dict:
    """The config patch of the benchmark screen (on top of config/config.yaml)."""
    overrides = {"slab": {"min_thickness_A": args.thickness, "fixed_layers": 1}}
    if args.calculator != "gpaw":
        overrides["calculator"] = {"name": args.calculator}
    return {"anodes": [args.metal], "coatings": args.coatings.split(","),
            "baseline_miller": [[1, 0, 0]], "candidates": {c: {"miller": [[1, 0, 0]]}
                                                          for c in args.coatings.split(",")},
            "run_interfaces": False, "strategy": args.strategy,
            "structures_dir": str(args.structures), "overrides": overrides}


def run(cores: int, patch: dict, workdir: Path, extra: list[str]) -> tuple[float, float, int]:
    """One screen from scratch; returns (wall time s, sum of job wall_s, number of records)."""
    results = workdir / f"cores{cores}"
    patch_file = workdir / f"cores{cores}.json"
    patch_file.write_text(json.dumps({**patch, "results_dir": str(results)}))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory",
           str(ROOT), "--cores", str(cores), "--configfile", str(ROOT / "config/config.yaml"),
           str(patch_file), "--keep-going", *extra]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"--cores {cores} failed:\n{proc.stderr[-3000:]}")
    records = [json.loads(p.read_text()) for p in results.glob("work/**/record.json")]
    return wall, sum(r.get("wall_s") or 0.0 for r in records), len(records)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--metal", default="Na")
    p.add_argument("--coatings", default="Al")
    p.add_argument("--structures", type=Path, default=ROOT / "structures")
    p.add_argument("--strategy", default="ml-then-dft", choices=["dft", "ml-then-dft"])
    p.add_argument("--calculator", default="gpaw", help="gpaw (default) or emt for a smoke run")
    p.add_argument("--thickness", type=float, default=4.0, help="slab.min_thickness_A")
    p.add_argument("--workdir", type=Path, default=None)
    args, extra = p.parse_known_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cores_scaling_"))
    workdir.mkdir(parents=True, exist_ok=True)
    patch = screen_config(args)
    rows = {cores: run(cores, patch, workdir, extra) for cores in (1, 2)}
    print(f"screen: {args.metal} on {args.coatings} ({args.strategy}), results in {workdir}")
    print("| --cores | wall s | job core-s | records |")
    print("|---|---|---|---|")
    for cores, (wall, core_s, n) in rows.items():
        print(f"| {cores} | {wall:.0f} | {core_s:.0f} | {n} |")
    speedup = rows[1][0] / rows[2][0]
    print(f"speedup_cores2={speedup:.2f} efficiency={speedup / 2:.2f}")


if __name__ == "__main__":
    main()
