# Site tables, rankings, charge-density differences, the ASE database of every
# calculation and the HTML report. Their inputs are plain
# files (no checkpoint targets), so Snakemake's mtime, input and params triggers apply.
# The outputs a user reads are marked report(): `snakemake --report report.html` (or .zip)
# collects them with the captions in workflow/report/.


rule report_metal:
    input:
        unpack(lambda w: report_inputs(w.metal)),
    output:
        sites=report(f"{RESULTS}/sites/{{metal}}.csv", caption="../report/sites.rst",
                     category="Sites", labels={"metal": "{metal}", "table": "sites"}),
        baseline=report(f"{RESULTS}/baseline/{{metal}}.csv", caption="../report/baseline.rst",
                        category="Sites", labels={"metal": "{metal}", "table": "baseline"}),
        ranking=report(f"{RESULTS}/ranking/{{metal}}.csv", caption="../report/ranking.rst",
                       category="Ranking", labels={"metal": "{metal}", "table": "ranking (CSV)"}),
        ranking_md=report(f"{RESULTS}/ranking/{{metal}}.md", caption="../report/ranking.rst",
                          category="Ranking",
                          labels={"metal": "{metal}", "table": "ranking (Markdown)"}),
        interfaces=report(f"{RESULTS}/interfaces/{{metal}}.csv",
                          caption="../report/interfaces.rst", category="Interfaces",
                          labels={"metal": "{metal}", "table": "interfaces"}),
        charges=report(f"{RESULTS}/charges/{{metal}}.csv", caption="../report/charges.rst",
                       category="Reactions and charges",
                       labels={"metal": "{metal}", "table": "charges"}),
    log:
        f"{logs('report_metal')}/{{metal}}.log",
    params:
        job="philicity.jobs.report:report_metal",
        metal=lambda w: w.metal,
        reference_miller=miller_to_str(config["baseline_miller"][0]),
        settings=lambda w, output: SETTINGS,  # its inputs' paths carry the hashes
        weights=config["ranking"]["weights"],
        wetting_config=config["wetting"],
        candidate_jsons=lambda w, input: list(input.candidates),
        site_summaries=lambda w, input: list(input.sites),
        baseline_summary=lambda w, input: input.baseline,
        interface_summaries=lambda w, input: list(input.get("interfaces", [])),
        atom_json=lambda w, input: input.atom,
        bulk_json=lambda w, input: input.bulk,
        sites_csv=lambda w, output: output.sites,
        baseline_csv=lambda w, output: output.baseline,
        ranking_csv=lambda w, output: output.ranking,
        ranking_md=lambda w, output: output.ranking_md,
        interfaces_csv=lambda w, output: output.interfaces,
        reactions_csv=lambda w, input: input.reactions,
        charge_jsons=lambda w, input: list(input.charges),
        charges_csv=lambda w, output: output.charges,
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


# Per coating, the driving force of the metal to react with it, from the bulk energies of
# the phases in structures/ (a target of its own: `snakemake results/reactions/Li.csv`
# computes only those).
rule report_reactions:
    input:
        unpack(lambda w: reaction_inputs(w.metal)),
    output:
        report(f"{RESULTS}/reactions/{{metal}}.csv", caption="../report/reactions.rst",
               category="Reactions and charges", labels={"metal": "{metal}", "table": "reactions"}),
    log:
        f"{logs('report_reactions')}/{{metal}}.log",
    params:
        job="philicity.jobs.report:report_reactions",
        metal=lambda w: w.metal,
        # per coating the phases of its reaction (tracked: a compound dropped into
        # structures/ reruns the table)
        reaction_phases=lambda w: reaction_phases(w.metal),
        candidate_jsons=lambda w, input: list(input.candidates),
        phase_jsons=lambda w, input: {k: phase_record(k) for keys in
                                      reaction_phases(w.metal).values() for k in keys},
        out_csv=lambda w, output: output[0],
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


