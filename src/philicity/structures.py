"""CIF in, validated bulk structure out.

A candidate is one CIF file plus an optional sidecar YAML beside it
(``X.cif`` + ``X.yaml``) with per-candidate options (Miller indices,
termination choice, magnetic moments).  Every problem with the input raises
:class:`CandidateError`, whose message names the file and the reason.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from ase import Atoms
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.cif import CifParser
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

ALKALI = frozenset({"Li", "Na", "K", "Rb", "Cs"})
MIN_DISTANCE_A = 0.7  # two atoms closer than this (angstrom) mean a broken CIF


class CandidateError(ValueError):
    """A candidate's input cannot be used; the message names the file and the reason."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def read_structure(path: str | Path) -> Structure:
    """Read and validate one CIF: readable, one ordered structure, no overlapping atoms.

    Returns the conventional standard cell (pymatgen ``SpacegroupAnalyzer``), so slabs
    and Miller indices refer to the conventional lattice, as in the literature.
    """
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise CandidateError(path, f"broken symbolic link (to {path.readlink()})")
    if not path.is_file():
        raise CandidateError(path, "file not found")
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise CandidateError(path, f"cannot be read ({exc.strerror})") from exc
    blocks = re.findall(r"^\s*data_(\S*)", text, flags=re.MULTILINE)
    if len(blocks) > 1:
        raise CandidateError(path, f"{len(blocks)} data blocks ({', '.join(blocks)}); "
                             "one structure per file: split it into one CIF per candidate")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            structures = CifParser(path).parse_structures(primitive=False)
        except Exception as exc:  # pymatgen raises many types for broken CIFs
            said = _pymatgen_said(caught)
            raise CandidateError(
                path, f"not a readable CIF: {said or f'{type(exc).__name__}: {exc}'}"
            ) from exc
    if not structures or len(structures[0]) == 0:
        said = _pymatgen_said(caught)
        raise CandidateError(path, "the CIF holds no structure" + (f": {said}" if said else ""))
    structure = structures[0]
    if not structure.is_ordered:
        partial = sorted(
            {f"{site.species}" for site in structure if not site.is_ordered}
        )
        raise CandidateError(
            path,
            "disordered structure (partial occupancies: "
            + ", ".join(partial)
            + "); supply an ordered supercell",
        )
    if len(structure) > 1:
        dmat = structure.distance_matrix + np.eye(len(structure)) * 1e6
        if dmat.min() < MIN_DISTANCE_A:
            raise CandidateError(
                path, f"atoms closer than {MIN_DISTANCE_A} A ({dmat.min():.2f} A): broken CIF"
            )
    try:
        return SpacegroupAnalyzer(structure, symprec=0.01).get_conventional_standard_structure()
    except Exception as exc:
        raise CandidateError(path, f"symmetry analysis failed ({exc})") from exc


def _pymatgen_said(caught: list) -> str:
    """What pymatgen warned while failing to read a CIF: its own reason (an occupancy
    above 1, a missing cell length), which its exception often does not carry."""
    said = []
    for w in caught:
        text = str(w.message).strip()
        if text and text not in said:
            said.append(text)
    return "; ".join(said)


def read_sidecar(cif_path: str | Path) -> dict:
    """Read the optional ``X.yaml`` beside ``X.cif``, checked against the schema's
    candidate definition; an empty dict when there is none."""
    from philicity.config import ConfigError, candidate_keys, validate_candidate

    sidecar = Path(cif_path).with_suffix(".yaml")
    if not sidecar.is_file():
        return {}
    try:
        data = yaml.safe_load(sidecar.read_text()) or {}
    except yaml.YAMLError as exc:
        raise CandidateError(sidecar, f"not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise CandidateError(sidecar, "must be a mapping of options")
    unknown = set(data) - set(candidate_keys())
    if unknown:
        raise CandidateError(
            sidecar, f"unknown keys {sorted(unknown)}; allowed: {candidate_keys()}"
        )
    try:
        validate_candidate(data, str(sidecar))
    except ConfigError as exc:
        raise CandidateError(sidecar, str(exc).removeprefix(f"{sidecar}: ")) from exc
    return data


@dataclass
class Candidate:
    """One coating CIF found in the structures folder: its name (the file stem), path,
    elements and reduced formula (None if it cannot be read: its check job fails the row
    with the reason), sidecar options, and a problem with the sidecar found before any job
    (``error``)."""

    name: str
    path: Path
    elements: list[str] | None
    sidecar: dict
    error: str | None = None
    options: dict = field(default_factory=dict)
    formula: str | None = None


def find_candidates(folder: str | Path) -> list[Candidate]:
    """Every ``*.cif`` in ``folder`` (any case of the suffix; broken links included, to
    fail as rows), sorted by name. Two files with one name (``Ag.cif``, ``Ag.CIF``) are
    refused: which one is meant cannot be told."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CandidateError(folder, "no such folder")
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() != ".cif" or path.name.startswith("."):
            continue
        if path.stem in found:
            raise CandidateError(path, f"{found[path.stem].name} has the same name: keep one")
        found[path.stem] = path
    out = []
    for name, path in found.items():
        try:
            structure = read_structure(path)
            els, formula = elements(structure), structure.composition.reduced_formula
        except CandidateError:
            els = formula = None  # the check_candidate job reports why
        try:
            sidecar, error = read_sidecar(path), None
        except CandidateError as exc:
            sidecar, error = {}, str(exc)
        out.append(Candidate(name, path, els, sidecar, error, formula=formula))
    return out


def select_candidates(found: list[Candidate], wanted: str | list[str], excluded: list[str],
                      where: str = "config") -> list[Candidate]:
    """The candidates a config asks for (``"all"`` or names), minus ``excluded``."""
    by_name = {c.name: c for c in found}
    if wanted == "all":
        names = list(by_name)
    else:
        missing = sorted(set(wanted) - set(by_name))
        if missing:
            raise CandidateError(where, f"key 'coatings': no CIF for {missing} "
                                 f"(found: {sorted(by_name)})")
        names = list(wanted)
    return [by_name[n] for n in names if n not in excluded]


def elements(structure: Structure) -> list[str]:
    """Chemical symbols in the structure, sorted."""
    return sorted({el.symbol for el in structure.composition.elements})


def contains_foreign_alkali(element_list: list[str], metal: str) -> bool:
    """True when a coating holds an alkali metal other than the anode metal."""
    return any(el in ALKALI and el != metal for el in element_list)


def to_atoms(structure: Structure) -> Atoms:
    """pymatgen Structure -> ASE Atoms (periodic in 3D)."""
    atoms = AseAtomsAdaptor.get_atoms(structure)
    atoms.pbc = True
    return atoms


def isolated_atom(symbol: str, box_A: float) -> Atoms:
    """One atom in a slightly non-cubic box (edges box, box, 1.05 box in angstrom).

    The broken cubic symmetry lets the spin-polarized atom find its Hund's-rule
    ground state instead of a spherically averaged one.
    """
    cell = np.array([box_A, box_A, 1.05 * box_A])
    return Atoms(symbol, positions=[cell / 2], cell=cell, pbc=False)
