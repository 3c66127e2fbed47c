"""Benchmark: how many SCF iterations a looser stopping criterion saves, and what it costs
in energy, replayed from the SCF histories of a finished screen.

GPAW prints, for every SCF iteration, the total energy and the two other quantities its
default criteria test (log10 of the eigenstate and of the density change per valence
electron). A single point's SCF history up to any iteration does not depend on when it
stops, so replaying those tables gives, exactly, the iteration at which another criterion
would have stopped and the energy it would have returned. Only the first SCF of each log
is replayed (later SCFs of a relaxation start from where the previous one stopped, so
they would differ): the single points ``calculator.single_point_convergence`` applies to
and, shown apart, those that converge as relaxations do (the prescreen's and the
charge-density differences') and the first step of each relaxation.

    python benchmarks/scf_criterion.py --results results

Writes ``docs/benchmarks/scf_criterion.csv`` and prints one line per criterion and, as
its last line exactly (one line)

    scf_criterion candidate=<name> iteration_ratio=<recorded/candidate>
    max_abs_dE_meV=<max |E_candidate - E_recorded|> scfs=<n>
"""

from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bench_common import ROOT, code_version, write_rows

from philicity import calculators, config

# |iter:  12| 13:41:00 |  -24.542584c| -3.55 | -1.82 |  (c: that criterion holds)
ROW = re.compile(r"^\|iter:\s*(\d+)\|[^|]*\|\s*(-?[\d.]+)c?\s*\|"
                 r"\s*([-+\d.]*)c?\s*\|\s*([-+\d.]*)c?\s*\|")
VALENCE = re.compile(r"^\s*Valence electrons:\s*([\d.]+)")


@dataclass(frozen=True)
class Criterion:
    """GPAW's three default SCF criteria: energy (peak-to-peak over the last three
    iterations, eV, per valence electron if ``energy_relative``), density (integral of
    the absolute density change, electrons per valence electron) and eigenstates (eV^2
    per valence electron)."""

    name: str
    energy_eV: float
    energy_relative: bool
    density: float
    eigenstates: float

    @classmethod
    def of(cls, name: str, convergence: dict) -> Criterion:
        """The criterion of GPAW's ``convergence`` as the calculator factory builds it
        (:func:`philicity.calculators.scf_convergence`)."""
        energy = convergence["energy"]
        if isinstance(energy, dict):
            return cls(name, energy["tol"], energy["relative"], convergence["density"],
                       convergence["eigenstates"])
        return cls(name, energy, True, convergence["density"], convergence["eigenstates"])

    def stop(self, energies_eV: np.ndarray, eig_log10: np.ndarray, dens_log10: np.ndarray,
             nvalence: float) -> int | None:
        """The index of the first iteration at which all three criteria hold."""
        scale = nvalence if self.energy_relative else 1.0
        for i in range(2, len(energies_eV)):
            window = energies_eV[i - 2:i + 1]
            if (np.ptp(window) < self.energy_eV * scale
                    and eig_log10[i] < math.log10(self.eigenstates)
                    and dens_log10[i] < math.log10(self.density)):
                return i
        return None


ALTERNATIVES = [
    Criterion("density-1e-3", 0.0005, True, 1e-3, 4e-8),
    Criterion("density-1e-3-eigenstates-1e-6", 0.0005, True, 1e-3, 1e-6),
    Criterion("energy-1meV-density-1e-2-eigenstates-1e-4", 0.001, False, 1e-2, 1e-4),
]


def preset_criteria(preset: str = "fast") -> tuple[Criterion, Criterion]:
    """A shipped preset's SCF criteria, as its calculators get them: a relaxation's (what
    the replayed logs were recorded under) and a single point's
    (``calculator.single_point_convergence``)."""
    cfg, _ = config.load(ROOT / "config" / "config.yaml", preset=preset)
    calc = config.settings(cfg)["calculator"]
    if not calc["single_point_convergence"]:
        raise SystemExit(f"preset {preset} sets no calculator.single_point_convergence")
    return (Criterion.of("gpaw-default", calculators.scf_convergence(calc)),
            Criterion.of(f"{preset}-preset", calculators.scf_convergence(calc, True)))


