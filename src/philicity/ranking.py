"""Site tables and the ranking: records in, pandas tables out (no file access here)."""

from __future__ import annotations

import math

import pandas as pd

from philicity.energetics import binding_energy, difference_to_baseline
from philicity.wetting import contact_angle

SITE_COLUMNS = ["coating", "formula", "miller", "termination", "site", "site_kind",
                "E_b_atom_eV", "E_b_bulk_eV", "dft_stage", "ml_E_b_atom_eV", "flags",
                "polar_termination", "site_energy_mode", "height_A", "adatom_charge_e"]
RANKING_COLUMNS = ["rank", "coating", "formula", "miller", "best_site", "E_b_atom_eV",
                   "E_b_bulk_eV", "dE_vs_baseline_eV", "W_ad_J_m2", "theta_deg",
                   "wetting_regime", "E_react_eV_per_M", "reaction_products", "reactive",
                   "score", "flags", "status", "settings_hash"]
CHARGE_COLUMNS = ["coating", "part", "site", "miller", "termination", "metal_miller",
                  "charge_moved_e", "upper_hirshfeld_e", "integral_e", "cube", "status"]
REACTION_COLUMNS = ["coating", "formula", "metal", "E_react_eV_per_M", "reaction_products",
                    "reactive", "reaction", "x_metal", "phases", "status"]
TERMINATION_COLUMNS = ["coating", "miller", "termination", "formula", "n_atoms",
                       "stoichiometric", "symmetric", "polar", "dipole_e_per_A",
                       "polyanions_cut", "top_face", "gamma_J_m2", "chosen", "why", "status",
                       "origin"]
# the formula of :func:`score`, as the report prints it
SCORE_FORMULA = ("score = w_binding * (-dE_vs_baseline_eV) + w_wetting * cos(theta)"
                 " + w_reaction * (-E_react_eV_per_M)")
INTERFACE_COLUMNS = ["coating", "metal_miller", "coating_miller", "area_A2", "n_atoms",
                     "strain_pct", "registry", "W_ad_J_m2", "theta_deg", "wetting_regime",
                     "E_strain_J_m2", "flags", "W_sep_J_m2", "termination", "sigma_lv_J_m2",
                     "metal_surface_energy_J_m2", "status", "interface_stage",
                     "polar_termination"]


def interface_rows(adhesions: list[dict], sigma_J_m2: float | None,
                   dft_sigma: bool = False) -> pd.DataFrame:
    """One row per interface: W_ad (J/m^2), Young–Dupré angle and regime, strain.

    ``sigma_J_m2`` is the liquid metal's surface tension (``None``: no angle); with
    ``dft_sigma`` each interface's DFT surface energy of the metal film is used instead.
    """
    rows = []
    for rec in adhesions:
        w_ad = rec.get("W_ad_J_m2")
        sigma = rec.get("metal_surface_energy_J_m2") if dft_sigma else sigma_J_m2
        known = (w_ad is not None and not math.isnan(w_ad) and sigma is not None
                 and sigma > 0)  # a DFT film energy <= 0 (a broken film) has no angle
        theta, regime = contact_angle(w_ad, sigma) if known else (None, None)
        status = rec["status"] if rec["status"] == "ok" else f"{rec['status']}: {rec['reason']}"
        rows.append({
            "coating": rec["name"], "metal_miller": rec["metal_miller"],
            "coating_miller": rec["miller"], "area_A2": rec.get("area_A2"),
            "n_atoms": rec.get("n_atoms"), "strain_pct": rec.get("strain_pct"),
            "registry": " ".join(f"{x:.3f}" for x in rec["registry"])
            if rec.get("registry") else "",
            "W_ad_J_m2": w_ad, "theta_deg": theta, "wetting_regime": regime,
            "E_strain_J_m2": rec.get("E_strain_J_m2"), "flags": "; ".join(rec.get("flags", [])),
            "W_sep_J_m2": rec.get("W_sep_J_m2"),
            "termination": rec.get("termination", ""), "sigma_lv_J_m2": sigma,
            "metal_surface_energy_J_m2": rec.get("metal_surface_energy_J_m2"),
            "status": status,
            # dft_relaxed, or dft_at_ml: DFT single points at ML geometries; "dft_relaxed
            # (escalated)": at ML geometries W_ad lay too near a regime boundary
            "interface_stage": rec.get("interface_stage", "")
            + (" (escalated)" if rec.get("escalated") else ""),
            "polar_termination": bool(rec.get("polar_termination", False)),
        })
    df = pd.DataFrame(rows, columns=INTERFACE_COLUMNS)
    return df.sort_values(["coating", "coating_miller", "termination", "metal_miller"],
                          kind="stable", ignore_index=True)


