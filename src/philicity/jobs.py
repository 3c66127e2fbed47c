"""One function per Snakemake rule: read inputs, call the science, write one folder.

Each function takes plain paths and dicts (no ``snakemake`` object, no global
config), so it runs the same from a Snakemake script, a test or a notebook.
Problems with a candidate's input are written as ``status: failed`` records
with the reason, so the ranking can list the candidate instead of losing it.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

from ase import Atoms
from ase.filters import FrechetCellFilter
from ase.io import jsonio, read
from ase.optimize import BFGS

from philicity import calculators, energetics, quality, sites, slabs, structures
from philicity.config import settings_hash
from philicity.io import collect_database, read_json, versions, write_atoms, write_json
from philicity.relax import Outcome, relax, single_point

__all__ = ["check_candidate", "collect_database", "compute_atom", "compute_bulk",
           "relax_adsorbate", "relax_clean_slab", "report_metal", "select_termination"]


def _outdir(path: str | Path) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _calc_settings(settings: dict, options: dict | None = None) -> dict:
    """Calculator settings for one candidate: magnetic moments switch spin on."""
    calc = copy.deepcopy(settings["calculator"])
    if options and options.get("magmoms"):
        calc["spinpol"] = True
    return calc


def _apply_magmoms(atoms: Atoms, options: dict | None) -> None:
    moments = (options or {}).get("magmoms") or {}
    if moments:
        atoms.set_initial_magnetic_moments([moments.get(s, 0.0) for s in atoms.symbols])


def _record(kind: str, outcome: Outcome | None, settings: dict, **fields) -> dict:
    rec = {
        "kind": kind,
        "status": "ok",
        "settings": settings,
        "settings_hash": settings_hash(settings),
        "versions": versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if outcome is not None:
        rec.update(
            energy_eV=outcome.energy_eV,
            fmax_eV_A=outcome.fmax_eV_A,
            steps=outcome.steps,
            resumed_steps=outcome.resumed_steps,
            relax_converged=outcome.relax_converged,
            scf_converged=outcome.scf_converged,
            scf_iterations=outcome.scf_iterations,
            wall_s=round(outcome.wall_s, 2),
            n_atoms=len(outcome.atoms),
            formula=outcome.atoms.get_chemical_formula(),
        )
        if outcome.error:
            rec["error"] = outcome.error
    rec.update(fields)
    return rec


def _finish(outdir: Path, rec: dict, outcome: Outcome | None,
            checkpoint: str | Path | None = None) -> None:
    """Write the structure, keep the trajectory, and write the record last: a record
    means the folder is complete."""
    if outcome is not None:
        write_atoms(outdir / "final.extxyz", outcome.atoms)
    if checkpoint is not None and Path(checkpoint).exists():
        Path(checkpoint).replace(outdir / "relax.traj")
    write_json(outdir / "record.json", rec)


def check_candidate(cif: str | Path, name: str, options: dict, settings: dict,
                    out_json: str | Path, preflight_error: str | None = None) -> dict:
    """Validate one CIF (+ sidecar) for the configured calculator; always writes a record.

    ``preflight_error`` carries a problem found while the workflow was planned
    (a broken sidecar YAML), so it lands in the ranking like any other.
    """
    rec = {"name": name, "cif": str(cif), "options": options}
    try:
        if preflight_error:
            raise structures.CandidateError(cif, preflight_error)
        structure = structures.read_structure(cif)
        missing = calculators.unsupported_elements(structures.elements(structure),
                                                   settings["calculator"])
        if missing:
            raise structures.CandidateError(
                cif, f"elements {missing} cannot be treated by the "
                f"{settings['calculator']['name']} calculator "
                f"({settings['calculator'].get('xc', '')} setups)",
            )
        rec.update(status="ok", formula=structure.composition.reduced_formula,
                   elements=structures.elements(structure), n_atoms=len(structure))
    except structures.CandidateError as exc:
        rec.update(status="failed", reason=str(exc))
    write_json(out_json, rec)
    return rec


def compute_atom(metal: str, settings: dict, outdir: str | Path) -> dict:
    """Isolated spin-polarized atom in a box: the literature's E_b reference."""
    outdir = _outdir(outdir)
    atoms = structures.isolated_atom(metal, settings["calculator"]["atom_box_A"])
    calc = calculators.make_calculator(settings["calculator"], "atom", txt=outdir / "calc.txt")
    outcome = single_point(atoms, calc, forces=False)
    rec = _record("atom", outcome, settings, metal=metal,
                  magmom=float(outcome.atoms.calc.get_magnetic_moment())
                  if outcome.energy_eV is not None and settings["calculator"]["name"] == "gpaw"
                  else None)
    _finish(outdir, rec, outcome)
    return rec