def first_scf(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int] | None:
    """Energies (eV), log10 eigenstate and density changes of the first SCF table of a
    GPAW log, its number of valence electrons and the number of SCFs in the log (more
    than one: a relaxation); None without a finished table."""
    rows, nvalence, scfs = [], None, 0
    for line in path.read_text(errors="replace").splitlines():
        if nvalence is None and (m := VALENCE.match(line)):
            nvalence = float(m.group(1))
        if m := ROW.match(line):
            scfs += int(m.group(1)) == 1
            if scfs == 1:
                rows.append([float(g) if g.strip() else np.inf for g in m.groups()[1:]])
    if len(rows) < 3 or nvalence is None:
        return None
    a = np.array(rows)
    return a[:, 0], a[:, 1], a[:, 2], nvalence, scfs


def kind(path: Path, results: Path) -> str:
    """The stage a log belongs to, from where the screen writes it."""
    rel = path.relative_to(results).parts
    return rel[0] if rel[0] == "charges" else rel[1]


# Single points that converge as relaxations do, whatever single_point_convergence says:
# the ML prescreen's (their density gives the adatom's charge, their wave functions start
# the site's relaxation) and the charge-density differences' (their density is the result)
DENSITY_STAGES = ("adsorption", "charges")


def replay(results: Path, recorded_under: Criterion,
           candidates: list[Criterion]) -> list[dict]:
    """One row per (log, criterion): the iteration each criterion stops at and its energy
    difference to the recorded stop (logs recorded under ``recorded_under`` only)."""
    rows = []
    for path in sorted(results.rglob("*.txt")):
        scf = first_scf(path)
        if scf is None:
            continue
        energies, eig, dens, nval, scfs = scf
        recorded = recorded_under.stop(energies, eig, dens, nval)
        if recorded is None or recorded != len(energies) - 1:
            continue  # not a finished SCF under those criteria
        stage = kind(path, results)
        for crit in candidates:
            i = crit.stop(energies, eig, dens, nval)
            i = recorded if i is None else min(i, recorded)
            rows.append({"log": str(path.relative_to(results)), "stage": stage,
                         "single_point": scfs == 1,
                         "applies": scfs == 1 and stage not in DENSITY_STAGES,
                         "criterion": crit.name, "iterations_recorded": recorded + 1,
                         "iterations": i + 1,
                         "dE_meV": round(1000 * (energies[i] - energies[recorded]), 3)})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--preset", default="fast",
                        help="the preset whose single-point criterion is replayed last")
    parser.add_argument("--out", type=Path,
                        default=ROOT / "docs" / "benchmarks" / "scf_criterion.csv")
    args = parser.parse_args(argv)
    recorded_under, single_point = preset_criteria(args.preset)
    candidates = [*ALTERNATIVES, single_point]
    rows = replay(args.results.resolve(), recorded_under, candidates)
    if not any(r["applies"] for r in rows):
        raise SystemExit(f"no finished single point under {args.results} that the "
                         "criterion applies to (relaxations and "
                         f"{', '.join(DENSITY_STAGES)} are replayed apart)")
    for row in rows:
        row["code_version"] = code_version()
    write_rows(args.out, rows)
    last = ""
    print(f"{sum(r['applies'] for r in rows) // len(candidates)} single points the "
          "criterion applies to; shown apart: those that converge as relaxations do "
          f"({', '.join(DENSITY_STAGES)}) and relaxations' first SCFs")
    for crit in candidates:
        apart = [r for r in rows if r["criterion"] == crit.name and not r["applies"]]
        if apart:
            print(f"  {crit.name} where not applied: "
                  f"{sum(r['iterations_recorded'] for r in apart)} -> "
                  f"{sum(r['iterations'] for r in apart)} iterations")
        mine = [r for r in rows if r["criterion"] == crit.name and r["applies"]]
        recorded = sum(r["iterations_recorded"] for r in mine)
        used = sum(r["iterations"] for r in mine)
        worst = max(abs(r["dE_meV"]) for r in mine)
        by_stage = {}
        for r in mine:
            s = by_stage.setdefault(r["stage"], [0, 0])
            s[0] += r["iterations_recorded"]
            s[1] += r["iterations"]
        stages = " ".join(f"{k}={a}/{b}" for k, (a, b) in sorted(by_stage.items()))
        print(f"{crit.name}: {recorded} -> {used} iterations, max |dE| {worst:.2f} meV; "
              f"{stages}")
        last = (f"scf_criterion candidate={crit.name} iteration_ratio={recorded / used:.2f} "
                f"max_abs_dE_meV={worst:.2f} scfs={len(mine)}")
    print(last)


if __name__ == "__main__":
    main()
