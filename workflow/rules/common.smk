# Configuration, candidate discovery, paths and the input functions, evaluated once per run.
#
# Reruns: each stage writes under results/work/{stage}/{hash of the settings it reads}
# (philicity.config.STAGE_SECTIONS), and every other value a job depends on is a named,
# plain param (tracked by Snakemake's params trigger). Jobs whose inputs come from a
# checkpoint (the site and interface lists) are gathered per coating by local "gather"
# rules, so that the tables' rule has only plain inputs: Snakemake skips its mtime, input
# and params checks for a job with an unresolved checkpoint input, so a report fed from
# checkpoints directly was never rerun after a settings change on a finished screen.
import json
import os
from pathlib import Path

from snakemake.exceptions import IncompleteCheckpointException
from snakemake.logging import logger

from philicity import config as cfg
from philicity import reactions
from philicity import resources as dft_cost
from philicity import structures
from philicity.launch import one_blas_thread
from philicity.slabs import miller_to_str

# One BLAS/OpenMP thread per process: measured 1.6-2x faster for serial GPAW.
one_blas_thread(os.environ)

CONFIG_SOURCES = cfg.config_sources(workflow)
try:
    # names the file (or --config) with the mistake; run_interfaces=false means a boolean
    cfg.validate(config, where=CONFIG_SOURCES)
    ALL_SETTINGS = cfg.settings(config)
except cfg.ConfigError as _exc:
    raise WorkflowError(str(_exc))

# The adsorption branch does not see the interface settings.
SETTINGS = {k: v for k, v in ALL_SETTINGS.items() if k != "interface"}
STRATEGY = config["strategy"]
ML = config["ml"]
ML_HASH = cfg.settings_hash({"ml": ML}, ("ml",))
# ml-then-dft site results live beside the dft ones, under the ML settings' own hash, so
# switching strategy reuses every reference, clean slab and finished site.
ML_SEGMENT = "" if STRATEGY == "dft" else f"ml-{ML_HASH}/"
# MPI ranks and requests of the DFT rules (config "parallel"; not in any settings hash).
PARALLEL = config["parallel"]
RESULTS = config["results_dir"]
STRUCTURES = Path(config["structures_dir"])
METALS = config["anodes"]


def stage_settings(stage):
    """The settings ``stage``'s jobs receive and its folder is hashed by."""
    if stage == "interfaces":
        return cfg.stage_settings(ALL_SETTINGS, stage)
    return cfg.stage_settings(SETTINGS, stage)


def _stage_hash(stage):
    h = cfg.settings_hash(stage_settings(stage))
    if stage == "interfaces" and STRATEGY != "dft":  # ML geometries change the interfaces
        h = cfg.settings_hash({"i": h, "ml": ML}, ("i", "ml"))
    return h


STAGE_HASH = {stage: _stage_hash(stage) for stage in cfg.STAGE_SECTIONS}


def ml_settings():
    """The ML settings param of a job (None under strategy ``dft``): one route for every
    rule that uses the ML model. Derived from the output, so not tracked: the ML
    settings' hash is in the paths of the results they change (sites, interfaces), and a
    clean slab only starts from the ML Hessian, so switching strategy keeps it and every
    site after it."""
    ml = None if STRATEGY == "dft" else ML
    return lambda wildcards, output: ml


def escalation_of(metal):
    """The W_ad jobs' escalation param (philicity.jobs.compute_adhesion): the margin
    around the wetting regimes' boundaries and ``metal``'s sigma_lv (None: each row's DFT
    film energy), or None where no interface is at ML geometries or the margin is 0.
    Tracked: changing either reruns the W_ad jobs, which keep their finished parts."""
    from philicity.wetting import escalation_for

    if STRATEGY == "dft":
        return None
    return escalation_for(metal, ALL_SETTINGS["interface"], config["wetting"])


def settings_of(stage):
    """The settings param of ``stage``'s jobs, derived from the output and so not tracked
    by Snakemake's params trigger: the output path already carries the hash of every
    setting that changes results, and the unhashed ones (``calculator.scf_retries``,
    ``calculator.parallel``) must not rerun finished jobs."""
    settings = stage_settings(stage)
    return lambda wildcards, output: settings


def work(stage):
    """results/work/{stage}/{hash}: the stage's finished results."""
    return f"{RESULTS}/work/{stage}/{STAGE_HASH[stage]}"


