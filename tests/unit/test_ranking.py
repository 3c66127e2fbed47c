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


@pytest.mark.parametrize("stage, flags, tier", [
    ("dft_relaxed", "", 0),
    ("dft_relaxed", "moved (hollow0 -> bridge0); reconstructed", 1),
    ("dft_relaxed", "desorbed", None),
    ("dft_relaxed", "moved (hollow0 -> bridge0); desorbed", None),
    ("dft_single_point", "", 2),
    ("dft_single_point", "moved (hollow0 -> bridge0)", None),
])
def test_site_tier_puts_relaxed_before_single_points(stage, flags, tier):
    assert ranking.site_tier(stage, flags) == tier


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


def test_all_sites_desorbed_or_unconverged_is_a_failure():
    table = ranking.site_rows([_site("Ag", "t0-hollow0", -12.0, flags=["desorbed"]),
                               _site("Ag", "t0-ontop0", -12.5,
                                     flags=["reconstructed (x)", "relax_not_converged"])],
                              {}, 0, 0)
    out = ranking.ranking([{"name": "Ag", "status": "ok"}], table, None, W, "h")
    assert out.iloc[0]["status"].startswith("failed: no site")


def test_a_coating_whose_every_site_moved_or_reconstructed_ranks_on_its_lowest():
    """The energy of a converged relaxation that ended on another site or on a rearranged
    surface is that of a real minimum: the coating is ranked on it, and says so."""
    table = ranking.site_rows([
        _site("LiC6", "t0-hollow0", -12.0, flags=["reconstructed (substrate atom moved 0.70 A)"]),
        _site("LiC6", "t0-ontop0", -11.0, flags=["ml: moved (ontop -> hollow, 2.48 A)"]),
        _site("Ag", "t0-hollow0", -11.5), _site("Ag", "t0-ontop0", -12.5, flags=["moved"])],
        {}, -0.2, -1.3)
    out = ranking.ranking([{"name": "LiC6", "status": "ok"}, {"name": "Ag", "status": "ok"}],
                          table, -1.5, W, "h").set_index("coating")
    assert out.loc["LiC6", "best_site"] == "t0-hollow0"
    assert out.loc["LiC6", "E_b_atom_eV"] == pytest.approx(-1.8)
    assert out.loc["LiC6", "status"].startswith("ok, every site flagged: ranked on t0-hollow0")
    # a coating with an unflagged site ranks on it, not on a lower flagged one
    assert out.loc["Ag", "best_site"] == "t0-hollow0" and out.loc["Ag", "status"] == "ok"


def test_an_unrelaxed_single_point_never_outranks_a_relaxed_site():
    """Under ml-then-dft the sites outside the window keep their DFT single point (an upper
    bound). A coating whose relaxed sites all moved ranks on the lowest of those, not on
    an unflagged single point; one with single points only ranks on them, and says so.
    The baseline falls back the same way (an adatom on soft Na often moves)."""
    single = {"stage": "dft_single_point"}
    table = ranking.site_rows([
        _site("Cu", "t0-hollow0", -12.0, flags=["moved (hollow -> hcp, 1.4 A)"]),
        {**_site("Cu", "t0-ontop0", -11.2), **single},
        {**_site("Zn", "t0-hollow0", -11.4), **single},
        {**_site("Zn", "t0-ontop0", -11.1), **single}], {}, -0.2, -1.3)
    out = ranking.ranking([{"name": "Cu", "status": "ok"}, {"name": "Zn", "status": "ok"}],
                          table, -1.5, W, "h").set_index("coating")
    assert out.loc["Cu", "best_site"] == "t0-hollow0"  # -1.8 eV, moved, not -1.0 unrelaxed
    assert out.loc["Cu", "status"].startswith("ok, every site flagged")
    assert out.loc["Zn", "best_site"] == "t0-hollow0"
    assert out.loc["Zn", "E_b_atom_eV"] == pytest.approx(-1.2)
    assert out.loc["Zn", "status"].startswith("ok, no relaxed site usable: ranked on "
                                              "t0-hollow0's DFT single point")
    base = ranking.site_rows([{**_site("Na", "t0-bridge0", -11.6, flags=["moved"]),
                               "miller": "110"},
                              {**_site("Na", "t0-ontop0", -11.0, flags=["desorbed"]),
                               "miller": "110"}], {"Na": "Na"}, -0.2, -1.3)
    assert ranking.baseline_binding(base, "110") == pytest.approx(-1.4)
    assert ranking.baseline_binding(base, "100") is None


