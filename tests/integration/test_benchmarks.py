"""The benchmark scripts run end to end (EMT stands in for GPAW; the numbers are the
scripts' business, these tests check that they run and print what they promise)."""

from __future__ import annotations

import csv
import gzip
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import convergence  # noqa: E402
import fast_path  # noqa: E402
import interfaces  # noqa: E402
import scf_criterion  # noqa: E402
import screen_cost  # noqa: E402


def test_fast_path_prints_the_promised_last_line(tmp_path, capsys):
    fast_path.main(["--calculator", "emt", "--ml", "emt", "--metal", "Au", "--systems",
                    "Al,Cu", "--workdir", str(tmp_path)])
    out = capsys.readouterr().out.strip().splitlines()
    last = re.fullmatch(r"speedup_scf=\S+ best_site_agreement=1\.00 max_abs_dE_eV=(\S+)",
                        out[-1])
    # the two strategies stop BFGS (fmax 0.05) at slightly different points of the surface
    assert last and float(last[1]) <= 0.005, out[-1]
    assert sum(line.startswith("| ml-then-dft | hollow") for line in out) == 2


def test_convergence_table_has_a_row_per_value(capsys):
    convergence.main(["--calculator", "emt", "--metal", "Au", "--height", "2.0",
                      "--only", "vacuum_A"])
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| vacuum_A")]
    assert len(rows) == 3
    cells = [[c.strip() for c in r.split("|")] for r in rows]
    e_b = [float(c[4]) for c in cells]
    assert all(-5 < e < 0 for e in e_b) and cells[0][5] == "+0.000"
    # W_ad of Au(100) on Al(100) (EMT): positive, and the vacuum moves it little
    w_ad = [float(c[7]) for c in cells]
    assert all(0.1 < w < 5 for w in w_ad) and cells[0][8] == "+0.000"
    assert max(w_ad) - min(w_ad) < 0.05


def test_convergence_values_override_one_block_and_show_the_mesh(capsys):
    convergence.main(["--calculator", "emt", "--metal", "Au", "--height", "2.0",
                      "--only", "kpt_density", "--values", "2,6"])
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| kpt_density")]
    # Al(100) 2x2 cell, a = 5.73 A: 2/A^-1 -> ceil(2 * 2 pi / 5.73) = 3, 6/A^-1 -> 7
    assert [r.split("|")[2].strip() for r in rows] == ["2.0 (3x3x1)", "6.0 (7x7x1)"]
    with pytest.raises(SystemExit):
        convergence.main(["--values", "2,6"])


def test_interfaces_benchmark_prints_the_promised_last_line(tmp_path, capsys):
    """Both interface paths on Ag(100) film / Al(100), EMT as "DFT" and as the ML model:
    the same minima, so the same W_ad and regime (EMT has no SCF: the ratio is nan)."""
    interfaces.main(["--metal", "Ag", "--coatings", "Al:100", "--calculator", "emt",
                     "--ml", "emt", "--sigma-lv", "0.9", "--workdir", str(tmp_path / "w"),
                     "--csv", str(tmp_path / "interfaces.csv")])
    out = capsys.readouterr().out.strip().splitlines()
    last = re.fullmatch(r"interface_speedup_scf=nan regime_agreement=1\.00 "
                        r"max_abs_dW_J_m2=(\S+)", out[-1])
    assert last and float(last[1]) <= 0.005, out[-1]
    rows = (tmp_path / "interfaces.csv").read_text().splitlines()
    assert len(rows) == 3 and "dft_at_ml" in rows[2]


def _job(stamp: str, rule: str, jobid: int, inputs: str, outputs: str) -> str:
    return (f"[{stamp}]\nrule {rule}:\n    input: {inputs}\n    output: {outputs}\n"
            f"    jobid: {jobid}\n    resources: tmpdir=/tmp\n")