def best_interfaces(table: pd.DataFrame) -> pd.DataFrame:
    """Per coating, the unflagged interface with the largest W_ad."""
    ok = table[(table["status"] == "ok") & (table["flags"] == "") & table["W_ad_J_m2"].notna()]
    if ok.empty:
        return ok.set_index("coating")
    return ok.loc[ok.groupby("coating")["W_ad_J_m2"].idxmax()].set_index("coating")


def site_rows(adsorbates: list[dict], formula: dict[str, str], e_atom: float,
              e_bulk_atom: float) -> pd.DataFrame:
    """One row per relaxed site with E_b vs the isolated atom and vs bulk metal (eV)."""
    rows = []
    for rec in adsorbates:
        ok = (rec["status"] == "ok" and rec.get("energy_eV") is not None
              and e_atom is not None and e_bulk_atom is not None)
        flags = list(rec.get("flags", []))
        if rec["status"] != "ok":
            flags.append(f"failed: {rec.get('reason', '')}")
        rows.append({
            "coating": rec["name"],
            "formula": formula.get(rec["name"], ""),
            "miller": rec["miller"],
            "termination": rec.get("termination", ""),
            "site": rec.get("site", ""),  # "" for a facet that failed
            "site_kind": rec.get("site_label") or rec.get("site_kind", ""),
            "E_b_atom_eV": binding_energy(rec["energy_eV"], rec["E_clean_slab_eV"], e_atom)
            if ok else None,
            "E_b_bulk_eV": binding_energy(rec["energy_eV"], rec["E_clean_slab_eV"], e_bulk_atom)
            if ok else None,
            # dft_relaxed, dft_relaxed_from_ml, dft_single_point (at the ML geometry),
            # pruned_by_ml; the ML binding energy (its own references) for comparison only
            "dft_stage": rec.get("stage", "dft_relaxed"),
            "ml_E_b_atom_eV": rec.get("ml_E_b_atom_eV"),
            "flags": "; ".join(flags),
            # on the least polar cut of a facet without a non-polar one (dipole-corrected)
            "polar_termination": bool(rec.get("polar_termination", False)),
            "site_energy_mode": "free",
            "height_A": math.nan,
            # Hirshfeld, e: positive = electrons given to the substrate (GPAW only)
            "adatom_charge_e": rec.get("adatom_charge_e"),
        })
    df = pd.DataFrame(rows, columns=SITE_COLUMNS)
    return df.sort_values(["coating", "miller", "termination", "site"], kind="stable",
                          ignore_index=True)


def site_energy_rows(records: list[dict], formula: dict[str, str], e_atom: float | None,
                     e_bulk_atom: float | None) -> pd.DataFrame:
    """The laterally held site energies (``site_energies`` records, one per termination
    and metal) as rows of the sites table, ``site_energy_mode`` ``lateral_fixed``: E_b vs
    the isolated atom and vs bulk metal (eV), the adatom's height above the top substrate
    atom (A); a failed record is one row with its reason."""
    rows = []
    for rec in records:
        base = {"coating": rec["name"], "formula": formula.get(rec["name"], ""),
                "miller": rec["miller"], "termination": rec.get("termination", ""),
                "polar_termination": bool(rec.get("polar_termination", False)),
                "site_energy_mode": "lateral_fixed"}
        if rec["status"] != "ok":
            rows.append({**base, "site": "", "flags": f"failed: {rec.get('reason', '')}"})
            continue
        for item in rec["sites"]:
            ok = item.get("energy_eV") is not None and None not in (e_atom, e_bulk_atom)
            rows.append({**base, "site": item["site"], "site_kind": item["site_label"],
                         "E_b_atom_eV": binding_energy(item["energy_eV"],
                                                       rec["E_clean_slab_eV"], e_atom)
                         if ok else None,
                         "E_b_bulk_eV": binding_energy(item["energy_eV"],
                                                       rec["E_clean_slab_eV"], e_bulk_atom)
                         if ok else None,
                         "dft_stage": item["stage"], "flags": "; ".join(item.get("flags", [])),
                         "height_A": item.get("height_A")})
    return pd.DataFrame(rows, columns=SITE_COLUMNS)