def compute_bulk(cif: str | Path, metal: str, settings: dict, outdir: str | Path) -> dict:
    """Bulk anode metal: energy per atom, with the lattice relaxed if the config asks."""
    outdir = _outdir(outdir)
    atoms = structures.to_atoms(structures.read_structure(cif))
    calc = calculators.make_calculator(settings["calculator"], "bulk", txt=outdir / "calc.txt")
    if settings["bulk"]["relax_lattice"]:
        start = time.perf_counter()
        atoms.calc = calc
        opt = BFGS(FrechetCellFilter(atoms), logfile=str(outdir / "opt.log"))
        converged = bool(opt.run(fmax=settings["bulk"]["fmax_eV_A"], steps=100))
        outcome = single_point(atoms, calc)
        outcome.steps, outcome.relax_converged = opt.nsteps, converged
        outcome.wall_s += time.perf_counter() - start
    else:
        outcome = single_point(atoms, calc)
    e_atom = (energetics.energy_per_atom(outcome.energy_eV, len(atoms))
              if outcome.energy_eV is not None else None)
    rec = _record("bulk", outcome, settings, metal=metal, energy_per_atom_eV=e_atom,
                  lattice_A=outcome.atoms.cell.cellpar()[:3].tolist())
    if e_atom is None:
        rec.update(status="failed", reason="bulk SCF did not converge")
    _finish(outdir, rec, outcome)
    return rec


