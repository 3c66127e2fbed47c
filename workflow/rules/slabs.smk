# Slabs: terminations of each facet, the chosen one's sites, the relaxed clean slab.


def _bulk_structure(w):
    if w.kind == "anodes":
        return f"{WORK}/bulk/{w.name}/final.extxyz"
    return f"{STRUCTURES}/coatings/{w.name}.cif"


checkpoint select_termination:
    input:
        candidate=f"{WORK}/candidates/{{kind}}/{{name}}.json",
        structure=_bulk_structure,
    output:
        f"{surface()}/terminations.json",
    log:
        f"{LOGS}/select_termination/{{kind}}/{{name}}/{{miller}}.log",
    params:
        job=lambda w, input, output: dict(
            candidate_json=input.candidate,
            structure_path=input.structure,
            miller=w.miller,
            settings=SETTINGS,
            out_json=output[0],
        ),
    threads: dft_tasks("select_termination")
    resources:
        **dft_resources("select_termination"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


rule relax_clean_slab:
    input:
        f"{surface()}/terminations.json",
    output:
        record=f"{surface()}/t{{term}}/clean/record.json",
        structure=f"{surface()}/t{{term}}/clean/final.extxyz",
    log:
        f"{LOGS}/relax_clean_slab/{{kind}}/{{name}}/{{miller}}/t{{term}}.log",
    params:
        job=lambda w, input, output: dict(
            terminations_json=input[0],
            termination=int(w.term),
            settings=SETTINGS,
            outdir=Path(output.record).parent,
            checkpoint=f"{CHECKPOINTS}/{w.kind}/{w.name}/{w.miller}/t{w.term}/clean.traj",
            options=options_of(w.kind, w.name),
        ),
    threads: dft_tasks("relax_clean_slab")
    resources:
        **dft_resources("relax_clean_slab"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"
