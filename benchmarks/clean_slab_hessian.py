"""Benchmark: a clean-slab DFT relaxation from ASE's default Hessian and from the ML
model's (guarded: :class:`philicity.relax.GuardedBFGS`), side by side in one run.

Both relaxations run the pipeline's own job (``philicity.jobs.relax_clean_slab``) on the
same bulk-terminated cut chosen by ``select_termination``, with the shipped config's preset
(``fast`` by default), each in its own process at the same time (one core each). Everything
is checkpointed under ``--workdir``: a rerun after a kill resumes, a finished relaxation is
read back. Per coating it prints ionic steps, SCF iterations, wall time, final energy and the
step at which the ML Hessian was dropped, appends the rows to ``--csv`` (with the version
that produced them), and as the last line exactly

    steps_default=<sum> steps_ml=<sum> not_more_steps=<k>/<n> max_abs_dE_eV=<...>

    python benchmarks/clean_slab_hessian.py --coatings VN:001 LiC6:001

``--starts ml`` runs one arm only (after a change to it) and keeps the other arm's rows of
``--csv``, each with the version that ran it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench_common import code_version, shipped_cif, write_rows

from philicity.launch import one_blas_thread  # stdlib only: runs before numpy loads

one_blas_thread(os.environ)

from philicity import config as cfg  # noqa: E402
from philicity import jobs  # noqa: E402
from philicity.files import read_json, versions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STARTS = ("default", "ml")


def prepare(name: str, miller: str, settings: dict, work: Path) -> Path:
    """check_candidate and select_termination of the shipped coating or, if there is no
    such coating, anode metal (kept when done)."""
    cif = shipped_cif(name, "coatings", "anodes")
    folder = work / name / miller
    folder.mkdir(parents=True, exist_ok=True)
    terms = folder / "terminations.json"
    if not terms.exists():
        jobs.check_candidate(cif, name, settings, folder / "candidate.json")
        jobs.select_termination(folder / "candidate.json", cif, miller, settings, terms)
    return terms


def relax_one(terms: Path, start: str, settings: dict, ml: dict) -> None:
    """The clean slab of the selected termination, from one starting Hessian."""
    t = read_json(terms)
    if t["status"] != "ok":
        raise SystemExit(f"{terms}: {t['reason']}")
    folder = terms.parent / start
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps({"commit": code_version()}))
    jobs.relax_clean_slab(terms, t["selected"][0], settings, folder,
                          terms.parent / "checkpoints" / f"{start}.traj",
                          ml=ml if start == "ml" else None)


def produced_by(folder: Path) -> str:
    """The code version that ran the relaxation in ``folder`` (its ``run.json``)."""
    run = folder / "run.json"
    return json.loads(run.read_text())["commit"] if run.exists() else "unknown"


def write_steps(specs: list[str], work: Path, path: Path) -> None:
    """Energy and fmax of every ionic step so far of each relaxation (its checkpoint while
    it runs, its relax.traj when done), so an unfinished comparison is on record."""
    import numpy as np
    from ase.io import read

    rows = []
    for spec in specs:
        name, miller = spec.split(":")
        folder = work / name / miller
        for start in STARTS:
            done = folder / start / "relax.traj"
            traj = done if done.exists() else folder / "checkpoints" / f"{start}.traj"
            if not traj.exists():
                continue
            for step, atoms in enumerate(read(traj, ":")):
                forces = atoms.get_forces()
                rows.append({"coating": name, "miller": miller, "start": start, "step": step,
                             "energy_eV": round(float(atoms.get_potential_energy()), 6),
                             "fmax_eV_A": round(float(np.linalg.norm(forces, axis=1).max()), 4),
                             "finished": done.exists(), "written_by": code_version()})
    write_rows(path, rows)
    for row in rows:
        print(json.dumps(row))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--coatings", nargs="+", default=["VN:001", "LiC6:001"],
                    help="NAME:MILLER of shipped coatings")
    ap.add_argument("--starts", nargs="+", choices=STARTS, default=list(STARTS),
                    help="the arms to run; the others' rows are kept from --csv")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--workdir", type=Path, default=Path("benchmark_clean_slab_hessian"))
    ap.add_argument("--csv", type=Path, default=ROOT / "docs" / "benchmarks"
                    / "clean_slab_hessian.csv")
    ap.add_argument("--steps-only", action="store_true",
                    help="run nothing: write every ionic step so far (finished or not) of "
                    "the relaxations under --workdir to --steps-csv")
    ap.add_argument("--steps-csv", type=Path, default=ROOT / "docs" / "benchmarks"
                    / "clean_slab_hessian_steps.csv")
    ap.add_argument("--one", nargs=3, metavar=("TERMS", "START", "SETTINGS"),
                    help=argparse.SUPPRESS)  # the child process of one relaxation
    args = ap.parse_args(argv)
    config, settings = cfg.load(ROOT / "config" / "config.yaml", args.preset)
    settings.pop("interface")
    if args.one:
        terms, start, _ = args.one
        relax_one(Path(terms), start, settings, config["ml"])
        return
    if args.steps_only:
        write_steps(args.coatings, args.workdir, args.steps_csv)
        return
    kept = []
    if args.csv.exists():
        with args.csv.open() as fh:
            kept = [r for r in csv.DictReader(fh) if r["start"] not in args.starts]
    rows = []
    for spec in args.coatings:
        name, miller = spec.split(":")
        terms = prepare(name, miller, settings, args.workdir)
        todo = [s for s in args.starts if not (terms.parent / s / "record.json").exists()]
        started = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, __file__, "--preset", args.preset,
                                   "--one", str(terms), s, args.preset]) for s in todo]
        if any(p.wait() for p in procs):
            raise SystemExit(f"{name}({miller}): a relaxation failed (see its calc.txt)")
        for s in args.starts:
            r = read_json(terms.parent / s / "record.json")
            row = {"coating": name, "miller": miller, "start": s, "n_atoms": r["n_atoms"],
                   "steps": r["steps"], "scf_iterations": r["scf_iterations"],
                   "wall_s": r["wall_s"], "energy_eV": r["energy_eV"],
                   "fmax_eV_A": r["fmax_eV_A"], "relax_converged": r["relax_converged"],
                   "hessian_fallback_step": r.get("hessian_fallback_step"),
                   "first_step": r.get("first_step"),
                   "preset": args.preset, "settings_hash": r["settings_hash"],
                   "philicity": versions()["philicity"],
                   "commit": produced_by(terms.parent / s)}
            rows.append(row)
            print(json.dumps(row))
        print(f"{name}({miller}): this run {time.perf_counter() - started:.0f} s")
    rows += [r for r in kept if f"{r['coating']}:{r['miller']}" in args.coatings]
    for r in rows:  # kept rows are read as text
        r.setdefault("first_step", "")
        r["steps"], r["energy_eV"] = int(r["steps"]), float(r["energy_eV"])
        r["relax_converged"] = r["relax_converged"] in (True, "True")
    rows.sort(key=lambda r: (r["coating"], STARTS.index(r["start"])))
    write_rows(args.csv, rows)
    by = {(r["coating"], r["start"]): r for r in rows}
    names = sorted({r["coating"] for r in rows})
    steps = {s: sum(by[(n, s)]["steps"] for n in names) for s in STARTS}
    ok = sum(by[(n, "ml")]["steps"] <= by[(n, "default")]["steps"]
             and by[(n, "ml")]["relax_converged"] for n in names)
    de = max(abs(by[(n, "ml")]["energy_eV"] - by[(n, "default")]["energy_eV"]) for n in names)
    print(f"steps_default={steps['default']} steps_ml={steps['ml']} "
          f"not_more_steps={ok}/{len(names)} max_abs_dE_eV={de:.3f}")


if __name__ == "__main__":
    main()
