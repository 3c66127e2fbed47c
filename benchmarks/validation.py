"""Benchmark: the published cases (``benchmarks/published.yaml``) run through the pipeline
itself, and compared with the papers.

Each case is a Snakemake run of the shipped workflow restricted to one coating and facet
(``--preset fast`` by default), with Na as the anode and the papers' sigma_Na =
0.2523 J/m^2 for the Young-Dupre angle: W_ad cases with interfaces, E_b cases without,
with every site's energy (``site_energies: true``). Reaction cases (E_react, eV per metal
atom) run ``benchmarks/reaction_energies.py``'s bulk jobs instead. All cases share one
results folder (``--workdir``), so the Na references are computed once and a rerun
resumes where the last one stopped (Snakemake keeps finished jobs): the benchmark can be
completed over several runs. ``--collect`` runs nothing and tabulates what is finished.
A case that no ``--workdir`` holds keeps its row from the existing ``docs/validation.csv``
(with the version that produced it), so the table can be completed case by case.

Writes ``docs/validation.csv`` (one row per case, with the settings hash, the code version
and the cost in core hours summed from the records' wall times) and the table of
``docs/validation.md`` (between its ``validation table`` markers), and prints as its last
line exactly (one line)

    validation cases=<n> order_agree=<k>/<m> regime_agree=<k>/<m>
    max_abs_dW_J_m2=<x> max_abs_dE_eV=<y> reaction_sign_agree=<k>/<m>

    python benchmarks/validation.py --cores 2
    python benchmarks/validation.py --collect --workdir A B   # cases run in A or in B
    python benchmarks/validation.py --cases W_ad:Pb E_b:Ag --dispersion d3bj
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml
from bench_common import ROOT, code_version, write_rows

from philicity.files import versions
from philicity.wetting import contact_angle

PUBLISHED = ROOT / "benchmarks" / "published.yaml"
SIGMA_NA_J_M2 = 0.2523  # the value Li et al. use in Young-Dupre (published.yaml)
# Settings a case needs beyond the preset, and why (every one is in its settings hash).
CASE_SETTINGS = {
    # a non-polar (Tasker-II) Na2CO3(001) needs an even number of surface Na: the smallest
    # such match is 92.8 A^2, 68 atoms, with the Na film strained 7.3 %
    "Na2CO3": {"interface": {"max_area_A2": 150, "max_strain_pct": 8.0, "max_atoms": 120}},
}
# Published cases without a coating structure here, and why.
NOT_RUN = {
    "Na3Zr2Si2PO12": "no CIF shipped: NASICON's Na sites are partially occupied, and an "
                     "ordered cell that a DFT screen can use (and defend) is a research "
                     "choice of its own",
}
MARK = "<!-- validation table -->"


def cases(published: dict) -> list[dict]:
    """Every published case as ``{case, quantity, metal, coating, miller, published,
    unit}`` (W_ad in J/m^2, E_b in eV)."""
    out = [{"case": f"W_ad:{c['coating']}", "quantity": "W_ad", "metal": c["metal"],
            "coating": c["coating"], "miller": c["coating_miller"],
            "published": c["W_ad_J_m2"], "unit": "J/m^2"}
           for c in published["work_of_adhesion"]]
    out += [{"case": f"E_b:{c['coating']}", "quantity": "E_b", "metal": c["metal"],
             "coating": c["coating"], "miller": c["miller"], "published": c["E_b_eV"],
             "unit": "eV"}
            for c in published["binding_energy_isolated_atom_ref"]]
    out += [{"case": f"E_react:{c['metal']}+{c['reactant']}", "quantity": "E_react",
             "metal": c["metal"], "coating": c["reactant"], "miller": None,
             "published": c["E_eV_per_M"], "unit": f"eV per {c['metal']}"}
            for c in published.get("reaction_energy", [])]
    return out


def case_config(case: dict, workdir: Path, dispersion: str) -> dict:
    """The config of one case: the shipped config restricted to its coating and facet."""
    overrides = json.loads(json.dumps(CASE_SETTINGS.get(case["coating"], {})))
    if dispersion != "none":
        overrides.setdefault("calculator", {})["dispersion"] = dispersion
    w_ad = case["quantity"] == "W_ad"
    return {"structures_dir": str(ROOT / "structures"),
            "results_dir": str(workdir / "results"),
            "anodes": [case["metal"]], "coatings": [case["coating"]],
            "candidates": {case["coating"]: {"miller": [case["miller"]]}},
            "run_interfaces": w_ad, "site_energies": not w_ad,
            "wetting": {"sigma_lv_J_m2": {case["metal"]: SIGMA_NA_J_M2}},
            "overrides": overrides}


def run_case(case: dict, workdir: Path, preset: str, dispersion: str, cores: int,
             dry_run: bool) -> int:
    """One Snakemake run of the shipped workflow for ``case``; its tables are kept in
    ``workdir/cases/<case>/`` (the next case's run rewrites results/). Its exit code."""
    path = workdir / "configs" / f"{case['case'].replace(':', '_')}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(case_config(case, workdir, dispersion), sort_keys=False))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--directory", str(workdir), "--cores", str(cores),
           "--configfile", str(ROOT / "config" / "config.yaml"), str(path),
           "--config", f"preset={preset}", "--keep-going"] + (["-n"] if dry_run else [])
    print(f"# {case['case']}: {' '.join(cmd[2:])}", flush=True)
    code = subprocess.run(cmd, cwd=ROOT).returncode
    if not dry_run:
        kept = case_tables(workdir, case)
        kept.mkdir(parents=True, exist_ok=True)
        (kept / "run.json").write_text(json.dumps({
            "version": f"{versions()['philicity']} ({code_version()})", "preset": preset,
            "dispersion": dispersion, "exit_code": code}))
        for table in ("ranking", "interfaces", "sites"):
            src = workdir / "results" / table / f"{case['metal']}.csv"
            if src.exists():
                shutil.copy(src, kept / f"{table}.csv")
    return code


