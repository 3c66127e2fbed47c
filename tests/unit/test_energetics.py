import pytest

from philicity import energetics


def test_binding_energy_hand_computed():
    # E(slab+M) = -100.0, E(slab) = -97.5, E(atom) = -0.2 -> E_b = -2.3 eV
    assert energetics.binding_energy(-100.0, -97.5, -0.2) == pytest.approx(-2.3)


def test_binding_energy_vs_bulk_is_less_negative_by_cohesive_energy():
    # with bulk Na at -1.3 eV/atom relative to the same atom at -0.2 eV (E_coh = 1.1 eV)
    e_atom = energetics.binding_energy(-100.0, -97.5, -0.2)
    e_bulk = energetics.binding_energy(-100.0, -97.5, -1.3)
    assert e_bulk - e_atom == pytest.approx(1.1)


def test_surface_energy_units():
    # 1 eV excess over 2 faces of 10 A^2 = 0.05 eV/A^2 = 0.80109 J/m^2
    gamma = energetics.surface_energy(-9.0, 10, -1.0, 10.0)
    assert gamma == pytest.approx(0.05 * 16.021766339)


def test_surface_energy_rejects_zero_area():
    with pytest.raises(ValueError):
        energetics.surface_energy(0.0, 1, 0.0, 0.0)


def test_difference_to_baseline_sign():
    assert energetics.difference_to_baseline(-2.0, -1.5) == pytest.approx(-0.5)


def test_energy_per_atom():
    assert energetics.energy_per_atom(-6.0, 4) == pytest.approx(-1.5)
    with pytest.raises(ValueError):
        energetics.energy_per_atom(-6.0, 0)


def test_work_of_adhesion_hand_value():
    from philicity.energetics import work_of_adhesion

    # 1 eV gained over 16.021766339 A^2 is 1 J/m^2
    assert work_of_adhesion(-10.0, -20.0, -31.0, 16.021766339) == pytest.approx(1.0)
    assert work_of_adhesion(-10.0, -20.0, -29.0, 16.021766339) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        work_of_adhesion(0.0, 0.0, 0.0, 0.0)


def test_strain_energy_hand_value():
    from philicity.energetics import strain_energy

    assert strain_energy(-9.5, -10.0, 8.0108831695) == pytest.approx(1.0)


def test_adhesion_quantities_hand_computed():
    # interface -10 eV over 10 A^2; relaxed parts -4 and -5.5, frozen -3.9 and -5.4
    out = energetics.adhesion(-10.0, -4.0, -5.5, -3.9, -5.4, -4.2, 10.0, 4, 8.0, -1.1)
    k = energetics.EV_PER_A2_TO_J_PER_M2
    assert out["W_ad_J_m2"] == pytest.approx(0.5 / 10.0 * k)
    assert out["W_sep_J_m2"] == pytest.approx(0.7 / 10.0 * k)  # frozen parts: more
    assert out["E_strain_J_m2"] == pytest.approx(0.2 / 10.0 * k)
    assert out["metal_surface_energy_J_m2"] == pytest.approx(0.2 / 16.0 * k)
    no_bulk = energetics.adhesion(-10.0, -4.0, -5.5, -3.9, -5.4, -4.2, 10.0, 4, 8.0, None)
    assert no_bulk["metal_surface_energy_J_m2"] is None
