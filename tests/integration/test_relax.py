"""BFGS from a supplied (ML) Hessian never costs much more than from ASE's default: the
first step that raises the energy drops the supplied Hessian (GuardedBFGS), also when a
killed relaxation resumes from its checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import add_adsorbate, fcc100
from ase.calculators.emt import EMT
from ase.constraints import FixAtoms
from ase.io import read, write

from philicity import ml_then_dft
from philicity.relax import relax


@pytest.fixture
def slab():
    """Cu(100), 3 layers, bottom fixed, an adatom on top, rattled off the minimum."""
    atoms = fcc100("Cu", (2, 2, 3), vacuum=6.0)
    add_adsorbate(atoms, "Cu", 2.5, "ontop")
    atoms.set_constraint(FixAtoms(mask=atoms.positions[:, 2] < atoms.positions[:, 2].min()
                                  + 0.5))
    atoms.rattle(0.05, seed=1)
    return atoms


def test_a_misleading_hessian_falls_back_to_ase_default(slab, tmp_path):
    """0.05 eV/A^2 everywhere (soft modes the surface does not have, as CHGNet's at a
    bare VN(001) cut): BFGS overshoots, the energy rises, ASE's default takes over."""
    default = relax(slab, EMT(), 0.01, 300, tmp_path / "default.traj")
    soft = np.eye(3 * len(slab)) * 0.05
    guarded = relax(slab, EMT(), 0.01, 300, tmp_path / "guarded.traj", hessian=soft)
    fallback = guarded.extra["hessian_fallback_step"]
    assert fallback is not None and fallback >= 1
    assert default.extra.get("hessian_fallback_step") is None  # no Hessian given, no guard
    assert guarded.relax_converged and default.relax_converged
    assert guarded.energy_eV == pytest.approx(default.energy_eV, abs=1e-3)
    # the promise: at most the steps before the rejected one more than ASE's default
    assert guarded.steps <= default.steps + fallback
    # the rejected frame is the first that rose
    energies = [a.get_potential_energy() for a in read(tmp_path / "guarded.traj", ":")]
    assert energies[fallback] > energies[fallback - 1] + 2e-3
    assert all(b <= a + 2e-3 for a, b in zip(energies[:fallback - 1], energies[1:fallback],
                                             strict=True))


def test_a_good_hessian_is_kept_to_the_end(slab, tmp_path):
    free = [i for i in range(len(slab)) if i not in slab.constraints[0].index]
    exact = ml_then_dft.ml_hessian(slab, EMT(), free)
    out = relax(slab, EMT(), 0.01, 300, tmp_path / "exact.traj", hessian=exact)
    default = relax(slab, EMT(), 0.01, 300, tmp_path / "default.traj")
    assert out.extra["hessian_fallback_step"] is None
    assert out.steps < default.steps


def test_a_resumed_relaxation_replays_the_fallback(slab, tmp_path):
    """Killed after the supplied Hessian was dropped: the resumed run rebuilds the same
    state from the checkpoint and takes the uninterrupted run's path."""
    soft = np.eye(3 * len(slab)) * 0.05
    fresh = relax(slab, EMT(), 0.01, 300, tmp_path / "fresh.traj", hessian=soft)
    fallback = fresh.extra["hessian_fallback_step"]
    frames = read(tmp_path / "fresh.traj", f":{fallback + 3}")
    write(tmp_path / "killed.traj", frames)
    resumed = relax(slab, EMT(), 0.01, 300, tmp_path / "killed.traj", hessian=soft)
    assert resumed.resumed_steps == fallback + 2
    assert resumed.extra["hessian_fallback_step"] == fallback
    assert resumed.steps == fresh.steps
    assert np.allclose(resumed.atoms.positions, fresh.atoms.positions, atol=1e-8)


