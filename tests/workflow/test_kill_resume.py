"""A screen killed in the middle of a relaxation (SIGKILL to Snakemake and its jobs, as a
scheduler's time limit or a power cut does) resumes from the relaxation's checkpoint when
rerun, and ends with the same numbers as a run that was never killed. Bad input dropped
into the finished screen then fails its own rows only and rewrites no finished record; a
coating without a lattice match to the anode is ranked without an interface."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from ase.io import read
from workflow_helpers import ROOT, emt_screen, snakemake, snakemake_command

pytestmark = pytest.mark.workflow

# Loaded by every Python process of the run (PYTHONPATH): EMT made slow enough that the
# test can kill the screen while an adsorbate relaxation is half done. The pipeline's
# code is untouched.
SLOW_EMT = """
import os, time
from ase.calculators import emt

_calculate = emt.EMT.calculate

def calculate(self, *args, **kwargs):
    time.sleep(float(os.environ["SLOW_EMT_S"]))
    return _calculate(self, *args, **kwargs)

emt.EMT.calculate = calculate
"""


def _half_done_relaxations(results: Path, min_frames: int) -> list[Path]:
    found = []
    for traj in results.glob("checkpoints/adsorption/*/*/*/*/t*/Al/*.traj"):
        try:
            if len(read(traj, ":")) >= min_frames:
                found.append(traj)
        except Exception:  # being written
            continue
    return found


def assert_same_numbers(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """Energies (eV, J/m^2) to 2e-3. theta_deg to 0.5 deg: the kill also cuts the other
    running job, often an interface relaxation, whose resumed BFGS ends elsewhere inside
    fmax; near theta = 45 deg a 1e-4 J/m^2 change in W_ad moves theta by 0.02 deg."""
    # the numeric columns of ours (a text column with no entry reads as numbers)
    ours = ours.select_dtypes("number")
    theirs = theirs[ours.columns]
    angles = ours.columns.intersection(["theta_deg"])
    pd.testing.assert_frame_equal(ours.drop(columns=angles), theirs.drop(columns=angles),
                                  atol=2e-3, rtol=0)
    pd.testing.assert_frame_equal(ours[angles], theirs[angles], atol=0.5, rtol=0)


def test_killed_screen_resumes_then_bad_input_spares_finished_work(tmp_path):
    # strategy dft: every site relaxed by the "DFT" calculator from its placement, a
    # relaxation of several steps to kill (the demo's ML model is EMT too, from whose
    # geometries EMT has nothing left to relax); the reference is the same screen, run
    # without a kill
    reference = tmp_path / "reference"
    reference.mkdir()
    snakemake(reference, *emt_screen(reference), "strategy=dft", "--cores", "2")
    screen = tmp_path / "screen"
    screen.mkdir()
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text(SLOW_EMT)
    tmp_path = screen
    args = [*emt_screen(tmp_path), "strategy=dft", "--cores", "2"]
    env = {**os.environ, "PYTHONPATH": str(slow), "SLOW_EMT_S": "0.2"}
    proc = subprocess.Popen(snakemake_command(tmp_path, *args), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    results = tmp_path / "results"
    deadline = time.monotonic() + 600
    try:
        while not (half := _half_done_relaxations(results, 3)):
            assert proc.poll() is None, "the screen ended before it could be killed"
            assert time.monotonic() < deadline, "no relaxation reached 3 steps in 10 min"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    killed = half[0]
    frames_at_kill = len(read(killed, ":"))
    rel = killed.relative_to(results / "checkpoints")  # adsorption/{hash}/.../{site}.traj
    record = results / "work" / rel.parent / rel.stem / "record.json"
    assert not record.exists(), "a killed relaxation must not leave a record"

    snakemake(tmp_path, "--unlock", *args)
    snakemake(tmp_path, *args, "--rerun-incomplete")
    rec = json.loads(record.read_text())
    assert rec["status"] == "ok" and rec["relax_converged"]
    assert rec["resumed_steps"] >= frames_at_kill - 1 >= 2
    unkilled = json.loads((reference / record.relative_to(tmp_path)).read_text())
    assert rec["energy_eV"] == pytest.approx(unkilled["energy_eV"], abs=2e-3)
    assert rec["steps"] - rec["resumed_steps"] < unkilled["steps"]
    for table in ("ranking/Al.csv", "sites/Al.csv"):
        ours = pd.read_csv(results / table)
        theirs = pd.read_csv(reference / "results" / table)
        assert_same_numbers(ours, theirs)

    # Bad input dropped into the finished screen: each gets a failed row naming its file
    # and reason; no finished record is rewritten and the good rows keep their numbers.
    finished = {p: p.stat().st_mtime_ns for p in results.glob("work/**/record.json")}
    coatings = tmp_path / "structures" / "coatings"
    cu = (ROOT / "structures/coatings/Cu.cif").read_text()
    (coatings / "Mixed.cif").write_text(cu.replace("0.00000000  1\n", "0.00000000  0.5\n"))
    (coatings / "Zn.cif").write_text((ROOT / "structures/coatings/Zn.cif").read_text())
    (coatings / "Steep.cif").write_text(cu)
    (coatings / "Steep.yaml").write_text("miller: [[5, 3, 1]]\n")
    # and a good coating whose facet has no lattice match with Al(100) within the bounds
    (coatings / "Cu111.cif").write_text(cu)
    (coatings / "Cu111.yaml").write_text("miller: [[1, 1, 1]]\n")
    snakemake(tmp_path, *args)
    assert {p: p.stat().st_mtime_ns for p in finished} == finished
    ranking = pd.read_csv(results / "ranking/Al.csv").set_index("coating")
    reasons = {
        "Mixed": ["Mixed.cif", "disorder"],
        "Zn": ["Zn.cif", "Zn"],  # EMT has no parameters for Zn (GPAW: no PAW setup)
        "Steep": ["Steep.cif", "(531)", "max_atoms=40"],
    }
    for name, words in reasons.items():
        status = ranking.loc[name, "status"]
        assert status.startswith("failed:") and all(w in status for w in words), status
    # no interface is a status, not a failure: ranked on its binding energy alone
    status = ranking.loc["Cu111", "status"]
    assert status.startswith("ok, no usable interface: no_match:"), status
    assert "no coincidence cell" in status and pd.notna(ranking.loc["Cu111", "rank"])
    ok = ranking[ranking["status"] == "ok"].select_dtypes("number")
    before = pd.read_csv(reference / "results/ranking/Al.csv").set_index("coating")
    assert_same_numbers(ok, before.loc[ok.index])
