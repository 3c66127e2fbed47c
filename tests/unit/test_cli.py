"""The philicity command (no DFT): --help, --version, check."""

from __future__ import annotations

import shutil

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
