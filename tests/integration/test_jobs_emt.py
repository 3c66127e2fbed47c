"""The job functions end to end with EMT: records, structures, checkpoints, flags."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from ase.io import jsonio, read

from philicity import config as cfg
from philicity import jobs, ml_then_dft
from philicity.files import collect_database, read_json, write_json
from philicity.relax import FIRST_STEP_MIN_GAIN_EV, relax


@pytest.fixture
def surface(tmp_path, root, settings):
    cif = tmp_path / "Cu.cif"
    shutil.copy(root / "structures/coatings/Cu.cif", cif)
    cand = jobs.check_candidate(cif, "Cu", settings, tmp_path / "cand.json")
    assert cand["status"] == "ok" and cand["formula"] == "Cu"
    terms = jobs.select_termination(tmp_path / "cand.json", cif, "100", settings,
                                    tmp_path / "terminations.json",
                                    {"termination": "lowest_energy", "magmoms": {}})
    assert terms["status"] == "ok"
    found = jobs.find_sites(tmp_path / "terminations.json", settings, tmp_path / "sites.json")
    return tmp_path, found


def test_find_sites_lists_the_sites_of_the_selected_termination(surface):
    _, found = surface
    assert {s["kind"] for s in found["sites"]} == {"ontop", "bridge", "hollow"}
    assert found["selected"] == [0] and {s["termination"] for s in found["sites"]} == {0}
    assert len(found["all_sites"]["0"]) > len(found["sites"])  # unreduced, for the checks


def test_select_termination_records_polarity_and_the_exposed_face(surface):
    tmp, _ = surface
    terms = read_json(tmp / "terminations.json")
    assert terms["oxidation_states"] == {}  # Cu, a metal
    (cut,) = terms["terminations"]
    assert cut["symmetric"] and not cut["polar"] and cut["top_face"] == "Cu"
    assert cut["polyanions_cut"] == 0 and cut["dipole_e_per_A"] == 0.0


def test_clean_slab_then_adsorbate_then_database(surface, settings):
    tmp, found = surface
    clean = jobs.relax_clean_slab(tmp / "terminations.json", 0, settings, tmp / "clean",
                                  tmp / "ck" / "clean.traj")
    assert clean["status"] == "ok" and clean["relax_converged"]
    assert (tmp / "clean" / "relax.traj").exists() and not (tmp / "ck" / "clean.traj").exists()
    hollow = next(s for s in found["sites"] if s["kind"] == "hollow")
    rec = jobs.relax_adsorbate(tmp / "terminations.json", tmp / "sites.json", tmp / "clean",
                               hollow["id"], "Ag",
                               settings, tmp / "ads", tmp / "ck" / "ads.traj")
    assert rec["status"] == "ok" and rec["flags"] == []
    assert rec["settings_hash"] == clean["settings_hash"]
    assert {"ase", "pymatgen", "numpy"} <= set(rec["versions"])
    final = read(tmp / "ads" / "final.extxyz")
    assert final.get_tags()[-1] == 2 and final[-1].symbol == "Ag"
    # E_b of Ag on Cu(100) hollow with EMT is strongly negative vs the EMT atom
    atom = jobs.compute_atom("Ag", settings, tmp / "atom")
    assert rec["energy_eV"] - clean["energy_eV"] - atom["energy_eV"] < -2.0
    n = collect_database([tmp / "clean/record.json", tmp / "ads/record.json",
                          tmp / "atom/record.json"], tmp / "calc.db")
    assert n == 3
    from ase.db import connect

    rows = list(connect(tmp / "calc.db").select(kind="adsorbate"))
    assert len(rows) == 1 and rows[0].site == hollow["id"]
    assert rows[0].data["record"]["settings"]["calculator"]["name"] == "emt"


def test_relaxation_resumes_from_checkpoint(surface, settings):
    tmp, terms = surface
    settings = {**settings, "relax": {**settings["relax"], "fmax_eV_A": 0.005}}
    jobs.relax_clean_slab(tmp / "terminations.json", 0, settings, tmp / "clean",
                          tmp / "ck" / "clean.traj")
    site = next(s for s in terms["sites"] if s["kind"] == "ontop")
    fresh = jobs.relax_adsorbate(tmp / "terminations.json", tmp / "sites.json", tmp / "clean",
                                 site["id"], "Ag",
                                 settings, tmp / "fresh", tmp / "ck" / "fresh.traj")
    # pretend a killed run left the first 3 frames behind
    frames = read(tmp / "fresh" / "relax.traj", ":3")
    from ase.io import write

    write(tmp / "ck" / "resume.traj", frames)
    resumed = jobs.relax_adsorbate(tmp / "terminations.json", tmp / "sites.json",
                                   tmp / "clean", site["id"], "Ag",
                                   settings, tmp / "resumed", tmp / "ck" / "resume.traj")
    assert resumed["resumed_steps"] == 2
    # the resumed run does not write the kept last frame again
    assert len(read(tmp / "resumed" / "relax.traj", ":")) == len(
        read(tmp / "fresh" / "relax.traj", ":"))
    # BFGS replays the kept frames: its Hessian, hence its path, is the uninterrupted one
    assert resumed["steps"] == fresh["steps"] > 3
    assert np.allclose(read(tmp / "resumed" / "final.extxyz").positions,
                       read(tmp / "fresh" / "final.extxyz").positions, atol=1e-8)
    assert resumed["energy_eV"] == pytest.approx(fresh["energy_eV"], abs=1e-8)
    # the starting energy comes from the kept first frame, not from the resumed geometry
    assert resumed["energy_initial_eV"] == pytest.approx(fresh["energy_initial_eV"], abs=1e-8)
    assert fresh["energy_initial_eV"] == pytest.approx(frames[0].get_potential_energy())


def test_bad_inputs_become_failed_records(tmp_path, settings, root):
    bad = tmp_path / "Bad.cif"
    bad.write_text("garbage")
    rec = jobs.check_candidate(bad, "Bad", settings, tmp_path / "bad.json")
    assert rec["status"] == "failed" and str(bad) in rec["reason"]
    # Na has no EMT parameters: the calculator cannot treat it
    na = tmp_path / "NaF.cif"
    shutil.copy(root / "structures/coatings/NaF.cif", na)
    rec = jobs.check_candidate(na, "NaF", settings, tmp_path / "naf.json")
    assert rec["status"] == "failed" and "['F', 'Na']" in rec["reason"]
    terms = jobs.select_termination(tmp_path / "naf.json", na, "100", settings,
                                    tmp_path / "t.json")
    assert terms["status"] == "failed" and terms["reason"] == rec["reason"]
    assert json.loads((tmp_path / "t.json").read_text())["status"] == "failed"


def test_termination_index_out_of_range_fails_cleanly(tmp_path, settings, root):
    cif = tmp_path / "Cu.cif"
    shutil.copy(root / "structures/coatings/Cu.cif", cif)
    jobs.check_candidate(cif, "Cu", settings, tmp_path / "c.json")
    rec = jobs.select_termination(tmp_path / "c.json", cif, "100", settings, tmp_path / "t.json",
                                  {"termination": 5})
    assert rec["status"] == "failed" and "termination 5 does not exist" in rec["reason"]


def test_bulk_of_an_anode_whose_check_failed_is_a_failed_record(tmp_path, settings, root):
    """The anode's check said why it cannot be used: the bulk job says so too and
    computes nothing (no structure, no calculator log)."""
    check = tmp_path / "Na.json"
    check.write_text(json.dumps({"name": "Na", "status": "failed",
                                 "reason": "Na.cif: not a readable CIF"}))
    rec = jobs.compute_bulk(root / "structures/anodes/Na.cif", "Na", settings,
                            tmp_path / "bulk", candidate_json=check)
    assert rec["status"] == "failed"
    assert rec["reason"] == "candidate failed: Na.cif: not a readable CIF"
    assert read_json(tmp_path / "bulk/record.json")["status"] == "failed"
    assert sorted(p.name for p in (tmp_path / "bulk").iterdir()) == ["record.json"]


def test_bulk_reference_with_lattice_relaxation(tmp_path, settings, root):
    """With the settings the workflow gives the bulk stage (no ``relax`` section: the
    lattice relaxation has its own tolerance, as the production preset sets it)."""
    cif = tmp_path / "Cu.cif"
    shutil.copy(root / "structures/coatings/Cu.cif", cif)
    settings = cfg.stage_settings(
        {**settings, "bulk": {"relax_lattice": True, "fmax_eV_A": 0.01}}, "bulk")
    assert "relax" not in settings
    rec = jobs.compute_bulk(cif, "Cu", settings, tmp_path / "bulk", tmp_path / "ck/bulk.traj")
    # EMT's Cu lattice constant is 3.59 A (experiment 3.615)
    assert rec["lattice_A"][0] == pytest.approx(3.59, abs=0.01)
    # through relax.relax: checkpointed (kept as relax.traj), SCF retries on record, the
    # structure named by the record
    assert rec["relax_converged"] and rec["steps"] > 0 and "scf_tries" in rec
    assert (tmp_path / "bulk/relax.traj").exists() and not (tmp_path / "ck/bulk.traj").exists()
    assert read(tmp_path / "bulk" / rec["structure"]).cell.cellpar()[0] == pytest.approx(
        rec["lattice_A"][0])
    assert rec["energy_per_atom_eV"] == pytest.approx(read_json(tmp_path / "bulk/record.json")
                                                      ["energy_eV"] / 4)
    assert np.isfinite(rec["energy_per_atom_eV"])


def test_interface_scan_relax_and_work_of_adhesion(tmp_path, root, settings, monkeypatch):
    """Ag(100) film (standing in for the anode metal: EMT has no Na) on Al(100):
    a real pymatgen lattice match, a registry scan, a relaxation and W_ad."""
    tmp = tmp_path
    shutil.copy(root / "structures/coatings/Al.cif", tmp / "Al.cif")
    jobs.check_candidate(tmp / "Al.cif", "Al", settings, tmp / "cand.json")
    jobs.select_termination(tmp / "cand.json", tmp / "Al.cif", "100", settings,
                            tmp / "terminations.json")
    settings = {**settings, "interface": {**settings["interface"], "max_area_A2": 60.0,
                                          "max_strain_pct": 6.0, "max_atoms": 40,
                                          "film_thickness_A": 4.0,
                                          "substrate_thickness_A": 4.0, "registry_grid": 2},
                "bulk": {"relax_lattice": True, "fmax_eV_A": 0.001}}
    bulk = jobs.compute_bulk(root / "structures/coatings/Ag.cif", "Ag", settings, tmp / "bulk")
    scan = jobs.scan_interface(tmp / "terminations.json", tmp / "Al.cif",
                               tmp / "bulk/final.extxyz", "Ag", "100", 0, settings,
                               tmp / "iface/scan.json", tmp / "ck/scan.json")
    assert scan["status"] == "ok", scan.get("reason")
    assert scan["area_A2"] <= 60.0 and abs(scan["strain_pct"]) <= 6.0
    assert scan["n_atoms"] <= 40 and scan["n_metal"] + scan["n_coating"] == scan["n_atoms"]
    energies = [p["energy_eV"] for p in scan["scan"]]
    # a commensurate 1x1 match (0.9 % strain): on-top and hollow registries differ
    assert len(energies) == 4 and max(energies) - min(energies) > 0.1
    assert scan["registry"] == scan["scan"][int(np.argmin(energies))]["offset"]
    # the points are kept: a rerun on the same inputs computes none again
    calls = []
    monkeypatch.setattr(jobs.interfaces, "slab_single_point", lambda *a, **k: calls.append(a))
    again = jobs.scan_interface(tmp / "terminations.json", tmp / "Al.cif",
                                tmp / "bulk/final.extxyz", "Ag", "100", 0, settings,
                                tmp / "iface/scan.json", tmp / "ck/scan.json")
    assert calls == [] and again["scan"] == scan["scan"]
    monkeypatch.undo()
    # points kept from other inputs are redone, each registry with its own fresh ML run
    ml = {"calculator": {"name": "emt", "model": ""}, "fmax_eV_A": 0.1, "steps": 5}
    redone = jobs.scan_interface(tmp / "terminations.json", tmp / "Al.cif",
                                 tmp / "bulk/final.extxyz", "Ag", "100", 0, settings,
                                 tmp / "ml/scan.json", tmp / "ck/scan.json", ml=ml)
    assert all("ml_energy_eV" in p for p in redone["scan"])
    assert sorted(p.name for p in (tmp / "ck").glob("ml_*.traj")) == [
        f"ml_{i}.traj" for i in range(4)]
    ml_relaxed = jobs.relax_interface(tmp / "ml/scan.json", settings, tmp / "ml/relaxed",
                                      tmp / "ck/ml_iface.traj")
    assert ml_relaxed["initial_hessian"] == "ml" and ml_relaxed["relax_converged"]
    assert ml_relaxed["energy_eV"] <= min(p["energy_eV"] for p in redone["scan"]) + 1e-6
    relaxed = jobs.relax_interface(tmp / "iface/scan.json", settings, tmp / "iface/relaxed",
                                   tmp / "ck/iface.traj")
    assert relaxed["status"] == "ok" and relaxed["relax_converged"]
    assert relaxed["initial_hessian"] == "default"
    assert relaxed["energy_eV"] <= min(energies) + 1e-6
    rec = jobs.compute_adhesion(tmp / "iface/scan.json", tmp / "iface/relaxed",
                                tmp / "bulk/record.json", settings, tmp / "iface/adhesion",
                                tmp / "ck/adhesion")
    assert rec["status"] == "ok" and rec["flags"] == []
    # W_ad by hand from the three energies in the record
    w_ad = ((rec["E_metal_eV"] + rec["E_coating_eV"] - rec["E_interface_eV"])
            / rec["area_A2"] * 16.021766339)
    assert rec["W_ad_J_m2"] == pytest.approx(w_ad)
    assert 0.5 < rec["W_ad_J_m2"] < 5.0  # metal on metal: strong adhesion
    # 0.9 % strain on a thin film: small next to W_ad (its sign is set by the film's
    # surface stress, which favours a compressed lattice in a two-layer film)
    assert rec["E_strain_J_m2"] == pytest.approx(
        (rec["E_metal_eV"] - rec["E_metal_unstrained_eV"]) / rec["area_A2"] * 16.021766339)
    assert abs(rec["E_strain_J_m2"]) < 0.1 * rec["W_ad_J_m2"]
    assert rec["metal_surface_energy_J_m2"] > 0
    for part in ("metal", "coating", "metal_unstrained"):
        assert read_json(tmp / f"iface/adhesion/{part}/record.json")["status"] == "ok"
    # W_sep: the two parts as they sit in the interface (first frames of their relaxations);
    # relaxing them can only lower their energies, so W_ad <= W_sep
    frozen = {p: read(tmp / f"iface/adhesion/{p}/relax.traj", 0).get_potential_energy()
              for p in ("metal", "coating")}
    assert rec["W_sep_J_m2"] == pytest.approx(
        (frozen["metal"] + frozen["coating"] - rec["E_interface_eV"])
        / rec["area_A2"] * 16.021766339)
    assert rec["W_ad_J_m2"] < rec["W_sep_J_m2"]
    # records written before the starting energy was kept: it is read from the trajectory
    old = read_json(tmp / "iface/adhesion/coating/record.json")
    del old["energy_initial_eV"]
    write_json(tmp / "iface/adhesion/coating/record.json", old)
    # a rerun reuses the separated slabs instead of relaxing them again
    again = jobs.compute_adhesion(tmp / "iface/scan.json", tmp / "iface/relaxed",
                                  tmp / "bulk/record.json", settings, tmp / "iface/adhesion",
                                  tmp / "ck/adhesion")
    assert again["W_ad_J_m2"] == pytest.approx(rec["W_ad_J_m2"])
    assert again["W_sep_J_m2"] == pytest.approx(rec["W_sep_J_m2"])
    # ... but not when the interface they are cut from is another one (relaxed anew after
    # a change): every part is computed again from the new geometry
    relaxed_parts = []
    real = jobs.interfaces.relax_structure
    monkeypatch.setattr(jobs.interfaces, "relax_structure",
                        lambda atoms, *a, **k: relaxed_parts.append(atoms) or real(atoms, *a,
                                                                                    **k))
    other = jobs.compute_adhesion(tmp / "iface/scan.json", tmp / "ml/relaxed",
                                  tmp / "bulk/record.json", settings, tmp / "iface/adhesion",
                                  tmp / "ck/adhesion")
    monkeypatch.undo()
    assert len(relaxed_parts) == 3 and other["status"] == "ok"
    assert other["E_interface_eV"] == ml_relaxed["energy_eV"]
    assert bulk["status"] == "ok"
    n = collect_database([tmp / "iface/adhesion/record.json"], tmp / "calc.db")
    assert n == 4  # the W_ad record and its three separated slabs


def test_interface_at_ml_geometries_needs_no_dft_relaxation(tmp_path, root, settings):
    """interface.stage dft_at_ml: the registries and the separated parts are relaxed with
    the ML model and get "DFT" single points there (EMT plays both here, so both paths
    reach the same minima): no DFT relaxation anywhere, and the W_ad of the relaxed path."""
    tmp = tmp_path
    shutil.copy(root / "structures/coatings/Al.cif", tmp / "Al.cif")
    jobs.check_candidate(tmp / "Al.cif", "Al", settings, tmp / "cand.json")
    jobs.select_termination(tmp / "cand.json", tmp / "Al.cif", "100", settings,
                            tmp / "terminations.json")
    bounds = {"max_area_A2": 60.0, "max_strain_pct": 6.0, "max_atoms": 40,
              "film_thickness_A": 4.0, "substrate_thickness_A": 4.0, "registry_grid": 2}
    ml = {"calculator": {"name": "emt"}, "fmax_eV_A": 0.01, "steps": 300}
    jobs.compute_bulk(root / "structures/coatings/Ag.cif", "Ag", settings, tmp / "bulk")
    records = {}
    for stage in ("dft_relaxed", "dft_at_ml"):
        s = {**settings, "interface": {**settings["interface"], **bounds, "stage": stage,
                                       "window_eV": 0.1},
             "relax": {**settings["relax"], "fmax_eV_A": 0.01, "steps": 300}}
        d = tmp / stage
        scan = jobs.scan_interface(tmp / "terminations.json", tmp / "Al.cif",
                                   tmp / "bulk/record.json", "Ag", "100", 0, s,
                                   d / "scan.json", d / "ck/scan.json", ml=ml)
        iface = jobs.relax_interface(d / "scan.json", s, d / "relaxed", d / "ck/iface.traj")
        records[stage] = (scan, iface, jobs.compute_adhesion(
            d / "scan.json", d / "relaxed", tmp / "bulk/record.json", s, d / "adhesion",
            d / "ck/adhesion", ml=ml))
    scan, iface, adhesion = records["dft_at_ml"]
    assert scan["interface_stage"] == iface["interface_stage"] == "dft_at_ml"
    assert adhesion["interface_stage"] == "dft_at_ml" and adhesion["status"] == "ok"
    # DFT single points only within the window of the ML-lowest registry
    ml_lowest = min(p["ml_energy_eV"] for p in scan["scan"])
    for point in scan["scan"]:
        inside = point["ml_energy_eV"] - ml_lowest <= 0.1
        assert (point["energy_eV"] is not None) == inside, point
    assert any(p.get("dft") == "outside the ML window" for p in scan["scan"])
    # the interface is the chosen registry's single point; nothing relaxed with "DFT"
    assert iface["steps"] == 0 and iface["energy_eV"] == scan["energy_eV"]
    assert not list((tmp / "dft_at_ml").rglob("relax.traj"))
    for part in ("metal", "coating", "metal_unstrained"):
        rec = read_json(tmp / f"dft_at_ml/adhesion/{part}/record.json")
        assert rec["status"] == "ok" and rec["ml_steps"] > 0
    relaxed = records["dft_relaxed"][2]
    assert relaxed["interface_stage"] == "dft_relaxed"
    print(f"\nW_ad relaxed {relaxed['W_ad_J_m2']:.4f} at_ml {adhesion['W_ad_J_m2']:.4f} "
          f"W_sep {relaxed['W_sep_J_m2']:.4f} {adhesion['W_sep_J_m2']:.4f}")
    assert adhesion["W_ad_J_m2"] == pytest.approx(relaxed["W_ad_J_m2"], abs=0.05)
    assert adhesion["W_sep_J_m2"] == pytest.approx(relaxed["W_sep_J_m2"], abs=0.05)
    assert adhesion["W_ad_J_m2"] < adhesion["W_sep_J_m2"]


def _ag_film_on_al100(tmp_path, root, settings, **interface) -> dict:
    """Al(100)'s terminations and Ag's bulk in ``tmp_path`` (``Al.cif``,
    ``terminations.json``, ``bulk/``); the settings with small interface bounds and
    ``interface`` over them."""
    shutil.copy(root / "structures/coatings/Al.cif", tmp_path / "Al.cif")
    jobs.check_candidate(tmp_path / "Al.cif", "Al", settings, tmp_path / "cand.json")
    jobs.select_termination(tmp_path / "cand.json", tmp_path / "Al.cif", "100", settings,
                            tmp_path / "terminations.json")
    jobs.compute_bulk(root / "structures/coatings/Ag.cif", "Ag", settings, tmp_path / "bulk")
    return {**settings, "interface": {**settings["interface"], "max_area_A2": 60.0,
                                      "max_strain_pct": 6.0, "max_atoms": 40,
                                      "film_thickness_A": 4.0, "substrate_thickness_A": 4.0,
                                      **interface}}


def test_w_ad_at_ml_geometries_never_uses_a_part_above_its_cut(tmp_path, root, settings,
                                                              monkeypatch):
    """dft_at_ml: a separated part's DFT single point at its ML geometry may lie above its
    DFT energy as cut (an ML model's minimum is not DFT's); W_ad then uses the cut's
    energy (a relaxation never rises) and the record says by how much. A part whose
    single point as cut fails its SCF fails the W_ad record with the reason, instead of
    stopping the job. Here the "ML" relaxation ends 0.1 A rattled off the EMT minimum."""
    from philicity.jobs import interfaces as job

    s = _ag_film_on_al100(tmp_path, root, settings, registry_grid=1, stage="dft_at_ml",
                          window_eV=0.1)
    ml = {"calculator": {"name": "emt"}, "fmax_eV_A": 0.05, "steps": 100}
    jobs.scan_interface(tmp_path / "terminations.json", tmp_path / "Al.cif",
                        tmp_path / "bulk/record.json", "Ag", "100", 0, s,
                        tmp_path / "scan.json", tmp_path / "ck/scan.json", ml=ml)
    iface = jobs.relax_interface(tmp_path / "scan.json", s, tmp_path / "relaxed",
                                 tmp_path / "ck/iface.traj")
    assert iface["relax_converged"] is True  # the chosen registry's ML relaxation's
    relax = ml_then_dft.ml_relax

    def rattled(atoms, calc, fmax, steps, checkpoint):
        out = relax(atoms, calc, fmax, steps, checkpoint)
        out.atoms.rattle(0.1, seed=1)
        return out
    monkeypatch.setattr(job.ml_then_dft, "ml_relax", rattled)
    rec = jobs.compute_adhesion(tmp_path / "scan.json", tmp_path / "relaxed",
                                tmp_path / "bulk/record.json", s, tmp_path / "adhesion",
                                tmp_path / "ck/adhesion", ml=ml)
    assert rec["status"] == "ok" and set(rec["relaxed_part_above_cut_eV"]) == {"metal",
                                                                             "coating"}
    metal = read_json(tmp_path / "adhesion/metal/record.json")
    assert metal["n_atoms"] == read_json(tmp_path / "scan.json")["n_atoms"] - read_json(
        tmp_path / "adhesion/coating/record.json")["n_atoms"]
    assert metal["energy_eV"] - rec["E_metal_eV"] == pytest.approx(
        rec["relaxed_part_above_cut_eV"]["metal"], abs=1e-4)
    assert rec["W_ad_J_m2"] == pytest.approx(rec["W_sep_J_m2"])  # both parts as cut
    # the coating's single point as cut fails: a failed record naming it
    single_point = job.slab_single_point

    def failing(atoms, settings_, options, txt, **kw):
        out = single_point(atoms, settings_, options, txt, **kw)
        if str(txt).endswith("as_cut_calc.txt") and "coating" in str(txt):
            out.energy_eV = None
        return out
    monkeypatch.setattr(job, "slab_single_point", failing)
    rec = jobs.compute_adhesion(tmp_path / "scan.json", tmp_path / "relaxed",
                                tmp_path / "bulk/record.json", s,
                                tmp_path / "adhesion2", tmp_path / "ck/adhesion2", ml=ml)
    assert rec["status"] == "failed" and "coating as cut: SCF not converged" in rec["reason"]


def test_w_ad_near_a_regime_boundary_escalates_to_the_relaxed_path(tmp_path, root, settings,
                                                                   monkeypatch):
    """dft_at_ml with interface.escalate_within_J_m2: W_ad at ML geometries within the
    margin of a regime boundary sends the interface on to the dft_relaxed path (DFT
    relaxation from the ML geometry, parts relaxed with DFT), whose W_ad the record
    carries with the ML one and the reason; far from every boundary nothing more is
    computed; a rerun keeps every finished part; the charge-density difference and the
    report find the escalated interface. The "ML" relaxations stop at 0.3 eV/A, so the
    relaxed path has steps to take."""
    from philicity.files import interface_record_path
    from philicity.jobs import interfaces as job

    s = _ag_film_on_al100(tmp_path, root, settings, registry_grid=1, stage="dft_at_ml",
                          window_eV=0.1)
    s["relax"] = {**s["relax"], "fmax_eV_A": 0.02, "steps": 200}
    ml = {"calculator": {"name": "emt"}, "fmax_eV_A": 0.3, "steps": 100}
    jobs.scan_interface(tmp_path / "terminations.json", tmp_path / "Al.cif",
                        tmp_path / "bulk/record.json", "Ag", "100", 0, s,
                        tmp_path / "scan.json", tmp_path / "ck/scan.json", ml=ml)
    jobs.relax_interface(tmp_path / "scan.json", s, tmp_path / "relaxed",
                         tmp_path / "ck/iface.traj")

    def adhesion(folder, sigma):
        return jobs.compute_adhesion(tmp_path / "scan.json", tmp_path / "relaxed",
                                     tmp_path / "bulk/record.json", s, tmp_path / folder,
                                     tmp_path / "ck" / folder, ml=ml,
                                     escalation={"within_J_m2": 0.05, "sigma_lv_J_m2": sigma})
    at_ml = adhesion("far", 10.0)  # W_ad far below sigma_lv: non-wetting, settled
    assert at_ml["status"] == "ok" and at_ml["interface_stage"] == "dft_at_ml"
    assert "escalated" not in at_ml and not (tmp_path / "far/escalated").exists()
    w_ml = at_ml["W_ad_J_m2"]
    near = adhesion("near", (w_ml + 0.03) / 2)  # 0.03 below the complete-wetting boundary
    assert near["status"] == "ok" and near["interface_stage"] == "dft_relaxed"
    assert near["W_ad_at_ml_J_m2"] == pytest.approx(w_ml)
    assert near["W_sep_at_ml_J_m2"] == pytest.approx(at_ml["W_sep_J_m2"])
    assert "complete wetting / wetting boundary" in near["escalated"]
    escalated = read_json(tmp_path / "near/escalated/interface/record.json")
    assert escalated["initial_hessian"] == "ml" and escalated["steps"] > 0
    assert escalated["relax_converged"] and escalated["energy_eV"] < read_json(
        tmp_path / "scan.json")["energy_eV"]  # relaxed below the ML geometry's energy
    assert near["E_interface_eV"] == pytest.approx(escalated["energy_eV"])
    for part in ("metal", "coating", "metal_unstrained"):
        rec = read_json(tmp_path / f"near/escalated/{part}/record.json")
        assert rec["interface_stage"] == "dft_relaxed" and "ml_steps" not in rec
    assert near["W_ad_J_m2"] >= w_ml - 1e-6  # a relaxed interface binds more
    assert interface_record_path(tmp_path / "near/record.json", near) == (
        tmp_path / "near/escalated/interface/record.json")
    assert interface_record_path(tmp_path / "far/record.json", at_ml) == (
        tmp_path / "relaxed/record.json")
    # a rerun (a kill after the record, or a changed sigma_lv) computes nothing again
    calls = []
    monkeypatch.setattr(job, "relax_structure", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(job, "slab_single_point", lambda *a, **k: calls.append(a))
    assert adhesion("near", (w_ml + 0.03) / 2)["W_ad_J_m2"] == near["W_ad_J_m2"]
    assert calls == []
    # the database takes the escalated interface and its parts along
    n = collect_database([tmp_path / "near/record.json"], tmp_path / "calc.db")
    assert n == 1 + 3 + 4  # the record, its parts at ML geometries, the escalated four


def test_a_registry_whose_scf_failed_is_named_in_the_scan(tmp_path, root, settings,
                                                          monkeypatch):
    """The lowest registry is chosen among those that converged; one whose single point
    failed might have been lower, so the scan record names it."""
    from philicity.jobs import interfaces as job

    s = _ag_film_on_al100(tmp_path, root, settings, registry_grid=2, stage="dft_relaxed")
    single_point, calls = job.slab_single_point, []

    def first_fails(*args, **kw):
        out = single_point(*args, **kw)
        calls.append(out)
        if len(calls) == 1:
            out.energy_eV, out.scf_converged = None, False
        return out
    monkeypatch.setattr(job, "slab_single_point", first_fails)
    scan = jobs.scan_interface(tmp_path / "terminations.json", tmp_path / "Al.cif",
                               tmp_path / "bulk/record.json", "Ag", "100", 0, s,
                               tmp_path / "scan.json", tmp_path / "ck/scan.json")
    first = scan["scan"][0]["offset"]
    assert scan["status"] == "ok" and len(calls) == len(scan["scan"]) == 4
    assert scan["registries_scf_failed"] == [first] and scan["registry"] != first


def test_interface_without_a_match_is_a_status_not_an_error(surface, root, settings):
    tmp, _ = surface
    settings = {**settings, "interface": {**settings["interface"], "max_strain_pct": 0.1,
                                          "max_area_A2": 20.0}}
    scan = jobs.scan_interface(tmp / "terminations.json", tmp / "Cu.cif",
                               root / "structures/coatings/Ag.cif", "Ag", "100", 0, settings,
                               tmp / "scan.json", tmp / "ck/scan.json")
    assert scan["status"] == "no_match"
    assert "Ag(100) on Cu(100)" in scan["reason"] and "strain" in scan["reason"]
    relaxed = jobs.relax_interface(tmp / "scan.json", settings, tmp / "relaxed", tmp / "ck/r")
    assert relaxed["status"] == "no_match"
    rec = jobs.compute_adhesion(tmp / "scan.json", tmp / "relaxed", tmp / "none.json",
                                settings, tmp / "adh", tmp / "ck/a")
    assert rec["status"] == "no_match" and "W_ad_J_m2" not in rec


@pytest.mark.parametrize("name", ["chgnet", "sevenn"])
def test_ml_calculators_build_offline_from_the_factory(name, monkeypatch):
    """Weights come from the installed wheel: no network (HF/hub downloads disabled)."""
    pytest.importorskip("torch", reason="the ML models need torch (pip install '.[ml]')")
    pytest.importorskip(name, reason=f"{name} is installed with the [ml] extra")
    from ase.build import add_adsorbate, fcc100

    from philicity import calculators

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("NO_PROXY", "*")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # any download would fail
    calc = calculators.make_calculator({"name": name, "model": ""}, "slab")
    slab = fcc100("Al", (2, 2, 3), vacuum=6.0)
    add_adsorbate(slab, "Na", 2.6, "hollow")
    slab.calc = calc
    energy = slab.get_potential_energy()
    assert np.isfinite(energy) and -60 < energy < -30  # about -3.7 eV/atom for Al
    assert calculators.unsupported_elements(["Na", "Al", "Og"], {"name": name}) == ["Og"]


def test_staged_strategy_relaxes_only_the_top_k_with_the_expensive_calculator(surface,
                                                                               settings):
    """CHGNet pre-relaxes Ag on every Cu(100) site, EMT stands in for DFT: single points
    on all survivors, relaxations of the top_k only, energies from EMT."""
    pytest.importorskip("chgnet", reason="CHGNet (and torch) come with the [ml] extra")
    tmp, terms = surface
    clean = jobs.relax_clean_slab(tmp / "terminations.json", 0, settings, tmp / "clean",
                                  tmp / "ck" / "clean.traj")
    ml = {"calculator": {"name": "chgnet", "model": ""}, "fmax_eV_A": 0.05, "steps": 200,
          "nudge_A": 0.3, "top_k": 1, "window_eV": 0.1}
    # the clean slab: the same (EMT) relaxation, preconditioned by CHGNet's Hessian
    ml_clean = jobs.relax_clean_slab(tmp / "terminations.json", 0, settings,
                                     tmp / "clean_ml", tmp / "ck_clean" / "clean.traj", ml=ml)
    assert clean["initial_hessian"] == "default" and ml_clean["initial_hessian"] == "ml"
    assert ml_clean["relax_converged"] and len(list((tmp / "ck_clean").glob("*.npy"))) == 1
    # the first step went to CHGNet's relaxed cut if EMT's forces pointed that way
    (ml_start,) = (tmp / "ck_clean").glob("clean_ml_*.json")
    frames = read(tmp / "clean_ml" / "relax.traj", ":")
    assert ml_clean["first_step"] in ("taken", "rejected", "not_taken")
    assert (ml_clean["first_step"] == "not_taken") == (
        ml_clean["first_step_predicted_eV"] >= -FIRST_STEP_MIN_GAIN_EV)
    if ml_clean["first_step"] != "not_taken":
        assert np.allclose(frames[1].positions, read(ml_start).positions)
    assert ml_clean["energy_eV"] == pytest.approx(clean["energy_eV"], abs=0.01)
    pre = jobs.prescreen_sites(tmp / "terminations.json", tmp / "sites.json", tmp / "clean", 0,
                               "Ag", settings,
                               ml, tmp / "pre" / "prescreen.json", tmp / "ck" / "ml")
    assert pre["status"] == "ok" and len(pre["sites"]) == 3
    survivors = [i for i in pre["sites"] if not i["pruned_by"]]
    assert survivors and all(i["dft_single_point_eV"] is not None for i in survivors)
    assert len(pre["selected"]) == 1
    best_sp = min(survivors, key=lambda i: i["dft_single_point_eV"])
    assert pre["selected"] == [best_sp["site"]]
    records = {}
    for site in terms["sites"]:
        name = site["name"]
        records[name] = jobs.relax_adsorbate(
            tmp / "terminations.json", tmp / "sites.json", tmp / "clean", site["id"], "Ag",
            settings,
            tmp / "ads" / name, tmp / "ck" / "ml" / f"{name}.traj",  # as the workflow does
            prescreen_json=tmp / "pre" / "prescreen.json")
    stages = {n: r["stage"] for n, r in records.items()}
    assert [n for n, s in stages.items() if s == "dft_relaxed_from_ml"] == pre["selected"]
    assert sum((tmp / "ads" / n / "relax.traj").exists() for n in records) == 1
    for item in pre["sites"]:
        rec = records[item["site"]]
        assert rec["ml_energy_eV"] == item["ml_energy_eV"]
        if rec["stage"] == "dft_single_point":
            assert rec["energy_eV"] == item["dft_single_point_eV"] and rec["flags"] == []
        if rec["stage"] == "pruned_by_ml":
            assert rec["energy_eV"] is None and rec["flags"][0].startswith("ml: ")
    relaxed = records[pre["selected"][0]]
    assert relaxed["resumed_steps"] == 0  # the ML trajectory is not a DFT checkpoint
    assert relaxed["initial_hessian"] == "ml"  # BFGS starts from CHGNet's curvature
    assert relaxed["energy_eV"] <= best_sp["dft_single_point_eV"] + 1e-6
    # a rerun after a kill reuses the finished ML relaxations and single points
    again = jobs.prescreen_sites(tmp / "terminations.json", tmp / "sites.json", tmp / "clean",
                                 0, "Ag", settings,
                                 ml, tmp / "pre2" / "prescreen.json", tmp / "ck" / "ml")
    assert [i["ml_wall_s"] for i in again["sites"]] == [i["ml_wall_s"] for i in pre["sites"]]
    # ... but not for another clean slab (a changed input) or other candidate options
    kept = {i["site"]: read_json(tmp / "ck" / "ml" / f"{i['site']}.json") for i in pre["sites"]}
    for clean_dir, options in ((tmp / "clean_ml", None), (tmp / "clean", {"magmoms": {"Ag": 1}})):
        other = jobs.prescreen_sites(tmp / "terminations.json", tmp / "sites.json", clean_dir,
                                     0, "Ag", settings, ml, tmp / "pre3" / "prescreen.json",
                                     tmp / "ck" / "ml", options=options)
        assert other["status"] == "ok"
        for item in other["sites"]:
            now = read_json(tmp / "ck" / "ml" / f"{item['site']}.json")
            assert now["key"] != kept[item["site"]]["key"]
            assert now["ml_wall_s"] == item["ml_wall_s"]
            kept[item["site"]] = now


def test_an_atom_whose_scf_never_converges_is_a_failed_record_after_its_retries(
        tmp_path, settings, monkeypatch):
    """The isolated atom (every E_b's reference) is retried with safer settings like any
    single point; if no try converges its record says so, so the ranking names the atom
    instead of reporting every site as unusable."""
    from philicity.relax import Outcome

    tries = []

    def failing(atoms, calc, forces=True):
        tries.append(calc)
        return Outcome(atoms, None, None, scf_converged=False, error="not converged")

    monkeypatch.setattr(jobs.bulk, "single_point", failing)
    settings["calculator"]["scf_retries"] = 2
    rec = jobs.compute_atom("Na", settings, tmp_path / "atom")
    assert len(tries) == 3 and len(rec["scf_tries"]) == 3
    assert rec["status"] == "failed" and rec["reason"] == "Na atom SCF did not converge"
    assert read_json(tmp_path / "atom/record.json")["status"] == "failed"


def test_scf_retry_stops_at_the_first_converged_try(settings):
    from philicity.relax import Outcome

    calls = []

    def run(calc_settings, attempt):
        calls.append(calc_settings)
        return Outcome(None, -1.0 if attempt else None, None, scf_converged=attempt == 1,
                       wall_s=1.5)

    settings["calculator"].update(name="gpaw", scf_retries=3)
    out = jobs.dft.with_scf_retries(run, settings, None)
    assert out.scf_converged and out.energy_eV == -1.0 and out.wall_s == 3.0
    assert [t["scf_converged"] for t in out.extra["scf_tries"]] == [False, True]
    assert calls[1]["mixer"]["beta"] == calls[0]["mixer"]["beta"] / 2
    assert calls[1]["maxiter"] == 2 * calls[0]["maxiter"]


def test_the_ml_hessian_shortens_a_bfgs_relaxation(tmp_path):
    """With the model's own Hessian BFGS needs fewer steps than from 70 eV/A^2 x identity
    (EMT plays both parts: the Hessian is then exact at the start)."""
    from ase.build import add_adsorbate, fcc100
    from ase.calculators.emt import EMT
    from ase.constraints import FixAtoms

    slab = fcc100("Cu", (2, 2, 2), vacuum=6.0)
    slab.set_constraint(FixAtoms(indices=[a.index for a in slab if a.tag == 2]))
    add_adsorbate(slab, "Au", 2.2, "hollow")
    slab.positions[-1] += (0.3, 0.2, 0.0)
    free = [i for i in range(len(slab)) if i not in slab.constraints[0].index]
    hessian = ml_then_dft.ml_hessian(slab, EMT(), free)
    n = 3 * len(slab)
    fixed = [3 * i + k for i in slab.constraints[0].index for k in range(3)]
    assert hessian.shape == (n, n) and np.allclose(hessian, hessian.T)
    assert np.allclose(hessian[np.ix_(fixed, fixed)], 70.0 * np.eye(len(fixed)))
    assert np.linalg.eigvalsh(hessian).min() >= 0.1 - 1e-9
    # the free block is ASE's own finite-difference Hessian (Vibrations) where not floored
    from ase.vibrations import Vibrations

    moving = slab.copy()
    moving.calc = EMT()
    vib = Vibrations(moving, indices=free, name=str(tmp_path / "vib"))
    vib.run()
    reference = vib.get_vibrations().get_hessian_2d()
    idx = (3 * np.asarray(free)[:, None] + np.arange(3)).ravel()
    unfloored = ml_then_dft.ml_hessian(slab, EMT(), free, floor_eV_A2=-np.inf)
    assert np.allclose(unfloored[np.ix_(idx, idx)], 0.5 * (reference + reference.T), atol=1e-8)
    steps = {}
    for name, h in (("default", None), ("ml", hessian)):
        out = relax(slab, EMT(), 0.01, 100, tmp_path / f"{name}.traj", "BFGS",
                    hessian=h)
        assert out.relax_converged
        steps[name] = out.steps
    assert steps["ml"] < steps["default"], steps


def test_a_kept_single_point_is_found_whatever_the_order_of_the_atoms_arrays(tmp_path,
                                                                             settings):
    """pymatgen's site properties come back in another order from run to run; a kept
    single point (also one written with the older, unsorted key) must still be found."""
    from ase.build import bulk

    atoms = bulk("Cu", cubic=True)
    atoms.new_array("bulk_equivalent", np.zeros(len(atoms), int))
    atoms.new_array("bulk_wyckoff", np.array(["a"] * len(atoms)))
    other = atoms.copy()
    other.arrays = dict(reversed(list(other.arrays.items())))
    path = tmp_path / "t0_single_point.json"
    calls = []
    kept = jobs.dft.kept_energy
    assert kept(path, atoms, settings, None, lambda: calls.append(1) or -1.0) == -1.0
    assert kept(path, other, settings, None, lambda: calls.append(1) or -2.0) == -1.0
    legacy = read_json(path)
    legacy["key"]["atoms"] = jobs.dft.jsonio.encode(other)  # as keys were written before
    path.write_text(json.dumps(legacy))
    assert kept(path, atoms, settings, None, lambda: calls.append(1) or -2.0) == -1.0
    assert calls == [1]


def test_a_surface_whose_every_site_the_ml_model_flags_keeps_its_ml_lowest_site(surface,
                                                                               settings):
    """Every ML relaxation flagged (a desorption threshold no site passes): the site the
    model puts lowest still gets the expensive calculator's single point and relaxation,
    so the surface has an energy and its row can be ranked."""
    tmp, found = surface
    jobs.relax_clean_slab(tmp / "terminations.json", 0, settings, tmp / "clean",
                          tmp / "ck" / "clean.traj")
    strict = {**settings, "quality": {**settings["quality"], "desorbed_factor": 0.01}}
    ml = {"calculator": {"name": "emt"}, "fmax_eV_A": 0.05, "steps": 200, "nudge_A": 0.0,
          "top_k": 2, "window_eV": 0.1}
    pre = jobs.prescreen_sites(tmp / "terminations.json", tmp / "sites.json", tmp / "clean",
                               0, "Ag", strict, ml, tmp / "pre" / "prescreen.json",
                               tmp / "ck" / "ml")
    kept = [i for i in pre["sites"] if not i["pruned_by"]]
    lowest = min(pre["sites"], key=lambda i: i["ml_energy_eV"])
    assert len(pre["sites"]) == 3 and kept == [lowest]
    assert lowest["kept_despite"][0].startswith("desorbed")
    assert lowest["dft_single_point_eV"] is not None and pre["selected"] == [lowest["site"]]
    site = next(s for s in found["sites"] if s["name"] == lowest["site"])
    rec = jobs.relax_adsorbate(tmp / "terminations.json", tmp / "sites.json", tmp / "clean",
                               site["id"], "Ag", strict, tmp / "ads", tmp / "ck" / "ads.traj",
                               prescreen_json=tmp / "pre" / "prescreen.json")
    assert rec["stage"] == "dft_relaxed_from_ml" and rec["energy_eV"] is not None
    assert rec["kept_despite"] == lowest["kept_despite"]


def test_keep_lowest_if_all_pruned_only_acts_when_every_site_is_pruned():
    items = [{"site": "a", "ml_energy_eV": -1.0, "pruned_by": ["moved"]},
             {"site": "b", "ml_energy_eV": -2.0, "pruned_by": ["reconstructed"]}]
    ml_then_dft.keep_lowest_if_all_pruned(items)
    assert items[1]["pruned_by"] == [] and items[1]["kept_despite"] == ["reconstructed"]
    assert items[0]["pruned_by"] == ["moved"]
    mixed = [{"site": "a", "ml_energy_eV": -1.0, "pruned_by": []},
             {"site": "b", "ml_energy_eV": -2.0, "pruned_by": ["moved"]}]
    ml_then_dft.keep_lowest_if_all_pruned(mixed)
    assert mixed[1]["pruned_by"] == ["moved"] and "kept_despite" not in mixed[1]


@pytest.mark.parametrize("strategy", ["dft", "ml-then-dft"])
def test_every_site_gets_an_energy_with_the_adatom_held_on_it(surface, settings, strategy):
    """Site energies the way papers tabulate them: each symmetry-distinct site of Cu(100)
    has an energy with Ag held on it laterally (it relaxes in height only), ontop named by
    the element beneath; with ml-then-dft the lowest within the window is relaxed with the
    expensive calculator, the others are its single points at the ML geometry. A rerun
    reads everything back."""
    tmp, found = surface
    jobs.relax_clean_slab(tmp / "terminations.json", 0, settings, tmp / "clean",
                          tmp / "ck" / "clean.traj")
    ml = ({"calculator": {"name": "emt"}, "fmax_eV_A": 0.05, "steps": 200, "nudge_A": 0.0,
           "top_k": 2, "window_eV": 0.1} if strategy != "dft" else None)
    args = (tmp / "terminations.json", tmp / "sites.json", tmp / "clean", 0, "Ag", settings,
            tmp / "lateral" / "site_energies.json", tmp / "ck" / "lateral")
    rec = jobs.site_energies(*args, ml=ml)
    assert rec["status"] == "ok" and rec["site_energy_mode"] == "lateral_fixed"
    by_kind = {i["site_kind"]: i for i in rec["sites"]}
    assert set(by_kind) == {s["kind"] for s in found["sites"]} == {"ontop", "bridge", "hollow"}
    assert by_kind["ontop"]["site_label"] == "top_Cu"
    for item in rec["sites"]:
        assert item["energy_eV"] is not None and item["height_A"] > 0.5
        site = next(s for s in found["sites"] if s["id"] == item["site"])
        final = jsonio.decode(item["atoms"])
        np.testing.assert_allclose(final.positions[-1, :2], site["xy"], atol=0.05)
    energies = {k: i["energy_eV"] for k, i in by_kind.items()}
    # on fcc(100) the four-fold hollow binds best, ontop worst
    assert energies["hollow"] < energies["bridge"] < energies["ontop"]
    stages = {k: i["stage"] for k, i in by_kind.items()}
    if ml is None:
        assert set(stages.values()) == {"dft_relaxed"}
    else:
        assert stages["hollow"] == "dft_relaxed" and stages["ontop"] == "dft_single_point"
    again = jobs.site_energies(*args, ml=ml)  # everything kept: same numbers
    assert [i["energy_eV"] for i in again["sites"]] == [i["energy_eV"] for i in rec["sites"]]


def test_a_held_site_whose_scf_failed_is_tried_again_by_the_next_run(surface, settings,
                                                                    monkeypatch):
    """An SCF failure is not kept as the site's result: a rerun (more scf_retries, another
    machine) relaxes it again instead of reading back "no energy"."""
    tmp, _ = surface
    jobs.relax_clean_slab(tmp / "terminations.json", 0, settings, tmp / "clean",
                          tmp / "ck" / "clean.traj")
    args = (tmp / "terminations.json", tmp / "sites.json", tmp / "clean", 0, "Ag", settings,
            tmp / "lateral" / "site_energies.json", tmp / "ck" / "lateral")
    monkeypatch.setattr(jobs.adsorption, "_held_relaxation", lambda start, *a: {
        "energy_eV": None, "stage": "dft_relaxed", "steps": 0, "scf_iterations": None,
        "flags": ["SCF not converged"], "atoms": jsonio.encode(start)})
    failed = jobs.site_energies(*args, ml=None)
    assert all(i["energy_eV"] is None for i in failed["sites"])
    monkeypatch.undo()
    again = jobs.site_energies(*args, ml=None)
    assert all(i["energy_eV"] is not None and not i["flags"] for i in again["sites"])


def test_termination_choice_without_a_bulk_energy_says_why(tmp_path, settings, monkeypatch):
    """CuAu(001) has two tied cuts (Cu or Au on top); when the bulk single point fails
    there are no surface energies to choose by, and the reason says so."""
    from pymatgen.core import Lattice, Structure

    from philicity.jobs import slabs as job
    from philicity.relax import Outcome

    cif = tmp_path / "CuAu.cif"
    Structure(Lattice.tetragonal(2.8, 3.7), ["Cu", "Au"],
              [[0, 0, 0], [0.5, 0.5, 0.5]]).to(filename=str(cif))
    jobs.check_candidate(cif, "CuAu", settings, tmp_path / "cand.json")
    monkeypatch.setattr(job, "bulk_single_point", lambda atoms, *a, **kw: Outcome(
        atoms, None, None, scf_converged=False))
    rec = jobs.select_termination(tmp_path / "cand.json", cif, "001", settings,
                                  tmp_path / "terminations.json")
    assert rec["status"] == "ok" and len(rec["terminations"]) >= 2
    assert rec["e_bulk_per_atom_eV"] is None
    assert rec["why"].endswith("the bulk single point failed, so no surface energies: the "
                               f"first of the {len(rec['terminations'])} tied cuts")
