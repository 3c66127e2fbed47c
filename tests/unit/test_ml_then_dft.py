"""The ml-then-dft decision rules, on hand-made values."""

from __future__ import annotations

import pytest

from philicity import ml_then_dft


def test_top_k_lowest_single_points_are_relaxed():
    sp = {"ontop0": -10.2, "bridge0": -10.5, "hollow0": -10.9, "hollow1": -10.8}
    assert ml_then_dft.select_for_relaxation(sp, 2) == ["hollow0", "hollow1"]
    assert ml_then_dft.select_for_relaxation(sp, 1) == ["hollow0"]
    assert ml_then_dft.select_for_relaxation(sp, 10) == ["hollow0", "hollow1", "bridge0",
                                                      "ontop0"]


def test_window_keeps_only_sites_near_the_lowest_single_point():
    sp = {"ontop0": -10.2, "bridge0": -10.85, "hollow0": -10.9, "hollow1": -10.75}
    assert ml_then_dft.select_for_relaxation(sp, 3, 0.1) == ["hollow0", "bridge0"]
    assert ml_then_dft.select_for_relaxation(sp, 1, 0.1) == ["hollow0"]
    assert ml_then_dft.select_for_relaxation(sp, 4, 0.01) == ["hollow0"]
    assert ml_then_dft.select_for_relaxation({"a": None}, 2, 0.1) == []


def test_failed_or_pruned_sites_are_never_relaxed_and_ties_keep_order():
    sp = {"ontop0": None, "bridge0": -1.0, "hollow0": -1.0}
    assert ml_then_dft.select_for_relaxation(sp, 1) == ["bridge0"]
    assert ml_then_dft.select_for_relaxation({"a": None}, 2) == []
    with pytest.raises(ValueError, match="top_k"):
        ml_then_dft.select_for_relaxation(sp, 0)


def test_only_geometric_anomalies_prune():
    flags = ["relax_not_converged", "moved (bridge -> hollow, 1.41 A)",
             "desorbed (nearest neighbour at 2.10 x bond length)"]
    assert ml_then_dft.pruning_flags(flags) == flags[1:]
    assert ml_then_dft.pruning_flags(["reconstructed (substrate atom moved 0.80 A)"])
    assert ml_then_dft.pruning_flags([]) == []


def test_nudge_moves_only_the_adatom_sideways_by_the_distance():
    import numpy as np
    from ase import Atoms

    atoms = Atoms("Al2Na", positions=[(0, 0, 0), (2, 0, 0), (1, 1, 2)], cell=[4, 4, 10])
    out = ml_then_dft.nudge_adatom(atoms, 0.3)
    shift = out.positions - atoms.positions
    assert np.allclose(shift[:2], 0) and shift[2, 2] == 0
    assert np.hypot(*shift[2, :2]) == pytest.approx(0.3)
    # not along a mirror line of square or hexagonal lattices (0, 30, 45, 60, 90 deg)
    angle = np.degrees(np.arctan2(shift[2, 1], shift[2, 0]))
    assert min(abs(angle - m) for m in (0, 30, 45, 60, 90)) > 10
    assert np.allclose(ml_then_dft.nudge_adatom(atoms, 0.0).positions, atoms.positions)


def test_dft_start_puts_the_ml_adatom_on_the_dft_substrate():
    from ase import Atoms

    # DFT clean slab: two Al atoms 2.0 A apart in x, in a 10 A cell
    clean = Atoms("Al2", positions=[[0, 0, 5], [2, 0, 5]], cell=[10, 10, 20],
                  pbc=[True, True, False])
    # the ML model expanded the slab: both atoms 0.3 A higher, the far one also 4 A away;
    # the adatom sits 2.5 A above the first (its only neighbour within 0.5 A of the closest)
    ml = Atoms("Al2Na", positions=[[0, 0, 5.3], [6, 0, 5.3], [0.1, 0, 7.8]],
               cell=clean.cell, pbc=clean.pbc)
    start = ml_then_dft.onto_dft_substrate(ml, clean)
    assert start.get_chemical_symbols() == ["Al", "Al", "Na"]
    assert start.positions[:2].tolist() == clean.positions.tolist()
    # shifted by its neighbour's displacement (0, 0, -0.3): 2.5 A above it, as in the ML
    assert start.positions[2] == pytest.approx([0.1, 0.0, 7.5])
    with pytest.raises(ValueError, match="2-atom slab plus one adatom"):
        ml_then_dft.onto_dft_substrate(clean, clean)


def test_registries_for_dft_within_the_window_once_per_ml_energy():
    ml = {(0.0, 0.0): -33.674, (0.5, 0.0): -33.799, (0.0, 0.5): -33.717,
          (0.5, 0.5): -33.7166}
    wanted, skipped = ml_then_dft.registries_for_dft(ml, 0.1)
    # -33.674 is 0.125 eV above the lowest; (0.5, 0.5) relaxed to (0.0, 0.5)'s energy
    assert wanted == [(0.5, 0.0), (0.0, 0.5)]
    assert skipped == {(0.0, 0.0): "outside the ML window",
                       (0.5, 0.5): "the ML energy of registry [0.0, 0.5]"}
    assert ml_then_dft.registries_for_dft(ml, 1.0)[0] == [(0.0, 0.0), (0.5, 0.0), (0.0, 0.5)]
    # twins whose float noise orders them the other way: the first in input order is taken
    twins = {(0.0, 0.5): -33.7166, (0.5, 0.5): -33.7170}
    assert ml_then_dft.registries_for_dft(twins, 0.1) == (
        [(0.0, 0.5)], {(0.5, 0.5): "the ML energy of registry [0.0, 0.5]"})
