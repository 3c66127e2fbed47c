"""The MPI launcher's command line, the job file, and the config's parallel section."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from philicity import config, launch

BULK = "philicity.jobs.bulk:compute_bulk"


@pytest.mark.parametrize(("environ", "as_root", "expected"), [
    ({}, False, ["mpiexec", "-n", "4"]),
    ({}, True, ["mpiexec", "-n", "4", "--allow-run-as-root"]),
    ({"SLURM_JOB_ID": "123"}, True, ["srun", "-n", "4"]),
    ({"SLURM_JOB_ID": "123", "SLURM_CPUS_PER_TASK": "2"}, False,
     ["srun", "-n", "4", "--cpus-per-task=2"]),
])
def test_auto_is_srun_inside_slurm_else_mpiexec(environ, as_root, expected):
    assert launch.launcher_command(4, "auto", environ=environ, as_root=as_root) == expected


def test_launcher_can_be_forced_and_takes_extra_arguments():
    slurm = {"SLURM_JOB_ID": "1"}
    assert launch.launcher_command(2, "mpiexec", ["--oversubscribe"], slurm, False) == [
        "mpiexec", "-n", "2", "--oversubscribe"]
    assert launch.launcher_command(2, "srun", ["--mpi=pmix"], {}, True) == [
        "srun", "-n", "2", "--mpi=pmix"]
    with pytest.raises(ValueError, match="launcher"):
        launch.launcher_command(2, "mpirun")
    with pytest.raises(ValueError, match="tasks"):
        launch.launcher_command(0)


def test_ranks_run_gpaw_python_with_this_interpreter():
    cmd = launch.mpi_command(2, ["-m", "philicity.launch", "j.json"], environ={},
                             as_root=False)
    assert cmd == ["mpiexec", "-n", "2", sys.executable, "-m", "gpaw", "python",
                   "-m", "philicity.launch", "j.json"]
    env = launch.mpi_environment(2, {"PATH": "/bin", "OMP_NUM_THREADS": "6"})
    assert env["OPENBLAS_NUM_THREADS"] == "1" and env["OMP_NUM_THREADS"] == "3"
    # Snakemake sets the threads of a 2-rank job to 2: one per rank, not two
    snakemake_env = {var: "2" for var in launch.BLAS_THREAD_VARS}
    assert set(launch.mpi_environment(2, snakemake_env).values()) == {"1"}


def test_one_task_runs_in_process_and_more_go_through_a_job_file(tmp_path, monkeypatch,
                                                                 settings, root):
    job = {"cif": root / "structures/coatings/Cu.cif", "metal": "Cu", "settings": settings,
           "outdir": tmp_path / "bulk"}
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    log = tmp_path / "logs" / "compute_bulk" / "Cu.log"
    log.parent.mkdir(parents=True)
    with open(log, "w") as fh:
        monkeypatch.setattr(sys, "stdout", fh)
        launch.run_job(BULK, job, 1, log)  # EMT, in this process
        assert not calls and (tmp_path / "bulk" / "record.json").exists()
        launch.run_job(BULK, job, 2, log, "mpiexec", ["--oversubscribe"])
    spec = json.loads(log.with_suffix(".job.json").read_text())
    assert spec["function"] == BULK and spec["job"]["outdir"] == str(tmp_path / "bulk")
    assert spec["tasks"] == 2
    assert calls[0][:3] == ["mpiexec", "-n", "2"] and "--oversubscribe" in calls[0]
    assert calls[0][-3:] == ["-m", "philicity.launch", str(log.with_suffix(".job.json"))]
    assert "launch: mpiexec -n 2" in log.read_text()


def test_the_parallel_section_is_no_setting_and_gpaw_parallel_is_unhashed():
    base = {"presets": {"fast": {}}}
    cfg = config.validate(dict(base))
    assert cfg["parallel"]["tasks"] == 1 and cfg["parallel"]["launcher"] == "auto"
    s0 = config.settings(cfg)
    s1 = config.settings(config.validate({**base, "parallel": {"tasks": 8},
                                          "overrides": {"calculator": {
                                              "parallel": {"sl_auto": True}}}}))
    assert s1["calculator"]["parallel"] == {"sl_auto": True}
    assert config.settings_hash(s0) == config.settings_hash(s1)
    with pytest.raises(config.ConfigError, match="tasks_per_rule"):
        config.validate({**base, "parallel": {"tasks_per_rule": {"report_metal": 2}}})
    # every DFT rule, and only those, can take its own ranks
    from philicity.resources import DFT_RULES

    every = config.validate({**base, "parallel": {"tasks_per_rule": dict.fromkeys(
        DFT_RULES, 2)}})
    assert set(every["parallel"]["tasks_per_rule"]) == set(DFT_RULES)


def test_a_job_that_raises_leaves_failed_records_naming_the_candidate(tmp_path):
    """Any exception in a job becomes a failed record in each JSON output, so the
    candidate ends as a row instead of stopping the tables; without ``failure`` it raises."""
    import json

    import pytest

    job = {"terminations_json": str(tmp_path / "missing.json"), "settings": {},
           "out_json": str(tmp_path / "sites.json")}
    with pytest.raises(FileNotFoundError):
        launch.call_job("philicity.jobs.slabs:find_sites", job)
    failure = {"records": [str(tmp_path / "out" / "sites.json")],
               "fields": {"candidate": "structures/coatings/X.cif", "kind": "coatings",
                          "name": "X", "miller": "001"},
               "log": "results/logs/find_sites/X.log"}
    launch.call_job("philicity.jobs.slabs:find_sites", job, failure)
    rec = json.loads((tmp_path / "out" / "sites.json").read_text())
    assert rec["status"] == "failed" and rec["name"] == "X" and rec["miller"] == "001"
    assert rec["reason"].startswith("structures/coatings/X.cif: find_sites failed: "
                                    "FileNotFoundError")
    assert "results/logs/find_sites/X.log" in rec["reason"]
    from unittest import mock

    from philicity import jobs

    # left to the scheduler, whose retry asks for more memory
    with mock.patch.object(jobs.slabs, "find_sites", side_effect=MemoryError), \
            pytest.raises(MemoryError):
        launch.call_job("philicity.jobs.slabs:find_sites", {}, failure)


def test_a_job_without_records_to_write_raises_its_error(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError):
        launch.call_job("philicity.jobs.report:collect_database",
                        {"inputs": [str(tmp_path / "none.json")],
                         "db_path": str(tmp_path / "c.db")},
                        {"records": [], "fields": {}, "log": "x.log"})


def test_a_job_is_named_as_module_and_function():
    from philicity.jobs import slabs

    assert launch.job_function("philicity.jobs.slabs:find_sites") is slabs.find_sites
    with pytest.raises(ValueError, match="module:function"):
        launch.job_function("find_sites")  # a rule's name is no route


# Imported only by the functions that use them (seconds each); torch only by ML jobs.
HEAVY = ("torch", "pymatgen.analysis.adsorption", "pymatgen.analysis.interfaces",
         "pymatgen.analysis.interface_reactions", "matplotlib.pyplot")


@pytest.mark.parametrize("target", [BULK, "philicity.jobs.slabs:relax_clean_slab",
                                    "philicity.jobs.adsorption:relax_adsorbate",
                                    "philicity.jobs.interfaces:compute_adhesion"])
def test_a_job_loads_no_heavy_module_it_does_not_use(target):
    """Every job is a new process: what its module imports, every job pays."""
    probe = ("import sys; from philicity.launch import job_function; "
             f"job_function({target!r}); "
             f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == ""


def test_every_job_function_is_reachable_from_the_package():
    from philicity import jobs

    assert "compute_phase" in jobs.__all__ and len(jobs.__all__) >= 20
    assert all(callable(getattr(jobs, name)) for name in jobs.__all__)
    with pytest.raises(AttributeError):
        jobs.no_such_job  # noqa: B018
