"""Thin adapter: the rule's name is the philicity.jobs function, params.job its arguments."""

import sys

sys.stderr = sys.stdout = open(snakemake.log[0], "w", buffering=1)  # noqa: F821

from philicity import jobs  # noqa: E402

getattr(jobs, snakemake.rule)(**snakemake.params.job)  # noqa: F821
