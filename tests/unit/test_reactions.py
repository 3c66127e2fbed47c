"""Reaction driving forces (philicity.reactions, ranking.reaction_rows): hand-computed toys."""

from __future__ import annotations

import math

import pytest

from philicity import ranking, reactions
from philicity.reactions import Phase, ReactionError, phases_for, reaction_energy

# Toy Li-C energies (eV): E(Li) = -1.9 per atom, E(C) = -9.2 per atom, and LiC6 0.66 eV
# below Li + 6 C; LiC12 0.48 eV below Li + 12 C (per Li less favourable than LiC6)
E_LI, E_C = -1.9, -9.2
TOY = {"anodes/Li": ("Li2", 2 * E_LI), "coatings/graphite": ("C4", 4 * E_C),
       "coatings/LiC6": ("LiC6", E_LI + 6 * E_C - 0.66),
       "compounds/LiC12": ("LiC12", E_LI + 12 * E_C - 0.48)}


def test_reaction_energy_of_a_toy_intercalation_matches_the_hand_computed_value():
    out = reaction_energy("Li", "C", TOY)
    # Li + 6 C -> LiC6 releases 0.66 eV per Li; LiC12 (0.48 eV per Li) lies above the
    # C-LiC6 tie line (0.66 eV for its Li + 12 C), so the first product is LiC6
    assert out["E_react_eV_per_M"] == pytest.approx(-0.66, abs=1e-9)
    assert out["products"] == "LiC6"
    assert out["x_metal"] == pytest.approx(1 / 7)
    assert out["reactive"] is True


def test_reaction_energy_picks_the_first_product_when_it_is_more_favourable_per_metal():
    # LiC12 now 0.9 eV below Li + 12 C: per Li better than LiC6 (-0.66)
    toy = {**TOY, "compounds/LiC12": ("LiC12", E_LI + 12 * E_C - 0.9)}
    out = reaction_energy("Li", "C", toy)
    assert out["E_react_eV_per_M"] == pytest.approx(-0.9, abs=1e-9)
    assert out["products"] == "LiC12"


def test_reaction_of_li_with_cu_without_compound_is_zero_and_not_reactive():
    phases = [Phase("anodes/Li", "Li"), Phase("coatings/Cu", "Cu"),
              Phase("coatings/LiC6", "LiC6"), Phase("coatings/graphite", "C")]
    assert phases_for("Li", "Cu", phases) == []  # nothing can form: no calculation needed
    out = reaction_energy("Li", "Cu", {"anodes/Li": ("Li", E_LI),
                                       "coatings/Cu": ("Cu", -3.7)})
    assert out["E_react_eV_per_M"] == 0.0
    assert out["reactive"] is False and out["products"] == ""
    rows = ranking.reaction_rows("Li", {"Cu": "Cu"}, {"Cu": []}, {})
    assert rows.loc[0, "E_react_eV_per_M"] == 0.0 and not rows.loc[0, "reactive"]


def test_reaction_phases_take_the_chemical_system_and_the_gas_references():
    phases = [Phase("anodes/Na", "Na"), Phase("coatings/Na2CO3", "Na2CO3"),
              Phase("coatings/Na2O", "Na2O"), Phase("coatings/graphite", "C"),
              Phase("coatings/LiC6", "LiC6"), Phase("coatings/NaF", "NaF")]
    keys = [p.key for p in phases_for("Na", "Na2CO3", phases)]
    assert keys == ["anodes/Na", "coatings/Na2CO3", "coatings/Na2O", "coatings/graphite",
                    "molecules/O2"]
    # the coating itself is no product: Na with Na2O alone cannot react
    assert phases_for("Na", "Na2O", phases) == []


def test_reaction_without_an_elemental_reference_names_the_missing_element():
    with pytest.raises(ReactionError, match="no elemental reference for Ti"):
        reaction_energy("Li", "TiN", {"anodes/Li": ("Li", E_LI), "coatings/TiN": ("TiN", -20),
                                      "molecules/N2": ("N2", -16.6),
                                      "coatings/Li3N": ("Li3N", -13)})


def test_reaction_rows_report_a_failed_phase_with_its_reason():
    records = {"anodes/Li": {"status": "ok", "formula": "Li2", "energy_eV": 2 * E_LI},
               "coatings/graphite": {"status": "failed", "reason": "bulk SCF did not converge"}}
    rows = ranking.reaction_rows("Li", {"graphite": "C"},
                                 {"graphite": ["anodes/Li", "coatings/graphite"]}, records)
    assert rows.loc[0, "status"].startswith("failed: coatings/graphite: bulk SCF")
    assert rows.loc[0, "E_react_eV_per_M"] is None or math.isnan(rows.loc[0, "E_react_eV_per_M"])


def test_reaction_term_of_the_score_only_with_its_weight():
    w = {"binding": 1.0, "wetting": 1.0}
    assert ranking.score(-0.2, 60.0, w, -0.5) == pytest.approx(0.2 + 0.5)
    assert ranking.score(-0.2, 60.0, {**w, "reaction": 2.0}, -0.5) == pytest.approx(1.7)
    assert ranking.score(None, None, {**w, "reaction": 2.0}, -0.5) is None


def test_reaction_molecule_references_are_spin_polarized_in_a_box():
    o2 = reactions.molecule("O2", 10.0)
    assert o2.get_initial_magnetic_moments().sum() == pytest.approx(2.0)
    assert not o2.pbc.any()
    assert o2.cell.lengths() == pytest.approx([10.0, 10.0, 10.5])
    assert [p.formula for p in reactions.molecule_phases({"Li", "O", "F"})] == ["F2", "O2"]


def test_a_reactive_coating_says_what_the_metal_forms_in_the_ranking():
    site = {"name": "graphite", "miller": "001", "termination": 0, "site": "t0-hollow0",
            "site_kind": "hollow", "energy_eV": -12.0, "E_clean_slab_eV": -10.0,
            "flags": [], "status": "ok"}
    table = ranking.site_rows([site], {}, -0.2, -1.3)
    records = {k: {"status": "ok", "formula": f, "energy_eV": e} for k, (f, e) in TOY.items()}
    reacted = ranking.reaction_rows("Li", {"graphite": "C"}, {"graphite": list(TOY)}, records)
    out = ranking.ranking([{"name": "graphite", "status": "ok", "formula": "C"}], table,
                          -1.5, {"binding": 1.0, "wetting": 1.0, "reaction": 1.0}, "h",
                          metal="Li", reactions=reacted)
    row = out.iloc[0]
    assert row["E_react_eV_per_M"] == pytest.approx(-0.66)
    assert row["reaction_products"] == "LiC6" and row["reactive"]
    assert row["status"].startswith("ok, reactive: Li forms LiC6 (-0.660 eV per Li)")
    assert row["score"] == pytest.approx(0.3 + 0.66)  # -dE (0.3) + w_reaction * 0.66
