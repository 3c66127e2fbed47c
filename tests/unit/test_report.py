"""The report's figures and page from small hand-built tables (no screen, no file read)."""

from __future__ import annotations

import html
import math
import re

import numpy as np
import pandas as pd
import pytest
from ase.build import fcc100

from philicity import report
from philicity.ranking import INTERFACE_COLUMNS, RANKING_COLUMNS, SITE_COLUMNS
from philicity.wetting import contact_angle

SIGMA = 0.4  # J/m^2


def _ranking() -> pd.DataFrame:
    rows = [
        {"rank": 1, "coating": "Ag", "formula": "Ag", "miller": "100", "best_site": "t0-hollow0",
         "E_b_atom_eV": -2.10, "dE_vs_baseline_eV": -0.15, "W_ad_J_m2": 0.70,
         "theta_deg": 41.4, "score": 0.9, "flags": "", "status": "ok",
         "settings_hash": "abc123"},
        {"rank": 2, "coating": "Cu", "formula": "Cu", "miller": "001", "best_site": "t0-hollow0",
         "E_b_atom_eV": -1.85, "dE_vs_baseline_eV": 0.10, "W_ad_J_m2": 0.30,
         "theta_deg": 104.5, "score": -0.35, "flags": "1/2 sites flagged: t0-ontop0@001: moved",
         "status": "ok", "settings_hash": "abc123"},
        {"rank": None, "coating": "Broken", "status": "failed: Broken.cif: not a readable CIF",
         "flags": "", "settings_hash": "abc123"},
    ]
    return pd.DataFrame(rows, columns=RANKING_COLUMNS)


def _sites() -> pd.DataFrame:
    base = {"formula": "", "termination": 0, "dft_stage": "dft_relaxed",
            "polar_termination": False}
    rows = [
        {**base, "coating": "Ag", "miller": "100", "site": "t0-hollow0", "site_kind": "hollow",
         "E_b_atom_eV": -2.10, "flags": "", "site_energy_mode": "free"},
        {**base, "coating": "Ag", "miller": "100", "site": "t0-ontop0", "site_kind": "top_Ag",
         "E_b_atom_eV": None, "flags": "ml: moved (ontop -> hollow, 2.0 A)",
         "site_energy_mode": "free"},
        {**base, "coating": "Ag", "miller": "100", "site": "t0-ontop0", "site_kind": "top_Ag",
         "E_b_atom_eV": -1.60, "flags": "", "site_energy_mode": "lateral_fixed",
         "height_A": 2.5},
        {**base, "coating": "Cu", "miller": "001", "site": "t0-hollow0", "site_kind": "hollow",
         "E_b_atom_eV": -1.85, "flags": "", "site_energy_mode": "free"},
        {**base, "coating": "Cu", "miller": "001", "site": "t0-ontop0", "site_kind": "top_Cu",
         "E_b_atom_eV": -1.50, "flags": "moved (ontop -> hollow, 1.8 A)",
         "site_energy_mode": "free"},
    ]
    return pd.DataFrame(rows, columns=SITE_COLUMNS)


def _interfaces() -> pd.DataFrame:
    rows = []
    for coating, miller, w_ad in (("Ag", "100", 0.70), ("Cu", "001", 0.30), ("Cu", "111", 0.2)):
        theta, regime = contact_angle(w_ad, SIGMA)
        rows.append({"coating": coating, "metal_miller": "100", "coating_miller": miller,
                     "W_ad_J_m2": w_ad, "theta_deg": theta, "wetting_regime": regime,
                     "flags": "", "termination": 0, "sigma_lv_J_m2": SIGMA, "status": "ok"})
    rows.append({"coating": "Cu", "metal_miller": "110", "coating_miller": "001",
                 "flags": "", "sigma_lv_J_m2": SIGMA,
                 "status": "no_match: strain 9 % > max_strain_pct 6"})
    return pd.DataFrame(rows, columns=INTERFACE_COLUMNS)


def _slab():
    return fcc100("Ag", (2, 2, 2), vacuum=5.0)


def _site_records(slab) -> list[dict]:
    """An ontop and a hollow site on the slab's top layer; the ontop adatom moved."""
    top = slab.positions[slab.positions[:, 2].argmax()]
    a = np.linalg.norm(slab.cell[0]) / 2
    z = top[2] + 2.0
    common = {"kind": "adsorbate", "name": "Ag", "miller": "100", "termination": 0,
              "status": "ok"}
    return [
        {**common, "site": "t0-ontop0", "adatom_start_A": [top[0], top[1], z],
         "adatom_final_A": [top[0] + a / 2, top[1] + a / 2, z - 0.5],
         "flags": ["ml: moved (ontop -> hollow, 2.0 A)"]},
        # a periodic image of the hollow site, one cell vector away: drawn inside the cell
        {**common, "site": "t0-hollow0",
         "adatom_start_A": list(np.array([top[0] + a / 2, top[1] + a / 2, z])
                                - slab.cell[0]),
         "adatom_final_A": list(np.array([top[0] + a / 2, top[1] + a / 2, z])
                                - slab.cell[0]),
         "flags": []},
    ]


