# Candidate checks and the anode metal's references: isolated atom and bulk.


rule check_candidate:
    input:
        cif=f"{STRUCTURES}/{{kind}}/{{name}}.cif",
    output:
        f"{WORK}/candidates/{{kind}}/{{name}}.json",
    log:
        f"{LOGS}/check_candidate/{{kind}}/{{name}}.log",
    params:
        job=lambda w, input, output: dict(
            cif=input.cif,
            name=w.name,
            options=options_of(w.kind, w.name),
            settings=SETTINGS,
            out_json=output[0],
            preflight_error=None if w.kind == "anodes" else COATINGS[w.name][2],
        ),
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


rule compute_atom:
    output:
        f"{WORK}/atoms/{{metal}}/record.json",
    log:
        f"{LOGS}/compute_atom/{{metal}}.log",
    params:
        job=lambda w, output: dict(
            metal=w.metal, settings=SETTINGS, outdir=Path(output[0]).parent
        ),
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
        candidate=f"{WORK}/candidates/anodes/{{metal}}.json",
    output:
        record=f"{WORK}/bulk/{{metal}}/record.json",
        structure=f"{WORK}/bulk/{{metal}}/final.extxyz",
    log:
        f"{LOGS}/compute_bulk/{{metal}}.log",
    params:
        job=lambda w, input, output: dict(
            cif=input.cif, metal=w.metal, settings=SETTINGS, outdir=Path(output.record).parent
        ),
    threads: dft_tasks("compute_bulk")
    resources:
        **dft_resources("compute_bulk"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"
