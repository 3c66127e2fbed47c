"""Adsorption sites (pymatgen AdsorbateSiteFinder) and adatom placement."""

from __future__ import annotations

import numpy as np
from ase import Atom, Atoms
from ase.data import atomic_numbers, covalent_radii
from pymatgen.io.ase import AseAtomsAdaptor

SITE_KINDS = ("ontop", "bridge", "hollow")


# A hollow's corner atoms may lie at unequal distances: the pseudo-threefold hollow of
# bcc(110) (Li: 1.65, 1.94, 1.94 A) is 18 % off; a square lattice's triangle centroid,
# which is no site, 58 %
HOLLOW_SPREAD = 0.25


def classify_site(slab: Atoms, xy: np.ndarray, tolerance_A: float = 0.15,
                  depth_A: float = 1.0) -> str | None:
    """Kind of the point ``xy`` from its top-layer neighbours, or None for a low-symmetry point.

    ontop: a top-layer atom within ``tolerance_A`` laterally; bridge: exactly two
    equidistant nearest top-layer atoms; hollow: three or more nearest top-layer atoms
    within :data:`HOLLOW_SPREAD` (relative) of the nearest. pymatgen's Delaunay sites are
    relabelled with this, because on square lattices the "bridge" across a square's
    diagonal is the four-fold hollow and the "hollow" triangle centroids are no site at
    all.
    """
    top = top_layer_mask(slab, depth_A)
    d = np.sort(lateral_distances(slab.cell.array, slab.positions[top], xy))
    if d[0] < tolerance_A:
        return "ontop"
    if int(np.sum(d - d[0] < tolerance_A)) == 2:
        return "bridge"
    if int(np.sum(d < d[0] * (1 + HOLLOW_SPREAD))) >= 3:
        return "hollow"
    return None


def find_sites(
    slab: Atoms, kinds: list[str] | tuple[str, ...] = SITE_KINDS, symm_reduce: float = 0.01
) -> list[dict]:
    """Symmetry-distinct high-symmetry sites of the top surface of ``slab``.

    Returns ``[{"name": "hollow0", "kind": "hollow", "xy": [x, y], "label": "hollow"},
    ...]`` (angstrom; ``label``: :func:`site_label`),
    ordered ontop0, bridge0, hollow0, ontop1, ... Candidates come from pymatgen's
    ``AdsorbateSiteFinder`` (with ``no_obtuse_hollow=False``, which keeps the
    four-fold hollow of square lattices), each moved to its canonical image
    (:func:`canonical_xy`) and numbered within its kind in order of position, so names
    and starting points do not depend on the finder's enumeration order; they are
    relabelled by :func:`classify_site`, and duplicates (same point within 0.1 angstrom)
    are dropped.
    With ``symm_reduce=0`` every site, equivalent or not, is returned.
    """
    from pymatgen.analysis.adsorption import AdsorbateSiteFinder  # 1 s to import

    structure = AseAtomsAdaptor.get_structure(slab)
    finder = AdsorbateSiteFinder(structure)
    found = finder.find_adsorption_sites(
        distance=0.0,
        symm_reduce=symm_reduce,
        near_reduce=0.01,
        positions=list(SITE_KINDS),
        no_obtuse_hollow=False,
    )
    kept: dict[str, list[np.ndarray]] = {k: [] for k in SITE_KINDS}
    seen: list[np.ndarray] = []
    ops = _surface_operations(structure) if symm_reduce else []
    for label in SITE_KINDS:
        for xy in sorted((canonical_xy(structure, ops, c) for c in found.get(label, [])),
                         key=lambda xy: tuple(np.round(xy, 3))):
            kind = classify_site(slab, xy)
            if kind is None or kind not in kinds:
                continue
            if seen and lateral_distances(slab.cell.array, np.array(seen), xy).min() < 0.1:
                continue
            seen.append(xy)
            kept[kind].append(xy)
    named = {
        kind: [{"name": f"{kind}{i}", "kind": kind, "xy": [float(xy[0]), float(xy[1])],
                "label": site_label(slab, kind, xy)}
               for i, xy in enumerate(kept[kind])]
        for kind in SITE_KINDS
    }
    # round robin over kinds, so a cap on the number of sites keeps every kind
    longest = max(len(v) for v in named.values())
    return [named[k][i] for i in range(longest) for k in SITE_KINDS if i < len(named[k])]


