"""What every job shares: rank-0-only writers, records, kept single points, SCF retries,
slab single points and relaxations, saved wave functions and ML Hessians.

Under MPI (``philicity.launch``) every rank runs the same function and GPAW splits the
work; files are written by rank 0 only (``write_json``, ``write_atoms`` and the moves
below), while GPAW's and ASE's own writers (text logs, trajectories, .gpw) do the same.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import jsonio, read

from philicity import (
    calculators,
    fastpath,
    io,
    structures,
)
from philicity.config import settings_hash
from philicity.io import read_json, versions
from philicity.relax import Outcome, relax, single_point


def _is_master() -> bool:
    """True on MPI rank 0, and in serial runs."""
    from ase.parallel import world

    return world.rank == 0


def _master_only(write: Callable[..., None]) -> Callable[..., None]:
    """``write`` on MPI rank 0 only: the other ranks computed the same result."""

    @functools.wraps(write)
    def on_master(*args, **kwargs) -> None:
        if _is_master():
            write(*args, **kwargs)

    return on_master


write_json = _master_only(io.write_json)


write_atoms = _master_only(io.write_atoms)


def write_crash_records(rule: str, exc: BaseException, failure: dict) -> None:
    """A failed record in each of a crashed job's JSON outputs (``failure["records"]``),
    with the candidate's file, the wildcards (``failure["fields"]``) and the reason, so the
    tables list the candidate as failed instead of losing it."""
    fields = dict(failure.get("fields") or {})
    candidate = fields.pop("candidate", None)
    reason = (f"{candidate + ': ' if candidate else ''}{rule} failed: "
              f"{type(exc).__name__}: {exc}".strip())
    if failure.get("log"):
        reason += f" (traceback in {failure['log']})"
    rec = {"kind": rule, "status": "failed", "reason": reason, "crashed": True,
           "versions": versions(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           **fields}
    if "term" in fields:
        rec["termination"] = int(fields["term"])
    if "site" in fields and "term" in fields:
        rec["site"] = f"t{fields['term']}-{fields['site']}"
    for path in failure.get("records", []):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_json(path, rec)


def _outdir(path: str | Path) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _calc_settings(settings: dict, options: dict | None = None) -> dict:
    """Calculator settings for one candidate: magnetic moments switch spin on."""
    calc = copy.deepcopy(settings["calculator"])
    if options and options.get("magmoms"):
        calc["spinpol"] = True
    return calc


def _apply_magmoms(atoms: Atoms, options: dict | None) -> None:
    moments = (options or {}).get("magmoms") or {}
    if moments:
        atoms.set_initial_magnetic_moments([moments.get(s, 0.0) for s in atoms.symbols])


def _record(kind: str, outcome: Outcome | None, settings: dict, **fields) -> dict:
    rec = {
        "kind": kind,
        "status": "ok",
        "settings": settings,
        "settings_hash": settings_hash(settings),
        "versions": versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if outcome is not None:
        rec.update(
            energy_eV=outcome.energy_eV,
            fmax_eV_A=outcome.fmax_eV_A,
            steps=outcome.steps,
            resumed_steps=outcome.resumed_steps,
            relax_converged=outcome.relax_converged,
            scf_converged=outcome.scf_converged,
            scf_iterations=outcome.scf_iterations,
            wall_s=round(outcome.wall_s, 2),
            n_atoms=len(outcome.atoms),
            formula=outcome.atoms.get_chemical_formula(),
        )
        if outcome.error:
            rec["error"] = outcome.error
        rec.update(outcome.extra)
    rec.update(fields)
    return rec


def _finish(outdir: Path, rec: dict, outcome: Outcome | None,
            checkpoint: str | Path | None = None) -> None:
    """Write the structure, keep the trajectory, and write the record last: a record
    means the folder is complete."""
    if outcome is not None:
        write_atoms(outdir / "final.extxyz", outcome.atoms)
    if checkpoint is not None and Path(checkpoint).exists() and _is_master():
        Path(checkpoint).replace(outdir / "relax.traj")
    write_json(outdir / "record.json", rec)


def _point_key(atoms: Atoms, settings: dict, options: dict | None, **extra) -> dict:
    """What a kept single point was computed from: a rerun reuses it only if all match."""
    return {"settings_hash": settings_hash(settings), "options": options or {},
            "atoms": _canonical_atoms(jsonio.encode(atoms)), **extra}


def _canonical_atoms(encoded: str) -> str:
    """ASE's JSON of an Atoms with sorted keys: the order of ``atoms.arrays`` (pymatgen's
    site properties) differs between runs on the same structure, which made equal
    geometries look different and recomputed a kept 35-minute single point."""
    return json.dumps(json.loads(encoded), sort_keys=True)


def _same_key(kept: dict | None, key: dict) -> bool:
    """``kept`` (read back, possibly written before keys were canonical) matches ``key``."""
    if not kept or "atoms" not in kept:
        return False
    return {**kept, "atoms": _canonical_atoms(kept["atoms"])} == key


def _kept_energy(path: Path, atoms: Atoms, settings: dict, options: dict | None,
                 compute) -> float | None:
    """Energy (eV) of a single point, kept in ``path`` beside the job's output so a job
    killed after some of its single points does not redo them on the rerun."""
    key = _point_key(atoms, settings, options)
    if path.is_file() and _same_key((kept := read_json(path)).get("key"), key):
        return kept["energy_eV"]
    energy = compute()
    if energy is not None:
        write_json(path, {"key": key, "energy_eV": energy})
    return energy


def _termination(terminations: dict, index: int) -> dict:
    return next(t for t in terminations["terminations"] if t["index"] == index)


def _bulk_structure(path: str | Path):
    """A bulk structure as pymatgen: a CIF, or compute_bulk's record (its relaxed
    ``final.extxyz``); raises CandidateError if the bulk job failed."""
    if str(path).lower().endswith(".cif"):
        return structures.read_structure(path)
    if str(path).endswith(".json"):
        rec = read_json(path)
        if rec.get("status") != "ok":
            raise structures.CandidateError(path, f"bulk failed: {rec.get('reason')}")
        path = Path(path).with_name("final.extxyz")
    return structures.AseAtomsAdaptor.get_structure(read(path))


def _with_scf_retries(run, settings: dict, options: dict | None) -> Outcome:
    """Call ``run(calc_settings)`` until its SCF converges, with safer settings each retry
    (``calculator.scf_retries``); every try is recorded in ``outcome.extra``."""
    base = _calc_settings(settings, options)
    tries = []
    for attempt in range(base.get("scf_retries", 0) + 1):
        calc_settings = calculators.safer_settings(base, attempt)
        outcome = run(calc_settings, attempt)
        tries.append({"attempt": attempt, "mixer_beta": calc_settings["mixer"]["beta"],
                      "maxiter": calc_settings["maxiter"],
                      "nbands": calc_settings.get("nbands", "default"),
                      "scf_converged": outcome.scf_converged,
                      "wall_s": round(outcome.wall_s, 2)})
        if outcome.scf_converged:
            break
    outcome.extra["scf_tries"] = tries
    outcome.wall_s = sum(t["wall_s"] for t in tries)
    return outcome


def _save_wavefunctions(calc, path: Path) -> str:
    """Write a GPAW calculator's wave functions and density to ``path`` (.gpw), which a
    relaxation from the same atoms restarts from without an SCF (forces included)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(f"{path}.tmp")
    calc.write(tmp, mode="all")  # all ranks take part, rank 0 writes
    if _is_master():
        tmp.replace(path)  # a kill never leaves half a wave-function file
    return str(path)


