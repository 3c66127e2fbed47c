"""Young–Dupré and the liquid surface tensions, against hand-computed values."""

import pytest

from philicity import wetting
from philicity.wetting import MELTING_POINT_K, contact_angle, sigma_lv


def test_partial_wetting_angle_from_the_published_na_numbers():
    # arccos(0.44 / 0.2523 - 1) = arccos(0.74396) = 41.93 deg
    theta, regime = contact_angle(0.44, 0.2523)
    assert theta == pytest.approx(41.93, abs=0.01)
    assert regime == "wetting"


@pytest.mark.parametrize("w_ad", [0.5046, 0.6, 3.0])
def test_complete_wetting_at_and_above_twice_sigma(w_ad):
    assert contact_angle(w_ad, 0.2523) == (0.0, "complete wetting")


@pytest.mark.parametrize("w_ad", [0.0, -0.1])
def test_no_adhesion_is_180_degrees(w_ad):
    assert contact_angle(w_ad, 0.2523) == (180.0, "non-wetting")


def test_above_90_degrees_is_non_wetting():
    # W_ad = 0.5 sigma: cos theta = -0.5, theta = 120 deg
    theta, regime = contact_angle(0.1, 0.2)
    assert theta == pytest.approx(120.0)
    assert regime == "non-wetting"


def test_exactly_sigma_is_90_degrees():
    assert contact_angle(0.2, 0.2)[0] == pytest.approx(90.0)


def test_sigma_must_be_positive():
    with pytest.raises(ValueError):
        contact_angle(0.1, 0.0)


def test_liquid_surface_tensions_at_the_melting_points():
    # Li: 0.447 - 1.07e-4 * 453.65 - 1.351e-8 * 453.65^2 = 0.39568
    assert sigma_lv("Li") == pytest.approx(0.39568, abs=1e-5)
    # Na: 0.2405 * (1 - 370.95 / 2503.7)^1.126 = 0.2405 * 0.851839^1.126 = 0.20077
    assert sigma_lv("Na") == pytest.approx(0.20077, abs=1e-5)
    # K: 0.1360 - 6.45e-5 * 336.53 = 0.11429
    assert sigma_lv("K") == pytest.approx(0.11429, abs=1e-5)
    assert set(MELTING_POINT_K) == {"Li", "Na", "K"}


def test_surface_tension_falls_with_temperature_and_unknown_metals_are_refused():
    assert sigma_lv("Na", 500.0) < sigma_lv("Na")
    with pytest.raises(KeyError, match="sigma_lv_J_m2"):
        sigma_lv("Al")


def test_surface_tension_for_follows_the_wetting_section():
    from philicity.wetting import surface_tension_for

    given = surface_tension_for("Na", {"sigma_lv_J_m2": {"Na": 0.25},
                                       "sigma_from": "dft_surface_energy"})
    assert given == (0.25, "set in the config", False)  # a given value wins
    dft = surface_tension_for("Na", {"sigma_from": "dft_surface_energy"})
    assert dft.sigma_J_m2 is None and dft.from_dft_film
    fit = surface_tension_for("Na", {"sigma_from": "liquid", "temperature_K": {"Na": 500.0}})
    assert fit.sigma_J_m2 == pytest.approx(sigma_lv("Na", 500.0)) and "500.0 K" in fit.source
    melt = surface_tension_for("Li", {})
    assert melt.sigma_J_m2 == pytest.approx(sigma_lv("Li")) and "453.65 K" in melt.source
    none = surface_tension_for("Al", {})
    assert none.sigma_J_m2 is None and not none.from_dft_film and "Al" in none.source


def test_regime_boundary_near_names_the_boundary_within_the_margin():
    # sigma 0.2: boundaries at 0.4 (complete wetting) and 0.2 (theta = 90 deg)
    assert "complete wetting / wetting" in wetting.regime_boundary_near(0.38, 0.2, 0.05)
    assert "(2 sigma_lv = 0.4000 J/m^2)" in wetting.regime_boundary_near(0.44, 0.2, 0.05)
    assert "wetting / non-wetting" in wetting.regime_boundary_near(0.17, 0.2, 0.05)
    assert wetting.regime_boundary_near(0.30, 0.2, 0.05) is None  # 0.1 from both
    assert wetting.regime_boundary_near(0.46, 0.2, 0.05) is None
    assert wetting.regime_boundary_near(0.38, 0.2, 0.0) is None  # margin 0: never
    with pytest.raises(ValueError):
        wetting.regime_boundary_near(0.3, 0.0, 0.05)


def test_escalation_for_takes_the_margin_and_the_metals_sigma():
    at_ml = {"stage": "dft_at_ml", "escalate_within_J_m2": 0.07}
    # Na at its melting point: 0.2405 (1 - 370.95 / 2503.7)^1.126 = 0.2008 J/m^2
    shipped = wetting.escalation_for("Na", at_ml, {})
    assert shipped["within_J_m2"] == 0.07
    assert shipped["sigma_lv_J_m2"] == pytest.approx(0.2008, abs=1e-4)
    assert wetting.escalation_for("Na", at_ml, {"sigma_lv_J_m2": {"Na": 0.3}}) == {
        "within_J_m2": 0.07, "sigma_lv_J_m2": 0.3}
    dft = wetting.escalation_for("Na", at_ml, {"sigma_from": "dft_surface_energy"})
    assert dft == {"within_J_m2": 0.07, "sigma_lv_J_m2": None}  # each row's film energy
    assert wetting.escalation_for("Na", {**at_ml, "escalate_within_J_m2": 0}, {}) is None
    assert wetting.escalation_for("Na", {**at_ml, "stage": "dft_relaxed"}, {}) is None
