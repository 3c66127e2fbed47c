# Site tables, rankings, charge-density differences and the ASE database of every
# calculation. Their inputs are plain
# files (no checkpoint targets), so Snakemake's mtime, input and params triggers apply.


rule report_metal:
    input:
        unpack(lambda w: report_inputs(w.metal)),
    output:
        sites=f"{RESULTS}/sites/{{metal}}.csv",
        baseline=f"{RESULTS}/baseline/{{metal}}.csv",
        ranking=f"{RESULTS}/ranking/{{metal}}.csv",
        ranking_md=f"{RESULTS}/ranking/{{metal}}.md",
        interfaces=f"{RESULTS}/interfaces/{{metal}}.csv",
        charges=f"{RESULTS}/charges/{{metal}}.csv",
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
        f"{RESULTS}/reactions/{{metal}}.csv",
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
# interfaces (config charge_density_difference), three DFT single points each.
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
        reports=expand(f"{RESULTS}/ranking/{{metal}}.csv", metal=METALS),
    output:
        f"{RESULTS}/calculations.db",
    log:
        f"{logs('collect_database')}/collect_database.log",
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
        f"{RESULTS}/terminations/{{name}}.csv",
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
