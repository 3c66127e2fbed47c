"""Thin adapter: the rule's name is the philicity.jobs function, params.job its arguments
(plus the ML config for relax_clean_slab under ml-then-dft); with resources.tasks > 1
the job runs on that many MPI ranks (philicity.launch)."""

import sys

sys.stderr = sys.stdout = open(snakemake.log[0], "w", buffering=1)  # noqa: F821

from philicity.launch import run_job  # noqa: E402

sm = snakemake  # noqa: F821
parallel = sm.config.get("parallel", {})
job = dict(sm.params.job)
if sm.rule == "relax_clean_slab" and sm.config["strategy"] != "dft":
    # BFGS starts from the ML model's Hessian: fewer steps to the same DFT minimum. Not a
    # param, so that switching strategy keeps the clean slabs and every site after them.
    job["ml"] = sm.config["ml"]
run_job(sm.rule, job, int(sm.resources.get("tasks", 1)), sm.log[0],
        parallel.get("launcher", "auto"), parallel.get("launcher_args", []))
