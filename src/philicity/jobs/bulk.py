"""Jobs of the bulk stage (``workflow/rules/bulk.smk``): check a candidate, isolated
atom, bulk metal."""

from __future__ import annotations

import time
from pathlib import Path

from ase.filters import FrechetCellFilter
from ase.optimize import BFGS

from philicity import (
    calculators,
    energetics,
    structures,
)
from philicity.jobs.common import (
    _finish,
    _outdir,
    _record,
    write_json,
)
from philicity.relax import single_point


def check_candidate(cif: str | Path, name: str, settings: dict, out_json: str | Path,
                    preflight_error: str | None = None) -> dict:
    """Validate one CIF (+ sidecar) for the configured calculator; always writes a record.

    ``preflight_error`` carries a problem found while the workflow was planned
    (a broken sidecar YAML), so it lands in the ranking like any other.
    """
    rec = {"name": name, "cif": str(cif)}
    try:
        if preflight_error:
            raise structures.CandidateError(cif, preflight_error)
        structure = structures.read_structure(cif)
        missing = calculators.unsupported_elements(structures.elements(structure),
                                                   settings["calculator"])
        if missing:
            raise structures.CandidateError(
                cif, f"elements {missing} cannot be treated by the "
                f"{settings['calculator']['name']} calculator"
                + (f" (no {settings['calculator']['xc']} PAW setup)"
                   if settings["calculator"]["name"] == "gpaw" else ""),
            )
        rec.update(status="ok", formula=structure.composition.reduced_formula,
                   elements=structures.elements(structure), n_atoms=len(structure))
    except structures.CandidateError as exc:
        rec.update(status="failed", reason=str(exc))
    write_json(out_json, rec)
    return rec


def compute_atom(metal: str, settings: dict, outdir: str | Path) -> dict:
    """Isolated spin-polarized atom in a box: the literature's E_b reference."""
    outdir = _outdir(outdir)
    atoms = structures.isolated_atom(metal, settings["calculator"]["atom_box_A"])
    calc = calculators.make_calculator(settings["calculator"], "atom", txt=outdir / "calc.txt")
    outcome = single_point(atoms, calc, forces=False)
    rec = _record("atom", outcome, settings, metal=metal,
                  magmom=float(outcome.atoms.calc.get_magnetic_moment())
                  if outcome.energy_eV is not None and settings["calculator"]["name"] == "gpaw"
                  else None)
    _finish(outdir, rec, outcome)
    return rec


def compute_bulk(cif: str | Path, metal: str, settings: dict, outdir: str | Path) -> dict:
    """Bulk anode metal: energy per atom, with the lattice relaxed if the config asks."""
    outdir = _outdir(outdir)
    atoms = structures.to_atoms(structures.read_structure(cif))
    calc = calculators.make_calculator(settings["calculator"], "bulk", txt=outdir / "calc.txt")
    if settings["bulk"]["relax_lattice"]:
        start = time.perf_counter()
        atoms.calc = calc
        opt = BFGS(FrechetCellFilter(atoms), logfile=str(outdir / "opt.log"))
        converged = bool(opt.run(fmax=settings["bulk"]["fmax_eV_A"], steps=100))
        outcome = single_point(atoms, calc)
        outcome.steps, outcome.relax_converged = opt.nsteps, converged
        outcome.wall_s += time.perf_counter() - start
    else:
        outcome = single_point(atoms, calc)
    e_atom = (energetics.energy_per_atom(outcome.energy_eV, len(atoms))
              if outcome.energy_eV is not None else None)
    rec = _record("bulk", outcome, settings, metal=metal, energy_per_atom_eV=e_atom,
                  lattice_A=outcome.atoms.cell.cellpar()[:3].tolist())
    if e_atom is None:
        rec.update(status="failed", reason="bulk SCF did not converge")
    _finish(outdir, rec, outcome)
    return rec

