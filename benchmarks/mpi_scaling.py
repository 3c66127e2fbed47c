"""Benchmark: one GPAW single point on 1 and on 2 MPI ranks, side by side.

Na in the hollow site of Al(100) 2x2x3 (13 atoms), PBE, PW(300) with the fast preset's
other calculator settings and k-points 4x4x1 (kpt_density 3.5 on this cell), energy and
forces. Both runs go through the pipeline's launcher (philicity.launch.run_mpi:
``mpiexec -n N python -m gpaw python``; ``srun`` inside a SLURM allocation) and the
pipeline's calculator factory, one after the other. For each it prints the wall time of
the SCF + forces, of the whole launch (imports and MPI start included), the peak memory
per rank and the k-mesh, and as the last line exactly

    ratio_wall_1_over_2=<SCF wall 1 rank / 2 ranks> dE_meV=<|E(2) - E(1)| in meV>

    python benchmarks/mpi_scaling.py               # 1 and 2 ranks
    python benchmarks/mpi_scaling.py --ranks 1 4   # other rank counts
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from philicity.launch import one_blas_thread  # stdlib only: runs before numpy loads

one_blas_thread(os.environ)

ROOT = Path(__file__).resolve().parents[1]


def system():
    """Na on the hollow site of Al(100) 2x2x3, 6 A of vacuum on each side (13 atoms)."""
    from ase.build import add_adsorbate, fcc100

    slab = fcc100("Al", size=(2, 2, 3), a=4.05, vacuum=6.0)
    add_adsorbate(slab, "Na", 2.2, "hollow")
    slab.center(vacuum=6.0, axis=2)
    return slab


def calculator_settings() -> dict:
    """The shipped fast preset's calculator with PW(300) and a 4x4x1 k-mesh here."""
    from philicity import config as cfg

    _, settings = cfg.load(ROOT / "config" / "config.yaml", "fast")
    calc = dict(settings["calculator"], ecut_eV=300, kpt_density=3.5)
    return calc


def worker(out_json: str) -> None:
    """Every rank: one energy + forces; rank 0 writes the numbers."""
    import numpy as np
    from gpaw.mpi import world

    from philicity import calculators
    from philicity.relax import single_point

    atoms = system()
    calc = calculators.make_calculator(calculator_settings(), "slab",
                                       txt=Path(out_json).with_suffix(".txt"))
    world.barrier()
    start = time.perf_counter()
    out = single_point(atoms, calc)
    wall = time.perf_counter() - start
    rss = np.zeros(world.size)
    rss[world.rank] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MB
    world.sum(rss)
    if world.rank == 0:
        Path(out_json).write_text(json.dumps({
            "ranks": world.size, "energy_eV": out.energy_eV, "fmax_eV_A": out.fmax_eV_A,
            "scf_wall_s": wall, "scf_iterations": out.scf_iterations,
            "n_kpts_ibz": len(calc.get_ibz_k_points()),
            "max_rss_MB_per_rank": rss.round(0).tolist(), "n_atoms": len(atoms)}))


def kmesh(calc_txt: Path) -> str:
    """The Monkhorst-Pack mesh GPAW reports in its text log."""
    for line in calc_txt.read_text().splitlines():
        if "Monkhorst-Pack size:" in line:
            return "x".join(line.split(":", 1)[1].strip(" []").replace(",", " ").split())
    return "?"


def main() -> None:
    if sys.argv[1:2] == ["worker"]:  # under the launcher (no dashes: gpaw python's own
        worker(sys.argv[2])           # options parser would take them)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    from philicity.launch import run_mpi

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    results = {}
    with tempfile.TemporaryDirectory(prefix="mpi_scaling_") as tmp:
        for n in args.ranks:
            out = Path(tmp) / f"n{n}.json"
            with open(Path(tmp) / f"n{n}.log", "w") as log:
                start = time.perf_counter()
                run_mpi(n, [str(Path(__file__).resolve()), "worker", str(out)], stdout=log)
                launch_wall = time.perf_counter() - start
            res = json.loads(out.read_text())
            res.update(launch_wall_s=launch_wall, mesh=kmesh(out.with_suffix(".txt")))
            results[n] = res
            print(f"ranks={n} E={res['energy_eV']:.6f} eV fmax={res['fmax_eV_A']:.4f} eV/A "
                  f"scf_wall={res['scf_wall_s']:.1f} s launch_wall={launch_wall:.1f} s "
                  f"scf_iterations={res['scf_iterations']} k={res['mesh']} "
                  f"ibz_kpts={res['n_kpts_ibz']} max_rss_MB={res['max_rss_MB_per_rank']}",
                  flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    first, last = args.ranks[0], args.ranks[-1]
    ratio = results[first]["scf_wall_s"] / results[last]["scf_wall_s"]
    de = abs(results[last]["energy_eV"] - results[first]["energy_eV"]) * 1000
    print(f"ratio_wall_{first}_over_{last}={ratio:.2f} dE_meV={de:.3f}")


if __name__ == "__main__":
    sys.exit(main())
