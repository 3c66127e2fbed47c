# Slabs: terminations of each facet and the chosen one, its adsorption sites, and the
# relaxed clean slab.


checkpoint select_termination:
    input:
        candidate=f"{work('candidates')}/{{kind}}/{{name}}.json",
        structure=_bulk_input,
    output:
        f"{surface()}/terminations.json",
    log:
        f"{logs('select_termination')}/{STAGE_HASH['surfaces']}/{{kind}}/{{name}}/{{miller}}.log",
    params:
        job="philicity.jobs.slabs:select_termination",
        miller=lambda w: w.miller,
        settings=settings_of("surfaces"),
        options=lambda w: job_options(w.kind, w.name),
        candidate=lambda w: candidate_file(w.kind, w.name),
        candidate_json=lambda w, input: input.candidate,
        structure_path=_bulk_path,
        out_json=lambda w, output: output[0],
    threads: dft_tasks("select_termination")
    priority: dft_priority("select_termination")
    resources:
        **dft_resources("select_termination"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


checkpoint find_sites:
    input:
        f"{surface()}/terminations.json",
    output:
        f"{sites_dir()}/sites.json",
    log:
        f"{logs('find_sites')}/{STAGE_HASH['sites']}/{{kind}}/{{name}}/{{miller}}.log",
    params:
        job="philicity.jobs.slabs:find_sites",
        settings=settings_of("sites"),
        candidate=lambda w: candidate_file(w.kind, w.name),
        terminations_json=lambda w, input: input[0],
        out_json=lambda w, output: output[0],
    priority: dft_priority("find_sites")
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


rule relax_clean_slab:
    input:
        f"{surface()}/terminations.json",
    output:  # the record names the relaxed structure beside it
        f"{clean_dir()}/record.json",
    log:
        f"{logs('relax_clean_slab')}/{STAGE_HASH['clean']}/{{kind}}/{{name}}/{{miller}}/t{{term}}.log",
    params:
        job="philicity.jobs.slabs:relax_clean_slab",
        termination=lambda w: int(w.term),
        settings=settings_of("clean"),
        options=lambda w: job_options(w.kind, w.name),
        candidate=lambda w: candidate_file(w.kind, w.name),
        terminations_json=lambda w, input: input[0],
        outdir=lambda w, output: Path(output[0]).parent,
        checkpoint=lambda w, output: (f"{checkpoints_of('clean')}/{w.kind}/{w.name}/"
                                      f"{w.miller}/t{w.term}/clean.traj"),
        # under ml-then-dft BFGS starts from the ML model's Hessian: fewer steps to the
        # same DFT minimum
        ml=ml_settings(),
    threads: dft_tasks("relax_clean_slab")
    priority: dft_priority("relax_clean_slab")
    resources:
        **dft_resources("relax_clean_slab", ml=STRATEGY != "dft"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"
