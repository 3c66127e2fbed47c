"""Cost model of a screen: its measured jobs replayed on N cores.

Reads a Snakemake log of a finished (or partial) run (``.snakemake/log/*.snakemake.log``):
every job's rule, wildcards, inputs, outputs, threads and start and finish times. The
DAG is rebuilt from the jobs' files (a job waits for the jobs that wrote its inputs) and
list-scheduled on N cores (each job takes its threads; the longest remaining path goes
first), so the projection needs no model of DFT, only the run's own durations. With
``--tasks T`` the DFT jobs run on T MPI ranks each, T^0.6 times faster
(``philicity.resources.RANK_EXPONENT``, measured for PW(300)).

A run stopped part way (a screen too long for one sitting) is projected whole with
``--pending``: the output of ``snakemake -n`` with the same config, taken after it, adds
the jobs still to run, each with ``philicity.resources.dft_seconds`` from its inputs
scaled by the measured / estimated ratio of the finished jobs of its rule. Jobs behind a
checkpoint that has not run are not in a dry run; the projection says how many
checkpoints are pending (then it is a lower bound).

Prints the measured wall time and core-minutes per rule, the projected wall time for each
``--cores``, and as the last line exactly

    measured_wall_s=<first start to last finish> projected_wall_s=<on the run's own cores>
    ratio=<projected / measured>                      (one line)

    python benchmarks/screen_cost.py                       # the latest log under .snakemake/log
    python benchmarks/screen_cost.py --log X.log --cores 2 16 64 256 --tasks 4
    snakemake -n > pending.txt; python benchmarks/screen_cost.py --pending pending.txt
    python benchmarks/screen_cost.py --log X.log --cut 0.5   # check --pending on a whole run
    python benchmarks/screen_cost.py --log A.log B.log      # a screen run in two parts
"""

from __future__ import annotations

import argparse
import gzip
import heapq
import json
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from bench_common import code_version, write_rows

from philicity import config as cfg
from philicity.resources import DFT_RULES, RANK_EXPONENT, dft_seconds, priority

CALIBRATION_MIN_S = 30.0  # shorter jobs are Python start-up, not DFT
BLOCK = re.compile(r"\n(?=\[\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}\]\n)")
STAMPED = re.compile(r"\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]\n(.*)", re.DOTALL)


@dataclass
class Job:
    jobid: int
    rule: str
    start: float  # s since the epoch
    end: float | None = None
    threads: int = 1
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    wildcards: str = ""
    checkpoint: bool = False  # a checkpoint: the jobs after it are known once it has run

    @property
    def seconds(self) -> float:
        return max((self.end or self.start) - self.start, 0.0)


def parse_log(text: str, finished: bool = True) -> list[Job]:
    """The jobs of a Snakemake log that finished: rule, times, threads, files. Every job
    start and every "Finished jobid" follows a time stamp line of its own. With
    ``finished=False`` every job it lists (a dry run's: ``snakemake -n``)."""
    jobs: dict[int, Job] = {}
    for block in BLOCK.split("\n" + text):
        m = STAMPED.match(block.strip("\n"))
        if not m:
            continue
        stamp = datetime.strptime(m[1], "%a %b %d %H:%M:%S %Y").timestamp()
        if done := re.match(r"Finished jobid: (\d+)", m[2]):
            if int(done[1]) in jobs:
                jobs[int(done[1])].end = stamp
        elif start := re.match(r"(?:local)?(rule|checkpoint) (\w+):\n", m[2]):
            fields = dict(re.findall(r"^    (\w+): (.*)$", m[2], flags=re.MULTILINE))
            if "jobid" not in fields:
                continue
            files = {k: [v.strip() for v in fields[k].split(",")] if k in fields else []
                     for k in ("input", "output")}
            jobs[int(fields["jobid"])] = Job(
                int(fields["jobid"]), start[2], stamp, threads=int(fields.get("threads", 1)),
                inputs=files["input"], outputs=files["output"],
                wildcards=fields.get("wildcards", ""), checkpoint=start[1] == "checkpoint")
    return [j for j in jobs.values() if j.end is not None or not finished]