# Charge-density differences of one coating with one metal: its best site and its
# interfaces (config charge_density_difference): DFT single points of the two parts; the
# whole system's density is the one its relaxation (or dft_at_ml single point) kept.
rule charge_transfer:
    input:
        unpack(lambda w: charge_inputs(w.name, w.metal)),
    output:
        f"{RESULTS}/charges/{{metal}}/{{name}}/record.json",
    log:
        f"{logs('charge_transfer')}/{{metal}}/{{name}}.log",
    params:
        job="philicity.jobs.charges:charge_transfer",
        name=lambda w: w.name,
        metal=lambda w: w.metal,
        settings=settings_of("adsorption"),
        options=lambda w: job_options("coatings", w.name),
        site_summary=lambda w, input: input.get("sites"),
        interface_summary=lambda w, input: input.get("interfaces"),
        outdir=lambda w, output: Path(output[0]).parent,
    threads: dft_tasks("charge_transfer")
    resources:
        **dft_resources("charge_transfer"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


rule collect_database:
    input:
        summaries=_database_inputs,
        # not read: the database is rebuilt after the tables, with the same records
        reports=expand(f"{RESULTS}/ranking/{{metal}}.csv", metal=METALS),
    output:
        f"{RESULTS}/calculations.db",
    log:
        f"{logs('collect_database')}/calculations.log",
    params:
        job="philicity.jobs.report:collect_database",
        inputs=lambda w, input: list(input.summaries),
        db_path=lambda w, output: output[0],
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


# Every cut of every facet of one coating: polarity, broken polyanions, exposed face,
# surface energy, which was chosen and why. Local: it reads a few small files.
localrules: report_terminations


rule report_terminations:
    input:
        lambda w: [f"{surface('coatings', w.name, m)}/terminations.json"
                   for m in millers_of("coatings", w.name)],
    output:
        report(f"{RESULTS}/terminations/{{name}}.csv", caption="../report/terminations.rst",
               category="Terminations", labels={"coating": "{name}"}),
    log:
        f"{logs('report_terminations')}/{{name}}.log",
    params:
        job="philicity.jobs.report:report_terminations",
        terminations_jsons=lambda w, input: list(input),
        out_csv=lambda w, output: output[0],
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


# The screen's report: results/report.html, one self-contained page (figures embedded as
# PNG, no external resource) with every metal's ranking, binding and site charts, top
# views of the slabs with their sites, W_ad against the contact angle, interface side
# views, reactions, charge transfer, terminations, flags and failures; every figure as
# PNG and SVG in results/report/figures/ (philicity.report). It reads the tables and the
# records the gathered summaries list (not a local rule: it draws a few hundred figures on
# a large screen).
REPORT_TABLES = ("ranking", "sites", "interfaces", "reactions", "charges")


def report_html_inputs(wildcards):
    """Every metal's tables, every terminations table, and the gathered site and
    interface summaries whose records (and structures) the report reads."""
    inputs = {t: expand(f"{RESULTS}/{t}/{{metal}}.csv", metal=METALS) for t in REPORT_TABLES}
    inputs["terminations"] = expand(f"{RESULTS}/terminations/{{name}}.csv",
                                    name=TABLED_COATINGS)
    inputs["site_summaries"] = sorted({s for m in METALS for s in report_inputs(m)["sites"]})
    inputs["interface_summaries"] = sorted({s for m in METALS
                                            for s in report_inputs(m)["interfaces"]})
    return inputs


rule report_html:
    input:
        unpack(report_html_inputs),
    output:
        html=report(f"{RESULTS}/report.html", caption="../report/report_html.rst",
                    category="Report"),
        figures=report(directory(f"{RESULTS}/report/figures"),
                       patterns=["{metal,[A-Z][a-z]?}_{figure}.png"],
                       caption="../report/figures.rst", category="Figures",
                       subcategory="{metal}", labels={"metal": "{metal}", "figure": "{figure}"}),
    log:
        f"{logs('report_html')}/report.log",
    params:
        job="philicity.jobs.report:report_html",
        metals=METALS,
        tables={m: {t: f"{RESULTS}/{t}/{m}.csv" for t in REPORT_TABLES} for m in METALS},
        site_summaries=lambda w: {m: report_inputs(m)["sites"] for m in METALS},
        interface_summaries=lambda w: {m: report_inputs(m)["interfaces"] for m in METALS},
        terminations_csvs=lambda w, input: list(input.terminations),
        html=lambda w, output: output.html,
        figures_dir=lambda w, output: output.figures,
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"
