"""Charge transfer: Hirshfeld charges and charge-density differences.

Why a coating binds the metal, in the papers' two pictures: the adatom's charge (here
Hirshfeld's partitioning of GPAW's all-electron density, positive = electrons given away)
and the charge-density difference rho(AB) - rho(A) - rho(B) of the combined system and
its two parts, frozen at the combined geometry in the same cell (so on the same grid),
with its plane average along the surface normal and the charge it moves across the plane
between the parts. Densities in electrons per cubic angstrom unless named otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.units import Bohr

# beside a site record: the density of its final geometry, kept by the relaxation
DENSITY_FILE = "density.gpw"


def _gpaw(calc):
    """The GPAW calculator inside ``calc`` (a dispersion-corrected one holds it as
    ``dft``), or None for other calculators."""
    from philicity.calculators import DispersionCorrected

    if isinstance(calc, DispersionCorrected):
        calc = calc.dft
    return calc if type(calc).__module__.startswith("gpaw") else None


def hirshfeld_charges(calc, scratch: str | Path, keep: bool = False) -> list[float] | None:
    """Hirshfeld charge of every atom (e; Z minus the electrons partitioned to the atom, so
    positive = electrons given away) from a converged GPAW calculation; None for a
    calculator without densities (EMT, ML).

    GPAW's ``HirshfeldPartitioning`` reads legacy GPAW's density objects only: the
    density is written to ``scratch`` (a .gpw without wave functions) and read back by
    legacy GPAW, which needs no SCF for it (a fraction of a second). ``keep``: leave the
    file, so that :func:`saved_density` reads this density again without an SCF."""
    if save_density(calc, scratch) is None:
        return None
    scratch = Path(scratch)
    charges = _legacy_hirshfeld(_legacy(scratch))
    from ase.parallel import barrier, world

    barrier()
    if world.rank == 0 and not keep:
        scratch.unlink(missing_ok=True)
    return charges


def save_density(calc, path: str | Path) -> str | None:
    """Write a converged GPAW calculation's density (a .gpw without wave functions, a few
    MB) to ``path``, for :func:`saved_density`; None, and nothing written, for other
    calculators. Collective under MPI (rank 0 writes)."""
    gpaw = _gpaw(calc)
    if gpaw is None:
        return None
    gpaw.write(str(path))
    return str(path)


def _legacy(gpw: Path):
    from gpaw import GPAW

    return GPAW(str(gpw), legacy_gpaw=True, txt=None)


def _legacy_hirshfeld(legacy) -> list[float]:
    from gpaw.analyse.hirshfeld import HirshfeldPartitioning

    return [float(q) for q in HirshfeldPartitioning(legacy).get_charges()]


def saved_density(gpw: str | Path, refinement: int = 2, hirshfeld: bool = True,
                  atoms: Atoms | None = None, tol_A: float = 1e-4
                  ) -> tuple[np.ndarray, list[float] | None] | None:
    """The all-electron density (e/A^3, GPAW's fine grid with ``refinement`` 2) and, if
    ``hirshfeld``, the Hirshfeld charges (e) of a converged calculation saved by
    :func:`save_density` (or :func:`hirshfeld_charges` with ``keep``): the same numbers
    as from the calculation itself, with no SCF. With ``atoms``: None unless the saved
    calculation is of exactly these atoms (elements, cell and positions within
    ``tol_A``), so that a file left from an earlier geometry is never read."""
    legacy = _legacy(Path(gpw))
    if atoms is not None:
        kept = legacy.get_atoms()
        if (len(kept) != len(atoms) or (kept.numbers != atoms.numbers).any()
                or not np.allclose(kept.cell.array, atoms.cell.array, atol=tol_A)
                or not np.allclose(kept.positions, atoms.positions, atol=tol_A)):
            return None
    rho = np.asarray(legacy.get_all_electron_density(gridrefinement=refinement))
    return rho, _legacy_hirshfeld(legacy) if hirshfeld else None


def all_electron_density(calc, refinement: int = 2) -> np.ndarray | None:
    """GPAW's all-electron density (e/A^3) on its fine grid (``refinement`` 2); None for
    calculators without one."""
    gpaw = _gpaw(calc)
    return None if gpaw is None else np.asarray(
        gpaw.get_all_electron_density(gridrefinement=refinement))


def density_difference(rho_ab: np.ndarray, rho_a: np.ndarray,
                       rho_b: np.ndarray) -> np.ndarray:
    """rho(AB) - rho(A) - rho(B) (e/A^3) on one grid; raises ValueError if the grids
    differ (the parts were not computed in the combined system's cell)."""
    if not rho_ab.shape == rho_a.shape == rho_b.shape:
        raise ValueError(f"densities on different grids: {rho_ab.shape}, {rho_a.shape}, "
                         f"{rho_b.shape}")
    return rho_ab - rho_a - rho_b


def integrate(rho: np.ndarray, cell: np.ndarray) -> float:
    """Integral of a density (e/A^3) over the cell (A): the number of electrons."""
    return float(rho.sum() * abs(np.linalg.det(cell)) / rho.size)


@dataclass
class Profile:
    """The plane average of a density along the cell's third axis: ``z_A`` (grid points,
    A), ``rho_e_per_A`` (the density integrated over the plane, e/A) and ``q_below_e``
    (its running integral from the bottom of the cell, e)."""

    z_A: np.ndarray
    rho_e_per_A: np.ndarray
    q_below_e: np.ndarray

    def charge_moved(self, z_plane_A: float) -> float:
        """Electrons the difference moved from above ``z_plane_A`` to below it (e;
        positive: toward the lower part, e.g. from a Na adatom into the coating)."""
        return float(np.interp(z_plane_A, self.z_A, self.q_below_e))


def plane_profile(rho: np.ndarray, cell: np.ndarray) -> Profile:
    """Plane average of ``rho`` (e/A^3) along the third cell vector, which must be normal
    to the other two (a slab cell)."""
    cell = np.asarray(cell)
    if abs(cell[2, :2]).max() > 1e-6 or abs(cell[:2, 2]).max() > 1e-6:
        raise ValueError("the third cell vector is not along z, normal to the surface")
    nz = rho.shape[2]
    dz = cell[2, 2] / nz
    area = abs(np.linalg.det(cell[:2, :2]))
    line = rho.mean(axis=(0, 1)) * area
    # the grid samples the density at z (not slices from z): the charge below z is the
    # trapezoid rule's integral from the cell's bottom (in the vacuum) to z
    return Profile(np.arange(nz) * dz, line, (np.cumsum(line) - line / 2 - line[0] / 2) * dz)


def interface_plane(atoms: Atoms, lower: np.ndarray) -> float | None:
    """The plane between two parts stacked along z (A): midway between the highest atom
    of the lower part (``lower``: boolean mask) and the lowest atom of the upper one;
    None where they overlap in z (an adatom that sank into the surface), since no plane
    separates them."""
    z = atoms.positions[:, 2]
    if z[~lower].min() <= z[lower].max():
        return None
    return float((z[lower].max() + z[~lower].min()) / 2)


def write_cube(path: str | Path, atoms: Atoms, rho_e_per_A3: np.ndarray) -> None:
    """A Gaussian cube file of a density given in e/A^3, written in the format's unit,
    e/bohr^3 (VESTA, VMD, Avogadro read it). Written by the calling rank alone (under MPI
    the job calls it on rank 0 only; ASE's parallel write would broadcast to ranks that
    do not listen)."""
    from ase.io import write

    write(str(path), atoms, format="cube", data=rho_e_per_A3 * Bohr**3, parallel=False)