def select_termination(candidate_json: str | Path, structure_path: str | Path,
                       miller: str, settings: dict, out_json: str | Path) -> dict:
    """Cut every termination of one facet, choose one (lowest DFT surface energy by default)
    and list its symmetry-distinct adsorption sites. Always writes ``out_json``."""
    out_json = Path(out_json)
    cand = read_json(candidate_json)
    options = cand.get("options", {})
    rec = {"name": cand["name"], "miller": miller, "structure": str(structure_path),
           "settings_hash": settings_hash(settings), "terminations": []}
    if cand["status"] != "ok":
        rec.update(status="failed", reason=cand["reason"])
        write_json(out_json, rec)
        return rec
    sl = settings["slab"]
    try:
        bulk = (structures.read_structure(structure_path)
                if str(structure_path).endswith(".cif")
                else structures.AseAtomsAdaptor.get_structure(read(structure_path)))
        raw = slabs.generate_terminations(bulk, slabs.str_to_miller(miller),
                                          sl["min_thickness_A"], sl["vacuum_A"])
        built = [slabs.finish_slab(s, sl["min_lateral_A"], sl["fixed_layers"],
                                   sl["layer_tolerance_A"], sl["max_atoms"]) for s in raw]
    except (slabs.SlabError, structures.CandidateError, ValueError) as exc:
        rec.update(status="failed", reason=f"{structure_path}: miller ({miller}): {exc}")
        write_json(out_json, rec)
        return rec
    choice = options.get("termination", "lowest_energy")
    e_bulk_atom = None
    if choice == "lowest_energy" and len(built) > 1:
        bulk_atoms = structures.to_atoms(bulk)
        _apply_magmoms(bulk_atoms, options)
        calc_settings = _calc_settings(settings, options)
        out = single_point(bulk_atoms, calculators.make_calculator(
            calc_settings, "bulk", txt=out_json.with_name("bulk_calc.txt")), forces=False)
        e_bulk_atom = out.energy_eV / len(bulk_atoms) if out.energy_eV is not None else None
    for i, slab in enumerate(built):
        entry = {"index": i, "formula": slab.get_chemical_formula(), "n_atoms": len(slab),
                 "n_layers": slab.info["n_layers"], "repeat": slab.info["repeat"],
                 "area_A2": slabs.surface_area(slab),
                 "stoichiometric": slabs.is_stoichiometric(slab, bulk),
                 "atoms": jsonio.encode(slab)}
        if e_bulk_atom is not None:
            _apply_magmoms(slab, options)
            out = single_point(slab, calculators.make_calculator(
                _calc_settings(settings, options), "slab",
                txt=out_json.with_name(f"t{i}_calc.txt")), forces=False)
            entry["E_single_point_eV"] = out.energy_eV
            entry["gamma_J_m2"] = (energetics.surface_energy(
                out.energy_eV, len(slab), e_bulk_atom, entry["area_A2"])
                if out.energy_eV is not None else None)
        rec["terminations"].append(entry)
    if choice == "all":
        selected = list(range(len(built)))
    elif isinstance(choice, int):
        if choice >= len(built):
            rec.update(status="failed", reason=f"{structure_path}: miller ({miller}) has "
                       f"{len(built)} terminations; termination {choice} does not exist")
            write_json(out_json, rec)
            return rec
        selected = [choice]
    elif e_bulk_atom is None:
        selected = [0]
    else:
        # stoichiometric terminations first: their surface energy is well defined
        ranked = sorted(
            (t for t in rec["terminations"] if t.get("gamma_J_m2") is not None),
            key=lambda t: (not t["stoichiometric"], t["gamma_J_m2"]),
        )
        selected = [ranked[0]["index"]] if ranked else [0]
    rec["selected"] = selected
    rec["sites"] = []
    for i in selected:
        slab = built[i]
        found = sites.find_sites(slab, settings["sites"]["kinds"], settings["sites"]["symm_reduce"])
        for site in found[: settings["sites"]["max_sites"]]:
            rec["sites"].append({**site, "termination": i, "id": f"t{i}-{site['name']}"})
        rec["terminations"][i]["all_sites"] = sites.find_sites(
            slab, settings["sites"]["kinds"], symm_reduce=0.0)
    rec.update(status="ok", e_bulk_per_atom_eV=e_bulk_atom)
    write_json(out_json, rec)
    return rec


def _termination(terminations: dict, index: int) -> dict:
    return next(t for t in terminations["terminations"] if t["index"] == index)


def _relax_slab(atoms: Atoms, settings: dict, options: dict | None, outdir: Path,
                checkpoint: str | Path) -> Outcome:
    """Relax a slab (with or without adatom) with the configured calculator and optimizer."""
    _apply_magmoms(atoms, options)
    calc = calculators.make_calculator(_calc_settings(settings, options), "slab",
                                       txt=outdir / "calc.txt")
    rx = settings["relax"]
    return relax(atoms, calc, rx["fmax_eV_A"], rx["steps"], checkpoint, rx["optimizer"],
                 log=outdir / "opt.log")


def relax_clean_slab(terminations_json: str | Path, termination: int, settings: dict,
                     outdir: str | Path, checkpoint: str | Path,
                     options: dict | None = None) -> dict:
    """Relax one clean slab (bottom layers fixed)."""
    outdir = _outdir(outdir)
    terms = read_json(terminations_json)
    entry = _termination(terms, termination)
    outcome = _relax_slab(jsonio.decode(entry["atoms"]), settings, options, outdir, checkpoint)
    rec = _record("clean_slab", outcome, settings, name=terms["name"], miller=terms["miller"],
                  termination=termination, area_A2=entry["area_A2"])
    if outcome.energy_eV is None:
        rec.update(status="failed", reason="clean slab SCF did not converge")
    _finish(outdir, rec, outcome, checkpoint)
    return rec