def read_log(path: Path) -> str:
    """A Snakemake log's text, plain or gzipped (``*.log.gz``, as kept under docs/)."""
    return gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else \
        path.read_text()


def read_jobs(path: Path) -> list[Job]:
    return parse_log(read_log(path))


def dependencies(jobs: list[Job]) -> dict[int, set[int]]:
    """jobid -> the jobids that wrote its inputs."""
    writer = {out: j.jobid for j in jobs for out in j.outputs}
    return {j.jobid: {writer[i] for i in j.inputs if i in writer and writer[i] != j.jobid}
            for j in jobs}


def simulate(jobs: list[Job], cores: int, tasks: int = 1,
             priority: dict[int, float] | None = None) -> float:
    """Wall time (s) of the jobs on ``cores``: each job waits for its producers and takes
    its threads (DFT jobs ``tasks`` cores, ``tasks ** RANK_EXPONENT`` times faster); among
    ready jobs the one with the longest remaining path starts first, or with
    ``priority`` (jobid -> value) the one with the highest value, ties in jobid order
    (Snakemake's own choice among equals follows input file sizes)."""
    deps = dependencies(jobs)
    by_id = {j.jobid: j for j in jobs}

    def need(j: Job) -> int:
        return min(tasks if j.rule in DFT_RULES else j.threads, cores)

    def seconds(j: Job) -> float:
        return j.seconds / (tasks ** RANK_EXPONENT if j.rule in DFT_RULES else 1.0)

    children = defaultdict(set)
    for jid, parents in deps.items():
        for p in parents:
            children[p].add(jid)
    tail: dict[int, float] = {}

    def path(jid: int) -> float:  # longest remaining path from a job (its own included)
        if jid not in tail:
            tail[jid] = seconds(by_id[jid]) + max((path(c) for c in children[jid]),
                                                  default=0.0)
        return tail[jid]

    def rank(jid: int) -> float:
        return -path(jid) if priority is None else -priority.get(jid, 0.0)

    waiting = {jid: set(p) for jid, p in deps.items()}
    ready = [(rank(jid), jid) for jid, p in waiting.items() if not p]
    heapq.heapify(ready)
    running: list[tuple[float, int]] = []
    free, now, done = cores, 0.0, 0
    while done < len(jobs):
        blocked = []
        while ready:
            prio, jid = heapq.heappop(ready)
            if need(by_id[jid]) <= free:
                free -= need(by_id[jid])
                heapq.heappush(running, (now + seconds(by_id[jid]), jid))
            else:
                blocked.append((prio, jid))
        for item in blocked:
            heapq.heappush(ready, item)
        now, jid = heapq.heappop(running)
        free += need(by_id[jid])
        done += 1
        for c in children[jid]:
            waiting[c].discard(jid)
            if not waiting[c]:
                heapq.heappush(ready, (rank(c), c))
    return now