# Flags that describe where a converged DFT relaxation ended, not a failed calculation:
# its energy is that of a real minimum (the adatom went to another site, or the surface
# rearranged under it). A coating whose every site carries one is ranked on the lowest
# such site, and its status says so; desorbed or unconverged sites never rank.
PHYSICAL_FLAGS = ("moved", "reconstructed")


def only_physical(flags: str) -> bool:
    """Flags (``; ``-joined) that are all :data:`PHYSICAL_FLAGS` (and at least one)."""
    parts = [f.strip() for f in flags.split(";") if f.strip()]
    return bool(parts) and all(f.split(" ")[0] in PHYSICAL_FLAGS for f in parts)


def site_tier(stage: str | None, flags: str) -> int | None:
    """Where a site stands in the choice of its coating's best site (lower first): 0 an
    unflagged relaxed site, 1 a relaxed one whose flags (``; ``-joined) are all
    :data:`PHYSICAL_FLAGS`, 2 an unflagged DFT single point (``stage``
    ``dft_single_point``: a site ml-then-dft did not relax, an upper bound on its E_b);
    None: not usable. A single point never outranks a relaxed site: the sites relaxed are
    those whose single points were lowest, and relaxing only lowers them."""
    relaxed = stage != "dft_single_point"
    if not flags:
        return 0 if relaxed else 2
    return 1 if relaxed and only_physical(flags) else None


def best_sites(table: pd.DataFrame) -> pd.DataFrame:
    """Per coating (over all facets), the freely relaxed site with the lowest E_b vs the
    atom among those of its best :func:`site_tier`. The laterally held site energies do
    not rank."""
    free = table[table["E_b_atom_eV"].notna() & (table["site_energy_mode"] == "free")]
    tier = pd.Series([site_tier(s, f)
                      for s, f in zip(free["dft_stage"], free["flags"], strict=True)],
                     index=free.index, dtype=float)
    free = free[tier.notna()]
    tier = tier[tier.notna()]
    usable = free[tier == tier.groupby(free["coating"]).transform("min")]
    if usable.empty:
        return usable
    idx = usable.groupby("coating")["E_b_atom_eV"].idxmin()
    return usable.loc[idx].set_index("coating")


def score(dE_vs_baseline_eV: float | None, theta_deg: float | None, weights: dict,
          E_react_eV_per_M: float | None = None) -> float | None:
    """Score (higher = more metal-philic) = w_binding * (-dE_vs_baseline / 1 eV)
    + w_wetting * cos(theta) + w_reaction * (-E_react / 1 eV per metal atom); a missing
    term counts zero, all missing gives None. The reaction term only adds to a score the
    other terms made (a reaction energy alone does not rank a coating)."""
    terms = []
    if dE_vs_baseline_eV is not None and not math.isnan(dE_vs_baseline_eV):
        terms.append(-weights["binding"] * dE_vs_baseline_eV)
    if theta_deg is not None and not math.isnan(theta_deg):
        terms.append(weights["wetting"] * math.cos(math.radians(theta_deg)))
    if not terms:
        return None
    if E_react_eV_per_M is not None and not math.isnan(E_react_eV_per_M):
        terms.append(-weights.get("reaction", 0.0) * E_react_eV_per_M)
    return sum(terms)


def reaction_rows(metal: str, formulas: dict[str, str], needed: dict[str, list[str]],
                  records: dict[str, dict]) -> pd.DataFrame:
    """One row per coating: the reaction driving force of ``metal`` with it
    (``reactions.reaction_energy``). ``formulas``: coating -> reduced formula; ``needed``:
    coating -> keys of the phases its reaction needs (none: nothing can form, 0 eV);
    ``records``: phase key -> its energy record (``energy_eV`` of the cell, ``formula``).
    A phase whose job failed, or a missing elemental reference, leaves the energy empty
    with the reason in ``status``."""
    from philicity.reactions import ReactionError, reaction_energy

    rows = []
    for coating, keys in needed.items():
        row = {"coating": coating, "formula": formulas.get(coating, ""), "metal": metal,
               "phases": " ".join(keys), "E_react_eV_per_M": None, "reactive": None}
        if not keys:
            rows.append({**row, "E_react_eV_per_M": 0.0, "reactive": False,
                         "status": f"ok, no phase of {metal} with the coating's elements "
                                   "among the structures"})
            continue
        failed = [f"{k}: {records[k].get('reason')}" for k in keys
                  if records[k].get("status") != "ok" or records[k].get("energy_eV") is None]
        if failed:
            rows.append({**row, "status": "failed: " + "; ".join(failed)})
            continue
        try:
            result = reaction_energy(metal, formulas[coating], {
                k: (records[k]["formula"], records[k]["energy_eV"]) for k in keys})
        except ReactionError as exc:
            rows.append({**row, "status": f"failed: {exc}"})
            continue
        rows.append({**row, **{k: v for k, v in result.items() if k != "products"},
                     "reaction_products": result["products"], "status": "ok"})
    return pd.DataFrame(rows, columns=REACTION_COLUMNS)