def _surface_operations(structure) -> list:
    """The slab's symmetry operations (fractional), as pymatgen's site finder reduces
    with them (SpacegroupAnalyzer, symprec 0.1)."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    return SpacegroupAnalyzer(structure, 0.1).get_symmetry_operations()


def canonical_xy(structure, ops: list, coords) -> np.ndarray:
    """The lateral position (x, y, angstrom) of a site at cartesian ``coords`` that comes
    first, by fractional (x, y), among its images under ``ops`` on the same face: the
    same point whichever of the equivalent sites the finder returned, so that site names
    and starting geometries do not depend on the order of a library's enumeration."""
    frac = structure.lattice.get_fractional_coords(coords)
    same_face = [image for image in (op.operate(frac) for op in ops)
                 if abs(image[2] - frac[2]) <= 1e-3]  # not the images on the other face
    if not same_face:  # no operations (nothing reduced): the point as found
        return np.asarray(coords[:2], dtype=float)
    wrapped = [np.where(np.isclose(np.mod(f, 1.0), 1.0, atol=1e-6), 0.0, np.mod(f, 1.0))
               for f in same_face]
    best = min(wrapped, key=lambda f: tuple(np.round(f[:2], 4)))
    return structure.lattice.get_cartesian_coords(best)[:2]


def site_label(slab: Atoms, kind: str, xy, depth_A: float = 1.0) -> str:
    """A site's name in the tables, as papers give it: an ontop site by the element
    beneath (``top_V``, ``top_N``), a bridge or hollow by its kind."""
    if kind != "ontop":
        return kind
    top = np.flatnonzero(top_layer_mask(slab, depth_A))
    d = lateral_distances(slab.cell.array, slab.positions[top], np.asarray(xy, dtype=float))
    return f"top_{slab[int(top[np.argmin(d)])].symbol}"


def hold_lateral(atoms: Atoms) -> Atoms:
    """``atoms`` (a slab whose last atom is the adatom) with the adatom's x and y fixed
    (ASE ``FixCartesian``) besides the constraints it has: it relaxes in height only and
    stays on its site, as in the site-energy tables of papers."""
    from ase.constraints import FixCartesian

    held = atoms.copy()
    held.set_constraint([*atoms.constraints,
                         FixCartesian([len(atoms) - 1], mask=(True, True, False))])
    return held


def top_layer_mask(slab: Atoms, depth_A: float = 1.0) -> np.ndarray:
    """Substrate atoms within ``depth_A`` of the highest substrate atom."""
    z = slab.positions[:, 2]
    return z > z.max() - depth_A


def lateral_distances(cell: np.ndarray, points_xy: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """In-plane minimum-image distances (angstrom) from ``xy`` to each of ``points_xy``.

    ``cell`` is the 3x3 cell; its first two vectors must lie in the xy plane.
    """
    cell2 = np.asarray(cell)[:2, :2]
    delta = np.asarray(points_xy)[:, :2] - np.asarray(xy)[None, :]
    frac = np.linalg.solve(cell2.T, delta.T).T
    frac -= np.round(frac)
    best = np.full(len(delta), np.inf)
    for i in (-1, 0, 1):
        for j in (-1, 0, 1):
            shifted = (frac + [i, j]) @ cell2
            best = np.minimum(best, np.linalg.norm(shifted, axis=1))
    return best


def bond_length(a: str, b: str, scale: float = 1.0) -> float:
    """Sum of covalent radii (ASE, Cordero 2008) times ``scale``, in angstrom."""
    return scale * float(covalent_radii[atomic_numbers[a]] + covalent_radii[atomic_numbers[b]])


def adatom_height(slab: Atoms, xy: np.ndarray, metal: str, scale: float = 1.0) -> float:
    """Height z (angstrom) at ``xy`` where the adatom's nearest substrate atom sits at
    the covalent bond length (sum of covalent radii x ``scale``)."""
    r_xy = lateral_distances(slab.cell.array, slab.positions, xy)
    z = slab.positions[:, 2]
    heights = []
    for k, atom in enumerate(slab):
        d = bond_length(metal, atom.symbol, scale)
        if r_xy[k] < d:
            heights.append(z[k] + np.sqrt(d * d - r_xy[k] ** 2))
    if not heights:  # nothing within a bond length laterally: sit one bond above the top
        return float(z.max() + bond_length(metal, slab[int(np.argmax(z))].symbol, scale))
    return float(max(heights))


def place_adatom(slab: Atoms, site: dict, metal: str, scale: float = 1.0) -> Atoms:
    """Copy of ``slab`` with one ``metal`` adatom (tag 2) on ``site``."""
    xy = np.asarray(site["xy"])
    atoms = slab.copy()
    atoms.append(Atom(metal, (xy[0], xy[1], adatom_height(slab, xy, metal, scale)), tag=2))
    return atoms
