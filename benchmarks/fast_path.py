"""Benchmark: the ``dft`` and ``ml-then-dft`` strategies side by side on the same systems.

Both strategies run the pipeline's own job functions (philicity.jobs) in one process on
the same DFT-relaxed clean slab, one after the other, so their costs are measured on the
same machine state. For each system it prints the best site, E_b per strategy, DFT SCF
iterations, DFT ionic steps and wall time, and as the last line exactly

    speedup_scf=<SCF dft / SCF ml-then-dft> best_site_agreement=<fraction> max_abs_dE_eV=<...>

SCF iterations and ionic steps count the site stage only: the clean slab, the bulk and
the isolated atom are computed once and shared by both strategies (printed apart).

    python benchmarks/fast_path.py            # Na on Al(100), Ag(100), Cu(111), Zn(0001)
    python benchmarks/fast_path.py --quick    # Na on Al(100): under 15 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from philicity.launch import one_blas_thread  # stdlib only: runs before numpy loads

one_blas_thread(os.environ)

from philicity import config as cfg  # noqa: E402
from philicity import jobs  # noqa: E402
from philicity.files import read_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = {"Al": "100", "Ag": "100", "Cu": "111", "Zn": "001"}
QUICK = ("Al",)


def load_settings(preset: str, thickness_A: float) -> tuple[dict, dict]:
    """The shipped config's preset (adsorption sections) and ml section, with small slabs."""
    config, settings = cfg.load(ROOT / "config" / "config.yaml", preset)
    settings.pop("interface")
    settings["slab"].update(min_thickness_A=thickness_A, fixed_layers=1)
    return settings, config["ml"]


def site_records(folder: Path) -> dict[str, dict]:
    return {p.parent.name: read_json(p) for p in sorted(folder.glob("*/record.json"))}


def best(records: dict[str, dict]) -> tuple[str | None, float | None]:
    ok = {s: r["energy_eV"] for s, r in records.items()
          if r["status"] == "ok" and r.get("energy_eV") is not None and not r.get("flags")}
    if not ok:
        return None, None
    site = min(ok, key=ok.get)
    return site, ok[site]


class PeakRSS:
    """Peak resident memory of this process (MB) while the block runs, sampled every 0.2 s.

    ``ru_maxrss`` only grows over the process's life, so it cannot tell the second
    strategy's peak from the first's; sampling /proc/self/status can.
    """

    def __enter__(self) -> PeakRSS:
        self.peak_MB = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_MB = max(self.peak_MB, self._rss())

    @staticmethod
    def _rss() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # kB -> MB
        return float("nan")