def test_a_run_killed_right_after_the_rejected_step_resumes_on_the_same_path(slab,
                                                                            tmp_path):
    soft = np.eye(3 * len(slab)) * 0.05
    fresh = relax(slab, EMT(), 0.01, 300, tmp_path / "fresh.traj", hessian=soft)
    fallback = fresh.extra["hessian_fallback_step"]
    write(tmp_path / "killed.traj", read(tmp_path / "fresh.traj", f":{fallback + 1}"))
    resumed = relax(slab, EMT(), 0.01, 300, tmp_path / "killed.traj", hessian=soft)
    assert resumed.extra["hessian_fallback_step"] == fallback
    assert resumed.steps == fresh.steps
    assert np.allclose(resumed.atoms.positions, fresh.atoms.positions, atol=1e-8)


def test_the_supplied_hessian_is_not_changed_by_the_relaxation(slab, tmp_path):
    soft = np.eye(3 * len(slab)) * 0.05
    relax(slab, EMT(), 0.01, 300, tmp_path / "a.traj", hessian=soft)
    assert np.array_equal(soft, np.eye(3 * len(slab)) * 0.05)


def test_each_ionic_step_writes_a_progress_line(tmp_path, capsys):
    """One log line per step: step k of at most N, energy, fmax, SCF count, step time."""
    from ase.build import fcc100
    from ase.calculators.emt import EMT

    from philicity.relax import PROGRESS_PREFIX, relax

    slab = fcc100("Cu", (2, 2, 2), vacuum=5.0)
    slab.positions[-1, 2] += 0.2
    out = relax(slab, EMT(), 0.05, 20, tmp_path / "r.traj")
    lines = [ln for ln in capsys.readouterr().out.splitlines()
             if ln.startswith(PROGRESS_PREFIX)]
    assert len(lines) == out.steps + 1  # the start and every step
    last = lines[-1].split()
    assert last[1] == f"{out.steps}/20"
    assert float(last[2].split("=")[1]) == pytest.approx(out.energy_eV, abs=1e-6)
    assert float(last[3].split("=")[1]) == pytest.approx(out.fmax_eV_A, abs=1e-4)
    assert last[4] == "scf=-" and last[5].startswith("step_s=")


def test_a_checkpoint_cut_by_a_kill_resumes_from_its_last_whole_frame(slab, tmp_path,
                                                                       capsys):
    """A kill while a frame was being written leaves a trajectory whose last frame cannot
    be read: the steps before it are kept (not the whole relaxation thrown away), and the
    resumed run ends where an uninterrupted one does."""
    fresh = relax(slab, EMT(), 0.01, 300, tmp_path / "fresh.traj")
    write(tmp_path / "killed.traj", read(tmp_path / "fresh.traj", ":6"))
    data = (tmp_path / "killed.traj").read_bytes()
    (tmp_path / "killed.traj").write_bytes(data[:-200])  # the sixth frame half written
    resumed = relax(slab, EMT(), 0.01, 300, tmp_path / "killed.traj")
    assert "frame 5 unreadable" in capsys.readouterr().out
    assert resumed.resumed_steps == 4
    assert resumed.steps == fresh.steps
    assert np.allclose(resumed.atoms.positions, fresh.atoms.positions, atol=1e-6)
    assert len(read(tmp_path / "killed.traj", ":")) == fresh.steps + 1  # readable to the end


def test_a_checkpoint_of_another_start_is_not_continued(slab, tmp_path):
    """A relaxation whose start changed (its clean slab or prescreen recomputed after a
    change) does not resume the old start's steps: it starts afresh from the new one."""
    relax(slab, EMT(), 0.01, 300, tmp_path / "r.traj")
    moved = slab.copy()
    moved.positions[-1, 0] += 0.3
    again = relax(moved, EMT(), 0.01, 300, tmp_path / "r.traj")
    assert again.resumed_steps == 0 and again.steps > 0
    assert np.allclose(read(tmp_path / "r.traj", "0").positions, moved.positions)
    # the same start resumes (nothing left to do: zero new steps)
    same = relax(moved, EMT(), 0.01, 300, tmp_path / "r.traj")
    assert same.resumed_steps == again.steps


