"""Runtime and memory requests of the DFT rules (philicity.resources)."""

from __future__ import annotations

import json

import pytest

from philicity import config, resources


@pytest.fixture
def fast(root) -> tuple[dict, dict]:
    cfg, settings = config.load(root / "config/config.yaml", "fast")
    return settings, cfg["parallel"]


def test_requests_grow_with_size_attempt_and_shrink_with_ranks(tmp_path, fast):
    settings, parallel = fast
    terms = tmp_path / "terminations.json"
    terms.write_text(json.dumps({"terminations": [{"index": 0, "n_atoms": 30}],
                                 "sites": []}))
    bound = resources.request("relax_clean_slab", settings, parallel, 1, [], {"term": "0"})
    small = resources.request("relax_clean_slab", settings, parallel, 1, [terms],
                              {"term": "0"})
    assert small["runtime"] < bound["runtime"]  # 30 atoms read, not the preset's 60
    # t_sp(30 atoms) * (1 + 0.7 * 60 / 2) * safety 2, in minutes
    t_sp = 120 * (30 / 13) ** 2 * (2.0 / 3.5)
    assert small["runtime"] == pytest.approx(2 * t_sp * 22 / 60, abs=1)
    retry = resources.request("relax_clean_slab", settings, parallel, 1, [terms],
                              {"term": "0"}, attempt=2)
    assert retry["runtime"] == pytest.approx(2 * small["runtime"], abs=1)
    four = resources.request("relax_clean_slab", settings, parallel, 4, [terms],
                             {"term": "0"})
    assert four["runtime"] < small["runtime"] and four["mem_mb"] > small["mem_mb"]
    capped = resources.request("relax_clean_slab", settings,
                               {**parallel, "max_runtime_min": 60}, 1, [terms], {"term": "0"})
    assert capped["runtime"] == 60
    assert all(r["mem_mb"] % 500 == 0 and r["mem_mb"] >= 2000
               for r in (bound, small, retry, four))


def test_prescreened_sites_that_are_only_copied_ask_for_little(tmp_path, fast):
    settings, parallel = fast
    pre = tmp_path / "prescreen.json"
    pre.write_text(json.dumps({"sites": [{"site": "ontop0", "dft_relax": False},
                                         {"site": "hollow0", "dft_relax": True}]}))
    copied = resources.request("relax_adsorbate", settings, parallel, 1, [pre],
                               {"term": "0", "site": "ontop0"})
    relaxed = resources.request("relax_adsorbate", settings, parallel, 1, [pre],
                                {"term": "0", "site": "hollow0"})
    assert copied["runtime"] == resources.MIN_RUNTIME_MIN < relaxed["runtime"]


def test_every_dft_rule_has_a_request_and_emt_asks_for_the_minimum(fast, settings):
    fast_settings, parallel = fast
    for rule in resources.DFT_RULES:
        req = resources.request(rule, fast_settings, parallel, 2, [], {"term": "0"},
                                ml=rule == "prescreen_sites")
        assert req["runtime"] >= resources.MIN_RUNTIME_MIN and req["mem_mb"] >= 2000
        assert resources.request(rule, settings, parallel, 1) == {
            "runtime": resources.MIN_RUNTIME_MIN, "mem_mb": resources.MIN_MEM_MB}
    with pytest.raises(ValueError, match="DFT rules"):
        resources.request("report_metal", fast_settings, parallel, 1)


