"""Job of the report stage (``workflow/rules/report.smk``): one metal's tables."""

from __future__ import annotations

from pathlib import Path

from philicity.config import settings_hash
from philicity.io import read_json


def summary_records(summaries: list[str | Path], key: str) -> list[str]:
    """The record paths a gather rule listed under ``key`` in each summary."""
    return [p for s in summaries for p in read_json(s).get(key, [])]


def collect_database(inputs: list[str | Path], db_path: str | Path) -> int:
    """Every record of a screen into one ASE database: the references (``inputs`` that are
    records) and the records the gathered summaries list (sites, clean slabs, interfaces;
    the separated slabs of W_ad come along as subfolders)."""
    from philicity.io import collect_database as write_database

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
                 interfaces_csv: str | Path | None = None) -> None:
    """Write the site, baseline, interface and ranking tables of one anode metal."""
    from philicity import ranking, wetting
    from philicity.io import atomic_write_text

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
    base = ranking.site_rows([read_json(p) for p in summary_records([baseline_summary],
                                                                    "sites")],
                             {metal: metal}, e_atom, e_bulk)
    adhesion_jsons = summary_records(interface_summaries or [], "adhesion")
    ref = base[(base["miller"] == reference_miller) & (base["flags"] == "")]
    e_base = float(ref["E_b_atom_eV"].min()) if ref["E_b_atom_eV"].notna().any() else None
    wc = wetting_config or {}
    dft_sigma = False
    if wc.get("sigma_lv_J_m2", {}).get(metal) is not None:
        sigma, sigma_text = wc["sigma_lv_J_m2"][metal], "set in the config"
    elif wc.get("sigma_from") == "dft_surface_energy":
        sigma, sigma_text, dft_sigma = None, "DFT surface energy of the metal film", True
    elif metal in wetting.MELTING_POINT_K:
        temperature = wc.get("temperature_K", {}).get(metal)
        sigma = wetting.sigma_lv(metal, temperature)
        sigma_text = (f"{wetting.SIGMA_SOURCES[metal]}, T = "
                      f"{temperature or wetting.MELTING_POINT_K[metal]} K")
    else:
        sigma, sigma_text = None, f"none shipped for {metal}: set wetting.sigma_lv_J_m2"
    ifaces = ranking.interface_rows([read_json(p) for p in adhesion_jsons or []], sigma,
                                    dft_sigma)
    ranked = ranking.ranking(candidates, table, e_base, weights, settings_hash(settings),
                             ifaces, metal=metal, references_failed="; ".join(references))
    if interfaces_csv is not None:
        atomic_write_text(interfaces_csv, ifaces.to_csv(index=False, float_format="%.4f"))
    atomic_write_text(sites_csv, table.to_csv(index=False, float_format="%.4f"))
    atomic_write_text(baseline_csv, base.to_csv(index=False, float_format="%.4f"))
    atomic_write_text(ranking_csv, ranked.to_csv(index=False, float_format="%.4f"))
    header = (f"# {metal}: coatings ranked by score\n\n"
              f"Baseline: {metal} adatom on {metal}({reference_miller}), best unflagged site, "
              f"E_b = {e_base if e_base is None else round(e_base, 3)} eV vs the isolated atom "
              f"(E_atom = {e_atom} eV, E_bulk = {e_bulk} eV/atom). "
              f"Settings hash {settings_hash(settings)}.\n\n"
              "score = w_binding * (-dE_vs_baseline_eV) + w_wetting * cos(theta); "
              f"weights {weights}. theta from Young-Dupre with sigma_lv = "
              f"{'-' if sigma is None else round(sigma, 4)} J/m^2 "
              f"({sigma_text}). Empty cells: not computed or failed (see status).\n\n")
    atomic_write_text(ranking_md, header + ranked.to_markdown(index=False, floatfmt=".3f")
                      + "\n")

