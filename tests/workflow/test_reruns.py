"""Reruns of a finished EMT screen: a changed setting, sidecar or CIF reruns exactly the
jobs that depend on it and the tables carry the new values and settings hash; bad input
dropped into the finished screen becomes failed or flagged rows, recomputes nothing that
was finished, and the run says what failed."""

from __future__ import annotations

import math
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ase.build import bulk
from ase.io import write
from workflow_helpers import ROOT, planned, snakemake

pytestmark = pytest.mark.workflow

REFERENCES = {"check_candidate", "compute_atom", "compute_bulk", "select_termination"}
DFT = {"relax_clean_slab", "prescreen_sites", "relax_adsorbate", "scan_interface",
       "relax_interface", "compute_adhesion", "site_energies"}


@pytest.fixture
def finished(emt_local_run) -> Path:
    """The EMT screen (Al anode; Cu, Ag and a broken CIF as coatings), run to the end with
    :func:`_args` (each test works on a copy)."""
    assert emt_local_run.args == _args(emt_local_run.workdir)
    return emt_local_run.workdir


def _args(workdir: Path, *configfiles: str, config: tuple[str, ...] = ()) -> list[str]:
    # as emt_screen's, with more config files and values
    files = [str(workdir / f) for f in ("config/config.yaml", *configfiles)]
    return ["--configfile", *files, "--config", "structures_dir=structures", *config,
            "--cores", "2", "--keep-going"]


def _copy(finished: Path, tmp_path: Path) -> Path:
    workdir = tmp_path / "screen"
    shutil.copytree(finished, workdir, symlinks=True)
    return workdir


def _run(workdir: Path, *configfiles: str, config: tuple[str, ...] = (),
         check: bool = True) -> tuple[Counter, str, int]:
    """One run; the jobs it ran by rule, its output and exit code."""
    proc = snakemake(workdir, *_args(workdir, *configfiles, config=config), check=check)
    ran = Counter(rule for rule, _ in planned(proc) if rule != "all")
    return ran, proc.stdout + proc.stderr, proc.returncode


def _ranking(workdir: Path) -> pd.DataFrame:
    return pd.read_csv(workdir / "results/ranking/Al.csv").set_index("coating")


def _records(workdir: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in (workdir / "results/work").rglob("record.json")}


