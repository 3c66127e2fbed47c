"""``philicity status`` on the EMT demo screen: the failed candidate with its reason, a
running relaxation (faked as Snakemake marks it) with its progress, the partial tables;
and the log of every finished job found where Snakemake recorded it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from philicity import cli, progress
from philicity.relax import progress_line

pytestmark = pytest.mark.workflow


def _metadata(workdir: Path) -> dict[str, dict]:
    """Snakemake's record of every finished job's output (rule, log ...), by output path:
    files under .snakemake/metadata named as the incomplete markers are."""
    root = workdir / ".snakemake" / "metadata"
    return {progress.decode_marker(p.relative_to(root)): json.loads(p.read_text())
            for p in sorted(root.rglob("*")) if p.is_file()}


def _mark_incomplete(workdir: Path, output: str) -> None:
    """The incomplete marker Snakemake (file persistence) writes when a job starts."""
    from snakemake.persistence.file import FilePersistence

    root = workdir / ".snakemake" / "incomplete"
    root.mkdir(parents=True, exist_ok=True)
    persistence = FilePersistence.__new__(FilePersistence)  # only its path encoding
    persistence._max_len = None
    marker = Path(persistence._record_path(str(root), output))
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"external_jobid": None}))


def test_cli_status_finds_the_log_snakemake_recorded_for_every_job(emt_local_run):
    workdir = emt_local_run.workdir
    results = workdir / "results"
    logs = progress.log_files(results)
    checked = set()
    for output, rec in _metadata(workdir).items():
        if not rec.get("log"):  # local gather rules have none
            continue
        # started long ago: the rule's name and the path's words alone decide
        found = progress.find_log(workdir / output, 0.0, results, logs)
        assert found is not None and found.path == workdir / rec["log"][0], (output, found)
        checked.add(rec["rule"])
    # the rules whose jobs share their wildcards are told apart
    assert {"relax_adsorbate", "prescreen_sites", "site_energies", "scan_interface",
            "relax_interface", "compute_adhesion", "relax_clean_slab"} <= checked


def test_cli_status_reports_failed_and_running_jobs(emt_local_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(emt_local_run.workdir / "results", run / "results")
    shutil.copytree(emt_local_run.workdir / "config", run / "config")
    meta = _metadata(emt_local_run.workdir)
    # a coating's adatom relaxation (a DFT job in a real screen), running at step 2
    output, rec = next((o, r) for o, r in meta.items()
                       if r.get("rule") == "relax_adsorbate" and "/coatings/" in o)
    (run / output).unlink()  # Snakemake removes a job's output before it runs it
    _mark_incomplete(run, output)
    (run / ".snakemake" / "locks").mkdir(parents=True)
    (run / ".snakemake" / "locks" / "0.output.lock").write_text(output + "\n")
    log = run / rec["log"][0]
    log.write_text(progress_line(1, 60, -212.5, 0.3112, 14, 40.2) + "\n"
                   + progress_line(2, 60, -212.716055, 0.0421, 12, 41.3) + "\n")

    out = CliRunner().invoke(cli.main, ["status", "--directory", str(run)])
    assert out.exit_code == 0, out.output
    text = out.output
    assert ", 1 running" in text and " failed, " in text
    failed = text.split("failed:\n", 1)[1].split("running:\n")[0]
    assert "candidate work/candidates/" in failed and "Broken.cif: not a readable CIF" in failed
    running = text.split("running:\n", 1)[1]
    assert f"relax_adsorbate: {output} [running, started" in running
    assert "step 2 of at most 60, last fmax 0.0421 eV/A, last step 41.3 s" in running
    assert f"log {log}" in running

    # what has finished so far, marked partial (the relaxation's site is missing)
    sites = pd.read_csv(run / "results/partial/sites/Al.csv")
    ranked = pd.read_csv(run / "results/partial/ranking/Al.csv")
    for table in (sites, ranked):
        assert list(table.columns)[0] == "partial" and table["partial"].all()
        assert table["partial_note"].str.startswith("partial: written by philicity status").all()
    site_rec = json.loads((emt_local_run.workdir / output).read_text())
    assert site_rec["site"] not in set(sites.loc[sites["coating"] == site_rec["name"]]
                                       .query("site_energy_mode == 'free'")["site"])
    assert sites["E_b_atom_eV"].notna().any()  # the references are there: E_b computed
    assert set(ranked["coating"]) >= {"Ag", "Cu", "Broken"}
    broken = ranked.set_index("coating").loc["Broken", "status"]
    assert broken.startswith("failed: ") and "not a readable CIF" in broken
    assert f"partial tables Al: {run / 'results/partial/sites/Al.csv'}" in text
