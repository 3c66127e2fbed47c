"""DFT helpers the jobs share: calculator settings of a candidate, SCF retries, slab single
points and relaxations, single points kept across kills, saved wave functions and ML
Hessians. Energies in eV, forces in eV/A, Hessians in eV/A^2."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.io import jsonio

from philicity import calculators, ml_then_dft
from philicity.config import settings_hash
from philicity.files import read_json
from philicity.jobs.mpi import is_master, write_atoms, write_json
from philicity.relax import Outcome, relax, single_point


def calc_settings(settings: dict, options: dict | None = None) -> dict:
    """Calculator settings for one candidate: magnetic moments switch spin on, a polar
    termination (``options["polar_termination"]``) the dipole correction."""
    calc = copy.deepcopy(settings["calculator"])
    if options and options.get("magmoms"):
        calc["spinpol"] = True
    if options and options.get("polar_termination"):
        calc["dipole_correction"] = True
    return calc


def apply_magmoms(atoms: Atoms, options: dict | None) -> None:
    """Initial magnetic moments (Bohr magnetons) by element from ``options["magmoms"]``."""
    moments = (options or {}).get("magmoms") or {}
    if moments:
        atoms.set_initial_magnetic_moments([moments.get(s, 0.0) for s in atoms.symbols])


def canonical_atoms(encoded: str) -> str:
    """ASE's JSON of an Atoms with sorted keys: the order of ``atoms.arrays`` (pymatgen's
    site properties) differs between runs on the same structure, which made equal
    geometries look different and recomputed a kept 35-minute single point."""
    return json.dumps(json.loads(encoded), sort_keys=True)


def point_key(atoms: Atoms, settings: dict, options: dict | None, **extra) -> dict:
    """What a kept single point was computed from: a rerun reuses it only if all match."""
    return {"settings_hash": settings_hash(settings), "options": options or {},
            "atoms": canonical_atoms(jsonio.encode(atoms)), **extra}


def same_key(kept: dict | None, key: dict) -> bool:
    """``kept`` (read back, possibly written before keys were canonical) matches ``key``."""
    if not kept or "atoms" not in kept:
        return False
    return {**kept, "atoms": canonical_atoms(kept["atoms"])} == key


def kept_result(path: Path, atoms: Atoms, settings: dict, options: dict | None,
                compute: Callable[[], dict],
                keep: Callable[[dict], bool] = lambda result: True) -> dict:
    """``compute()`` for ``atoms`` (a dict), kept in ``path`` beside the job's output under
    the key of the atoms, settings and options (when ``keep(result)``), so a job killed
    after some of its calculations does not redo them on the rerun."""
    key = point_key(atoms, settings, options)
    if (kept := read_kept(path, key)) is not None:
        return kept
    result = compute()
    if keep(result):
        write_kept(path, key, result)
    return result


def read_kept(path: Path, key: dict) -> dict | None:
    """The result kept in ``path`` if it was computed from ``key`` (:func:`point_key`),
    else None."""
    if path.is_file() and same_key((kept := read_json(path)).get("key"), key):
        return {k: v for k, v in kept.items() if k != "key"}
    return None


def write_kept(path: Path, key: dict, result: dict) -> None:
    """Keep ``result`` in ``path`` under ``key``, for :func:`read_kept`."""
    write_json(path, {"key": key, **result})


def kept_energy(path: Path, atoms: Atoms, settings: dict, options: dict | None,
                compute: Callable[[], float | None]) -> float | None:
    """Energy (eV) of a single point, kept in ``path`` (:func:`kept_result`; one that did
    not converge, None, is not kept)."""
    return kept_result(path, atoms, settings, options, lambda: {"energy_eV": compute()},
                       keep=lambda result: result["energy_eV"] is not None)["energy_eV"]


def with_scf_retries(run, settings: dict, options: dict | None) -> Outcome:
    """Call ``run(calc_settings, attempt)`` until its SCF converges, with safer settings
    each retry (``calculator.scf_retries``); every try is recorded in ``outcome.extra``."""
    base = calc_settings(settings, options)
    tries = []
    for attempt in range(base.get("scf_retries", 0) + 1):
        safer = calculators.safer_settings(base, attempt)
        outcome = run(safer, attempt)
        tries.append({"attempt": attempt, "mixer_beta": safer["mixer"]["beta"],
                      "maxiter": safer["maxiter"],
                      "nbands": safer.get("nbands", "default"),
                      "scf_converged": outcome.scf_converged,
                      "wall_s": round(outcome.wall_s, 2)})
        if outcome.scf_converged:
            break
    outcome.extra["scf_tries"] = tries
    outcome.wall_s = sum(t["wall_s"] for t in tries)
    return outcome


def save_wavefunctions(calc, path: Path) -> str:
    """Write a GPAW calculator's wave functions and density to ``path`` (.gpw), which a
    relaxation from the same atoms restarts from without an SCF (forces included)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(f"{path}.tmp")
    calc.write(tmp, mode="all")  # all ranks take part, rank 0 writes
    if is_master():
        tmp.replace(path)  # a kill never leaves half a wave-function file
    return str(path)


def bulk_single_point(atoms: Atoms, settings: dict, options: dict | None,
                      txt: str | Path) -> Outcome:
    """Energy of a bulk cell as it is (no forces), with the candidate's calculator (SCF
    retried)."""
    apply_magmoms(atoms, options)
    return with_scf_retries(lambda cs, _: single_point(
        atoms, calculators.make_calculator(cs, "bulk", txt=txt, single_point=True),
        forces=False), settings, options)


