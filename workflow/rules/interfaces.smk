# Interfaces: lattice-matched metal film on the chosen coating termination, a registry
# scan, the relaxed best registry, and W_ad from the separated slabs in the same cell.


def interface_dir(name="{name}", miller="{miller}", term="{term}", metal="{metal}",
                  mmiller="{mmiller}"):
    return f"{IWORK}/{name}/{miller}/t{term}/{metal}/{mmiller}"


def _icheckpoints(w):
    return f"{CHECKPOINTS}/interfaces/{IHASH}/{w.name}/{w.miller}/t{w.term}/{w.metal}/{w.mmiller}"


rule scan_interface:
    input:
        terminations=f"{surface('coatings')}/terminations.json",
        cif=f"{STRUCTURES}/coatings/{{name}}.cif",
        metal=f"{WORK}/bulk/{{metal}}/final.extxyz",
    output:
        f"{interface_dir()}/scan.json",
    log:
        f"{LOGS}/scan_interface/{IHASH}/{{name}}/{{miller}}/t{{term}}/{{metal}}/{{mmiller}}.log",
    params:
        job=lambda w, input, output: dict(
            terminations_json=input.terminations,
            coating_structure=input.cif,
            metal_structure=input.metal,
            metal=w.metal,
            metal_miller=w.mmiller,
            termination=int(w.term),
            settings=ALL_SETTINGS,
            out_json=output[0],
            checkpoint=f"{_icheckpoints(w)}/scan.json",
            options=options_of("coatings", w.name),
            ml=None if STRATEGY == "dft" else ML,
        ),
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
        record=f"{interface_dir()}/relaxed/record.json",
    log:
        f"{LOGS}/relax_interface/{IHASH}/{{name}}/{{miller}}/t{{term}}/{{metal}}/{{mmiller}}.log",
    params:
        job=lambda w, input, output: dict(
            scan_json=input[0],
            settings=ALL_SETTINGS,
            outdir=Path(output.record).parent,
            checkpoint=f"{_icheckpoints(w)}/relax.traj",
            options=options_of("coatings", w.name),
        ),
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
        bulk=f"{WORK}/bulk/{{metal}}/record.json",
    output:
        f"{interface_dir()}/adhesion/record.json",
    log:
        f"{LOGS}/compute_adhesion/{IHASH}/{{name}}/{{miller}}/t{{term}}/{{metal}}/{{mmiller}}.log",
    params:
        job=lambda w, input, output: dict(
            scan_json=input.scan,
            interface_dir=Path(input.interface).parent,
            bulk_json=input.bulk,
            settings=ALL_SETTINGS,
            outdir=Path(output[0]).parent,
            checkpoint_dir=f"{_icheckpoints(w)}/adhesion",
            options=options_of("coatings", w.name),
        ),
    threads: dft_tasks("compute_adhesion")
    resources:
        **dft_resources("compute_adhesion"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


def adhesion_records(name, metal):
    """W_ad records of one coating for one metal (after select_termination resolved)."""
    if not config["run_interfaces"]:
        return []
    records = []
    for miller in millers_of("coatings", name):
        try:
            terms = checkpoints.select_termination.get(kind="coatings", name=name, miller=miller)
        except IncompleteCheckpointException as exc:
            records.append(exc.targetfile)
            continue
        data = json.loads(Path(terms.output[0]).read_text())
        if data.get("status") != "ok":
            continue
        chosen = (data["selected"] if ALL_SETTINGS["interface"]["terminations"] == "selected"
                  else [t["index"] for t in data["terminations"]])
        for term in chosen:
            for mm in ALL_SETTINGS["interface"]["metal_miller"]:
                records.append(f"{interface_dir(name, miller, term, metal, miller_to_str(mm))}"
                               "/adhesion/record.json")
    return records
