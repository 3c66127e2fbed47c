import math

import pandas as pd
import pytest

from philicity import ranking

W = {"binding": 1.0, "wetting": 1.0}


def _site(name, site, energy, clean=-10.0, flags=(), status="ok"):
    return {"name": name, "miller": "100", "termination": 0, "site": site,
            "site_kind": site.rstrip("0123456789").split("-")[-1], "energy_eV": energy,
            "E_clean_slab_eV": clean, "flags": list(flags), "status": status}


def test_site_rows_binding_energies():
    table = ranking.site_rows([_site("Ag", "t0-hollow0", -12.0)], {"Ag": "Ag"}, -0.2, -1.3)
    row = table.iloc[0]
    assert row["E_b_atom_eV"] == pytest.approx(-1.8)  # -12 - (-10) - (-0.2)
    assert row["E_b_bulk_eV"] == pytest.approx(-0.7)
    assert list(table.columns) == ranking.SITE_COLUMNS


def test_score_formula():
    assert ranking.score(-0.5, None, W) == pytest.approx(0.5)
    assert ranking.score(-0.5, 60.0, W) == pytest.approx(0.5 + math.cos(math.radians(60)))
    assert ranking.score(None, None, W) is None


def test_ranking_orders_by_score_excludes_flags_and_keeps_failures():
    records = [
        _site("Ag", "t0-hollow0", -12.0),
        _site("Ag", "t0-ontop0", -13.0, flags=["desorbed"]),  # lower but flagged
        _site("Cu", "t0-hollow0", -12.5),
    ]
    table = ranking.site_rows(records, {}, -0.2, -1.3)
    cands = [{"name": "Ag", "status": "ok", "formula": "Ag"},
             {"name": "Cu", "status": "ok", "formula": "Cu"},
             {"name": "Bad", "status": "failed", "reason": "x.cif: broken"}]
    out = ranking.ranking(cands, table, -1.5, W, "abc")
    assert list(out.columns) == ranking.RANKING_COLUMNS
    assert out["coating"].tolist() == ["Cu", "Ag", "Bad"]
    assert out["rank"].tolist()[:2] == [1, 2] and pd.isna(out["rank"].iloc[2])
    ag = out[out["coating"] == "Ag"].iloc[0]
    assert ag["best_site"] == "t0-hollow0" and ag["E_b_atom_eV"] == pytest.approx(-1.8)
    assert ag["dE_vs_baseline_eV"] == pytest.approx(-0.3)
    assert "desorbed" in ag["flags"]
    assert out.iloc[2]["status"] == "failed: x.cif: broken"
    assert out["W_ad_J_m2"].isna().all() and out["theta_deg"].isna().all()


def test_all_sites_flagged_is_a_failure():
    table = ranking.site_rows([_site("Ag", "t0-hollow0", -12.0, flags=["moved"])], {}, 0, 0)
    out = ranking.ranking([{"name": "Ag", "status": "ok"}], table, None, W, "h")
    assert out.iloc[0]["status"].startswith("failed: no site")
