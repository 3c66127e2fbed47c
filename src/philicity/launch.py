"""Run one pipeline job on several MPI ranks.

A Snakemake rule runs ``workflow/scripts/run_job.py``, which calls :func:`run_job`. With
one task the job function runs in that process (plain ``python``, GPAW's serial backend).
With more, the job's arguments are written to a JSON file and every rank runs

    <launcher> -n N  python -m gpaw python -m philicity.launch  job.json

where the launcher is ``srun`` inside a SLURM allocation (``SLURM_JOB_ID`` set) and
``mpiexec`` elsewhere. ``gpaw python`` starts GPAW's MPI backend (plain ``python`` under
a launcher would run N serial copies). Every rank calls the same job function, GPAW
splits the work, and only rank 0 writes files (see ``philicity.jobs``).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import IO

LAUNCHERS = ("auto", "srun", "mpiexec")


def launcher_command(tasks: int, launcher: str = "auto", extra_args: Sequence[str] = (),
                     environ: Mapping[str, str] | None = None,
                     as_root: bool | None = None) -> list[str]:
    """The MPI launcher's words that start ``tasks`` ranks.

    ``launcher``: ``auto`` is ``srun`` inside a SLURM allocation (``SLURM_JOB_ID`` in
    ``environ``), else ``mpiexec``. ``srun`` gets the allocation's CPUs per task
    (``SLURM_CPUS_PER_TASK``; srun no longer inherits it since Slurm 22.05). Open MPI's
    ``mpiexec`` refuses to run as root unless told: ``--allow-run-as-root`` is added when
    ``as_root`` (default: the effective user id is 0). ``extra_args`` (e.g. ``--mpi=pmix``
    or ``--oversubscribe``) follow the launcher's own.
    """
    if launcher not in LAUNCHERS:
        raise ValueError(f"launcher {launcher!r} is not one of {LAUNCHERS}")
    if tasks < 1:
        raise ValueError(f"tasks must be at least 1, not {tasks}")
    environ = os.environ if environ is None else environ
    if launcher == "auto":
        launcher = "srun" if environ.get("SLURM_JOB_ID") else "mpiexec"
    if launcher == "srun":
        cmd = ["srun", "-n", str(tasks)]
        if environ.get("SLURM_CPUS_PER_TASK"):
            cmd.append(f"--cpus-per-task={environ['SLURM_CPUS_PER_TASK']}")
    else:
        cmd = ["mpiexec", "-n", str(tasks)]
        if as_root if as_root is not None else os.geteuid() == 0:
            cmd.append("--allow-run-as-root")
    return cmd + list(extra_args)


def mpi_command(tasks: int, args: Sequence[str], launcher: str = "auto",
                extra_args: Sequence[str] = (), environ: Mapping[str, str] | None = None,
                as_root: bool | None = None) -> list[str]:
    """``args`` (a script and its arguments, or ``-m module ...``) under ``gpaw python``
    on ``tasks`` ranks, with this interpreter (a virtual environment's need not be on
    ``PATH``)."""
    return (launcher_command(tasks, launcher, extra_args, environ, as_root)
            + [sys.executable, "-m", "gpaw", "python", *args])


BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread(environ: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """One BLAS/OpenMP thread per process unless the user set otherwise (two BLAS threads
    made serial GPAW 1.6-2x slower on 2 cores). Call it before numpy is imported; this module
    imports only the standard library for that reason."""
    for var in BLAS_THREAD_VARS:
        environ.setdefault(var, "1")
    return environ


def mpi_environment(tasks: int, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ranks' environment: the job's BLAS/OpenMP threads (default one) divided among
    its ``tasks`` ranks, at least one each. Snakemake sets these variables to the job's
    threads, which is one per rank, so passing them on unchanged would run ``tasks``
    threads in every rank (``tasks``-fold oversubscribed)."""
    env = dict(os.environ if environ is None else environ)
    for var in BLAS_THREAD_VARS:
        total = env.get(var, "1")
        if total.isdigit():
            env[var] = str(max(1, int(total) // tasks))
    return env


def run_mpi(tasks: int, args: Sequence[str], launcher: str = "auto",
            extra_args: Sequence[str] = (), stdout: IO | None = None) -> None:
    """Run ``args`` under ``gpaw python`` on ``tasks`` ranks and wait; the ranks' output
    goes to ``stdout`` (default: this process's). Raises ``CalledProcessError``."""
    cmd = mpi_command(tasks, args, launcher, extra_args)
    out = stdout if stdout is not None else sys.stdout
    print("launch:", " ".join(cmd), file=out, flush=True)
    subprocess.run(cmd, check=True, env=mpi_environment(tasks), stdout=out,
                   stderr=subprocess.STDOUT)


def job_function(target: str) -> Callable[..., object]:
    """The function ``target`` names, as ``"package.module:function"``."""
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"job {target!r} is not 'package.module:function'")
    return getattr(importlib.import_module(module), name)


def write_job(path: str | Path, target: str, job: Mapping, tasks: int,
              failure: Mapping | None = None) -> Path:
    """The job's function, arguments (paths become strings), rank count and failure
    records as JSON."""
    from philicity.files import write_json

    path = Path(path)
    write_json(path, {"function": target, "job": dict(job), "tasks": tasks,
                      "failure": dict(failure) if failure else None})
    return path


def call_job(target: str, job: Mapping, failure: Mapping | None = None) -> None:
    """Call ``target`` (``"module:function"``) with ``job``. With ``failure``
    (``records``: the JSON outputs, ``fields``: the candidate's file and the wildcards,
    ``rule``: the rule's name), an exception becomes a failed record in each output (MPI
    rank 0 writes it) and the traceback goes to the log: the candidate gets a failed row
    with the reason and the other candidates' tables are written. MemoryError is raised
    again, so that a scheduler's retry with more memory can still run the job."""
    function = job_function(target)
    try:
        function(**job)
    except MemoryError:
        raise
    except Exception as exc:
        if not failure or not failure.get("records"):  # tables and database: a real error
            raise
        import traceback

        from philicity.jobs.records import write_crash_records

        traceback.print_exc()
        write_crash_records(failure.get("rule") or target.rpartition(":")[2], exc, failure)


def launch(target: str, job: Mapping, tasks: int, job_json: str | Path,
           launcher: str = "auto", extra_args: Sequence[str] = (),
           stdout: IO | None = None, failure: Mapping | None = None) -> None:
    """Run ``target(**job)`` on ``tasks`` ranks (also for one) through ``job_json``, which
    stays beside the log so a failed job can be rerun by hand."""
    path = write_job(job_json, target, job, tasks, failure)
    run_mpi(tasks, ["-m", "philicity.launch", str(path)], launcher, extra_args, stdout)


def run_job(target: str, job: Mapping, tasks: int = 1, log: str | Path | None = None,
            launcher: str = "auto", extra_args: Sequence[str] = (),
            failure: Mapping | None = None) -> None:
    """Run the job function ``target`` (``"module:function"``, :func:`call_job`): in this
    process with one task, else on ``tasks`` MPI ranks with the arguments in
    ``<log>.job.json``."""
    if tasks <= 1:
        call_job(target, job, failure)
        return
    if log is None:
        raise ValueError("a job on several ranks needs a log path for its JSON file")
    launch(target, job, tasks, Path(log).with_suffix(".job.json"), launcher, extra_args,
           failure=failure)


def main(argv: Sequence[str] | None = None) -> None:
    """Every rank: read the job file and call the job function."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: gpaw python -m philicity.launch JOB.json")
    spec = json.loads(Path(argv[0]).read_text())
    from gpaw.mpi import world

    if world.size != spec.get("tasks", world.size):
        # e.g. srun without an MPI plugin (MpiDefault=none): N independent serial copies
        raise SystemExit(
            f"launch: {spec['tasks']} ranks were asked for, but this process sees an MPI "
            f"world of {world.size}: the launcher did not start one MPI job. With srun, "
            "set parallel.launcher_args: ['--mpi=pmix'] (srun --mpi=list shows the plugins)")
    call_job(spec["function"], spec["job"], spec.get("failure"))


if __name__ == "__main__":
    main()
