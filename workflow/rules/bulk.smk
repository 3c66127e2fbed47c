# Candidate checks, the anode metal's references (isolated atom and bulk), and the bulk
# phases and molecules whose energies give the reaction driving forces (philicity.reactions).
#
# Every rule names its job function (param ``job``) and passes it named params: plain values
# (settings, options; tracked by Snakemake, so a change reruns the job) and paths derived
# from input and output (not tracked: the paths are). ``candidate`` names the CIF in the
# failed record a crashed job leaves (workflow/scripts/run_job.py).


rule check_candidate:
    input:
        # a broken link is no input (Snakemake would drop the tables' job): the job fails
        # the candidate's row with the reason
        cif=lambda w: [cif_of(w.kind, w.name)] if cif_of(w.kind, w.name).exists() else [],
    output:
        f"{work('candidates')}/{{kind}}/{{name}}.json",
    log:
        f"{logs('check_candidate')}/{STAGE_HASH['candidates']}/{{kind}}/{{name}}.log",
    params:
        job="philicity.jobs.bulk:check_candidate",
        name=lambda w: w.name,
        settings=settings_of("candidates"),
        preflight_error=lambda w: None if w.kind == "anodes" else COATINGS[w.name].error,
        cif=lambda w: str(cif_of(w.kind, w.name)),
        out_json=lambda w, output: output[0],
    priority: dft_priority("check_candidate")
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


rule compute_atom:
    output:
        f"{work('atoms')}/{{metal}}/record.json",
    log:
        f"{logs('compute_atom')}/{STAGE_HASH['atoms']}/{{metal}}.log",
    params:
        job="philicity.jobs.bulk:compute_atom",
        metal=lambda w: w.metal,
        settings=settings_of("atoms"),
        outdir=lambda w, output: Path(output[0]).parent,
    threads: dft_tasks("compute_atom")
    resources:
        **dft_resources("compute_atom"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


rule compute_bulk:
    input:
        cif=f"{STRUCTURES}/anodes/{{metal}}.cif",
        candidate=f"{work('candidates')}/anodes/{{metal}}.json",
    output:  # the record names the relaxed structure beside it
        f"{work('bulk')}/{{metal}}/record.json",
    log:
        f"{logs('compute_bulk')}/{STAGE_HASH['bulk']}/{{metal}}.log",
    params:
        job="philicity.jobs.bulk:compute_bulk",
        metal=lambda w: w.metal,
        settings=settings_of("bulk"),
        candidate=lambda w: candidate_file("anodes", w.metal),
        candidate_json=lambda w, input: input.candidate,
        cif=lambda w, input: input.cif,
        outdir=lambda w, output: Path(output[0]).parent,
        checkpoint=lambda w, output: f"{checkpoints_of('bulk')}/{w.metal}/bulk.traj",
    threads: dft_tasks("compute_bulk")
    resources:
        **dft_resources("compute_bulk"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


# A phase a reaction of the metal with a coating can reach: the anode metal, a coating or
# a compound (structures/compounds/), on its primitive cell with the anode bulk's settings
# and the calculator's reaction values (settings section "reactions": a denser k-mesh).
rule compute_phase:
    input:
        cif=lambda w: phase_cif(w.phase_kind, w.name),
    output:
        f"{work('phases')}/{{phase_kind}}/{{name}}/record.json",
    log:
        f"{logs('compute_phase')}/{STAGE_HASH['phases']}/{{phase_kind}}/{{name}}.log",
    params:
        job="philicity.jobs.bulk:compute_phase",
        name=lambda w: w.name,
        settings=settings_of("phases"),
        cif=lambda w, input: input.cif,
        outdir=lambda w, output: Path(output[0]).parent,
        checkpoint=lambda w, output: (f"{checkpoints_of('phases')}/{w.phase_kind}/{w.name}/"
                                      "bulk.traj"),
    threads: dft_tasks("compute_phase")
    resources:
        **dft_resources("compute_phase"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


# The gas-phase elemental reference of O, N, F, H or Cl, relaxed in a box.
rule compute_molecule:
    output:
        f"{work('molecules')}/{{molecule}}/record.json",
    log:
        f"{logs('compute_molecule')}/{STAGE_HASH['molecules']}/{{molecule}}.log",
    params:
        job="philicity.jobs.bulk:compute_molecule",
        molecule=lambda w: w.molecule,
        settings=settings_of("molecules"),
        outdir=lambda w, output: Path(output[0]).parent,
    threads: dft_tasks("compute_molecule")
    resources:
        **dft_resources("compute_molecule"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"
