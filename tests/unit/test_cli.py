"""The philicity command (no DFT): --help, --version, check, add, terminations, status,
show, compare, export."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from click.testing import CliRunner

from philicity import cli


def _run(*args: str):
    return CliRunner().invoke(cli.main, list(args))


def test_cli_help_and_version():
    out = _run("--help")
    assert out.exit_code == 0 and "check" in out.output
    out = _run("--version")
    assert out.exit_code == 0 and out.output.startswith("philicity, version ")
    assert _run("check", "--help").exit_code == 0


def test_cli_check_says_what_a_screen_would_compute(root):
    out = _run("check", str(root / "structures/coatings/Ag.cif"),
               "--config", str(root / "config/config.yaml"))
    assert out.exit_code == 0, out.output
    assert "Ag, 4 atoms" in out.output and "facet (100)" in out.output
    assert "Li: adatom sites and interfaces" in out.output and "Na: adatom" in out.output
    out = _run("check", str(root / "structures/coatings/NaF.cif"),
               "--config", str(root / "config/config.yaml"))
    assert "Li: skipped" in out.output


def test_cli_check_on_a_broken_cif_names_the_file_and_exits_non_zero(tmp_path, root):
    bad = tmp_path / "Bad.cif"
    bad.write_text("data_bad\n_cell_length_a 4.0\nloop_\n")
    out = _run("check", str(bad), "--config", str(root / "config/config.yaml"))
    assert out.exit_code != 0 and str(bad) in out.output and "not a readable CIF" in out.output
    cif = tmp_path / "Cu.cif"
    shutil.copy(root / "structures/coatings/Cu.cif", cif)
    (tmp_path / "Cu.yaml").write_text("miller: [[0, 0, 0]]\n")
    out = _run("check", str(cif), "--config", str(root / "config/config.yaml"))
    assert out.exit_code != 0 and "Cu.yaml: key 'miller.0'" in out.output
    out = _run("check", str(cif), "--config", str(tmp_path / "none.yaml"))
    assert out.exit_code != 0 and "none.yaml: no such config file" in out.output


# --------------------------------------------------------------------------------------
# add, terminations, status, show, compare, export

COMMANDS = ("check", "add", "terminations", "status", "show", "compare", "export")


def _write(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_cli_every_command_has_help():
    out = _run("--help")
    for command in COMMANDS:
        assert command in out.output
        sub = _run(command, "--help")
        assert sub.exit_code == 0 and "Usage:" in sub.output, (command, sub.output)


def test_cli_add_and_terminations_refuse_a_broken_cif(tmp_path, root):
    bad = tmp_path / "Bad.cif"
    bad.write_text("data_bad\n_cell_length_a 4.0\nloop_\n")
    (tmp_path / "structures").mkdir()
    config = str(root / "config/config.yaml")
    out = _run("add", str(bad), "--structures", str(tmp_path / "structures"), "--config",
               config)
    assert out.exit_code != 0 and f"{bad}: not a readable CIF" in out.output
    assert not (tmp_path / "structures/coatings").exists()  # nothing copied
    out = _run("terminations", str(bad), "--miller", "0", "0", "1", "--config", config)
    assert out.exit_code != 0 and f"{bad}: not a readable CIF" in out.output
    out = _run("terminations", str(tmp_path / "None.cif"), "--miller", "1", "0", "0",
               "--config", config)
    assert out.exit_code != 0 and "None.cif: file not found" in out.output


def test_cli_add_copies_a_good_cif_and_its_sidecar(tmp_path, root):
    src = tmp_path / "download"
    src.mkdir()
    shutil.copy(root / "structures/coatings/Cu.cif", src / "CuNew.cif")
    shutil.copy(root / "structures/coatings/Cu.yaml", src / "CuNew.yaml")
    dest = tmp_path / "structures"
    dest.mkdir()
    args = ("add", str(src / "CuNew.cif"), "--structures", str(dest), "--config",
            str(root / "config/config.yaml"))
    out = _run(*args)
    assert out.exit_code == 0, out.output
    assert (dest / "coatings/CuNew.cif").read_text() == (src / "CuNew.cif").read_text()
    assert (dest / "coatings/CuNew.yaml").read_text() == (src / "CuNew.yaml").read_text()
    assert "facet (111)" in out.output and "Li: adatom sites" in out.output
    out = _run(*args)  # a second time: refused
    assert out.exit_code != 0 and "CuNew.cif already exists" in out.output


def test_cli_terminations_lists_candidates_and_the_choice(root):
    config = str(root / "config/config.yaml")  # preset fast: 5 A slabs, at most 60 atoms
    out = _run("terminations", str(root / "structures/coatings/Na2CO3.cif"),
               "--miller", "0", "0", "1", "--config", config)
    assert out.exit_code == 0, out.output
    for word in ("origin", "polar", "dipole_e_per_A", "polyanions_cut", "top_face",
                 "flipped t0", "tasker2 t0"):
        assert word in out.output
    chosen = next(line for line in out.output.splitlines() if line.startswith("chosen"))
    # every plain cut of Na2CO3(001) is polar: the screen takes the non-polar Tasker-II one
    assert "non-polar" in chosen and "Tasker-II" in chosen, chosen
    out = _run("terminations", str(root / "structures/coatings/Ag.cif"),
               "--miller", "1", "0", "0", "--config", config)
    assert out.exit_code == 0, out.output
    assert "chosen: 0 (the only cut)" in out.output
    table = out.output.split("\n", 1)[1].split("chosen:")[0].strip().splitlines()
    assert len(table) == 2  # header and one termination


def test_cli_status_reads_snakemake_markers_logs_and_gpaw_text(tmp_path):
    from snakemake.persistence.file import FilePersistence

    from philicity import progress
    from philicity.relax import progress_line

    work = "results/work/adsorption/abc123/coatings/Cu/111/t0/Li"
    site_out = f"{work}/ontop0/record.json"
    atom_out = "results/work/atoms/def456/Li/record.json"
    persistence = FilePersistence.__new__(FilePersistence)  # only its path encoding
    persistence._max_len = None
    incomplete = tmp_path / ".snakemake/incomplete"
    incomplete.mkdir(parents=True)
    long_out = "results/" + "/".join(["x" * 20] * 12) + "/record.json"  # in @-folders
    markers = {}
    for out in (site_out, atom_out, long_out):
        marker = markers[out] = Path(persistence._record_path(str(incomplete), out))
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text('{"external_jobid": null}')
        assert progress.decode_marker(marker.relative_to(incomplete)) == out
    results = tmp_path / "results"
    # the logs of the relaxation (two steps), of the prescreen before it, of the atom
    (results / "logs/prescreen_sites/abc123/coatings/Cu/111/t0").mkdir(parents=True)
    (results / "logs/prescreen_sites/abc123/coatings/Cu/111/t0/Li.log").write_text("")
    log = results / "logs/relax_adsorbate/abc123/coatings/Cu/111/t0/Li/ontop0.log"
    log.parent.mkdir(parents=True)
    log.write_text("start\n" + progress_line(1, 60, -212.5, 0.31, 14, 40.2) + "\n"
                   + progress_line(2, 60, -212.716055, 0.0421, 12, 41.3) + "\n")
    (results / "logs/compute_atom/def456").mkdir(parents=True)
    (results / "logs/compute_atom/def456/Li.log").write_text("")
    (tmp_path / atom_out).parent.mkdir(parents=True)
    (tmp_path / atom_out).with_name("calc.txt").write_text(
        "     iter     time        total\n"
        + "".join(f"iter: {i:3d} 10:00:0{i}   -1.{i}\n" for i in range(1, 8)))
    _write(results / "work/candidates/h/coatings/Bad.json",
           {"name": "Bad", "status": "failed", "reason": "Bad.cif: not a readable CIF"})
    _write(tmp_path / f"{work}/bridge0/record.json",
           {"kind": "adsorbate", "status": "ok", "name": "Cu", "metal": "Li"})
    out = _run("status", "--directory", str(tmp_path), "--no-tables")
    assert out.exit_code == 0, out.output
    text = out.output
    assert "1 jobs done, 1 failed, 0 running, 3 interrupted" in text
    assert "candidate work/candidates/h/coatings/Bad.json: failed: Bad.cif: not a" in text
    assert f"relax_adsorbate: {site_out} [interrupted" in text  # no Snakemake holds it
    assert ("step 2 of at most 60, last fmax 0.0421 eV/A, last step 41.3 s, "
            "energy -212.716055 eV, 12 SCF iterations") in text
    assert f"log {log} (updated" in text
    assert "single point: SCF iteration 7" in text
    # a Snakemake process that locked the output: running
    (tmp_path / ".snakemake/locks").mkdir(parents=True)
    (tmp_path / ".snakemake/locks/0.output.lock").write_text(f"{site_out}\n{atom_out}\n")
    out = _run("status", "--directory", str(tmp_path), "--no-tables")
    assert f"relax_adsorbate: {site_out} [running" in out.output
    lock = (tmp_path / ".snakemake/locks/0.output.lock").stat().st_mtime
    for marker in markers.values():  # markers written before this run took its lock
        os.utime(marker, (lock - 60, lock - 60))
    out = _run("status", "--directory", str(tmp_path), "--no-tables")
    assert f"relax_adsorbate: {site_out} [running" in out.output
    assert f"{long_out} [stale" in out.output  # not locked: an earlier run's marker
    # a job a checkpoint added after the run took its lock (not in the lock): running
    os.utime(markers[long_out], (lock + 5, lock + 5))
    out = _run("status", "--directory", str(tmp_path), "--no-tables")
    assert f"{long_out} [running" in out.output


def _hand_built_screen(results: Path) -> None:
    """Two adsorption settings hashes (h1: ecut 400, vacuum 10; h2: ecut 500, vacuum 12),
    their atom references, tables of one metal and a coating's files."""
    calc = {"h1": {"name": "gpaw", "ecut": 400}, "h2": {"name": "gpaw", "ecut": 500}}
    vacuum = {"h1": 10.0, "h2": 12.0}
    atom = {"h1": -0.2, "h2": -0.3}
    for h in ("h1", "h2"):
        _write(results / f"work/atoms/a{h}/Li/record.json",
               {"kind": "atom", "status": "ok", "metal": "Li", "energy_eV": atom[h],
                "settings": {"calculator": calc[h]}})
    sites = {("h1", "ontop0"): (-101.0, -100.0), ("h2", "ontop0"): (-101.5, -100.2),
             ("h1", "bridge0"): (-101.2, -100.0), ("h2", "bridge0"): None,
             ("h1", "hollow0"): (-101.1, -100.0)}
    for (h, site), energies in sites.items():
        rec = {"kind": "adsorbate", "name": "Cu", "miller": "111", "termination": 0,
               "site": f"t0-{site}", "metal": "Li", "flags": [],
               "settings": {"calculator": calc[h], "slab": {"vacuum_A": vacuum[h]}}}
        if energies is None:
            rec.update(status="failed", reason="adsorbate SCF did not converge")
        else:
            rec.update(status="ok", energy_eV=energies[0], E_clean_slab_eV=energies[1])
        _write(results / f"work/adsorption/{h}/coatings/Cu/111/t0/Li/{site}/record.json", rec)


