"""The screen's report: figures made from the tables, and one self-contained HTML page.

Three layers:

- figure functions (:func:`binding_chart`, :func:`site_energy_chart`, :func:`site_map`,
  :func:`wetting_chart`, :func:`interface_view`, :func:`reaction_chart`,
  :func:`charge_profile_chart`): tables (pandas) and structures (ASE) in, a matplotlib
  ``Figure`` out (``None`` when there is nothing to draw); they read no file;
- :func:`load_metal` and :func:`provenance`: what a finished screen wrote (the tables of
  ``docs/outputs.md``, the site and clean-slab records the gathered summaries list, the
  relaxed interfaces), tolerant of anything missing, which they name;
- :func:`figures` (the figures of a screen, by file name) and :func:`html_page` (the page,
  every image a base64 PNG, no external resource).

Units: energies in eV (binding energies vs the isolated metal atom), W_ad and sigma in
J/m^2, angles in degrees, lengths in angstrom.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from ase import Atoms
from matplotlib.figure import Figure

from philicity import wetting
from philicity.files import interface_record_path

# dtypes of the tables' text columns that look like numbers ("001" is a facet)
TEXT_COLUMNS = {"miller": str, "coating_miller": str, "metal_miller": str, "coating": str,
                "formula": str, "site": str, "best_site": str}
INTEGER_COLUMNS = {"rank", "termination", "n_atoms"}
TABLES = ("ranking", "sites", "interfaces", "reactions", "charges")
PHILIC, PHOBIC, FLAGGED = "#1f77b4", "#ff7f0e", "#d62728"
ROTATION_TOP, ROTATION_SIDE = "0x,0y,0z", "-90x"

# The page's section headings (per metal, the metal's name comes first).
SECTION_TITLES = {
    "screen": "The screen",
    "ranking": "Ranking",
    "binding": "Binding relative to the metal's own surface",
    "sites": "Adsorption sites",
    "wetting": "Wetting: W_ad and contact angle",
    "interfaces": "Interfaces",
    "reactions": "Reactions",
    "charges": "Charge transfer",
    "terminations": "Terminations and polarity",
    "failures": "Flags and failures",
    "settings": "Settings and package versions",
}


# Figures (tables in, matplotlib Figure out)


def young_dupre_theta_deg(w_ad_J_m2: float | np.ndarray, sigma_J_m2: float) -> np.ndarray:
    """Young–Dupré contact angle (deg) from W_ad = sigma (1 + cos theta) (J/m^2):
    theta = arccos(W_ad / sigma - 1), 0 for W_ad >= 2 sigma, 180 for W_ad <= 0
    (``wetting.contact_angle`` of each value)."""
    return np.vectorize(lambda w: wetting.contact_angle(float(w), sigma_J_m2)[0],
                        otypes=[float])(w_ad_J_m2)


def _figure(width_in: float, height_in: float) -> tuple[Figure, object]:
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    return fig, fig.add_subplot()


def _numbers(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column, errors="coerce")


def binding_chart(ranking: pd.DataFrame, metal: str) -> Figure | None:
    """Bar chart of ``dE_vs_baseline_eV`` (eV) per coating of one metal's ranking: the
    best binding on the coating minus that on the metal's own surface; negative (blue) =
    metal-philic. Coatings without the value (failed, unranked) are left out."""
    d = ranking.assign(dE=_numbers(ranking["dE_vs_baseline_eV"])).dropna(subset=["dE"])
    if d.empty:
        return None
    d = d.sort_values("dE", ascending=False)
    fig, ax = _figure(6.4, 1.2 + 0.32 * len(d))
    colors = [PHILIC if v < 0 else PHOBIC for v in d["dE"]]
    ax.barh(d["coating"].astype(str), d["dE"], color=colors)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_xlabel(rf"$\Delta E$ vs {metal} surface (eV; < 0: {metal}-philic)")
    ax.set_title(f"{metal}: best adatom binding relative to the metal's own surface")
    for y, v in enumerate(d["dE"]):
        ax.annotate(f"{v:+.3f}", (v, y), xytext=(3 if v >= 0 else -3, 0),
                    textcoords="offset points", va="center",
                    ha="left" if v >= 0 else "right", fontsize=8)
    ax.margins(x=0.25)
    return fig


def site_energy_chart(sites: pd.DataFrame, coating: str, metal: str,
                      baseline_eV: float | None = None) -> Figure | None:
    """Bar chart of E_b_atom_eV (eV, vs the isolated ``metal`` atom) per site of one
    coating (rows of the sites table): the free relaxations, and beside them the site
    energies with the adatom held on the site where the table has them
    (``site_energy_mode`` lateral_fixed). The bars hang from 0 eV, the axis spans the
    energies. Flagged sites are hatched with a red edge; a site without an energy (pruned
    by the ML prescreen, failed) is marked "n/a". With ``baseline_eV``, the metal adatom's
    best E_b on its own surface as a dashed line."""
    from matplotlib.transforms import blended_transform_factory

    rows = sites[(sites["coating"].astype(str) == coating)
                 & (sites["site"].fillna("").astype(str) != "")]
    if rows.empty:
        return None
    keys = ["miller", "termination", "site"]
    rows = rows.assign(**{k: rows[k].astype(str) for k in keys},
                       E=_numbers(rows["E_b_atom_eV"]), flags=rows["flags"].fillna(""),
                       mode=rows["site_energy_mode"].fillna("free"))
    order = rows[keys].drop_duplicates().reset_index(drop=True)
    several = len(order[["miller", "termination"]].drop_duplicates()) > 1
    labels = [f"({r.miller}) t{r.termination} {r.site}" if several else r.site
              for r in order.itertuples()]
    series = [(mode, name, color) for mode, name, color in
              (("free", "relaxed freely", PHILIC),
               ("lateral_fixed", "adatom held on the site", "#9ecae1"))
              if (rows["mode"] == mode).any()]
    fig, ax = _figure(max(4.5, 1.8 + 0.9 * len(order)), 4.2)
    width = 0.8 / len(series)
    x = np.arange(len(order))
    top = blended_transform_factory(ax.transData, ax.transAxes)
    flagged_shown = False
    for k, (mode, name, color) in enumerate(series):
        shift = (k - (len(series) - 1) / 2) * width
        merged = order.merge(rows[rows["mode"] == mode].drop_duplicates(keys), on=keys,
                             how="left")
        have = merged["E"].notna().to_numpy()
        flagged = (merged["flags"].fillna("") != "").to_numpy()
        ax.bar(x[have] + shift, merged["E"][have], width, color=color, label=name,
               edgecolor=np.where(flagged[have], FLAGGED, "black"),
               linewidth=np.where(flagged[have], 1.5, 0.5),
               hatch=None)
        for i in np.flatnonzero(have & flagged):
            ax.bar(x[i] + shift, merged["E"][i], width, color="none", edgecolor=FLAGGED,
                   hatch="xx", linewidth=1.5,
                   label=None if flagged_shown else "flagged (never the best site)")
            flagged_shown = True
        for i in np.flatnonzero(~have & merged["coating"].notna().to_numpy()):
            ax.text(x[i] + shift, 0.97, "n/a", transform=top, ha="center", va="top",
                    fontsize=8, rotation=90, color=FLAGGED if flagged[i] else "grey")
        for i in np.flatnonzero(have):
            ax.annotate(f"{merged['E'][i]:.2f}", (x[i] + shift, merged["E"][i]),
                        xytext=(0, -2), textcoords="offset points", ha="center",
                        va="top", fontsize=7)
    values = list(rows["E"].dropna())
    if baseline_eV is not None and not math.isnan(baseline_eV):
        ax.axhline(baseline_eV, color="black", ls="--", lw=1,
                   label=f"{metal} on its own surface ({baseline_eV:.2f})")
        values.append(baseline_eV)
    if values:
        lo, hi = min(values), max(values)
        pad = max(0.1, 0.2 * (hi - lo))
        ax.set_ylim(lo - pad, max(hi + 2 * pad, 0.0) if hi > -3 * pad else hi + 2 * pad)
    ax.set_xlim(-0.7, len(order) - 0.3)
    ax.set_xticks(x, labels, rotation=30 if len(order) > 4 else 0,
                  ha="right" if len(order) > 4 else "center", fontsize=8)
    ax.set_ylabel(f"E_b vs {metal} atom (eV)")
    ax.set_title(f"{coating}: {metal} adatom binding per site (n/a: no energy)", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12),
              ncols=2)
    return fig


def site_marks(records: Iterable[dict], sites: pd.DataFrame | None) -> pd.DataFrame:
    """Where each adsorption site of the site records is and what it binds with: one row
    per record (coating ``name``, ``miller``, ``termination``, ``site``) with the
    adatom's start (the site, A) and end (A) in the plane, E_b_atom_eV (eV) of its free
    relaxation from the sites table, else of the adatom held on the site (``energy_from``
    free, held or ""), and its flags."""
    rows = []
    for rec in records:
        start, final = rec.get("adatom_start_A"), rec.get("adatom_final_A")
        if rec.get("kind") != "adsorbate" or start is None:
            continue
        final = final if final is not None else start
        rows.append({"coating": str(rec.get("name")), "miller": str(rec.get("miller")),
                     "termination": str(rec.get("termination")), "site": str(rec.get("site")),
                     "x_A": start[0], "y_A": start[1], "x_final_A": final[0],
                     "y_final_A": final[1], "flags": "; ".join(rec.get("flags", [])),
                     "E_b_atom_eV": math.nan, "energy_from": ""})
    marks = pd.DataFrame(rows, columns=["coating", "miller", "termination", "site", "x_A",
                                        "y_A", "x_final_A", "y_final_A", "flags",
                                        "E_b_atom_eV", "energy_from"])
    if sites is None or marks.empty:
        return marks
    keys = ["coating", "miller", "termination", "site"]
    table = sites.assign(**{k: sites[k].astype(str) for k in keys},
                         E=_numbers(sites["E_b_atom_eV"]))
    mode = table["site_energy_mode"].fillna("free")
    for name, sel in (("free", mode == "free"), ("held", mode == "lateral_fixed")):
        energy = table[sel].set_index(keys)["E"]
        energy = energy[~energy.index.duplicated()]
        found = marks.set_index(keys).index.map(lambda k, e=energy: e.get(k, math.nan))
        take = marks["E_b_atom_eV"].isna() & pd.notna(np.asarray(found, dtype=float))
        marks.loc[take, "E_b_atom_eV"] = np.asarray(found, dtype=float)[take.to_numpy()]
        marks.loc[take, "energy_from"] = name
        if name == "free":  # the table's flags (a failed record's reason) win
            flags = table[sel].set_index(keys)["flags"].fillna("")
            flags = flags[~flags.index.duplicated()]
            marks["flags"] = [flags.get(k, f) for k, f in
                              zip(marks.set_index(keys).index, marks["flags"], strict=True)]
    return marks


def in_cell(slab: Atoms, marks: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The sites' start positions (A, z = 0) wrapped into ``slab``'s cell in the plane,
    and their end positions the shortest periodic way from there."""
    cell = slab.cell.array
    start = np.column_stack([marks["x_A"], marks["y_A"], np.zeros(len(marks))]).astype(float)
    end = np.column_stack([marks["x_final_A"], marks["y_final_A"],
                           np.zeros(len(marks))]).astype(float)
    frac = np.linalg.solve(cell.T, start.T).T
    frac[:, :2] %= 1.0
    frac[:, :2] = np.where(np.isclose(frac[:, :2], 1.0, atol=1e-6), 0.0, frac[:, :2])
    wrapped = frac @ cell
    step = np.linalg.solve(cell.T, (end - start).T).T
    step[:, :2] -= np.round(step[:, :2])
    return wrapped, wrapped + step @ cell