def test_a_coating_with_no_term_of_the_score_is_listed_without_a_rank():
    """No baseline (every dE empty) and no interface: no score, so no rank (not ranks in
    alphabetical order); the status and the run summary say why."""
    table = ranking.site_rows([_site("Ag", "t0-hollow0", -12.0), _site("Al", "t0-hollow0",
                                                                      -11.0)], {}, -0.2, -1.3)
    cands = [{"name": n, "status": "ok"} for n in ("Al", "Ag")]
    out = ranking.ranking(cands, table, None, W, "h").set_index("coating")
    assert out["rank"].isna().all() and out["score"].isna().all()
    assert out.loc["Ag", "E_b_atom_eV"] == pytest.approx(-1.8)  # still in the table
    assert out.loc["Ag", "status"] == ("ok, not scored: no dE_vs_baseline (no usable "
                                       "baseline site) and no contact angle")
    text, problems = ranking.run_summary({"Na": out.reset_index()})
    assert "0 coatings ranked" in text and "not scored: Ag" in text and problems == 0


def test_a_failed_facet_gives_its_reason_to_the_ranking():
    facet = {"name": "Steep", "miller": "531", "status": "failed",
             "reason": "Steep.cif: miller (531): 100 atoms exceed max_atoms=40"}
    table = ranking.site_rows([facet], {}, 0, 0)
    assert table.iloc[0]["site"] == "" and table.iloc[0]["flags"].startswith("failed: ")
    out = ranking.ranking([{"name": "Steep", "status": "ok"}], table, None, W, "h")
    assert out.iloc[0]["status"] == f"failed: {facet['reason']}"


def _adhesion(name, w_ad, status="ok", flags=(), reason="", mm="100"):
    return {"name": name, "miller": "100", "termination": 0, "metal_miller": mm,
            "status": status, "reason": reason, "W_ad_J_m2": w_ad, "area_A2": 50.0,
            "n_atoms": 30, "strain_pct": -2.0, "registry": [0.0, 0.5], "flags": list(flags),
            "E_strain_J_m2": 0.01, "metal_surface_energy_J_m2": 0.22}


def test_interface_rows_angles_and_best_interface():
    recs = [_adhesion("Pb", 0.44), _adhesion("Pb", 0.30, mm="110"),
            _adhesion("C", 0.08), _adhesion("X", None, status="no_match",
                                            reason="the least strained match has 9 %")]
    table = ranking.interface_rows(recs, 0.2523)
    assert list(table.columns) == ranking.INTERFACE_COLUMNS
    pb = table[(table["coating"] == "Pb") & (table["metal_miller"] == "100")].iloc[0]
    assert pb["theta_deg"] == pytest.approx(41.93, abs=0.01)
    assert pb["wetting_regime"] == "wetting" and pb["registry"] == "0.000 0.500"
    c = table[table["coating"] == "C"].iloc[0]  # arccos(0.08 / 0.2523 - 1) = 133.0 deg
    assert c["theta_deg"] == pytest.approx(133.0, abs=0.1) and c["wetting_regime"] == "non-wetting"
    best = ranking.best_interfaces(table)
    assert best.loc["Pb", "W_ad_J_m2"] == pytest.approx(0.44)  # the larger W_ad of the two
    assert "X" not in best.index
    dft = ranking.interface_rows(recs[:1], None, dft_sigma=True)
    assert dft.iloc[0]["sigma_lv_J_m2"] == pytest.approx(0.22)
    # a DFT film surface energy <= 0 (a film that fell apart) or a NaN W_ad: no angle,
    # and the report is still written
    broken = {**_adhesion("Pb", 0.44), "metal_surface_energy_J_m2": -0.05}
    rows = ranking.interface_rows([broken, _adhesion("C", math.nan)], None, dft_sigma=True)
    assert rows["theta_deg"].isna().all() and rows["wetting_regime"].isna().all()
    # an interface escalated from ML geometries to the DFT relaxations says so
    escalated = {**_adhesion("Pb", 0.44), "interface_stage": "dft_relaxed",
                 "escalated": "W_ad 0.3874 J/m^2 within 0.07 of ..."}
    stages = ranking.interface_rows([escalated, {**_adhesion("C", 0.08),
                                                 "interface_stage": "dft_at_ml"}], 0.2)
    assert list(stages["interface_stage"]) == ["dft_at_ml", "dft_relaxed (escalated)"]