def ranking(candidates: list[dict], table: pd.DataFrame, baseline_E_b_atom_eV: float | None,
            weights: dict, settings_hash_: str,
            interfaces: pd.DataFrame | None = None, metal: str | None = None,
            references_failed: str = "", reactions: pd.DataFrame | None = None
            ) -> pd.DataFrame:
    """One row per coating, sorted by score; failed candidates at the bottom with the reason.

    With an ``interfaces`` table (:func:`interface_rows`) the best unflagged interface
    gives W_ad, theta and the regime; an interface that could not be built or computed
    is named in ``status`` while the binding term still ranks the coating. A coating that
    is the anode ``metal`` itself is listed unranked (its surfaces are the baseline); with
    ``references_failed`` (the metal's atom or bulk failed) no coating can be ranked.
    With a ``reactions`` table (:func:`reaction_rows`) each row carries the coating's
    reaction driving force and products; a reactive coating says so in ``status``.
    """
    best = best_sites(table)
    if interfaces is None:
        interfaces = pd.DataFrame(columns=INTERFACE_COLUMNS)
    best_iface = best_interfaces(interfaces)
    rows = []
    for cand in candidates:
        name = cand["name"]
        sub = table[(table["coating"] == name) & (table["site_energy_mode"] == "free")]
        n_flagged = int((sub["flags"] != "").sum())
        flag_text = "; ".join(f"{r.site}@{r.miller}: {r.flags}" for r in sub.itertuples()
                              if r.flags)
        row = {"coating": name, "formula": cand.get("formula", ""), "miller": "",
               "best_site": "", "E_b_atom_eV": None, "E_b_bulk_eV": None,
               "dE_vs_baseline_eV": None, "W_ad_J_m2": None, "theta_deg": None,
               "wetting_regime": None, "score": None,
               "flags": f"{n_flagged}/{len(sub)} sites flagged: {flag_text}" if n_flagged else "",
               "settings_hash": settings_hash_}
        if cand["status"] != "ok":
            row["status"] = f"failed: {cand['reason']}"
        elif metal is not None and cand.get("elements") == [metal]:
            row["status"] = (f"not ranked: {name} is the anode metal {metal} itself (its "
                             "own surfaces are the baseline)")
        elif references_failed:
            row["status"] = f"failed: {references_failed}"
        elif name not in best.index:
            failures = sorted({f for f in sub["flags"] if f.startswith("failed: ")})
            row["status"] = ("; ".join(failures) if failures
                             else "failed: no site relaxed without a flag" if len(sub)
                             else "failed: no sites")
        else:
            b = best.loc[name]
            d = (difference_to_baseline(b["E_b_atom_eV"], baseline_E_b_atom_eV)
                 if baseline_E_b_atom_eV is not None else None)
            row.update(miller=b["miller"], best_site=b["site"], E_b_atom_eV=b["E_b_atom_eV"],
                       E_b_bulk_eV=b["E_b_bulk_eV"], dE_vs_baseline_eV=d, status="ok")
            if b["flags"]:
                row["status"] = (f"ok, every site flagged: ranked on {b['site']}, which "
                                 f"ended {b['flags']}")
            elif b["dft_stage"] == "dft_single_point":
                row["status"] = (f"ok, no relaxed site usable: ranked on {b['site']}'s DFT "
                                 "single point at the ML geometry (unrelaxed: E_b an upper "
                                 "bound)")
            if b["polar_termination"]:
                row["status"] += (f"{'; ' if row['status'] != 'ok' else ', '}polar "
                                  f"termination: ({b['miller']}) has no non-polar cut; its "
                                  "least polar one, dipole-corrected")
        mine = interfaces[interfaces["coating"] == name]
        if name in best_iface.index:
            i = best_iface.loc[name]
            row.update(W_ad_J_m2=i["W_ad_J_m2"], theta_deg=i["theta_deg"],
                       wetting_regime=i["wetting_regime"])
        elif len(mine) and row["status"].startswith("ok"):
            problems = "; ".join(f"{r.status if r.status != 'ok' else r.flags}"
                                 for r in mine.itertuples())
            row["status"] += (f"{'; ' if row['status'] != 'ok' else ', '}no usable "
                              f"interface: {problems}")
        if reactions is not None and name in set(reactions["coating"]):
            r = reactions.set_index("coating").loc[name]
            row.update(E_react_eV_per_M=r["E_react_eV_per_M"],
                       reaction_products=r["reaction_products"], reactive=r["reactive"])
            if pd.notna(r["reactive"]) and bool(r["reactive"]) and row["status"].startswith("ok"):
                row["status"] += (f"{'; ' if row['status'] != 'ok' else ', '}reactive: "
                                  f"{metal} forms {r['reaction_products']} "
                                  f"({r['E_react_eV_per_M']:.3f} eV per {metal}), which is "
                                  "what the metal then sees")
        if row["status"].startswith("ok"):
            row["score"] = score(row["dE_vs_baseline_eV"], row["theta_deg"], weights,
                                 row.get("E_react_eV_per_M"))
            if row["score"] is None:  # listed after the ranked rows, without a rank
                row["status"] += (f"{'; ' if row['status'] != 'ok' else ', '}not scored: "
                                  "no dE_vs_baseline (no usable baseline site) and no "
                                  "contact angle")
        rows.append(row)
    df = pd.DataFrame(rows, columns=[c for c in RANKING_COLUMNS if c != "rank"])
    if df.empty:
        return pd.DataFrame(columns=RANKING_COLUMNS)
    df["_failed"] = ~df["status"].str.startswith("ok")
    df = df.sort_values(["_failed", "score", "coating"], ascending=[True, False, True],
                        na_position="last", kind="stable", ignore_index=True)
    df["rank"] = [i + 1 if not failed and pd.notna(value) else None
                  for i, (failed, value) in enumerate(zip(df["_failed"], df["score"],
                                                          strict=True))]
    df["rank"] = df["rank"].astype("Int64")
    return df[RANKING_COLUMNS]


