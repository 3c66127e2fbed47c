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
from pathlib import Path

from bench_common import finished_interfaces, finished_sites, record_structure

from philicity import calculators
from philicity.energetics import EV_PER_A2_TO_J_PER_M2


def d3_energy(atoms, xc: str = "PBE") -> float:
    """DFT-D3(BJ) energy (eV) of ``atoms`` as they are."""
    atoms = atoms.copy()
    atoms.calc = calculators.dispersion_calculator({"dispersion": "d3bj", "xc": xc})
    return float(atoms.get_potential_energy())


def site_shifts(work: Path) -> list[dict]:
    """First-order D3 shift of E_b (eV) of every freely relaxed, finished site."""
    return [{"system": site["system"],
             "dE_b_D3_eV": d3_energy(record_structure(site["site"]))
             - d3_energy(record_structure(site["clean"]))}
            for site in finished_sites(work)]


def interface_shifts(work: Path) -> list[dict]:
    """First-order D3 shift of W_ad (J/m^2) of every finished interface."""
    rows = []
    for iface in finished_interfaces(work):
        try:
            e = {part: d3_energy(record_structure(iface[part]))
                 for part in ("interface", "metal", "coating")}
        except (OSError, ValueError):
            continue
        rows.append({"system": iface["system"], "W_ad_J_m2": iface["W_ad_J_m2"],
                     "dW_D3_J_m2": (e["metal"] + e["coating"] - e["interface"])
                     / iface["area_A2"] * EV_PER_A2_TO_J_PER_M2})
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
