# Interfaces: lattice-matched metal film on the chosen coating termination, a registry
# scan, the relaxed best registry, and W_ad from the separated slabs in the same cell.


def _interface_checkpoints(w):
    return (f"{checkpoints_of('interfaces')}/{w.name}/{w.miller}/t{w.term}/{w.metal}/"
            f"{w.metal_miller}")


def _interface_log(rule):
    return (f"{logs(rule)}/{STAGE_HASH['interfaces']}/{{name}}/{{miller}}/t{{term}}/"
            "{metal}/{metal_miller}.log")


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
        metal=lambda w: w.metal,
        metal_miller=lambda w: w.metal_miller,
        termination=lambda w: int(w.term),
        settings=stage_settings("interfaces"),
        options=lambda w: job_options("coatings", w.name),
        ml=None if STRATEGY == "dft" else ML,
        candidate=lambda w: str(cif_of("coatings", w.name)),
        terminations_json=lambda w, input: input.terminations,
        coating_structure=lambda w, input: input.cif,
        metal_bulk_json=lambda w, input: input.metal,
        out_json=lambda w, output: output[0],
        checkpoint=lambda w, output: f"{_interface_checkpoints(w)}/scan.json",
    threads: dft_tasks("scan_interface")
    resources:
        **dft_resources("scan_interface", ml=STRATEGY != "dft"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


rule relax_interface:
    input:
        f"{interface_dir()}/scan.json",
    output:  # final.extxyz beside it only if there was a structure to relax
        f"{interface_dir()}/relaxed/record.json",
    log:
        _interface_log("relax_interface"),
    params:
        settings=stage_settings("interfaces"),
        options=lambda w: job_options("coatings", w.name),
        candidate=lambda w: str(cif_of("coatings", w.name)),
        scan_json=lambda w, input: input[0],
        outdir=lambda w, output: Path(output[0]).parent,
        checkpoint=lambda w, output: f"{_interface_checkpoints(w)}/relax.traj",
    threads: dft_tasks("relax_interface")
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
        settings=stage_settings("interfaces"),
        options=lambda w: job_options("coatings", w.name),
        candidate=lambda w: str(cif_of("coatings", w.name)),
        scan_json=lambda w, input: input.scan,
        interface_dir=lambda w, input: Path(input.interface).parent,
        bulk_json=lambda w, input: input.bulk,
        outdir=lambda w, output: Path(output[0]).parent,
        checkpoint_dir=lambda w, output: f"{_interface_checkpoints(w)}/adhesion",
    threads: dft_tasks("compute_adhesion")
    resources:
        **dft_resources("compute_adhesion"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


def interface_records(name, metal):
    """W_ad and relaxed-interface records of one coating for one metal (after the
    select_termination checkpoint resolved)."""
    adhesion, relaxed = [], []
    if not config["run_interfaces"]:
        return {"adhesion": adhesion, "interface": relaxed}
    for miller in millers_of("coatings", name):
        try:
            terms = checkpoints.select_termination.get(kind="coatings", name=name,
                                                       miller=miller)
        except IncompleteCheckpointException as exc:
            adhesion.append(exc.targetfile)
            continue
        data = json.loads(Path(terms.output[0]).read_text())
        if data.get("status") != "ok":
            continue
        chosen = (data["selected"] if ALL_SETTINGS["interface"]["terminations"] == "selected"
                  else [t["index"] for t in data["terminations"]])
        for term in chosen:
            for mm in ALL_SETTINGS["interface"]["metal_miller"]:
                folder = interface_dir(name, miller, term, metal, miller_to_str(mm))
                adhesion.append(f"{folder}/adhesion/record.json")
                relaxed.append(f"{folder}/relaxed/record.json")
    return {"adhesion": adhesion, "interface": relaxed}


localrules: gather_interfaces


rule gather_interfaces:
    input:
        unpack(lambda w: interface_records(w.name, w.metal)),
    output:
        f"{work('interfaces')}/summaries/{{name}}/{{metal}}-{{facets}}.json",
    run:
        from philicity.io import write_json

        write_json(output[0], {"adhesion": list(input.get("adhesion", [])),
                               "interface": list(input.get("interface", []))})