def _slab_single_point(atoms: Atoms, settings: dict, options: dict | None,
                       txt: str | Path, forces: bool = True) -> Outcome:
    """Energy of a slab as it is, with the configured calculator (SCF retried)."""
    _apply_magmoms(atoms, options)
    return _with_scf_retries(lambda cs, _: single_point(
        atoms, calculators.make_calculator(cs, "slab", txt=txt), forces=forces),
        settings, options)


def _relax_slab(atoms: Atoms, settings: dict, options: dict | None, outdir: Path,
                checkpoint: str | Path, restart: str | Path | None = None,
                hessian: np.ndarray | None = None) -> Outcome:
    """Relax a slab (with or without adatom) with the configured calculator and optimizer;
    ``restart``: a .gpw of these atoms whose wave functions start the first SCF;
    ``hessian``: BFGS's initial Hessian. An SCF failure is retried with safer settings,
    continuing from the checkpoint.

    With GPAW the wave functions of the last checkpoint frame are kept beside it
    (``{checkpoint stem}_state.gpw``, rewritten every step, deleted at the end), so a
    relaxation resumed after a kill or a wall-time limit gets that frame's forces without
    an SCF and starts its next SCF from converged wave functions."""
    _apply_magmoms(atoms, options)
    rx = settings["relax"]
    state = Path(checkpoint).with_name(f"{Path(checkpoint).stem}_state.gpw")
    gpaw = settings["calculator"]["name"] == "gpaw"

    def run(calc_settings: dict, attempt: int) -> Outcome:
        kept = [p for p in (state, restart) if p is not None and Path(p).exists()]
        if kept and attempt == 0:  # the killed run's last frame, else the single point
            calc = calculators.restart_calculator(kept[0], txt=outdir / "calc.txt")
        else:
            calc = calculators.make_calculator(calc_settings, "slab", txt=outdir / "calc.txt")
        return relax(atoms, calc, rx["fmax_eV_A"], rx["steps"], checkpoint, rx["optimizer"],
                     log=outdir / "opt.log", hessian=hessian,
                     save_state=(lambda: _save_wavefunctions(calc, state)) if gpaw else None)

    outcome = _with_scf_retries(run, settings, options)
    if _is_master():  # used up; a killed relaxation keeps them
        for path in (state, restart):
            if path is not None:
                Path(path).unlink(missing_ok=True)
    return outcome


def _ml_hessian_file(atoms: Atoms, ml_calc, folder: Path, stem: str) -> str:
    """The ML model's Hessian at ``atoms`` (the initial Hessian of their DFT relaxation),
    saved once as ``{folder}/{stem}_hessian_{geometry hash}.npy``; returns the path."""
    from ase.parallel import broadcast

    digest = hashlib.sha1(_canonical_atoms(jsonio.encode(atoms)).encode()).hexdigest()[:12]
    path = folder / f"{stem}_hessian_{digest}.npy"
    if not path.exists():
        fixed = {int(i) for c in atoms.constraints for i in c.get_indices()}
        free = [i for i in range(len(atoms)) if i not in fixed]
        hessian = broadcast(fastpath.ml_hessian(atoms, ml_calc, free), 0)
        if _is_master():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, hessian)
            tmp.replace(path)
    return str(path)


def _load_hessian(path: str | None) -> np.ndarray | None:
    """A saved initial Hessian, or None (ASE's default) if there is none or it is gone."""
    return np.load(path) if path and Path(path).exists() else None

