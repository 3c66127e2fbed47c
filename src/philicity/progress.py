"""What a screen would do, has done and is doing, read from files (no DFT): the logic of
the ``philicity`` commands (click code in :mod:`philicity.cli`).

- :func:`candidate_plan`, :func:`add_candidate`, :func:`termination_preview`: what a screen
  would compute for one CIF, and which termination of a facet it would choose;
- :func:`screen_status`: the job records under ``results/work`` (done, failed with the
  reason) and the jobs Snakemake marks as incomplete (running), with the progress of their
  relaxations from their logs (:func:`find_log`) or of their SCF from GPAW's text output;
- :func:`write_partial_tables`: the site and ranking tables of what has finished so far;
- :func:`coating_rows`, :func:`coating_files`: one coating's rows and files;
- :func:`compare_hashes`: the site energies under two adsorption settings hashes;
- :func:`database_rows`: the ASE database as plain rows.

Every problem with a file raises :class:`ProgressError`, whose message names the file and
the reason.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from philicity import calculators, slabs, structures
from philicity import config as cfg
from philicity.relax import PROGRESS_PREFIX


class ProgressError(ValueError):
    """A file a command reads is missing or broken; the message names it and the reason."""


# --------------------------------------------------------------------------------------
# What a screen would compute for one CIF (check, add, terminations)


def load_config(config_path: str | Path, preset: str | None = None) -> tuple[dict, dict]:
    """The config file validated (defaults filled) and its effective settings
    (:func:`philicity.config.load`, with ``preset`` instead of the file's if given);
    raises :class:`ProgressError` naming the file."""
    import yaml

    config_path = Path(config_path)
    if not config_path.is_file():
        raise ProgressError(f"{config_path}: no such config file (give --config)")
    try:
        return cfg.load(config_path, preset)
    except cfg.ConfigError as exc:  # the preset's checks name "config", not the file
        said = str(exc)
        raise ProgressError(said if said.startswith(str(config_path))
                            else f"{config_path}: {said.removeprefix('config: ')}") from exc
    except (yaml.YAMLError, TypeError, AttributeError) as exc:
        raise ProgressError(f"{config_path}: not a valid config file ({exc})") from exc


def default_config() -> dict:
    """The schema's defaults (used when a screen's config file is not at hand)."""
    return cfg.validate({"presets": {"default": {"calculator": {"name": "emt"}}},
                         "preset": "default"})


@dataclass
class CandidatePlan:
    """What a screen would compute for one candidate CIF (``philicity check``)."""

    cif: Path
    name: str
    summary: str  # formula, atoms in the conventional cell, space group
    lines: list[str]  # one per facet and per anode metal
    problems: list[str]  # facets the screen would fail (empty: none)
    config: dict = field(repr=False)
    options: dict = field(repr=False)

    @property
    def error(self) -> str:
        """The problems as one message naming the CIF."""
        return f"{self.cif}: " + "; ".join(self.problems)


def candidate_plan(cif: str | Path, config_path: str | Path) -> CandidatePlan:
    """Validate a candidate CIF and its sidecar (X.yaml beside X.cif) as a screen would
    (readable, ordered, no overlapping atoms, elements the preset's calculator treats,
    facets whose smallest slab fits ``slab.max_atoms``) and say which facets and metals
    it would compute. Raises :class:`ProgressError` (naming the file and the reason) for
    a broken config, CIF or sidecar and for elements the calculator cannot treat; facets
    the screen would fail are in ``problems``."""
    cif = Path(cif)
    config, settings = load_config(config_path)
    try:
        structure = structures.read_structure(cif)
        sidecar = structures.read_sidecar(cif)
    except structures.CandidateError as exc:
        raise ProgressError(str(exc)) from exc
    name, els = cif.stem, structures.elements(structure)
    missing = calculators.unsupported_elements(els, settings["calculator"])
    if missing:
        raise ProgressError(
            f"{cif}: elements {missing} cannot be treated by the "
            f"{settings['calculator']['name']} calculator of preset {config['preset']!r}")
    options = cfg.candidate_options(name, sidecar, config)
    sl = settings["slab"]
    lines, problems = [], []
    for miller in options["miller"]:
        hkl = tuple(miller)
        try:
            slabs.check_slab_size(structure, hkl, sl["min_thickness_A"], sl["max_atoms"])
            lines.append(f"facet ({slabs.miller_to_str(hkl)}): termination "
                         f"{options['termination']}")
        except slabs.SlabError as exc:
            problems.append(f"facet ({slabs.miller_to_str(hkl)}): {exc}")
    for metal in config["anodes"]:
        if els == [metal]:
            lines.append(f"{metal}: not ranked (the anode metal itself: its surfaces are "
                         "the baseline)")
        elif config["skip_foreign_alkali"] and structures.contains_foreign_alkali(els, metal):
            lines.append(f"{metal}: skipped (holds another alkali metal; skip_foreign_alkali)")
        else:
            lines.append(f"{metal}: adatom sites"
                         + (" and interfaces" if config["run_interfaces"] else ""))
    summary = (f"{cif}: {structure.composition.reduced_formula}, {len(structure)} atoms in "
               f"the conventional cell ({structure.get_space_group_info()[0]})")
    return CandidatePlan(cif, name, summary, lines, problems, config, options)


def add_candidate(cif: str | Path, structures_dir: str | Path,
                  config_path: str | Path) -> tuple[CandidatePlan, list[Path]]:
    """Validate ``cif`` (:func:`candidate_plan`; a facet the screen would fail refuses it
    too) and copy it, with its sidecar X.yaml if one is beside it, into
    ``structures_dir/coatings/``. Refuses (nothing copied) when that folder already holds
    a CIF of the same name (any case of the suffix) or a sidecar of that name. Returns the
    plan and the files written."""
    cif = Path(cif)
    plan = candidate_plan(cif, config_path)
    if plan.problems:
        raise ProgressError(plan.error)
    structures_dir = Path(structures_dir)
    if not structures_dir.is_dir():
        raise ProgressError(f"{structures_dir}: no such structures folder (give --structures)")
    dest = structures_dir / "coatings"
    sidecar = cif.with_suffix(".yaml")
    if dest.is_dir():
        for path in dest.iterdir():
            if path.stem == plan.name and path.suffix.lower() == ".cif":
                raise ProgressError(f"{path} already exists: remove it first or rename "
                                    f"{cif.name}")
        if (dest / f"{plan.name}.yaml").exists():
            raise ProgressError(f"{dest / (plan.name + '.yaml')} already exists (a sidecar "
                                f"without its CIF): it would apply to {cif.name}; remove it")
    dest.mkdir(exist_ok=True)
    written = [Path(shutil.copy2(cif, dest / f"{plan.name}.cif"))]
    if sidecar.is_file():
        written.append(Path(shutil.copy2(sidecar, dest / f"{plan.name}.yaml")))
    return plan, written


def screened_note(name: str, config: dict) -> str | None:
    """Why a config would not screen a coating named ``name`` (None: it would)."""
    if name in config.get("exclude_coatings", []):
        return f"{name} is in the config's exclude_coatings: the screen leaves it out"
    if config.get("coatings", "all") != "all" and name not in config["coatings"]:
        return (f"the config's coatings list does not name {name}: add it there to screen "
                "it")
    return None


RANK_WORDS = ("polar", "cuts polyanions", "larger dipole", "not stoichiometric")


@dataclass
class TerminationPreview:
    """Every candidate termination of one facet and the screen's choice
    (``philicity terminations``)."""

    cif: Path
    miller: str
    choice: str | int  # the candidate's ``termination`` option
    oxidation: dict[str, float]
    rows: list[dict]  # index, origin, formula, n_atoms, properties, chosen, why_not
    selected: list[int]  # empty when DFT decides among ``tied`` or the facet fails
    tied: list[int]  # the terminations whose DFT surface energies decide (lowest_energy)
    why: str
    failure: str | None = None  # the screen would fail this facet (and why)
    facets: list[str] = field(default_factory=list)  # the facets the screen computes


def _why_not(t: dict, best: tuple) -> str:
    """The first criterion of ``slabs.termination_rank`` on which ``t`` loses."""
    mine = slabs.termination_rank(t)
    for word, a, b in zip(RANK_WORDS, mine, best, strict=True):
        if a != b:
            if word == "larger dipole":
                return f"larger dipole ({abs(t['dipole_e_per_A']):.4g} vs {b:.4g} e/A)"
            if word == "cuts polyanions":
                return f"cuts {t['polyanions_cut']} polyanions"
            return word
    return ""


def termination_preview(cif: str | Path, miller: tuple[int, int, int],
                        config_path: str | Path, preset: str | None = None
                        ) -> TerminationPreview:
    """Cut every candidate termination of the ``miller`` facet of ``cif`` as the screen's
    ``select_termination`` job does (``slabs.candidate_terminations`` with the config's
    slab settings: min_thickness_A, vacuum_A, layer_tolerance_A, min_lateral_A,
    fixed_layers, max_atoms; formal oxidation states from the options or pymatgen's
    guess; ``preset`` instead of the config's), with their properties
    (``slabs.termination_properties``), and say which one
    the screen would choose (``slabs.choose_termination``) and why, without DFT: where the
    screen breaks a tie by DFT surface energies, ``tied`` lists the terminations it
    compares. Raises :class:`ProgressError` naming the file for a broken CIF, sidecar or
    config; a facet the screen would fail is returned with ``failure``."""
    cif = Path(cif)
    config, settings = load_config(config_path, preset)
    hkl = tuple(int(i) for i in miller)
    mstr = slabs.miller_to_str(hkl)
    try:
        bulk = structures.read_structure(cif)
        options = cfg.candidate_options(cif.stem, structures.read_sidecar(cif), config)
    except structures.CandidateError as exc:
        raise ProgressError(str(exc)) from exc
    sl = settings["slab"]
    choice = options.get("termination", "lowest_energy")
    facets = [slabs.miller_to_str(m) for m in options["miller"]]
    preview = TerminationPreview(cif, mstr, choice, {}, [], [], [], "", facets=facets)
    try:
        slabs.check_slab_size(bulk, hkl, sl["min_thickness_A"], sl["max_atoms"])
        oxidation = slabs.oxidation_states(bulk, options.get("oxidation_states"))
        found = slabs.candidate_terminations(bulk, hkl, sl["min_thickness_A"], sl["vacuum_A"],
                                             oxidation, sl["layer_tolerance_A"])
    except (slabs.SlabError, ValueError) as exc:
        preview.failure = f"{cif}: miller ({mstr}): {exc}"
        return preview
    preview.oxidation = oxidation
    for i, (slab, origin) in enumerate(found):
        row = {"index": i, "origin": origin["kind"], "source": origin["source"]}
        try:
            built = slabs.finish_slab(slab, sl["min_lateral_A"], sl["fixed_layers"],
                                      sl["layer_tolerance_A"], sl["max_atoms"])
            row.update(formula=built.get_chemical_formula(), n_atoms=len(built),
                       stoichiometric=slabs.is_stoichiometric(built, bulk))
        except slabs.SlabError as exc:  # the screen fails the whole facet
            preview.failure = f"{cif}: miller ({mstr}): termination {i}: {exc}"
            row.update(formula=slab.composition.formula.replace(" ", ""),
                       n_atoms=len(slab),
                       stoichiometric=slab.composition.reduced_formula
                       == bulk.composition.reduced_formula)
        row.update(slabs.termination_properties(slab, bulk, oxidation,
                                                sl["layer_tolerance_A"]))
        preview.rows.append(row)
    if preview.failure:
        preview.why = "the screen fails this facet: " + preview.failure
        return preview
    rows = preview.rows
    best = min(slabs.termination_rank(t) for t in rows)
    for t in rows:
        t["why_not"] = _why_not(t, best)
    if choice == "all" or isinstance(choice, int):
        try:
            preview.selected = slabs.choose_termination(rows, choice)
        except slabs.SlabError as exc:
            preview.failure = f"{cif}: miller ({mstr}): {exc}"
            preview.why = "the screen fails this facet: " + str(exc)
            return preview
        preview.why = slabs.choice_reason(rows, preview.selected, choice)
    else:
        tied = slabs.terminations_to_compare(rows)
        if len(tied) == 1:
            preview.selected = tied
            preview.why = slabs.choice_reason(rows, tied, choice)
        else:
            # a flipped cut is its source's mirror image: the same surface energy, and
            # choose_termination's stable sort keeps the first of equal energies
            mirrors = {t["index"]: t["source"] for t in rows if t["index"] in tied
                       and t["origin"] == "flipped" and t["source"] in tied}
            distinct = [i for i in tied if i not in mirrors]
            said = ", ".join(f"{i} (mirror of {mirrors[i]})" if i in mirrors else str(i)
                             for i in tied)
            if len(distinct) == 1:
                preview.selected = [tied[0]]
                preview.why = (f"terminations {said} tie on polarity, intact polyanions, "
                               "dipole and stoichiometry and are mirror images (one surface "
                               f"energy): the screen keeps the first, {tied[0]}")
            else:
                preview.tied = tied
                preview.why = (
                    f"terminations {said} tie on polarity, intact polyanions, dipole and "
                    "stoichiometry: DFT decides (the screen computes the surface energies "
                    f"of {', '.join(map(str, distinct))}, single points, and takes the "
                    "lowest" + ("; a mirror image has its source's energy and the first "
                                "of equal energies is kept)" if mirrors else ")"))
    for t in rows:
        t["chosen"] = ("yes" if t["index"] in preview.selected
                       else "tied (DFT)" if t["index"] in preview.tied else "")
    return preview


# --------------------------------------------------------------------------------------
# Job records


@dataclass(frozen=True)
class JobRecord:
    """One job's record under ``results/work`` (or a charge-transfer record)."""

    path: Path
    kind: str
    status: str  # "ok", "failed", "no_match", ...
    reason: str
    mtime: float  # when it was written (s since the epoch)


# the outputs of jobs whose records carry no ``kind``, and the kind of a stage's records
JOB_FILES = ("terminations.json", "sites.json", "prescreen.json", "scan.json",
             "site_energies.json")
STAGE_KINDS = {"candidates": "candidate", "charges": "charges"}


def _kind_of(path: Path, rec: dict, work: Path) -> str:
    """A record's ``kind``; records without one are named by their file or stage."""
    if rec.get("kind"):
        return str(rec["kind"])
    if path.name in JOB_FILES:
        return path.stem
    rel = path.relative_to(work).parts if path.is_relative_to(work) else path.parts
    stage = rel[0] if len(rel) > 1 else "record"
    return STAGE_KINDS.get(stage, stage)


def read_record(path: str | Path) -> dict | None:
    """A JSON record, or None if the file is not a JSON object (a half-written file)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def job_records(results: str | Path) -> list[JobRecord]:
    """Every job record of a screen: each JSON file with a ``status`` under
    ``results/work`` (not the gathered ``summaries``; a record.json inside another
    record's folder, such as the separated slabs of W_ad, belongs to that job) and the
    charge-transfer records ``results/charges/*/*/record.json``. Sorted by path."""
    results = Path(results)
    work = results / "work"
    paths = sorted(work.rglob("*.json")) if work.is_dir() else []
    paths += sorted((results / "charges").glob("*/*/record.json"))
    folders = {p.parent for p in paths if p.name == "record.json"}
    out = []
    for path in paths:
        if "summaries" in path.relative_to(results).parts:
            continue
        if any(parent in folders for parent in path.parents if parent != path.parent) or (
                path.name != "record.json" and path.parent in folders):
            continue  # a part of another job's record
        rec = read_record(path)
        if rec is None or "status" not in rec:
            continue
        out.append(JobRecord(path, _kind_of(path, rec, work), str(rec["status"]),
                             str(rec.get("reason", "")), path.stat().st_mtime))
    return out


# --------------------------------------------------------------------------------------
# Snakemake's markers of running jobs


@dataclass(frozen=True)
class Marker:
    """A Snakemake incomplete marker: an output whose job started and has not finished."""

    output: str  # the output path as the rule names it (relative to the working directory)
    started: float  # when the marker was written: the job's start (s since the epoch)
    external_jobid: str | None  # the cluster's job id (SLURM), None for a local job


def decode_marker(relative: str | Path) -> str:
    """The output path a marker file under ``.snakemake/incomplete/`` stands for.

    Snakemake's file persistence (snakemake/persistence/file.py, ``_record_path``) names a
    marker by the URL-safe base64 of the output path; a name longer than the file
    system's NAME_MAX is split into folders of NAME_MAX - 1 characters, each but the last
    prefixed with ``@``. Raises ValueError for a name that is not such an encoding."""
    parts = Path(relative).parts
    if not parts or any(not p.startswith("@") for p in parts[:-1]):
        raise ValueError(f"{relative}: not a Snakemake marker name")
    encoded = "".join(p[1:] for p in parts[:-1]) + parts[-1]
    try:
        return base64.urlsafe_b64decode(encoded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(f"{relative}: not a Snakemake marker name ({exc})") from exc


def incomplete_markers(directory: str | Path) -> list[Marker]:
    """The outputs Snakemake marks as incomplete in ``directory/.snakemake/incomplete``
    (its default file persistence): jobs that started and have not finished, running now
    or interrupted by a kill."""
    root = Path(directory) / ".snakemake" / "incomplete"
    out = []
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        if not path.is_file() or path.name == "migration_underway":
            continue
        try:
            output = decode_marker(path.relative_to(root))
        except ValueError:
            continue
        jobid = (read_record(path) or {}).get("external_jobid")
        out.append(Marker(output, path.stat().st_mtime, jobid))
    return out


def locked_outputs(directory: str | Path) -> tuple[float | None, set[str]]:
    """When the Snakemake process that holds ``directory`` took its lock (the oldest lock
    file's mtime, s since the epoch; None: no lock in ``.snakemake/locks``), and the
    outputs it locked. The lock lists the outputs known when the run started: the jobs a
    checkpoint adds later are not in it."""
    folder = Path(directory) / ".snakemake" / "locks"
    outputs: set[str] = set()
    times = []
    for lock in sorted(folder.glob("*.lock")):
        try:
            times.append(lock.stat().st_mtime)
            if lock.name.endswith(".output.lock"):
                outputs |= {line.strip() for line in lock.read_text().splitlines()
                            if line.strip()}
        except OSError:
            continue
    return (min(times) if times else None), outputs


# --------------------------------------------------------------------------------------
# The log of a running job


@dataclass(frozen=True)
class LogFile:
    """A job log under ``results/logs/{rule}/``."""

    path: Path
    rule: str
    parts: tuple[str, ...]  # its path below results/logs/{rule}/, ".log" removed
    mtime: float


def log_files(results: str | Path) -> list[LogFile]:
    """Every ``*.log`` under ``results/logs/{rule}/``."""
    root = Path(results) / "logs"
    out = []
    for path in sorted(root.glob("*/**/*.log")) if root.is_dir() else []:
        rel = path.relative_to(root).parts
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        out.append(LogFile(path, rel[0], (*rel[1:-1], rel[-1].removesuffix(".log")), mtime))
    return out


LOG_START_TOLERANCE_S = 5.0  # a job's log may be opened this long before its marker


def _output_words(output: str | Path, results: Path) -> Counter:
    """The path components of an output (below ``results`` if it is there), and the
    stem of its file name: what a log path can repeat."""
    path, base = Path(output).resolve(), results.resolve()
    if path.is_relative_to(base):
        path = path.relative_to(base)
    parts = list(path.parts)
    if parts:
        parts.append(Path(parts[-1]).stem)
    return Counter(parts)


def find_log(output: str | Path, started: float, results: str | Path,
             logs: list[LogFile] | None = None) -> LogFile | None:
    """The log of the running job that writes ``output``, started at ``started`` (its
    marker's time, s since the epoch); None if none is found (not written yet).

    How: the workflow names every log ``results/logs/{rule}/{stage hash}/{wildcards}.log``
    and every output ``results/work/{stage}/{stage hash}/{wildcards}/...`` (Snakemake
    requires a log to carry every wildcard of its job's outputs; workflow/rules/*.smk). So
    the folders and name of the job's log below ``logs/{rule}/`` are all components of its
    output path (or the stem of its file name). The run's wrapper opens the log when the
    job starts, so the log was modified after the marker was written (less a few seconds'
    tolerance), which rules out logs of other jobs written before. Among the logs that
    pass both tests: the one that repeats most components of the output path (the most
    specific: a site's log before its termination's prescreen log); then, between rules
    with the same wildcards (the scan, relaxation and W_ad of one interface; the prescreen
    and held site energies of one termination), the rule whose name resembles the output
    path below its stage folder (``relax_interface`` and ``relaxed/record.json``,
    ``site_energies`` and ``site_energies.json``); then the newest. A job whose rule has
    no wildcards logs under the stem of its output (``logs/collect_database/calculations.log``
    for ``calculations.db``), so the same test finds it. Without any log that repeats
    the output path: the newest ``logs/{rule}/{rule}.log`` modified since it started."""
    results = Path(results)
    logs = log_files(results) if logs is None else logs
    words = _output_words(output, results)
    recent = [log for log in logs if log.mtime >= started - LOG_START_TOLERANCE_S]
    found = [log for log in recent if not Counter(log.parts) - words]
    if not found:  # a log named after its rule alone
        plain = [log for log in recent if log.parts == (log.rule,)]
        return max(plain, key=lambda log: log.mtime) if plain else None
    tokens = _output_tokens(output, results)
    return max(found, key=lambda log: (len(log.parts), _rule_likeness(log.rule, tokens),
                                       log.mtime))


def _output_tokens(output: str | Path, results: Path) -> list[str]:
    """The words of an output path after ``work/{stage}/{hash}/`` (all of it elsewhere):
    what tells apart the rules of one stage (scan.json, relaxed/, adhesion/ ...)."""
    path, base = Path(output).resolve(), results.resolve()
    parts = list(path.relative_to(base).parts) if path.is_relative_to(base) else [path.name]
    if parts[:1] == ["work"]:
        parts = parts[3:]
    return [w for p in parts for w in re.split(r"[_.\-]", p.lower()) if w]


def _rule_likeness(rule: str, tokens: list[str]) -> int:
    """How many words of a rule's name (``relax_interface``) begin, or are the beginning
    of, a word of its output path (``relaxed``), at least four letters shared."""
    def alike(a: str, b: str) -> bool:
        return min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a))

    return sum(any(alike(w, t) for t in tokens) for w in rule.lower().split("_"))


@dataclass(frozen=True)
class Step:
    """One ionic step of a relaxation, from its log line (relax.progress_line)."""

    step: int
    steps: int  # at most this many steps
    energy_eV: float
    fmax_eV_A: float  # largest force on a free atom, eV/A
    scf: int | None  # SCF iterations of the step (None: not an SCF calculator)
    step_s: float  # wall time of the step, s


STEP_LINE = re.compile(
    re.escape(PROGRESS_PREFIX) + r" (\d+)/(\d+) energy_eV=(\S+) fmax_eV_A=(\S+) "
    r"scf=(\S+) step_s=(\S+)")


def parse_steps(text: str) -> list[Step]:
    """Every progress line (``relax.progress_line``) in a log's text, in order."""
    out = []
    for m in STEP_LINE.finditer(text):
        try:
            out.append(Step(int(m[1]), int(m[2]), float(m[3]), float(m[4]),
                            None if m[5] == "-" else int(m[5]), float(m[6])))
        except ValueError:
            continue
    return out


def relaxations_in(steps: list[Step]) -> int:
    """How many relaxations the steps belong to (a new one starts where the step count
    does not grow, e.g. a job that relaxes several structures)."""
    return sum(1 for i, s in enumerate(steps) if i == 0 or s.step <= steps[i - 1].step)


SCF_LINE = re.compile(r"^iter:\s+(\d+)", re.MULTILINE)


def scf_iteration(text: str) -> tuple[int | None, int]:
    """The SCF iteration GPAW's text output is at (its last ``iter:`` line; None: no SCF
    iteration yet) and the number of SCF cycles in it (the count restarts at 1)."""
    found = [int(n) for n in SCF_LINE.findall(text)]
    if not found:
        return None, 0
    cycles = sum(1 for i, n in enumerate(found) if i == 0 or n <= found[i - 1])
    return found[-1], cycles


def calc_texts(output: str | Path, since: float) -> list[Path]:
    """GPAW text outputs (``*calc.txt``) of the job writing ``output``, newest first:
    in the output's folder (and, for a record.json, the job's own folder, its subfolders
    too), modified since ``since`` (the job's start, s since the epoch)."""
    output = Path(output)
    folder = output.parent
    recent = []
    try:
        found = list(folder.rglob("*calc.txt") if output.name == "record.json"
                     else folder.glob("*calc.txt")) if folder.is_dir() else []
        for path in found:
            mtime = path.stat().st_mtime
            if mtime >= since - LOG_START_TOLERANCE_S:
                recent.append((mtime, path))
    except OSError:  # a folder removed while we look, a name too long
        return [p for _, p in sorted(recent, reverse=True)]
    return [p for _, p in sorted(recent, reverse=True)]


@dataclass
class RunningJob:
    """A job Snakemake marks as incomplete, with what its files say about its progress."""

    outputs: list[str]
    started: float
    state: str  # "running", "interrupted" (no Snakemake holds the folder), "stale"
    external_jobid: str | None = None
    log: LogFile | None = None
    steps: list[Step] = field(default_factory=list)
    calc_txt: Path | None = None
    scf_iteration: int | None = None
    scf_cycles: int = 0

    @property
    def rule(self) -> str:
        """The job's rule, from its log's folder ("" without a log)."""
        return self.log.rule if self.log else ""

    @property
    def last(self) -> Step | None:
        """The last ionic step logged (None: none yet)."""
        return self.steps[-1] if self.steps else None


def running_jobs(directory: str | Path, results: str | Path) -> list[RunningJob]:
    """The jobs marked incomplete in ``directory`` (the Snakemake working directory), one
    per log (a job with several outputs has one log), with the progress of each: its
    log's step lines (:func:`find_log`, :func:`parse_steps`) and the SCF iteration of its
    newest GPAW text output (:func:`calc_texts`). ``state``: "running" when a Snakemake
    process holds the folder and either locked the output or marked it after taking its
    lock (a job a checkpoint added); "stale" when one holds it but the marker is older
    than its lock and not locked (left by an earlier, interrupted run); "interrupted" when
    no Snakemake holds the folder (killed, or a run with --nolock)."""
    directory, results = Path(directory), Path(results)
    since, locked = locked_outputs(directory)
    active = since is not None
    logs = log_files(results)
    jobs: dict[object, RunningJob] = {}
    for marker in incomplete_markers(directory):
        path = Path(marker.output)
        path = path if path.is_absolute() else directory / path
        log = find_log(path, marker.started, results, logs)
        key = log.path if log else marker.output
        if key in jobs:
            jobs[key].outputs.append(marker.output)
            continue
        ours = marker.output in locked or not locked or marker.started >= since - 1.0
        state = ("running" if active and ours else "stale" if active else "interrupted")
        job = RunningJob([marker.output], marker.started, state, marker.external_jobid, log)
        if log is not None:
            try:
                job.steps = parse_steps(log.path.read_text(errors="replace"))
            except OSError:
                pass
        texts = calc_texts(path, marker.started)
        if texts:
            job.calc_txt = texts[0]
            try:
                job.scf_iteration, job.scf_cycles = scf_iteration(
                    texts[0].read_text(errors="replace"))
            except OSError:
                pass
        jobs[key] = job
    return sorted(jobs.values(), key=lambda j: j.started)


def _ago(seconds: float) -> str:
    """A duration (s) in words: 41 s, 12 min, 3.5 h."""
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def describe_running(job: RunningJob, now: float) -> list[str]:
    """What one running job is doing, in words (first line: its output and state)."""
    head = f"{job.rule or 'job'}: {job.outputs[0]}"
    if len(job.outputs) > 1:
        head += f" (+{len(job.outputs) - 1} outputs)"
    head += f" [{job.state}, started {_ago(now - job.started)} ago"
    head += f", cluster job {job.external_jobid}]" if job.external_jobid else "]"
    lines = [head]
    if job.last is not None:
        s = job.last
        n = relaxations_in(job.steps)
        lines.append(
            f"step {s.step} of at most {s.steps}, last fmax {s.fmax_eV_A:.4f} eV/A, "
            f"last step {s.step_s:.1f} s, energy {s.energy_eV:.6f} eV"
            + (f", {s.scf} SCF iterations" if s.scf is not None else "")
            + (f" (relaxation {n} of this job)" if n > 1 else ""))
    if job.scf_iteration is not None:
        lines.append(
            f"{'single point: ' if job.last is None else 'now: '}SCF iteration "
            f"{job.scf_iteration}" + (f" (SCF cycle {job.scf_cycles})"
                                      if job.scf_cycles > 1 else "")
            + f" in {job.calc_txt}")
    if job.log is None:
        lines.append("no log written since it started (queued, or starting)")
    else:
        if job.last is None and job.scf_iteration is None:
            lines.append("no relaxation step in its log yet")
        lines.append(f"log {job.log.path} (updated {_ago(now - job.log.mtime)} ago)")
    return lines


# --------------------------------------------------------------------------------------
# The status of a screen


@dataclass
class ScreenStatus:
    """What a screen's files say: finished job records, and jobs marked incomplete."""

    records: list[JobRecord]
    running: list[RunningJob]

    @property
    def done(self) -> list[JobRecord]:
        """The records with status ok."""
        return [r for r in self.records if r.status == "ok"]

    @property
    def failed(self) -> list[JobRecord]:
        """The records with any other status (failed, no_match), with their reason."""
        return [r for r in self.records if r.status != "ok"]


def screen_status(results: str | Path, directory: str | Path = ".") -> ScreenStatus:
    """The job records under ``results`` (:func:`job_records`) and the running jobs of the
    Snakemake working directory ``directory`` (:func:`running_jobs`). A record of an output
    that is marked incomplete is an earlier run's (Snakemake reruns it), so it is not
    counted."""
    results, directory = Path(results), Path(directory)
    running = running_jobs(directory, results)
    rerun = set()
    for job in running:
        for out in job.outputs:
            path = Path(out) if Path(out).is_absolute() else directory / out
            rerun.add(path.resolve())
    records = [r for r in job_records(results) if r.path.resolve() not in rerun]
    return ScreenStatus(records, running)


def status_lines(status: ScreenStatus, results: str | Path, now: float | None = None,
                 max_reason: int = 400) -> list[str]:
    """The status report, one line each: counts by kind, failed jobs with their reason,
    running jobs with their progress."""
    now = time.time() if now is None else now
    results = Path(results)
    done, failed = status.done, status.failed
    n_running = sum(job.state == "running" for job in status.running)
    n_other = len(status.running) - n_running
    lines = [f"{results}: {len(done)} jobs done, {len(failed)} failed, {n_running} running"
             + (f", {n_other} interrupted" if n_other else "")]
    kinds = sorted({r.kind for r in status.records})
    for kind in kinds:
        n_ok = sum(r.kind == kind for r in done)
        n_bad = sum(r.kind == kind for r in failed)
        lines.append(f"  {kind}: {n_ok} done" + (f", {n_bad} failed" if n_bad else ""))
    if failed:
        lines.append("failed:")
        for r in failed:
            reason = r.reason if len(r.reason) <= max_reason else r.reason[:max_reason - 3] + "..."
            lines.append(f"  {r.kind} {_short(r.path, results)}: {r.status}: {reason}")
    if status.running:
        lines.append("running:")
        for job in status.running:
            text = describe_running(job, now)
            lines.append(f"  {text[0]}")
            lines += [f"      {t}" for t in text[1:]]
    if n_other:
        lines.append("interrupted: marked incomplete by Snakemake, but no Snakemake process "
                     "holds the folder (interrupted, or started with --nolock) or it did not "
                     "lock the output (stale: left by an earlier run); the next run reruns "
                     "them")
    return lines


def _short(path: Path, results: Path) -> str:
    """A record's path below ``results`` (its folder for a record.json)."""
    try:
        rel = path.relative_to(results)
    except ValueError:
        rel = path
    return str(rel.parent if rel.name == "record.json" else rel)


# --------------------------------------------------------------------------------------
# Tables of what has finished so far


def _records_of_kind(root: Path, kinds: tuple[str, ...]) -> list[tuple[Path, dict]]:
    """Every JSON record under ``root`` whose ``kind`` is one of ``kinds`` (with its path;
    the gathered summaries left out)."""
    out = []
    for path in sorted(root.rglob("*.json")) if root.is_dir() else []:
        if "summaries" in path.parts:
            continue
        rec = read_record(path)
        if rec is not None and rec.get("kind") in kinds and "status" in rec:
            out.append((path, rec))
    return out


def _adsorption_key(path: Path, adsorption: Path) -> tuple[str, str, str]:
    """(settings hash, substrate kind ``coatings``/``anodes``, route) of an adsorption
    record: ``adsorption/{hash}/{kind}/{name}/{miller}/t{term}/{metal}/[ml-{hash}/]...``;
    route "dft" or the ML segment."""
    parts = path.relative_to(adsorption).parts
    route = parts[6] if len(parts) > 6 and parts[6].startswith("ml-") else "dft"
    return parts[0], parts[1] if len(parts) > 1 else "", route


def matching_reference(results: Path, stage: str, metal: str, settings: dict | None,
                       sections: tuple[str, ...]) -> tuple[Path | None, dict | None]:
    """The reference record ``results/work/{stage}/*/{metal}/record.json`` whose settings
    equal ``settings`` in ``sections`` (the newest if several; any, without
    ``settings``); (None, None) if there is none."""
    found = []
    for path in (results / "work" / stage).glob(f"*/{metal}/record.json"):
        rec = read_record(path)
        if rec is None:
            continue
        if settings is not None and any(
                (rec.get("settings") or {}).get(s) != settings.get(s) for s in sections):
            continue
        found.append((path.stat().st_mtime, path, rec))
    if not found:
        return None, None
    _, path, rec = max(found, key=lambda x: x[0])
    return path, rec


def _reference(results: Path, metal: str, settings: dict | None
               ) -> tuple[float | None, float | None, list[str], list[str]]:
    """E(isolated atom) (eV) and E(bulk) (eV/atom) of ``metal`` computed with
    ``settings``' calculator (and bulk settings), what is missing, and what failed."""
    missing, failed = [], []
    _, atom = matching_reference(results, "atoms", metal, settings, ("calculator",))
    _, bulk = matching_reference(results, "bulk", metal, settings, ("calculator", "bulk"))
    e_atom = e_bulk = None
    for what, rec, key in ((f"isolated {metal} atom", atom, "energy_eV"),
                           (f"bulk {metal}", bulk, "energy_per_atom_eV")):
        if rec is None:
            missing.append(f"{what} not computed yet")
        elif rec.get("status") != "ok" or rec.get(key) is None:
            failed.append(f"{what} failed: {rec.get('reason')}")
        elif what.startswith("isolated"):
            e_atom = float(rec[key])
        else:
            e_bulk = float(rec[key])
    return e_atom, e_bulk, missing, failed


NUMERIC_SITE_COLUMNS = ("E_b_atom_eV", "E_b_bulk_eV", "ml_E_b_atom_eV", "height_A",
                        "adatom_charge_e")


@dataclass
class PartialTables:
    """One metal's tables of what has finished so far."""

    metal: str
    sites: pd.DataFrame
    ranking: pd.DataFrame
    note: str


def _candidates(results: Path) -> dict[str, dict]:
    """The newest candidate record of each coating (``work/candidates/*/coatings``)."""
    out: dict[str, tuple[float, dict]] = {}
    for path in (results / "work" / "candidates").glob("*/coatings/*.json"):
        rec = read_record(path)
        if rec is None or "status" not in rec:
            continue
        rec.setdefault("name", path.stem)
        t = path.stat().st_mtime
        if rec["name"] not in out or t > out[rec["name"]][0]:
            out[rec["name"]] = (t, rec)
    return {name: rec for name, (_, rec) in sorted(out.items())}


def _site_table(results: Path, metal: str, groups: dict, formula: dict[str, str]
                ) -> tuple[pd.DataFrame, dict[str, tuple]]:
    """The coatings' site rows of ``metal`` (``ranking.site_rows`` and
    ``site_energy_rows``) of every (settings hash, kind, route) group of adsorption
    records, each with the references computed with its settings; and those references
    (:func:`_reference`) by settings hash."""
    from philicity import ranking

    refs: dict[str, tuple] = {}
    tables = []
    for (h, kind, route), items in sorted(groups.items()):
        if h not in refs:
            settings = next((r.get("settings") for _, r in items if r.get("settings")), None)
            refs[h] = _reference(results, metal, settings)
        e_atom, e_bulk, _, _ = refs[h]
        if kind != "coatings":
            continue
        free = [r for _, r in items if r["kind"] == "adsorbate"]
        held = [r for _, r in items if r["kind"] == "site_energies"]
        if free:
            tables.append(ranking.site_rows(free, formula, e_atom, e_bulk)
                          .assign(settings_hash=h, route=route))
        if held:
            tables.append(ranking.site_energy_rows(held, formula, e_atom, e_bulk)
                          .assign(settings_hash=h, route=route))
    tables = [t for t in tables if len(t)]
    sites = (pd.concat(tables, ignore_index=True) if tables
             else pd.DataFrame(columns=[*ranking.SITE_COLUMNS, "settings_hash", "route"]))
    for column in NUMERIC_SITE_COLUMNS:  # None from a missing reference: NaN
        sites[column] = pd.to_numeric(sites[column], errors="coerce")
    return sites, refs


def _newest_group(records: list[tuple[Path, dict]], root: Path) -> str | None:
    """The settings-hash folder (first component below ``root``) of the newest record."""
    if not records:
        return None
    newest = max(records, key=lambda pr: pr[0].stat().st_mtime)[0]
    return newest.relative_to(root).parts[0]


def _mark_pending(ranked: pd.DataFrame, candidates: dict[str, dict], with_sites: set[str],
                  missing: list[str]) -> None:
    """In place: the rows of a partial ranking that are not failures yet say so (no site
    finished yet, a reference not computed yet, only flagged sites so far)."""
    for i, row in ranked.iterrows():
        cand, said = candidates.get(row["coating"], {}), str(row["status"])
        if cand.get("status") != "ok" or said.startswith(("ok", "not ranked")):
            continue
        if row["coating"] not in with_sites:
            ranked.at[i, "status"] = "pending: no site finished yet"
        elif missing:
            ranked.at[i, "status"] = "pending: " + "; ".join(missing)
        elif said == "failed: no site relaxed without a flag":  # others may follow
            ranked.at[i, "status"] = "pending: no site finished without a flag yet"


def partial_tables(results: str | Path, config: dict | None = None) -> list[PartialTables]:
    """Per anode metal with site or atom records, the sites and ranking tables of what has
    finished (``ranking.site_rows``, ``site_energy_rows``, ``baseline_binding``,
    ``interface_rows`` and ``ranking``, as ``jobs.report.report_metal`` makes them), from
    the records on disk: adsorbate and held-site records under ``work/adsorption``,
    the metal's isolated atom and bulk (``work/atoms/*/{metal}``, ``work/bulk/*/{metal}``,
    those computed with the sites' settings), candidate records and W_ad records.

    The sites table holds every settings hash found (columns ``settings_hash`` and
    ``route``: dft or the ml-then-dft folder); the ranking uses the settings hash and
    route of the newest site record (the screen running now), and the W_ad records of the
    newest interface settings hash. A missing reference leaves E_b empty and the note
    says so; coatings not finished yet are ``pending`` in ``status``. Both tables get a
    first column ``partial`` (True) and a last column ``partial_note``. ``config``: the
    screen's (weights, baseline_miller, wetting, skip_foreign_alkali); the schema's
    defaults without one."""
    from philicity import ranking, wetting

    results = Path(results)
    config = config or default_config()
    adsorption, interfaces = results / "work" / "adsorption", results / "work" / "interfaces"
    records = _records_of_kind(adsorption, ("adsorbate", "site_energies"))
    atom_metals = {p.parent.name for p in (results / "work" / "atoms").glob("*/*/record.json")}
    metals = sorted({rec.get("metal") for _, rec in records if rec.get("metal")} | atom_metals)
    candidates = _candidates(results)
    formula = {n: c.get("formula", "") for n, c in candidates.items()}
    adhesions = _records_of_kind(interfaces, ("adhesion",))
    iface_hash = _newest_group(adhesions, interfaces)
    reference_miller = slabs.miller_to_str(config["baseline_miller"][0])
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    out = []
    for metal in metals:
        mine = [(p, r) for p, r in records if r.get("metal") == metal]
        groups: dict[tuple[str, str, str], list[tuple[Path, dict]]] = {}
        for p, r in mine:
            groups.setdefault(_adsorption_key(p, adsorption), []).append((p, r))
        sites, refs = _site_table(results, metal, groups, formula)
        current = (_adsorption_key(max(mine, key=lambda pr: pr[0].stat().st_mtime)[0],
                                   adsorption) if mine else None)
        e_atom, e_bulk, missing, failed = (refs[current[0]] if current
                                           else _reference(results, metal, None))
        notes = missing + failed + (["E_b left empty until the references are computed"]
                                    if missing else [])
        if current is not None:
            table = sites[(sites["settings_hash"] == current[0])
                          & (sites["route"] == current[2])]
            base_records = [r for _, r in groups.get((current[0], "anodes", current[2]), [])
                            if r["kind"] == "adsorbate" and r.get("name") == metal]
        else:
            table, base_records = sites, []
        table = table.drop(columns=["settings_hash", "route"]).reset_index(drop=True)
        e_base = ranking.baseline_binding(
            ranking.site_rows(base_records, {metal: metal}, e_atom, e_bulk), reference_miller)
        if e_base is None:
            notes.append(f"no baseline yet ({metal} adatom on {metal}({reference_miller})): "
                         "dE_vs_baseline empty")
        cands = [c for c in candidates.values()
                 if not (config["skip_foreign_alkali"] and c.get("elements")
                         and structures.contains_foreign_alkali(c["elements"], metal))]
        sigma = wetting.surface_tension_for(metal, config["wetting"])
        ifaces = ranking.interface_rows(
            [r for p, r in adhesions if r.get("metal") == metal
             and p.relative_to(interfaces).parts[0] == iface_hash],
            sigma.sigma_J_m2, sigma.from_dft_film)
        ranked = ranking.ranking(cands, table, e_base, config["ranking"]["weights"],
                                 current[0] if current else "", ifaces, metal=metal,
                                 references_failed="; ".join(failed))
        _mark_pending(ranked, candidates, set(table["coating"]), missing)
        note = (f"partial: written by philicity status at {stamp} from the records "
                f"finished so far ({len(mine)} site records)"
                + (f"; ranking from settings hash {current[0]} ({current[2]})" if current
                   else "") + ("; " + "; ".join(notes) if notes else ""))
        out.append(PartialTables(metal, _mark_partial(sites, note),
                                 _mark_partial(ranked, note), note))
    return out


def _mark_partial(table: pd.DataFrame, note: str) -> pd.DataFrame:
    """``table`` with a first column ``partial`` (True) and a last ``partial_note``."""
    table = table.copy()
    table.insert(0, "partial", True)
    table["partial_note"] = note
    return table


def write_partial_tables(results: str | Path, config: dict | None = None
                         ) -> list[tuple[PartialTables, Path, Path]]:
    """Write :func:`partial_tables` to ``results/partial/sites/{metal}.csv`` and
    ``results/partial/ranking/{metal}.csv``; returns each metal's tables and paths."""
    from philicity.files import atomic_write_text

    results = Path(results)
    out = []
    for t in partial_tables(results, config):
        sites_csv = results / "partial" / "sites" / f"{t.metal}.csv"
        ranking_csv = results / "partial" / "ranking" / f"{t.metal}.csv"
        atomic_write_text(sites_csv, t.sites.to_csv(index=False, float_format="%.4f"))
        atomic_write_text(ranking_csv, t.ranking.to_csv(index=False, float_format="%.4f"))
        out.append((t, sites_csv, ranking_csv))
    return out


# --------------------------------------------------------------------------------------
# One coating's rows and files (show)

METAL_TABLES = ("ranking", "sites", "interfaces", "reactions", "charges")


def read_table(path: Path) -> pd.DataFrame:
    """A CSV table as the text it holds (Miller indices such as 001 kept; empty cells as
    NaN); raises :class:`ProgressError` naming the file."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ProgressError(f"{path}: not a readable table ({exc})") from exc


def coating_rows(results: str | Path, coating: str) -> dict[str, pd.DataFrame]:
    """The rows of ``coating`` in every table of a screen: ``results/{table}/{metal}.csv``
    for the ranking, sites, interfaces, reactions and charges tables (column ``coating``;
    a ``metal`` column added where the table has none), and its terminations table
    ``results/terminations/{coating}.csv``. Keys: ``"{table}/{metal}"``, ``"terminations"``."""
    results = Path(results)
    out = {}
    for table in METAL_TABLES:
        for path in sorted((results / table).glob("*.csv")):
            df = read_table(path)
            if "coating" not in df.columns:
                continue
            rows = df[df["coating"].astype(str) == coating]
            if len(rows):
                out[f"{table}/{path.stem}"] = rows.reset_index(drop=True)
    term = results / "terminations" / f"{coating}.csv"
    if term.is_file():
        out["terminations"] = read_table(term)
    return out


def known_coatings(results: str | Path) -> list[str]:
    """Every coating named in a screen's tables and terminations tables."""
    results = Path(results)
    names = {p.stem for p in (results / "terminations").glob("*.csv")}
    for table in METAL_TABLES:
        for path in (results / table).glob("*.csv"):
            df = read_table(path)
            if "coating" in df.columns:
                names |= set(df["coating"].dropna().astype(str))
    return sorted(names)


def coating_flags(rows: dict[str, pd.DataFrame]) -> list[str]:
    """The flags and problems of a coating's rows: its ranking status when not plainly
    ok, and every non-empty ``flags`` cell (with the table and the row's site or facet)."""
    out = []
    for key, df in rows.items():
        for _, row in df.iterrows():
            where = " ".join(str(row[c]) for c in ("miller", "termination", "site",
                                                    "metal_miller", "part")
                             if c in row and pd.notna(row[c]) and str(row[c]) != "")
            if "flags" in row and pd.notna(row["flags"]) and str(row["flags"]):
                out.append(f"{key} {where}: {row['flags']}".replace("  ", " "))
            status = str(row.get("status", "ok")) if pd.notna(row.get("status")) else "ok"
            if key.startswith("ranking/") and status != "ok":
                out.append(f"{key}: {status}")
            elif not key.startswith("ranking/") and not status.startswith("ok"):
                out.append(f"{key} {where}: {status}".replace("  ", " "))
    return out


def coating_files(results: str | Path, coating: str) -> tuple[list[Path], list[Path]]:
    """The record folders of ``coating`` (folders under ``results/work`` whose path
    holds ``/{coating}/`` and that hold a JSON record, and its candidate record) and
    its cube files under ``results/charges``."""
    results = Path(results)
    work = results / "work"
    folders: set[Path] = set()
    for path in work.rglob("*.json") if work.is_dir() else []:
        rel = path.relative_to(work)
        if coating in rel.parts[:-1] and "summaries" not in rel.parts:
            folders.add(path.parent if path.name == "record.json" else path)
        elif rel.parts[0] == "candidates" and path.stem == coating:
            folders.add(path)
    cubes = sorted(p for p in (results / "charges").rglob("*.cube")
                   if coating in p.relative_to(results / "charges").parts[:-1]
                   or p.name.startswith(f"{coating}_"))
    return sorted(folders), cubes


# --------------------------------------------------------------------------------------
# Two settings side by side (compare)


def adsorption_hashes(results: str | Path) -> list[str]:
    """The settings hashes with adsorption results (``results/work/adsorption/*``)."""
    root = Path(results) / "work" / "adsorption"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def flatten(data: dict, prefix: str = "") -> dict[str, object]:
    """Nested settings as dotted keys: {"slab": {"vacuum_A": 10}} -> {"slab.vacuum_A": 10}."""
    out: dict[str, object] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def settings_difference(a: dict, b: dict) -> list[tuple[str, object, object]]:
    """The settings (dotted keys) whose values differ between ``a`` and ``b``: (key,
    value in a, value in b; ``None`` where a side lacks the key)."""
    fa, fb = flatten(a), flatten(b)
    return [(k, fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb))
            if fa.get(k) != fb.get(k)]


SITE_KEY = ("coating", "miller", "termination", "site", "metal", "route")


def _site_energies(results: Path, h: str) -> tuple[pd.DataFrame, dict | None]:
    """The adatom records under one adsorption hash: one row per site with E_b vs the
    isolated atom computed with the same calculator settings (eV); and the hash's
    settings."""
    root = results / "work" / "adsorption"
    rows, settings, atoms = [], None, {}
    for path, rec in _records_of_kind(root / h, ("adsorbate",)):
        settings = settings or rec.get("settings")
        metal = rec.get("metal", "")
        calc = (rec.get("settings") or {}).get("calculator")
        key = (metal, json.dumps(calc, sort_keys=True))
        if key not in atoms:
            atoms[key] = matching_reference(results, "atoms", metal,
                                            rec.get("settings"), ("calculator",))[1]
        atom = atoms[key]
        e_atom = atom.get("energy_eV") if atom and atom.get("status") == "ok" else None
        ok = (rec.get("status") == "ok" and rec.get("energy_eV") is not None
              and rec.get("E_clean_slab_eV") is not None and e_atom is not None)
        note = ("" if ok else f"failed: {rec.get('reason', '')}" if rec.get("status") != "ok"
                else "no isolated-atom reference with these calculator settings"
                if e_atom is None else "no energy")
        rows.append({"coating": rec.get("name"), "miller": str(rec.get("miller")),
                     "termination": rec.get("termination"), "site": rec.get("site"),
                     "metal": metal, "route": _adsorption_key(path, root)[2],
                     "E_b_eV": rec["energy_eV"] - rec["E_clean_slab_eV"] - e_atom
                     if ok else None,
                     "flags": "; ".join(rec.get("flags", [])), "note": note})
    return pd.DataFrame(rows, columns=[*SITE_KEY, "E_b_eV", "flags", "note"]), settings


@dataclass
class Comparison:
    """The site energies under two adsorption settings hashes."""

    rows: pd.DataFrame  # SITE_KEY, E_b_eV_{a}, E_b_eV_{b}, diff_eV (b - a), notes
    settings: list[tuple[str, object, object]]  # (key, value under a, value under b)
    only_a: int  # sites found under a only
    only_b: int


def compare_hashes(results: str | Path, hash_a: str, hash_b: str) -> Comparison:
    """The binding energies E_b = energy_eV - E_clean_slab_eV - E(atom) (eV; the atom
    record under ``work/atoms/*/{metal}`` with the site's calculator settings) of every
    (coating, miller, termination, site, metal, route) found under both
    ``work/adsorption/{hash_a}`` and ``.../{hash_b}``, side by side with the difference
    (b - a), and the settings that differ (from the records' ``settings``). Raises
    :class:`ProgressError` for a hash without results, listing those found."""
    results = Path(results)
    if hash_a == hash_b:
        raise ProgressError(f"{hash_a} given twice: compare two different settings hashes")
    found = adsorption_hashes(results)
    for h in (hash_a, hash_b):
        if h not in found:
            raise ProgressError(
                f"{results / 'work' / 'adsorption' / h}: no adsorption results with "
                f"settings hash {h!r}; found: {', '.join(found) or 'none'}")
    a, settings_a = _site_energies(results, hash_a)
    b, settings_b = _site_energies(results, hash_b)
    a = a.astype({"termination": str})
    b = b.astype({"termination": str})
    both = a.merge(b, on=list(SITE_KEY), suffixes=(f"_{hash_a}", f"_{hash_b}"))
    ea, eb = both[f"E_b_eV_{hash_a}"], both[f"E_b_eV_{hash_b}"]
    both["diff_eV"] = pd.to_numeric(eb, errors="coerce") - pd.to_numeric(ea, errors="coerce")
    both = both.sort_values(list(SITE_KEY), kind="stable", ignore_index=True)
    keys = set(map(tuple, both[list(SITE_KEY)].astype(str).values))
    only_a = sum(tuple(map(str, k)) not in keys for k in a[list(SITE_KEY)].values)
    only_b = sum(tuple(map(str, k)) not in keys for k in b[list(SITE_KEY)].values)
    return Comparison(both, settings_difference(settings_a or {}, settings_b or {}),
                      only_a, only_b)


# --------------------------------------------------------------------------------------
# The ASE database (export)


def database_rows(db_path: str | Path) -> list[dict]:
    """Every row of an ASE database: id, formula, energy (eV; None where the row has
    none) and every key-value pair. Raises :class:`ProgressError` for a missing or
    unreadable database."""
    from ase.db import connect

    db_path = Path(db_path)
    if not db_path.is_file():
        raise ProgressError(f"{db_path}: no such database (a screen writes "
                            "results/calculations.db at its end; give --db)")
    try:
        with connect(db_path) as db:
            rows = []
            for row in db.select():
                energy = row.get("energy")
                rows.append({"id": row.id, "formula": row.formula,
                             "energy": None if energy is None or (
                                 isinstance(energy, float) and math.isnan(energy))
                             else float(energy),
                             **row.key_value_pairs})
    except Exception as exc:  # sqlite3 and ase raise several types for a broken file
        raise ProgressError(f"{db_path}: not a readable ASE database ({exc})") from exc
    return rows
