"""A real GPAW job on 1 and on 2 MPI ranks through the pipeline's launcher (seconds)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from philicity import config, launch

pytestmark = pytest.mark.gpaw

gpaw = pytest.importorskip("gpaw", reason="GPAW is installed by scripts/install.sh")


@pytest.fixture
def tiny() -> dict:
    """PW(200), a coarse k-mesh (kpt_density 1.5), tight SCF: bcc Na (2 atoms) in seconds."""
    cfg = config.validate({"presets": {"tiny": {
        "calculator": {"name": "gpaw", "mode": "pw", "ecut_eV": 200, "kpt_density": 1.5,
                       "energy_convergence_eV": 0.0001},
    }}, "preset": "tiny"})
    return config.settings(cfg)


def _on_two_ranks(script) -> list[str]:
    """The stdout lines of ``gpaw python script`` on 2 MPI ranks (which must succeed)."""
    run = subprocess.run(["mpiexec", "--allow-run-as-root", "--oversubscribe", "-n", "2",
                          sys.executable, "-m", "gpaw", "python", str(script)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.splitlines()


def test_gpaw_is_built_with_mpi_scalapack_and_fftw():
    import gpaw.cgpaw as cgpaw
    from gpaw.fftw import have_fftw
    from gpaw.utilities import compiled_with_sl

    assert cgpaw.have_mpi, "GPAW without MPI: run scripts/install.sh, which rebuilds it"
    assert compiled_with_sl() and have_fftw()
    assert shutil.which("mpiexec"), "Open MPI's mpiexec: scripts/install.sh installs it"


def test_bulk_na_gives_the_same_energy_on_one_and_two_ranks(tmp_path, tiny, root):
    records = {}
    for ranks in (1, 2):
        out = tmp_path / f"n{ranks}"
        log = tmp_path / f"n{ranks}.log"
        job = {"cif": root / "structures/anodes/Na.cif", "metal": "Na", "settings": tiny,
               "outdir": out}
        with open(log, "w") as fh:
            launch.launch("philicity.jobs.bulk:compute_bulk", job, ranks,
                          tmp_path / f"n{ranks}.job.json", stdout=fh)
        assert f"mpiexec -n {ranks}" in log.read_text()
        # only rank 0 wrote: one record, one structure, no temporary files left behind
        assert sorted(p.name for p in out.iterdir()) == ["calc.txt", "final.extxyz",
                                                         "record.json"]
        assert f"cores:  {ranks}" in (out / "calc.txt").read_text()
        records[ranks] = json.loads((out / "record.json").read_text())
    assert records[1]["status"] == records[2]["status"] == "ok"
    assert records[2]["energy_eV"] == pytest.approx(records[1]["energy_eV"], abs=1e-3)
    assert records[1]["settings_hash"] == records[2]["settings_hash"]


def test_ranks_that_are_not_one_mpi_job_refuse_to_run(tmp_path):
    """srun without an MPI plugin starts N serial copies that would each write: refused."""
    job = launch.write_job(tmp_path / "j.json", "philicity.jobs.bulk:compute_atom", {},
                           tasks=2)
    proc = subprocess.run([sys.executable, "-m", "gpaw", "python", "-m", "philicity.launch",
                           str(job)], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "--mpi=pmix" in proc.stderr


def test_ml_relaxation_continues_from_rank_0_on_every_rank(tmp_path):
    """Ranks that disagree after the ML stage (here: a rank-dependent start) all carry
    rank 0's geometry and energy into the DFT, which needs identical atoms."""
    script = tmp_path / "ml_ranks.py"
    script.write_text(
        "import json, sys\n"
        "from ase.build import fcc100\n"
        "from ase.calculators.emt import EMT\n"
        "from ase.parallel import broadcast, world\n"
        "from philicity.ml_then_dft import ml_relax\n"
        "atoms = fcc100('Cu', (1, 1, 2), vacuum=5.0)\n"
        "atoms.positions[-1, 2] += 0.1 * (world.rank + 1)\n"
        f"out = ml_relax(atoms, EMT(), 0.05, 3, r'{tmp_path}/ml_' + str(world.rank) + '.traj')\n"
        "mine = json.dumps([out.atoms.positions.round(12).tolist(), out.energy_eV])\n"
        "everyone = [broadcast(mine if world.rank == r else None, r, world)\n"
        "            for r in range(world.size)]\n"
        "if world.rank == 0:\n"
        "    print('RANKS', json.dumps(everyone))\n")
    line = next(ln for ln in _on_two_ranks(script) if ln.startswith("RANKS"))
    rank0, rank1 = json.loads(line.split(" ", 1)[1])
    assert rank0 == rank1


