"""Checkpointed relaxations and single points with any ASE calculator.

A relaxation appends every step to a checkpoint trajectory that lives outside
Snakemake's declared outputs; a rerun after a kill starts from its last frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.filters import FrechetCellFilter
from ase.io import Trajectory
from ase.optimize import BFGS, FIRE, LBFGS
from ase.parallel import world

OPTIMIZERS = {"BFGS": BFGS, "FIRE": FIRE, "LBFGS": LBFGS}

# An energy rise above this (eV) after a BFGS step means the step's quadratic model (which
# promised a descent) was wrong, not SCF noise (the presets converge energies to < 1 meV).
ENERGY_RISE_TOLERANCE_EV = 2e-3

# A supplied first geometry (an ML model's relaxed cut) is worth a force call only where it
# promises more than this (eV): far from the minimum, where BFGS's own capped steps need
# many. Measured on clean slabs (fast preset, docs/fast-path.md): VN(001)'s cut, 1.02 eV
# above CHGNet's geometry in DFT, took 14 steps with it (16 from the ML Hessian at the
# cut); Al(100), Ag(100) and Na(100), nearly relaxed as cut (0.011, 0.042 and 0.073 eV
# promised), took 3, 2 and 3 steps with it and 2, 2 and 3 without.
FIRST_STEP_MIN_GAIN_EV = 0.1


def _free_energy(atoms: Atoms) -> float:
    """The energy whose gradient the forces are (GPAW's free energy with smearing)."""
    from ase.calculators.calculator import PropertyNotImplementedError

    try:
        return float(atoms.get_potential_energy(force_consistent=True))
    except PropertyNotImplementedError:
        return float(atoms.get_potential_energy())


def curvature(pos: np.ndarray, gradient: np.ndarray, pos0: np.ndarray,
              gradient0: np.ndarray) -> float:
    """s.y (eV) of a step s = pos - pos0 with gradient change y = gradient - gradient0:
    positive where the energy is convex along the step."""
    return float(np.ravel(pos - pos0) @ np.ravel(gradient - gradient0))


class GuardedBFGS(BFGS):
    """ASE BFGS started from a supplied Hessian (eV/A^2), e.g. an ML model's, that falls back
    to ASE's own start (``alpha`` times the identity) the first time that Hessian misleads.

    A BFGS step from a good Hessian goes downhill. When the energy after a step is more than
    ``tolerance_eV`` above the energy before it, the supplied curvature was wrong (an ML model
    that sees soft modes the DFT surface does not have sends BFGS its maximum step along them):
    the step is rejected, and BFGS continues from the geometry before it with ASE's default
    Hessian, updated with the curvature the rejected step measured (no force call is spent on
    going back: that geometry's forces are kept). ``fallback_step`` is the step at which this
    happened (None: the supplied Hessian was kept to the end). With it, a relaxation costs at
    most the steps spent before the rejection more than one from ASE's default start.
    A step along which the energy is concave does not update the Hessian (:meth:`update`).

    ``first_positions`` (N x 3, A): a first step proposed from elsewhere, e.g. the ML
    model's relaxed geometry (the supplied Hessian then being the model's there). It is
    taken only if the start's forces point along it and promise a real gain,
    ``first_step_predicted_eV`` = -F.d/2 < -``first_step_min_gain_eV`` (the energy change
    by the trapezoid rule if it ends where the forces vanish), else BFGS takes its own
    step. Taken and kept: BFGS starts there afresh from
    the supplied Hessian. Taken and rejected (the energy rose): the geometry, not the
    Hessian, was wrong, and BFGS starts afresh from the start with the supplied Hessian.
    Either way the long first step is no curvature pair, and the guard above holds for
    the steps after it. ``first_step``: ``taken``, ``rejected`` or ``not_taken``.
    """

    def __init__(self, atoms: Atoms, hessian: np.ndarray,
                 tolerance_eV: float = ENERGY_RISE_TOLERANCE_EV,
                 first_positions: np.ndarray | None = None,
                 first_step_min_gain_eV: float = FIRST_STEP_MIN_GAIN_EV, **kwargs):
        super().__init__(atoms, **kwargs)
        n = self.optimizable.ndofs()
        self.H0 = np.array(hessian, dtype=float).reshape(n, n)  # BFGS updates it in place
        self.tolerance_eV = tolerance_eV
        self.fallback_step: int | None = None
        self.steps_before = 0  # steps of a killed run, replayed from its checkpoint
        self._rejected_last = False  # its last frame was the rejected one
        self.energy0: float | None = None
        self.first_x = None if first_positions is None else np.array(first_positions).ravel()
        self.first_step: str | None = None
        self.first_step_predicted_eV: float | None = None
        self.first_step_min_gain_eV = first_step_min_gain_eV

    def update(self, pos, forces, pos0, forces0):
        """BFGS's update, skipped where the step's curvature s.y is not positive (s the
        step, y the change of the gradient): such a pair would make the Hessian
        indefinite and send the next step along a wrong direction (Nocedal and Wright,
        Numerical Optimization, sec. 6.1). Measured on LiC6(001)'s clean slab: a first
        step with s.y = -0.056 eV made the next one 0.42 eV uphill."""
        if self.state is not None and pos0 is not None and curvature(
                pos, -forces, pos0, -forces0) <= 0:
            return
        super().update(pos, forces, pos0, forces0)

    def _default_hessian(self) -> np.ndarray:
        return np.eye(self.optimizable.ndofs()) * self.alpha

    def _reject(self, pos: np.ndarray, gradient: np.ndarray, step: int) -> None:
        """Step ``step``, to ``pos``, raised the energy: ASE's default Hessian from here on,
        with the rejected pair's curvature (the supplied first geometry's step: the
        supplied Hessian afresh); ``pos0``, ``forces0`` and ``energy0`` stay."""
        from ase._4.optimize.bfgs import BFGSMethod

        if step == 1 and self.first_step == "taken":
            self.first_step = "rejected"
            self.state = BFGSMethod(self.H0)
            return
        self.state = BFGSMethod(self._default_hessian())
        self.update(pos, -gradient, self.pos0, self.forces0)
        self.fallback_step = step

    def _rises(self, energy: float) -> bool:
        return (self.fallback_step is None and self.energy0 is not None
                and energy > self.energy0 + self.tolerance_eV)

    def step(self, gradient=None):
        gradient = self._get_gradient(gradient)
        if self._rejected_last:  # resumed at the rejected geometry: as the killed run did
            self._rejected_last = False
            return self._step_from_before()
        energy = _free_energy(self.atoms)
        pos = self.optimizable.get_x().ravel()
        step = self.nsteps + self.steps_before
        if self._rises(energy):
            self._reject(pos, gradient.ravel(), step)
            return self._step_from_before()
        self.energy0 = energy
        if self.first_x is not None and step == 0 and self._take_first(pos, gradient.ravel()):
            self.pos0, self.forces0 = pos, -gradient.ravel()
            self.optimizable.set_x(self.first_x)
            return None
        if self.first_step == "taken" and step == 1:  # kept: BFGS starts afresh from here
            self.state = self.pos0 = self.forces0 = None
        return super().step()

    def _take_first(self, pos: np.ndarray, gradient: np.ndarray) -> bool:
        """Whether the proposed first step ``d`` from ``pos`` (the start) goes downhill by
        more than ``first_step_min_gain_eV``: g.d / 2 (eV), the trapezoid rule with the
        gradient ``g`` there and none at the end. The supplied Hessian is not used: it is
        the model's at the far end, and over a long step its quadratic model is no guide."""
        d = self.first_x - pos
        self.first_step_predicted_eV = float(0.5 * gradient @ d)
        gain = -self.first_step_predicted_eV
        self.first_step = "taken" if gain > self.first_step_min_gain_eV else "not_taken"
        return self.first_step == "taken"

    def _step_from_before(self) -> None:
        """The step from the geometry before the rejected one (its forces are kept)."""
        dpos = self.state.compute_step(-self.forces0)
        dpos = self.determine_step(dpos, self.optimizable.gradient_norm(dpos))
        self.optimizable.set_x(self.pos0 + dpos)

    def _replay_trajectory(self, traj):
        """The state of a killed run after its checkpoint frames, rejection included."""
        self.state = None
        self.pos0 = self.forces0 = self.energy0 = None
        for frame, atoms in enumerate(traj):
            pos = atoms.get_positions().ravel()
            forces = atoms.get_forces().ravel()
            energy = _free_energy(atoms)
            if frame == 0 and self.first_x is not None:
                self._take_first(pos, -forces)  # as the killed run decided
            self._rejected_last = self.pos0 is not None and self._rises(energy)
            if self._rejected_last:
                self._reject(pos, -forces, frame)
                continue
            if self.first_step == "taken" and frame == 1:  # no curvature pair: start afresh
                self.state = self.pos0 = self.forces0 = None
            self.update(pos, forces, self.pos0, self.forces0)
            self.pos0, self.forces0, self.energy0 = pos, forces, energy
        self.steps_before = frame


@dataclass
class Outcome:
    """What a calculation produced: energy (eV), max force (eV/A), steps and flags."""

    atoms: Atoms
    energy_eV: float | None
    fmax_eV_A: float | None
    steps: int = 0
    resumed_steps: int = 0
    relax_converged: bool = True
    scf_converged: bool = True
    error: str | None = None
    wall_s: float = 0.0
    scf_iterations: int | None = None
    extra: dict = field(default_factory=dict)


def _read_frames(path: Path) -> list[Atoms]:
    """The frames of a checkpoint trajectory up to the first one a kill cut short (the
    file is then rewritten with those, so that steps appended later can be read back)."""
    frames: list[Atoms] = []
    try:
        with Trajectory(str(path)) as traj:
            for i in range(len(traj)):
                frames.append(traj[i])
            return frames
    except Exception as exc:  # noqa: BLE001 - ASE raises what its decoder raises
        print(f"{path}: frame {len(frames)} unreadable ({type(exc).__name__}: {exc}); "
              f"continuing from the {len(frames)} before it", flush=True)
    if world.rank == 0:
        with Trajectory(f"{path}.tmp", "w") as out:
            for frame in frames:
                out.write(frame)
        Path(f"{path}.tmp").replace(path)
    world.barrier()
    return frames


def _same_start(first: Atoms, atoms: Atoms, tol_A: float = 1e-6) -> bool:
    """A checkpoint whose first frame is ``atoms`` (same elements, positions and cell, to
    ``tol_A``): a relaxation of these atoms to resume. Any other (a start that changed with
    its inputs, an older clean slab or prescreen) is not continued."""
    return (first.get_chemical_symbols() == atoms.get_chemical_symbols()
            and np.abs(first.cell.array - atoms.cell.array).max() <= tol_A
            and np.abs(first.positions - atoms.positions).max() <= tol_A)


def _is_scf_failure(exc: Exception) -> bool:
    return type(exc).__name__ in {"KohnShamConvergenceError", "SCFConvergenceError"}


def _max_force(atoms: Atoms) -> float:
    forces = atoms.get_forces()  # constrained forces are zero
    return float(np.linalg.norm(forces, axis=1).max()) if len(forces) else 0.0


def _scf_iterations(calc: Calculator) -> int | None:
    try:
        return int(calc.get_number_of_iterations())
    except Exception:
        return None


def single_point(atoms: Atoms, calc: Calculator, forces: bool = True) -> Outcome:
    """Energy (and forces) of ``atoms`` as they are."""
    start = time.perf_counter()
    atoms = atoms.copy()
    atoms.calc = calc
    try:
        energy = float(atoms.get_potential_energy())
        fmax = _max_force(atoms) if forces else None
    except Exception as exc:
        if not _is_scf_failure(exc):
            raise
        return Outcome(atoms, None, None, scf_converged=False, error=str(exc),
                       wall_s=time.perf_counter() - start)
    return Outcome(atoms, energy, fmax, wall_s=time.perf_counter() - start,
                   scf_iterations=_scf_iterations(calc))


PROGRESS_PREFIX = "philicity-step"


def progress_line(step: int, steps: int, energy_eV: float, fmax_eV_A: float,
                  scf_iterations: int | None, step_s: float) -> str:
    """The log line of one ionic step (``philicity status`` reads the last one):
    ``philicity-step 3/60 energy_eV=-212.716055 fmax_eV_A=0.0421 scf=12 step_s=41.3``."""
    return (f"{PROGRESS_PREFIX} {step}/{steps} energy_eV={energy_eV:.6f} "
            f"fmax_eV_A={fmax_eV_A:.4f} scf={'-' if scf_iterations is None else scf_iterations} "
            f"step_s={step_s:.1f}")


def relax(
    atoms: Atoms,
    calc: Calculator,
    fmax_eV_A: float,
    steps: int,
    checkpoint: str | Path,
    optimizer: str = "BFGS",
    log: str | Path | None = None,
    hessian: np.ndarray | None = None,
    save_state: Callable[[], object] | None = None,
    cell: bool = False,
    first_positions: np.ndarray | None = None,
    first_step_min_gain_eV: float = FIRST_STEP_MIN_GAIN_EV,
) -> Outcome:
    """Relax ``atoms`` (respecting their constraints) to ``fmax_eV_A`` in at most ``steps``.

    ``hessian`` (3N x 3N, eV/A^2): BFGS's initial Hessian instead of ASE's 70 eV/A^2
    times the identity (ignored by the other optimizers), dropped for ASE's own the first
    time a step raises the energy (:class:`GuardedBFGS`; ``extra["hessian_fallback_step"]``).
    ``first_positions`` (with ``hessian``): where the first step goes (an ML model's
    relaxed geometry), taken if predicted more than ``first_step_min_gain_eV`` downhill
    and kept if it lowers the energy (``extra["first_step"]``).

    Each step is appended to ``checkpoint`` (an ASE trajectory). If it already
    holds a relaxation from the same start (atoms, positions and cell), the
    relaxation continues from its last frame
    and only the remaining steps are spent; BFGS and LBFGS first replay the frames
    (ASE's ``replay_trajectory``), so their Hessian is the one the killed run had
    and the resumed run takes the same steps. ``save_state`` is called after every
    checkpoint frame (e.g. to write the calculator's wave functions). A calculator that
    already holds results for the start (or resumed) geometry, such as one restored from a
    .gpw, gives its first forces without a new calculation. ``extra["scf_per_step"]``:
    SCF iterations of each force call; ``extra["energy_initial_eV"]``: the energy of the
    starting geometry (the first checkpoint frame), eV.

    ``cell``: the lattice relaxes too (ASE's ``FrechetCellFilter``; ``fmax_eV_A`` then also
    bounds the stress times the volume); a resumed run continues from the last frame's
    cell and positions with a fresh Hessian, and ``hessian`` is not used.
    """
    start = time.perf_counter()
    checkpoint = Path(checkpoint)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    atoms = atoms.copy()
    resumed = 0
    frames: list[Atoms] = []
    if checkpoint.exists() and checkpoint.stat().st_size > 0:
        frames = _read_frames(checkpoint)
        if frames and _same_start(frames[0], atoms):
            # checkpoints written before resumes stopped repeating their last frame
            frames = [f for i, f in enumerate(frames)
                      if i == 0 or np.abs(f.positions - frames[i - 1].positions).max() > 1e-10]
            if cell:
                atoms.set_cell(frames[-1].cell, scale_atoms=False)
            atoms.positions = frames[-1].positions
            resumed = len(frames) - 1
        else:
            frames = []
            checkpoint.unlink(missing_ok=True)  # another MPI rank may have removed it
    stored = getattr(calc, "atoms", None)
    if (stored is not None and len(stored) == len(atoms)
            and np.abs(stored.positions - atoms.positions).max() < 1e-8):
        atoms.positions = stored.positions  # the very same geometry: its results are reused
    atoms.calc = calc
    traj = Trajectory(str(checkpoint), "a", atoms)
    logfile = str(log) if log else None
    if cell:
        opt = OPTIMIZERS[optimizer](FrechetCellFilter(atoms), logfile=logfile)
    elif hessian is not None and optimizer == "BFGS":
        opt = GuardedBFGS(atoms, hessian, logfile=logfile, first_positions=first_positions,
                          first_step_min_gain_eV=first_step_min_gain_eV)
    else:
        opt = OPTIMIZERS[optimizer](atoms, logfile=logfile)
    if resumed and not cell and hasattr(opt, "_replay_trajectory"):
        opt.replay_trajectory(frames)
    # a resumed run's first frame is the checkpoint's last: written again, every resume
    # would spend one of the ``steps`` on it
    opt.attach(lambda: None if frames and opt.nsteps == 0 else traj.write())
    if save_state is not None:
        opt.attach(save_state)
    # GPAW counts the iterations of its last SCF only: sum them after every force call
    scf_counts: list[int] = []
    opt.attach(lambda: scf_counts.append(_scf_iterations(calc) or 0))
    energies = [frames[0].get_potential_energy()] if frames else []
    opt.attach(lambda: energies.append(atoms.get_potential_energy()))  # cached, no new SCF
    clock = [time.perf_counter()]

    def progress() -> None:  # one line per ionic step in the job's log
        now = time.perf_counter()
        if world.rank == 0:
            print(progress_line(opt.nsteps + resumed, steps, energies[-1], _max_force(atoms),
                                _scf_iterations(calc), now - clock[0]),
                  flush=True)
        clock[0] = now

    opt.attach(progress)
    try:
        converged = bool(opt.run(fmax=fmax_eV_A, steps=max(steps - resumed, 0)))
    except Exception as exc:
        traj.close()
        if not _is_scf_failure(exc):
            raise
        return Outcome(atoms, None, None, steps=opt.nsteps + resumed, resumed_steps=resumed,
                       relax_converged=False, scf_converged=False, error=str(exc),
                       wall_s=time.perf_counter() - start)
    traj.close()
    energy = float(atoms.get_potential_energy())
    fmax = _max_force(atoms)
    counted = _scf_iterations(calc) is not None
    extra = {"energy_initial_eV": float(energies[0]) if energies else energy}
    if isinstance(opt, GuardedBFGS):
        extra["hessian_fallback_step"] = opt.fallback_step
        if first_positions is not None:
            extra["first_step"] = opt.first_step
            extra["first_step_predicted_eV"] = opt.first_step_predicted_eV
    if counted:
        extra["scf_per_step"] = scf_counts
    return Outcome(atoms, energy, fmax, steps=opt.nsteps + resumed, resumed_steps=resumed,
                   # with the cell, the stress counts too: only the optimizer can tell
                   relax_converged=converged or (not cell and fmax <= fmax_eV_A),
                   wall_s=time.perf_counter() - start,
                   scf_iterations=sum(scf_counts) if counted else None, extra=extra)
