"""What the benchmark scripts share: the shipped CIFs, the code version of a row, the CSV
they write, and the finished calculations of a screen they read."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

from ase import Atoms
from ase.io import read

ROOT = Path(__file__).resolve().parents[1]


def code_version() -> str:
    """The code version that produced a row (short commit, ``+`` if src/ was edited)."""
    def git(*a: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True,
                              text=True).stdout.strip()
    return git("rev-parse", "--short", "HEAD") + ("+" if git("status", "--porcelain",
                                                             "src") else "")


def shipped_cif(name: str, *kinds: str) -> Path:
    """``structures/{kind}/{name}.cif`` for the first of ``kinds`` (``anodes``,
    ``coatings``) that ships it, else the last kind's path (so an error names it)."""
    paths = [ROOT / "structures" / kind / f"{name}.cif" for kind in kinds]
    return next((p for p in paths if p.exists()), paths[-1])


def write_rows(path: Path, rows: list[dict]) -> None:
    """The rows as a CSV at ``path`` (its folder made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


# -- reading a finished screen's relaxed structures (results/work) ---------------------

def record_structure(record_path: Path) -> Atoms:
    """The structure a calculation's ``record.json`` points to (its final geometry)."""
    rec = json.loads(record_path.read_text())
    return read(record_path.parent / rec.get("structure", "final.extxyz"))


def finished_sites(work: Path, best_only: bool = False) -> list[dict]:
    """Every finished, freely relaxed DFT site under ``work/adsorption`` with the record
    of its clean slab (``system``, ``metal``, ``site``, ``clean``, ``energy_eV``); with
    ``best_only`` the lowest-energy one per surface and metal."""
    found = []
    for path in sorted((work / "adsorption").rglob("record.json")):
        rec = json.loads(path.read_text())
        if (rec.get("kind") != "adsorbate" or rec.get("status") != "ok"
                or rec.get("energy_eV") is None or rec.get("site_energy_mode") == "held"):
            continue
        kind = path.parts[path.parts.index("adsorption") + 2]
        cleans = sorted((work / "clean").glob(f"*/{kind}/{rec['name']}/{rec['miller']}/"
                                              f"t{rec['termination']}/record.json"))
        if cleans:
            found.append({"system": f"{rec['metal']} on {rec['name']}({rec['miller']}) "
                                    f"{rec['site']}",
                          "surface": (kind, rec["name"], rec["miller"], rec["termination"],
                                      rec["metal"]),
                          "metal": rec["metal"], "energy_eV": rec["energy_eV"],
                          "site": path, "clean": cleans[0]})
    if not best_only:
        return found
    best: dict[tuple, dict] = {}
    for site in found:
        if site["surface"] not in best or site["energy_eV"] < best[site["surface"]]["energy_eV"]:
            best[site["surface"]] = site
    return [best[key] for key in sorted(best)]


def finished_interfaces(work: Path) -> list[dict]:
    """Every finished interface under ``work/interfaces``: the records of its structure
    (``interface``) and of its two parts (``metal``, ``coating``), its area and W_ad."""
    out = []
    for path in sorted((work / "interfaces").rglob("adhesion/record.json")):
        rec = json.loads(path.read_text())
        relaxed = path.parent.parent / "relaxed" / "record.json"
        if rec.get("status") != "ok" or rec.get("W_ad_J_m2") is None or not relaxed.exists():
            continue
        out.append({"system": f"{rec['metal']}({rec['metal_miller']}) on "
                              f"{rec['name']}({rec['miller']})",
                    "interface": relaxed, "metal": path.parent / "metal" / "record.json",
                    "coating": path.parent / "coating" / "record.json",
                    "area_A2": rec["area_A2"], "W_ad_J_m2": rec["W_ad_J_m2"]})
    return out