def run_reaction_case(case: dict, workdir: Path, preset: str, dispersion: str) -> None:
    """A reaction case: ``benchmarks/reaction_energies.py``'s bulk jobs and reaction
    energy with the preset's settings; its row kept in ``workdir/cases/<case>/``."""
    from reaction_energies import pair_reaction, phase_pool

    from philicity import config as cfg

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["preset"] = preset
    if dispersion != "none":
        config.setdefault("overrides", {}).setdefault("calculator", {})["dispersion"] = (
            dispersion)
    settings = cfg.settings(cfg.validate(config))
    row = pair_reaction(case["metal"], case["coating"], phase_pool(ROOT / "structures"),
                        settings, workdir / "reactions")
    kept = case_tables(workdir, case)
    kept.mkdir(parents=True, exist_ok=True)
    (kept / "reaction.json").write_text(json.dumps({
        **row, "settings_hash": cfg.settings_hash(cfg.stage_settings(settings, "phases"))}))
    (kept / "run.json").write_text(json.dumps({
        "version": f"{versions()['philicity']} ({code_version()})", "preset": preset,
        "dispersion": dispersion, "exit_code": 0}))


def earlier_rows(path: Path) -> dict[str, dict]:
    """The finished rows of an earlier ``validation.csv`` (case -> what was computed: value,
    settings hash, version, cost, preset, dispersion, status), so that a case run before,
    in a folder that is gone, keeps its row, still naming the version that produced it."""
    if not path.exists():
        return {}
    with path.open(newline="") as fh:
        return {r["case"]: {"ours": float(r["ours"]), "settings_hash": r["settings_hash"],
                            "version": r["version"],
                            "cost_core_h": float(r["cost_core_h"] or 0.0),
                            "preset": r["preset"], "dispersion": r["dispersion"],
                            "status": r["status"]}
                for r in csv.DictReader(fh) if r.get("ours")}


def case_tables(workdir: Path, case: dict) -> Path:
    """Where the tables of ``case``'s last run are kept."""
    return workdir / "cases" / case["case"].replace(":", "_")


def cost_core_h(results: Path, coating: str) -> float:
    """Core hours of a coating's calculations: the ``wall_s`` of every JSON record under
    ``results/work`` whose path names the coating (a record's own wall time, else those of
    the calculations it lists), times the MPI ranks it ran on (``mpi_ranks``; one for
    records written before they said)."""
    def wall_s(value) -> float:
        if isinstance(value, dict):
            if isinstance(value.get("wall_s"), int | float):
                return float(value["wall_s"])  # its retries and parts are inside it
            return sum(wall_s(v) for v in value.values())
        if isinstance(value, list):
            return sum(wall_s(v) for v in value)
        return 0.0

    total = 0.0
    for path in (results / "work").rglob("*.json"):
        if f"/{coating}/" in str(path):
            try:
                rec = json.loads(path.read_text())
            except ValueError:
                continue
            ranks = rec.get("mpi_ranks", 1) if isinstance(rec, dict) else 1
            total += wall_s(rec) * ranks
    return round(total / 3600.0, 2)


