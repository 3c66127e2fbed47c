"""Benchmark: what each job of the workflow pays before it computes anything.

A Snakemake job is a new Python process: it starts the interpreter, Snakemake's script
preamble (``import snakemake.script``) and the job function's module
(``philicity.launch.job_function``). For every job function the rules name (their
``job`` param, read from ``workflow/rules/*.smk``), this measures that start-up in fresh
processes, side by side in one run (median of ``--repeat``), and whether torch (the ML
models' library, seconds to import) was loaded by it. It prints a table and as its last
line exactly

    startup_s median=<s> max=<s> bare_python_s=<s> torch_loaded=<k>/<n>

    python benchmarks/job_startup.py --repeat 5
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

from bench_common import ROOT

PROBE = """
import json, sys, time
t0 = time.perf_counter()
import snakemake.script
from philicity.launch import job_function
job_function({target!r})
print(json.dumps({{"s": time.perf_counter() - t0, "torch": "torch" in sys.modules}}))
"""


def job_targets(rules_dir: Path = ROOT / "workflow" / "rules") -> list[str]:
    """The ``module:function`` of every rule's job param."""
    found = set()
    for smk in rules_dir.glob("*.smk"):
        found |= set(re.findall(r'job="([\w.]+:\w+)"', smk.read_text()))
    return sorted(found)


def timed(code: str) -> tuple[float, dict]:
    """Wall time (s) of a fresh ``python -c code`` and what it printed (JSON or {})."""
    import time

    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    wall = time.perf_counter() - t0
    return wall, (json.loads(out.splitlines()[-1]) if out else {})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    bare = statistics.median(timed("pass")[0] for _ in range(args.repeat))
    rows = []
    for target in job_targets():
        runs = [timed(PROBE.format(target=target)) for _ in range(args.repeat)]
        rows.append({"job": target, "process_s": statistics.median(w for w, _ in runs),
                     "imports_s": statistics.median(r["s"] for _, r in runs),
                     "torch": any(r["torch"] for _, r in runs)})
    print("| job | process start to ready (s) | imports (s) | torch loaded |\n"
          "|---|---|---|---|\n"
          + "\n".join(f"| {r['job']} | {r['process_s']:.2f} | {r['imports_s']:.2f} | "
                      f"{'yes' if r['torch'] else 'no'} |" for r in rows))
    times = [r["process_s"] for r in rows]
    print(f"startup_s median={statistics.median(times):.2f} max={max(times):.2f} "
          f"bare_python_s={bare:.2f} torch_loaded={sum(r['torch'] for r in rows)}/{len(rows)}")


if __name__ == "__main__":
    main()