def _screen() -> report.ScreenData:
    slab = _slab()
    metal = report.MetalData(
        "Li", tables={"ranking": _ranking(), "sites": _sites(), "interfaces": _interfaces(),
                      "reactions": None, "charges": None},
        slabs=[report.SlabSites("Ag", "100", "0", slab, _site_records(slab))],
        interfaces=[report.InterfaceStructure("Ag", "(100) t0 | Li(100)", slab, 0.7)],
        charge_profiles=[report.ChargeProfile("Ag", "site_t0-hollow0", pd.DataFrame(
            {"z_A": [0.0, 1.0, 2.0], "drho_e_per_A": [0.0, 0.1, -0.1],
             "dq_below_e": [0.0, 0.05, 0.0]}), 1.0)],
        records=[{"kind": "adsorbate", "settings": {"calculator": {"name": "gpaw"}},
                  "versions": {"ase": "3.29.0", "gpaw": "26.7.0"}}],
        missing=["results/reactions/Li.csv (not written)"])
    terms = pd.DataFrame([{"coating": "Ag", "miller": "100", "termination": 0,
                           "polar": False, "chosen": True, "why": "the only cut",
                           "status": "ok"}])
    return report.ScreenData({"Li": metal}, {"Ag": terms}, report.provenance(
        metal.records, "abc123", "2026-01-01 00:00 UTC"))


def test_report_young_dupre_theta_matches_the_contact_angle():
    w = np.array([0.0, 0.5 * SIGMA, SIGMA, 1.5 * SIGMA, 2 * SIGMA, 3 * SIGMA])
    theta = report.young_dupre_theta_deg(w, SIGMA)
    assert theta == pytest.approx([180, 120, 90, 60, 0, 0], abs=1e-9)
    for value, expected in zip(w[1:], theta[1:], strict=True):
        assert contact_angle(value, SIGMA)[0] == pytest.approx(expected, abs=1e-9)
    with pytest.raises(ValueError):
        report.young_dupre_theta_deg(w, 0.0)


def test_report_wetting_curve_passes_through_sigma_90_and_two_sigma_0():
    fig = report.wetting_chart(_interfaces(), "Li")
    ax = fig.axes[0]
    curve = next(line for line in ax.get_lines() if line.get_gid() == "young-dupre")
    w, theta = curve.get_xdata(), curve.get_ydata()
    assert np.interp(SIGMA, w, theta) == pytest.approx(90.0, abs=1e-6)
    assert np.interp(2 * SIGMA, w, theta) == pytest.approx(0.0, abs=1e-6)
    assert theta[w > 2 * SIGMA] == pytest.approx(0.0)
    # the complete-wetting and the non-wetting regions shaded
    spans = sorted((p.get_x(), p.get_x() + p.get_width()) for p in ax.patches)
    assert spans[0] == pytest.approx((0.0, SIGMA))
    assert spans[1][0] == pytest.approx(2 * SIGMA)
    # every coating's best interface, placed on the curve and labelled
    labels = {t.get_text() for t in ax.texts}
    assert labels == {"Ag (100)", "Cu (001)"}
    points = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(points) == 2
    for p in points:
        (x,), (y,) = p.get_xdata(), p.get_ydata()
        assert y == pytest.approx(report.young_dupre_theta_deg(x, SIGMA), abs=0.01)


def test_report_wetting_chart_needs_a_sigma():
    table = _interfaces().assign(sigma_lv_J_m2=None)
    assert report.wetting_chart(table, "Li") is None
    assert report.wetting_chart(_interfaces().iloc[:0], "Li") is None


def test_report_binding_chart_has_one_bar_per_ranked_coating():
    fig = report.binding_chart(_ranking(), "Li")
    bars = fig.axes[0].patches
    assert sorted(b.get_width() for b in bars) == pytest.approx([-0.15, 0.10])
    assert report.binding_chart(_ranking().iloc[2:], "Li") is None  # only the failed one


def test_report_site_chart_marks_flagged_sites_and_missing_energies():
    fig = report.site_energy_chart(_sites(), "Cu", "Li", baseline_eV=-1.95)
    ax = fig.axes[0]
    assert any(p.get_hatch() == "xx" for p in ax.patches)  # the flagged ontop site
    assert {t.get_text() for t in ax.get_xticklabels()} == {"t0-hollow0", "t0-ontop0"}
    fig = report.site_energy_chart(_sites(), "Ag", "Li")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "n/a" in texts  # the pruned ontop site has no free energy, a held one
    assert report.site_energy_chart(_sites(), "Broken", "Li") is None


