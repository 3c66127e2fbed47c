"""Convergence of E_b and W_ad with the numerical settings, one setting at a time, on one
coating.

Starts from a preset (default ``fast``) and varies the plane-wave cutoff, the k-point
density, the slab thickness and the vacuum one at a time (thickness and vacuum apply to
the adsorption slab and to both sides of the interface). Each row is
E_b = E(slab + adatom) - E(slab) - E(atom) from single points at a fixed geometry (the
adatom at ``--height`` above the top layer of the unrelaxed slab), and
W_ad = (E(metal film) + E(coating slab) - E(interface)) / A from single points of the
unrelaxed lattice-matched interface (registry offset 0, the preset's gap) and its two
halves in the same cell, so only the numerics change between rows; the atom reference
is recomputed with every cutoff. Prints a Markdown table with E_b, W_ad and their
change from the first row of each block.

    python benchmarks/convergence.py                      # Na on Al(100) hollow
    python benchmarks/convergence.py --coating Cu --miller 111 --site hollow0
    python benchmarks/convergence.py --only kpt_density --values 2,4,6,8

The k-point density (points per reciprocal A) becomes a Gamma-centred mesh per cell; the
value column gives the adsorption slab's mesh beside the density.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path

from bench_common import shipped_cif

from philicity.launch import one_blas_thread  # stdlib only: runs before numpy loads

one_blas_thread(os.environ)

from ase.calculators.calculator import kpts2sizeandoffsets  # noqa: E402

from philicity import calculators, energetics, interfaces, sites, slabs, structures  # noqa: E402
from philicity import config as cfg  # noqa: E402
from philicity.relax import single_point  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCANS = {
    "ecut_eV": ("calculator", [300, 400, 500]),
    "kpt_density": ("calculator", [2.0, 3.0, 4.0]),
    "min_thickness_A": ("slab", [5.0, 7.0, 9.0]),
    "vacuum_A": ("slab", [10.0, 12.0, 15.0]),
}


def binding_energy(coating: str, miller: str, metal: str, site_name: str, height_A: float,
                   settings: dict) -> tuple[float, int, str, float]:
    """E_b (eV), atoms in the slab, its k-point mesh and wall time (s) at one setting."""
    start = time.perf_counter()
    bulk = structures.read_structure(shipped_cif(coating, "coatings"))
    sl = settings["slab"]
    raw = slabs.generate_terminations(bulk, slabs.str_to_miller(miller),
                                      sl["min_thickness_A"], sl["vacuum_A"])
    slab = slabs.finish_slab(raw[0], sl["min_lateral_A"], sl["fixed_layers"],
                             sl["layer_tolerance_A"], sl["max_atoms"])
    found = sites.find_sites(slab, settings["sites"]["kinds"], settings["sites"]["symm_reduce"])
    site = next(s for s in found if s["name"] == site_name)
    with_adatom = sites.place_adatom(slab, site, metal)
    top = slab.positions[:, 2].max()
    with_adatom.positions[-1, 2] = top + height_A
    calc = settings["calculator"]
    e_slab = single_point(slab, calculators.make_calculator(calc, "slab"), forces=False)
    e_ads = single_point(with_adatom, calculators.make_calculator(calc, "slab"), forces=False)
    e_atom = single_point(structures.isolated_atom(metal, calc["atom_box_A"]),
                          calculators.make_calculator(calc, "atom"), forces=False)
    e_b = e_ads.energy_eV - e_slab.energy_eV - e_atom.energy_eV
    mesh = kpts2sizeandoffsets(atoms=slab, **calculators.kpoints(calc))[0]
    return e_b, len(slab), "x".join(map(str, mesh)), time.perf_counter() - start


def work_of_adhesion(coating: str, miller: str, metal: str, metal_miller: str,
                     settings: dict) -> tuple[float, int, float]:
    """W_ad (J/m^2) of the smallest metal/coating interface within the preset's bounds,
    its atom count and the wall time (s), from single points at the built geometry."""
    start = time.perf_counter()
    ic, sl, calc = settings["interface"], settings["slab"], settings["calculator"]
    found = interfaces.build_interfaces(
        # the metal an anode, else a coating (EMT tests use Au)
        structures.read_structure(shipped_cif(metal, "anodes", "coatings")),
        slabs.str_to_miller(metal_miller),
        structures.read_structure(shipped_cif(coating, "coatings")),
        slabs.str_to_miller(miller), coating_shift=None, **interfaces.settings_bounds(ic))
    best = found[0]
    atoms = interfaces.interface_atoms(best["interface"], (0.0, 0.0), ic["vacuum_A"],
                                sl["fixed_layers"], sl["layer_tolerance_A"])
    energies = [single_point(part, calculators.make_calculator(calc, "slab"),
                             forces=False).energy_eV
                for part in (atoms, *interfaces.separate(atoms))]
    w_ad = energetics.work_of_adhesion(energies[1], energies[2], energies[0], best["area_A2"])
    return w_ad, len(atoms), time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--coating", default="Al")
    ap.add_argument("--miller", default="100")
    ap.add_argument("--site", default="hollow0")
    ap.add_argument("--metal", default="Na")
    ap.add_argument("--metal-miller", default="100", help="metal facet of the interface")
    ap.add_argument("--height", type=float, default=2.3,
                    help="adatom height above the top layer, A (default 2.3: Na on Al(100))")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--only", choices=sorted(SCANS), action="append",
                    help="scan only these settings (repeatable)")
    ap.add_argument("--values", default=None,
                    help="comma-separated values for the one --only setting (default: "
                         + "; ".join(f"{k} {','.join(map(str, v))}" for k, (_, v) in SCANS.items())
                         + ")")
    ap.add_argument("--calculator", default=None, help="replace GPAW, e.g. emt (smoke tests)")
    args = ap.parse_args(argv)
    if args.values and len(args.only or []) != 1:
        ap.error("--values needs exactly one --only")
    _, base = cfg.load(ROOT / "config" / "config.yaml", args.preset)
    if args.calculator:
        base["calculator"]["name"] = args.calculator
    print(f"# E_b of {args.metal} on {args.coating}({args.miller}) {args.site}, single points "
          f"at a fixed height {args.height} A; W_ad of {args.metal}({args.metal_miller})/"
          f"{args.coating}({args.miller}) unrelaxed; preset {args.preset}, one setting varied "
          "per block\n")
    print("| setting | value | slab atoms | E_b (eV) | change (eV) | interface atoms "
          "| W_ad (J/m^2) | change (J/m^2) | wall (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key in args.only or SCANS:
        section, values = SCANS[key]
        if args.values:
            values = [float(v) for v in args.values.split(",")]
        first = None
        for value in values:
            settings = copy.deepcopy(base)
            settings[section][key] = value
            if key == "min_thickness_A":
                settings["interface"].update(film_thickness_A=value, substrate_thickness_A=value)
            elif key == "vacuum_A":
                settings["interface"]["vacuum_A"] = value
            e_b, n, mesh, wall = binding_energy(args.coating, args.miller, args.metal, args.site,
                                          args.height, settings)
            w_ad, n_int, wall_int = work_of_adhesion(args.coating, args.miller, args.metal,
                                                     args.metal_miller, settings)
            first = (e_b, w_ad) if first is None else first
            shown = f"{value} ({mesh})" if key == "kpt_density" else value
            print(f"| {key} | {shown} | {n} | {e_b:.3f} | {e_b - first[0]:+.3f} | {n_int} "
                  f"| {w_ad:.3f} | {w_ad - first[1]:+.3f} | {wall + wall_int:.0f} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