def checkpoints_of(stage):
    """results/checkpoints/{stage}/{hash}: the stage's unfinished relaxations."""
    return f"{RESULTS}/checkpoints/{stage}/{STAGE_HASH[stage]}"


def logs(rule):
    return f"{RESULTS}/logs/{rule}"


def dft_tasks(rule):
    """MPI ranks of one job of a DFT rule: parallel.tasks_per_rule, else parallel.tasks.
    Also the rule's threads, so a local run reserves one core per rank."""
    return PARALLEL["tasks_per_rule"].get(rule, PARALLEL["tasks"])


def dft_priority(rule):
    """Snakemake priority of a DFT rule's job: the estimated seconds of the chain of DFT
    jobs it heads, from the system size in its inputs (philicity.resources.priority), so
    that the longest chain starts first; above every chain for the jobs that reveal a
    coating's chains (its candidate check and the checkpoints)."""

    def value(wildcards, input):
        return dft_cost.priority(rule, ALL_SETTINGS, list(input), dict(wildcards.items()))

    return value


def dft_resources(rule, ml=False):
    """Resources of a DFT rule, read by the SLURM executor: ``tasks`` ranks of one CPU;
    with tasks > 1 also ``mpi`` (the job step then runs the job script without srun and
    run_job.py starts the ranks); ``runtime`` (minutes) and ``mem_mb`` from the system
    size in the job's inputs and the preset, growing with each retry (``attempt``).
    Formula and calibration: philicity.resources. ``ml``: an ML potential runs too."""
    tasks = dft_tasks(rule)

    def request(wildcards, input, attempt):
        return dft_cost.request(rule, ALL_SETTINGS, PARALLEL, tasks, list(input),
                                dict(wildcards.items()), attempt, ml)

    mpi = {"mpi": "srun" if PARALLEL["launcher"] == "auto" else PARALLEL["launcher"]}
    return {
        "tasks": tasks,
        "cpus_per_task": 1,
        **(mpi if tasks > 1 else {}),
        "runtime": lambda w, input, attempt: request(w, input, attempt)["runtime"],
        "mem_mb": lambda w, input, attempt: request(w, input, attempt)["mem_mb"],
    }


wildcard_constraints:
    kind="coatings|anodes",
    name=r"[^/]+",
    miller=r"(-?\d){3}",
    term=r"\d+",
    metal=r"[A-Z][a-z]?",
    site=r"[a-z]+\d+",
    metal_miller=r"(-?\d){3}",
    facets=r"(-?\d){3}(_(-?\d){3})*",
    phase_kind="anodes|coatings|compounds",
    molecule="|".join(reactions.MOLECULES.values()),


for _metal in METALS:
    if not (STRUCTURES / "anodes" / f"{_metal}.cif").is_file():
        raise WorkflowError(
            f"{cfg.source_of(CONFIG_SOURCES, 'anodes')}: key 'anodes': no structure for "
            f"{_metal!r} ({STRUCTURES / 'anodes' / f'{_metal}.cif'} does not exist)"
        )


if config["run_interfaces"] and config["wetting"]["sigma_from"] == "liquid":
    from philicity.wetting import MELTING_POINT_K

    for _metal in METALS:
        if _metal not in MELTING_POINT_K and _metal not in config["wetting"]["sigma_lv_J_m2"]:
            raise WorkflowError(
                f"{cfg.source_of(CONFIG_SOURCES, 'wetting')}: key 'wetting.sigma_lv_J_m2': "
                f"no liquid surface tension is shipped for {_metal!r}; give one (J/m^2) or "
                "set run_interfaces: false"
            )


try:
    CANDIDATES = structures.find_candidates(STRUCTURES / "coatings")
    COATINGS = {
        c.name: c for c in structures.select_candidates(
            CANDIDATES, config["coatings"], config["exclude_coatings"],
            where=cfg.source_of(CONFIG_SOURCES, "coatings"))
    }
except structures.CandidateError as _exc:
    raise WorkflowError(str(_exc))
_unknown = sorted(set(config["candidates"]) - {c.name for c in CANDIDATES})
if _unknown:  # a typo would otherwise leave the intended coating's options unchanged
    raise WorkflowError(
        f"{cfg.source_of(CONFIG_SOURCES, 'candidates')}: key 'candidates': no CIF for "
        f"{', '.join(map(repr, _unknown))} in {STRUCTURES / 'coatings'}")