def test_report_site_marks_take_the_free_energy_then_the_held_one():
    slab = _slab()
    marks = report.site_marks(_site_records(slab), _sites()).set_index("site")
    assert marks.loc["t0-hollow0", "E_b_atom_eV"] == pytest.approx(-2.10)
    assert marks.loc["t0-hollow0", "energy_from"] == "free"
    assert marks.loc["t0-ontop0", "E_b_atom_eV"] == pytest.approx(-1.60)
    assert marks.loc["t0-ontop0", "energy_from"] == "held"
    assert marks.loc["t0-ontop0", "flags"].startswith("ml: moved")
    start, end = report.in_cell(slab, marks.reset_index())
    frac = np.linalg.solve(slab.cell.array.T, start.T).T
    assert ((frac[:, :2] >= 0) & (frac[:, :2] < 1)).all()
    assert np.linalg.norm(end[0] - start[0]) > 1.0  # the ontop adatom moved
    assert np.linalg.norm(end[1] - start[1]) < 1e-9


def test_report_site_map_draws_the_slab_the_sites_and_a_colorbar():
    slab = _slab()
    fig = report.site_map(slab, report.site_marks(_site_records(slab), _sites()), "Li",
                          "Ag(100) t0")
    ax, colorbar = fig.axes
    assert len(ax.collections) == 2  # one marker per site
    assert "E_b" in colorbar.get_ylabel()
    empty = report.site_map(slab, report.site_marks([], None), "Li", "Ag(100) t0")
    assert "no site positions" in empty.axes[0].get_title()


def test_report_figures_are_written_as_png_and_svg(tmp_path):
    screen = _screen()
    made = {}
    for stem, make in report.figures(screen):
        fig = make()
        if fig is not None:
            made[stem] = report.write_figure(fig, tmp_path / stem)
    assert {"Li_binding", "Li_Ag_sites", "Li_Cu_sites", "Li_Ag_100_t0_top", "Li_wetting",
            "Li_Ag_100-t0-Li-100_interface", "Li_Ag_site_t0-hollow0_charge"} <= set(made)
    for stem, png in made.items():
        assert png.startswith(b"\x89PNG")
        assert (tmp_path / f"{stem}.png").read_bytes() == png
        assert "<svg" in (tmp_path / f"{stem}.svg").read_text()[:2000]


def test_report_html_has_every_section_and_no_external_resource():
    screen = _screen()
    images = {stem: report.png_bytes(fig) for stem, make in report.figures(screen)
              if (fig := make()) is not None}
    page = report.html_page(screen, images)
    for title in report.SECTION_TITLES.values():
        assert html.escape(title) in page, title
    # the rankings first, the full settings last
    assert (page.index('id="Li-ranking"') < page.index('id="failures"')
            < page.index('id="settings"') < page.index("26.7.0"))
    assert page.count("<img ") == len(images) > 0
    assert all(src.startswith("data:image/png;base64,")
               for src in re.findall(r'src="([^"]*)"', page))
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', page))
    assert "<link" not in page and "http://" not in page and "https://" not in page
    assert 'class="dataframe sortable"' in page and "<script>" in page  # click to sort
    # provenance, flags and failures with their reasons, what is missing
    assert "abc123" in page and "26.7.0" in page and "2026-01-01" in page
    assert "Broken.cif: not a readable CIF" in page
    assert "ml: moved (ontop -&gt; hollow, 2.0 A)" in page
    assert "no_match: strain 9 %" in page
    assert "Missing: the Li reactions table" in page
    assert "Missing: no charge-transfer data for Li" in page


def test_report_page_without_tables_says_what_is_missing():
    metal = report.MetalData("Na", tables=dict.fromkeys(report.TABLES),
                             missing=["results/ranking/Na.csv (not written)"])
    screen = report.ScreenData({"Na": metal}, {}, report.provenance([], "", "today"))
    assert report.figures(screen) == []
    page = report.html_page(screen, {})
    for title in report.SECTION_TITLES.values():
        assert html.escape(title) in page, title
    assert "Missing: the Na ranking table" in page
    assert "no record with settings was found" in page
    assert "<img" not in page


def test_report_failures_table_names_every_problem():
    fails = report.failures_table(_screen())
    by_table = fails.groupby("table")["coating"].apply(set).to_dict()
    assert by_table["ranking"] == {"Broken"}
    assert by_table["sites"] == {"Ag", "Cu"}
    assert by_table["interfaces"] == {"Cu"}
    assert not math.isnan(len(fails)) and fails["reason"].str.len().gt(0).all()
