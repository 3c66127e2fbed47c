"""Fault injection: kills, broken checkpoints, failed writes, exhausted relaxations and bad
input. Each fault must end in a clear record or message, never in lost or half-written work."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
import yaml
from ase.io import read

from philicity import config, files, jobs
from philicity.files import read_json

# A relaxation in a child process that SIGKILLs itself inside BFGS step KILL_AT:
# nothing of Python's clean-up runs, as when a scheduler or the OOM killer stops a job.
KILLED_RUN = textwrap.dedent("""
    import json, os, signal, sys
    from philicity import jobs, relax

    args = json.loads(sys.argv[1])
    kill_at = args.pop("kill_at")
    class Killed(relax.OPTIMIZERS["BFGS"]):
        def step(self, *a, **k):
            if self.nsteps == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            super().step(*a, **k)
    relax.OPTIMIZERS["BFGS"] = Killed
    jobs.relax_adsorbate(**args)
""")


@pytest.fixture
def cu100(tmp_path, root, settings):
    """Cu(100) with its sites (EMT), the clean slab relaxed, settings tight enough that
    an adatom relaxation takes more than a handful of steps."""
    cif = tmp_path / "Cu.cif"
    shutil.copy(root / "structures/coatings/Cu.cif", cif)
    jobs.check_candidate(cif, "Cu", settings, tmp_path / "cand.json")
    jobs.select_termination(tmp_path / "cand.json", cif, "100", settings,
                            tmp_path / "terminations.json")
    found = jobs.find_sites(tmp_path / "terminations.json", settings, tmp_path / "sites.json")
    settings = {**settings, "relax": {**settings["relax"], "fmax_eV_A": 0.005}}
    jobs.relax_clean_slab(tmp_path / "terminations.json", 0, settings, tmp_path / "clean",
                          tmp_path / "ck" / "clean.traj")
    site = next(s for s in found["sites"] if s["kind"] == "bridge")
    return tmp_path, settings, site["id"]


def _adsorbate(tmp, settings, site_id, name):
    return dict(terminations_json=str(tmp / "terminations.json"),
                sites_json=str(tmp / "sites.json"), clean_dir=str(tmp / "clean"),
                site_id=site_id, metal="Ag", settings=settings, outdir=str(tmp / name),
                checkpoint=str(tmp / "ck" / f"{name}.traj"))


def test_sigkill_mid_relaxation_leaves_no_output_and_the_rerun_resumes(cu100):
    tmp, settings, site_id = cu100
    fresh = jobs.relax_adsorbate(**_adsorbate(tmp, settings, site_id, "fresh"))
    assert fresh["steps"] >= 6
    args = _adsorbate(tmp, settings, site_id, "killed")
    proc = subprocess.run([sys.executable, "-c", KILLED_RUN, json.dumps({**args, "kill_at": 4})],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    assert not (tmp / "killed" / "record.json").exists()  # no half-finished result
    assert len(read(tmp / "ck" / "killed.traj", ":")) == 5  # steps 0..4 were kept
    resumed = jobs.relax_adsorbate(**args)
    assert resumed["status"] == "ok" and resumed["relax_converged"]
    assert resumed["resumed_steps"] == 4
    assert resumed["energy_eV"] == pytest.approx(fresh["energy_eV"], abs=1e-3)
    assert not list(tmp.rglob("*.tmp*"))


def test_a_checkpoint_cut_mid_frame_restarts_cleanly(cu100):
    tmp, settings, site_id = cu100
    fresh = jobs.relax_adsorbate(**_adsorbate(tmp, settings, site_id, "fresh"))
    cut = tmp / "ck" / "cut.traj"
    data = (tmp / "fresh" / "relax.traj").read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])  # the kill hit while a frame was written
    rec = jobs.relax_adsorbate(**_adsorbate(tmp, settings, site_id, "cut"))
    assert rec["status"] == "ok" and rec["relax_converged"]
    assert rec["energy_eV"] == pytest.approx(fresh["energy_eV"], abs=1e-3)


def test_a_relaxation_out_of_steps_is_flagged_not_fatal(cu100):
    tmp, settings, site_id = cu100
    short = {**settings, "relax": {**settings["relax"], "steps": 2}}
    rec = jobs.relax_adsorbate(**_adsorbate(tmp, short, site_id, "short"))
    assert rec["status"] == "ok" and rec["steps"] == 2 and not rec["relax_converged"]
    assert any("not_converged" in f for f in rec["flags"]), rec["flags"]


@pytest.mark.parametrize("what", ["json", "structure", "database"])
def test_a_write_that_dies_keeps_the_previous_file(tmp_path, monkeypatch, what):
    from ase.build import bulk

    target = {"json": tmp_path / "r.json", "structure": tmp_path / "s.extxyz",
              "database": tmp_path / "c.db"}[what]
    files.write_json(tmp_path / "r.json", {"status": "ok", "energy_eV": -1.0})
    files.write_atoms(tmp_path / "s.extxyz", bulk("Cu"))
    files.collect_database([tmp_path / "r.json"], tmp_path / "c.db")
    before = target.read_bytes()

    def dies(*_):
        raise KeyboardInterrupt("killed while renaming")

    monkeypatch.setattr(files.os, "replace", dies)
    with pytest.raises(KeyboardInterrupt):
        if what == "json":
            files.write_json(target, {"status": "ok", "energy_eV": -2.0})
        elif what == "structure":
            files.write_atoms(target, bulk("Ag"))
        else:
            files.collect_database([tmp_path / "r.json", tmp_path / "r.json"], target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "c.db", "r.json", "s.extxyz"]


def test_disordered_cif_names_the_file_and_the_site(tmp_path, settings, root):
    cif = tmp_path / "Mixed.cif"
    text = (root / "structures/coatings/Cu.cif").read_text()
    cif.write_text(text.replace("0.00000000  1\n", "0.00000000  0.5\n"))
    assert cif.read_text() != text, "the fixture must make a partial occupancy"
    rec = jobs.check_candidate(cif, "Mixed", settings, tmp_path / "m.json")
    assert rec["status"] == "failed"
    assert str(cif) in rec["reason"] and "disorder" in rec["reason"]


def test_element_without_paw_setup_is_named(tmp_path, root):
    _, settings = config.load(root / "config/config.yaml", "fast")
    cif = tmp_path / "TcC.cif"
    cif.write_text((root / "structures/coatings/Cu.cif").read_text().replace("Cu", "Tc"))
    rec = jobs.check_candidate(cif, "TcC", settings, tmp_path / "t.json")
    assert rec["status"] == "failed"
    assert "Tc" in rec["reason"] and str(cif) in rec["reason"]


def test_a_miller_index_without_a_slab_within_bounds_is_a_failed_record(tmp_path, settings,
                                                                           root):
    cif = tmp_path / "Cu.cif"
    shutil.copy(root / "structures/coatings/Cu.cif", cif)
    settings = {**settings, "slab": {**settings["slab"], "max_atoms": 30}}
    jobs.check_candidate(cif, "Cu", settings, tmp_path / "c.json")
    rec = jobs.select_termination(tmp_path / "c.json", cif, "531", settings,
                                  tmp_path / "t.json")
    assert rec["status"] == "failed"
    assert "miller (531)" in rec["reason"] and "max_atoms=30" in rec["reason"]
    assert read_json(tmp_path / "t.json")["status"] == "failed"


@pytest.mark.parametrize("patch, key", [
    ({"anodes": "Na"}, "anodes"),
    ({"presets": {"fast": {"relax": {"steps": "many"}}}}, "presets.fast.relax.steps"),
    ({"candidates": {"Ag": {"miller": "100"}}}, "candidates.Ag.miller"),
    ({"presets": {"fast": {"interface": {"max_strain_pct": -1}}}},
     "presets.fast.interface.max_strain_pct"),
    ({"strategy": "ml-first"}, "strategy"),
    ({"ml": {"top_k": 0}}, "ml.top_k"),
])
def test_config_errors_name_the_key(root, patch, key):
    shipped = yaml.safe_load((root / "config/config.yaml").read_text())
    with pytest.raises(config.ConfigError, match=re.escape(f"key '{key}'")):
        config.settings(config.validate(config._deep_merge(shipped, patch)))


def test_single_points_of_a_killed_termination_choice_are_kept(tmp_path, settings):
    """select_termination's single points (one per termination, hours for big cells)
    survive a kill: the rerun reads them back unless the structure or settings changed."""
    from ase.build import bulk

    calls = []

    def compute():
        calls.append(1)
        return -3.5

    cu, path = bulk("Cu", cubic=True), tmp_path / "t0_single_point.json"
    assert jobs.dft.kept_energy(path, cu, settings, {}, compute) == -3.5
    assert jobs.dft.kept_energy(path, cu, settings, {}, compute) == -3.5
    assert len(calls) == 1
    moved = cu.copy()
    moved.positions[0, 2] += 0.1
    jobs.dft.kept_energy(path, moved, settings, {}, compute)
    other = {**settings, "calculator": {**settings["calculator"], "name": "gpaw"}}
    jobs.dft.kept_energy(path, moved, other, {}, compute)
    assert len(calls) == 3
