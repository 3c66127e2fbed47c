"""Running the Snakemake workflow from the tests: the command, its planned jobs and the
EMT screen that stands in for a real one (Al anode, Cu and Ag coatings, a broken CIF)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def snakemake_command(workdir: Path, *args: str) -> list[str]:
    """The snakemake command line for ``workdir``, which gets a copy of the shipped
    config/ (as a user's clone has) if it has none."""
    if not (workdir / "config").exists():
        shutil.copytree(ROOT / "config", workdir / "config")
    return [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"),
            "--directory", str(workdir), *args]


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: float = 900,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run snakemake in ``workdir`` and wait (see :func:`snakemake_command`)."""
    cmd = snakemake_command(workdir, *args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=None if env is None else {**os.environ, **env})
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def planned(proc: subprocess.CompletedProcess) -> set[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run plans."""
    text = proc.stdout + proc.stderr
    jobs = set()
    for block in re.split(r"\n(?=(?:local)?(?:rule|checkpoint) )", text):
        head = re.match(r"(?:local)?(?:rule|checkpoint) (\w+):", block)
        wc = re.search(r"wildcards: (.*)", block)
        if head:
            jobs.add((head.group(1), wc.group(1).strip() if wc else ""))
    return jobs


EMT_CONFIG = """
anodes: [Al]
preset: emt
presets:
  emt:
    calculator: {name: emt}
    slab: {min_thickness_A: 4.0, vacuum_A: 8.0, min_lateral_A: 5.0, fixed_layers: 1,
           max_atoms: 40}
    relax: {fmax_eV_A: 0.05, steps: 100}
    interface: {max_area_A2: 60, max_strain_pct: 6, max_atoms: 40, film_thickness_A: 4.0,
                substrate_thickness_A: 4.0, vacuum_A: 8.0, registry_grid: 2}
wetting:
  sigma_lv_J_m2: {Al: 0.87}  # liquid Al near its melting point (test value)
strategy: ml-then-dft
ml: {calculator: {name: chgnet}, top_k: 2}
"""


def emt_screen(workdir: Path) -> list[str]:
    """Write the EMT screen's structures and config into ``workdir``; return the
    snakemake arguments that select them. Al stands in for the anode and Cu, Ag for
    coatings (EMT knows them); Broken.cif is a CIF that cannot be read."""
    s = workdir / "structures"
    (s / "anodes").mkdir(parents=True)
    (s / "coatings").mkdir()
    shutil.copy(ROOT / "structures/coatings/Al.cif", s / "anodes/Al.cif")
    for name in ("Cu", "Ag"):
        shutil.copy(ROOT / f"structures/coatings/{name}.cif", s / f"coatings/{name}.cif")
    shutil.copy(ROOT / "structures/coatings/Ag.yaml", s / "coatings/Ag.yaml")
    (s / "coatings/Broken.cif").write_text("data_broken\n_cell_length_a 4.0\nloop_\n")
    (workdir / "emt.yaml").write_text(EMT_CONFIG)
    return ["--configfile", str(workdir / "emt.yaml"), "--config", f"structures_dir={s}"]
