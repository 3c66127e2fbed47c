"""Benchmark: the interface stage's two paths side by side, on the same systems in one run.

``dft_relaxed`` relaxes the best registry, then the separated metal film and coating slab,
with DFT; ``dft_at_ml`` relaxes every registry and the separated parts with the ML model
and takes DFT single points there (``interface.stage``; docs/fast-path.md). Both run the
pipeline's own jobs (``scan_interface``, ``relax_interface``, ``compute_adhesion``) on the
same metal bulk and coating termination (computed first, once), each path in its own
process at the same time (one core each), under the ml-then-dft strategy with the shipped
config's preset and ML model. Everything is kept under ``--workdir``: a rerun after a kill
resumes, a finished path is read back. Per coating it prints SCF iterations, wall time,
W_ad, W_sep and the Young-Dupre regime (sigma_lv of the liquid metal) of each path,
writes the rows to ``--csv`` (with the version that produced them), and as the last line
exactly

    interface_speedup_scf=<SCF relaxed / SCF single-point> regime_agreement=<fraction>
    max_abs_dW_J_m2=<max |W_ad difference|>      (one line)

    python benchmarks/interfaces.py            # Na with Pb(111), Al(100), Ag(100), graphite(001)
    python benchmarks/interfaces.py --quick    # Na on Al(100)
"""

from __future__ import annotations

import argparse
import copy
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
from philicity import jobs, wetting  # noqa: E402
from philicity.files import read_json, versions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("dft_relaxed", "dft_at_ml")
SYSTEMS = ("Pb:111", "Al:100", "Ag:100", "graphite:001")
QUICK = ("Al:100",)


def load(preset: str, stage: str, calculator: str | None = None,
         ml_calculator: str | None = None) -> tuple[dict, dict, dict]:
    """The shipped config's settings (interface stage set), its ml and wetting sections;
    ``calculator``, ``ml_calculator``: other calculators by name (``emt`` for tests)."""
    config, settings = cfg.load(ROOT / "config" / "config.yaml", preset)
    settings, ml = copy.deepcopy(settings), copy.deepcopy(config["ml"])
    settings["interface"]["stage"] = stage
    if calculator:
        settings["calculator"] = {**settings["calculator"], "name": calculator}
    if ml_calculator:
        ml["calculator"] = {"name": ml_calculator}
    return settings, ml, config["wetting"]


def prepare(metal: str, spec: str, settings: dict, work: Path) -> tuple[Path, Path]:
    """The metal's bulk record and the coating facet's terminations (kept when done)."""
    bulk = work / metal / "bulk" / "record.json"
    if not bulk.exists():
        jobs.compute_bulk(shipped_cif(metal, "anodes", "coatings"), metal, settings, bulk.parent,
                          work / metal / "bulk.traj")
    name, miller = spec.split(":")
    folder = work / name / miller
    folder.mkdir(parents=True, exist_ok=True)
    terms = folder / "terminations.json"
    if not terms.exists():
        cif = shipped_cif(name, "coatings")
        jobs.check_candidate(cif, name, settings, folder / "candidate.json")
        jobs.select_termination(folder / "candidate.json", cif, miller, settings, terms)
    return bulk, terms


def run_path(terms: Path, bulk: Path, metal: str, stage: str, args) -> None:
    """One path: scan, interface, adhesion of the selected termination and the preset's
    first metal facet; ``dft_at_ml`` escalates as the workflow does
    (``interface.escalate_within_J_m2``, ``--sigma-lv`` or the config's sigma_lv)."""
    settings, ml, wetting_config = load(args.preset, stage, args.calculator, args.ml)
    if args.sigma_lv:
        wetting_config = {**wetting_config, "sigma_lv_J_m2": {metal: args.sigma_lv}}
    escalation = wetting.escalation_for(metal, settings["interface"], wetting_config)
    t = read_json(terms)
    if t["status"] != "ok":
        raise SystemExit(f"{terms}: {t['reason']}")
    cif = shipped_cif(t["name"], "coatings")
    d = terms.parent / stage
    metal_miller = "".join(map(str, settings["interface"]["metal_miller"][0]))
    jobs.scan_interface(terms, cif, bulk, metal, metal_miller, t["selected"][0], settings,
                        d / "scan.json", d / "checkpoints" / "scan.json", ml=ml)
    jobs.relax_interface(d / "scan.json", settings, d / "interface",
                         d / "checkpoints" / "interface.traj")
    jobs.compute_adhesion(d / "scan.json", d / "interface", bulk, settings, d / "adhesion",
                          d / "checkpoints" / "adhesion", ml=ml, escalation=escalation)