def ours(case: dict, tables: Path) -> dict:
    """The pipeline's value for ``case`` from its kept tables (:func:`case_tables`), with
    its settings hash and status (``None`` where the case has not finished)."""
    coating = case["coating"]
    row = {"ours": None, "settings_hash": "", "status": "not run yet"}
    if case["quantity"] == "E_react":
        if (tables / "reaction.json").exists():
            r = json.loads((tables / "reaction.json").read_text())
            row.update(ours=r.get("E_react_eV_per_M"), settings_hash=r["settings_hash"],
                       status=f"{r['status']}; products {r.get('products') or 'none'}",
                       core_s=r.get("core_s", 0.0))
        return row
    ranking = tables / "ranking.csv"
    if not ranking.exists():
        return row
    ranked = pd.read_csv(ranking, dtype={"miller": str}).set_index("coating")
    if coating not in ranked.index:
        return row
    r = ranked.loc[coating]
    row.update(settings_hash=r["settings_hash"], status=r["status"])
    if case["quantity"] == "E_b":
        row["ours"] = None if pd.isna(r["E_b_atom_eV"]) else float(r["E_b_atom_eV"])
        row["site"] = r["best_site"]
    else:
        table = pd.read_csv(tables / "interfaces.csv")
        mine = table[(table["coating"] == coating) & (table["status"] == "ok")]
        if len(mine):
            best = mine.loc[mine["W_ad_J_m2"].idxmax()]
            row.update(ours=float(best["W_ad_J_m2"]), W_sep_J_m2=float(best["W_sep_J_m2"]),
                       n_atoms=int(best["n_atoms"]), strain_pct=float(best["strain_pct"]),
                       interface_stage=best["interface_stage"])
    return row


def compare(rows: list[dict]) -> list[dict]:
    """Order and regime agreement: a case's value ranks among the computed cases of its
    quantity where the published value does; the Young-Dupre regime (sigma 0.2523 J/m^2)
    of a W_ad equals that of the published W_ad."""
    for quantity in ("W_ad", "E_b"):
        done = [r for r in rows if r["quantity"] == quantity and r["ours"] is not None]
        by_pub = sorted(done, key=lambda r: r["published"])
        by_ours = sorted(done, key=lambda r: r["ours"])
        for r in done:
            r["order_agrees"] = by_pub.index(r) == by_ours.index(r) if len(done) > 1 else ""
    for r in rows:
        r.setdefault("order_agrees", "")
        if r["quantity"] == "W_ad":
            r["theta_published_deg"], r["regime_published"] = contact_angle(r["published"],
                                                                            SIGMA_NA_J_M2)
            if r["ours"] is not None:
                r["theta_deg"], r["regime"] = contact_angle(r["ours"], SIGMA_NA_J_M2)
                r["regime_agrees"] = ((r["theta_deg"] < 90.0)
                                      == (r["theta_published_deg"] < 90.0))
        if r["quantity"] == "E_react" and r["ours"] is not None:
            r["sign_agrees"] = (r["ours"] < 0) == (r["published"] < 0)
        r["difference"] = (round(r["ours"] - r["published"], 4) if r["ours"] is not None
                           else None)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| case | published | ours | difference | order | Young-Dupre regime "
             "(published / ours) | settings | version | cost (core h) | status |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        fmt = (lambda v: "" if v is None else f"{v:.3f}")  # noqa: E731
        regime = (f"{r.get('regime_published', '')} / {r.get('regime', '')}"
                  if r["quantity"] == "W_ad" else
                  f"sign agrees: {r['sign_agrees']}" if "sign_agrees" in r else "")
        lines.append(f"| {r['case']} ({r['unit']}) | {r['published']} | {fmt(r['ours'])} | "
                     f"{fmt(r['difference'])} | {r['order_agrees']} | {regime} | "
                     f"{r['settings_hash']} | {r['version']} | {r['cost_core_h']} | "
                     f"{r['status']} |")
    return "\n".join(lines)


