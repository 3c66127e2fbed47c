"""Thin adapter: the rule's name is the philicity.jobs function and its named params the
arguments; with resources.tasks > 1 the job runs on that many MPI ranks (philicity.launch).

If the job raises, every JSON output gets a failed record naming the candidate's file
(param ``candidate``), the rule and the error, so the candidate ends as a row of the
tables instead of stopping them (philicity.launch.call_job)."""

import sys

sys.stderr = sys.stdout = open(snakemake.log[0], "w", buffering=1)  # noqa: F821

from philicity.launch import run_job  # noqa: E402

sm = snakemake  # noqa: F821
parallel = sm.config.get("parallel", {})
job = dict(sm.params.items())
candidate = job.pop("candidate", None)
failure = {
    "records": [str(f) for f in sm.output if str(f).endswith(".json")],
    "fields": {"candidate": candidate, **dict(sm.wildcards.items())},
    "log": str(sm.log[0]),
}
run_job(sm.rule, job, int(sm.resources.get("tasks", 1)), sm.log[0],
        parallel.get("launcher", "auto"), parallel.get("launcher_args", []), failure)
