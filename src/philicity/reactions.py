"""Will the metal react with the coating? Reaction driving forces from our own bulk energies.

A coating the anode metal reacts with (Li + 6 C -> LiC6, Li + Ga -> Li-Ga alloys, Na + Pb
-> NaPb3, ...) is consumed into the product before the metal plates on it: the metal then
sees the product. The driving force is the most negative reaction energy per metal atom
along the metal-coating mixing line, from pymatgen's ``InterfacialReactivity`` on a
``PhaseDiagram`` of the energies the screen computed (same calculator settings as every
other energy). No hull code here: pymatgen does it.

Phases: the anode metals, the coatings and ``structures/compounds/`` (bulk cells), and the
gas-phase molecules of the elements that are gases in their standard state
(:data:`MOLECULES`, computed in a box). Energies in eV.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from pymatgen.core import Composition

# Elemental references that are molecules: symbol -> molecule (ase.build.molecule name)
MOLECULES = {"H": "H2", "N": "N2", "O": "O2", "F": "F2", "Cl": "Cl2"}
# Ground-state spin of each molecule (total magnetic moment, Bohr magnetons): triplet O2
MOLECULE_MAGMOM = {"H2": 0.0, "N2": 0.0, "O2": 2.0, "F2": 0.0, "Cl2": 0.0}
# Below this (eV per metal atom) a reaction counts as a driving force: the energies'
# numerical noise at the fast preset is a few meV per atom
REACTIVE_BELOW_EV = -0.01


class ReactionError(ValueError):
    """The reaction energy cannot be computed (a missing reference); says which."""


@dataclass(frozen=True)
class Phase:
    """One phase a reaction can reach: ``key`` names its energy record (``anodes/Li``,
    ``compounds/LiC12``, ``molecules/O2``), ``formula`` its composition."""

    key: str
    formula: str

    @property
    def elements(self) -> frozenset[str]:
        return frozenset(el.symbol for el in Composition(self.formula).elements)


def molecule(name: str, box_A: float) -> Atoms:
    """A gas-phase molecule (``MOLECULES`` value) centred in a box of edges ``box_A``,
    ``box_A``, 1.05 ``box_A`` (angstrom), non-periodic, with its ground-state spin as
    initial magnetic moments."""
    from ase.build import molecule as ase_molecule

    atoms = ase_molecule(name)
    atoms.cell = [box_A, box_A, 1.05 * box_A]
    atoms.center()
    atoms.pbc = False
    atoms.set_initial_magnetic_moments([MOLECULE_MAGMOM[name] / len(atoms)] * len(atoms))
    return atoms


def molecule_phases(elements: set[str] | frozenset[str]) -> list[Phase]:
    """The molecule references of ``elements`` that are gases (O -> O2, ...)."""
    return [Phase(f"molecules/{MOLECULES[e]}", MOLECULES[e]) for e in sorted(elements)
            if e in MOLECULES]


def phases_for(metal: str, coating_formula: str, phases: list[Phase]) -> list[Phase]:
    """The phases the reaction of ``metal`` with a coating of ``coating_formula`` needs:
    every phase inside their chemical system, and the molecule references of its gaseous
    elements; an empty list when no phase other than the coating contains the metal
    together with another element of the system: then nothing can form and the reaction
    energy is 0 without any calculation."""
    system = {metal} | {e.symbol for e in Composition(coating_formula).elements}
    coating = Composition(coating_formula).reduced_composition
    inside = [p for p in phases if p.elements <= system]
    products = [p for p in inside if metal in p.elements and len(p.elements) > 1
                and Composition(p.formula).reduced_composition != coating]
    if not products:
        return []
    known = {p.key for p in inside}
    return inside + [m for m in molecule_phases(system) if m.key not in known]


def reaction_energy(metal: str, coating_formula: str,
                    energies: dict[str, tuple[str, float]]) -> dict:
    """Most negative reaction energy per ``metal`` atom of the metal with the coating.

    ``energies``: phase key -> (formula of the cell, total energy of that cell in eV).
    Builds pymatgen's ``PhaseDiagram`` from them and reads the kinks of
    ``InterfacialReactivity(metal, coating, norm=True, use_hull_energy=False)``: at each
    kink, mixing ratio x (atom fraction of the metal) and reaction energy E (eV per atom
    of mixture); E / x is per metal atom, and the most negative over the kinks is the
    driving force toward the first products the metal forms. Returns
    ``E_react_eV_per_M`` (0.0 when nothing forms), ``products`` (``" + "``-joined
    reduced formulas), ``reaction`` (pymatgen's balanced reaction), ``x_metal``,
    ``reactive`` (E below :data:`REACTIVE_BELOW_EV`). Raises :class:`ReactionError`
    when an element of the system has no elemental reference.
    """
    # imported here: with the matplotlib, pandas and plotly they bring they take a second,
    # which every job importing this module would pay
    from pymatgen.analysis.interface_reactions import InterfacialReactivity
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram

    system = {metal} | {e.symbol for e in Composition(coating_formula).elements}
    # pymatgen reads each entry's name as its formula (the products of a reaction)
    entries = [PDEntry(Composition(formula), energy)
               for formula, energy in energies.values()]
    have = {e.composition.elements[0].symbol for e in entries if e.is_element}
    missing = sorted(system - have)
    if missing:
        raise ReactionError(
            f"no elemental reference for {', '.join(missing)} (drop its CIF into "
            "structures/compounds/)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen warns when a reactant is off the hull
        diagram = PhaseDiagram(entries)
        kinks = InterfacialReactivity(Composition(metal), Composition(coating_formula),
                                      diagram, norm=True, use_hull_energy=False).get_kinks()
    best = {"E_react_eV_per_M": 0.0, "products": "", "reaction": "", "x_metal": None}
    for _, x, e_mix, reaction, _ in kinks:
        if not 0 < x < 1:
            continue
        per_metal = float(e_mix) / float(x)
        if per_metal < best["E_react_eV_per_M"]:
            products = [c.reduced_formula for c in reaction.products
                        if not np.isclose(reaction.get_coeff(c), 0)]
            best = {"E_react_eV_per_M": per_metal, "products": " + ".join(sorted(products)),
                    "reaction": str(reaction), "x_metal": float(x)}
    best["reactive"] = best["E_react_eV_per_M"] < REACTIVE_BELOW_EV
    return best
