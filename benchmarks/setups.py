"""Benchmark: what frozen-core PAW setups (``calculator.setups``, e.g. Na's 1-electron
setup instead of its 7-electron default) save in time and cost in accuracy, measured side
by side at the same geometries.

Reads a finished screen's structures under ``--results`` (for every surface its best
relaxed site with the clean slab and the metal atom; every interface with its two parts)
and the bulk cells of the ``--compounds`` (CIFs under ``structures/``), and computes each
twice with DFT single points from scratch, with the preset's calculator and GPAW's
default setups for the elements ``--setups`` names, and with ``--setups``, one after the
other in this process. Compared: E_b (eV), W_ad (J/m^2), and the formation energy per atom
of each compound (the shift of E(compound) - sum n_X E(X, elemental bulk) over the elements whose
setup changes; an element whose setup stays cancels). One row per quantity goes to
``--csv`` with both values, both SCF iteration counts and wall times, and the code
version; the last line printed is exactly

    setups speedup_wall=<x> scf_iterations=<default>/<named> max_abs_dEb_eV=<a>
    max_abs_dW_J_m2=<b> max_abs_dEf_eV_per_atom=<c>

(one line). ``speedup_wall`` is the summed wall time with GPAW's default setups over that
with ``--setups``.

    python benchmarks/setups.py --results results --setups Na=1 Ag=11
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from ase import Atoms
from ase.io import jsonio
from bench_common import (
    ROOT,
    code_version,
    finished_interfaces,
    finished_sites,
    record_structure,
    write_rows,
)

from philicity import calculators, energetics, structures
from philicity import config as cfg
from philicity.jobs.dft import canonical_atoms
from philicity.relax import single_point


class NotComputed(Exception):
    """A single point that ``--collect`` does not compute."""


class Pair:
    """Single points of one geometry with both calculator settings, timed and counted.
    Each is kept in ``workdir/points/`` (energy, wall time, SCF iterations) under the
    hash of its atoms, settings and kind of system, so a rerun resumes."""

    def __init__(self, default: dict, named: dict, workdir: Path, collect: bool = False):
        self.settings = {"default": default, "named": named}
        self.workdir = workdir
        self.collect = collect
        self.cost = {"default": [0.0, 0], "named": [0.0, 0]}  # wall s, SCF iterations

    def energies(self, atoms: Atoms, system: str) -> dict[str, float]:
        out = {}
        for arm, settings in self.settings.items():
            key = hashlib.sha256(json.dumps(
                [canonical_atoms(jsonio.encode(atoms)), settings, system],
                sort_keys=True).encode()).hexdigest()[:16]
            kept = self.workdir / "points" / f"{key}.json"
            if not kept.exists() and self.collect:
                raise NotComputed(atoms.get_chemical_formula())
            if not kept.exists():
                kept.parent.mkdir(parents=True, exist_ok=True)
                calc = calculators.make_calculator(settings, system,
                                                   txt=kept.with_suffix(".txt"))
                outcome = single_point(atoms, calc, forces=False)
                if outcome.energy_eV is None:
                    raise RuntimeError(f"{atoms.get_chemical_formula()} {arm}: SCF did not "
                                       f"converge ({outcome.error})")
                kept.write_text(json.dumps({
                    "formula": atoms.get_chemical_formula(), "system": system, "arm": arm,
                    "energy_eV": outcome.energy_eV, "wall_s": outcome.wall_s,
                    "scf_iterations": outcome.scf_iterations or 0}))
            point = json.loads(kept.read_text())
            out[arm] = point["energy_eV"]
            self.cost[arm][0] += point["wall_s"]
            self.cost[arm][1] += point["scf_iterations"]
        return out


def row(quantity: str, system: str, unit: str, before: dict, pair: Pair,
        values: dict[str, float] | None = None, difference: float | None = None) -> dict:
    """One compared quantity (both arms' ``values``, or only their ``difference`` where
    neither value means anything alone), with the cost of its own single points."""
    spent = {arm: [now - was for now, was in zip(pair.cost[arm], before[arm], strict=True)]
             for arm in pair.cost}
    values = values or {}
    if difference is None:
        difference = values["named"] - values["default"]
    return {"quantity": quantity, "system": system, "unit": unit,
            "default_setups": values.get("default"), "named_setups": values.get("named"),
            "difference": difference,
            "wall_s_default": round(spent["default"][0], 1),
            "wall_s_named": round(spent["named"][0], 1),
            "scf_default": spent["default"][1], "scf_named": spent["named"][1]}


def snapshot(pair: Pair) -> dict:
    return {arm: list(cost) for arm, cost in pair.cost.items()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=Path("results"))
    ap.add_argument("--setups", nargs="+", default=["Na=1"],
                    help="ELEMENT=NAME, e.g. Na=1 Ag=11 (gpaw-data's Na.1.PBE, Ag.11.PBE)")
    ap.add_argument("--compounds", nargs="*", default=["NaF", "Na2O", "NaPb3"],
                    help="bulk phases whose formation energy is compared (CIF stems)")
    ap.add_argument("--parts", nargs="+", default=["sites", "interfaces", "compounds"],
                    choices=["sites", "interfaces", "compounds"],
                    help="what to compare (two runs with different parts can share "
                         "--workdir; a run of every part then only tabulates)")
    ap.add_argument("--collect", action="store_true",
                    help="compute nothing: tabulate the rows whose single points are kept")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--workdir", type=Path, default=Path("benchmark_setups"))
    ap.add_argument("--csv", type=Path, default=ROOT / "docs" / "benchmarks" / "setups.csv")
    args = ap.parse_args(argv)

    setups = dict(s.split("=", 1) for s in args.setups)
    _, settings = cfg.load(ROOT / "config" / "config.yaml", preset=args.preset)
    named = {**settings["calculator"], "setups": {
        **settings["calculator"].get("setups", {}), **setups}}
    default = {**named, "setups": {k: v for k, v in named["setups"].items()
                                   if k not in setups}}
    args.workdir.mkdir(parents=True, exist_ok=True)
    pair = Pair(default, named, args.workdir, args.collect)
    work = args.results / "work"
    rows = []

    atom_energy: dict[str, dict] = {}

    def site_row(site: dict) -> dict:
        metal = site["metal"]
        before = snapshot(pair)
        if metal not in atom_energy:
            atom_energy[metal] = pair.energies(
                structures.isolated_atom(metal, named["atom_box_A"]), "atom")
        e_site = pair.energies(record_structure(site["site"]), "slab")
        e_clean = pair.energies(record_structure(site["clean"]), "slab")
        e_b = {arm: energetics.binding_energy(e_site[arm], e_clean[arm],
                                              atom_energy[metal][arm]) for arm in e_site}
        return row("E_b", site["system"], "eV", before, pair, values=e_b)

    def interface_row(iface: dict) -> dict:
        before = snapshot(pair)
        e = {part: pair.energies(record_structure(iface[part]), "slab")
             for part in ("interface", "metal", "coating")}
        w = {arm: energetics.work_of_adhesion(e["metal"][arm], e["coating"][arm],
                                              e["interface"][arm], iface["area_A2"])
             for arm in e["interface"]}
        return row("W_ad", iface["system"], "J/m^2", before, pair, values=w)

    # formation energies: the bulk calculator of the reaction phases
    phase = cfg.reaction_calculator(settings)
    phases = Pair({**phase, "setups": default["setups"]},
                  {**phase, "setups": named["setups"]}, args.workdir, args.collect)
    elemental: dict[str, dict] = {}

    def compound_row(name: str) -> dict:
        cif = next(iter(sorted((ROOT / "structures").glob(f"*/{name}.cif"))))
        atoms = structures.to_atoms(structures.read_structure(cif))
        changed = sorted(set(atoms.get_chemical_symbols()) & set(setups))
        before = snapshot(phases)
        for el in changed:
            if el not in elemental:
                ref = next(iter(sorted((ROOT / "structures").glob(f"*/{el}.cif"))))
                ref_atoms = structures.to_atoms(structures.read_structure(ref))
                elemental[el] = {arm: e / len(ref_atoms) for arm, e in
                                 phases.energies(ref_atoms, "bulk").items()}
        e = phases.energies(atoms, "bulk")
        # only the changed elements' references enter: the rest cancel between the arms,
        # so the difference is the shift of the formation energy, not either value
        e_f = {arm: (e[arm] - sum(elemental[el][arm] for el in atoms.get_chemical_symbols()
                                  if el in changed)) / len(atoms) for arm in e}
        return row("E_f shift", name, "eV/atom", before, phases,
                   difference=e_f["named"] - e_f["default"])

    todo = ([lambda s=s: site_row(s) for s in finished_sites(work, best_only=True)]
            if "sites" in args.parts else [])
    todo += ([lambda i=i: interface_row(i) for i in finished_interfaces(work)]
             if "interfaces" in args.parts else [])
    todo += ([lambda n=n: compound_row(n) for n in args.compounds]
             if "compounds" in args.parts else [])
    for make in todo:
        try:
            rows.append(make())
        except NotComputed as exc:
            print(f"# not computed yet, left out: a single point of {exc}", flush=True)
            continue
        print(rows[-1], flush=True)

    if not rows:
        raise SystemExit("setups: no row has both arms computed yet")
    version = code_version()
    for r in rows:
        r.update(setups=" ".join(args.setups), preset=args.preset,
                 settings_hash=cfg.settings_hash(settings), written_by=version)
    write_rows(args.csv, rows)
    wall = [sum(r[f"wall_s_{arm}"] for r in rows) for arm in ("default", "named")]
    scf = [sum(r[f"scf_{arm}"] for r in rows) for arm in ("default", "named")]

    def worst(quantity: str) -> float:
        return max((abs(r["difference"]) for r in rows if r["quantity"] == quantity),
                   default=0.0)

    print(f"setups speedup_wall={wall[0] / wall[1]:.2f} scf_iterations={scf[0]}/{scf[1]} "
          f"max_abs_dEb_eV={worst('E_b'):.3f} max_abs_dW_J_m2={worst('W_ad'):.3f} "
          f"max_abs_dEf_eV_per_atom={worst('E_f shift'):.3f}")


if __name__ == "__main__":
    main()
