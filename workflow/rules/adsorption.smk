# One metal adatom per symmetry-distinct site, relaxed on the relaxed clean slab, and the
# gathered site records of one substrate and metal.


def _site_inputs(w):
    inputs = {
        "terminations": surface(w.kind, w.name, w.miller) + "/terminations.json",
        "sites": sites_dir(w.kind, w.name, w.miller) + "/sites.json",
        "clean": clean_dir(w.kind, w.name, w.miller, w.term) + "/record.json",
    }
    if STRATEGY != "dft":
        inputs["prescreen"] = adsorption_dir(w.kind, w.name, w.miller, w.term,
                                             w.metal) + "prescreen.json"
    return inputs


rule prescreen_sites:
    """ml-then-dft: ML relaxations, pruning, DFT single points, the top_k to relax."""
    input:
        terminations=f"{surface()}/terminations.json",
        sites=f"{sites_dir()}/sites.json",
        clean=f"{clean_dir()}/record.json",
    output:
        f"{adsorption_dir()}prescreen.json",
    log:
        f"{logs('prescreen_sites')}/{STAGE_HASH['adsorption']}/{ML_SEGMENT}{{kind}}/{{name}}/{{miller}}/t{{term}}/{{metal}}.log",
    params:
        termination=lambda w: int(w.term),
        metal=lambda w: w.metal,
        settings=stage_settings("adsorption"),
        ml=ML,
        options=lambda w: job_options(w.kind, w.name),
        candidate=lambda w: str(cif_of(w.kind, w.name)),
        terminations_json=lambda w, input: input.terminations,
        sites_json=lambda w, input: input.sites,
        clean_dir=lambda w, input: Path(input.clean).parent,
        out_json=lambda w, output: output[0],
        checkpoint_dir=lambda w, output: (
            f"{checkpoints_of('adsorption')}/{w.kind}/{w.name}/{w.miller}/t{w.term}/"
            f"{w.metal}/{ML_SEGMENT}"),
    threads: dft_tasks("prescreen_sites")
    resources:
        **dft_resources("prescreen_sites", ml=True),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


rule relax_adsorbate:
    input:
        unpack(_site_inputs),
    output:  # final.extxyz beside it when there was a structure
        f"{adsorption_dir()}{{site}}/record.json",
    log:
        f"{logs('relax_adsorbate')}/{STAGE_HASH['adsorption']}/{ML_SEGMENT}{{kind}}/{{name}}/{{miller}}/t{{term}}/{{metal}}/{{site}}.log",
    params:
        site_id=lambda w: f"t{w.term}-{w.site}",
        metal=lambda w: w.metal,
        settings=stage_settings("adsorption"),
        options=lambda w: job_options(w.kind, w.name),
        candidate=lambda w: str(cif_of(w.kind, w.name)),
        terminations_json=lambda w, input: input.terminations,
        sites_json=lambda w, input: input.sites,
        clean_dir=lambda w, input: Path(input.clean).parent,
        prescreen_json=lambda w, input: input.get("prescreen"),
        outdir=lambda w, output: Path(output[0]).parent,
        checkpoint=lambda w, output: (
            f"{checkpoints_of('adsorption')}/{w.kind}/{w.name}/{w.miller}/t{w.term}/"
            f"{w.metal}/{ML_SEGMENT}{w.site}.traj"),
    threads: dft_tasks("relax_adsorbate")
    resources:
        **dft_resources("relax_adsorbate"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


def site_records(kind, name, metal):
    """Site and clean-slab records of one substrate for one metal, resolved after the
    select_termination and find_sites checkpoints ran; a facet that failed contributes
    its failed record. An unfinished checkpoint contributes its target instead of raising
    at once, so a dry run lists every checkpoint job, not only the first."""
    sites, cleans = [], []
    for miller in millers_of(kind, name):
        try:
            found = checkpoints.find_sites.get(kind=kind, name=name, miller=miller)
        except IncompleteCheckpointException as exc:
            sites.append(exc.targetfile)
            continue
        data = json.loads(Path(found.output[0]).read_text())
        if data.get("status") != "ok":  # the facet's failure reaches the tables
            sites.append(found.output[0])
            continue
        for site in data["sites"]:
            term = site["termination"]
            sites.append(f"{adsorption_dir(kind, name, miller, term, metal)}{site['name']}"
                         "/record.json")
        cleans += [f"{clean_dir(kind, name, miller, t)}/record.json" for t in data["selected"]]
    return {"sites": sites, "clean": sorted(set(cleans))}


# The site list comes from checkpoints: gathered here, per substrate and metal, so that the
# tables' rule has only plain inputs (see common.smk). Local: it only lists paths.
localrules: gather_sites


rule gather_sites:
    input:
        unpack(lambda w: site_records(w.kind, w.name, w.metal)),
    output:
        f"{work('adsorption')}/summaries/{ML_SEGMENT}{{kind}}/{{name}}/{{metal}}-{{facets}}.json",
    run:
        from philicity.io import write_json

        write_json(output[0], {"sites": list(input.get("sites", [])),
                               "clean": list(input.get("clean", []))})
