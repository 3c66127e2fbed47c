"""Workflow fixtures: the EMT screen, run once locally and shared by the tests that
check its results and those that compare another executor's results with them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from workflow_helpers import emt_screen, snakemake


@dataclass(frozen=True)
class ScreenRun:
    workdir: Path
    args: list[str]  # snakemake arguments of the run (config, structures, cores)


@pytest.fixture(scope="session")
def emt_local_run(tmp_path_factory: pytest.TempPathFactory) -> ScreenRun:
    """The EMT screen run to the end with the local executor (2 cores, keep-going)."""
    workdir = tmp_path_factory.mktemp("emt_local")
    args = [*emt_screen(workdir), "--cores", "2", "--keep-going"]
    snakemake(workdir, *args)
    return ScreenRun(workdir, args)
