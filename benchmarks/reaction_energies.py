"""Benchmark: reaction driving forces of anode metals with reactants, from the pipeline's
own bulk jobs.

For each pair ``METAL:REACTANT`` (a reactant is any phase in ``structures/``: an anode, a
coating or a compound, by its file name) it computes, with the config's preset, the bulk
energy of every phase the reaction needs (``reactions.phases_for``) with the same job
functions and settings as a screen (``compute_bulk``, ``compute_phase``,
``compute_molecule``; each record kept in ``--workdir`` under the settings hash, so a
rerun resumes, and ``--workdir results/work`` reuses a screen's), then the most negative
reaction energy per metal atom and its products (``reactions.reaction_energy``). A
published value (``benchmarks/published.yaml``, ``reaction_energy``) is printed beside it
where there is one.

Writes ``docs/reactions.csv`` (one row per pair, with the settings hash, code version and
the cost in core seconds from the records) and prints as its last line exactly

    reaction_energies pairs=<n> reactive=<k> computed_phases=<m> core_s=<s>

    python benchmarks/reaction_energies.py Li:graphite Li:Ga Li:Cu Na:Pb Na:Sn

``--overrides`` merges settings over the preset (as the config's ``overrides``), e.g.
``--overrides '{calculator: {kpt_density: 6.0, ecut_eV: 450}}'`` for a convergence check
of the fast preset's numbers; its records go under their own settings hash.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml
from bench_common import ROOT, code_version, write_rows

from philicity import config as cfg
from philicity import jobs, reactions, structures
from philicity.files import read_json

PUBLISHED = ROOT / "benchmarks" / "published.yaml"


def phase_pool(folder: Path) -> dict[str, tuple[reactions.Phase, Path]]:
    """Every readable CIF of ``folder``'s anodes/, coatings/ and compounds/: file name ->
    (phase, path)."""
    pool = {}
    for kind in ("anodes", "coatings", "compounds"):
        if (folder / kind).is_dir():
            for c in structures.find_candidates(folder / kind):
                if c.formula is not None:
                    pool.setdefault(c.name, (reactions.Phase(f"{kind}/{c.name}", c.formula),
                                             c.path))
    return pool


def phase_energy(key: str, cif: Path | None, settings: dict, workdir: Path) -> dict:
    """The energy record of one phase (the anode metal too), computed once per settings
    hash, in the folder a screen's job would use (``workflow/rules/bulk.smk``), so that
    ``--workdir results/work`` reuses a screen's records."""
    kind, name = key.split("/")
    stage = "molecules" if kind == "molecules" else "phases"
    stage_settings = cfg.stage_settings(settings, stage)
    outdir = workdir / stage / cfg.settings_hash(stage_settings)
    outdir = outdir / name if kind == "molecules" else outdir / kind / name
    if (outdir / "record.json").exists():
        return read_json(outdir / "record.json")
    if kind == "molecules":
        return jobs.compute_molecule(name, stage_settings, outdir)
    return jobs.compute_phase(cif, name, stage_settings, outdir)


def pair_reaction(metal: str, reactant: str, pool: dict, settings: dict,
                  workdir: Path) -> dict:
    """The reaction row of ``metal`` with the phase named ``reactant``."""
    phase = pool[reactant][0]
    needed = reactions.phases_for(metal, phase.formula, [p for p, _ in pool.values()])
    records = {p.key: phase_energy(p.key, pool.get(p.key.split("/")[1], (None, None))[1],
                                   settings, workdir) for p in needed}
    row = {"pair": f"{metal}+{reactant}", "metal": metal, "reactant": reactant,
           "reactant_formula": phase.formula, "phases": " ".join(records),
           "core_s": round(sum(r.get("wall_s") or 0 for r in records.values()), 1)}
    if not needed:
        return {**row, "E_react_eV_per_M": 0.0, "products": "", "reaction": "",
                "reactive": False, "status": f"no phase of {metal} with {phase.formula} "
                                             "among the structures"}
    failed = [f"{k}: {r.get('reason')}" for k, r in records.items() if r["status"] != "ok"]
    if failed:
        return {**row, "status": "failed: " + "; ".join(failed)}
    out = reactions.reaction_energy(metal, phase.formula, {
        k: (r["formula"], r["energy_eV"]) for k, r in records.items()})
    return {**row, **{k: v for k, v in out.items() if k != "x_metal"}, "status": "ok"}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pairs", nargs="+", help="METAL:REACTANT, e.g. Li:graphite")
    ap.add_argument("--workdir", type=Path, default=Path("reaction_energies"))
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--overrides", type=yaml.safe_load, default={},
                    help="settings merged over the preset, as the config's overrides: "
                         "e.g. '{calculator: {kpt_density: 6.0}}' for a convergence check")
    ap.add_argument("--structures", type=Path, default=ROOT / "structures")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "reactions.csv")
    args = ap.parse_args(argv)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["preset"] = args.preset
    config["overrides"] = args.overrides
    settings = cfg.settings(cfg.validate(config))
    pool = phase_pool(args.structures)
    published = {(r["metal"], r["reactant"]): r for r in
                 yaml.safe_load(PUBLISHED.read_text()).get("reaction_energy", [])}
    rows = []
    for pair in args.pairs:
        metal, reactant = pair.split(":")
        row = pair_reaction(metal, reactant, pool, settings, args.workdir)
        ref = published.get((metal, reactant), {})
        rows.append({**row, "published_eV_per_M": ref.get("E_eV_per_M"),
                     "published_products": ref.get("products", ""),
                     "preset": args.preset + (f" + {args.overrides}" if args.overrides
                                              else ""),
                     "settings_hash": cfg.settings_hash(cfg.stage_settings(settings, "phases")),
                     "version": code_version()})
    write_rows(args.out, rows)
    print("| pair | E_react (eV per metal atom) | products | published | status |")
    print("|---|---|---|---|---|")
    for r in rows:
        e = r.get("E_react_eV_per_M")
        print(f"| {r['pair']} | {'' if e is None else f'{e:+.3f}'} | {r.get('products', '')} "
              f"| {r['published_eV_per_M'] if r['published_eV_per_M'] is not None else ''} "
              f"| {r['status']} |")
    print(f"reaction_energies pairs={len(rows)} "
          f"reactive={sum(bool(r.get('reactive')) for r in rows)} "
          f"computed_phases={len({k for r in rows for k in r['phases'].split()})} "
          f"core_s={sum(r['core_s'] for r in rows):.0f}")


if __name__ == "__main__":
    main()