def write_markdown(path: Path, table: str) -> None:
    """Replace the table between the two markers of ``path`` (appended if absent)."""
    text = path.read_text() if path.exists() else "# Validation\n"
    if text.count(MARK) >= 2:
        head, _, rest = text.partition(MARK)
        _, _, tail = rest.partition(MARK)
        text = f"{head}{MARK}\n{table}\n{MARK}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{MARK}\n{table}\n{MARK}\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="fast", choices=["fast", "production"])
    ap.add_argument("--cases", nargs="+", help="e.g. W_ad:Pb E_b:Ag (default: every case)")
    ap.add_argument("--dispersion", default="none", choices=["none", "d3bj"])
    ap.add_argument("--workdir", type=Path, nargs="+", default=[Path("benchmark_validation")],
                    help="where the cases run (the first); more folders: cases run there "
                         "before (e.g. side by side on other cores) are read from them")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--collect", action="store_true", help="run nothing: tabulate")
    ap.add_argument("--dry-run", action="store_true", help="list the jobs (snakemake -n)")
    ap.add_argument("--csv", type=Path, default=ROOT / "docs" / "validation.csv")
    ap.add_argument("--md", type=Path, default=ROOT / "docs" / "validation.md")
    args = ap.parse_args(argv)
    workdirs = [w.resolve() for w in args.workdir]
    workdir = workdirs[0]
    todo = cases(yaml.safe_load(PUBLISHED.read_text()))
    if args.cases:
        unknown = set(args.cases) - {c["case"] for c in todo}
        if unknown:
            raise SystemExit(f"unknown cases {sorted(unknown)}; "
                             f"choose from {[c['case'] for c in todo]}")
        todo = [c for c in todo if c["case"] in args.cases]
    committed = earlier_rows(args.csv)
    rows = []
    for case in todo:
        if case["coating"] in NOT_RUN:
            rows.append({**case, "ours": None, "settings_hash": "", "version": "",
                         "cost_core_h": 0.0, "status": f"not run: {NOT_RUN[case['coating']]}"})
            continue
        if not args.collect and case["quantity"] == "E_react":
            if not args.dry_run:
                run_reaction_case(case, workdir, args.preset, args.dispersion)
        elif not args.collect:
            run_case(case, workdir, args.preset, args.dispersion, args.cores, args.dry_run)
        # the folder where the case ran (the first that holds its tables)
        home = next((w for w in workdirs if (case_tables(w, case) / "run.json").exists()),
                    None)
        earlier = committed.get(case["case"])
        if home is None and earlier and (earlier["preset"], earlier["dispersion"]) == (
                args.preset, args.dispersion):
            rows.append({**case, **earlier})  # a row of an earlier run, same settings
            continue
        home = home or workdir
        kept = case_tables(home, case)
        run = json.loads((kept / "run.json").read_text()) if (kept / "run.json").exists() \
            else {"version": "", "preset": args.preset, "dispersion": args.dispersion}
        mine = ours(case, kept)
        cost = (round(mine.pop("core_s", 0.0) / 3600.0, 3) if case["quantity"] == "E_react"
                else cost_core_h(home / "results", case["coating"]))
        rows.append({**case, **mine, "version": run["version"], "cost_core_h": cost,
                     "preset": run["preset"], "dispersion": run["dispersion"]})
    if args.dry_run:
        return
    rows = compare(rows)
    columns = ["case", "quantity", "metal", "coating", "published", "ours", "unit",
               "difference", "order_agrees", "regime_agrees", "sign_agrees",
               "theta_published_deg",
               "theta_deg", "settings_hash", "version", "cost_core_h", "preset",
               "dispersion", "status"]
    write_rows(args.csv, [{k: r.get(k, "") for k in columns} for r in rows])
    write_markdown(args.md, markdown(rows))
    for r in rows:
        print(json.dumps({k: r.get(k) for k in columns}))
    w = [r for r in rows if r["quantity"] == "W_ad" and r["ours"] is not None]
    e = [r for r in rows if r["quantity"] == "E_b" and r["ours"] is not None]
    x = [r for r in rows if r["quantity"] == "E_react" and r["ours"] is not None]
    ordered = [r for r in w + e if r["order_agrees"] != ""]
    print(f"validation cases={len(w) + len(e)} "
          f"order_agree={sum(r['order_agrees'] is True for r in ordered)}/{len(ordered)} "
          f"regime_agree={sum(r.get('regime_agrees') is True for r in w)}/{len(w)} "
          f"max_abs_dW_J_m2={max((abs(r['difference']) for r in w), default=0):.3f} "
          f"max_abs_dE_eV={max((abs(r['difference']) for r in e), default=0):.3f} "
          f"reaction_sign_agree={sum(r['sign_agrees'] for r in x)}/{len(x)}")


if __name__ == "__main__":
    main()
