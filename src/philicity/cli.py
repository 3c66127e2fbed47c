"""The ``philicity`` command: everyday tasks around a screen that need no DFT.

    philicity --help
    philicity --version
    philicity check structures/coatings/Ag.cif    # what a screen would compute for it
    philicity add ~/Downloads/Li3PO4.cif          # check it, then copy it into structures/
    philicity terminations structures/coatings/Na2CO3.cif --miller 0 0 1
    philicity status                              # jobs done, failed, running; partial tables
    philicity show Cu                             # one coating's rows, flags and files
    philicity compare 13f8fac7a8 4be01c2d9a       # site energies under two settings
    philicity export --format json -o calculations.json

The screen itself runs through Snakemake (see README.md). The logic lives in
:mod:`philicity.progress`; this module only reads options and prints.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from philicity import progress

if TYPE_CHECKING:
    import pandas as pd


def _fail(exc: Exception) -> click.ClickException:
    """A message that names the file and the reason, as a non-zero exit."""
    return click.ClickException(str(exc))


CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(path_type=Path),
    default=Path("config/config.yaml"), show_default=True,
    help="The screen's config file (anodes, facets, preset and its slab settings).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="philicity", prog_name="philicity")
def main() -> None:
    """Screen coatings for Li, Na and K metal anodes with DFT (the screen runs through
    Snakemake; these commands need no DFT)."""


def _echo_plan(plan: progress.CandidatePlan) -> None:
    """Print what a screen would compute for a candidate."""
    click.echo(plan.summary)
    for line in plan.lines:
        click.echo(f"  {line}")


@main.command()
@click.argument("cif", type=click.Path(path_type=Path))
@CONFIG_OPTION
def check(cif: Path, config_path: Path) -> None:
    """Validate a candidate CIF and its sidecar (X.yaml beside X.cif) and say which
    metals and facets a screen would compute for it, without DFT. Exits non-zero, naming
    the file and the reason, when the screen would fail it."""
    try:
        plan = progress.candidate_plan(cif, config_path)
    except progress.ProgressError as exc:
        raise _fail(exc) from exc
    _echo_plan(plan)
    if plan.problems:
        raise click.ClickException(plan.error)


@main.command()
@click.argument("cif", type=click.Path(path_type=Path))
@click.option("--structures", "structures_dir", type=click.Path(path_type=Path),
              default=Path("structures"), show_default=True,
              help="The screen's structures folder; the CIF goes into its coatings/.")
@CONFIG_OPTION
def add(cif: Path, structures_dir: Path, config_path: Path) -> None:
    """Check a candidate CIF as `philicity check` does and copy it (with its sidecar
    X.yaml, if one is beside it) into STRUCTURES/coatings/, then say what a screen will
    compute for it. Refuses, copying nothing, a CIF the screen would fail and a name
    that is already there."""
    try:
        plan, written = progress.add_candidate(cif, structures_dir, config_path)
    except progress.ProgressError as exc:
        raise _fail(exc) from exc
    click.echo(f"added {', '.join(map(str, written))}")
    _echo_plan(plan)
    note = progress.screened_note(plan.name, plan.config)
    if note:
        click.echo(f"note: {note}")


@main.command()
@click.argument("cif", type=click.Path(path_type=Path))
@click.option("--miller", type=int, nargs=3, required=True, metavar="H K L",
              help="The facet, e.g. --miller 0 0 1.")
@CONFIG_OPTION
@click.option("--preset", default=None,
              help="Use this preset of the config (its slab settings) instead of its own.")
def terminations(cif: Path, miller: tuple[int, int, int], config_path: Path,
                 preset: str | None) -> None:
    """List every candidate termination of one facet of a CIF, without DFT: plain cuts,
    flipped cuts, Tasker-II reconstructions and repaired cuts, with their composition,
    polarity (dipole from formal oxidation states, e/A), broken polyanions and exposed
    face, and which one the screen would choose and why (the config's slab settings).
    Where the screen breaks a tie by DFT surface energies, says which remain tied."""
    try:
        preview = progress.termination_preview(cif, miller, config_path, preset)
    except progress.ProgressError as exc:
        raise _fail(exc) from exc
    click.echo(f"{cif}: facet ({preview.miller}), termination option {preview.choice!r}; "
               "oxidation states "
               + (", ".join(f"{k} {v:+g}" for k, v in preview.oxidation.items())
                  or "none (a metal: no polarity)"))
    if preview.facets and preview.miller not in preview.facets:
        click.echo(f"note: the screen computes facets {', '.join(preview.facets)} of "
                   f"{cif.stem}, not ({preview.miller})")
    if preview.rows:
        click.echo(_termination_table(preview.rows))
    if preview.failure:
        raise click.ClickException(preview.failure)
    if preview.selected:
        chosen = ", ".join(map(str, preview.selected))
        click.echo(f"chosen: {chosen} ({preview.why})")
    else:
        click.echo(f"chosen by DFT: {preview.why}")


def _termination_table(rows: list[dict]) -> str:
    """The terminations as a text table, one row each."""
    import pandas as pd

    table = pd.DataFrame([{
        "index": r["index"],
        "origin": r["origin"] if r["origin"] in ("cut", "repaired")
        else f"{r['origin']} t{r['source']}",
        "formula": r["formula"], "n_atoms": r["n_atoms"],
        "stoichiometric": r["stoichiometric"], "symmetric": r["symmetric"],
        "polar": r["polar"], "dipole_e_per_A": r["dipole_e_per_A"],
        "polyanions_cut": r["polyanions_cut"], "top_face": r["top_face"],
        "chosen": r.get("chosen", ""), "not chosen because": r.get("why_not", ""),
    } for r in rows])
    return table.to_string(index=False)


@main.command()
@click.option("--results", "results_dir", type=click.Path(path_type=Path), default=None,
              help="The screen's results folder.  [default: DIRECTORY/results]")
@click.option("--directory", type=click.Path(path_type=Path), default=Path("."),
              show_default=True, help="Snakemake's working directory (where .snakemake/ is).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="The screen's config (ranking weights, baseline facet, wetting) for the "
                   "partial tables.  [default: DIRECTORY/config/config.yaml if it exists, "
                   "else the schema's defaults]")
@click.option("--tables/--no-tables", default=True, show_default=True,
              help="Write the partial tables results/partial/{sites,ranking}/{metal}.csv.")
def status(results_dir: Path | None, directory: Path, config_path: Path | None,
           tables: bool) -> None:
    """A screen's progress, read from its files: jobs done, failed (with the reason) and
    running (Snakemake's incomplete markers in DIRECTORY/.snakemake), each running
    relaxation's last step from its log (step k of at most N, fmax, step time) or a
    single point's SCF iteration from GPAW's text output; and the site and ranking tables
    of what has finished so far, written to results/partial/ and marked partial.

    A running job's log is the one under results/logs/{rule}/ whose path repeats the
    wildcards of the job's output path and that was written since the job started
    (philicity.progress.find_log)."""
    results = results_dir if results_dir is not None else directory / "results"
    if not results.is_dir():
        raise click.ClickException(f"{results}: no such results folder (give --results, "
                                   "or --directory for the screen's working directory)")
    config = None
    path = config_path or directory / "config" / "config.yaml"
    if config_path is not None or path.is_file():
        try:
            config, _ = progress.load_config(path)
        except progress.ProgressError as exc:
            raise _fail(exc) from exc
    state = progress.screen_status(results, directory)
    for line in progress.status_lines(state, results, time.time()):
        click.echo(line)
    if not tables:
        return
    written = progress.write_partial_tables(results, config)
    if not written:
        click.echo("partial tables: none yet (no site or reference records)")
    for t, sites_csv, ranking_csv in written:
        n_eb = int(t.sites["E_b_atom_eV"].notna().sum()) if len(t.sites) else 0
        click.echo(f"partial tables {t.metal}: {sites_csv} ({len(t.sites)} sites, {n_eb} "
                   f"with E_b), {ranking_csv}")
        click.echo(f"  {t.note}")


def _compact(df: pd.DataFrame) -> pd.DataFrame:
    """Columns with at least one value (a coating's rows of a wide table)."""
    return df.dropna(axis=1, how="all")


@main.command()
@click.argument("coating")
@click.option("--results", "results_dir", type=click.Path(path_type=Path),
              default=Path("results"), show_default=True, help="The screen's results folder.")
def show(coating: str, results_dir: Path) -> None:
    """One coating's rows in every table of a screen (ranking, sites, interfaces,
    reactions, charges per metal; its terminations), its flags, and its files (record
    folders under results/work, cube files under results/charges)."""
    if not results_dir.is_dir():
        raise click.ClickException(f"{results_dir}: no such results folder (give --results)")
    try:
        rows = progress.coating_rows(results_dir, coating)
        folders, cubes = progress.coating_files(results_dir, coating)
        known = progress.known_coatings(results_dir) if not (rows or folders) else []
    except progress.ProgressError as exc:
        raise _fail(exc) from exc
    if not rows and not folders:
        raise click.ClickException(
            f"{results_dir}: no rows or records of {coating!r}; coatings found: "
            f"{', '.join(known) or 'none'}")
    for key, df in rows.items():
        click.echo(f"== {results_dir}/{key}.csv" if key != "terminations"
                   else f"== {results_dir}/terminations/{coating}.csv")
        click.echo(_compact(df).to_string(index=False))
        click.echo()
    flags = progress.coating_flags(rows)
    click.echo("flags:" if flags else "flags: none")
    for flag in flags:
        click.echo(f"  {flag}")
    click.echo(f"files ({len(folders)} records, {len(cubes)} cube files):")
    for path in [*folders, *cubes]:
        click.echo(f"  {path}")


def _value(v: object) -> str:
    """A setting's value as text (JSON, ``-`` where a side lacks it)."""
    return "-" if v is None else json.dumps(v) if not isinstance(v, str) else v


@main.command()
@click.argument("hash_a")
@click.argument("hash_b")
@click.option("--results", "results_dir", type=click.Path(path_type=Path),
              default=Path("results"), show_default=True, help="The screen's results folder.")
def compare(hash_a: str, hash_b: str, results_dir: Path) -> None:
    """The site binding energies under two adsorption settings hashes (folders of
    results/work/adsorption/), side by side with the difference (eV, B - A), and the
    settings that differ between them. E_b = E(slab + adatom) - E(clean slab) - E(atom),
    the atom computed with the same calculator settings."""
    try:
        result = progress.compare_hashes(results_dir, hash_a, hash_b)
    except progress.ProgressError as exc:
        raise _fail(exc) from exc
    click.echo(f"settings that differ ({hash_a} -> {hash_b}):"
               if result.settings else "settings: no difference found in the records")
    for key, a, b in result.settings:
        click.echo(f"  {key}: {_value(a)} -> {_value(b)}")
    click.echo(f"{len(result.rows)} sites under both; {result.only_a} only under {hash_a}, "
               f"{result.only_b} only under {hash_b}")
    if len(result.rows):
        click.echo(result.rows.to_string(index=False, float_format=lambda x: f"{x:.4f}"))


def _plain(value: object) -> object:
    """A JSON value (NaN as null, numpy scalars as Python numbers)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


@main.command()
@click.option("--db", "db_path", type=click.Path(path_type=Path),
              default=Path("results/calculations.db"), show_default=True,
              help="The screen's ASE database.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write to this file instead of standard output.")
def export(db_path: Path, fmt: str, output: Path | None) -> None:
    """The ASE database's rows (id, formula, energy in eV, and every key-value pair:
    status, kind, record path ...) as CSV or JSON."""
    import pandas as pd

    try:
        rows = progress.database_rows(db_path)
    except progress.ProgressError as exc:
        raise _fail(exc) from exc
    if fmt == "json":
        text = json.dumps([{k: _plain(v) for k, v in r.items()} for r in rows], indent=2) + "\n"
    else:
        keys = sorted({k for r in rows for k in r} - {"id", "formula", "energy"})
        text = pd.DataFrame(rows, columns=["id", "formula", "energy", *keys]).to_csv(
            index=False)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text)
        except OSError as exc:
            raise click.ClickException(f"{output}: cannot be written ({exc.strerror})") from exc
        click.echo(f"{len(rows)} rows written to {output}", err=True)
