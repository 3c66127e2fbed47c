"""The benchmark scripts run end to end (EMT stands in for GPAW; the numbers are the
scripts' business, these tests check that they run and print what they promise)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import convergence  # noqa: E402
import fast_path  # noqa: E402
import interfaces  # noqa: E402
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


def test_screen_cost_replays_a_log_on_n_cores_by_hand(tmp_path, capsys):
    """A bulk (600 s) feeds two clean slabs (300 s each) that feed the tables (60 s), run
    on 1 core: 1260 s measured. On 2 cores the slabs overlap: 960 s; with the DFT jobs on
    2 ranks each (2^0.6 = 1.516 times faster, one at a time): 396 + 198 + 198 + 60 s."""
    log = tmp_path / "run.snakemake.log"
    log.write_text(
        "Provided cores: 1\n"
        + _job("Fri Nov 27 10:00:00 2026", "compute_bulk", 1, "Na.cif", "bulk.json")
        + "[Fri Nov 27 10:10:00 2026]\nFinished jobid: 1 (Rule: compute_bulk)\n"
        + _job("Fri Nov 27 10:10:00 2026", "relax_clean_slab", 2, "bulk.json", "c1.json")
        + "[Fri Nov 27 10:15:00 2026]\nFinished jobid: 2 (Rule: relax_clean_slab)\n"
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