def test_nothing_to_do_on_a_finished_screen(finished, tmp_path):
    workdir = _copy(finished, tmp_path)
    proc = snakemake(workdir, *_args(workdir), "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr
    # settings that change no result (SCF retries, GPAW's parallelisation) rerun nothing
    (workdir / "unhashed.yaml").write_text(
        "presets:\n  emt:\n    calculator: {name: emt, scf_retries: 5, "
        "parallel: {sl_auto: true}}\n")
    proc = snakemake(workdir, *_args(workdir, "unhashed.yaml"), "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr, proc.stdout[-2000:]


def test_each_setting_change_reruns_exactly_the_jobs_that_read_it(finished, tmp_path):
    workdir = _copy(finished, tmp_path)
    before = _ranking(workdir)
    old_hash = before["settings_hash"].iloc[0]

    # 1. a DFT setting: everything downstream of the relaxations, no reference or facet
    (workdir / "fmax.yaml").write_text(
        "presets:\n  emt:\n    relax: {fmax_eV_A: 0.04, steps: 100}\n")
    ran, _, _ = _run(workdir, "fmax.yaml")
    assert DFT <= set(ran) and not REFERENCES & set(ran) and "find_sites" not in ran, ran
    after = _ranking(workdir)
    assert after["settings_hash"].nunique() == 1 and after["settings_hash"].iloc[0] != old_hash
    fmax_hash = after["settings_hash"].iloc[0]
    sites = pd.read_csv(workdir / "results/sites/Al.csv")
    assert set(sites["coating"]) == {"Ag", "Cu"}

    # 2. sites.max_sites: the site lists and the site stage, no clean slab, no interface
    (workdir / "sites.yaml").write_text("presets:\n  emt:\n    sites: {max_sites: 2}\n")
    ran, _, _ = _run(workdir, "fmax.yaml", "sites.yaml")
    assert {"find_sites", "prescreen_sites", "relax_adsorbate", "site_energies",
            "report_metal"} <= set(ran)
    assert not (REFERENCES | {"relax_clean_slab", "scan_interface", "relax_interface",
                              "compute_adhesion"}) & set(ran), ran
    sites = pd.read_csv(workdir / "results/sites/Al.csv")
    # two sites per surface, each relaxed freely and held on its site (site_energies)
    per_mode = sites.groupby(["coating", "miller", "termination", "site_energy_mode"]).size()
    assert per_mode.max() == 2 and per_mode.min() == 2
    assert _ranking(workdir)["settings_hash"].iloc[0] not in (old_hash, fmax_hash)
    settings = ("fmax.yaml", "sites.yaml")

    # 3. ranking.weights and 4. wetting.sigma_lv_J_m2: the tables only
    (workdir / "weights.yaml").write_text("ranking:\n  weights: {binding: 2.0, wetting: 0.5}\n")
    ran, _, _ = _run(workdir, *settings, "weights.yaml")
    assert set(ran) == {"report_metal", "collect_database", "report_html"}, ran
    ranking = _ranking(workdir)
    ok = ranking[ranking["status"] == "ok"]
    expected = (-2.0 * ok["dE_vs_baseline_eV"]
                + 0.5 * np.cos(np.radians(ok["theta_deg"])))
    assert np.allclose(ok["score"], expected, atol=1e-3)
    (workdir / "sigma.yaml").write_text("wetting:\n  sigma_lv_J_m2: {Al: 1.2}\n")
    ran, _, _ = _run(workdir, *settings, "weights.yaml", "sigma.yaml")
    assert set(ran) == {"report_metal", "collect_database", "report_html"}, ran
    ranking = _ranking(workdir)
    ok = ranking[ranking["status"] == "ok"]
    for row in ok.itertuples():  # Young-Dupre with the new sigma: W_ad = sigma (1 + cos)
        cos = min(1.0, row.W_ad_J_m2 / 1.2 - 1)
        assert row.theta_deg == pytest.approx(math.degrees(math.acos(cos)), abs=0.01)
    assert "sigma_lv = 1.2" in (workdir / "results/ranking/Al.md").read_text()

    # 5. a facet added to a sidecar: that facet's jobs only
    finished_records = _records(workdir)
    (workdir / "structures/coatings/Ag.yaml").write_text("miller: [[1, 0, 0], [1, 1, 1]]\n")
    proc = snakemake(workdir, *_args(workdir, *settings, "weights.yaml", "sigma.yaml"))
    jobs = planned(proc)
    facet_jobs = {w for r, w in jobs if r in REFERENCES | DFT | {"find_sites"}}
    assert facet_jobs and all("name=Ag" in w and "miller=111" in w for w in facet_jobs), jobs
    sites = pd.read_csv(workdir / "results/sites/Al.csv", dtype={"miller": str})
    assert {"100", "111"} <= set(sites.loc[sites["coating"] == "Ag", "miller"])
    assert all(p.stat().st_mtime_ns == t for p, t in finished_records.items())


def test_a_failed_candidate_whose_cif_is_fixed_is_computed_on_the_next_run(finished,
                                                                           tmp_path):
    workdir = _copy(finished, tmp_path)
    assert _ranking(workdir).loc["Broken", "status"].startswith("failed:")
    finished_records = _records(workdir)
    shutil.copy(ROOT / "structures/coatings/Au.cif", workdir / "structures/coatings/Broken.cif")
    ran, _, _ = _run(workdir)
    assert ran["check_candidate"] == 1 and not {"compute_atom", "compute_bulk"} & set(ran)
    ranking = _ranking(workdir)
    assert ranking.loc["Broken", "status"] == "ok" and pd.notna(ranking.loc["Broken", "rank"])
    changed = [p for p, t in finished_records.items() if p.stat().st_mtime_ns != t]
    assert all("Broken" in str(p) for p in changed), changed


def _molecule_in_a_box(path: Path) -> None:
    """A Cu2 molecule in a 40 A box (pymatgen's slab cut fails on it)."""
    from ase import Atoms

    write(path, Atoms("Cu2", positions=[(20, 20, 20), (20, 20, 22.2)], cell=[40, 40, 40],
                      pbc=True), format="cif")


def _large_cell(path: Path) -> None:
    """500 Cu atoms without symmetry (a rattled 5x5x5 supercell)."""
    atoms = bulk("Cu", cubic=True).repeat(5)
    atoms.rattle(0.05, seed=3)
    write(path, atoms, format="cif")


def test_bad_input_becomes_rows_and_recomputes_nothing_finished(finished, tmp_path):
    workdir = _copy(finished, tmp_path)
    finished_records = _records(workdir)
    good = _ranking(workdir)
    coatings = workdir / "structures/coatings"
    cu = (ROOT / "structures/coatings/Cu.cif").read_text()
    _molecule_in_a_box(coatings / "Molecule.cif")
    (coatings / "Zero.cif").write_text(cu)
    (coatings / "Zero.yaml").write_text("miller: [[0, 0, 0]]\n")
    (coatings / "Flat.cif").write_text(cu)
    (coatings / "Flat.yaml").write_text("miller: [1, 1, 1]\n")
    _large_cell(coatings / "Large.cif")
    (coatings / "Dangling.cif").symlink_to(tmp_path / "nowhere.cif")
    (coatings / "Upper.CIF").write_text(cu)
    (coatings / "Twice.cif").write_text(cu + "\n" + cu.replace("data_", "data_second_", 1))
    shutil.copy(ROOT / "structures/coatings/Al.cif", coatings / "Al.cif")  # the anode
    ran, out, code = _run(workdir, check=False)
    assert code == 0, out[-3000:]
    ranking = _ranking(workdir)
    reasons = {
        "Molecule": ["Molecule.cif", "select_termination failed", "IndexError"],
        "Zero": ["Zero.yaml", "key 'miller.0'", "no plane"],
        "Flat": ["Flat.yaml", "key 'miller.0'", "not of type 'array'"],
        "Large": ["Large.cif", "500 per primitive cell", "max_atoms=40"],
        "Dangling": ["Dangling.cif", "broken symbolic link"],
        "Twice": ["Twice.cif", "2 data blocks"],
    }
    for name, words in reasons.items():
        status = ranking.loc[name, "status"]
        assert status.startswith("failed:") and all(w in status for w in words), status
        assert pd.isna(ranking.loc[name, "rank"])
    assert ranking.loc["Upper", "status"] == "ok"  # .CIF is a CIF
    assert ranking.loc["Al", "status"].startswith("not ranked: Al is the anode metal")
    assert not any("name=Al," in w for r, w in planned_jobs(out) if r in DFT)
    # the good rows keep their numbers and ranks; nothing finished was computed again
    for name in ("Ag", "Cu"):
        assert ranking.loc[name, "score"] == pytest.approx(good.loc[name, "score"], abs=1e-6)
    assert all(p.stat().st_mtime_ns == t for p, t in finished_records.items())
    # the terminal says what failed, and strict turns failures into an exit code
    assert "philicity summary" in out and "failed: Molecule:" in out
    proc = snakemake(workdir, *_args(workdir, config=("strict=true",)), "--forcerun",
                     "report_metal", check=False)
    assert proc.returncode != 0 and "strict: a candidate failed" in proc.stdout + proc.stderr


def planned_jobs(out: str) -> set[tuple[str, str]]:
    class Proc:
        stdout, stderr = out, ""

    return planned(Proc)
