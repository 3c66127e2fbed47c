"""Charge-density differences (philicity.charges): hand-built densities on small grids."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.io.cube import read_cube_data
from ase.units import Bohr

from philicity import charges
from philicity.jobs.charges import best_site

CELL = np.diag([2.0, 3.0, 10.0])  # A; plane area 6 A^2


def _dipole_layer() -> np.ndarray:
    """A neutral difference: +0.01 e/A^3 in the slice z in [4, 5) A, -0.01 in [5, 6)."""
    rho = np.zeros((4, 6, 20))  # dz = 0.5 A
    rho[:, :, 8:10] = 0.01
    rho[:, :, 10:12] = -0.01
    return rho


def test_charge_profile_of_a_hand_built_dipole_layer():
    profile = charges.plane_profile(_dipole_layer(), CELL)
    assert profile.z_A[:3] == pytest.approx([0.0, 0.5, 1.0])
    assert profile.rho_e_per_A[8] == pytest.approx(0.06)  # 0.01 e/A^3 * 6 A^2
    # samples, not slices: the trapezoid rule gives below 4.5 A half of the sample at 4.5
    # and the whole one at 4.0, 0.5 A * (0.06 + 0.06 / 2) e/A; below 5.0 A also half of
    # the -0.06 e/A at 5.0: the same 0.045 e; all given back at the top
    assert profile.charge_moved(4.5) == pytest.approx(0.045)
    assert profile.charge_moved(5.0) == pytest.approx(0.045)
    assert profile.q_below_e[0] == 0.0 and profile.charge_moved(9.5) == pytest.approx(0.0)
    assert charges.integrate(_dipole_layer(), CELL) == pytest.approx(0.0, abs=1e-12)


def test_charge_moved_across_a_plane_of_a_smooth_dipole_is_exact_to_the_grid():
    """Gaussian charge +q at z = 4.5 A and -q at 5.5 A (width 0.3 A) on a 0.1 A grid:
    below z = 4.8 A lie q (Phi(1) - Phi(-7/3)) = 0.8315 q. The trapezoid rule is within
    dz^2/12 of it; counting each sample as the slice above it was off by
    line(4.8 A) * dz / 2 = 0.009 e."""
    import math

    def phi(x):
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    z = np.arange(100) * 0.1
    sigma, q = 0.3, 0.25
    gauss = np.exp(-0.5 * ((z - 4.5) / sigma) ** 2) - np.exp(-0.5 * ((z - 5.5) / sigma) ** 2)
    rho = np.broadcast_to(gauss * q / (sigma * math.sqrt(2 * math.pi)) / 6.0, (4, 6, 100))
    exact = q * (phi(0.3 / sigma) - phi(-0.7 / sigma))
    profile = charges.plane_profile(np.array(rho), CELL)
    assert profile.charge_moved(4.8) == pytest.approx(exact, abs=1e-3)
    slices = float(np.sum(profile.rho_e_per_A[:48]) * 0.1)  # the old count
    assert abs(slices - exact) > 5e-3


def test_charge_integral_counts_electrons():
    rho = np.full((4, 6, 20), 0.5)  # 0.5 e/A^3 in 60 A^3
    assert charges.integrate(rho, CELL) == pytest.approx(30.0)


def test_charge_density_difference_needs_one_grid():
    a = np.ones((2, 2, 2))
    assert charges.density_difference(3 * a, a, a) == pytest.approx(a)
    with pytest.raises(ValueError, match="different grids"):
        charges.density_difference(a, np.ones((2, 2, 3)), a)


def test_charge_profile_refuses_a_tilted_surface_normal():
    cell = CELL.copy()
    cell[2, 0] = 1.0
    with pytest.raises(ValueError, match="not along z"):
        charges.plane_profile(_dipole_layer(), cell)


def test_cube_file_holds_the_difference_in_electrons_per_cubic_bohr(tmp_path):
    atoms = Atoms("Na", positions=[[1, 1.5, 5]], cell=CELL, pbc=True)
    charges.write_cube(tmp_path / "d.cube", atoms, _dipole_layer())
    data, back = read_cube_data(str(tmp_path / "d.cube"))
    assert data.shape == (4, 6, 20)
    assert data.max() == pytest.approx(0.01 * Bohr**3)
    # the cube of a neutral difference integrates to zero
    assert data.sum() * back.get_volume() / Bohr**3 / data.size == pytest.approx(0, abs=1e-12)


def test_charge_plane_lies_between_the_parts():
    atoms = Atoms("Al2Na", positions=[[0, 0, 3], [1, 1, 5], [0, 0, 7.6]], cell=CELL)
    assert charges.interface_plane(atoms, np.array([True, True, False])) == pytest.approx(6.3)
    sunk = Atoms("Al2Na", positions=[[0, 0, 3], [1, 1, 5], [0, 0, 4.6]], cell=CELL)
    assert charges.interface_plane(sunk, np.array([True, True, False])) is None


def test_charge_analysis_takes_the_best_unflagged_site():
    recs = [{"status": "ok", "flags": [], "energy_eV": -12.0, "E_clean_slab_eV": -10.0,
             "site": "a"},
            {"status": "ok", "flags": ["moved"], "energy_eV": -13.0, "E_clean_slab_eV": -10.0,
             "site": "b"},
            {"status": "ok", "flags": [], "energy_eV": -21.5, "E_clean_slab_eV": -19.0,
             "site": "c"},  # another facet: -2.5 below its own clean slab
            {"status": "failed", "site": "d"}]
    assert best_site(recs)["site"] == "c"
    assert best_site(recs[3:]) is None
    # every site flagged: the one the ranking falls back to (physical flags only)
    flagged = [{**recs[1], "flags": ["moved 1.2 A", "reconstructed 0.8 A"]},
               {**recs[0], "flags": ["relaxation not converged"]}]
    assert best_site(flagged)["site"] == "b"
    assert best_site(flagged[1:]) is None
    # an unflagged but unrelaxed single point comes after a relaxed site that moved, as
    # in the ranking; alone, it is the site
    single = {**recs[0], "site": "s", "stage": "dft_single_point", "energy_eV": -14.0}
    assert best_site([flagged[0], single])["site"] == "b"
    assert best_site([single, flagged[1]])["site"] == "s"


def test_charges_without_a_density_calculator_are_none(tmp_path):
    from ase.calculators.emt import EMT

    assert charges.hirshfeld_charges(EMT(), tmp_path / "x.gpw") is None
    assert charges.all_electron_density(EMT()) is None