for _name, _cand in COATINGS.items():
    _cand.options = cfg.candidate_options(_name, _cand.sidecar, config)


def coatings_for(metal):
    """Coatings listed in ``metal``'s ranking (foreign alkali compounds skipped by default)."""
    return [
        name
        for name, c in COATINGS.items()
        if not (config["skip_foreign_alkali"] and c.elements
                and structures.contains_foreign_alkali(c.elements, metal))
    ]


def computed_coatings(metal):
    """Coatings with jobs for ``metal``: not the anode metal itself (its surfaces are the
    baseline; its row says so)."""
    return [n for n in coatings_for(metal) if COATINGS[n].elements != [metal]]


# The phases a reaction of an anode metal with a coating can reach: every anode, every
# coating (screened or not) and every compound CIF (structures/compounds/); keys kind/name.
def _phases():
    found = [("anodes", structures.find_candidates(STRUCTURES / "anodes")),
             ("coatings", CANDIDATES)]
    if (STRUCTURES / "compounds").is_dir():
        found.append(("compounds", structures.find_candidates(STRUCTURES / "compounds")))
    phases = []
    for kind, candidates in found:
        for c in candidates:
            if c.formula is None:
                logger.warning(f"{c.path}: not readable, left out of the reaction phases")
                continue
            phases.append(reactions.Phase(f"{kind}/{c.name}", c.formula))
    return phases


PHASES = _phases()


def phase_cif(kind, name):
    """The CIF of a coating (screened or not) or a compound (any case of the suffix)."""
    if kind == "coatings":
        return str(next(c.path for c in CANDIDATES if c.name == name))
    return str(next(p for p in (STRUCTURES / kind).iterdir()
                    if p.stem == name and p.suffix.lower() == ".cif"))


def phase_record(key):
    """The energy record of a phase (``reactions.Phase.key``): every phase, the anode
    metal too, at the reaction settings (the anode's bulk reference of the slabs is
    another record, at the slabs' k-mesh)."""
    kind, name = key.split("/")
    if kind == "molecules":
        return f"{work('molecules')}/{name}/record.json"
    return f"{work('phases')}/{kind}/{name}/record.json"


def reaction_phases(metal):
    """Per computed coating of ``metal``, the keys of the phases its reaction needs (none:
    nothing can form, the reaction energy is 0 without a calculation)."""
    return {c: [p.key for p in reactions.phases_for(metal, COATINGS[c].formula, PHASES)]
            for c in computed_coatings(metal) if COATINGS[c].formula}


# coatings with a terminations table: those computed for at least one metal
TABLED_COATINGS = sorted({c for m in METALS for c in computed_coatings(m)})


def cif_of(kind, name):
    if kind == "anodes":
        return STRUCTURES / "anodes" / f"{name}.cif"
    return COATINGS[name].path


def options_of(kind, name):
    """A candidate's options (config < sidecar < config ``candidates``)."""
    if kind == "anodes":
        return {"miller": config["baseline_miller"], "termination": "lowest_energy",
                "magmoms": {}}
    return COATINGS[name].options


def job_options(kind, name):
    """The options a DFT job reads (the facet list is not one: adding a facet to a sidecar
    adds jobs and must not rerun the other facets')."""
    return {k: v for k, v in options_of(kind, name).items() if k != "miller"}


def millers_of(kind, name):
    return [miller_to_str(m) for m in options_of(kind, name)["miller"]]


def surface(kind="{kind}", name="{name}", miller="{miller}"):
    return f"{work('surfaces')}/{kind}/{name}/{miller}"


def sites_dir(kind="{kind}", name="{name}", miller="{miller}"):
    return f"{work('sites')}/{kind}/{name}/{miller}"


def clean_dir(kind="{kind}", name="{name}", miller="{miller}", term="{term}"):
    return f"{work('clean')}/{kind}/{name}/{miller}/t{term}"


def adsorption_dir(kind="{kind}", name="{name}", miller="{miller}", term="{term}",
                   metal="{metal}"):
    return f"{work('adsorption')}/{kind}/{name}/{miller}/t{term}/{metal}/{ML_SEGMENT}"


def interface_dir(name="{name}", miller="{miller}", term="{term}", metal="{metal}",
                  metal_miller="{metal_miller}"):
    return f"{work('interfaces')}/{name}/{miller}/t{term}/{metal}/{metal_miller}"