# a bulk (10:00-10:10) and a clean slab from it (10:10-10:15), finished on one core
BULK_AND_SLAB = (
    "Provided cores: 1\n"
    + _job("Fri Nov 27 10:00:00 2026", "compute_bulk", 1, "Na.cif", "bulk.json")
    + "[Fri Nov 27 10:10:00 2026]\nFinished jobid: 1 (Rule: compute_bulk)\n"
    + _job("Fri Nov 27 10:10:00 2026", "relax_clean_slab", 2, "bulk.json", "c1.json")
    + "[Fri Nov 27 10:15:00 2026]\nFinished jobid: 2 (Rule: relax_clean_slab)\n")


def test_screen_cost_replays_a_log_on_n_cores_by_hand(tmp_path, capsys):
    """A bulk (600 s) feeds two clean slabs (300 s each) that feed the tables (60 s), run
    on 1 core: 1260 s measured. On 2 cores the slabs overlap: 960 s; with the DFT jobs on
    2 ranks each (2^0.6 = 1.516 times faster, one at a time): 396 + 198 + 198 + 60 s."""
    log = tmp_path / "run.snakemake.log"
    log.write_text(
        BULK_AND_SLAB
        + _job("Fri Nov 27 10:15:00 2026", "relax_clean_slab", 3, "bulk.json", "c2.json")
        + "[Fri Nov 27 10:20:00 2026]\nFinished jobid: 3 (Rule: relax_clean_slab)\n"
        + _job("Fri Nov 27 10:20:00 2026", "report_metal", 4, "c1.json, c2.json", "r.csv")
        + "[Fri Nov 27 10:21:00 2026]\nFinished jobid: 4 (Rule: report_metal)\n")
    jobs = screen_cost.read_jobs(log)
    assert screen_cost.dependencies(jobs) == {1: set(), 2: {1}, 3: {1}, 4: {2, 3}}
    assert screen_cost.simulate(jobs, 1) == pytest.approx(1260)
    assert screen_cost.simulate(jobs, 2) == pytest.approx(960)
    assert screen_cost.simulate(jobs, 2, tasks=2) == pytest.approx(
        (600 + 300 + 300) / 2 ** 0.6 + 60)
    screen_cost.main(["--log", str(log), "--cores", "2", "64"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == "measured_wall_s=1260 projected_wall_s=1260 ratio=1.00"
    kept = tmp_path / "kept.snakemake.log.gz"  # as a log is kept under docs/
    kept.write_bytes(gzip.compress(log.read_bytes()))
    screen_cost.main(["--log", str(kept), "--cores", "2", "--workdir", str(tmp_path)])
    assert capsys.readouterr().out.strip().splitlines()[-1] == last


def test_screen_cost_adds_up_the_parts_of_a_screen_run_one_after_another(tmp_path,
                                                                          capsys):
    """A screen stopped after its bulk (600 s) and continued the next day with the clean
    slab (300 s; jobids restart at 1): 900 s measured, and replayed as one DAG (the slab
    waits for the bulk of the first part)."""
    first, second = tmp_path / "1.snakemake.log", tmp_path / "2.snakemake.log"
    first.write_text(BULK_AND_SLAB.split("[Fri Nov 27 10:10:00 2026]\nrule")[0])
    second.write_text(
        "Provided cores: 1\n"
        + _job("Sat Nov 28 09:00:00 2026", "relax_clean_slab", 1, "bulk.json", "c1.json")
        + "[Sat Nov 28 09:05:00 2026]\nFinished jobid: 1 (Rule: relax_clean_slab)\n")
    screen_cost.main(["--log", str(first), str(second), "--cores", "1", "2"])
    out = capsys.readouterr().out
    assert "2 finished jobs on 1 cores, measured 15.0 min" in out
    assert out.strip().splitlines()[-1] == (
        "measured_wall_s=900 projected_wall_s=900 ratio=1.00")


def test_screen_cost_projects_a_partial_run_with_its_dry_run(tmp_path, capsys):
    """A partial run: the bulk (600 s) and one clean slab (300 s) finished. The dry run
    after it lists the second clean slab, the tables (a rule with no finished job: 1 s)
    and a checkpoint. The second slab's estimate is calibrated on the first (same size,
    so 300 s); the tables take 1 s. Whole screen on 1 core: 600 + 300, then 300 + 1 + 1 s;
    on 2 cores the pending checkpoint runs beside the slab: 600 + 300, then 300 + 1."""
    log = tmp_path / "run.snakemake.log"
    log.write_text(BULK_AND_SLAB)
    dry = tmp_path / "dry_run.txt"
    dry.write_text(
        _job("Fri Nov 27 11:00:00 2026", "relax_clean_slab", 1, "bulk.json", "c2.json")
        + _job("Fri Nov 27 11:00:00 2026", "report_metal", 2, "c1.json, c2.json", "r.csv")
        + _job("Fri Nov 27 11:00:00 2026", "find_sites", 3, "bulk.json", "s.json")
        .replace("rule find_sites", "checkpoint find_sites"))
    done = screen_cost.read_jobs(log)
    pending = screen_cost.parse_log(dry.read_text(), finished=False)
    assert [j.checkpoint for j in pending] == [False, False, True]
    _, settings = screen_cost.cfg.load(Path(screen_cost.__file__).parents[1]
                                       / "config/config.yaml", "fast")
    more, scale = screen_cost.estimate_pending(pending, done, tmp_path, settings)
    assert [j.seconds for j in more] == pytest.approx([300.0, 1.0, 1.0])
    assert scale["relax_clean_slab"] > 0
    whole = screen_cost.project_whole(done, pending, tmp_path, settings, [1, 2], 1)
    assert whole == pytest.approx({1: 1202.0, 2: 1201.0})
    table = tmp_path / "cost.csv"
    screen_cost.main(["--log", str(log), "--cores", "2", "--pending", str(dry),
                      "--csv", str(table)])
    out = capsys.readouterr().out
    assert "1 pending checkpoints" in out and "| 2 | 20.0 |" in out
    rows = list(csv.DictReader(table.open()))
    assert [(r["what"], r["name"], r["core_min"], r["cores"], r["wall_min"]) for r in rows] == [
        ("measured", "all", "15.0", "1", "15.0"),
        ("rule", "compute_bulk", "10.0", "", ""),
        ("rule", "relax_clean_slab", "5.0", "", ""),
        ("replay", "tasks=1", "", "2", "15.0"),
        ("whole (lower bound)", "tasks=1", "", "2", "20.0")]
    assert rows[0]["version"] and rows[0]["version"] == rows[-1]["version"]
    # cut at 0.7 of the finished run (10:10:30): the slab projected from the bulk alone
    # (no finished slab to calibrate on: the bulk's ratio): still one slab after the bulk
    screen_cost.main(["--log", str(log), "--cores", "1", "--cut", "0.7"])
    out = capsys.readouterr().out
    assert "1 jobs finished" in out and "| 1 | " in out.split("cut at 0.70")[1]


def test_screen_cost_schedules_by_priority_or_by_the_longest_path():
    """Two cores; a chain A (10 s) -> B (10 s) and two single jobs C, D (12 s each).
    Longest path first: A and C at 0, D at 10 (12 s left on its path > B's 10), B at 12:
    22 s. C and D first (priority 1): A at 12, B at 22: 32 s. The chain first (priority
    2): A and C at 0, B at 10, D at 12: 24 s."""
    jobs = [screen_cost.Job(1, "a", 0.0, 10.0, outputs=["a"]),
            screen_cost.Job(2, "b", 0.0, 10.0, inputs=["a"]),
            screen_cost.Job(3, "c", 0.0, 12.0), screen_cost.Job(4, "d", 0.0, 12.0)]
    assert screen_cost.simulate(jobs, 2) == pytest.approx(22)
    assert screen_cost.simulate(jobs, 2, priority={3: 1, 4: 1}) == pytest.approx(32)
    assert screen_cost.simulate(jobs, 2, priority={1: 2, 2: 2}) == pytest.approx(24)


def test_validation_compares_kept_case_tables_and_prints_the_promised_last_line(tmp_path,
                                                                                capsys):
    """validation.py --collect on hand-made case tables: W_ad 0.45 (Pb), 0.10 (graphite),
    0.20 (Na2CO3) against 0.44, 0.08, 0.12 keep the published order and, with sigma
    0.2523 J/m^2, the regimes (theta 41, 124, 102 degrees against 42, 133, 122); E_b -2.50
    (Ag) and -2.30 (Zn) against -2.44 and -2.40 keep the order; NZSP is not run. The E_b
    cases ran in a second folder (``--workdir A B``) and are read from there."""
    import validation

    def case(name, ranking_rows, interface_rows=None, workdir=tmp_path):
        folder = workdir / "cases" / name
        folder.mkdir(parents=True)
        (folder / "ranking.csv").write_text(
            "coating,miller,best_site,E_b_atom_eV,settings_hash,status\n" + ranking_rows)
        if interface_rows:
            (folder / "interfaces.csv").write_text(
                "coating,W_ad_J_m2,W_sep_J_m2,n_atoms,strain_pct,interface_stage,status\n"
                + interface_rows)
        (folder / "run.json").write_text('{"version": "0.1.0 (abc)", "preset": "fast", '
                                         '"dispersion": "none", "exit_code": 0}')

    for coating, w in (("Pb", 0.45), ("graphite", 0.10), ("Na2CO3", 0.20)):
        case(f"W_ad_{coating}", f"{coating},001,t0-hollow0,-1.0,h1,ok\n",
             f"{coating},{w},{w},40,1.0,dft_at_ml,ok\n{coating},0.01,0.01,40,1.0,"
             "dft_at_ml,failed: SCF\n")
    case("E_b_Ag", "Ag,100,t0-hollow0,-2.50,h2,ok\n", workdir=tmp_path / "side")
    case("E_b_Zn", "Zn,101,t0-hollow0,-2.30,h2,ok\n", workdir=tmp_path / "side")
    # the reaction case: Li + graphite -> LiC6 at -0.25 eV per Li against -0.11
    folder = tmp_path / "cases" / "E_react_Li+graphite"
    folder.mkdir(parents=True)
    (folder / "reaction.json").write_text(
        '{"E_react_eV_per_M": -0.25, "products": "LiC6", "status": "ok", '
        '"settings_hash": "h3", "core_s": 360.0}')
    (folder / "run.json").write_text('{"version": "0.1.0 (abc)", "preset": "fast", '
                                     '"dispersion": "none", "exit_code": 0}')
    validation.main(["--collect", "--workdir", str(tmp_path), str(tmp_path / "side"), "--csv",
                     str(tmp_path / "v.csv"), "--md", str(tmp_path / "v.md")])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == ("validation cases=5 order_agree=5/5 regime_agree=3/3 "
                    "max_abs_dW_J_m2=0.080 max_abs_dE_eV=0.100 reaction_sign_agree=1/1")
    import pandas as pd

    table = pd.read_csv(tmp_path / "v.csv").set_index("case")
    assert {"case", "quantity", "metal", "coating", "published", "ours", "unit",
            "order_agrees", "regime_agrees", "settings_hash", "version",
            "cost_core_h"} <= set(table.reset_index().columns)
    assert table.loc["W_ad:Na3Zr2Si2PO12", "status"].startswith("not run: no CIF")
    assert table.loc["W_ad:Na2CO3", "theta_deg"] == pytest.approx(101.96, abs=0.01)
    assert table.loc["E_b:Ag", "version"] == "0.1.0 (abc)"
    react = table.loc["E_react:Li+graphite"]
    assert react["ours"] == -0.25 and react["difference"] == pytest.approx(-0.14)
    assert react["cost_core_h"] == pytest.approx(0.1) and "LiC6" in react["status"]
    md = (tmp_path / "v.md").read_text()
    assert md.count(validation.MARK) == 2 and "| W_ad:Pb (J/m^2) | 0.44 | 0.450 |" in md
    # the E_b cases' folder is gone: their rows stay, from the table written before,
    # naming the version that produced them; a rerun of Pb elsewhere replaces Pb's row
    import shutil

    shutil.rmtree(tmp_path / "side")
    (tmp_path / "cases" / "W_ad_Pb" / "run.json").write_text(
        '{"version": "0.2.0 (def)", "preset": "fast", "dispersion": "none", "exit_code": 0}')
    validation.main(["--collect", "--workdir", str(tmp_path), "--csv",
                     str(tmp_path / "v.csv"), "--md", str(tmp_path / "v.md")])
    assert capsys.readouterr().out.strip().splitlines()[-1] == last
    again = pd.read_csv(tmp_path / "v.csv").set_index("case")
    assert again.loc["E_b:Ag", "ours"] == -2.5 and again.loc["E_b:Ag", "version"] == "0.1.0 (abc)"
    assert again.loc["W_ad:Pb", "version"] == "0.2.0 (def)"
    # rows of another preset are not carried over
    validation.main(["--collect", "--preset", "production", "--workdir", str(tmp_path / "x"),
                     "--csv", str(tmp_path / "v.csv"), "--md", str(tmp_path / "v.md")])
    assert "validation cases=0 " in capsys.readouterr().out.strip().splitlines()[-1]


def test_job_startup_finds_every_rules_job_function():
    """The start-up benchmark measures the job of every rule; each one resolves."""
    import job_startup

    from philicity.launch import job_function

    targets = job_startup.job_targets()
    assert "philicity.jobs.adsorption:site_energies" in targets and len(targets) >= 15
    assert all(callable(job_function(t)) for t in targets)


def test_dispersion_shift_of_a_site_is_the_d3_difference(tmp_path, capsys):
    """dispersion_shift.py on a hand-made results tree: the first-order D3 shift of E_b is
    D3(slab + adatom) - D3(clean slab) (the isolated atom has none)."""
    import json

    import dispersion_shift
    from ase.build import add_adsorbate, fcc100
    from ase.io import write

    clean = fcc100("Ag", (2, 2, 3), vacuum=6.0)
    with_na = clean.copy()
    add_adsorbate(with_na, "Na", 2.4, "hollow")
    site = tmp_path / "work/adsorption/h/coatings/Ag/100/t0/Na/ml-x/hollow0"
    slab = tmp_path / "work/clean/h/coatings/Ag/100/t0"
    for folder, atoms, rec in (
            (site, with_na, {"kind": "adsorbate", "status": "ok", "energy_eV": -1.0,
                             "name": "Ag", "miller": "100", "termination": 0,
                             "metal": "Na", "site": "t0-hollow0"}),
            (slab, clean, {"kind": "clean_slab", "status": "ok"})):
        folder.mkdir(parents=True)
        write(folder / "final.extxyz", atoms)
        (folder / "record.json").write_text(json.dumps({**rec, "structure": "final.extxyz"}))
    dispersion_shift.main(["--results", str(tmp_path)])
    expected = dispersion_shift.d3_energy(with_na) - dispersion_shift.d3_energy(clean)
    assert expected < -0.05  # the adatom's dispersion attraction to the slab
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == (f"dispersion_shift sites=1 interfaces=0 "
                    f"max_abs_dEb_eV={abs(expected):.3f} max_abs_dW_J_m2=0.000")


def test_bench_common_reads_the_lowest_finished_site_per_surface(tmp_path):
    """The benchmarks' reader of a finished screen: held and failed sites are skipped, and
    ``best_only`` keeps the lowest-energy site per surface and metal with its clean slab."""
    import json

    import bench_common
    from ase.build import fcc100
    from ase.io import write

    atoms = fcc100("Ag", (1, 1, 2), vacuum=5.0)
    work = tmp_path / "work"
    base = {"kind": "adsorbate", "name": "Ag", "miller": "100", "termination": 0,
            "metal": "Na", "structure": "final.extxyz"}
    sites = {"hollow0": {"status": "ok", "energy_eV": -3.0},
             "bridge0": {"status": "ok", "energy_eV": -2.5},
             "ontop0": {"status": "ok", "energy_eV": -4.0, "site_energy_mode": "held"},
             "top1": {"status": "failed", "energy_eV": None}}
    for name, rec in sites.items():
        folder = work / f"adsorption/h/coatings/Ag/100/t0/Na/ml-x/{name}"
        folder.mkdir(parents=True)
        write(folder / "final.extxyz", atoms)
        (folder / "record.json").write_text(json.dumps({**base, **rec, "site": name}))
    clean = work / "clean/h/coatings/Ag/100/t0"
    clean.mkdir(parents=True)
    write(clean / "final.extxyz", atoms)
    (clean / "record.json").write_text(json.dumps({"status": "ok"}))

    found = bench_common.finished_sites(work)
    assert sorted(s["system"] for s in found) == ["Na on Ag(100) bridge0",
                                                   "Na on Ag(100) hollow0"]
    best = bench_common.finished_sites(work, best_only=True)
    assert [s["system"] for s in best] == ["Na on Ag(100) hollow0"]
    assert best[0]["clean"] == clean / "record.json"
    assert len(bench_common.record_structure(best[0]["site"])) == len(atoms)


def _scf_table(rows: list[tuple[float, str, str]]) -> str:
    lines = ["|iter     |     time |      energy | eigst |  dens |"]
    lines += [f"|iter: {i:3d}| 10:00:{i:02d} | {e:11.6f} | {g:>5} | {d:>5} |"
              for i, (e, g, d) in enumerate(rows, 1)]
    return "\n".join(lines) + "\n"


def test_scf_criterion_replays_where_each_criterion_stops(tmp_path, capsys):
    """A single point of 10 valence electrons: GPAW's default stops at iteration 8 (the
    eigenstates below 4e-8 and the density below 1e-4 only there); the fast preset's
    single-point criterion (1 meV over iterations 3-5, eigenstates 10^-5.2 < 1e-5,
    density 10^-2.6 < 3e-3) at 5, 0.16 meV above: 8/5 = 1.60 iterations. The relaxation's
    log (two SCFs) is shown apart and not counted."""
    rows = [(-10.0, "-1.00", ""), (-10.5, "-2.00", "-1.50"), (-10.6, "-3.00", "-2.00"),
            (-10.6005, "-4.00", "-2.40"), (-10.6008, "-5.20", "-2.60"),
            (-10.6009, "-6.00", "-3.00"), (-10.60095, "-7.00", "-3.50"),
            (-10.60096, "-7.50", "-4.10")]
    head = "  Valence electrons: 10.0\n"
    sp = tmp_path / "results" / "work" / "interfaces" / "h" / "scan_calc.txt"
    relax = tmp_path / "results" / "work" / "clean" / "h" / "calc.txt"
    for path in (sp, relax):
        path.parent.mkdir(parents=True)
    sp.write_text(head + _scf_table(rows) + "Converged in 8 steps\n")
    relax.write_text(head + _scf_table(rows) + _scf_table(rows[:3]))
    out = tmp_path / "scf.csv"
    scf_criterion.main(["--results", str(tmp_path / "results"), "--out", str(out)])
    text = capsys.readouterr().out.strip().splitlines()
    assert text[-1] == ("scf_criterion candidate=fast-preset iteration_ratio=1.60 "
                        "max_abs_dE_meV=0.16 scfs=1")
    assert "  fast-preset where not applied: 8 -> 5 iterations" in text
    assert "code_version" in out.read_text().splitlines()[0]
    sp.unlink()  # only the relaxation left: nothing to replay, said so
    with pytest.raises(SystemExit, match="no finished single point"):
        scf_criterion.main(["--results", str(tmp_path / "results"), "--out", str(out)])


def test_validation_cost_counts_each_record_on_the_ranks_it_ran_on(tmp_path):
    """A one-rank site record of 1800 s and a two-rank interface record whose scan lists
    two single points of 900 s: 1800 + 2 x 1800 s = 1.5 core hours; another coating's
    records and a broken file are not counted."""
    import json

    import validation

    work = tmp_path / "results" / "work"
    site = work / "adsorption" / "h" / "coatings" / "Pb" / "001" / "record.json"
    scan = work / "interfaces" / "h" / "Pb" / "001" / "scan.json"
    other = work / "adsorption" / "h" / "coatings" / "Ag" / "100" / "record.json"
    for path in (site, scan, other):
        path.parent.mkdir(parents=True)
    site.write_text(json.dumps({"wall_s": 1800.0, "steps": 3}))
    scan.write_text(json.dumps({"mpi_ranks": 2, "scan": [{"wall_s": 900.0},
                                                         {"wall_s": 900.0}]}))
    other.write_text(json.dumps({"wall_s": 3600.0, "mpi_ranks": 1}))
    (site.parent / "broken.json").write_text("{")
    assert validation.cost_core_h(tmp_path / "results", "Pb") == pytest.approx(1.5)


def test_screen_cost_calibrates_an_unfinished_rule_on_another_run(tmp_path):
    """Stopped after its bulk: no clean slab finished to calibrate the pending one on, so
    another measured run of the workflow (its slab 300 s) sets that rule's scale."""
    other = tmp_path / "other" / ".snakemake" / "log" / "x.snakemake.log"
    other.parent.mkdir(parents=True)
    other.write_text(BULK_AND_SLAB)
    done = screen_cost.parse_log(BULK_AND_SLAB.split("[Fri Nov 27 10:10:00 2026]\nrule")[0])
    pending = screen_cost.parse_log(
        _job("Fri Nov 27 11:00:00 2026", "relax_clean_slab", 2, "bulk.json", "c1.json"),
        finished=False)
    _, settings = screen_cost.cfg.load(Path(screen_cost.__file__).parents[1]
                                       / "config/config.yaml", "fast")
    alone, _ = screen_cost.estimate_pending(pending, done, tmp_path, settings)
    more, scale = screen_cost.estimate_pending(
        pending, done, tmp_path, settings,
        [(screen_cost.read_jobs(other), other.resolve().parents[2])])
    assert more[0].seconds == pytest.approx(300.0)
    assert alone[0].seconds != pytest.approx(300.0)  # the bulk's scale, without it
    assert set(scale) == {"compute_bulk", "relax_clean_slab"}


def test_screen_cost_expects_a_sites_relaxation_as_often_as_the_prescreens_sent_one(
        tmp_path):
    """A finished prescreen sent one of its four sites to a DFT relaxation (400 s). A site
    of a surface whose prescreen has not run yet is expected to cost a quarter of that
    (same size: both at the preset's bound); one whose prescreen exists and only copies
    costs nothing. A charge-density difference gets its coating's terminations.json."""
    pre = tmp_path / "a" / "prescreen.json"
    pre.parent.mkdir()
    pre.write_text(json.dumps({"sites": [
        {"site": s, "dft_relax": s == "hollow0"}
        for s in ("ontop0", "bridge0", "hollow0", "hollow1")]}))
    site = "    wildcards: site=hollow0\n"
    log = tmp_path / "run.snakemake.log"
    log.write_text(
        "Provided cores: 1\n"
        + _job("Fri Nov 27 10:00:00 2026", "prescreen_sites", 1, "c.json", "a/prescreen.json")
        + "[Fri Nov 27 10:05:00 2026]\nFinished jobid: 1 (Rule: prescreen_sites)\n"
        + _job("Fri Nov 27 10:05:00 2026", "relax_adsorbate", 2, "a/prescreen.json",
               "a/hollow0.json") + site
        + "[Fri Nov 27 10:11:40 2026]\nFinished jobid: 2 (Rule: relax_adsorbate)\n")
    done = screen_cost.read_jobs(log)
    assert screen_cost.relaxed_fraction([(done, tmp_path)]) == pytest.approx(0.25)
    pending = screen_cost.parse_log(
        _job("Fri Nov 27 11:00:00 2026", "relax_adsorbate", 1, "b/prescreen.json",
             "b/hollow0.json") + site
        + _job("Fri Nov 27 11:00:00 2026", "relax_adsorbate", 2, "a/prescreen.json",
               "a/ontop0.json") + site.replace("hollow0", "ontop0")
        + _job("Fri Nov 27 11:00:00 2026", "relax_clean_slab", 3,
               "s/coatings/Ag/100/terminations.json", "ag.json")
        + _job("Fri Nov 27 11:00:00 2026", "charge_transfer", 4, "x.json", "cdd.json")
        + "    wildcards: metal=Na, name=Ag\n", finished=False)
    _, settings = screen_cost.cfg.load(Path(screen_cost.__file__).parents[1]
                                       / "config/config.yaml", "fast")
    more, _ = screen_cost.estimate_pending(pending, done, tmp_path, settings)
    assert [j.seconds for j in more[:2]] == pytest.approx([100.0, 0.0])
    assert more[3].inputs == ["x.json", "s/coatings/Ag/100/terminations.json"]
