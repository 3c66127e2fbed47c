"""The EMT screen on a real one-node SLURM cluster (scripts/slurm_local.sh) with the
shipped SLURM profile: every job goes through sbatch, and the results equal a local run's.

Skipped only when slurm cannot be installed here (no apt-get, not root), and never with
PHILICITY_REQUIRE_SLURM=1 (scripts/test.sh sets it). PHILICITY_SLURM_DIR picks the
cluster's folder (config, logs, jobcomp.txt), kept after the tests for inspection."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from workflow_helpers import ROOT, emt_screen, snakemake

pytestmark = pytest.mark.workflow
SCRIPT = ROOT / "scripts" / "slurm_local.sh"
PROFILE = ROOT / "workflow" / "profiles" / "slurm"


@pytest.fixture(scope="module")
def slurm_cluster() -> Iterator[Path]:
    """Start (installing if needed) the one-node cluster; its folder, stopped after."""
    given = os.environ.get("PHILICITY_SLURM_DIR")
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="philicity-slurm-"))
    proc = subprocess.run(["bash", str(SCRIPT), "start", str(folder)], capture_output=True,
                          text=True, timeout=900)
    if proc.returncode == 3 and os.environ.get("PHILICITY_REQUIRE_SLURM") != "1":
        pytest.skip(f"no SLURM here: {proc.stderr.strip()}")
    if proc.returncode != 0:
        pytest.fail(f"slurm_local.sh start failed:\n{proc.stdout}\n{proc.stderr}")
    try:
        yield folder
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(folder)], capture_output=True,
                       timeout=120)
        if not given:
            shutil.rmtree(folder, ignore_errors=True)


def finished_jobs(jobcomp: Path, run_id: str) -> dict[str, str]:
    """SLURM job id -> final state of the jobs named ``run_id`` in a jobcomp/filetxt log."""
    jobs = {}
    for line in jobcomp.read_text().splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if fields.get("Name") == run_id:
            jobs[fields["JobId"]] = fields["JobState"]
    return jobs


def read_table(workdir: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(workdir / "results" / table)


def test_emt_screen_on_slurm_equals_the_local_run(tmp_path, slurm_cluster, emt_local_run):
    args = emt_screen(tmp_path)
    start = time.monotonic()
    # no slurmdbd on the test cluster: squeue polls (MinJobAge 600 s), quickly
    proc = snakemake(
        tmp_path, "--profile", str(PROFILE), *args,
        "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1",
        "--seconds-between-status-checks", "1",
        env={"SLURM_CONF": str(slurm_cluster / "slurm.conf")}, timeout=600)
    elapsed = time.monotonic() - start
    out = proc.stdout + proc.stderr
    run_id = re.search(r"SLURM run ID: (\S+)", out).group(1)
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", out)
    done = re.search(r"(\d+) of (\d+) steps \(100%\) done", out)
    assert done, out[-3000:]
    # every job went through sbatch, once, and completed, but the local ones: the target
    # rule 'all', the gather rules, which only list the paths of finished records, and the
    # terminations tables
    local = re.findall(r"^localrule (\w+):", out, flags=re.MULTILINE)
    assert set(local) == {"all", "gather_sites", "gather_interfaces",
                          "report_terminations"}, set(local)
    assert len(submitted) == int(done.group(2)) - len(local) == len(set(submitted))
    states = finished_jobs(slurm_cluster / "jobcomp.txt", run_id)
    assert states == dict.fromkeys(submitted, "COMPLETED")
    print(f"\nslurm: {len(submitted)} sbatch jobs ({min(submitted, key=int)}.."
          f"{max(submitted, key=int)}) of run {run_id} completed in {elapsed:.0f} s")
    # the same tables as the local executor's, to the last printed digit (4 decimals)
    for table in ("ranking/Al.csv", "sites/Al.csv", "interfaces/Al.csv"):
        pd.testing.assert_frame_equal(read_table(tmp_path, table),
                                      read_table(emt_local_run.workdir, table),
                                      check_exact=False, rtol=0, atol=1.5e-4, obj=table)