def test_cli_compare_puts_two_settings_side_by_side(tmp_path):
    results = tmp_path / "results"
    _hand_built_screen(results)
    out = _run("compare", "h1", "h2", "--results", str(results))
    assert out.exit_code == 0, out.output
    text = out.output
    assert "calculator.ecut: 400 -> 500" in text and "slab.vacuum_A: 10.0 -> 12.0" in text
    assert "2 sites under both; 1 only under h1, 0 only under h2" in text
    ontop = next(line for line in text.splitlines() if "t0-ontop0" in line)
    # E_b = -101.0 + 100.0 + 0.2 = -0.8 (h1), -101.5 + 100.2 + 0.3 = -1.0 (h2)
    assert "-0.8000" in ontop and "-1.0000" in ontop and "-0.2000" in ontop
    bridge = next(line for line in text.splitlines() if "t0-bridge0" in line)
    assert "-1.0000" in bridge and "failed: adsorbate SCF did not converge" in bridge
    out = _run("compare", "h1", "h9", "--results", str(results))
    assert out.exit_code != 0 and "'h9'" in out.output and "found: h1, h2" in out.output


def test_cli_show_gives_a_coatings_rows_flags_and_files(tmp_path):
    import pandas as pd

    results = tmp_path / "results"
    _hand_built_screen(results)
    for table, rows in {
        "ranking": [{"rank": 1, "coating": "Cu", "score": 0.4, "flags": "", "status": "ok"},
                    {"rank": 2, "coating": "Ag", "score": 0.1, "flags": "", "status": "ok"}],
        "sites": [{"coating": "Cu", "miller": 111, "termination": 0, "site": "t0-ontop0",
                   "E_b_atom_eV": -0.8, "flags": "moved (ontop -> hollow)"},
                  {"coating": "Ag", "miller": 100, "termination": 0, "site": "t0-agsite0",
                   "E_b_atom_eV": -0.5, "flags": ""}],
    }.items():
        (results / table).mkdir(parents=True)
        pd.DataFrame(rows).to_csv(results / table / "Li.csv", index=False)
    (results / "terminations").mkdir()
    pd.DataFrame([{"coating": "Cu", "miller": 111, "termination": 0, "chosen": True,
                   "why": "the only cut", "status": "ok"}]).to_csv(
        results / "terminations/Cu.csv", index=False)
    cube = results / "charges/Li/Cu/site_difference.cube"
    cube.parent.mkdir(parents=True)
    cube.write_text("")
    out = _run("show", "Cu", "--results", str(results))
    assert out.exit_code == 0, out.output
    text = out.output
    assert f"== {results}/ranking/Li.csv" in text and f"== {results}/sites/Li.csv" in text
    assert f"== {results}/terminations/Cu.csv" in text and "the only cut" in text
    assert "t0-ontop0" in text and "t0-agsite0" not in text  # Ag's rows are not Cu's
    assert "sites/Li 111 0 t0-ontop0: moved (ontop -> hollow)" in text
    assert str(results / "work/adsorption/h1/coatings/Cu/111/t0/Li/ontop0") in text
    assert str(cube) in text
    out = _run("show", "Zz", "--results", str(results))
    assert out.exit_code != 0 and "no rows or records of 'Zz'" in out.output
    assert "coatings found: Ag, Cu" in out.output


