# One metal adatom per symmetry-distinct site, relaxed on the relaxed clean slab, and the
# gathered site records of one substrate and metal.


# What the two per-surface jobs (the ML prescreen, the site energies) read and are told.
SURFACE_INPUTS = dict(
    terminations=f"{surface()}/terminations.json",
    sites=f"{sites_dir()}/sites.json",
    clean=f"{clean_dir()}/record.json",
)
SURFACE_PARAMS = dict(
    termination=lambda w: int(w.term),
    metal=lambda w: w.metal,
    settings=settings_of("adsorption"),
    ml=ml_settings(),
    options=lambda w: job_options(w.kind, w.name),
    candidate=lambda w: candidate_file(w.kind, w.name),
    terminations_json=lambda w, input: input.terminations,
    sites_json=lambda w, input: input.sites,
    clean_dir=lambda w, input: Path(input.clean).parent,
    out_json=lambda w, output: output[0],
)


def _surface_checkpoints(w, output, leaf=""):
    return (f"{checkpoints_of('adsorption')}/{w.kind}/{w.name}/{w.miller}/t{w.term}/"
            f"{w.metal}/{ML_SEGMENT}{leaf}")


rule prescreen_sites:
    """ml-then-dft: ML relaxations, pruning, DFT single points, the top_k to relax."""
    input:
        **SURFACE_INPUTS,
    output:
        f"{adsorption_dir()}prescreen.json",
    log:
        f"{logs('prescreen_sites')}/{STAGE_HASH['adsorption']}/{ML_SEGMENT}{{kind}}/{{name}}/{{miller}}/t{{term}}/{{metal}}.log",
    params:
        job="philicity.jobs.adsorption:prescreen_sites",
        checkpoint_dir=lambda w, output: _surface_checkpoints(w, output),
        **SURFACE_PARAMS,
    threads: dft_tasks("prescreen_sites")
    priority: dft_priority("prescreen_sites")
    resources:
        **dft_resources("prescreen_sites", ml=True),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


rule relax_adsorbate:
    input:
        unpack(_site_inputs),
    output:  # the record names the structure beside it, when there is one
        f"{adsorption_dir()}{{site}}/record.json",
    log:
        f"{logs('relax_adsorbate')}/{STAGE_HASH['adsorption']}/{ML_SEGMENT}{{kind}}/{{name}}/{{miller}}/t{{term}}/{{metal}}/{{site}}.log",
    params:
        job="philicity.jobs.adsorption:relax_adsorbate",
        site_id=lambda w: f"t{w.term}-{w.site}",
        metal=lambda w: w.metal,
        settings=settings_of("adsorption"),
        options=lambda w: job_options(w.kind, w.name),
        candidate=lambda w: candidate_file(w.kind, w.name),
        terminations_json=lambda w, input: input.terminations,
        sites_json=lambda w, input: input.sites,
        clean_dir=lambda w, input: Path(input.clean).parent,
        prescreen_json=lambda w, input: input.get("prescreen"),
        outdir=lambda w, output: Path(output[0]).parent,
        checkpoint=lambda w, output: (
            f"{checkpoints_of('adsorption')}/{w.kind}/{w.name}/{w.miller}/t{w.term}/"
            f"{w.metal}/{ML_SEGMENT}{w.site}.traj"),
    threads: dft_tasks("relax_adsorbate")
    priority: dft_priority("relax_adsorbate")
    resources:
        **dft_resources("relax_adsorbate"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


rule site_energies:
    """Every site of one termination with the adatom's lateral position held."""
    input:
        **SURFACE_INPUTS,
    output:
        f"{adsorption_dir()}site_energies.json",
    log:
        f"{logs('site_energies')}/{STAGE_HASH['adsorption']}/{ML_SEGMENT}{{kind}}/{{name}}/{{miller}}/t{{term}}/{{metal}}.log",
    params:
        job="philicity.jobs.adsorption:site_energies",
        checkpoint_dir=lambda w, output: _surface_checkpoints(w, output, "lateral"),
        **SURFACE_PARAMS,
    threads: dft_tasks("site_energies")
    resources:
        **dft_resources("site_energies", ml=STRATEGY != "dft"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


# The site list comes from checkpoints: gathered here, per substrate and metal, so that the
# tables' rule has only plain inputs (see common.smk). Local: it only lists paths.
localrules: gather_sites


rule gather_sites:
    input:
        unpack(lambda w: site_records(w.kind, w.name, w.metal)),
    output:
        f"{work('adsorption')}/summaries/{ML_SEGMENT}{{kind}}/{{name}}/{{metal}}-{{facets}}.json",
    run:
        from philicity.files import write_json

        write_json(output[0], {"sites": list(input.get("sites", [])),
                               "clean": list(input.get("clean", [])),
                               "site_energies": list(input.get("site_energies", []))})