def relax_adsorbate(terminations_json: str | Path, clean_dir: str | Path, site_id: str,
                    metal: str, settings: dict, outdir: str | Path, checkpoint: str | Path,
                    options: dict | None = None) -> dict:
    """Place one ``metal`` adatom on a site of the relaxed clean slab, relax, and flag."""
    outdir = _outdir(outdir)
    terms = read_json(terminations_json)
    site = next(s for s in terms["sites"] if s["id"] == site_id)
    entry = _termination(terms, site["termination"])
    clean_rec = read_json(Path(clean_dir) / "record.json")
    fields = {"name": terms["name"], "miller": terms["miller"], "metal": metal,
              "termination": site["termination"], "site": site_id, "site_kind": site["kind"]}
    if clean_rec["status"] != "ok":
        rec = _record("adsorbate", None, settings, **fields, status="failed",
                      reason=f"clean slab failed: {clean_rec.get('reason')}")
        _finish(outdir, rec, None)
        return rec
    clean = read(Path(clean_dir) / "final.extxyz")
    unrelaxed = jsonio.decode(entry["atoms"])  # carries the fixed layers and tags
    clean.set_constraint(unrelaxed.constraints)
    clean.set_tags(unrelaxed.get_tags())
    initial = sites.place_adatom(clean, site, metal, settings["sites"]["height_scale"])
    outcome = _relax_slab(initial, settings, options, outdir, checkpoint)
    flags = quality.site_flags(initial, outcome.atoms, clean, entry.get("all_sites", []),
                               site["kind"], settings["quality"], outcome.scf_converged,
                               outcome.relax_converged)
    rec = _record("adsorbate", outcome, settings, **fields, flags=flags,
                  E_clean_slab_eV=clean_rec["energy_eV"],
                  adatom_start_A=initial.positions[-1].tolist(),
                  adatom_final_A=outcome.atoms.positions[-1].tolist())
    _finish(outdir, rec, outcome, checkpoint)
    return rec


def report_metal(metal: str, candidate_jsons: list, adsorbate_jsons: list,
                 baseline_jsons: list, atom_json: str | Path, bulk_json: str | Path,
                 reference_miller: str, settings: dict, weights: dict,
                 sites_csv: str | Path, baseline_csv: str | Path, ranking_csv: str | Path,
                 ranking_md: str | Path) -> None:
    """Write the site table, the baseline table and the ranking of one anode metal."""
    from philicity import ranking
    from philicity.io import atomic_write_text

    atom, bulk = read_json(atom_json), read_json(bulk_json)
    e_atom, e_bulk = atom.get("energy_eV"), bulk.get("energy_per_atom_eV")
    candidates = [read_json(p) for p in candidate_jsons]
    formula = {c["name"]: c.get("formula", "") for c in candidates}
    table = ranking.site_rows([read_json(p) for p in adsorbate_jsons], formula, e_atom, e_bulk)
    base = ranking.site_rows([read_json(p) for p in baseline_jsons], {metal: metal},
                             e_atom, e_bulk)
    ref = base[(base["miller"] == reference_miller) & (base["flags"] == "")]
    e_base = float(ref["E_b_atom_eV"].min()) if ref["E_b_atom_eV"].notna().any() else None
    ranked = ranking.ranking(candidates, table, e_base, weights, settings_hash(settings))
    atomic_write_text(sites_csv, table.to_csv(index=False, float_format="%.4f"))
    atomic_write_text(baseline_csv, base.to_csv(index=False, float_format="%.4f"))
    atomic_write_text(ranking_csv, ranked.to_csv(index=False, float_format="%.4f"))
    header = (f"# {metal}: coatings ranked by score\n\n"
              f"Baseline: {metal} adatom on {metal}({reference_miller}), best unflagged site, "
              f"E_b = {e_base if e_base is None else round(e_base, 3)} eV vs the isolated atom "
              f"(E_atom = {e_atom} eV, E_bulk = {e_bulk} eV/atom). "
              f"Settings hash {settings_hash(settings)}.\n\n"
              "score = w_binding * (-dE_vs_baseline_eV) + w_wetting * cos(theta); "
              f"weights {weights}. Empty cells: not computed yet (W_ad, theta) or failed.\n\n")
    atomic_write_text(ranking_md, header + ranked.to_markdown(index=False, floatfmt=".3f")
                      + "\n")