def test_cli_export_writes_the_database_rows_as_csv_and_json(tmp_path):
    import io

    import pandas as pd
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.db import connect

    db_path = tmp_path / "calculations.db"
    with connect(db_path) as db:
        cu = Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 2.5]], cell=[5, 5, 5])
        cu.calc = SinglePointCalculator(cu, energy=-7.25)
        db.write(cu, key_value_pairs={"kind": "bulk", "status": "ok", "steps": 3})
        db.write(Atoms(), key_value_pairs={"kind": "candidate", "status": "failed",
                                           "reason": "Bad.cif: not a readable CIF"})
    out = _run("export", "--db", str(db_path))
    assert out.exit_code == 0, out.output
    table = pd.read_csv(io.StringIO(out.output))
    assert list(table.columns[:3]) == ["id", "formula", "energy"]
    assert {"kind", "status", "steps", "reason"} <= set(table.columns)
    assert table.loc[0, "formula"] == "Cu2" and table.loc[0, "energy"] == -7.25
    assert table.loc[1, "status"] == "failed" and pd.isna(table.loc[1, "energy"])
    target = tmp_path / "rows.json"
    out = _run("export", "--db", str(db_path), "--format", "json", "-o", str(target))
    assert out.exit_code == 0, out.output
    rows = json.loads(target.read_text())
    assert rows[0]["energy"] == -7.25 and rows[0]["steps"] == 3 and rows[1]["energy"] is None
    out = _run("export", "--db", str(tmp_path / "none.db"))
    assert out.exit_code != 0 and "none.db: no such database" in out.output