def site_map(slab: Atoms, marks: pd.DataFrame, metal: str, title: str) -> Figure:
    """Top view of a clean slab (``plot_atoms``, rotation 0x,0y,0z) with every adsorption
    site of ``marks`` (:func:`site_marks`) at its (x, y) (A), coloured by its E_b (eV, vs
    the isolated ``metal`` atom; colorbar): a circle for the energy of the free
    relaxation, a square for that of the adatom held on the site, a grey cross for none;
    flagged sites with a red edge, and an arrow to where the adatom ended when it moved
    more than 0.3 A in the plane."""
    from ase.io.utils import PlottingVariables
    from ase.visualize.plot import plot_atoms
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    slab = slab.copy()
    slab.wrap()  # atoms and sites in the same periodic image: the cell drawn
    fig, ax = _figure(5.6, 4.6)
    plot_atoms(slab, ax, rotation=ROTATION_TOP, radii=0.85)
    # the image-plane transform plot_atoms used (scale 1: data units are angstrom)
    view = PlottingVariables(slab, rotation=ROTATION_TOP, scale=1, radii=0.85)
    if marks.empty:
        ax.set_title(f"{title}\n(no site positions)", fontsize=9)
        return fig
    start_xy, end_xy = in_cell(slab, marks)
    start = view.to_image_plane_positions(start_xy)[:, :2]
    end = view.to_image_plane_positions(end_xy)[:, :2]
    energies = marks["E_b_atom_eV"].astype(float).to_numpy()
    known = ~np.isnan(energies)
    norm = Normalize(*(np.nanmin(energies), np.nanmax(energies)) if known.any() else (0, 1))
    if known.any() and norm.vmin == norm.vmax:
        norm = Normalize(norm.vmin - 0.05, norm.vmax + 0.05)
    cmap = colormaps["viridis"]
    flagged = (marks["flags"].fillna("") != "").to_numpy()
    for i, (_, m) in enumerate(marks.iterrows()):
        if np.hypot(*(end[i] - start[i])) > 0.3:
            ax.annotate("", end[i], start[i], arrowprops={"arrowstyle": "->", "lw": 1.2,
                                                         "color": "white"}, zorder=20)
        edge = FLAGGED if flagged[i] else "black"
        if known[i]:
            ax.scatter(*start[i], s=110, c=[cmap(norm(energies[i]))], zorder=21,
                       marker="o" if m["energy_from"] == "free" else "s",
                       edgecolors=edge, linewidths=2.0 if flagged[i] else 0.8)
        else:
            ax.scatter(*start[i], s=80, c="grey", marker="X", zorder=21, edgecolors=edge)
        ax.annotate(str(m["site"]).split("-")[-1], start[i], xytext=(6, 6), zorder=22,
                    textcoords="offset points", fontsize=7,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.8,
                          "lw": 0})
    if known.any():
        from matplotlib.cm import ScalarMappable

        fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.85,
                     label=f"E_b vs {metal} atom (eV)")
    ax.set_title(f"{title}\ncircle: relaxed freely, square: held on the site,\n"
                 "red edge: flagged, arrow: where it went", fontsize=8)
    return fig