def test_interfaces_at_ml_geometries_ask_for_single_points_only(tmp_path, fast):
    settings, _ = fast
    scans = {}
    for stage in ("dft_relaxed", "dft_at_ml"):
        scans[stage] = tmp_path / stage / "scan.json"
        scans[stage].parent.mkdir()
        scans[stage].write_text(json.dumps({"status": "ok", "n_atoms": 40, "n_metal": 16,
                                            "n_coating": 24, "interface_stage": stage}))
    calc = settings["calculator"]
    assert resources.dft_seconds("relax_interface", settings, [scans["dft_at_ml"]]) == 0.0
    assert resources.dft_seconds("relax_interface", settings,
                                 [scans["dft_relaxed"]]) > 0.0
    # five single points (film and coating as cut and after the ML relaxation, the
    # unstrained film) and three ML relaxations
    assert resources.dft_seconds("compute_adhesion", settings, [scans["dft_at_ml"]]) == (
        pytest.approx(3 * resources.single_point_s(16, calc)
                      + 2 * resources.single_point_s(24, calc) + 180.0))
    assert resources.dft_seconds("compute_adhesion", settings, [scans["dft_relaxed"]]) > (
        resources.dft_seconds("compute_adhesion", settings, [scans["dft_at_ml"]]))


def test_charge_density_differences_cost_what_they_compute(tmp_path, fast):
    """Two single points at the site (slab and adatom alone); an interface's three parts
    only where it was not computed at ML geometries (then its densities are read)."""
    settings, _ = fast
    calc, n_slab, n_iface = (settings["calculator"], settings["slab"]["max_atoms"] + 1,
                             settings["interface"]["max_atoms"])
    site, part = resources.single_point_s(n_slab, calc), resources.single_point_s(n_iface,
                                                                                  calc)
    sites = tmp_path / "adsorption" / "summaries" / "Ag" / "Na-100.json"
    summaries = {}
    for stage in ("dft_at_ml", "dft_relaxed"):
        record = tmp_path / stage / "record.json"
        record.parent.mkdir()
        record.write_text(json.dumps({"interface_stage": stage}))
        summaries[stage] = tmp_path / "interfaces" / "summaries" / stage / "Na-100.json"
        summaries[stage].parent.mkdir(parents=True)
        summaries[stage].write_text(json.dumps({"adhesion": [str(record)]}))
    cost = lambda *paths: resources.dft_seconds(  # noqa: E731
        "charge_transfer", settings, [str(p) for p in paths])
    assert cost(sites) == pytest.approx(2 * site)
    assert cost(sites, summaries["dft_at_ml"]) == pytest.approx(2 * site)
    assert cost(sites, summaries["dft_relaxed"]) == pytest.approx(2 * site + 3 * part)
    assert cost(summaries["dft_relaxed"]) == pytest.approx(3 * part)
    assert cost() == pytest.approx(2 * site + 3 * part)  # nothing known: the budget
    # before the interface has run, the preset's stage (fast: dft_at_ml) decides, and the
    # slab is sized from its terminations.json where one is given
    later = tmp_path / "interfaces" / "summaries" / "later" / "Na-100.json"
    assert cost(sites, later) == pytest.approx(2 * site)
    relaxed = {**settings, "interface": {**settings["interface"], "stage": "dft_relaxed"}}
    assert resources.dft_seconds("charge_transfer", relaxed, [str(sites), str(later)]) == (
        pytest.approx(2 * site + 3 * part))
    terms = tmp_path / "terminations.json"
    terms.write_text(json.dumps({"terminations": [{"index": 0, "n_atoms": 16,
                                                   "formula": "Ag16"}]}))
    sized = resources.dft_seconds("charge_transfer", settings,
                                  [str(sites), str(later), str(terms)], {"metal": "Na"})
    assert sized == pytest.approx(2 * resources.single_point_s(
        17, calc, resources.electrons("Ag16Na", calc)))
    assert sized < 2 * site


