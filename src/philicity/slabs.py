"""Slabs: pymatgen SlabGenerator terminations, lateral supercells, fixed layers, tags.

Tags follow the fairchem convention: 0 fixed substrate, 1 free substrate,
2 adsorbate.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from ase import Atoms
from ase.constraints import FixAtoms
from ase.geometry import minkowski_reduce
from pymatgen.core import Structure
from pymatgen.core.surface import SlabGenerator

from philicity.structures import to_atoms


class SlabError(ValueError):
    """No usable slab for the requested facet."""


def miller_to_str(miller: list[int] | tuple[int, ...]) -> str:
    """(1, -1, 0) -> '1-10': the form used in paths and tables."""
    return "".join(str(int(i)) for i in miller)


def str_to_miller(text: str) -> tuple[int, int, int]:
    """'1-10' -> (1, -1, 0); single-digit indices only."""
    import re

    parts = re.findall(r"-?\d", text)
    if len(parts) != 3 or "".join(parts) != text:
        raise ValueError(f"not a Miller index string: {text!r}")
    return tuple(int(p) for p in parts)  # type: ignore[return-value]


def layer_index(z: np.ndarray, tolerance_A: float) -> np.ndarray:
    """Group heights z (angstrom) into layers; returns 0 for the bottom layer upwards."""
    order = np.argsort(z)
    layers = np.zeros(len(z), dtype=int)
    current = 0
    for prev, idx in zip(order[:-1], order[1:], strict=True):
        if z[idx] - z[prev] > tolerance_A:
            current += 1
        layers[idx] = current
    return layers


def lateral_repeats(cell: np.ndarray, min_length_A: float) -> tuple[int, int]:
    """Smallest (n1, n2) so that the repeated in-plane cell has both heights >= min_length_A.

    Uses the distance between periodic images (cell heights), not the vector
    lengths, so oblique cells are repeated enough too.
    """
    a, b = cell[0], cell[1]
    area = np.linalg.norm(np.cross(a, b))
    height_a = area / np.linalg.norm(b)  # image distance along the a direction
    height_b = area / np.linalg.norm(a)
    return max(1, math.ceil(min_length_A / height_a - 1e-9)), max(
        1, math.ceil(min_length_A / height_b - 1e-9)
    )


def generate_terminations(
    bulk: Structure, miller: tuple[int, int, int], min_thickness_A: float, vacuum_A: float
) -> list:
    """All unique terminations of one facet (pymatgen ``Slab`` objects, orthogonal c)."""
    gen = SlabGenerator(
        bulk,
        miller,
        min_slab_size=min_thickness_A,
        min_vacuum_size=vacuum_A,
        center_slab=True,
        primitive=True,
        lll_reduce=True,
        reorient_lattice=True,
    )
    slabs = gen.get_slabs(symmetrize=False, tol=0.1)
    if not slabs:
        raise SlabError(f"SlabGenerator found no slab for miller {miller}")
    return [s.get_orthogonal_c_slab() for s in slabs]


def finish_slab(
    slab: Structure,
    min_lateral_A: float,
    fixed_layers: int,
    layer_tolerance_A: float,
    max_atoms: int,
) -> Atoms:
    """Repeat a slab laterally, fix its bottom layers and tag it.

    ``fixed_layers`` counts layers from the bottom; at least one layer stays free.
    Raises :class:`SlabError` when the supercell would exceed ``max_atoms``.
    """
    prim = slab.get_primitive_structure(tolerance=0.1)
    if (np.allclose(prim.lattice.angles[:2], 90.0, atol=1e-3)
            and abs(prim.lattice.c - slab.lattice.c) < 1e-3):
        slab = prim  # SlabGenerator may return a supercell of the surface cell (fcc(111))
    atoms = to_atoms(slab)
    atoms.pbc = (True, True, False)
    if atoms.cell[2, 2] < 0:
        # a primitive cell with c along -z (fcc(111), bcc(110)): pymatgen's site finder
        # takes a x b as the surface normal and would find the sites of the bottom face.
        # c turned up and the slab moved by it into the cell; b is flipped below
        c = atoms.cell[2].copy()
        atoms.set_cell([atoms.cell[0], atoms.cell[1], -c], scale_atoms=False)
        atoms.positions -= c
    # shortest in-plane cell (an oblique 135-degree cell of fcc(100) becomes the square one)
    reduced, _ = minkowski_reduce(atoms.cell.array, pbc=[True, True, False])
    if np.linalg.det(reduced) < 0:
        reduced[1] *= -1
    atoms.set_cell(reduced, scale_atoms=False)
    atoms.wrap()
    n1, n2 = lateral_repeats(atoms.cell.array, min_lateral_A)
    if len(atoms) * n1 * n2 > max_atoms:
        raise SlabError(
            f"{len(atoms) * n1 * n2} atoms after a {n1}x{n2} repeat exceed max_atoms={max_atoms}"
        )
    atoms = atoms.repeat((n1, n2, 1))
    atoms.pbc = (True, True, False)
    layers = layer_index(atoms.positions[:, 2], layer_tolerance_A)
    n_layers = int(layers.max()) + 1
    n_fixed = min(fixed_layers, n_layers - 1)
    fixed = layers < n_fixed
    atoms.set_tags(np.where(fixed, 0, 1))
    atoms.set_constraint(FixAtoms(mask=fixed))
    atoms.info["n_layers"] = n_layers
    atoms.info["repeat"] = [n1, n2]
    return atoms


def surface_area(atoms: Atoms) -> float:
    """In-plane cell area in angstrom^2."""
    return float(np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1])))


def is_stoichiometric(slab_atoms: Atoms, bulk: Structure) -> bool:
    """True when the slab's composition is a multiple of the bulk's reduced formula."""
    from pymatgen.core import Composition

    comp = Composition(slab_atoms.get_chemical_formula())
    return comp.reduced_formula == bulk.composition.reduced_formula and (
        comp.get_reduced_composition_and_factor()[0]
        == bulk.composition.get_reduced_composition_and_factor()[0]
    )


def check_slab_size(bulk: Structure, miller: tuple[int, int, int], min_thickness_A: float,
                    max_atoms: int) -> None:
    """Refuse a facet before cutting it when even its smallest slab exceeds ``max_atoms``.

    A slab of the (hkl) plane holds at least one primitive cell per in-plane primitive
    cell and layer of spacing d_hkl, and at least ``min_thickness_A / d_hkl`` layers: a
    lower bound of n_primitive * max(1, min_thickness_A / d_hkl) atoms (before lateral
    repeats). pymatgen's cut of a large cell can take minutes and gigabytes; this takes
    milliseconds. Raises :class:`SlabError`.
    """
    if tuple(miller) == (0, 0, 0):
        raise SlabError("(000) is no plane")
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        n_prim = len(SpacegroupAnalyzer(bulk, symprec=0.01).find_primitive())
    except Exception:  # spglib found no symmetry: the cell is its own primitive cell
        n_prim = len(bulk)
    d_hkl = bulk.lattice.d_hkl(miller)
    lower = n_prim * max(1.0, min_thickness_A / d_hkl)
    if lower > max_atoms:
        raise SlabError(f"even the smallest slab has about {lower:.0f} atoms "
                        f"({n_prim} per primitive cell) > max_atoms={max_atoms}")


def termination_rank(termination: dict) -> tuple:
    """Sort key of a termination, best first, before its surface energy: not polar,
    then no polyanion cut, then the smallest dipole (only a polar cut has one), then
    stoichiometric (its surface energy is well defined). Keys a record lacks count as
    the best value, so terminations cut before they were recorded keep their order."""
    polar = bool(termination.get("polar", False))
    return (polar,
            termination.get("polyanions_cut", 0) > 0,
            # a non-polar cut's leftover dipole (below POLAR_DIPOLE_E_PER_A) is noise
            abs(termination.get("dipole_e_per_A", 0.0)) if polar else 0.0,
            not termination.get("stoichiometric", True))


def terminations_to_compare(terminations: list[dict]) -> list[int]:
    """Indices of the terminations whose surface energies decide the choice: those tied
    with the best on :func:`termination_rank` (no DFT for the others)."""
    best = min(termination_rank(t) for t in terminations)
    return [t["index"] for t in terminations if termination_rank(t) == best]


def choose_termination(terminations: list[dict], choice: str | int) -> list[int]:
    """Indices of the terminations of one facet to screen.

    ``terminations``: one dict per cut with ``index`` and, as recorded by
    ``select_termination``, ``polar``, ``dipole_e_per_A``, ``polyanions_cut``,
    ``stoichiometric`` and, when computed, ``gamma_J_m2`` (J/m^2; None where the SCF
    failed). ``choice``: ``"all"``; an index; or ``"lowest_energy"``: non-polar first,
    then intact polyanions, then the least polar, then stoichiometric
    (:func:`termination_rank`), then the lowest surface energy; among ties without
    surface energies, the first cut. Raises :class:`SlabError` for an index the facet
    does not have."""
    if choice == "all":
        return [t["index"] for t in terminations]
    if isinstance(choice, int):
        if choice >= len(terminations):
            raise SlabError(f"{len(terminations)} terminations; termination {choice} "
                            "does not exist")
        return [choice]
    ranked = sorted(terminations, key=lambda t: (
        termination_rank(t),
        t["gamma_J_m2"] if t.get("gamma_J_m2") is not None else math.inf))
    return [ranked[0]["index"]]


def choice_reason(terminations: list[dict], selected: list[int], choice: str | int) -> str:
    """Why ``selected`` were chosen (for the terminations table), in words."""
    if choice == "all":
        return "every termination screened (termination: all)"
    if isinstance(choice, int):
        return f"termination {choice} set in the candidate's options"
    if len(terminations) == 1:
        return "the only cut"
    chosen = next(t for t in terminations if t["index"] == selected[0])
    words = []
    origin = chosen.get("origin", "cut")
    if origin == "tasker2":
        words.append(f"every plain cut polar: a Tasker-II reconstruction of cut "
                     f"{chosen['source']}")
    elif origin == "flipped":
        words.append(f"cut {chosen['source']} upside down")
    if not chosen.get("polar"):
        words.append("non-polar")
    elif all(t.get("polar") for t in terminations):
        words.append("every cut polar: the least polar")
    if not chosen.get("polyanions_cut") and any(t.get("polyanions_cut")
                                                for t in terminations):
        words.append("keeps every polyanion whole")
    compared = [t for t in terminations if t.get("gamma_J_m2") is not None]
    if len(compared) > 1:
        words.append(f"lowest surface energy of {len(compared)} compared")
    twin = next((t for t in compared if t is not chosen and (
        t.get("source") == chosen["index"] or chosen.get("source") == t["index"])
        and t["gamma_J_m2"] == chosen.get("gamma_J_m2")
        and "flipped" in (t.get("origin"), chosen.get("origin"))), None)
    if twin is not None:  # gamma of an asymmetric slab averages its two faces
        words.append(f"tied with its upside-down copy {twin['index']} (the same two faces, "
                     "so the same surface energy): the first of the two is screened, "
                     "termination: all screens both")
    return "; ".join(words) or "first of equivalent cuts"


# Centres of polyanions (borate, carbonate, nitrate, phosphate, sulfate, silicate) and
# the longest X-O distance counted as their bond (angstrom; C-O 1.28, P-O 1.54, Si-O 1.62)
POLYANION_CENTRES = ("B", "C", "N", "P", "S", "Si")
POLYANION_BOND_A = 1.9
POLAR_DIPOLE_E_PER_A = 1e-3  # pymatgen's Slab.is_polar tolerance (e/A)


def oxidation_states(bulk: Structure, given: dict[str, float] | None = None
                     ) -> dict[str, float]:
    """Formal oxidation state of each element of ``bulk``: ``given`` (a sidecar's
    ``oxidation_states``), else pymatgen's most likely guess. Empty for a metal or alloy
    (every element a metal: surface polarity does not apply) or when pymatgen has no
    guess, or when its guess has fractional charges (a metallic or covalent compound such
    as LiC6, whose surfaces formal charges do not describe); pymatgen's ``Slab.is_polar``
    then sees no charges either."""
    if given:
        return {str(k): float(v) for k, v in given.items()}
    comp = bulk.composition.reduced_composition
    if all(e.is_metal for e in comp.elements):
        return {}
    guesses = comp.oxi_state_guesses()
    if not guesses or any(abs(v - round(v)) > 1e-6 for v in guesses[0].values()):
        return {}  # no guess, or fractional charges (LiC6: C -1/6): not an ionic crystal
    return {str(k): float(v) for k, v in guesses[0].items()}


def _polyanion_oxygens(structure: Structure) -> list[int]:
    """Oxygen neighbours (within POLYANION_BOND_A) of each polyanion centre."""
    return [sum(n.specie.symbol == "O" for n in structure.get_neighbors(site,
                                                                         POLYANION_BOND_A))
            for site in structure if site.specie.symbol in POLYANION_CENTRES]


def termination_properties(slab, bulk: Structure, oxidation: dict[str, float],
                           layer_tolerance_A: float) -> dict:
    """What a chemist asks of a termination (a pymatgen ``Slab`` as cut, c along the
    normal):

    - ``symmetric``: both faces equivalent (pymatgen ``Slab.is_symmetric``);
    - ``dipole_e_per_A``: the dipole along the normal per surface area (e/A) from the
      formal ``oxidation`` states, and ``polar`` when it exceeds 1e-3 e/A (pymatgen's
      ``Slab.is_polar``; no charges, as for a metal, is never polar);
    - ``polyanions_cut``: polyanion centres (C, N, P, S, Si, B) with fewer oxygens
      within 1.9 A than in ``bulk``: carbonate, nitrate ... groups the cut broke;
    - ``top_face``: the composition of the top layer (atoms within ``layer_tolerance_A``
      of the highest), the face the adatom and the metal film see.
    """
    charged = slab.copy()
    dipole = 0.0
    if oxidation:
        charged.add_oxidation_state_by_element(oxidation)
        dipole = float(np.dot(charged.dipole, charged.normal) / charged.surface_area)
    bulk_oxygens = _polyanion_oxygens(bulk)
    full = min(bulk_oxygens) if bulk_oxygens else 0
    heights = np.array([np.dot(s.coords, slab.normal) for s in slab])
    from pymatgen.core import Composition

    top = Composition(" ".join(s.specie.symbol for s, h in zip(slab, heights, strict=True)
                               if h >= heights.max() - layer_tolerance_A))
    return {"symmetric": bool(slab.is_symmetric()), "dipole_e_per_A": round(dipole, 5),
            "polar": abs(dipole) > POLAR_DIPOLE_E_PER_A,
            "polyanions_cut": sum(n < full for n in _polyanion_oxygens(slab)),
            "top_face": top.reduced_formula}


def layer_fingerprint(slab, layer_tolerance_A: float) -> tuple:
    """The slab's layers from the top face down: each layer's composition and its depth
    below the top (angstrom, 0.1 A). Two cuts with equal fingerprints expose the same
    faces in the same stacking (used to drop a flipped copy that is already a cut)."""
    heights = np.array([np.dot(s.coords, slab.normal) for s in slab])
    layers = layer_index(-heights, layer_tolerance_A)  # 0 = the top layer
    top = heights.max()
    out = []
    for k in range(int(layers.max()) + 1):
        members = np.flatnonzero(layers == k)
        symbols = sorted(slab[int(i)].specie.symbol for i in members)
        out.append((tuple(symbols), round(float(top - heights[members].mean()), 1)))
    return tuple(out)


def flipped(slab):
    """The slab upside down: its mirror image through its mid-plane, so the face that was
    at the bottom is exposed on top (a mirror image has the same energies). A pymatgen
    ``Slab`` on the same lattice."""
    from pymatgen.core.surface import Slab

    n = np.asarray(slab.normal, dtype=float)
    cart = slab.cart_coords
    heights = cart @ n
    mid = 0.5 * (heights.max() + heights.min())
    mirrored = cart - 2.0 * np.outer(heights - mid, n)
    return Slab(slab.lattice, slab.species_and_occu, mirrored, slab.miller_index,
                slab.oriented_unit_cell, slab.shift, slab.scale_factor,
                coords_are_cartesian=True, to_unit_cell=True, reorient_lattice=False,
                site_properties=slab.site_properties)


def tasker2_variants(slab, oxidation: dict[str, float], bulk: Structure,
                     layer_tolerance_A: float) -> list:
    """Tasker-II reconstructions of a polar cut (pymatgen ``Slab.get_tasker2_slabs``: half
    of the outermost ions moved to the other face) that are not polar, as pymatgen
    ``Slab`` objects without oxidation states. Empty without ``oxidation`` or when pymatgen
    cannot reconstruct the cut."""
    if not oxidation:
        return []
    charged = slab.copy()
    charged.add_oxidation_state_by_element(oxidation)
    try:
        with warnings.catch_warnings():  # "odd number of sites to divide": none to move
            warnings.simplefilter("ignore", UserWarning)
            found = charged.get_tasker2_slabs()
    except (ValueError, IndexError, ZeroDivisionError):
        return []
    out = []
    for s in found:
        s.remove_oxidation_states()
        if not termination_properties(s, bulk, oxidation, layer_tolerance_A)["polar"]:
            out.append(s)
    return out


def polyanion_bonds(bulk: Structure) -> dict[tuple[str, str], float]:
    """pymatgen's ``bonds`` for ``SlabGenerator.get_slabs``: every polyanion centre of
    ``bulk`` bonded to oxygen within POLYANION_BOND_A (empty without oxygen)."""
    symbols = {e.symbol for e in bulk.composition.elements}
    if "O" not in symbols:
        return {}
    return {(c, "O"): POLYANION_BOND_A for c in POLYANION_CENTRES if c in symbols}


def candidate_terminations(bulk: Structure, miller: tuple[int, int, int],
                           min_thickness_A: float, vacuum_A: float,
                           oxidation: dict[str, float], layer_tolerance_A: float
                           ) -> list[tuple]:
    """Every termination of one facet worth considering, as ``(slab, origin)``: pymatgen
    ``Slab`` objects (orthogonal c) and where they come from, ``{"kind": k, "source": i}``:

    - ``cut``: SlabGenerator's plain cuts (:func:`generate_terminations`, same order and
      indices as before variants existed);
    - ``flipped``: the flipped copy (:func:`flipped`) of each asymmetric cut ``source``,
      unless a cut already exposes the same stacking (:func:`layer_fingerprint`: in a
      centrosymmetric crystal the bottom face of one cut is the top face of another);
    - ``repaired``: where every plain cut breaks a polyanion, pymatgen's cuts with the
      polyanion bonds kept (``get_slabs(bonds=..., repair=True)``);
    - ``tasker2``: where every candidate so far is polar, the non-polar Tasker-II
      reconstructions (:func:`tasker2_variants`) of each cut ``source``.
    """
    plain = generate_terminations(bulk, miller, min_thickness_A, vacuum_A)
    out = [(s, {"kind": "cut", "source": i}) for i, s in enumerate(plain)]
    seen = {layer_fingerprint(s, layer_tolerance_A) for s in plain}

    def add(slab, kind: str, source: int | None) -> None:
        key = layer_fingerprint(slab, layer_tolerance_A)
        if key not in seen:
            seen.add(key)
            out.append((slab, {"kind": kind, "source": source}))

    for i, s in enumerate(plain):
        if not s.is_symmetric():
            add(flipped(s), "flipped", i)
    bonds = polyanion_bonds(bulk)
    props = [termination_properties(s, bulk, oxidation, layer_tolerance_A) for s, _ in out]
    if bonds and all(p["polyanions_cut"] for p in props):
        gen = SlabGenerator(bulk, miller, min_slab_size=min_thickness_A,
                            min_vacuum_size=vacuum_A, center_slab=True, primitive=True,
                            lll_reduce=True, reorient_lattice=True)
        for s in gen.get_slabs(bonds=bonds, repair=True, tol=0.1):
            add(s.get_orthogonal_c_slab(), "repaired", None)
        props = [termination_properties(s, bulk, oxidation, layer_tolerance_A)
                 for s, _ in out]
    if oxidation and all(p["polar"] for p in props):
        for i, s in enumerate(plain):
            for t in tasker2_variants(s, oxidation, bulk, layer_tolerance_A):
                add(t, "tasker2", i)
    return out


def same_variant(slab, entry: dict, bulk: Structure, oxidation: dict[str, float],
                 layer_tolerance_A: float) -> bool:
    """Whether ``slab`` (cut another way, e.g. by pymatgen's interface builder) has the
    recorded termination ``entry``'s polarity, intact polyanions and exposed face."""
    p = termination_properties(slab, bulk, oxidation, layer_tolerance_A)
    return (p["polar"] == entry.get("polar", False)
            and p["polyanions_cut"] == entry.get("polyanions_cut", 0)
            and p["top_face"] == entry.get("top_face", p["top_face"]))