def wetting_chart(interfaces: pd.DataFrame, metal: str) -> Figure | None:
    """W_ad (J/m^2) against the contact angle (deg) for one metal: the Young–Dupré curve
    theta = arccos(W_ad / sigma - 1) for the metal's sigma_lv (``sigma_lv_J_m2`` of the
    interfaces table; with per-row DFT film values, their median), the complete-wetting
    region (W_ad >= 2 sigma, theta = 0) and the non-wetting region (W_ad <= sigma,
    theta >= 90) shaded, and each coating's best unflagged interface placed at its own
    W_ad and theta, labelled. ``None`` without a sigma."""
    from philicity.ranking import best_interfaces

    if interfaces is None or interfaces.empty:
        return None
    sigmas = _numbers(interfaces["sigma_lv_J_m2"]).dropna()
    sigmas = sigmas[sigmas > 0]
    if sigmas.empty:
        return None
    sigma = float(sigmas.median())
    table = interfaces.assign(W_ad_J_m2=_numbers(interfaces["W_ad_J_m2"]),
                              theta_deg=_numbers(interfaces["theta_deg"]),
                              flags=interfaces["flags"].fillna(""),
                              status=interfaces["status"].fillna(""))
    best = best_interfaces(table)
    w_max = max(2.6 * sigma, float(best["W_ad_J_m2"].max()) * 1.1 if len(best) else 0.0)
    w = np.union1d(np.linspace(0.0, w_max, 400), [sigma, 2.0 * sigma])
    fig, ax = _figure(6.4, 4.4)
    ax.axvspan(2.0 * sigma, w_max, color="#2ca02c", alpha=0.12,
               label=r"complete wetting ($W_{ad} \geq 2\sigma$, $\theta = 0$)")
    ax.axvspan(0.0, sigma, color="#d62728", alpha=0.10,
               label=r"non-wetting ($W_{ad} \leq \sigma$, $\theta \geq 90°$)")
    ax.plot(w, young_dupre_theta_deg(w, sigma), color="black", gid="young-dupre",
            label=rf"Young–Dupré, $\sigma_{{lv}}$ = {sigma:.3f} J/m$^2$")
    for coating, r in best.iterrows():
        ax.plot(r["W_ad_J_m2"], r["theta_deg"], "o", color=PHILIC, ms=7, zorder=5)
        ax.annotate(f"{coating} ({r['coating_miller']})", (r["W_ad_J_m2"], r["theta_deg"]),
                    xytext=(5, 5), textcoords="offset points", fontsize=8)
    if sigmas.nunique() > 1:
        ax.text(0.99, 0.6, "each interface uses its own\nDFT film sigma: points lie off "
                "the curve", transform=ax.transAxes, ha="right", fontsize=7)
    ax.set_xlim(0.0, w_max)
    ax.set_ylim(-5.0, 185.0)
    ax.set_yticks([0, 30, 60, 90, 120, 150, 180])
    ax.set_xlabel(r"$W_{ad}$ (J/m$^2$)")
    ax.set_ylabel(r"contact angle $\theta$ (°)")
    ax.set_title(f"{metal}: work of adhesion and contact angle, best interface per coating")
    ax.legend(fontsize=7, frameon=False, loc="upper right")
    return fig