def estimate_pending(pending: list[Job], done: list[Job], workdir: Path,
                     settings: dict, other_runs: list[tuple[list[Job], Path]] = ()
                     ) -> tuple[list[Job], dict[str, float]]:
    """The jobs of a dry run taken after a partial run, each given an estimated duration,
    and the calibration used: a DFT job's is ``philicity.resources.dft_seconds`` from its
    inputs times the median ratio measured / estimated of the finished jobs of its rule
    (of every finished DFT job where its rule has none; 1 where none finished); another
    job's the median duration of its rule's finished jobs (1 s where none). Jobs that
    took less than ``CALIBRATION_MIN_S`` calibrate nothing: their time is start-up, not
    the DFT their estimate budgets (a termination choice with nothing to compare), and
    many of them would pull the scale of the expensive rules towards zero.

    ``other_runs`` (finished jobs, run folder): measured runs of the same workflow whose
    ratios stand in for a rule this run has not finished a job of (before the pooled
    median), so that a screen stopped early is not projected from one rule's scale.

    Where a job's estimate waits on a file not written yet, the expected value stands in
    for the budget: a site whose prescreen has not run is relaxed with DFT with the
    probability measured on the prescreens of these runs (:func:`relaxed_fraction`); a
    charge-density difference is sized from its coating's slab (:func:`with_slab`)."""
    def median(values: list[float], default: float) -> float:
        return statistics.median(values) if values else default

    def calibration(jobs: list[Job], folder: Path) -> dict[str, list[float]]:
        ratios = defaultdict(list)
        for j in jobs:
            if j.rule in DFT_RULES and j.seconds >= CALIBRATION_MIN_S and (
                    guess := dft_seconds(j.rule, settings, *job_inputs(j, folder))) > 0:
                ratios[j.rule].append(j.seconds / guess)
        return ratios

    ratios = calibration(done, workdir)
    elsewhere = defaultdict(list)
    for jobs, folder in other_runs:
        for rule, values in calibration(jobs, folder).items():
            elsewhere[rule] += values
    durations = defaultdict(list)
    for j in done:
        durations[j.rule].append(j.seconds)
    overall = median([r for v in (*ratios.values(), *elsewhere.values()) for r in v], 1.0)
    scale = {rule: median(ratios.get(rule) or elsewhere.get(rule, []), overall)
             for rule in DFT_RULES}
    relaxed = relaxed_fraction([(done, workdir), *other_runs])
    out = []
    for j in with_slab(pending):
        seconds = (dft_seconds(j.rule, settings, *job_inputs(j, workdir)) * scale[j.rule]
                   if j.rule in DFT_RULES
                   else median(durations[j.rule], 1.0))
        if j.rule == "relax_adsorbate" and not any(
                (workdir / i).exists() for i in j.inputs if i.endswith("prescreen.json")):
            seconds *= relaxed
        out.append(replace(j, start=0.0, end=seconds))
    return out, {rule: round(scale[rule], 3) for rule in sorted({*ratios, *elsewhere})}


def relaxed_fraction(runs: list[tuple[list[Job], Path]]) -> float:
    """Of the sites that finished ML prescreens kept (``prescreen.json``, any of the
    runs' jobs and folders), the fraction sent to a DFT relaxation (1 where none ran):
    the others' relax_adsorbate only copies the prescreen's single point or flags."""
    sites = []
    for jobs, folder in runs:
        for j in jobs:
            for out in (o for o in j.outputs if o.endswith("prescreen.json")):
                sites += (_read(folder / out) or {}).get("sites", [])
    return sum(bool(s.get("dft_relax")) for s in sites) / len(sites) if sites else 1.0


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def with_slab(jobs: list[Job]) -> list[Job]:
    """The jobs, each charge-density difference given its coating's ``terminations.json``
    (an input of that coating's other jobs in the DAG) as an extra input, so that its
    estimate is sized from the coating's slab, not the preset's bound on it."""
    terms = {}
    for i in (i for j in jobs for i in j.inputs):
        if m := re.search(r"/coatings/([^/]+)/[^/]+/terminations\.json$", i):
            terms.setdefault(m[1], i)
    return [replace(j, inputs=[*j.inputs, terms[name]])
            if j.rule == "charge_transfer" and (name := wildcards(j).get("name")) in terms
            else j for j in jobs]


def wildcards(job: Job) -> dict[str, str]:
    return dict(re.findall(r"(\w+)=([^,]+)", job.wildcards))


def job_inputs(job: Job, workdir: Path) -> tuple[list[str], dict[str, str]]:
    """A logged job's input paths (relative ones under ``workdir``) and wildcards."""
    return ([p if Path(p).is_absolute() else str(workdir / p) for p in job.inputs],
            wildcards(job))


