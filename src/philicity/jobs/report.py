"""Job of the report stage (``workflow/rules/report.smk``): one metal's tables."""

from __future__ import annotations

from pathlib import Path

from philicity.config import settings_hash
from philicity.files import read_json


def summary_records(summaries: list[str | Path], key: str) -> list[str]:
    """The record paths a gather rule listed under ``key`` in each summary."""
    return [p for s in summaries for p in read_json(s).get(key, [])]


def collect_database(inputs: list[str | Path], db_path: str | Path) -> int:
    """Every record of a screen into one ASE database: the references (``inputs`` that are
    records) and the records the gathered summaries list (sites, clean slabs, interfaces;
    the separated slabs of W_ad come along as subfolders)."""
    from philicity.files import collect_database as write_database

    records = []
    for path in map(str, inputs):
        data = read_json(path)
        if "status" in data:  # a record itself
            records.append(path)
        else:
            records += [p for group in data.values() for p in group]
    return write_database(sorted(set(records)), db_path)


def report_metal(metal: str, candidate_jsons: list, site_summaries: list,
                 baseline_summary: str | Path, atom_json: str | Path, bulk_json: str | Path,
                 reference_miller: str, settings: dict, weights: dict,
                 sites_csv: str | Path, baseline_csv: str | Path, ranking_csv: str | Path,
                 ranking_md: str | Path, interface_summaries: list | None = None,
                 wetting_config: dict | None = None,
                 interfaces_csv: str | Path | None = None,
                 reactions_csv: str | Path | None = None,
                 charge_jsons: list | None = None,
                 charges_csv: str | Path | None = None) -> None:
    """Write the site, baseline, interface and ranking tables of one anode metal (with
    ``reactions_csv``, :func:`report_reactions`' table, the reaction columns)."""
    import pandas as pd

    from philicity import ranking, wetting
    from philicity.files import atomic_write_text

    atom, bulk = read_json(atom_json), read_json(bulk_json)
    e_atom, e_bulk = atom.get("energy_eV"), bulk.get("energy_per_atom_eV")
    candidates = [read_json(p) for p in candidate_jsons]
    formula = {c["name"]: c.get("formula", "") for c in candidates}
    failed = {c["name"] for c in candidates if c["status"] != "ok"}  # one row in the ranking
    references = [f"{what} failed: {r.get('reason')}" for what, r in
                  ((f"isolated {metal} atom", atom), (f"bulk {metal}", bulk))
                  if r.get("status") != "ok"]
    table = ranking.site_rows([r for r in map(read_json, summary_records(site_summaries,
                                                                         "sites"))
                               if r["name"] not in failed], formula, e_atom, e_bulk)
    held = [r for r in map(read_json, summary_records(site_summaries, "site_energies"))
            if r["name"] not in failed]
    if held:  # config site_energies: every site with the adatom held on it
        table = pd.concat([table, ranking.site_energy_rows(held, formula, e_atom, e_bulk)],
                          ignore_index=True).sort_values(
            ["coating", "miller", "termination", "site_energy_mode", "site"], kind="stable",
            ignore_index=True)
    base = ranking.site_rows([read_json(p) for p in summary_records([baseline_summary],
                                                                    "sites")],
                             {metal: metal}, e_atom, e_bulk)
    adhesion_jsons = summary_records(interface_summaries or [], "adhesion")
    e_base = ranking.baseline_binding(base, reference_miller)
    sigma = wetting.surface_tension_for(metal, wetting_config or {})
    ifaces = ranking.interface_rows([read_json(p) for p in adhesion_jsons], sigma.sigma_J_m2,
                                    sigma.from_dft_film)
    reacted = pd.read_csv(reactions_csv, keep_default_na=False, na_values=[""]) if (
        reactions_csv is not None) else None
    ranked = ranking.ranking(candidates, table, e_base, weights, settings_hash(settings),
                             ifaces, metal=metal, references_failed="; ".join(references),
                             reactions=reacted)
    if charges_csv is not None:
        charge_records = [read_json(p) for p in charge_jsons or []]
        atomic_write_text(charges_csv, ranking.charge_rows(
            charge_records, {r["name"]: str(Path(p).parent) for r, p in
                             zip(charge_records, charge_jsons or [], strict=True)}
        ).to_csv(index=False, float_format="%.4f"))
    if interfaces_csv is not None:
        atomic_write_text(interfaces_csv, ifaces.to_csv(index=False, float_format="%.4f"))
    atomic_write_text(sites_csv, table.to_csv(index=False, float_format="%.4f"))
    atomic_write_text(baseline_csv, base.to_csv(index=False, float_format="%.4f"))
    atomic_write_text(ranking_csv, ranked.to_csv(index=False, float_format="%.4f"))
    atomic_write_text(ranking_md, ranking.ranking_markdown(
        metal, ranked, reference_miller, e_base, e_atom, e_bulk, settings_hash(settings),
        weights, sigma.sigma_J_m2, sigma.source))