def interface_view(interface: Atoms, title: str) -> Figure:
    """Side view of a relaxed interface (``plot_atoms``, rotation -90x: the coating
    below, the metal film above, the normal pointing up)."""
    from ase.visualize.plot import plot_atoms

    span = interface.cell.lengths()
    fig, ax = _figure(min(8.0, 2.5 + 0.35 * span[0]), min(7.0, 1.6 + 0.22 * span[2]))
    plot_atoms(interface, ax, rotation=ROTATION_SIDE)
    ax.set_title(title, fontsize=9)
    return fig


def reaction_chart(reactions: pd.DataFrame, metal: str) -> Figure | None:
    """Bar chart of ``E_react_eV_per_M`` (eV per metal atom; negative = the metal reacts)
    per coating, reactive coatings in red with their products. ``None`` without values."""
    d = reactions.assign(E=_numbers(reactions["E_react_eV_per_M"])).dropna(subset=["E"])
    if d.empty:
        return None
    d = d.sort_values("E", ascending=False)
    fig, ax = _figure(6.4, 1.2 + 0.32 * len(d))
    reactive = d["reactive"].astype(str).str.lower().eq("true").to_numpy()
    ax.barh(d["coating"].astype(str), d["E"], color=np.where(reactive, FLAGGED, "grey"))
    for y, (e, products, r) in enumerate(zip(d["E"], d["reaction_products"].fillna(""),
                                             reactive, strict=True)):
        ax.annotate(f"{e:+.3f}" + (f" -> {products}" if r and products else ""), (e, y),
                    xytext=(3 if e >= 0 else -3, 0), textcoords="offset points",
                    va="center", ha="left" if e >= 0 else "right", fontsize=8)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.margins(x=0.4)
    ax.set_xlabel(f"E_react (eV per {metal}; < 0: {metal} reacts)")
    ax.set_title(f"{metal}: reaction driving force with each coating")
    return fig


