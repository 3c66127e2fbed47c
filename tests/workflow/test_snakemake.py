"""The Snakemake workflow: dry runs of the shipped screen and a real EMT run end to end."""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest
from workflow_helpers import ROOT, planned, snakemake

pytestmark = pytest.mark.workflow


def test_dry_run_lists_every_shipped_coating_for_both_metals(tmp_path):
    proc = snakemake(tmp_path, "-n", "--config", f"structures_dir={ROOT / 'structures'}")
    jobs = planned(proc)
    coatings = sorted(p.stem for p in (ROOT / "structures/coatings").glob("*.cif"))
    assert len(coatings) >= 18
    for name in coatings:
        assert ("check_candidate", f"kind=coatings, name={name}") in jobs, name
        assert any(r == "select_termination" and f"name={name}," in w for r, w in jobs), name
    for metal in ("Li", "Na"):
        assert ("compute_atom", f"metal={metal}") in jobs
        assert ("report_metal", f"metal={metal}") in jobs
        for miller in ("110", "100"):  # the baseline surfaces
            assert ("select_termination", f"kind=anodes, name={metal}, miller={miller}") in jobs
    assert not any("metal=K" in w for _, w in jobs)  # K only on request


def test_a_dropped_cif_adds_its_jobs(tmp_path):
    structures = tmp_path / "structures"
    shutil.copytree(ROOT / "structures", structures)
    shutil.copy(structures / "coatings/Ag.cif", structures / "coatings/MyAg.cif")
    proc = snakemake(tmp_path, "-n", "--config", f"structures_dir={structures}")
    jobs = planned(proc)
    assert ("check_candidate", "kind=coatings, name=MyAg") in jobs
    assert ("select_termination", "kind=coatings, name=MyAg, miller=001") in jobs


def test_a_dropped_compound_cif_enters_the_reaction_phases(tmp_path):
    """A compound CIF dropped into structures/compounds/ gets its bulk job and reaches
    the Li tables' reaction energies with no other edit."""
    structures = tmp_path / "structures"
    shutil.copytree(ROOT / "structures", structures)
    shutil.copy(structures / "compounds/LiSn.cif", structures / "compounds/MyLiSn.cif")
    proc = snakemake(tmp_path, "-n", "--config", f"structures_dir={structures}",
                     "anodes=[Li]", "coatings=[Sn,Cu]")
    jobs = planned(proc)
    assert ("compute_phase", "phase_kind=compounds, name=MyLiSn") in jobs
    assert ("compute_phase", "phase_kind=coatings, name=Sn") in jobs
    # the metal too, at the reaction k-mesh: not the slabs' bulk reference
    assert ("compute_phase", "phase_kind=anodes, name=Li") in jobs
    assert not any(r == "compute_phase" and "name=Cu" in w for r, w in jobs)  # no Li-Cu phase


def test_config_error_names_the_key_before_any_job(tmp_path):
    proc = snakemake(tmp_path, "-n", "--config", "anodes=Na", check=False)
    assert proc.returncode != 0
    assert "key 'anodes'" in proc.stdout + proc.stderr


