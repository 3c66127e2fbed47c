# Interfaces: lattice-matched metal film on the chosen coating termination, a registry
# scan, the relaxed best registry, and W_ad from the separated slabs in the same cell.


rule scan_interface:
    input:
        terminations=f"{surface('coatings')}/terminations.json",
        cif=lambda w: cif_of("coatings", w.name),
        metal=f"{work('bulk')}/{{metal}}/record.json",
    output:
        f"{interface_dir()}/scan.json",
    log:
        _interface_log("scan_interface"),
    params:
        job="philicity.jobs.interfaces:scan_interface",
        metal=lambda w: w.metal,
        metal_miller=lambda w: w.metal_miller,
        termination=lambda w: int(w.term),
        settings=settings_of("interfaces"),
        options=lambda w: job_options("coatings", w.name),
        ml=ml_settings(),
        candidate=lambda w: candidate_file("coatings", w.name),
        terminations_json=lambda w, input: input.terminations,
        coating_structure=lambda w, input: input.cif,
        metal_bulk_json=lambda w, input: input.metal,
        out_json=lambda w, output: output[0],
        checkpoint=lambda w, output: f"{_interface_checkpoints(w)}/scan.json",
    threads: dft_tasks("scan_interface")
    priority: dft_priority("scan_interface")
    resources:
        **dft_resources("scan_interface", ml=STRATEGY != "dft"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


rule relax_interface:
    input:
        f"{interface_dir()}/scan.json",
    output:  # the record names the relaxed structure beside it, when there is one
        f"{interface_dir()}/relaxed/record.json",
    log:
        _interface_log("relax_interface"),
    params:
        job="philicity.jobs.interfaces:relax_interface",
        settings=settings_of("interfaces"),
        options=lambda w: job_options("coatings", w.name),
        candidate=lambda w: candidate_file("coatings", w.name),
        scan_json=lambda w, input: input[0],
        outdir=lambda w, output: Path(output[0]).parent,
        checkpoint=lambda w, output: f"{_interface_checkpoints(w)}/relax.traj",
    threads: dft_tasks("relax_interface")
    priority: dft_priority("relax_interface")
    resources:
        **dft_resources("relax_interface"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


rule compute_adhesion:
    input:
        scan=f"{interface_dir()}/scan.json",
        interface=f"{interface_dir()}/relaxed/record.json",
        bulk=f"{work('bulk')}/{{metal}}/record.json",
    output:
        f"{interface_dir()}/adhesion/record.json",
    log:
        _interface_log("compute_adhesion"),
    params:
        job="philicity.jobs.interfaces:compute_adhesion",
        settings=settings_of("interfaces"),
        options=lambda w: job_options("coatings", w.name),
        candidate=lambda w: candidate_file("coatings", w.name),
        scan_json=lambda w, input: input.scan,
        interface_dir=lambda w, input: Path(input.interface).parent,
        bulk_json=lambda w, input: input.bulk,
        outdir=lambda w, output: Path(output[0]).parent,
        checkpoint_dir=lambda w, output: f"{_interface_checkpoints(w)}/adhesion",
        ml=ml_settings(),
        escalation=lambda w: escalation_of(w.metal),
    threads: dft_tasks("compute_adhesion")
    priority: dft_priority("compute_adhesion")
    resources:
        **dft_resources("compute_adhesion", ml=STRATEGY != "dft"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


localrules: gather_interfaces


rule gather_interfaces:
    input:
        unpack(lambda w: interface_records(w.name, w.metal)),
    output:
        f"{work('interfaces')}/summaries/{{name}}/{{metal}}-{{facets}}.json",
    run:
        from philicity.files import write_json

        write_json(output[0], {"adhesion": list(input.get("adhesion", [])),
                               "interface": list(input.get("interface", []))})