def charge_profile_chart(profile: pd.DataFrame, title: str,
                         z_plane_A: float | None = None) -> Figure:
    """The plane-averaged charge-density difference (e/A) and its running integral (e)
    along z (A) of one ``{part}_profile.csv`` (columns z_A, drho_e_per_A, dq_below_e),
    the plane between the parts dashed."""
    fig, ax = _figure(6.0, 3.4)
    ax.plot(profile["z_A"], profile["drho_e_per_A"], label=r"$\Delta\bar\rho(z)$ (e/Å)")
    ax.plot(profile["z_A"], profile["dq_below_e"], label=r"$\Delta q(z)$ (e)")
    if z_plane_A is not None:
        ax.axvline(z_plane_A, color="grey", ls="--", lw=1)
    ax.axhline(0.0, color="black", lw=0.5)
    ax.set_xlabel("z (Å)")
    ax.set_title(title, fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    return fig


# What a finished screen wrote (the only functions here that read files)


@dataclass
class SlabSites:
    """A relaxed clean slab of one coating and the site records on it."""

    coating: str
    miller: str
    termination: str
    slab: Atoms | None
    records: list[dict]


@dataclass
class InterfaceStructure:
    """A relaxed interface of one coating (``label``: facet, termination, metal facet)."""

    coating: str
    label: str
    atoms: Atoms
    W_ad_J_m2: float | None = None


@dataclass
class ChargeProfile:
    coating: str
    label: str  # {part}, e.g. site_t0-hollow0 or interface_100_t0_Li110
    profile: pd.DataFrame
    z_plane_A: float | None = None


@dataclass
class MetalData:
    """Everything the report shows of one anode metal; a table is ``None`` when its
    file is missing, and ``missing`` says what is."""

    metal: str
    tables: dict[str, pd.DataFrame | None] = field(default_factory=dict)
    slabs: list[SlabSites] = field(default_factory=list)
    interfaces: list[InterfaceStructure] = field(default_factory=list)
    charge_profiles: list[ChargeProfile] = field(default_factory=list)
    facet_failures: list[dict] = field(default_factory=list)  # failed sites.json records
    records: list[dict] = field(default_factory=list)  # site and adhesion records read
    missing: list[str] = field(default_factory=list)


@dataclass
class Provenance:
    settings: dict
    settings_hash: str
    versions: dict[str, list[str]]  # package -> the versions the records name
    created: str


@dataclass
class ScreenData:
    metals: dict[str, MetalData]
    terminations: dict[str, pd.DataFrame]  # per coating
    provenance: Provenance
    missing: list[str] = field(default_factory=list)


def read_table(path: str | Path) -> pd.DataFrame | None:
    """A results table as written (facets as text, "" as empty), or None if missing."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        table = pd.read_csv(path, dtype=TEXT_COLUMNS, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        return None
    for column in INTEGER_COLUMNS & set(table.columns):  # whole numbers with empty cells
        values = pd.to_numeric(table[column], errors="coerce")
        if values.notna().any() and (values.dropna() % 1 == 0).all():
            table[column] = values.astype("Int64")
    return table


def _read_json(path: str | Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def load_metal(metal: str, tables: dict[str, str | Path], site_summaries: Iterable[str | Path],
               interface_summaries: Iterable[str | Path]) -> MetalData:
    """One metal's tables (``tables``: name in :data:`TABLES` -> CSV path), its site and
    clean-slab records with the relaxed clean slabs (from the gathered site summaries),
    its relaxed interfaces (from the interface summaries: ``relaxed/record.json`` beside
    each ``adhesion/record.json``) and the plane-averaged charge profiles beside the
    cube files the charges table names. Anything missing is named in ``missing``."""
    from philicity.jobs.records import structure_of

    data = MetalData(metal)
    for name in TABLES:
        path = tables.get(name)
        data.tables[name] = read_table(path) if path else None
        if data.tables[name] is None:
            data.missing.append(f"{path or f'the {name} table'} (not written)")
    for summary in map(Path, site_summaries):
        listed = _read_json(summary)
        if listed is None:
            data.missing.append(f"{summary} (site summary not written)")
            continue
        by_slab: dict[tuple[str, str, str], list[dict]] = {}
        for path in listed.get("sites", []):
            rec = _read_json(path)
            if rec is None:
                data.missing.append(f"{path} (site record missing)")
            elif rec.get("kind") == "adsorbate" or "site" in rec:
                data.records.append(rec)
                key = (str(rec.get("name")), str(rec.get("miller")), str(rec.get("termination")))
                by_slab.setdefault(key, []).append(rec)
            elif rec.get("status") != "ok":  # a facet that failed: its sites.json
                data.facet_failures.append(rec)
        cleans = {}
        for path in listed.get("clean", []):
            rec = _read_json(path)
            if rec is not None:
                cleans[(str(rec.get("name")), str(rec.get("miller")),
                        str(rec.get("termination")))] = (path, rec)
        for key in sorted(set(by_slab) | set(cleans)):
            slab = None
            if key in cleans and cleans[key][1].get("status") == "ok":
                try:
                    slab = structure_of(cleans[key][0])
                except (OSError, ValueError):
                    data.missing.append(f"{cleans[key][0]}: its structure")
            data.slabs.append(SlabSites(*key, slab, by_slab.get(key, [])))
    for summary in map(Path, interface_summaries):
        listed = _read_json(summary)
        if listed is None:
            data.missing.append(f"{summary} (interface summary not written)")
            continue
        for path in map(Path, listed.get("adhesion", [])):
            adhesion = _read_json(path)
            if adhesion is None:
                continue
            relaxed = interface_record_path(path, adhesion)
            data.records.append(adhesion)
            label = (f"({adhesion.get('miller')}) t{adhesion.get('termination')} | "
                     f"{metal}({adhesion.get('metal_miller')})")
            rec = _read_json(relaxed)
            if rec is None or rec.get("status") != "ok":
                continue  # no interface (no lattice match, failed): the table says why
            try:
                atoms = structure_of(relaxed)
            except (OSError, ValueError):
                data.missing.append(f"{relaxed}: its structure")
                continue
            data.interfaces.append(InterfaceStructure(str(adhesion.get("name")), label, atoms,
                                                      adhesion.get("W_ad_J_m2")))
    charges = data.tables.get("charges")
    if charges is not None:
        for row in charges.itertuples():
            cube = str(row.cube) if isinstance(row.cube, str) else ""
            if not cube.endswith("_density_difference.cube"):
                continue
            label = Path(cube).name[: -len("_density_difference.cube")]
            profile = read_table(Path(cube).with_name(f"{label}_profile.csv"))
            if profile is None:
                data.missing.append(f"{Path(cube).with_name(f'{label}_profile.csv')}")
                continue
            record = _read_json(Path(cube).with_name("record.json")) or {}
            z = next((p.get("z_plane_A") for p in record.get("parts", [])
                      if p.get("cube") == Path(cube).name), None)
            data.charge_profiles.append(ChargeProfile(str(row.coating), label, profile, z))
    return data


def provenance(records: Iterable[dict], settings_hash: str, created: str) -> Provenance:
    """The settings (those of the first ok site record, with the interface section of an
    adhesion record), and every package version the records name."""
    settings, versions = {}, {}
    for rec in records:
        if not settings and rec.get("kind") == "adsorbate" and rec.get("settings"):
            settings = dict(rec["settings"])
        if rec.get("kind") == "adhesion" and "interface" in rec.get("settings", {}):
            settings.setdefault("interface", rec["settings"]["interface"])
        for pkg, v in (rec.get("versions") or {}).items():
            versions.setdefault(pkg, [])
            if v not in versions[pkg]:
                versions[pkg].append(v)
    return Provenance(settings, settings_hash, versions, created)


# Figures of a screen and the page


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", str(text)).strip("-")


def figure_name(metal: str, what: str, *parts: str) -> str:
    """The file stem of a figure (results/report/figures/<stem>.png and .svg)."""
    return "_".join(_safe(p) for p in (metal, *parts, what) if p != "")


def _baseline_eV(ranking: pd.DataFrame | None) -> float | None:
    """The metal's own-surface E_b (eV): E_b_atom - dE_vs_baseline of any ranked row."""
    if ranking is None:
        return None
    d = _numbers(ranking["E_b_atom_eV"]) - _numbers(ranking["dE_vs_baseline_eV"])
    d = d.dropna()
    return float(d.iloc[0]) if len(d) else None


def _coatings(data: MetalData) -> list[str]:
    """The coatings of a metal's ranking (in rank order), then any others with data."""
    names = []
    ranking = data.tables.get("ranking")
    if ranking is not None:
        names += [str(c) for c in ranking["coating"]]
    names += [s.coating for s in data.slabs] + [i.coating for i in data.interfaces]
    return list(dict.fromkeys(names))


def _site_map_of(slab: SlabSites, sites: pd.DataFrame | None, metal: str) -> Figure:
    return site_map(slab.slab, site_marks(slab.records, sites), metal,
                    f"{slab.coating}({slab.miller}) t{slab.termination}: {metal} sites")


def figures(screen: ScreenData) -> list[tuple[str, Callable[[], Figure | None]]]:
    """Every figure of the page, by file stem, as a function that makes it (so that a
    caller can make, write and drop them one at a time)."""
    out: list[tuple[str, Callable[[], Figure | None]]] = []
    for metal, data in screen.metals.items():
        t = data.tables
        ranking, sites = t.get("ranking"), t.get("sites")
        if ranking is not None:
            out.append((figure_name(metal, "binding"), partial(binding_chart, ranking, metal)))
        for coating in _coatings(data):
            if sites is not None:
                out.append((figure_name(metal, "sites", coating),
                            partial(site_energy_chart, sites, coating, metal,
                                    _baseline_eV(ranking))))
            for slab in (s for s in data.slabs if s.coating == coating and s.slab is not None):
                out.append((figure_name(metal, "top", coating, slab.miller,
                                        f"t{slab.termination}"),
                            partial(_site_map_of, slab, sites, metal)))
            for iface in (i for i in data.interfaces if i.coating == coating):
                out.append((figure_name(metal, "interface", coating, iface.label),
                            partial(interface_view, iface.atoms, _interface_title(iface))))
            for prof in (p for p in data.charge_profiles if p.coating == coating):
                out.append((figure_name(metal, "charge", coating, prof.label),
                            partial(charge_profile_chart, prof.profile,
                                    f"{prof.coating}: {prof.label}", prof.z_plane_A)))
        if t.get("interfaces") is not None:
            out.append((figure_name(metal, "wetting"),
                        partial(wetting_chart, t["interfaces"], metal)))
        if t.get("reactions") is not None:
            out.append((figure_name(metal, "reactions"),
                        partial(reaction_chart, t["reactions"], metal)))
    return out


def _interface_title(i: InterfaceStructure) -> str:
    w = f", W_ad = {i.W_ad_J_m2:.3f} J/m²" if i.W_ad_J_m2 is not None else ""
    return f"{i.coating}{i.label}{w}"


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def write_figure(fig: Figure, stem: str | Path, dpi: int = 100) -> bytes:
    """Write ``stem``.png and ``stem``.svg (for papers); return the PNG's bytes."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png = png_bytes(fig, dpi)
    stem.with_suffix(".png").write_bytes(png)
    fig.savefig(stem.with_suffix(".svg"), format="svg")
    return png


# HTML

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1200px;padding:0 1em;color:#222;line-height:1.4}
h1{border-bottom:2px solid #1f77b4}h2{border-bottom:1px solid #ccc;margin-top:2em}
table{border-collapse:collapse;font-size:12px;margin:0.5em 0 1em}
th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
td{max-width:30em;overflow-wrap:break-word}.scroll{overflow-x:auto}
.scroll table{width:max-content}
th{background:#f0f4f8}table.sortable th{cursor:pointer}
table.sortable th:after{content:" \\2195";color:#999}
tr:nth-child(even){background:#fafafa}
figure{display:inline-block;margin:0.5em;vertical-align:top}
figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:12px;color:#555}
.missing{color:#a33;font-style:italic}.note{color:#555;font-size:13px}
pre{background:#f6f6f6;padding:0.5em;font-size:12px;overflow:auto}
nav ul{columns:3;font-size:13px}
"""

# click a header: sort by that column (numbers as numbers, empty cells last), again: reverse
SORT_JS = """
document.querySelectorAll("table.sortable th").forEach(function (th) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0], i = th.cellIndex;
    var dir = th.dataset.dir === "asc" ? -1 : 1;
    table.querySelectorAll("th").forEach(function (h) { delete h.dataset.dir; });
    th.dataset.dir = dir === 1 ? "asc" : "desc";
    var key = function (row) {
      var t = row.cells[i] ? row.cells[i].textContent.trim() : "";
      var n = Number(t);
      return t === "" ? null : (isNaN(n) ? t.toLowerCase() : n);
    };
    Array.from(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === null || y === null) { return (x === null) - (y === null); }
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    }).forEach(function (row) { body.appendChild(row); });
  });
});
"""

SCREEN_TEXT = (
    "A DFT screen of coatings for {metals} metal anodes. For each coating and anode "
    "metal: the binding energy of one metal adatom on every symmetry-distinct site of the "
    "coating's surface, compared with the adatom on the metal's own surface "
    "(dE_vs_baseline_eV &lt; 0: the coating is metal-philic); the work of adhesion W_ad "
    "of a metal film on the coating and its Young–Dupré contact angle; where computed, "
    "the driving force of the metal to react with the coating and the charge it "
    "transfers. Coatings are ranked by score = w_binding (-dE_vs_baseline) + w_wetting "
    "cos(theta) (+ w_reaction (-E_react)). Tables: results/ranking, sites, interfaces, "
    "reactions, charges, terminations (docs/outputs.md); every figure is in "
    "results/report/figures/ as PNG and SVG.")


def _esc(text: object) -> str:
    return html.escape(str(text))


def table_html(df: pd.DataFrame, sortable: bool = True) -> str:
    """A table as HTML (escaped; empty cells blank; floats to 4 decimals), sortable by a
    click on a column header."""
    table = df.to_html(index=False, na_rep="", border=0, escape=True,
                       classes="sortable" if sortable else None,
                       float_format=lambda v: f"{v:.4f}")
    return f'<div class="scroll">{table}</div>'


def image_html(png: bytes, alt: str, caption: str = "") -> str:
    """A figure embedded as a base64 PNG data URI."""
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(alt)}">{cap}'
            "</figure>")


