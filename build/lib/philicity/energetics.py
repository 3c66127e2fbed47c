"""Pure energy formulas: numbers in, numbers out.  Energies in eV, areas in angstrom^2."""

from __future__ import annotations

EV_PER_A2_TO_J_PER_M2 = 16.021766339  # 1 eV/angstrom^2 = 16.0218 J/m^2


def binding_energy(e_slab_adatom: float, e_slab: float, e_reference: float) -> float:
    """E_b = E(slab+M) - E(slab) - E_ref(M), in eV; negative means favourable.

    ``e_reference`` is the isolated spin-polarized atom (literature convention)
    or the bulk metal energy per atom (thermodynamic convention).
    """
    return e_slab_adatom - e_slab - e_reference


def energy_per_atom(e_total: float, n_atoms: int) -> float:
    """E / N in eV per atom."""
    if n_atoms <= 0:
        raise ValueError("n_atoms must be positive")
    return e_total / n_atoms


def surface_energy(e_slab: float, n_atoms: int, e_bulk_per_atom: float, area_A2: float) -> float:
    """gamma = (E_slab - N e_bulk) / (2 A), in J/m^2, for a slab with two equal faces.

    Exact for stoichiometric slabs; for off-stoichiometric ones it is the
    per-atom approximation (documented; used only to order terminations).
    """
    if area_A2 <= 0:
        raise ValueError("area must be positive")
    return (e_slab - n_atoms * e_bulk_per_atom) / (2.0 * area_A2) * EV_PER_A2_TO_J_PER_M2


def difference_to_baseline(e_b: float, e_b_baseline: float) -> float:
    """dE = E_b(coating) - E_b(metal on its own surface), eV; negative means M-philic."""
    return e_b - e_b_baseline


def work_of_adhesion(e_metal_slab: float, e_coating_slab: float, e_interface: float,
                     area_A2: float) -> float:
    """W_ad = (E_metal-slab + E_coating-slab - E_interface) / A, in J/m^2 (energies in
    eV, A in angstrom^2); positive means the metal sticks to the coating. The three
    energies must come from the same cell, k-mesh and settings."""
    if area_A2 <= 0:
        raise ValueError("area must be positive")
    return (e_metal_slab + e_coating_slab - e_interface) / area_A2 * EV_PER_A2_TO_J_PER_M2


def strain_energy(e_strained: float, e_unstrained: float, area_A2: float) -> float:
    """Elastic energy of the strained metal film per interface area, J/m^2 (energies
    in eV, A in angstrom^2)."""
    if area_A2 <= 0:
        raise ValueError("area must be positive")
    return (e_strained - e_unstrained) / area_A2 * EV_PER_A2_TO_J_PER_M2


def adhesion(e_interface: float, e_metal: float, e_coating: float,
             e_metal_frozen: float, e_coating_frozen: float, e_metal_unstrained: float,
             area_A2: float, n_unstrained: int, area_unstrained_A2: float,
             e_bulk_per_atom: float | None) -> dict[str, float | None]:
    """The adhesion quantities of one interface (energies in eV, areas in angstrom^2;
    results in J/m^2):

    - ``W_ad_J_m2``: work of adhesion with the separated metal film and coating slab
      (``e_metal``, ``e_coating``) relaxed after separating (or frozen, if not relaxed);
    - ``W_sep_J_m2``: ideal work of separation, the two parts exactly as they sit in the
      interface (``*_frozen``): every relaxation the interface run left unfinished cancels;
    - ``E_strain_J_m2``: elastic energy of the film strained onto the coating, per
      interface area, against the film at its own lattice (``e_metal_unstrained``);
    - ``metal_surface_energy_J_m2``: surface energy of that unstrained film (its
      ``n_unstrained`` atoms and area) against bulk metal; None without a bulk energy.
    """
    return {
        "W_ad_J_m2": work_of_adhesion(e_metal, e_coating, e_interface, area_A2),
        "W_sep_J_m2": work_of_adhesion(e_metal_frozen, e_coating_frozen, e_interface,
                                       area_A2),
        "E_strain_J_m2": strain_energy(e_metal, e_metal_unstrained, area_A2),
        "metal_surface_energy_J_m2": (
            surface_energy(e_metal_unstrained, n_unstrained, e_bulk_per_atom,
                           area_unstrained_A2) if e_bulk_per_atom is not None else None),
    }