def run_summary(rankings: dict[str, pd.DataFrame], max_reason: int = 160) -> tuple[str, int]:
    """The end-of-run summary of each metal's ranking table: the coatings ranked (best
    first), failed (with their reason), with flagged sites, and not ranked. Returns the text
    and the number of failed rows (what ``strict`` turns into a non-zero exit code)."""

    def short(text: str) -> str:
        return text if len(text) <= max_reason else text[: max_reason - 3] + "..."

    lines, problems = [], 0
    for metal, df in rankings.items():
        status = df["status"].fillna("").astype(str)
        ranked = df[df["rank"].notna()]
        failed = df[status.str.startswith("failed")]
        flagged = ranked[ranked["flags"].fillna("").astype(str) != ""]
        unranked = df[status.str.startswith("not ranked")]
        unscored = df[df["rank"].isna() & status.str.startswith("ok")]
        lines.append(f"{metal}: {len(ranked)} coatings ranked, {len(failed)} failed, "
                     f"{len(flagged)} with flagged sites")
        if len(ranked):
            best = ", ".join(f"{r.coating} ({r.score:.3f})" if pd.notna(r.score)
                             else r.coating for r in ranked.head(5).itertuples())
            lines.append(f"  best: {best}")
        lines += [f"  failed: {r.coating}: {short(str(r.status)[len('failed: '):])}"
                  for r in failed.itertuples()]
        lines += [f"  flagged: {r.coating}: {str(r.flags).split(':')[0]}"
                  for r in flagged.itertuples()]
        lines += [f"  {short(str(r.status))}" for r in unranked.itertuples()]
        lines += [f"  not scored: {r.coating}" for r in unscored.itertuples()]
        lines += [f"  note: {r.coating}: {short(str(r.status))}" for r in ranked.itertuples()
                  if str(r.status) != "ok"]
        problems += len(failed)
    return "\n".join(lines), problems