def missing_html(text: str) -> str:
    return f'<p class="missing">Missing: {_esc(text)}</p>'


def _figure_or_missing(images: dict[str, bytes], name: str, alt: str, caption: str,
                       absent: str) -> str:
    if name in images:
        return image_html(images[name], alt, f"{caption} ({name}.png/.svg)")
    return missing_html(absent)


def failures_table(screen: ScreenData) -> pd.DataFrame:
    """Every problem the tables and records name, one row each: ranking rows whose status
    does not start with "ok" (and the notes of those that do), flagged or failed sites,
    interfaces, reactions, charge parts and terminations that are not ok, and facets
    whose site search failed. Columns: metal, table, coating, item, reason."""
    rows = []

    def add(metal: str, table: str, coating: object, item: object, reason: object) -> None:
        rows.append({"metal": metal, "table": table, "coating": coating, "item": item,
                     "reason": reason})

    for metal, data in screen.metals.items():
        t = data.tables
        if (r := t.get("ranking")) is not None:
            for row in r.itertuples():
                status = str(row.status) if isinstance(row.status, str) else ""
                if not status.startswith("ok"):
                    add(metal, "ranking", row.coating, "candidate", status)
                elif status != "ok":
                    add(metal, "ranking (note)", row.coating, "candidate", status)
        if (s := t.get("sites")) is not None:
            for row in s[s["flags"].fillna("") != ""].itertuples():
                item = (f"{row.site} ({row.miller}) t{row.termination}, "
                        f"{row.site_energy_mode}" if isinstance(row.site, str)
                        else f"({row.miller})")
                add(metal, "sites", row.coating, item, row.flags)
        if (i := t.get("interfaces")) is not None:
            bad = i[(i["status"].fillna("") != "ok") | (i["flags"].fillna("") != "")]
            for row in bad.itertuples():
                add(metal, "interfaces", row.coating,
                    f"({row.coating_miller}) t{row.termination} | {metal}({row.metal_miller})",
                    "; ".join(str(x) for x in (row.status, row.flags)
                              if isinstance(x, str) and x and x != "ok"))
        for name, what in (("reactions", "reaction"), ("charges", "part")):
            if (d := t.get(name)) is not None:
                for row in d[~d["status"].fillna("").astype(str).str.startswith("ok")
                             ].itertuples():
                    add(metal, name, row.coating, getattr(row, what, ""), row.status)
        for rec in data.facet_failures:
            add(metal, "sites", rec.get("name"), f"({rec.get('miller')}) site search",
                f"{rec.get('status')}: {rec.get('reason')}")
    for coating, d in screen.terminations.items():
        for row in d[d["status"].fillna("") != "ok"].itertuples():
            add("", "terminations", coating, f"({row.miller})", row.status)
    return pd.DataFrame(rows, columns=["metal", "table", "coating", "item", "reason"])


