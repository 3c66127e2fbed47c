# Site tables, rankings and the ASE database of every calculation.
import json
import re


def _report_inputs(w):
    coatings = coatings_for(w.metal)
    return {
        "candidates": [f"{WORK}/candidates/coatings/{c}.json" for c in coatings],
        "terminations": [
            f"{surface('coatings', c, m)}/terminations.json"
            for c in coatings
            for m in millers_of("coatings", c)
        ],
        "adsorbates": [r for c in coatings for r in adsorbate_records("coatings", c, w.metal)],
        "baseline": adsorbate_records("anodes", w.metal, w.metal),
        "adhesion": [r for c in coatings for r in adhesion_records(c, w.metal)],
        "atom": f"{WORK}/atoms/{w.metal}/record.json",
        "bulk": f"{WORK}/bulk/{w.metal}/record.json",
    }


rule report_metal:
    input:
        unpack(_report_inputs),
    output:
        sites=f"{RESULTS}/sites/{{metal}}.csv",
        baseline=f"{RESULTS}/baseline/{{metal}}.csv",
        ranking=f"{RESULTS}/ranking/{{metal}}.csv",
        ranking_md=f"{RESULTS}/ranking/{{metal}}.md",
        interfaces=f"{RESULTS}/interfaces/{{metal}}.csv",
    log:
        f"{LOGS}/report_metal/{{metal}}.log",
    params:
        job=lambda w, input, output: dict(
            metal=w.metal,
            # .get: evaluated once before the checkpoints resolve the site lists
            candidate_jsons=list(input.get("candidates", [])),
            adsorbate_jsons=list(input.get("adsorbates", [])),
            baseline_jsons=list(input.get("baseline", [])),
            atom_json=input.get("atom"),
            bulk_json=input.get("bulk"),
            reference_miller=miller_to_str(config["baseline_miller"][0]),
            settings=SETTINGS,
            weights=config["ranking"]["weights"],
            sites_csv=output.sites,
            baseline_csv=output.baseline,
            ranking_csv=output.ranking,
            ranking_md=output.ranking_md,
            adhesion_jsons=list(input.get("adhesion", [])),
            wetting_config=config["wetting"],
            interfaces_csv=output.interfaces,
        ),
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"


def _clean_record(site_record):
    """The clean slab's record beside a site record (the last t<N> folder of its path)."""
    parts = Path(site_record).parts
    last = max(i for i, p in enumerate(parts) if re.fullmatch(r"t\d+", p))
    return str(Path(*parts[: last + 1]) / "clean" / "record.json")


def _all_records(w):
    records = []
    for metal in METALS:
        inputs = _report_inputs(type("W", (), {"metal": metal})())
        records += [inputs["atom"], inputs["bulk"]] + inputs["adsorbates"] + inputs["baseline"]
        # .../adhesion/record.json -> also the relaxed interface (the separated slabs
        # are found by the collector)
        for r in inputs["adhesion"]:
            if str(r).endswith("/adhesion/record.json"):
                base = Path(r).parents[1]
                records += [str(base / "relaxed" / "record.json"), str(r)]
        # surface/t{term}/{metal}/[ml-hash/]{site}/record.json -> surface/t{term}/clean/...
        records += [
            _clean_record(r) for r in inputs["adsorbates"] + inputs["baseline"]
            if str(r).endswith("/record.json")
        ]
    return sorted(set(records))


rule collect_database:
    input:
        records=_all_records,
        reports=expand(f"{RESULTS}/ranking/{{metal}}.csv", metal=METALS),
    output:
        f"{RESULTS}/calculations.db",
    log:
        f"{LOGS}/collect_database.log",
    params:
        job=lambda w, input, output: dict(records=list(input.records), db_path=output[0]),
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../environment.yml"
    script:
        "../scripts/run_job.py"
