"""The job functions end to end with EMT: records, structures, checkpoints, flags."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from ase.io import read

from philicity import jobs
from philicity.io import collect_database, read_json


@pytest.fixture
def surface(tmp_path, root, settings):
    cif = tmp_path / "Cu.cif"
    shutil.copy(root / "structures/coatings/Cu.cif", cif)
    cand = jobs.check_candidate(cif, "Cu", {"miller": [[1, 0, 0]], "termination":
                                            "lowest_energy", "magmoms": {}},
                                settings, tmp_path / "cand.json")
    assert cand["status"] == "ok" and cand["formula"] == "Cu"
    terms = jobs.select_termination(tmp_path / "cand.json", cif, "100", settings,
                                    tmp_path / "terminations.json")
    assert terms["status"] == "ok"
    return tmp_path, terms


def test_select_termination_lists_sites(surface):
    _, terms = surface
    assert {s["kind"] for s in terms["sites"]} == {"ontop", "bridge", "hollow"}
    assert terms["selected"] == [0]


def test_clean_slab_then_adsorbate_then_database(surface, settings):
    tmp, terms = surface
    clean = jobs.relax_clean_slab(tmp / "terminations.json", 0, settings, tmp / "clean",
                                  tmp / "ck" / "clean.traj")
    assert clean["status"] == "ok" and clean["relax_converged"]
    assert (tmp / "clean" / "relax.traj").exists() and not (tmp / "ck" / "clean.traj").exists()
    hollow = next(s for s in terms["sites"] if s["kind"] == "hollow")
    rec = jobs.relax_adsorbate(tmp / "terminations.json", tmp / "clean", hollow["id"], "Ag",
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
    fresh = jobs.relax_adsorbate(tmp / "terminations.json", tmp / "clean", site["id"], "Ag",
                                 settings, tmp / "fresh", tmp / "ck" / "fresh.traj")
    # pretend a killed run left the first 3 frames behind
    frames = read(tmp / "fresh" / "relax.traj", ":3")
    from ase.io import write

    write(tmp / "ck" / "resume.traj", frames)
    resumed = jobs.relax_adsorbate(tmp / "terminations.json", tmp / "clean", site["id"], "Ag",
                                   settings, tmp / "resumed", tmp / "ck" / "resume.traj")
    assert resumed["resumed_steps"] == 2
    assert resumed["steps"] - resumed["resumed_steps"] < fresh["steps"]
    assert resumed["energy_eV"] == pytest.approx(fresh["energy_eV"], abs=1e-3)


def test_bad_inputs_become_failed_records(tmp_path, settings, root):
    bad = tmp_path / "Bad.cif"
    bad.write_text("garbage")
    rec = jobs.check_candidate(bad, "Bad", {}, settings, tmp_path / "bad.json")
    assert rec["status"] == "failed" and str(bad) in rec["reason"]
    # Na has no EMT parameters: the calculator cannot treat it
    na = tmp_path / "NaF.cif"
    shutil.copy(root / "structures/coatings/NaF.cif", na)
    rec = jobs.check_candidate(na, "NaF", {}, settings, tmp_path / "naf.json")
    assert rec["status"] == "failed" and "['F', 'Na']" in rec["reason"]
    terms = jobs.select_termination(tmp_path / "naf.json", na, "100", settings,
                                    tmp_path / "t.json")
    assert terms["status"] == "failed" and terms["reason"] == rec["reason"]
    assert json.loads((tmp_path / "t.json").read_text())["status"] == "failed"


def test_termination_index_out_of_range_fails_cleanly(tmp_path, settings, root):
    cif = tmp_path / "Cu.cif"
    shutil.copy(root / "structures/coatings/Cu.cif", cif)
    jobs.check_candidate(cif, "Cu", {"termination": 5}, settings, tmp_path / "c.json")
    rec = jobs.select_termination(tmp_path / "c.json", cif, "100", settings, tmp_path / "t.json")
    assert rec["status"] == "failed" and "termination 5 does not exist" in rec["reason"]


def test_bulk_reference_with_lattice_relaxation(tmp_path, settings, root):
    cif = tmp_path / "Cu.cif"
    shutil.copy(root / "structures/coatings/Cu.cif", cif)
    settings = {**settings, "bulk": {"relax_lattice": True, "fmax_eV_A": 0.01}}
    rec = jobs.compute_bulk(cif, "Cu", settings, tmp_path / "bulk")
    # EMT's Cu lattice constant is 3.59 A (experiment 3.615)
    assert rec["lattice_A"][0] == pytest.approx(3.59, abs=0.01)
    assert rec["energy_per_atom_eV"] == pytest.approx(read_json(tmp_path / "bulk/record.json")
                                                      ["energy_eV"] / 4)
    assert np.isfinite(rec["energy_per_atom_eV"])