def test_options_for_a_coating_without_a_cif_are_refused_before_any_job(tmp_path):
    (tmp_path / "typo.yaml").write_text("candidates: {Agg: {miller: [[1, 1, 1]]}}\n")
    proc = snakemake(tmp_path, "-n", "--configfile", str(tmp_path / "typo.yaml"),
                     "--config", f"structures_dir={ROOT / 'structures'}", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "key 'candidates': no CIF for 'Agg'" in out, out[-2000:]
    assert "typo.yaml" in out


def test_unknown_anode_is_refused_before_any_job(tmp_path):
    proc = snakemake(tmp_path, "-n", "--config", "anodes=[Xx]", check=False)
    assert proc.returncode != 0
    assert "no structure for 'Xx'" in proc.stdout + proc.stderr


def test_emt_screen_end_to_end_with_a_broken_cif(emt_local_run):
    """Al stands in for the anode and Cu, Ag for coatings (EMT knows them); a broken CIF
    fails its row only, and the rest of the screen completes."""
    tmp_path, args = emt_local_run.workdir, emt_local_run.args
    table = pd.read_csv(tmp_path / "results/sites/Al.csv")
    assert list(table.columns) == ["coating", "formula", "miller", "termination", "site",
                                   "site_kind", "E_b_atom_eV", "E_b_bulk_eV", "dft_stage",
                                   "ml_E_b_atom_eV", "flags", "polar_termination",
                                   "site_energy_mode", "height_A", "adatom_charge_e"]
    sites = table[table["site_energy_mode"] == "free"]  # the ones the ranking uses
    assert set(sites["coating"]) == {"Cu", "Ag"}
    # ml-then-dft: the ML model (EMT here) pre-relaxes every site, at most top_k per
    # surface get relaxed by the "DFT" calculator (EMT too), the others keep its single
    # point or are pruned
    relaxed = sites[sites["dft_stage"] == "dft_relaxed_from_ml"]
    assert relaxed.groupby("coating").size().le(2).all() and len(relaxed) >= 2
    assert set(sites["dft_stage"]) <= {"dft_relaxed_from_ml", "dft_single_point",
                                       "pruned_by_ml"}
    assert sites["ml_E_b_atom_eV"].notna().all()
    # the clean slabs' DFT ("EMT") relaxations start from the ML model's Hessian
    cleans = [json.loads(p.read_text()) for p in
              tmp_path.glob("results/work/clean/*/*/*/*/t*/record.json")]
    assert cleans and {c["initial_hessian"] for c in cleans} == {"ml"}
    assert set(sites["site_kind"]) == {"top_Cu", "top_Ag", "bridge", "hollow"}
    ranking = pd.read_csv(tmp_path / "results/ranking/Al.csv")
    assert ranking["coating"].tolist()[-1] == "Broken"
    broken = ranking.iloc[-1]
    assert broken["status"].startswith("failed:") and "Broken.cif" in broken["status"]
    ok = ranking[ranking["status"] == "ok"]
    assert len(ok) == 2 and ok["rank"].tolist() == [1, 2]
    assert ok["score"].is_monotonic_decreasing
    assert (ok["W_ad_J_m2"] > 0).all() and ok["theta_deg"].between(0, 180).all()
    ifaces = pd.read_csv(tmp_path / "results/interfaces/Al.csv")
    assert list(ifaces.columns[:12]) == [
        "coating", "metal_miller", "coating_miller", "area_A2", "n_atoms", "strain_pct",
        "registry", "W_ad_J_m2", "theta_deg", "wetting_regime", "E_strain_J_m2", "flags"]
    assert set(ifaces["coating"]) == {"Cu", "Ag"} and (ifaces["n_atoms"] <= 40).all()
    assert (ifaces["strain_pct"].abs() <= 6).all() and (ifaces["area_A2"] <= 60).all()
    assert (ok["best_site"].str.contains("hollow")).all()  # Ag/Cu(100): four-fold hollow
    assert (tmp_path / "results/ranking/Al.md").read_text().startswith("# Al")
    # every cut of every facet, which was chosen and why; a broken CIF is one failed row
    terms = pd.read_csv(tmp_path / "results/terminations/Ag.csv", dtype={"miller": str})
    assert terms["chosen"].tolist() == [True] and terms["why"].tolist() == ["the only cut"]
    assert not terms["polar"].any() and terms["top_face"].tolist() == ["Ag"]
    broken = pd.read_csv(tmp_path / "results/terminations/Broken.csv")
    assert len(broken) == 1 and broken["status"].iloc[0].startswith("failed:")
    assert (tmp_path / "results/calculations.db").stat().st_size > 0
    # the jobs that head a chain of DFT stages carry priorities (resources.priority),
    # the reports none
    log = max((tmp_path / ".snakemake/log").glob("*.snakemake.log")).read_text()
    blocks = re.findall(r"^(?:local)?(?:rule|checkpoint) (\w+):\n((?:    .*\n)+)", log,
                        flags=re.MULTILINE)
    priorities = {}
    for rule, body in blocks:
        found = re.search(r"^    priority: (\S+)$", body, flags=re.MULTILINE)
        priorities.setdefault(rule, set()).add(float(found[1]) if found else 0.0)
    assert min(priorities["relax_clean_slab"]) > 0 and min(priorities["scan_interface"]) > 0
    # the candidate checks and checkpoints, which reveal each coating's chains, go first
    chains = max(max(priorities[r]) for r in ("relax_clean_slab", "scan_interface"))
    for gate in ("check_candidate", "select_termination", "find_sites"):
        assert min(priorities[gate]) > chains, gate
    assert priorities["report_metal"] == {0.0}
    # nothing left to do, and a rerun keeps the finished results
    before = (tmp_path / "results/sites/Al.csv").stat().st_mtime
    proc = snakemake(tmp_path, *args, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr
    assert (tmp_path / "results/sites/Al.csv").stat().st_mtime == before
    # the other strategy reuses every shared job: references, terminations, clean slabs
    (tmp_path / "dft.yaml").write_text("strategy: dft\n")
    proc = snakemake(tmp_path, *args[:2], str(tmp_path / "dft.yaml"), *args[2:], "-n")
    rules = {r for r, _ in planned(proc)}
    assert "relax_adsorbate" in rules
    assert not rules & {"compute_atom", "compute_bulk", "select_termination",
                        "relax_clean_slab", "check_candidate", "prescreen_sites"}, rules


FIXTURE = ROOT / "tests" / "workflow" / "fixtures" / "emt_screen"


@pytest.mark.parametrize("table", ["ranking", "sites", "baseline", "interfaces", "reactions",
                                   "charges"])
def test_emt_screen_tables_equal_the_recorded_ones(emt_local_run, table):
    """Every number of the EMT demo screen's tables equals the recorded one (to the 4
    printed decimals): code reorganisations change no result. Recorded with
    ``snakemake --directory .test --cores 2`` (then results/{table}/Al.csv copied to
    fixtures/emt_screen/{table}-Al.csv); a deliberate change of results or settings
    records them again and says why in CHANGELOG.md."""
    ours = emt_local_run.workdir / "results" / table / "Al.csv"
    pd.testing.assert_frame_equal(pd.read_csv(ours),
                                  pd.read_csv(FIXTURE / f"{table}-Al.csv"),
                                  check_exact=False, rtol=0, atol=1.5e-4, obj=table)


def test_emt_screen_has_every_site_energy_with_the_adatom_held(emt_local_run):
    """The demo screen (site_energies: true): each coating's sites table has, besides the
    free relaxations the ranking uses, one laterally held row per symmetry-distinct site,
    each with an energy and a height, ontop named by the element beneath."""
    sites = pd.read_csv(emt_local_run.workdir / "results/sites/Al.csv")
    for coating, rows in sites.groupby("coating"):
        free = rows[rows["site_energy_mode"] == "free"]
        held = rows[rows["site_energy_mode"] == "lateral_fixed"]
        assert sorted(held["site"]) == sorted(free["site"]), coating
        assert held["E_b_atom_eV"].notna().all() and (held["height_A"] > 0.5).all()
        assert f"top_{coating}" in set(held["site_kind"])
        assert set(held["dft_stage"]) <= {"dft_relaxed", "dft_single_point"}
