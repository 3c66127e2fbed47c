"""Files under MPI: every rank runs the same job function (``philicity.launch``) and GPAW
splits the work; files are written by rank 0 only. GPAW's and ASE's own writers (text
logs, trajectories, .gpw) do the same."""

from __future__ import annotations

import functools
from collections.abc import Callable

from philicity import files


def is_master() -> bool:
    """True on MPI rank 0, and in serial runs."""
    from ase.parallel import world

    return world.rank == 0


def master_only(write: Callable[..., None]) -> Callable[..., None]:
    """``write`` on MPI rank 0 only: the other ranks computed the same result."""

    @functools.wraps(write)
    def on_master(*args, **kwargs) -> None:
        if is_master():
            write(*args, **kwargs)

    return on_master


write_json = master_only(files.write_json)
write_atoms = master_only(files.write_atoms)
