"""Benchmark: how much a DFT-D3(BJ) correction would move a finished screen's E_b and W_ad,
to first order (at the PBE geometries, without relaxing again).

D3 is a sum of pair terms added to the DFT energy, so at fixed geometries its share of a
binding energy is D3(slab + adatom) - D3(clean slab) - D3(isolated atom, zero), and of a
work of adhesion (D3(metal part) + D3(coating part) - D3(interface)) / A. This reads the
relaxed structures a screen left under ``results/work`` (adsorbate records with their
clean slabs, adhesion records with their parts and interface), evaluates D3 on them with
the ``dftd3`` package (seconds) and prints one row per site and interface, and as its last
line exactly

    dispersion_shift sites=<n> interfaces=<m> max_abs_dEb_eV=<x> max_abs_dW_J_m2=<y>

It tells where ``calculator.dispersion: d3bj`` matters before paying for a screen with it
(which also relaxes with it: the full answer).

    python benchmarks/dispersion_shift.py --results results
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ase.io import read

EV_PER_A2_TO_J_PER_M2 = 16.021766


def d3_energy(atoms, xc: str = "PBE") -> float:
    """DFT-D3(BJ) energy (eV) of ``atoms`` as they are."""
    from dftd3.ase import DFTD3

    atoms = atoms.copy()
    atoms.calc = DFTD3(method=xc, damping="d3bj")
    return float(atoms.get_potential_energy())


def structure(record_path: Path):
    rec = json.loads(record_path.read_text())
    return read(record_path.parent / rec.get("structure", "final.extxyz"))


def site_shifts(work: Path) -> list[dict]:
    """First-order D3 shift of E_b (eV) of every relaxed, finished site."""
    rows = []
    for path in sorted((work / "adsorption").rglob("record.json")):
        rec = json.loads(path.read_text())
        if rec.get("kind") != "adsorbate" or rec.get("status") != "ok" \
                or rec.get("energy_eV") is None or not (path.parent / "final.extxyz").exists():
            continue
        kind = path.parts[path.parts.index("adsorption") + 2]
        cleans = list((work / "clean").glob(f"*/{kind}/{rec['name']}/{rec['miller']}/"
                                            f"t{rec['termination']}/record.json"))
        if not cleans:
            continue
        shift = d3_energy(structure(path)) - d3_energy(structure(cleans[0]))
        rows.append({"system": f"{rec['metal']} on {rec['name']}({rec['miller']}) "
                               f"{rec['site']}", "dE_b_D3_eV": shift})
    return rows


def interface_shifts(work: Path) -> list[dict]:
    """First-order D3 shift of W_ad (J/m^2) of every finished interface."""
    rows = []
    for path in sorted((work / "interfaces").rglob("adhesion/record.json")):
        rec = json.loads(path.read_text())
        if rec.get("status") != "ok" or rec.get("W_ad_J_m2") is None:
            continue
        parts = path.parent
        try:
            e_parts = (d3_energy(structure(parts / "metal" / "record.json"))
                       + d3_energy(structure(parts / "coating" / "record.json")))
            e_iface = d3_energy(structure(parts.parent / "relaxed" / "record.json"))
        except (OSError, ValueError):
            continue
        rows.append({"system": f"{rec['metal']}({rec['metal_miller']}) on "
                               f"{rec['name']}({rec['miller']})",
                     "W_ad_J_m2": rec["W_ad_J_m2"],
                     "dW_D3_J_m2": (e_parts - e_iface) / rec["area_A2"]
                     * EV_PER_A2_TO_J_PER_M2})
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=Path("results"))
    args = ap.parse_args(argv)
    work = args.results / "work"
    sites, ifaces = site_shifts(work), interface_shifts(work)
    print("| site | D3 shift of E_b (eV) |\n|---|---|")
    for r in sites:
        print(f"| {r['system']} | {r['dE_b_D3_eV']:+.3f} |")
    print("\n| interface | W_ad (J/m^2) | D3 shift of W_ad (J/m^2) |\n|---|---|---|")
    for r in ifaces:
        print(f"| {r['system']} | {r['W_ad_J_m2']:.3f} | {r['dW_D3_J_m2']:+.3f} |")
    print(f"dispersion_shift sites={len(sites)} interfaces={len(ifaces)} "
          f"max_abs_dEb_eV={max((abs(r['dE_b_D3_eV']) for r in sites), default=0):.3f} "
          f"max_abs_dW_J_m2={max((abs(r['dW_D3_J_m2']) for r in ifaces), default=0):.3f}")


if __name__ == "__main__":
    main()
