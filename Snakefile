# Screening of metal-philic coatings for Li/Na/K metal anodes.
# Run: snakemake --profile workflow/profiles/default   (see README)
from snakemake.utils import min_version

min_version("8.20")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/bulk.smk"
include: "workflow/rules/slabs.smk"
include: "workflow/rules/adsorption.smk"
include: "workflow/rules/interfaces.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        expand(f"{RESULTS}/ranking/{{metal}}.{{ext}}", metal=METALS, ext=["csv", "md"]),
        expand(f"{RESULTS}/interfaces/{{metal}}.csv", metal=METALS),
        f"{RESULTS}/calculations.db",
