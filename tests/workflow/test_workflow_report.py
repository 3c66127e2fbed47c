"""The EMT demo screen's report: results/report.html with every section and figure, the
figures as PNG and SVG, `snakemake --report`, and a headless-browser screenshot."""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import pytest
from workflow_helpers import snakemake

from philicity.report import SECTION_TITLES

pytestmark = pytest.mark.workflow

# the figures of the EMT screen (Al anode; Ag and Cu coatings, one facet each)
FIGURES = ["Al_binding", "Al_Ag_sites", "Al_Cu_sites", "Al_Ag_100_t0_top", "Al_Cu_001_t0_top",
           "Al_wetting", "Al_Ag_100-t0-Al-100_interface", "Al_Cu_001-t0-Al-100_interface",
           "Al_reactions"]


def _page(run) -> str:
    return (run.workdir / "results/report.html").read_text()


def test_emt_screen_report_html_has_every_section_and_figure(emt_local_run):
    page = _page(emt_local_run)
    for title in SECTION_TITLES.values():
        assert html.escape(title) in page, title
    for section in ("ranking", "binding", "sites", "wetting", "interfaces", "reactions",
                    "charges"):
        assert f'id="Al-{section}"' in page, section
    # self-contained: every image a data URI, no external resource
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<link" not in page and "http://" not in page and "https://" not in page
    # every figure embedded, and written as PNG and SVG
    figures = emt_local_run.workdir / "results/report/figures"
    for stem in FIGURES:
        assert f"{stem}.png/.svg" in page, stem
        assert (figures / f"{stem}.png").stat().st_size > 1000, stem
        assert (figures / f"{stem}.svg").read_text()[:2000].count("<svg") == 1, stem
    assert len(sources) == len(list(figures.glob("*.png"))) == len(FIGURES)
    # the ranking table, sortable; settings, their hash and the package versions
    assert 'class="dataframe sortable"' in page and "t0-hollow0" in page
    assert "13f8fac7a8" in page and "fmax_eV_A" in page
    assert re.search(r"<td>ase</td>\s*<td>\d+\.\d+", page)
    # failures with their reasons; what an EMT screen has not computed
    assert "Broken.cif: not a readable CIF" in page
    assert "ml: moved (bridge -&gt; hollow" in page
    assert "no charge-density difference was computed (skipped: the emt calculator has no "\
        "electron density)" in page
    assert "Missing: no site data for Broken" in page


def test_emt_screen_snakemake_report_is_written(emt_local_run, tmp_path):
    out = tmp_path / "snakemake_report.html"
    snakemake(emt_local_run.workdir, *emt_local_run.args, "--report", str(out))
    text = out.read_text()
    assert len(text) > 100_000
    assert "philicity: coatings for metal anodes" in text  # the front page
    for name in ("report.html", "Al_wetting.png", "Al.md", "Broken.csv"):
        assert name in text, name


def test_emt_screen_report_screenshot_is_not_blank(emt_local_run, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "no chromium on PATH: scripts/install.sh installs Debian's chromium"
    import matplotlib.image

    shot = tmp_path / "report.png"
    page = (emt_local_run.workdir / "results/report.html").resolve()
    proc = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                           f"--screenshot={shot}", "--window-size=1280,2000",
                           page.as_uri()], capture_output=True, text=True, timeout=180)
    assert shot.is_file(), proc.stderr[-2000:]
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    assert pixels[..., :3].std() > 0.05  # text, tables and figures, not a blank page
    assert (pixels[..., :3].mean(axis=2) < 0.5).mean() > 0.005  # dark pixels: text
