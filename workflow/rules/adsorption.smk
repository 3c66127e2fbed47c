# One metal adatom per symmetry-distinct site, relaxed on the relaxed clean slab.
from snakemake.exceptions import IncompleteCheckpointException


rule prescreen_sites:
    """ml-then-dft: ML relaxations, pruning, DFT single points, the top_k to relax."""
    input:
        terminations=f"{surface()}/terminations.json",
        clean=f"{surface()}/t{{term}}/clean/record.json",
    output:
        f"{surface()}/t{{term}}/{{metal}}/ml-{MLHASH}/prescreen.json",
    log:
        f"{LOGS}/prescreen_sites/{{kind}}/{{name}}/{{miller}}/t{{term}}/{{metal}}.log",
    params:
        job=lambda w, input, output: dict(
            terminations_json=input.terminations,
            clean_dir=Path(input.clean).parent,
            termination=int(w.term),
            metal=w.metal,
            settings=SETTINGS,
            ml=ML,
            out_json=output[0],
            checkpoint_dir=f"{CHECKPOINTS}/{w.kind}/{w.name}/{w.miller}/t{w.term}/{w.metal}/ml-{MLHASH}",
            options=options_of(w.kind, w.name),
        ),
    threads: dft_tasks("prescreen_sites")
    resources:
        **dft_resources("prescreen_sites", ml=True),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


rule relax_adsorbate:
    input:
        unpack(
            lambda w: {
                "terminations": surface(w.kind, w.name, w.miller) + "/terminations.json",
                "clean": surface(w.kind, w.name, w.miller) + f"/t{w.term}/clean/record.json",
                **({} if STRATEGY == "dft" else {"prescreen": surface(w.kind, w.name, w.miller)
                    + f"/t{w.term}/{w.metal}/{SITE_SEG}prescreen.json"}),
            }
        ),
    output:
        # final.extxyz beside it only if the clean slab gave a structure to place on
        record=f"{surface()}/t{{term}}/{{metal}}/{SITE_SEG}{{site}}/record.json",
    log:
        f"{LOGS}/relax_adsorbate/{{kind}}/{{name}}/{{miller}}/t{{term}}/{{metal}}/{SITE_SEG}{{site}}.log",
    params:
        job=lambda w, input, output: dict(
            terminations_json=input.terminations,
            clean_dir=Path(input.clean).parent,
            site_id=f"t{w.term}-{w.site}",
            metal=w.metal,
            settings=SETTINGS,
            outdir=Path(output.record).parent,
            checkpoint=f"{CHECKPOINTS}/{w.kind}/{w.name}/{w.miller}/t{w.term}/{w.metal}/{SITE_SEG}{w.site}.traj",
            options=options_of(w.kind, w.name),
            prescreen_json=input.get("prescreen"),
        ),
    threads: dft_tasks("relax_adsorbate")
    resources:
        **dft_resources("relax_adsorbate"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


def adsorbate_records(kind, name, metal):
    """Site records of one substrate for one metal; resolved after select_termination ran.

    An unfinished checkpoint contributes its flagged target instead of raising at once,
    so a dry run lists every select_termination job, not only the first.
    """
    records = []
    for miller in millers_of(kind, name):
        try:
            terms = checkpoints.select_termination.get(kind=kind, name=name, miller=miller)
        except IncompleteCheckpointException as exc:
            records.append(exc.targetfile)
            continue
        data = json.loads(Path(terms.output[0]).read_text())
        if data.get("status") != "ok":  # the facet's failure reaches the tables
            records.append(terms.output[0])
            continue
        for site in data.get("sites", []):
            records.append(
                f"{surface(kind, name, miller)}/t{site['termination']}/{metal}/{SITE_SEG}{site['name']}/record.json"
            )
    return records