def workflow_priorities(jobs: list[Job], workdir: Path, settings: dict) -> dict[int, float]:
    """jobid -> the priority the workflow gives it (``philicity.resources.priority``),
    from the run's own input files (paths relative to ``workdir``)."""
    return {j.jobid: priority(j.rule, settings, *job_inputs(j, workdir)) for j in jobs}


def project_whole(done: list[Job], pending: list[Job], workdir: Path, settings: dict,
                  cores: list[int], tasks: int,
                  other_runs: list[tuple[list[Job], Path]] = ()) -> dict[int, float]:
    """Print (and return, cores -> s) the projected wall time of the whole screen: the
    finished jobs replayed, then the dry run's pending ones (which wait only for each
    other: the finished ones are done), so nothing of the one overlaps the other. A
    pending checkpoint's later jobs are not in a dry run: with any, the projection is a
    lower bound, and says how many."""
    more, scale = estimate_pending(pending, done, workdir, settings, other_runs)
    checkpoints = sum(j.checkpoint for j in pending)
    print(f"\npending: {len(pending)} jobs, estimated "
          f"{sum(j.seconds * j.threads for j in more) / 60:.1f} core-min; measured / "
          f"estimated per rule: {scale or 'none finished (1.0)'}")
    if checkpoints:
        print(f"{checkpoints} pending checkpoints: the jobs after them are not known yet, "
              "so the projection below is a lower bound")
    out = {}
    print(f"| cores | projected wall of the whole screen (min), DFT jobs on {tasks} rank(s) "
          "|\n|---:|---:|")
    for n in cores:
        out[n] = simulate(done, n, tasks) + simulate(more, n, tasks)
        print(f"| {n} | {out[n] / 60:.1f} |")
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log", type=Path, nargs="+",
                    help="default: the latest .snakemake/log/*.log; several: the parts of one "
                         "screen, run one after another in the same folder (their measured "
                         "wall times add up; their jobs are replayed together)")
    ap.add_argument("--cores", type=int, nargs="+", default=[2, 16, 64, 256])
    ap.add_argument("--run-cores", type=int, default=None,
                    help="cores of the logged run (default: its 'Provided cores')")
    ap.add_argument("--tasks", type=int, default=1, help="MPI ranks per DFT job")
    ap.add_argument("--config", type=Path, default=None,
                    help="the run's config (default: the shipped one) for the workflow's "
                         "priorities, read from the run's files")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--workdir", type=Path, default=None,
                    help="the run's folder, whose files size the estimates and priorities "
                         "(default: the log's, two levels above .snakemake/log)")
    ap.add_argument("--pending", type=Path, default=None,
                    help="the output of 'snakemake -n' (same config) taken after a partial "
                         "run: its jobs are added with estimated durations, calibrated on "
                         "the run's finished jobs, to project the whole screen")
    ap.add_argument("--calibrate", type=Path, nargs="+", default=[],
                    help="logs of other measured runs (their folders still in place): their "
                         "jobs calibrate the rules this run has not finished a job of")
    ap.add_argument("--csv", type=Path, default=None,
                    help="also write the numbers printed (per rule, per cores) to this CSV, "
                         "with the code version that ran the benchmark")
    ap.add_argument("--cut", type=float, default=None,
                    help="check --pending on a finished run: the jobs not finished at this "
                         "fraction of its wall time are projected as if pending")
    args = ap.parse_args(argv)
    logs = args.log or [max(Path(".snakemake/log").glob("*.snakemake.log"))]
    log, text = logs[0], read_log(logs[0])
    parts = [parse_log(read_log(path)) for path in logs]
    for path, part in zip(logs, parts, strict=True):
        if not part:
            raise SystemExit(f"{path}: no finished job")
    # jobids restart in every log: kept apart by a per-log offset
    jobs = [replace(j, jobid=j.jobid + 1_000_000 * k)
            for k, part in enumerate(parts) for j in part]
    provided = re.search(r"Provided cores: (\d+)", text)
    run_cores = args.run_cores or (int(provided[1]) if provided else 1)
    measured = sum(max(j.end for j in part) - min(j.start for j in part) for part in parts)
    per_rule = defaultdict(lambda: [0, 0.0])
    for j in jobs:
        per_rule[j.rule][0] += 1
        per_rule[j.rule][1] += j.seconds * j.threads / 60.0
    print(f"{', '.join(map(str, logs))}: {len(jobs)} finished jobs on {run_cores} cores, "
          f"measured {measured / 60:.1f} min")
    rows = [{"what": "measured", "name": "all", "jobs": len(jobs),
             "core_min": round(sum(j.seconds * j.threads for j in jobs) / 60, 1),
             "cores": run_cores, "wall_min": round(measured / 60, 1)}]
    print("| rule | jobs | core-min |\n|---|---:|---:|")
    for rule, (n, core_min) in sorted(per_rule.items(), key=lambda kv: -kv[1][1]):
        print(f"| {rule} | {n} | {core_min:.1f} |")
        rows.append({"what": "rule", "name": rule, "jobs": n, "core_min": round(core_min, 1)})
    print(f"\n| cores | projected wall (min), DFT jobs on {args.tasks} rank(s) |\n|---:|---:|")
    for cores in args.cores:
        wall = simulate(jobs, cores, args.tasks)
        print(f"| {cores} | {wall / 60:.1f} |")
        rows.append({"what": "replay", "name": f"tasks={args.tasks}", "jobs": len(jobs),
                     "cores": cores, "wall_min": round(wall / 60, 1)})
    _, settings = cfg.load(args.config or Path(__file__).parents[1] / "config/config.yaml",
                           args.preset)
    workdir = args.workdir or log.resolve().parents[2]
    prio = workflow_priorities(jobs, workdir, settings)
    print(f"\non {run_cores} cores under the workflow's priorities (resources.priority): "
          f"{simulate(jobs, run_cores, priority=prio) / 60:.1f} min; every job priority 0 "
          f"(ties in jobid order): {simulate(jobs, run_cores, priority={}) / 60:.1f} min")
    if args.pending:
        pending = parse_log(read_log(args.pending), finished=False)
        others = [(read_jobs(path), path.resolve().parents[2]) for path in args.calibrate]
        whole = project_whole(jobs, pending, workdir, settings, args.cores, args.tasks,
                              others)
        checkpoints = sum(j.checkpoint for j in pending)
        rows += [{"what": "whole" + (" (lower bound)" if checkpoints else ""),
                  "name": f"tasks={args.tasks}", "jobs": len(jobs) + len(pending),
                  "cores": n, "wall_min": round(w / 60, 1)} for n, w in whole.items()]
    if args.cut is not None:
        cut = min(j.start for j in jobs) + args.cut * measured
        print(f"\ncut at {args.cut:.2f} of the run: {sum(j.end <= cut for j in jobs)} "
              "jobs finished, the rest projected as pending")
        project_whole([j for j in jobs if j.end <= cut], [j for j in jobs if j.end > cut],
                      workdir, settings, args.cores, args.tasks)
    own = simulate(jobs, run_cores)
    if args.csv:
        version = code_version()
        write_rows(args.csv, [{"what": r["what"], "name": r["name"], "jobs": r["jobs"],
                               "core_min": r.get("core_min", ""), "cores": r.get("cores", ""),
                               "wall_min": r.get("wall_min", ""), "version": version}
                              for r in rows])
    print(f"measured_wall_s={measured:.0f} projected_wall_s={own:.0f} "
          f"ratio={own / measured if measured else float('nan'):.2f}")

if __name__ == "__main__":
    main()