def scf_iterations(folder: Path) -> int:
    """DFT SCF iterations of one path: the registry scan's single points, the interface
    (its relaxation, or none: its single point is the scan's), the separated parts and,
    for an escalated interface, its relaxation and its parts relaxed."""
    scan = read_json(folder / "scan.json")
    total = sum(p.get("scf_iterations") or 0 for p in scan.get("scan", []))
    total += read_json(folder / "interface" / "record.json").get("scf_iterations") or 0
    for part in sorted((folder / "adhesion").rglob("*/record.json")):
        total += read_json(part).get("scf_iterations") or 0
    return total


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--coatings", nargs="+", default=list(SYSTEMS), help="NAME:MILLER")
    ap.add_argument("--quick", action="store_true", help="Na on Al(100) alone")
    ap.add_argument("--metal", default="Na")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--calculator", help="instead of the preset's (emt: a quick check)")
    ap.add_argument("--ml", help="ML calculator instead of the config's (emt: a quick check)")
    ap.add_argument("--sigma-lv", type=float, help="liquid surface tension (J/m^2) of the "
                    "regimes and the escalation; default: the config's wetting section")
    ap.add_argument("--workdir", type=Path, default=Path("benchmark_interfaces"))
    ap.add_argument("--csv", type=Path,
                    default=ROOT / "docs" / "benchmarks" / "interfaces.csv")
    ap.add_argument("--one", nargs=3, metavar=("TERMS", "BULK", "STAGE"),
                    help=argparse.SUPPRESS)  # the child process of one path
    args = ap.parse_args(argv)
    if args.one:
        run_path(Path(args.one[0]), Path(args.one[1]), args.metal, args.one[2], args)
        return
    specs = list(QUICK) if args.quick else args.coatings
    settings, _, wetting_config = load(args.preset, "dft_relaxed", args.calculator, args.ml)
    sigma = args.sigma_lv or wetting.surface_tension_for(args.metal, wetting_config).sigma_J_m2
    if sigma is None:
        raise SystemExit(f"no liquid surface tension for {args.metal}: give --sigma-lv")
    rows = []
    for spec in specs:
        bulk, terms = prepare(args.metal, spec, settings, args.workdir)
        todo = [s for s in STAGES
                if not (terms.parent / s / "adhesion" / "record.json").exists()]
        started = time.perf_counter()
        given = [f"--{k}={v}" for k, v in (("calculator", args.calculator), ("ml", args.ml))
                 if v]
        given += [f"--sigma-lv={args.sigma_lv}"] if args.sigma_lv else []
        procs = [subprocess.Popen([sys.executable, __file__, "--metal", args.metal,
                                   "--preset", args.preset, *given, "--one", str(terms),
                                   str(bulk), s]) for s in todo]
        if any(p.wait() for p in procs):
            raise SystemExit(f"{spec}: a path failed (see calc.txt under {terms.parent})")
        for stage in STAGES:
            rec = read_json(terms.parent / stage / "adhesion" / "record.json")
            w_ad = rec.get("W_ad_J_m2")
            regime = wetting.contact_angle(w_ad, sigma)[1] if w_ad is not None else None
            row = {"coating": spec, "metal": args.metal, "stage": stage,
                   "status": rec["status"], "scf_iterations": scf_iterations(
                       terms.parent / stage), "W_ad_J_m2": w_ad,
                   "W_sep_J_m2": rec.get("W_sep_J_m2"), "regime": regime,
                   "escalated": rec.get("escalated", ""),
                   "W_ad_at_ml_J_m2": rec.get("W_ad_at_ml_J_m2"),
                   "sigma_lv_J_m2": round(sigma, 4), "flags": "; ".join(rec.get("flags", [])),
                   "preset": args.preset, "philicity": versions()["philicity"],
                   "commit": code_version()}
            rows.append(row)
            print(json.dumps(row))
        print(f"{spec}: this run {time.perf_counter() - started:.0f} s")
    write_rows(args.csv, rows)
    by = {(r["coating"], r["stage"]): r for r in rows}
    scf = {s: sum(by[(c, s)]["scf_iterations"] for c in specs) for s in STAGES}
    agree = sum(by[(c, "dft_relaxed")]["regime"] == by[(c, "dft_at_ml")]["regime"]
                for c in specs)
    dw = [abs(by[(c, "dft_relaxed")]["W_ad_J_m2"] - by[(c, "dft_at_ml")]["W_ad_J_m2"])
          for c in specs if None not in (by[(c, "dft_relaxed")]["W_ad_J_m2"],
                                         by[(c, "dft_at_ml")]["W_ad_J_m2"])]
    speedup = scf["dft_relaxed"] / scf["dft_at_ml"] if scf["dft_at_ml"] else float("nan")
    print(f"interface_speedup_scf={speedup:.1f} regime_agreement={agree / len(specs):.2f} "
          f"max_abs_dW_J_m2={max(dw) if dw else float('nan'):.3f}")


if __name__ == "__main__":
    main()