def test_a_first_step_to_a_lower_geometry_is_kept(slab, tmp_path):
    """The first step goes to the supplied geometry (an ML relaxation's end; here EMT's
    own minimum): predicted and found downhill, kept, and the relaxation then has nothing
    left to do, where ASE's default start needs several steps."""
    minimum = relax(slab, EMT(), 0.005, 300, tmp_path / "min.traj").atoms
    free = [i for i in range(len(slab)) if i not in slab.constraints[0].index]
    h = ml_then_dft.ml_hessian(minimum, EMT(), free)
    out = relax(slab, EMT(), 0.01, 300, tmp_path / "first.traj", hessian=h,
                first_positions=minimum.positions)
    default = relax(slab, EMT(), 0.01, 300, tmp_path / "default.traj")
    frames = read(tmp_path / "first.traj", ":")
    assert np.allclose(frames[0].positions, slab.positions)
    assert np.allclose(frames[1].positions, minimum.positions)
    assert out.extra["first_step"] == "taken" and out.extra["first_step_predicted_eV"] < 0
    assert out.extra["hessian_fallback_step"] is None
    assert out.steps == 1 < default.steps
    assert out.energy_eV == pytest.approx(default.energy_eV, abs=1e-3)


def test_a_first_step_predicted_uphill_is_not_taken(slab, tmp_path):
    """The adatom pulled away from the surface, against its force: BFGS takes its own
    steps, exactly those it takes with no proposal, and no force call is spent on it."""
    worse = slab.positions.copy()
    worse[-1, 2] += 0.8
    free = [i for i in range(len(slab)) if i not in slab.constraints[0].index]
    h = ml_then_dft.ml_hessian(slab, EMT(), free)
    out = relax(slab, EMT(), 0.01, 300, tmp_path / "first.traj", hessian=h,
                first_positions=worse)
    plain = relax(slab, EMT(), 0.01, 300, tmp_path / "plain.traj", hessian=h)
    assert out.extra["first_step"] == "not_taken" and out.extra["first_step_predicted_eV"] > 0
    assert out.steps == plain.steps
    assert np.allclose(out.atoms.positions, plain.atoms.positions, atol=1e-8)


def _misleading_first_step(slab):
    """A soft Hessian (0.05 eV/A^2) and a proposal 3 A along the adatom's force: downhill
    at the start, but it overshoots into the surface."""
    probe = slab.copy()
    probe.calc = EMT()
    force = probe.get_forces()[-1]
    proposal = slab.positions.copy()
    proposal[-1] += 3.0 * force / np.linalg.norm(force)
    return np.eye(3 * len(slab)) * 0.05, proposal


def test_a_first_step_that_raises_the_energy_is_rejected(slab, tmp_path):
    """Taken and found uphill: rejected, and BFGS goes on from the start with the
    supplied Hessian (the geometry was wrong, not necessarily the curvature), guarded, to
    the same minimum; a run killed right after the rejected step takes the same path."""
    soft, proposal = _misleading_first_step(slab)
    out = relax(slab, EMT(), 0.01, 300, tmp_path / "first.traj", hessian=soft,
                first_positions=proposal)
    plain = relax(slab, EMT(), 0.01, 300, tmp_path / "plain.traj", hessian=soft)
    frames = read(tmp_path / "first.traj", ":")
    energies = [a.get_potential_energy() for a in frames]
    assert out.extra["first_step"] == "rejected" and out.extra["first_step_predicted_eV"] < 0
    assert energies[1] > energies[0] + 2e-3
    assert out.relax_converged
    assert out.energy_eV == pytest.approx(plain.energy_eV, abs=1e-3)
    assert out.steps == plain.steps + 1  # the same path after the one rejected step
    write(tmp_path / "killed.traj", frames[:2])
    resumed = relax(slab, EMT(), 0.01, 300, tmp_path / "killed.traj", hessian=soft,
                    first_positions=proposal)
    assert resumed.extra["first_step"] == "rejected" and resumed.steps == out.steps
    assert np.allclose(resumed.atoms.positions, out.atoms.positions, atol=1e-8)


