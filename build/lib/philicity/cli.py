"""The ``philicity`` command: everyday tasks around a screen that need no DFT.

    philicity --help
    philicity --version
    philicity check structures/coatings/Ag.cif    # what a screen would compute for it

The screen itself runs through Snakemake (see README.md).
"""

from __future__ import annotations

from pathlib import Path

import click

from philicity import calculators, slabs, structures
from philicity import config as cfg


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="philicity", prog_name="philicity")
def main() -> None:
    """Screen coatings for Li, Na and K metal anodes with DFT (the screen runs through
    Snakemake; these commands need no DFT)."""


@main.command()
@click.argument("cif", type=click.Path(path_type=Path))
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              default=Path("config/config.yaml"), show_default=True,
              help="The screen's config file (anodes, facets, preset).")
def check(cif: Path, config_path: Path) -> None:
    """Validate a candidate CIF and its sidecar (X.yaml beside X.cif) and say which
    metals and facets a screen would compute for it, without DFT. Exits non-zero, naming
    the file and the reason, when the screen would fail it."""
    if not config_path.is_file():
        raise click.ClickException(f"{config_path}: no such config file (give --config)")
    try:
        config, settings = cfg.load(config_path)
        structure = structures.read_structure(cif)
        sidecar = structures.read_sidecar(cif)
    except (cfg.ConfigError, structures.CandidateError) as exc:
        raise click.ClickException(str(exc)) from exc
    name, els = Path(cif).stem, structures.elements(structure)
    missing = calculators.unsupported_elements(els, settings["calculator"])
    if missing:
        raise click.ClickException(
            f"{cif}: elements {missing} cannot be treated by the "
            f"{settings['calculator']['name']} calculator of preset {config['preset']!r}")
    options = cfg.candidate_options(name, sidecar, config)
    sl = settings["slab"]
    click.echo(f"{cif}: {structure.composition.reduced_formula}, {len(structure)} atoms in "
               f"the conventional cell ({structure.get_space_group_info()[0]})")
    problems = []
    for miller in options["miller"]:
        hkl = tuple(miller)
        try:
            slabs.check_slab_size(structure, hkl, sl["min_thickness_A"], sl["max_atoms"])
            click.echo(f"  facet ({slabs.miller_to_str(hkl)}): termination "
                       f"{options['termination']}")
        except slabs.SlabError as exc:
            problems.append(f"facet ({slabs.miller_to_str(hkl)}): {exc}")
    for metal in config["anodes"]:
        if els == [metal]:
            click.echo(f"  {metal}: not ranked (the anode metal itself: its surfaces are "
                       "the baseline)")
        elif config["skip_foreign_alkali"] and structures.contains_foreign_alkali(els, metal):
            click.echo(f"  {metal}: skipped (holds another alkali metal; "
                       "skip_foreign_alkali)")
        else:
            click.echo(f"  {metal}: adatom sites" + (" and interfaces"
                                                     if config["run_interfaces"] else ""))
    if problems:
        raise click.ClickException(f"{cif}: " + "; ".join(problems))
