"""All file input and output: atomic writes, JSON records, versions, the ASE database."""

from __future__ import annotations

import json
import os
import platform
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ase import Atoms
from ase.io import write


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it into place,
    so a killed job never leaves a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | Path, data: dict) -> None:
    """Atomically write ``data`` as indented JSON."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=_jsonable) + "\n")


def read_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def _jsonable(obj):
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_atoms(path: str | Path, atoms: Atoms) -> None:
    """Atomically write a structure (format from the suffix, e.g. .extxyz or .traj).

    Not collective: ASE's ``write`` under MPI broadcasts its result from rank 0 to every
    rank, and the jobs call this on rank 0 only; that stray broadcast was received by the
    other ranks' next collective call (GPAW's atom synchronisation) and crashed the job."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    write(tmp, atoms, parallel=False)
    os.replace(tmp, path)


def _reads_as_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def versions() -> dict[str, str]:
    """Versions of the packages that decide a number."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("philicity", "ase", "pymatgen", "gpaw", "gpaw-data", "numpy", "spglib"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def interface_record_path(adhesion_json: str | Path, adhesion: dict) -> Path:
    """The record of the interface whose energy an adhesion record (``adhesion``, read
    from ``adhesion_json``) uses: the one it names (an interface escalated to a DFT
    relaxation, ``interface_record``), else ``relaxed/record.json`` beside its folder."""
    adhesion_json = Path(adhesion_json)
    if adhesion.get("interface_record"):
        return adhesion_json.parent / adhesion["interface_record"]
    return adhesion_json.parent.parent / "relaxed" / "record.json"


def collect_database(records: Iterable[str | Path], db_path: str | Path) -> int:
    """Write every JSON record (and its structure) into one ASE database, atomically.

    Returns the number of rows. Records whose structure is missing (failed
    candidates) are stored as empty Atoms with their status. Records in subfolders
    of a record's folder (the separated slabs of a W_ad calculation, an escalated
    interface's relaxation and its slabs) come along.
    """
    from ase.db import connect
    from ase.db.core import reserved_keys
    from ase.io import read

    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f".{db_path.stem}.tmp.db")
    tmp.unlink(missing_ok=True)
    n = 0
    with connect(tmp, append=False) as db:
        paths = {Path(r) for r in records}
        paths |= {sub for r in list(paths) for pattern in ("*/record.json", "*/*/record.json")
                  for sub in Path(r).parent.glob(pattern)}
        for rec_path in sorted(map(str, paths)):
            rec = read_json(rec_path)
            # the structure the record names (records written before they named it: final.extxyz)
            structure = Path(rec_path).with_name(rec.get("structure", "final.extxyz"))
            atoms = read(structure) if structure.is_file() else Atoms()
            kvp = {
                k: v
                for k, v in rec.items()
                if isinstance(v, (int, float, str, bool)) and k not in reserved_keys
            }
            for key, value in kvp.items():  # ase.db refuses strings that read as numbers
                if isinstance(value, str) and _reads_as_number(value):
                    kvp[key] = f"({value})"
            kvp["record"] = str(rec_path)
            db.write(atoms, key_value_pairs=kvp, data={"record": rec})
            n += 1
    os.replace(tmp, db_path)
    return n