def settings_table(settings: dict) -> pd.DataFrame:
    """The settings as one row per section: ``key: value`` pairs, nested values as JSON."""
    rows = []
    for section, values in sorted(settings.items()):
        if isinstance(values, dict):
            text = "; ".join(f"{k}: {json.dumps(v, sort_keys=True)}"
                             for k, v in sorted(values.items()))
        else:
            text = json.dumps(values, sort_keys=True)
        rows.append({"section": section, "settings": text})
    return pd.DataFrame(rows, columns=["section", "settings"])


def _section(level: int, anchor: str, title: str) -> str:
    return f'<h{level} id="{_esc(anchor)}">{_esc(title)}</h{level}>'


def _header(screen: ScreenData) -> str:
    """What was screened, with what, when; the full settings come last (:func:`_settings`)."""
    p = screen.provenance
    metals = ", ".join(screen.metals) or "no"
    calc = p.settings.get("calculator", {}).get("name", "?")
    parts = [_section(2, "screen", SECTION_TITLES["screen"]),
             f"<p>{SCREEN_TEXT.format(metals=_esc(metals))}</p>",
             "<table><tbody>"
             f"<tr><th>anode metals</th><td>{_esc(metals)}</td></tr>"
             f"<tr><th>calculator</th><td>{_esc(calc)}</td></tr>"
             f"<tr><th>settings hash</th><td>{_esc(p.settings_hash or '?')} "
             '(<a href="#settings">settings</a>)</td></tr>'
             f"<tr><th>report written</th><td>{_esc(p.created)}</td></tr>"
             "</tbody></table>"]
    if screen.missing:
        parts.append(missing_html("; ".join(screen.missing)))
    return "\n".join(parts)


def _settings(screen: ScreenData) -> str:
    """Every numerical setting by section, and the package versions of the records."""
    p = screen.provenance
    versions = pd.DataFrame([{"package": k, "version": ", ".join(v)}
                             for k, v in sorted(p.versions.items())])
    return "\n".join([
        _section(2, "settings", SECTION_TITLES["settings"]),
        table_html(settings_table(p.settings), sortable=False)
        if p.settings else missing_html("no record with settings was found"),
        table_html(versions, sortable=False) if len(versions)
        else missing_html("no record with package versions was found")])


