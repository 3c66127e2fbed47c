"""Wetting: Young–Dupré contact angle and the surface tension of the liquid metals.

W_ad = sigma_lv (1 + cos theta), so theta = arccos(W_ad / sigma_lv - 1), clipped:

- ``complete wetting``: W_ad >= 2 sigma_lv, theta = 0 deg (the metal spreads);
- ``wetting``: 0 < theta < 90 deg;
- ``non-wetting``: 90 <= theta < 180 deg, and W_ad <= 0, theta = 180 deg.

Surface tensions of the liquid metals, sigma_lv(T) in J/m^2 (T in K):

- Li: 0.447 - 1.07e-4 T - 1.351e-8 T^2 (Davison, NASA TN D-4650, 1968; +-1.9 %);
- Na: 0.2405 (1 - T / 2503.7)^1.126 (Fink and Leibowitz, ANL/RE-95/2, 1995,
  371-1600 K); the Sodium-NaK Engineering Handbook, Vol. 1, gives 0.192 at the
  melting point, 4 % lower;
- K: 0.1360 - 6.45e-5 T, a linear fit used in heat-pipe design codes whose primary
  source we could not check (0.114 at the melting point); override it
  (``wetting: sigma_lv_J_m2: {K: ...}``) when you have a measured value.
"""

from __future__ import annotations

import math
from typing import NamedTuple

MELTING_POINT_K = {"Li": 453.65, "Na": 370.95, "K": 336.53}

SIGMA_SOURCES = {
    "Li": "Davison, NASA TN D-4650 (1968)",
    "Na": "Fink and Leibowitz, ANL/RE-95/2 (1995)",
    "K": "linear heat-pipe fit 0.1360 - 6.45e-5 T (primary source not verified)",
}


def sigma_lv(metal: str, temperature_K: float | None = None) -> float:
    """Surface tension of liquid ``metal`` (J/m^2) at ``temperature_K`` (K; default:
    the melting point). Raises ``KeyError`` for a metal without a shipped fit."""
    if metal not in MELTING_POINT_K:
        raise KeyError(f"no liquid surface tension shipped for {metal}; "
                       "set wetting: sigma_lv_J_m2: {" + metal + ": <J/m^2>} in the config")
    t = MELTING_POINT_K[metal] if temperature_K is None else float(temperature_K)
    if metal == "Li":
        return 0.447 - 1.07e-4 * t - 1.351e-8 * t * t
    if metal == "Na":
        return 0.2405 * (1.0 - t / 2503.7) ** 1.126
    return 0.1360 - 6.45e-5 * t


def contact_angle(w_ad_J_m2: float, sigma_J_m2: float) -> tuple[float, str]:
    """Young–Dupré contact angle (degrees) and wetting regime from W_ad and sigma_lv
    (both J/m^2)."""
    if sigma_J_m2 <= 0:
        raise ValueError("sigma_lv must be positive")
    if w_ad_J_m2 >= 2.0 * sigma_J_m2:
        return 0.0, "complete wetting"
    if w_ad_J_m2 <= 0.0:
        return 180.0, "non-wetting"
    theta = math.degrees(math.acos(w_ad_J_m2 / sigma_J_m2 - 1.0))
    return theta, ("wetting" if theta < 90.0 else "non-wetting")


class SurfaceTension(NamedTuple):
    """The liquid surface tension a metal's contact angles use."""

    sigma_J_m2: float | None  # None: none known, or each row's own DFT film value
    source: str  # where it comes from, for the report
    from_dft_film: bool  # each interface row uses its metal film's DFT surface energy


def surface_tension_for(metal: str, wetting: dict) -> SurfaceTension:
    """The surface tension (J/m^2) of ``metal``'s contact angles, from the config's
    ``wetting`` section: ``sigma_lv_J_m2[metal]`` if set; with ``sigma_from:
    dft_surface_energy`` each interface row's DFT surface energy of the metal film; else
    the shipped fit at ``temperature_K[metal]`` (default: the melting point); None (and
    the reason) if no fit is shipped for ``metal``."""
    if wetting.get("sigma_lv_J_m2", {}).get(metal) is not None:
        return SurfaceTension(wetting["sigma_lv_J_m2"][metal], "set in the config", False)
    if wetting.get("sigma_from") == "dft_surface_energy":
        return SurfaceTension(None, "DFT surface energy of the metal film", True)
    if metal in MELTING_POINT_K:
        temperature = wetting.get("temperature_K", {}).get(metal)
        return SurfaceTension(sigma_lv(metal, temperature), f"{SIGMA_SOURCES[metal]}, T = "
                              f"{temperature or MELTING_POINT_K[metal]} K", False)
    return SurfaceTension(None, f"none shipped for {metal}: set wetting.sigma_lv_J_m2",
                          False)


def regime_boundary_near(w_ad_J_m2: float, sigma_J_m2: float, within_J_m2: float) -> str | None:
    """The Young–Dupré regime boundary that ``w_ad_J_m2`` lies within ``within_J_m2`` of
    (all J/m^2), described, or None: W_ad = 2 sigma_lv (complete wetting against
    wetting) and W_ad = sigma_lv (theta = 90 deg, wetting against non-wetting). An
    estimate of W_ad closer than its own error to one of them does not settle the regime."""
    if sigma_J_m2 <= 0:
        raise ValueError("sigma_lv must be positive")
    for factor, between in ((2.0, "complete wetting / wetting"),
                            (1.0, "wetting / non-wetting")):
        boundary = factor * sigma_J_m2
        if abs(w_ad_J_m2 - boundary) <= within_J_m2:
            return (f"W_ad {w_ad_J_m2:.4f} J/m^2 within {within_J_m2} of the {between} "
                    f"boundary ({factor:g} sigma_lv = {boundary:.4f} J/m^2)")
    return None


def escalation_for(metal: str, interface: dict, wetting: dict) -> dict | None:
    """What ``compute_adhesion`` escalates by (``escalation``) for ``metal``'s interfaces,
    from the settings' ``interface`` section and the config's ``wetting`` section: the
    margin (J/m^2) and sigma_lv (None: each row's DFT film energy); None where the
    interfaces are not at ML geometries or the margin is 0."""
    within = interface.get("escalate_within_J_m2", 0)
    if interface.get("stage") != "dft_at_ml" or not within:
        return None
    return {"within_J_m2": within,
            "sigma_lv_J_m2": surface_tension_for(metal, wetting).sigma_J_m2}