def report_reactions(metal: str, candidate_jsons: list, reaction_phases: dict,
                     phase_jsons: dict, out_csv: str | Path) -> None:
    """The reaction table of one anode metal: per coating that passed its checks, the
    driving force to react (``ranking.reaction_rows``). ``reaction_phases``: coating ->
    keys of the phases its reaction needs; ``phase_jsons``: key -> its energy record."""
    from philicity import ranking
    from philicity.files import atomic_write_text

    formula = {c["name"]: c.get("formula") for c in map(read_json, candidate_jsons)
               if c["status"] == "ok"}
    table = ranking.reaction_rows(
        metal, formula, {n: keys for n, keys in reaction_phases.items() if n in formula},
        {k: read_json(p) for k, p in phase_jsons.items()})
    atomic_write_text(out_csv, table.to_csv(index=False, float_format="%.4f"))


def report_terminations(terminations_jsons: list[str | Path], out_csv: str | Path) -> None:
    """The terminations table of one coating: every facet's cuts, which was chosen, why."""
    from philicity import ranking
    from philicity.files import atomic_write_text

    table = ranking.termination_rows([read_json(p) for p in terminations_jsons])
    atomic_write_text(out_csv, table.to_csv(index=False, float_format="%.4f"))


def report_html(metals: list[str], tables: dict[str, dict[str, str]],
                site_summaries: dict[str, list[str]],
                interface_summaries: dict[str, list[str]],
                terminations_csvs: list[str | Path], html: str | Path,
                figures_dir: str | Path) -> None:
    """The screen's report (``philicity.report``): every figure as PNG and SVG in
    ``figures_dir`` and the self-contained page ``html``. ``tables``: per metal, table
    name -> CSV; the summaries: per metal, the gathered site and interface summaries. A
    figure that cannot be drawn is logged and named missing on the page."""
    import time
    import traceback
    from datetime import datetime, timezone

    from philicity import report
    from philicity.files import atomic_write_text

    start = time.monotonic()
    data = {m: report.load_metal(m, tables[m], site_summaries.get(m, []),
                                 interface_summaries.get(m, [])) for m in metals}
    terms = {Path(p).stem: t for p in terminations_csvs
             if (t := report.read_table(p)) is not None}
    hashes = sorted({str(h) for d in data.values() if d.tables.get("ranking") is not None
                     for h in d.tables["ranking"]["settings_hash"].dropna()})
    created = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    screen = report.ScreenData(
        data, terms,
        report.provenance([r for d in data.values() for r in d.records], ", ".join(hashes),
                          created),
        missing=[f"{p} (not written)" for p in terminations_csvs if Path(p).stem not in terms])
    Path(figures_dir).mkdir(parents=True, exist_ok=True)
    images = {}
    for stem, make in report.figures(screen):
        try:
            fig = make()
            if fig is not None:
                images[stem] = report.write_figure(fig, Path(figures_dir) / stem)
        except Exception:  # one figure must not cost the page: it says the figure is missing
            print(f"report: figure {stem} failed:\n{traceback.format_exc()}")
            screen.missing.append(f"figure {stem} (could not be drawn; see the log)")
    atomic_write_text(html, report.html_page(screen, images))
    print(f"report: {len(images)} figures in {figures_dir}, {html}, "
          f"{time.monotonic() - start:.1f} s")
