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


TEST_DIR = ROOT / ".test"  # the demo screen: config/ and structures/ (catalog layout)


def emt_screen(workdir: Path) -> list[str]:
    """Copy the EMT demo screen (``.test/config`` and ``.test/structures``) into
    ``workdir``; return the snakemake arguments that select them. EMT stands in for DFT
    and for the ML model; Al stands in for the anode and Cu, Ag for coatings (EMT knows
    them); Broken.cif is a CIF that cannot be read. ``structures_dir`` is relative to the
    screen's folder, as in a user's clone: a copy of the folder is a screen of its own,
    and the tables name the failed CIF by the same relative path in every folder."""
    shutil.copytree(TEST_DIR / "config", workdir / "config")
    shutil.copytree(TEST_DIR / "structures", workdir / "structures")
    return ["--configfile", str(workdir / "config" / "config.yaml"),
            "--config", "structures_dir=structures"]
