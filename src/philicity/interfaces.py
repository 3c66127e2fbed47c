"""Metal/coating interfaces: pymatgen lattice matching, registries, separated slabs.

The anode metal is the film (it is soft and carries the strain), the coating is the
substrate. pymatgen's ``ZSLGenerator`` finds the coincidence cells and
``CoherentInterfaceBuilder`` builds the interfaces; this module only filters them by
the configured bounds, removes duplicates, and turns them into tagged ASE slabs:
tag 0 = fixed coating layers, 1 = free coating atoms, 2 = metal film.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING
from unittest import mock

import numpy as np
from ase import Atoms
from ase.constraints import FixAtoms
from pymatgen.core import Structure
from pymatgen.core.surface import Slab
from pymatgen.io.ase import AseAtomsAdaptor

from philicity.slabs import layer_index

if TYPE_CHECKING:  # imported where used: 2 s of pymatgen imports every job would pay
    from pymatgen.analysis.interfaces.coherent_interfaces import CoherentInterfaceBuilder
    from pymatgen.core.interface import Interface

FILM_TAG = 2
# SlabGenerator's tolerance for telling terminations apart; slabs.generate_terminations
# uses pymatgen's default 0.1 too, so the termination shifts of both agree.
TERMINATION_FTOL = 0.1


class InterfaceError(ValueError):
    """No interface fits the bounds (the message says which bound and by how much)."""


def film_strain_pct(interface: Interface) -> float:
    """Largest in-plane principal strain of the film, in percent (signed: + = stretched).

    From the eigenvalues E_i of pymatgen's Green-Lagrange ``strain`` of the match:
    stretch = sqrt(1 + 2 E_i) - 1.
    """
    green = np.asarray(interface.interface_properties["strain"], dtype=float)
    stretches = np.sqrt(1.0 + 2.0 * np.linalg.eigvalsh(green)) - 1.0
    return float(100.0 * stretches[np.argmax(np.abs(stretches))])


def interface_area(interface: Interface) -> float:
    """In-plane area of the interface cell, in angstrom^2."""
    m = interface.lattice.matrix
    return float(np.linalg.norm(np.cross(m[0], m[1])))


def settings_bounds(interface_settings: dict) -> dict:
    """The keyword arguments of :func:`build_interfaces` from a preset's ``interface``
    section (areas in angstrom^2, strain in percent, thicknesses and gap in angstrom)."""
    ic = interface_settings
    return {"max_area_A2": ic["max_area_A2"], "max_strain_pct": ic["max_strain_pct"],
            "max_atoms": ic["max_atoms"], "gap_A": ic["gap_A"],
            "film_thickness_A": ic["film_thickness_A"],
            "substrate_thickness_A": ic["substrate_thickness_A"], "vacuum_A": ic["vacuum_A"]}


def build_interfaces(
    metal: Structure,
    metal_miller: tuple[int, int, int],
    coating: Structure,
    coating_miller: tuple[int, int, int],
    *,
    coating_shift: float | None,
    substrate_variant: Callable[[Slab], Slab] | None = None,
    max_area_A2: float,
    max_strain_pct: float,
    max_atoms: int,
    gap_A: float,
    film_thickness_A: float,
    substrate_thickness_A: float,
    vacuum_A: float,
) -> list[dict]:
    """Lattice-matched metal(film)/coating(substrate) interfaces within the bounds.

    ``coating_shift`` selects the coating termination (the ``shift`` of a pymatgen
    ``Slab`` from :func:`philicity.slabs.generate_terminations`); ``None`` keeps every
    termination. ``substrate_variant`` turns pymatgen's coating supercell of each match
    into the screened termination (a flipped copy, a Tasker-II reconstruction:
    :func:`philicity.slabs.candidate_terminations`), or returns None to skip the match.
    ``film_thickness_A`` and ``substrate_thickness_A``: minimum thicknesses
    (angstrom; pymatgen's ``in_layers=False``). Returns dicts
    with the ``interface`` and its ``area_A2``, ``n_atoms``, ``strain_pct``,
    ``termination``, smallest first (atoms, then |strain|). Equivalent interfaces
    (pymatgen returns some twice) are kept once. Raises :class:`InterfaceError` when
    none fits, naming the bound that failed.
    """
    from pymatgen.analysis.interfaces.coherent_interfaces import CoherentInterfaceBuilder
    from pymatgen.analysis.interfaces.zsl import ZSLGenerator

    tol = max_strain_pct / 100.0
    zsl = ZSLGenerator(max_area=max_area_A2, max_length_tol=tol, max_angle_tol=tol)
    try:
        builder = CoherentInterfaceBuilder(
            substrate_structure=coating, film_structure=metal, film_miller=metal_miller,
            substrate_miller=coating_miller, zslgen=zsl, termination_ftol=TERMINATION_FTOL,
            label_index=True,  # terminations sharing a label stay apart
        )
    except ValueError as exc:
        raise InterfaceError(str(exc)) from exc
    if not builder.zsl_matches:
        raise InterfaceError(
            f"no coincidence cell with area <= {max_area_A2} A^2 and strain <= "
            f"{max_strain_pct} %"
        )
    terminations = [
        t for t in builder.terminations
        if coating_shift is None or _same_shift(builder._terminations[t][1], coating_shift)
    ]
    if not terminations:
        raise InterfaceError(f"the chosen coating termination (shift {coating_shift:.3f}) "
                             "is not among pymatgen's interface terminations")
    found, too_big, too_strained = [], [], []
    for term in terminations:
        for iface in _interfaces(
            builder, term, substrate_variant, gap=gap_A, vacuum_over_film=vacuum_A,
            film_thickness=film_thickness_A, substrate_thickness=substrate_thickness_A,
            in_layers=False,
        ):
            entry = {"interface": iface, "area_A2": interface_area(iface),
                     "n_atoms": len(iface), "strain_pct": film_strain_pct(iface),
                     "termination": list(term)}
            if entry["n_atoms"] > max_atoms:
                too_big.append(entry["n_atoms"])
            elif abs(entry["strain_pct"]) > max_strain_pct + 1e-6:
                too_strained.append(abs(entry["strain_pct"]))
            else:
                found.append(entry)
    if not found:
        reasons = []
        if too_big:
            reasons.append(f"the smallest match has {min(too_big)} atoms > max_atoms={max_atoms}")
        if too_strained:
            reasons.append(f"the least strained match has {min(too_strained):.1f} % > "
                           f"max_strain_pct={max_strain_pct}")
        raise InterfaceError("; ".join(reasons) or "pymatgen built no interface")
    found.sort(key=lambda e: (e["n_atoms"], abs(e["strain_pct"]), e["area_A2"]))
    return _unique(found)


def _interfaces(builder: CoherentInterfaceBuilder, termination: tuple,
                variant: Callable[[Slab], Slab | None] | None, **kwargs) -> list[Interface]:
    """``builder.get_interfaces(termination, **kwargs)``, with ``variant`` applied to each
    coating (substrate) supercell pymatgen makes inside it (``Interface.from_slabs`` is
    wrapped while the interfaces are built). A match whose supercell has no such variant
    (``variant`` returns None: e.g. one ion per layer, none to move) is left out."""
    if variant is None:
        return list(builder.get_interfaces(termination, **kwargs))
    from pymatgen.core.interface import Interface

    from_slabs = Interface.from_slabs

    def with_variant(substrate_slab: Slab, film_slab: Slab, **kw) -> Interface | None:
        changed = variant(substrate_slab)
        return None if changed is None else from_slabs(changed, film_slab, **kw)

    with mock.patch.object(Interface, "from_slabs", with_variant):
        return [i for i in builder.get_interfaces(termination, **kwargs) if i is not None]


def _same_shift(a: float, b: float, tol: float = 1e-3) -> bool:
    d = (a - b) % 1.0
    return min(d, 1.0 - d) < tol


def _unique(entries: list[dict]) -> list[dict]:
    """Drop interfaces pymatgen returns twice: same size, strain and supercell shapes
    (they differ only by a film translation, which the registry scan covers)."""
    def key(e: dict) -> tuple:
        props = e["interface"].interface_properties
        shapes = [_shape(props[k]) for k in ("film_sl_vectors", "substrate_sl_vectors")]
        return (e["n_atoms"], round(e["area_A2"], 2), round(e["strain_pct"], 2), *shapes)

    kept: dict[tuple, dict] = {}
    for e in entries:
        kept.setdefault(key(e), e)
    return list(kept.values())


def _shape(vectors) -> tuple[float, float, float]:
    a, b = np.asarray(vectors, dtype=float)[:2]
    la, lb = np.linalg.norm(a), np.linalg.norm(b)
    return (round(min(la, lb), 2), round(max(la, lb), 2),
            round(abs(float(np.dot(a, b))) / (la * lb), 3))


def registry_shifts(interface: Interface, grid: int) -> list[tuple[float, float]]:
    """In-plane film offsets (fractional coordinates of the interface cell) on a
    ``grid`` x ``grid`` mesh spanning one primitive surface cell of the substrate:
    every registry of the film on the coating, each once."""
    props = interface.interface_properties
    prim_vectors = np.asarray(props["substrate_vectors"], dtype=float)[:2]
    super_vectors = np.asarray(props["substrate_sl_vectors"], dtype=float)[:2]
    # super = M @ prim with M integer; rows of inv(M): primitive vectors in cell coordinates
    m = np.rint(super_vectors @ np.linalg.pinv(prim_vectors))
    prim = np.linalg.inv(m)
    shifts = []
    for i, j in itertools.product(range(grid), repeat=2):
        s = np.mod(i / grid * prim[0] + j / grid * prim[1], 1.0)
        s = np.where(np.isclose(s, 1.0, atol=1e-6), 0.0, s)
        if not any(np.allclose(s, t, atol=1e-6) for t in shifts):
            shifts.append(tuple(float(x) for x in s))
    return shifts


def interface_atoms(interface: Interface, offset: tuple[float, float], vacuum_A: float,
                    fixed_layers: int, layer_tolerance_A: float) -> Atoms:
    """The interface at one in-plane film ``offset`` as a tagged ASE slab with
    ``vacuum_A`` between periodic images and the bottom coating layers fixed."""
    iface = interface.copy()
    iface.in_plane_offset = offset
    film = np.zeros(len(iface), dtype=bool)
    film[iface.film_indices] = True
    atoms = AseAtomsAdaptor.get_atoms(iface)
    for key in list(atoms.arrays):
        if key not in ("numbers", "positions"):
            del atoms.arrays[key]
    atoms.info.clear()
    atoms.pbc = (True, True, False)
    atoms.wrap()
    atoms.center(vacuum=vacuum_A / 2.0, axis=2)
    layers = layer_index(atoms.positions[:, 2], layer_tolerance_A)
    coating_layers = np.unique(layers[~film])
    fixed = ~film & np.isin(layers, coating_layers[: min(fixed_layers, len(coating_layers) - 1)])
    atoms.set_tags(np.where(film, FILM_TAG, np.where(fixed, 0, 1)))
    atoms.set_constraint(FixAtoms(mask=fixed))
    return atoms


def separate(atoms: Atoms) -> tuple[Atoms, Atoms]:
    """The metal film and the coating slab of an interface, each in the interface's
    cell (same k-mesh, so basis and k-point errors cancel in W_ad)."""
    film = atoms.get_tags() == FILM_TAG
    metal = atoms[film]
    coating = atoms[~film]
    metal.set_constraint()
    fixed = atoms.constraints[0].get_indices() if atoms.constraints else []
    coating_fixed = np.zeros(len(atoms), dtype=bool)
    coating_fixed[fixed] = True
    coating.set_constraint(FixAtoms(mask=coating_fixed[~film]))
    return metal, coating


def unstrain(metal: Atoms, film_vectors: np.ndarray) -> Atoms:
    """The metal film at its own lattice: the in-plane cell set to the unstrained
    film supercell vectors (2x3, angstrom; lengths and angle kept, orientation of
    the interface cell), atoms moved with the cell."""
    f1, f2 = np.asarray(film_vectors, dtype=float)[:2]
    a, b = np.linalg.norm(f1), np.linalg.norm(f2)
    gamma = np.arccos(np.dot(f1, f2) / (a * b))
    cell = metal.cell.array.copy()
    rot_a = cell[0] / np.linalg.norm(cell[0])
    normal = np.cross(cell[0], cell[1])
    normal /= np.linalg.norm(normal)
    rot_b = np.cross(normal, rot_a)
    new = cell.copy()
    new[0] = a * rot_a
    new[1] = b * (np.cos(gamma) * rot_a + np.sin(gamma) * rot_b)
    out = metal.copy()
    out.set_cell(new, scale_atoms=True)
    return out
