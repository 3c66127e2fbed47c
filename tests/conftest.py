"""Shared fixtures: paths of the repository and small structures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from philicity.launch import one_blas_thread

ROOT = Path(__file__).resolve().parents[1]

# one BLAS thread per process, as the pipeline sets it
one_blas_thread(os.environ)


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def settings() -> dict:
    """Validated settings with EMT and small slabs (the schema fills the rest)."""
    from philicity import config

    cfg = config.validate({
        "presets": {"emt": {
            "calculator": {"name": "emt"},
            "slab": {"min_thickness_A": 4.0, "vacuum_A": 8.0, "min_lateral_A": 5.0,
                     "fixed_layers": 1},
        }},
        "preset": "emt",
    })
    return config.settings(cfg)


@pytest.fixture
def ag100():
    """Ag(100), 2x2, 2 layers, bottom layer fixed, from the shipped CIF."""
    from philicity import slabs, structures

    bulk = structures.read_structure(ROOT / "structures" / "coatings" / "Ag.cif")
    raw = slabs.generate_terminations(bulk, (1, 0, 0), 4.0, 8.0)
    return slabs.finish_slab(raw[0], 5.0, 1, 0.5, 100)