def test_ranking_uses_theta_and_names_a_missing_interface():
    records = [_site("Pb", "t0-hollow0", -12.0), _site("X", "t0-hollow0", -12.0)]
    table = ranking.site_rows(records, {}, -0.2, -1.3)
    cands = [{"name": n, "status": "ok", "formula": n} for n in ("Pb", "X")]
    ifaces = ranking.interface_rows(
        [_adhesion("Pb", 0.44), _adhesion("X", None, status="no_match", reason="9 % strain")],
        0.2523)
    ranked = ranking.ranking(cands, table, -1.0, W, "h", ifaces).set_index("coating")
    # same binding: Pb wins on cos(41.93 deg) = 0.744
    assert ranked.loc["Pb", "score"] == pytest.approx(0.8 + math.cos(math.radians(41.93)),
                                                      abs=1e-3)
    assert ranked.loc["Pb", "wetting_regime"] == "wetting"
    assert ranked.loc["X", "score"] == pytest.approx(0.8)
    assert "no usable interface" in ranked.loc["X", "status"]
    assert "9 % strain" in ranked.loc["X", "status"]
    assert ranked.loc["Pb", "rank"] == 1 and ranked.loc["X", "rank"] == 2


def test_the_anode_metal_as_a_coating_is_listed_unranked():
    table = ranking.site_rows([_site("Na", "t0-hollow0", -12.0),
                               _site("Ag", "t0-hollow0", -12.5)], {}, -0.2, -1.3)
    cands = [{"name": "Na", "status": "ok", "formula": "Na", "elements": ["Na"]},
             {"name": "Ag", "status": "ok", "formula": "Ag", "elements": ["Ag"]}]
    out = ranking.ranking(cands, table, -1.5, W, "h", metal="Na").set_index("coating")
    assert out.loc["Na", "status"].startswith("not ranked: Na is the anode metal Na itself")
    assert pd.isna(out.loc["Na", "rank"]) and pd.isna(out.loc["Na", "score"])
    assert out.loc["Ag", "rank"] == 1


def test_failed_references_fail_every_row_with_their_reason():
    table = ranking.site_rows([_site("Ag", "t0-hollow0", -12.0)], {}, None, None)
    assert table["E_b_atom_eV"].isna().all()
    out = ranking.ranking([{"name": "Ag", "status": "ok", "elements": ["Ag"]}], table, None, W,
                          "h", metal="Na", references_failed="bulk Na failed: SCF")
    assert out.iloc[0]["status"] == "failed: bulk Na failed: SCF"


def test_run_summary_names_ranked_failed_and_flagged_coatings():
    df = pd.DataFrame({
        "rank": [1, 2, None, None], "coating": ["Ag", "Cu", "Bad", "Na"],
        "score": [0.5, 0.2, None, None],
        "flags": ["1/3 sites flagged: x", "", "", ""],
        "status": ["ok", "ok, no usable interface: no_match", "failed: Bad.cif: broken",
                   "not ranked: Na is the anode metal Na itself"]})
    text, failed = ranking.run_summary({"Na": df})
    assert failed == 1
    assert "Na: 2 coatings ranked, 1 failed, 1 with flagged sites" in text
    assert "best: Ag (0.500), Cu (0.200)" in text
    assert "failed: Bad: Bad.cif: broken" in text and "flagged: Ag: 1/3 sites flagged" in text
    assert "note: Cu: ok, no usable interface" in text and "not ranked: Na" in text