def baseline_binding(baseline: pd.DataFrame, reference_miller: str) -> float | None:
    """E_b (eV, vs the isolated atom) of the anode metal's adatom on its own
    ``reference_miller`` surface: its best site as :func:`best_sites` picks a coating's
    (an adatom that moved to another site on the soft metal still ended in a real
    minimum); None if none has an energy."""
    best = best_sites(baseline[baseline["miller"] == reference_miller])
    return float(best["E_b_atom_eV"].min()) if len(best) else None


def ranking_markdown(metal: str, ranked: pd.DataFrame, reference_miller: str,
                     baseline_E_b_atom_eV: float | None, e_atom_eV: float | None,
                     e_bulk_eV_per_atom: float | None, settings_hash_: str, weights: dict,
                     sigma_J_m2: float | None, sigma_source: str) -> str:
    """The ranking as a Markdown page: how it was computed, then the table."""
    e_base = baseline_E_b_atom_eV
    header = (f"# {metal}: coatings ranked by score\n\n"
              f"Baseline: {metal} adatom on {metal}({reference_miller}), best unflagged site, "
              f"E_b = {e_base if e_base is None else round(e_base, 3)} eV vs the isolated atom "
              f"(E_atom = {e_atom_eV} eV, E_bulk = {e_bulk_eV_per_atom} eV/atom). "
              f"Settings hash {settings_hash_}.\n\n"
              f"{SCORE_FORMULA}; weights {weights}. theta from Young-Dupre with sigma_lv = "
              f"{'-' if sigma_J_m2 is None else round(sigma_J_m2, 4)} J/m^2 "
              f"({sigma_source}). Empty cells: not computed or failed (see status).\n\n")
    return header + ranked.to_markdown(index=False, floatfmt=".3f") + "\n"


def termination_rows(records: list[dict]) -> pd.DataFrame:
    """One row per facet and termination of one coating (its terminations.json records):
    what was cut (``origin``: a plain cut, ``flipped t<i>`` or ``tasker2 t<i>`` made from
    cut i, or ``repaired``), its polarity, broken polyanions, exposed face, surface energy (J/m^2,
    where computed), and which was chosen and why; a failed facet is one row with the
    reason."""
    rows = []
    for rec in records:
        if rec.get("status") != "ok":
            rows.append({"coating": rec.get("name"), "miller": rec.get("miller"),
                         "status": f"failed: {rec.get('reason')}"})
            continue
        for t in rec["terminations"]:
            chosen = t["index"] in rec["selected"]
            origin = t.get("origin", "cut")
            rows.append({"coating": rec["name"], "miller": rec["miller"],
                         "termination": t["index"], "status": "ok", "chosen": chosen,
                         "why": rec.get("why", "") if chosen else "",
                         "origin": origin if origin in ("cut", "repaired")
                         else f"{origin} t{t['source']}",
                         **{k: t.get(k) for k in TERMINATION_COLUMNS[3:12]}})
    return pd.DataFrame(rows, columns=TERMINATION_COLUMNS)


def charge_rows(records: list[dict], folder_of: dict[str, str]) -> pd.DataFrame:
    """One row per charge-density difference (``jobs.charges.charge_transfer`` records):
    the coating's best site (``part`` site) or an interface, the electrons moved across the
    plane between the parts (e, positive toward the substrate), the upper part's Hirshfeld
    charge (e), the difference's integral (e, zero up to the grid's error) and the cube
    file (in ``folder_of[coating]``); a skipped or failed part with its reason."""
    rows = []
    for rec in records:
        if rec.get("status") != "ok" and not rec.get("parts"):  # the job itself failed
            rows.append({"coating": rec["name"],
                         "status": f"{rec.get('status')}: {rec.get('reason', '')}",
                         "cube": ""})
        for part in rec.get("parts", []):
            status = part["status"] if part["status"] == "ok" else (
                f"{part['status']}: {part.get('reason', '')}")
            rows.append({"coating": rec["name"], "status": status,
                         "cube": f"{folder_of[rec['name']]}/{part['cube']}"
                         if part.get("cube") else "",
                         **{k: part.get(k) for k in CHARGE_COLUMNS[1:9]}})
    return pd.DataFrame(rows, columns=CHARGE_COLUMNS)
