"""The records jobs write: one JSON per job folder, written last (a record means the
folder is complete), ``status`` ``ok`` or ``failed`` with the reason, the settings and
their hash, the versions, and the name of the structure file beside it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TypedDict

from ase import Atoms
from ase.io import read

from philicity import structures
from philicity.config import settings_hash
from philicity.files import read_json, versions
from philicity.jobs.mpi import is_master, write_atoms, write_json
from philicity.relax import Outcome

STRUCTURE_FILE = "final.extxyz"  # a record's structure, in the record's folder


# One type per job kind: what its record.json (or terminations.json, sites.json,
# prescreen.json, scan.json) holds. Energies in eV, forces in eV/A, lengths in A, areas
# in A^2, W in J/m^2. Every key may be missing from a record that is not ``ok``.
class Record(TypedDict, total=False):
    """What every record has."""

    kind: str
    status: str  # "ok", "failed", or "no_match" (interfaces: no lattice match)
    reason: str  # why not ok, naming the file where the input was at fault
    crashed: bool  # written for a job that raised (launch.call_job)
    settings: dict  # the stage's settings (config.stage_settings)
    settings_hash: str
    versions: dict  # package versions
    created: str


class CandidateRecord(Record, total=False):
    name: str
    cif: str
    formula: str
    elements: list[str]
    n_atoms: int


class TerminationsRecord(Record, total=False):
    name: str
    miller: str
    structure: str  # the bulk it was cut from: a CIF or compute_bulk's record
    terminations: list[dict]  # index, formula, n_atoms, area_A2, stoichiometric, atoms,
    #                           and E_single_point_eV, gamma_J_m2 when there was a choice
    selected: list[int]
    e_bulk_per_atom_eV: float | None


class SitesRecord(Record, total=False):
    name: str
    miller: str
    sites: list[dict]  # id, name, kind, position, termination
    all_sites: dict[str, list[dict]]  # per termination, unreduced
    selected: list[int]


class CalculationRecord(Record, total=False):
    """A single point or relaxation (``record``)."""

    structure: str  # the structure file, in the record's folder
    energy_eV: float | None
    fmax_eV_A: float | None
    steps: int
    resumed_steps: int
    relax_converged: bool
    scf_converged: bool
    scf_iterations: int | None
    scf_tries: list[dict]
    wall_s: float
    n_atoms: int
    formula: str
    error: str
    energy_initial_eV: float
    hessian_fallback_step: int | None
    initial_hessian: str  # "default" or "ml"
    first_step: str  # the ML-relaxed geometry as first step: taken, rejected, not_taken
    first_step_predicted_eV: float  # -F.d/2 at the start (relax.GuardedBFGS)


class AtomRecord(CalculationRecord, total=False):
    metal: str
    magmom: float | None


class BulkRecord(CalculationRecord, total=False):
    metal: str
    energy_per_atom_eV: float | None
    lattice_A: list[float]


class CleanSlabRecord(CalculationRecord, total=False):
    name: str
    miller: str
    termination: int
    area_A2: float


class PrescreenRecord(Record, total=False):
    name: str
    miller: str
    termination: int
    metal: str
    ml: dict
    sites: list[dict]  # see ml_then_dft.prescreen
    selected: list[str]
    ml_clean_slab_eV: float
    ml_atom_eV: float
    E_clean_slab_eV: float
    n_pruned: int


class AdsorbateRecord(CalculationRecord, total=False):
    name: str
    miller: str
    metal: str
    termination: int
    site: str
    site_kind: str
    stage: str  # dft_relaxed, dft_relaxed_from_ml, dft_single_point, pruned_by_ml
    flags: list[str]
    E_clean_slab_eV: float
    adatom_start_A: list[float]
    adatom_final_A: list[float]
    ml_energy_eV: float
    ml_E_b_atom_eV: float
    ml_flags: list[str]
    dft_single_point_eV: float | None
    kept_despite: list[str]


class InterfaceKey(TypedDict, total=False):
    """Which interface: the coating's facet and termination, the metal and its facet."""

    name: str
    miller: str
    termination: int
    metal: str
    metal_miller: str


class InterfaceScanRecord(Record, InterfaceKey, total=False):
    area_A2: float
    n_atoms: int
    strain_pct: float
    n_metal: int
    n_coating: int
    film_vectors_A: list[list[float]]
    scan: list[dict]  # offset, energy_eV, scf_converged, ...
    registry: list[float]
    atoms: str  # the lowest registry, ASE JSON
    ml_relax_converged: bool | None  # its ML relaxation's (dft_at_ml)
    registries_scf_failed: list[list[float]]  # offsets whose DFT single point failed


