"""Quality checks of a relaxed adatom structure (after fairchem's anomaly detection).

Each check returns a flag string or ``None``; flagged sites stay in the site
table but are excluded from the best site.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from philicity.sites import bond_length, lateral_distances

DESORBED = "desorbed"
MOVED = "moved"
RECONSTRUCTED = "reconstructed"
SCF_NOT_CONVERGED = "scf_not_converged"
RELAX_NOT_CONVERGED = "relax_not_converged"


def _adatom_index(atoms: Atoms) -> int:
    idx = np.flatnonzero(atoms.get_tags() == 2)
    if len(idx) != 1:
        raise ValueError(f"expected one adatom (tag 2), found {len(idx)}")
    return int(idx[0])


def check_desorbed(final: Atoms, factor: float) -> str | None:
    """Flag when the adatom's nearest substrate atom is farther than ``factor`` x the
    covalent bond length."""
    i = _adatom_index(final)
    substrate = [k for k in range(len(final)) if k != i]
    d = final.get_distances(i, substrate, mic=True)
    ratio = d / np.array([bond_length(final[i].symbol, final[k].symbol) for k in substrate])
    if ratio.min() > factor:
        return f"{DESORBED} (nearest neighbour at {ratio.min():.2f} x bond length)"
    return None


def check_moved(initial: Atoms, final: Atoms, all_sites: list[dict], start_kind: str,
                tolerance_A: float) -> str | None:
    """Flag when the relaxed adatom sits nearest to a site of another kind, or drifted
    more than ``tolerance_A`` in the plane from its start.

    ``all_sites`` are the unreduced sites of the clean slab (``find_sites(symm_reduce=0)``).
    """
    i = _adatom_index(final)
    xy_final = final.positions[i, :2]
    cell = final.cell.array
    drift = float(lateral_distances(cell, initial.positions[[i]], xy_final)[0])
    if all_sites:
        site_xy = np.array([s["xy"] for s in all_sites])
        nearest = all_sites[int(np.argmin(lateral_distances(cell, site_xy, xy_final)))]
        if nearest["kind"] != start_kind:
            return f"{MOVED} ({start_kind} -> {nearest['kind']}, {drift:.2f} A)"
    if drift > tolerance_A:
        return f"{MOVED} ({drift:.2f} A in plane)"
    return None


def check_reconstructed(reference: Atoms, final: Atoms, tolerance_A: float) -> str | None:
    """Flag when a substrate atom moved more than ``tolerance_A`` from the relaxed clean slab."""
    i = _adatom_index(final)
    keep = [k for k in range(len(final)) if k != i]
    disp = final.positions[keep] - reference.positions
    frac = np.linalg.solve(final.cell.array.T, disp.T).T
    frac[:, :2] -= np.round(frac[:, :2])
    disp = frac @ final.cell.array
    worst = float(np.linalg.norm(disp, axis=1).max())
    if worst > tolerance_A:
        return f"{RECONSTRUCTED} (substrate atom moved {worst:.2f} A)"
    return None


def site_flags(initial: Atoms, final: Atoms, clean: Atoms, all_sites: list[dict],
               start_kind: str, thresholds: dict, scf_converged: bool,
               relax_converged: bool) -> list[str]:
    """All quality flags of one relaxed site; an empty list means trustworthy."""
    flags = []
    if not scf_converged:
        flags.append(SCF_NOT_CONVERGED)
    if not relax_converged:
        flags.append(RELAX_NOT_CONVERGED)
    for flag in (
        check_desorbed(final, thresholds["desorbed_factor"]),
        check_moved(initial, final, all_sites, start_kind, thresholds["moved_tolerance_A"]),
        check_reconstructed(clean, final, thresholds["reconstructed_tolerance_A"]),
    ):
        if flag:
            flags.append(flag)
    return flags
