# Screening of metal-philic coatings for Li/Na/K metal anodes.
# Run: snakemake --profile workflow/profiles/default   (see README)
from snakemake.utils import min_version

min_version("8.20")


configfile: "config/config.yaml"


# the front page of `snakemake --report report.html` (the outputs marked report())
report: "workflow/report/workflow.rst"


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
        expand(f"{RESULTS}/terminations/{{name}}.csv", name=TABLED_COATINGS),
        f"{RESULTS}/report.html",


def _summary():
    """What the tables say, on the terminal: coatings ranked, failed with the reason,
    flagged. With strict: true, a failed candidate makes the run's exit code non-zero."""
    import pandas as pd

    from philicity.ranking import run_summary

    tables = {m: pd.read_csv(f"{RESULTS}/ranking/{m}.csv") for m in METALS
              if Path(f"{RESULTS}/ranking/{m}.csv").exists()}
    if not tables:
        return 0
    text, failed = run_summary(tables)
    print(f"\nphilicity summary ({RESULTS}/ranking/):\n{text}\n", file=sys.stderr)
    return failed


onsuccess:
    if _summary() and config["strict"]:
        raise WorkflowError("strict: a candidate failed (see the summary above and "
                            f"{RESULTS}/ranking/); the tables are written")


onerror:
    _summary()