class InterfaceRecord(CalculationRecord, InterfaceKey, total=False):
    registry: list[float]
    area_A2: float


class AdhesionRecord(Record, InterfaceKey, total=False):
    area_A2: float
    strain_pct: float
    flags: list[str]
    E_interface_eV: float
    E_metal_eV: float | None
    E_coating_eV: float | None
    E_metal_unstrained_eV: float | None
    # part -> how far its DFT energy at the ML geometry lay above its cut's (eV); the
    # cut's is used for W_ad (E_metal_eV, E_coating_eV are the energies used)
    relaxed_part_above_cut_eV: dict[str, float]
    W_ad_J_m2: float
    W_sep_J_m2: float
    E_strain_J_m2: float
    metal_surface_energy_J_m2: float | None


def ensure_dir(path: str | Path) -> Path:
    """``path`` as a folder that exists."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def record(kind: str, outcome: Outcome | None, settings: dict, **fields) -> dict:
    """A job's record: kind, ``status: ok``, settings and hash, versions, time, the MPI
    ranks it ran on (its wall times cost that many cores), and with an ``outcome`` its
    energy (eV), fmax (eV/A), steps, convergence, SCF iterations and wall time (s);
    ``fields`` last (they may set ``status`` and ``reason``)."""
    from ase.parallel import world

    rec = {
        "kind": kind,
        "status": "ok",
        "settings": settings,
        "settings_hash": settings_hash(settings),
        "versions": versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "mpi_ranks": world.size,
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


def upstream_failure(**records: dict) -> str | None:
    """The reason of the first input record that did not succeed, as ``"{name} failed:
    {reason}"`` (names with underscores read as words), or None if all are ``ok``."""
    for name, rec in records.items():
        if rec.get("status") != "ok":
            return f"{name.replace('_', ' ')} failed: {rec.get('reason')}"
    return None


def write_failed(path: str | Path, rec: dict, reason: str, status: str = "failed") -> dict:
    """Write ``rec`` as not ``ok`` (``status``, with the reason) to ``path``; return it."""
    rec.update(status=status, reason=reason)
    ensure_dir(Path(path).parent)
    write_json(path, rec)
    return rec


def finish(outdir: Path, rec: dict, atoms: Atoms | None,
           checkpoint: str | Path | None = None) -> dict:
    """Write the structure (named in the record), keep the trajectory as ``relax.traj``,
    and write ``record.json`` last; return the record."""
    if atoms is not None:
        rec["structure"] = STRUCTURE_FILE
        write_atoms(outdir / STRUCTURE_FILE, atoms)
    if checkpoint is not None and Path(checkpoint).exists() and is_master():
        Path(checkpoint).replace(outdir / "relax.traj")
    write_json(outdir / "record.json", rec)
    return rec


def structure_of(record_path: str | Path) -> Atoms:
    """The structure a record names, from its folder (records written before they named
    it have it as final.extxyz)."""
    record_path = Path(record_path)
    return read(record_path.with_name(read_json(record_path).get("structure",
                                                                 STRUCTURE_FILE)))


def bulk_structure(path: str | Path):
    """A bulk structure as pymatgen: a CIF, compute_bulk's record (its relaxed
    structure; raises CandidateError if the bulk job failed) or a structure file."""
    if str(path).lower().endswith(".cif"):
        return structures.read_structure(path)
    if str(path).endswith(".json"):
        rec = read_json(path)
        if rec.get("status") != "ok":
            raise structures.CandidateError(path, f"bulk failed: {rec.get('reason')}")
        return structures.AseAtomsAdaptor.get_structure(structure_of(path))
    return structures.AseAtomsAdaptor.get_structure(read(path))


def termination_of(terminations: dict, index: int) -> dict:
    """Entry ``index`` of a terminations.json."""
    return next(t for t in terminations["terminations"] if t["index"] == index)


def termination_options(options: dict | None, polar: bool) -> dict | None:
    """A candidate's options for the calculations on one termination: on a polar one
    (screened because the facet has no other, or by ``termination: all``) they carry
    ``polar_termination``, which switches the dipole correction on
    (``jobs.dft.calc_settings``) and flags the rows that use it."""
    return {**(options or {}), "polar_termination": True} if polar else options


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
        ensure_dir(Path(path).parent)
        write_json(path, rec)