def test_reaction_phases_ask_for_their_own_k_mesh_and_cutoff(root, fast):
    """compute_phase runs at the ``reactions`` k-mesh and cut-off: a denser one asks for
    more time and memory; the anode's bulk reference (compute_bulk) does not change."""
    settings, parallel = fast
    cif = [str(root / "structures/coatings/Na2CO3.cif")]
    wild = {"phase_kind": "coatings", "name": "Na2CO3"}
    plain = {**settings, "reactions": {"kpt_density": None, "ecut_eV": None}}
    dense = {**settings, "reactions": {"kpt_density": 6.0, "ecut_eV": 450}}
    low = resources.request("compute_phase", plain, parallel, 1, cif, wild)
    high = resources.request("compute_phase", dense, parallel, 1, cif, wild)
    assert high["runtime"] > low["runtime"] and high["mem_mb"] > low["mem_mb"]
    # the estimate itself (which the cost model calibrates) is at the reactions' values:
    # (6.0 / kpt_density) * (450 / ecut) ** 1.5 more
    calc = settings["calculator"]
    ratio = (6.0 / calc["kpt_density"]) ** 2 * (450 / calc["ecut_eV"]) ** 1.5
    assert resources.dft_seconds("compute_phase", dense, cif, wild) == pytest.approx(
        ratio * resources.dft_seconds("compute_phase", plain, cif, wild))
    bulk = [str(root / "structures/anodes/Na.cif")]
    assert (resources.request("compute_bulk", plain, parallel, 1, bulk, {"metal": "Na"})
            == resources.request("compute_bulk", dense, parallel, 1, bulk, {"metal": "Na"}))


def test_valence_electrons_come_from_the_configured_setups(fast):
    """GPAW's default Ag setup has 17 valence electrons (4s4p4d5s), its default Na 7
    (2s2p3s) and Na.1 one: Ag16Na has 16 x 17 + 1 = 273 with the fast preset's Na.1."""
    settings, _ = fast
    calc = settings["calculator"]
    assert calc["setups"] == {"Na": "1"}
    assert resources.electrons("Ag16Na", calc) == 273
    assert resources.electrons("Ag16Na", {**calc, "setups": {}}) == 16 * 17 + 7
    assert resources.electrons("Ag16Na", {**calc, "name": "emt"}) is None
    assert resources.electrons(None, calc) is None


def test_a_single_point_costs_more_with_more_electrons_per_atom(fast):
    """The reference cell (13 atoms, 211 electrons, PW(300), kpt_density 3.5): 120 s;
    a quarter of the electrons: half the time; unknown electrons: the reference's."""
    settings, _ = fast
    ref = {**settings["calculator"], "ecut_eV": 300, "kpt_density": 3.5, "spinpol": False}
    assert resources.single_point_s(13, ref, 211) == pytest.approx(120.0)
    assert resources.single_point_s(13, ref, 211 / 4) == pytest.approx(60.0)
    assert resources.single_point_s(26, ref) == pytest.approx(480.0)


def test_priority_puts_the_heavier_surface_chain_first(tmp_path, fast):
    """Ag(100) (16 x 17 electrons) and Al(100) (16 x 3) slabs of 16 atoms: Ag's clean slab
    heads the longer chain; along a chain the priority falls stage by stage; an
    interface's scan gets half its coating's chain; jobs off the chains get 0."""
    settings, _ = fast
    paths = {}
    for name in ("Ag", "Al"):
        paths[name] = tmp_path / name / "terminations.json"
        paths[name].parent.mkdir()
        paths[name].write_text(json.dumps({"terminations": [
            {"index": 0, "n_atoms": 16, "formula": f"{name}16"}]}))
    slab = {"term": "0", "kind": "coatings"}
    site = {**slab, "metal": "Na"}
    clean = {name: resources.priority("relax_clean_slab", settings, [paths[name]], slab)
             for name in paths}
    assert clean["Ag"] > 2 * clean["Al"] > 0
    prescreen = resources.priority("prescreen_sites", settings, [paths["Ag"]], site)
    relax = resources.priority("relax_adsorbate", settings, [paths["Ag"]], site)
    assert clean["Ag"] > prescreen > relax > 0
    assert resources.priority("scan_interface", settings, [paths["Ag"]], site) == (
        pytest.approx(0.5 * clean["Ag"], abs=0.1))
    assert resources.priority("compute_bulk", settings, [], {}) == 0.0
    assert resources.priority("report_metal", settings, [], {}) == 0.0
    # the jobs that put a coating's chains into the DAG go before any chain
    for gate in ("check_candidate", "select_termination", "find_sites"):
        assert resources.priority(gate, settings, [], {}) > 1000 * clean["Ag"]