# The gathered records of one substrate and metal. The file is named by the facets too: the
# gather job's inputs come from checkpoints, so Snakemake would not rerun it for a facet
# added to a sidecar; a new name makes the tables ask for it.
def site_summary(kind, name, metal):
    facets = "_".join(millers_of(kind, name))
    return f"{work('adsorption')}/summaries/{ML_SEGMENT}{kind}/{name}/{metal}-{facets}.json"


def interface_summary(name, metal):
    facets = "_".join(millers_of("coatings", name))
    return f"{work('interfaces')}/summaries/{name}/{metal}-{facets}.json"


def candidate_file(kind, name):
    """The CIF a job's failed record names (param ``candidate``)."""
    return str(cif_of(kind, name))


# Input functions of the rules (the lists that follow the checkpoints among them).


def _bulk_path(w):
    """The bulk a facet is cut from: the anode's computed bulk record, or the CIF."""
    if w.kind == "anodes":
        return f"{work('bulk')}/{w.name}/record.json"
    return str(cif_of(w.kind, w.name))


def _bulk_input(w):
    """As input: nothing for a CIF that is missing (its candidate record says why)."""
    return [_bulk_path(w)] if w.kind == "anodes" or Path(_bulk_path(w)).exists() else []


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


def site_records(kind, name, metal):
    """Site and clean-slab records (and with ``site_energies`` the laterally held site
    energies of a coating's terminations) of one substrate for one metal, resolved after the
    select_termination and find_sites checkpoints ran; a facet that failed contributes
    its failed record. An unfinished checkpoint contributes its target instead of raising
    at once, so a dry run lists every checkpoint job, not only the first."""
    sites, cleans, lateral = [], [], []
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
        if config["site_energies"] and kind == "coatings":
            lateral += [f"{adsorption_dir(kind, name, miller, t, metal)}site_energies.json"
                        for t in data["selected"]]
    return {"sites": sites, "clean": sorted(set(cleans)), "site_energies": lateral}


def _interface_checkpoints(w):
    return (f"{checkpoints_of('interfaces')}/{w.name}/{w.miller}/t{w.term}/{w.metal}/"
            f"{w.metal_miller}")


def _interface_log(rule):
    return (f"{logs(rule)}/{STAGE_HASH['interfaces']}/{{name}}/{{miller}}/t{{term}}/"
            "{metal}/{metal_miller}.log")


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


def report_inputs(metal):
    """The records one metal's tables read: candidates, gathered summaries, references."""
    coatings = computed_coatings(metal)
    return {
        "candidates": [f"{work('candidates')}/coatings/{c}.json" for c in coatings_for(metal)],
        "sites": [site_summary("coatings", c, metal) for c in coatings],
        "baseline": site_summary("anodes", metal, metal),
        "interfaces": ([interface_summary(c, metal) for c in coatings]
                       if config["run_interfaces"] else []),
        "atom": f"{work('atoms')}/{metal}/record.json",
        "bulk": f"{work('bulk')}/{metal}/record.json",
        "reactions": f"{RESULTS}/reactions/{metal}.csv",
        "charges": [f"{RESULTS}/charges/{metal}/{c}/record.json" for c in coatings]
        if config["charge_density_difference"] else [],
    }


def charge_inputs(name, metal):
    """The gathered records whose best site and interfaces get charge-density
    differences (config ``charge_density_difference``)."""
    wanted = config["charge_density_difference"]
    inputs = {}
    if "site" in wanted:
        inputs["sites"] = site_summary("coatings", name, metal)
    if "interface" in wanted and config["run_interfaces"]:
        inputs["interfaces"] = interface_summary(name, metal)
    return inputs


def reaction_inputs(metal):
    """The records the reaction table of ``metal`` reads: candidates, phase energies."""
    return {"candidates": report_inputs(metal)["candidates"],
            "phases": sorted({phase_record(k) for keys in reaction_phases(metal).values()
                              for k in keys})}


def _database_inputs(w):
    """Every metal's reference records and gathered site and interface summaries."""
    files = []
    for metal in METALS:
        i = report_inputs(metal)
        files += [i["atom"], i["bulk"], i["baseline"], *i["sites"], *i["interfaces"]]
    return sorted(set(files))