def test_a_job_goes_on_collectively_after_rank_0_writes_a_structure(tmp_path):
    """compute_adhesion writes each separated part (rank 0 only) and then starts the next
    GPAW calculation on every rank; charge_transfer writes a cube (rank 0 only) and then
    reads the next interface on every rank. ASE's ``write`` used to broadcast from rank 0
    even there: the other rank took that message for its next collective call (GPAW's
    atom synchronisation crashed after the Na2CO3/Na metal part; ASE's parallel read
    ended empty after the Pb/Na site's cube)."""
    script = tmp_path / "write_then_collective.py"
    script.write_text(
        "import json\n"
        "import numpy as np\n"
        "from ase.build import bulk\n"
        "from ase.parallel import broadcast, world\n"
        "from philicity.charges import write_cube\n"
        "from philicity.jobs.mpi import is_master, write_atoms\n"
        "na = bulk('Na', cubic=True)\n"
        f"write_atoms(r'{tmp_path}/final.extxyz', na)\n"
        "if is_master():\n"
        f"    write_cube(r'{tmp_path}/d.cube', na, np.zeros((4, 4, 4)))\n"
        "got = broadcast('next collective' if world.rank == 0 else None, 0, world)\n"
        "print('RANK', world.rank, json.dumps(got), flush=True)\n")
    got = sorted(ln for ln in _on_two_ranks(script) if ln.startswith("RANK"))
    assert got == ['RANK 0 "next collective"', 'RANK 1 "next collective"']
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.cube", "final.extxyz",
                                                          "write_then_collective.py"]


def test_the_ml_relaxed_start_of_a_clean_slab_is_saved_once_and_read_on_every_rank(tmp_path):
    """The clean slab's ML-relaxed cut (EMT stands in for the model): written by rank 0
    without ASE's collective write, and read by both ranks with its constraint."""
    script = tmp_path / "ml_start.py"
    script.write_text(
        "from pathlib import Path\n"
        "from ase.build import fcc100\n"
        "from ase.calculators.emt import EMT\n"
        "from ase.constraints import FixAtoms\n"
        "from ase.io import read\n"
        "import json\n"
        "from ase.parallel import broadcast, world\n"
        "from philicity.jobs.dft import ml_relaxed_file\n"
        "atoms = fcc100('Cu', (2, 2, 3), vacuum=5.0)\n"
        "atoms.set_constraint(FixAtoms(indices=[0, 1, 2, 3]))\n"
        "atoms.rattle(0.05, seed=1)\n"
        "path = ml_relaxed_file(atoms, EMT, {'fmax_eV_A': 0.05, 'steps': 50},\n"
        f"                       Path(r'{tmp_path}/ck'), 'clean')\n"
        "start = read(path)\n"
        "mine = [len(start), start.constraints[0].index.tolist()]\n"
        "everyone = [broadcast(mine if world.rank == r else None, r, world)\n"
        "            for r in range(world.size)]\n"
        "if world.rank == 0:\n"
        "    print('RANKS', json.dumps(everyone))\n")
    line = next(ln for ln in _on_two_ranks(script) if ln.startswith("RANKS"))
    assert json.loads(line.split(" ", 1)[1]) == [[12, [0, 1, 2, 3]], [12, [0, 1, 2, 3]]]
    # the ML trajectory is removed, no temporary file is left: the saved start alone
    (saved,) = (tmp_path / "ck").iterdir()
    assert saved.name.startswith("clean_ml_") and saved.suffix == ".json"
