"""Thin adapter: the rule's name is the philicity.jobs function, params.job its arguments;
with resources.tasks > 1 the job runs on that many MPI ranks (philicity.launch)."""

import sys

sys.stderr = sys.stdout = open(snakemake.log[0], "w", buffering=1)  # noqa: F821

from philicity.launch import run_job  # noqa: E402

sm = snakemake  # noqa: F821
parallel = sm.config.get("parallel", {})
run_job(sm.rule, sm.params.job, int(sm.resources.get("tasks", 1)), sm.log[0],
        parallel.get("launcher", "auto"), parallel.get("launcher_args", []))