def run_system(coating: str, miller: str, metal: str, settings: dict, ml: dict,
               work: Path, e_atom: float) -> dict:
    base = work / coating
    cif = ROOT / "structures" / "coatings" / f"{coating}.cif"
    # termination 0: the benchmark compares strategies, not terminations
    jobs.check_candidate(cif, coating, settings, base / "candidate.json")
    terms = jobs.select_termination(base / "candidate.json", cif, miller, settings,
                                    base / "terminations.json", {"termination": 0})
    if terms["status"] != "ok":
        raise SystemExit(f"{coating}({miller}): {terms['reason']}")
    found = jobs.find_sites(base / "terminations.json", settings, base / "sites.json")
    clean = jobs.relax_clean_slab(base / "terminations.json", 0, settings, base / "clean",
                                  base / "ckpt" / "clean.traj")
    site_ids = [s["id"] for s in found["sites"]]
    out = {"coating": coating, "miller": miller, "n_atoms": clean["n_atoms"] + 1,
           "sites": [s.split("-", 1)[1] for s in site_ids], "clean": clean}
    for strategy in ("dft", "ml-then-dft"):
        folder = base / strategy
        start = time.perf_counter()
        with PeakRSS() as memory:
            scf = steps = 0
            prescreen = None
            if strategy == "ml-then-dft":
                pre = jobs.prescreen_sites(base / "terminations.json", base / "sites.json",
                                           base / "clean", 0, metal, settings, ml,
                                           folder / "prescreen.json", base / "ckpt" / "ml")
                prescreen = folder / "prescreen.json"
                scf += sum(i.get("scf_iterations") or 0 for i in pre["sites"])
                out["selected"] = pre["selected"]
                out["pruned"] = [i["site"] for i in pre["sites"] if i["pruned_by"]]
            for sid in site_ids:
                rec = jobs.relax_adsorbate(base / "terminations.json", base / "sites.json",
                                           base / "clean", sid, metal, settings,
                                           folder / sid.split("-", 1)[1],
                                           base / "ckpt" / strategy / f"{sid}.traj",
                                           prescreen_json=prescreen)
                if rec.get("stage", "").startswith("dft_relaxed"):
                    scf += rec.get("scf_iterations") or 0
                    steps += rec.get("steps") or 0
        records = site_records(folder)
        site, energy = best(records)
        if strategy == "ml-then-dft":
            # how far each DFT single point at the ML geometry lies above the DFT-relaxed
            # energy of the same site in the dft strategy (what the window relies on)
            ref = site_records(base / "dft")
            out["sp_minus_relaxed"] = {
                s: r["dft_single_point_eV"] - ref[s]["energy_eV"] for s, r in records.items()
                if r.get("dft_single_point_eV") is not None and s in ref
                and ref[s].get("energy_eV") is not None}
        out[strategy] = {"best_site": site, "E_b_eV": None if energy is None else
                         energy - clean["energy_eV"] - e_atom, "scf": scf, "steps": steps,
                         "wall_s": time.perf_counter() - start,
                         "peak_MB": memory.peak_MB}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--thickness", type=float, default=4.0,
                    help="minimum slab thickness, A (default 4: two layers, the bottom one fixed)")
    ap.add_argument("--metal", default="Na")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--systems", default=None,
                    help="comma-separated coatings, e.g. Al,Cu (default: all, or --quick)")
    ap.add_argument("--calculator", default=None, help="replace GPAW, e.g. emt (smoke tests)")
    ap.add_argument("--ml", default=None, help="ML calculator name, e.g. sevenn or emt")
    args = ap.parse_args(argv)
    settings, ml = load_settings(args.preset, args.thickness)
    if args.calculator:
        settings["calculator"]["name"] = args.calculator
    if args.ml:
        ml["calculator"] = {"name": args.ml, "model": ""}
    work = args.workdir or Path(tempfile.mkdtemp(prefix="fast_path_"))
    chosen = args.systems.split(",") if args.systems else QUICK if args.quick else SYSTEMS
    systems = {k: SYSTEMS[k] for k in chosen}
    print(f"# fast_path benchmark: {args.metal} on {', '.join(systems)}; preset {args.preset}"
          f" (hash {cfg.settings_hash(settings)}), slabs >= {args.thickness} A; ml "
          f"{ml['calculator']}, top_k {ml['top_k']}; work in {work}", flush=True)
    t0 = time.perf_counter()
    atom = jobs.compute_atom(args.metal, copy.deepcopy(settings), work / "atom")
    rows = []
    for coating, miller in systems.items():
        r = run_system(coating, miller, args.metal, settings, ml, work, atom["energy_eV"])
        rows.append(r)
        d, m = r["dft"], r["ml-then-dft"]
        print(f"\n## {args.metal} on {coating}({miller}), {r['n_atoms']} atoms, sites "
              f"{', '.join(r['sites'])}; clean slab: {r['clean']['steps']} steps, "
              f"{r['clean']['scf_iterations']} SCF, {r['clean']['wall_s']:.0f} s (shared)")
        print(f"ml-then-dft: pruned {r['pruned'] or 'none'}, DFT-relaxed {r['selected']}; "
              "DFT single point at the ML geometry minus the dft strategy's relaxed energy: "
              + ", ".join(f"{k} {v:+.3f} eV" for k, v in r["sp_minus_relaxed"].items()))
        print("| strategy | best site | E_b (eV) | SCF iterations | ionic steps | wall (s) "
              "| peak memory (MB) |")
        print("|---|---|---|---|---|---|---|")
        for name, s in (("dft", d), ("ml-then-dft", m)):
            eb = "-" if s["E_b_eV"] is None else f"{s['E_b_eV']:.3f}"
            print(f"| {name} | {s['best_site']} | {eb} | {s['scf']} | {s['steps']} | "
                  f"{s['wall_s']:.0f} | {s['peak_MB']:.0f} |", flush=True)
    scf_d = sum(r["dft"]["scf"] for r in rows)
    scf_m = sum(r["ml-then-dft"]["scf"] for r in rows)
    agree = [r["dft"]["best_site"] == r["ml-then-dft"]["best_site"] for r in rows]
    diffs = [abs(r["dft"]["E_b_eV"] - r["ml-then-dft"]["E_b_eV"]) for r in rows
             if r["dft"]["E_b_eV"] is not None and r["ml-then-dft"]["E_b_eV"] is not None]
    wall_d = sum(r["dft"]["wall_s"] for r in rows)
    wall_m = sum(r["ml-then-dft"]["wall_s"] for r in rows)
    print(f"\n# totals: SCF {scf_d} vs {scf_m}; wall {wall_d:.0f} s vs {wall_m:.0f} s "
          f"(ratio {wall_d / max(wall_m, 1e-9):.1f}); benchmark {time.perf_counter() - t0:.0f} s")
    speedup = scf_d / scf_m if scf_m else float("inf")
    max_de = max(diffs) if len(diffs) == len(rows) else float("nan")
    print(f"speedup_scf={speedup:.1f} best_site_agreement={sum(agree) / len(agree):.2f} "
          f"max_abs_dE_eV={max_de:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