def test_a_run_killed_after_the_start_still_takes_the_supplied_first_step(slab, tmp_path):
    minimum = relax(slab, EMT(), 0.005, 300, tmp_path / "min.traj").atoms
    h = np.eye(3 * len(slab)) * 5.0
    fresh = relax(slab, EMT(), 0.01, 300, tmp_path / "fresh.traj", hessian=h,
                  first_positions=minimum.positions)
    write(tmp_path / "killed.traj", read(tmp_path / "fresh.traj", ":1"))
    resumed = relax(slab, EMT(), 0.01, 300, tmp_path / "killed.traj", hessian=h,
                    first_positions=minimum.positions)
    assert fresh.extra["first_step"] == resumed.extra["first_step"] == "taken"
    assert resumed.steps == fresh.steps
    assert np.allclose(read(tmp_path / "killed.traj", "1").positions, minimum.positions)


def test_a_step_of_negative_curvature_leaves_the_hessian_as_it_was(slab):
    """s.y <= 0 (the energy concave along the step, as on LiC6(001)'s clean slab) would
    make BFGS's Hessian indefinite: the update is skipped; a convex pair updates it."""
    from philicity.relax import GuardedBFGS

    atoms = slab.copy()
    atoms.calc = EMT()
    n = 3 * len(atoms)
    opt = GuardedBFGS(atoms, np.eye(n) * 2.0, logfile=None)
    pos0, forces0 = atoms.positions.ravel(), np.zeros(n)
    s = np.zeros(n)
    s[-1] = 0.1
    opt.update(pos0, forces0, None, None)  # the first call sets up the state
    opt.update(pos0 + s, 3.0 * s, pos0, forces0)  # force along the step: s.y = -0.03 eV
    assert np.array_equal(opt.state.hessian, np.eye(n) * 2.0)
    opt.update(pos0 + s, -3.0 * s, pos0, forces0)  # against it: s.y = +0.03 eV
    assert opt.state.hessian[-1, -1] == pytest.approx(3.0)  # the secant curvature y/s


def test_a_first_step_that_promises_little_is_not_taken(slab, tmp_path):
    """A proposal a quarter of the way to the minimum promises less than the minimum gain
    when that is set above it: BFGS takes its own steps, exactly those it takes with no
    proposal; with the gain set below it, the same proposal is taken."""
    minimum = relax(slab, EMT(), 0.005, 300, tmp_path / "min.traj").atoms
    near = slab.positions + 0.25 * (minimum.positions - slab.positions)
    free = [i for i in range(len(slab)) if i not in slab.constraints[0].index]
    h = ml_then_dft.ml_hessian(slab, EMT(), free)
    probe = slab.copy()
    probe.calc = EMT()
    gain = 0.5 * float(np.ravel(probe.get_forces()) @ np.ravel(near - slab.positions))  # F.d/2
    assert 0 < gain
    kwargs = {"hessian": h, "first_positions": near}
    above = relax(slab, EMT(), 0.01, 300, tmp_path / "above.traj", **kwargs,
                  first_step_min_gain_eV=gain * 1.1)
    below = relax(slab, EMT(), 0.01, 300, tmp_path / "below.traj", **kwargs,
                  first_step_min_gain_eV=gain * 0.9)
    plain = relax(slab, EMT(), 0.01, 300, tmp_path / "plain.traj", hessian=h)
    assert above.extra["first_step"] == "not_taken"
    assert above.extra["first_step_predicted_eV"] == pytest.approx(-gain)
    assert above.steps == plain.steps
    assert np.allclose(above.atoms.positions, plain.atoms.positions, atol=1e-8)
    assert below.extra["first_step"] == "taken"
    assert np.allclose(read(tmp_path / "below.traj", "1").positions, near)