def test_termination_rows_show_every_cut_the_chosen_one_and_why():
    from philicity.ranking import termination_rows

    ok = {"status": "ok", "name": "Na2CO3", "miller": "001", "selected": [1],
          "why": "every cut polar: the least polar", "terminations": [
              {"index": 0, "formula": "Na8C4O12", "polar": True, "dipole_e_per_A": 0.38,
               "polyanions_cut": 2, "top_face": "O2", "stoichiometric": True},
              {"index": 1, "formula": "Na8C4O12", "polar": True, "dipole_e_per_A": -0.13,
               "polyanions_cut": 0, "top_face": "Na", "stoichiometric": True,
               "gamma_J_m2": 0.4}]}
    failed = {"status": "failed", "name": "Na2CO3", "miller": "110", "reason": "too big"}
    table = termination_rows([ok, failed])
    assert table["termination"].tolist()[:2] == [0, 1]
    assert table["chosen"].tolist()[:2] == [False, True]
    assert table["why"].tolist()[:2] == ["", "every cut polar: the least polar"]
    assert table.loc[1, "gamma_J_m2"] == 0.4 and table.loc[1, "top_face"] == "Na"
    assert table.loc[2, "status"] == "failed: too big"


def test_polar_termination_rows_are_flagged_and_ranked_with_a_word():
    """A site on a polar termination (its facet has no non-polar cut) is ranked, marked in
    the sites table and named in the ranking's status; its calculations carry the dipole
    correction."""
    from philicity.jobs.dft import calc_settings
    from philicity.jobs.records import termination_options

    polar = {**_site("Li2O", "t0-hollow0", -12.0), "polar_termination": True}
    table = ranking.site_rows([polar, _site("Ag", "t0-hollow0", -12.2)], {}, -0.2, -1.3)
    assert table.set_index("coating")["polar_termination"].to_dict() == {"Li2O": True,
                                                                         "Ag": False}
    out = ranking.ranking([{"name": "Li2O", "status": "ok"}, {"name": "Ag", "status": "ok"}],
                          table, -1.5, W, "h").set_index("coating")
    assert out.loc["Li2O", "status"].startswith("ok, polar termination: (100) has no non-polar")
    assert out.loc["Li2O", "rank"] == 2 and out.loc["Ag", "status"] == "ok"
    settings = {"calculator": {"dipole_correction": False, "spinpol": False}}
    assert calc_settings(settings, termination_options(None, True))["dipole_correction"]
    assert termination_options({"magmoms": {}}, False) == {"magmoms": {}}
    assert not calc_settings(settings, termination_options(None, False))["dipole_correction"]


def test_a_failed_charge_job_is_a_row_with_its_reason():
    """A charge-density difference whose job crashed (no parts) is a failed row, not a
    coating missing from the table (which the report would blame on the config)."""
    ok = {"name": "Ag", "status": "ok", "parts": [
        {"part": "site", "site": "t0-hollow0", "status": "ok", "charge_moved_e": 0.31,
         "cube": "site_t0-hollow0_density_difference.cube"}]}
    crashed = {"name": "Al", "status": "failed", "crashed": True,
               "reason": "charge_transfer failed: ValueError: the third cell vector ..."}
    table = ranking.charge_rows([ok, crashed], {"Ag": "charges/Na/Ag", "Al": "charges/Na/Al"})
    assert list(table["coating"]) == ["Ag", "Al"]
    assert table.iloc[0]["charge_moved_e"] == pytest.approx(0.31)
    assert table.iloc[0]["cube"] == "charges/Na/Ag/site_t0-hollow0_density_difference.cube"
    assert table.iloc[1]["status"].startswith("failed: charge_transfer failed: ValueError")
    assert table.iloc[1]["cube"] == ""