def slab_single_point(atoms: Atoms, settings: dict, options: dict | None,
                      txt: str | Path, forces: bool = True,
                      energy_only: bool = True) -> Outcome:
    """Energy of a slab as it is, with the configured calculator (SCF retried).
    ``energy_only``: the SCF stops on ``calculator.single_point_convergence``; False where
    its density or wave functions are used too (a charge-density difference, the ML
    prescreen's sites), which then converges as a relaxation's does."""
    apply_magmoms(atoms, options)
    return with_scf_retries(lambda cs, _: single_point(
        atoms, calculators.make_calculator(cs, "slab", txt=txt, single_point=energy_only),
        forces=forces),
        settings, options)


def relax_structure(atoms: Atoms, settings: dict, options: dict | None, outdir: Path,
                    checkpoint: str | Path, restart: str | Path | None = None,
                    hessian: np.ndarray | None = None, kind: str = "slab",
                    fmax_eV_A: float | None = None, cell: bool = False,
                    first_positions: np.ndarray | None = None) -> Outcome:
    """Relax a slab (with or without adatom), an interface or (``kind="bulk"``, ``cell``:
    with its lattice) a bulk cell with the configured calculator and optimizer, to
    ``fmax_eV_A`` (default ``relax.fmax_eV_A``) in at most ``relax.steps``;
    ``restart``: a .gpw of these atoms whose wave functions start the first SCF;
    ``hessian``: BFGS's initial Hessian; ``first_positions`` (with it): a proposed first
    step, taken if the start's forces point along it and kept if it lowers the energy
    (:class:`philicity.relax.GuardedBFGS`). An SCF
    failure is retried with safer settings, continuing from the checkpoint.

    With GPAW the wave functions of the last checkpoint frame are kept beside it
    (``{checkpoint stem}_state.gpw``, rewritten every step, deleted at the end), so a
    relaxation resumed after a kill or a wall-time limit gets that frame's forces without
    an SCF and starts its next SCF from converged wave functions."""
    apply_magmoms(atoms, options)
    rx = settings["relax"]
    state = Path(checkpoint).with_name(f"{Path(checkpoint).stem}_state.gpw")
    gpaw = settings["calculator"]["name"] == "gpaw"

    def run(safer: dict, attempt: int) -> Outcome:
        kept = [p for p in (state, restart) if p is not None and Path(p).exists()]
        if kept and attempt == 0:  # the killed run's last frame, else the single point
            calc = calculators.restart_calculator(kept[0], safer, txt=outdir / "calc.txt")
        else:
            calc = calculators.make_calculator(safer, kind, txt=outdir / "calc.txt")
        return relax(atoms, calc, fmax_eV_A or rx["fmax_eV_A"], rx["steps"], checkpoint,
                     rx["optimizer"], log=outdir / "opt.log", hessian=hessian, cell=cell,
                     first_positions=first_positions,
                     save_state=(lambda: save_wavefunctions(calc, state)) if gpaw else None)

    outcome = with_scf_retries(run, settings, options)
    if is_master():  # used up; a killed relaxation keeps them
        for path in (state, restart):
            if path is not None:
                Path(path).unlink(missing_ok=True)
    return outcome


def geometry_digest(atoms: Atoms) -> str:
    """A short hash of ``atoms`` (species, positions, cell, constraints), for file names of
    results computed once per geometry."""
    return hashlib.sha1(canonical_atoms(jsonio.encode(atoms)).encode()).hexdigest()[:12]


def ml_relaxed_file(atoms: Atoms, make_ml_calc: Callable[[], Calculator], ml: dict,
                    folder: Path, stem: str) -> str:
    """``atoms`` relaxed with the ML model (``ml``: ``fmax_eV_A``, ``steps``; constraints
    kept), saved once as ``{folder}/{stem}_ml_{geometry hash}.json`` (the start's hash);
    returns the path. ``make_ml_calc`` builds the ML calculator, only if the file is not
    there yet."""
    from ase.parallel import world

    path = folder / f"{stem}_ml_{geometry_digest(atoms)}.json"
    if not path.exists():
        out = ml_then_dft.ml_relax(atoms.copy(), make_ml_calc(), ml["fmax_eV_A"], ml["steps"],
                                   folder / f"{stem}_ml.traj")
        relaxed = out.atoms.copy()
        relaxed.calc = None
        write_atoms(path, relaxed)  # rank 0, not collective
        if is_master():
            (folder / f"{stem}_ml.traj").unlink(missing_ok=True)
        world.barrier()  # every rank reads the file next
    return str(path)


def ml_hessian_file(atoms: Atoms, make_ml_calc: Callable[[], Calculator], folder: Path,
                    stem: str) -> str:
    """The ML model's Hessian at ``atoms`` (the initial Hessian of their DFT relaxation),
    saved once as ``{folder}/{stem}_hessian_{geometry hash}.npy``; returns the path.
    ``make_ml_calc`` builds the ML calculator, only if the file is not there yet (a
    resumed job does not load the model)."""
    from ase.parallel import broadcast, world

    path = folder / f"{stem}_hessian_{geometry_digest(atoms)}.npy"
    if not path.exists():
        fixed = {int(i) for c in atoms.constraints for i in c.get_indices()}
        free = [i for i in range(len(atoms)) if i not in fixed]
        hessian = broadcast(ml_then_dft.ml_hessian(atoms, make_ml_calc(), free), 0)
        if is_master():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, hessian)
            tmp.replace(path)
        world.barrier()  # a rank that loads it must not find it missing
    return str(path)


def load_hessian(path: str | None) -> np.ndarray | None:
    """A saved initial Hessian, or None (ASE's default) if there is none or it is gone."""
    return np.load(path) if path and Path(path).exists() else None
