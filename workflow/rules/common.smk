# Configuration, candidate discovery and path helpers, evaluated once per run.
import os
from pathlib import Path

from philicity import config as cfg
from philicity import resources as dft_cost
from philicity import structures
from philicity.launch import one_blas_thread
from philicity.slabs import miller_to_str

# One BLAS/OpenMP thread per process: measured 1.6-2x faster for serial GPAW.
one_blas_thread(os.environ)

try:
    cfg.validate(config, where="config/config.yaml")
    ALL_SETTINGS = cfg.settings(config)
except cfg.ConfigError as _exc:
    raise WorkflowError(str(_exc))

# The adsorption branch does not see the interface settings: changing an interface
# bound must not rerun (or re-hash) a finished adsorption calculation.
SETTINGS = {k: v for k, v in ALL_SETTINGS.items() if k != "interface"}
HASH = cfg.settings_hash(SETTINGS)
# ml-then-dft site results live beside the dft ones, under the ML settings' own hash,
# so switching strategy reuses every reference, clean slab and finished site.
STRATEGY = config["strategy"]
ML = config["ml"]
MLHASH = cfg.settings_hash({"ml": ML}, ("ml",))
SITE_SEG = "" if STRATEGY == "dft" else f"ml-{MLHASH}/"
IHASH = cfg.settings_hash(ALL_SETTINGS, cfg.INTERFACE_SECTIONS)
if STRATEGY != "dft":  # ML geometries change the interfaces' results
    IHASH = cfg.settings_hash({"i": IHASH, "ml": ML}, ("i", "ml"))
# MPI ranks and requests of the DFT rules (config "parallel"; not in any settings hash).
PARALLEL = config["parallel"]


def dft_tasks(rule):
    """MPI ranks of one job of a DFT rule: parallel.tasks_per_rule, else parallel.tasks.
    Also the rule's threads, so a local run reserves one core per rank."""
    return PARALLEL["tasks_per_rule"].get(rule, PARALLEL["tasks"])


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


RESULTS = config["results_dir"]
WORK = f"{RESULTS}/work/{HASH}"
IWORK = f"{WORK}/interfaces/{IHASH}"
CHECKPOINTS = f"{RESULTS}/checkpoints/{HASH}"
LOGS = f"{RESULTS}/logs/{HASH}"
STRUCTURES = Path(config["structures_dir"])
METALS = config["anodes"]

wildcard_constraints:
    kind="coatings|anodes",
    name=r"[^/]+",
    miller=r"(-?\d){3}",
    term=r"\d+",
    metal=r"[A-Z][a-z]?",
    site=r"[a-z]+\d+",
    mmiller=r"(-?\d){3}",

for _metal in METALS:
    if not (STRUCTURES / "anodes" / f"{_metal}.cif").is_file():
        raise WorkflowError(
            f"config/config.yaml: key 'anodes': no structure for {_metal!r} "
            f"({STRUCTURES / 'anodes' / f'{_metal}.cif'} does not exist)"
        )


if config["run_interfaces"] and config["wetting"]["sigma_from"] == "liquid":
    from philicity.wetting import MELTING_POINT_K

    for _metal in METALS:
        if _metal not in MELTING_POINT_K and _metal not in config["wetting"]["sigma_lv_J_m2"]:
            raise WorkflowError(
                f"config/config.yaml: key 'wetting.sigma_lv_J_m2': no liquid surface tension "
                f"is shipped for {_metal!r}; give one (J/m^2) or set run_interfaces: false"
            )


def _coating_names():
    found = sorted(p.stem for p in (STRUCTURES / "coatings").glob("*.cif"))
    if config["coatings"] == "all":
        names = found
    else:
        missing = sorted(set(config["coatings"]) - set(found))
        if missing:
            raise WorkflowError(
                f"config/config.yaml: key 'coatings': no CIF for {missing} in {STRUCTURES / 'coatings'}"
            )
        names = list(config["coatings"])
    return [n for n in names if n not in config["exclude_coatings"]]


def _inspect(name):
    """Elements (None if unreadable), options and any sidecar error of one coating."""
    cif = STRUCTURES / "coatings" / f"{name}.cif"
    try:
        els = structures.elements(structures.read_structure(cif))
    except structures.CandidateError:
        els = None  # the check_candidate job reports why
    try:
        sidecar, error = structures.read_sidecar(cif), None
    except structures.CandidateError as exc:
        sidecar, error = {}, str(exc)
    return els, cfg.candidate_options(name, sidecar, config), error


COATINGS = {name: _inspect(name) for name in _coating_names()}


def coatings_for(metal):
    """Coatings screened against ``metal`` (foreign alkali compounds skipped by default)."""
    return [
        name
        for name, (els, _, _) in COATINGS.items()
        if not (config["skip_foreign_alkali"] and els and structures.contains_foreign_alkali(els, metal))
    ]


def options_of(kind, name):
    if kind == "anodes":
        return {"miller": config["baseline_miller"], "termination": "lowest_energy", "magmoms": {}}
    return COATINGS[name][1]


def millers_of(kind, name):
    return [miller_to_str(m) for m in options_of(kind, name)["miller"]]


def surface(kind="{kind}", name="{name}", miller="{miller}"):
    return f"{WORK}/surfaces/{kind}/{name}/{miller}"
