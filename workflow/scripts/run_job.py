"""Thin adapter: call the rule's job function (param ``job``, ``module:function``) with
the rule's other named params; with resources.tasks > 1 the job runs on that many MPI
ranks (philicity.launch).

If the job raises, every JSON output gets a failed record naming the candidate's file
(param ``candidate``), the rule and the error, so the candidate ends as a row of the
tables instead of stopping them (philicity.launch.call_job)."""

import sys

sys.stderr = sys.stdout = open(snakemake.log[0], "w", buffering=1)  # noqa: F821

from philicity.launch import run_job  # noqa: E402

sm = snakemake  # noqa: F821
parallel = sm.config.get("parallel", {})
job = dict(sm.params.items())
function = job.pop("job")
failure = {
    "rule": sm.rule,
    "records": [str(f) for f in sm.output if str(f).endswith(".json")],
    "fields": {"candidate": job.pop("candidate", None), **dict(sm.wildcards.items())},
    "log": str(sm.log[0]),
}
run_job(function, job, int(sm.resources.get("tasks", 1)), sm.log[0],
        parallel.get("launcher", "auto"), parallel.get("launcher_args", []), failure)