def _metal_section(data: MetalData, images: dict[str, bytes]) -> str:
    m, t = data.metal, data.tables

    def a(key: str) -> str:  # the anchor of a section of this metal
        return f"{_safe(m)}-{key}"

    out = [_section(2, a("metal"), f"{m} anode")]
    # ranking and binding
    out.append(_section(3, a("ranking"), f"{m}: {SECTION_TITLES['ranking']}"))
    ranking = t.get("ranking")
    if ranking is None:
        out.append(missing_html(f"the {m} ranking table"))
    else:
        out.append('<p class="note">Click a column header to sort. Higher score = more '
                   f"{_esc(m)}-philic; failed coatings come last, with the reason.</p>")
        out.append(table_html(ranking))
    out.append(_section(3, a("binding"), f"{m}: {SECTION_TITLES['binding']}"))
    out.append(_figure_or_missing(
        images, figure_name(m, "binding"), f"{m} binding bar chart",
        f"dE_vs_baseline_eV per coating (negative: {m}-philic)",
        "no coating has a binding energy relative to the baseline"))
    # sites per coating
    out.append(_section(3, a("sites"), f"{m}: {SECTION_TITLES['sites']}"))
    status = ({str(r.coating): str(r.status) for r in ranking.itertuples()}
              if ranking is not None else {})
    for coating in _coatings(data):
        out.append(f"<h4>{_esc(coating)}</h4>")
        shown = False
        name = figure_name(m, "sites", coating)
        if name in images:
            shown = True
            out.append(image_html(images[name], f"{coating} site energies",
                                  f"E_b per site of {coating} ({name}.png/.svg)"))
        for slab in (s for s in data.slabs if s.coating == coating):
            top = figure_name(m, "top", coating, slab.miller, f"t{slab.termination}")
            if top in images:
                shown = True
                out.append(image_html(images[top], f"{coating} top view",
                                      f"({slab.miller}) t{slab.termination}: sites coloured "
                                      f"by E_b ({top}.png/.svg)"))
            else:
                out.append(missing_html(f"no relaxed clean slab for {coating}"
                                        f"({slab.miller}) t{slab.termination}"))
        if not shown:
            why = status.get(coating, "")
            out.append(missing_html(f"no site data for {coating}"
                                    + (f" ({why})" if why and why != "ok" else "")))
    # wetting and interfaces
    out.append(_section(3, a("wetting"), f"{m}: {SECTION_TITLES['wetting']}"))
    ifaces = t.get("interfaces")
    if ifaces is None or ifaces.empty:
        out.append(missing_html(f"no interfaces for {m} (run_interfaces: false, or none "
                                "computed)"))
    else:
        out.append(_figure_or_missing(
            images, figure_name(m, "wetting"), f"{m} W_ad against theta",
            "Young–Dupré: W_ad = sigma (1 + cos theta); best unflagged interface per coating",
            "no sigma_lv in the interfaces table (no contact angles)"))
        out.append(table_html(ifaces))
    out.append(_section(3, a("interfaces"), f"{m}: {SECTION_TITLES['interfaces']}"))
    views = [(i, figure_name(m, "interface", i.coating, i.label)) for i in data.interfaces]
    views = [(i, n) for i, n in views if n in images]
    if not views:
        out.append(missing_html(f"no relaxed interface structure for {m}"))
    for i, n in views:
        out.append(image_html(images[n], f"{i.coating} interface side view",
                              f"{_interface_title(i)} ({n}.png/.svg)"))
    # reactions and charges
    out.append(_section(3, a("reactions"), f"{m}: {SECTION_TITLES['reactions']}"))
    reactions = t.get("reactions")
    if reactions is None:
        out.append(missing_html(f"the {m} reactions table"))
    else:
        name = figure_name(m, "reactions")
        if name in images:
            out.append(image_html(images[name], f"{m} reaction energies",
                                  f"E_react per {m} atom ({name}.png/.svg)"))
        out.append(table_html(reactions))
    out.append(_section(3, a("charges"), f"{m}: {SECTION_TITLES['charges']}"))
    charges = t.get("charges")
    if charges is None or charges.empty:
        out.append(missing_html(f"no charge-transfer data for {m} (config "
                                "charge_density_difference)"))
    else:
        ok = charges["status"].fillna("").eq("ok")
        if not ok.any():
            reasons = "; ".join(sorted(set(charges["status"].fillna("").astype(str))))
            out.append(missing_html(f"no charge-density difference was computed ({reasons})"))
        out.append(table_html(charges))
    for prof in data.charge_profiles:
        name = figure_name(m, "charge", prof.coating, prof.label)
        if name in images:
            out.append(image_html(images[name], f"{prof.coating} charge profile",
                                  f"{prof.coating} {prof.label} ({name}.png/.svg)"))
    if "sites" in t and t["sites"] is not None and "adatom_charge_e" in t["sites"]:
        q = _numbers(t["sites"]["adatom_charge_e"])
        if q.notna().any():
            out.append("<p>Hirshfeld charge of the adatom per site "
                       "(e, positive: given to the substrate):</p>")
            cols = ["coating", "miller", "termination", "site", "adatom_charge_e"]
            out.append(table_html(t["sites"].loc[q.notna(), cols]))
    if data.missing:
        out.append(missing_html("; ".join(data.missing)))
    return "\n".join(out)


def _contents(screen: ScreenData) -> str:
    items = [("screen", SECTION_TITLES["screen"])]
    for m in screen.metals:
        items += [(f"{_safe(m)}-{k}", f"{m}: {SECTION_TITLES[k]}") for k in
                  ("ranking", "binding", "sites", "wetting", "interfaces", "reactions",
                   "charges")]
    items += [(k, SECTION_TITLES[k]) for k in ("terminations", "failures", "settings")]
    links = "".join(f'<li><a href="#{_esc(k)}">{_esc(v)}</a></li>' for k, v in items)
    return f"<nav><ul>{links}</ul></nav>"


def html_page(screen: ScreenData, images: dict[str, bytes],
              title: str = "philicity screen report") -> str:
    """The report page: the screen (metals, calculator, settings hash, date), per metal
    its ranking, binding chart, site charts and top views, W_ad and contact angle,
    interface side views, reactions and charge transfer, then the terminations, every flag
    and failure, and the settings and package versions. ``images``: PNG bytes by figure
    stem (:func:`figures`); a figure without its image is said to be missing.
    Self-contained: images are data URIs, style and script inline."""
    body = [f"<h1>{_esc(title)}</h1>", _contents(screen), _header(screen)]
    body += [_metal_section(d, images) for d in screen.metals.values()]
    body.append(_section(2, "terminations", SECTION_TITLES["terminations"]))
    if not screen.terminations:
        body.append(missing_html("no terminations table"))
    else:
        body.append('<p class="note">Every cut of every facet: polar cuts (dipole from the '
                    "formal oxidation states) are chosen only when a facet has no "
                    "non-polar one; <code>why</code> says why a cut was chosen.</p>")
        body.append(table_html(pd.concat(screen.terminations.values(), ignore_index=True)))
    body.append(_section(2, "failures", SECTION_TITLES["failures"]))
    fails = failures_table(screen)
    body.append(table_html(fails) if len(fails) else "<p>No flags and no failures.</p>")
    body.append(_settings(screen))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_esc(title)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(body) + f"\n<script>{SORT_JS}</script>\n</body></html>\n")
