"""Jobs of the slab stage (``workflow/rules/slabs.smk``): terminations and the relaxed
clean slab."""

from __future__ import annotations

from pathlib import Path

from ase.io import jsonio

from philicity import (
    calculators,
    energetics,
    sites,
    slabs,
    structures,
)
from philicity.config import settings_hash
from philicity.io import read_json
from philicity.jobs.common import (
    _apply_magmoms,
    _bulk_structure,
    _calc_settings,
    _finish,
    _kept_energy,
    _load_hessian,
    _ml_hessian_file,
    _outdir,
    _record,
    _relax_slab,
    _slab_single_point,
    _termination,
    write_json,
)
from philicity.relax import single_point


def select_termination(candidate_json: str | Path, structure_path: str | Path,
                       miller: str, settings: dict, out_json: str | Path,
                       options: dict | None = None) -> dict:
    """Cut every termination of one facet and choose one (lowest DFT surface energy by
    default; ``options["termination"]``). Always writes ``out_json``."""
    out_json = Path(out_json)
    cand = read_json(candidate_json)
    options = options or {}
    rec = {"name": cand["name"], "miller": miller, "structure": str(structure_path),
           "settings_hash": settings_hash(settings), "terminations": []}
    if cand["status"] != "ok":
        rec.update(status="failed", reason=cand["reason"])
        write_json(out_json, rec)
        return rec
    sl = settings["slab"]
    try:
        bulk = _bulk_structure(structure_path)
        hkl = slabs.str_to_miller(miller)
        slabs.check_slab_size(bulk, hkl, sl["min_thickness_A"], sl["max_atoms"])
        raw = slabs.generate_terminations(bulk, hkl, sl["min_thickness_A"], sl["vacuum_A"])
        built = [slabs.finish_slab(s, sl["min_lateral_A"], sl["fixed_layers"],
                                   sl["layer_tolerance_A"], sl["max_atoms"]) for s in raw]
    except (structures.CandidateError, slabs.SlabError, ValueError) as exc:
        # a CandidateError names its file; a slab problem gets the structure and facet
        reason = (str(exc) if isinstance(exc, structures.CandidateError)
                  else f"{structure_path}: miller ({miller}): {exc}")
        rec.update(status="failed", reason=reason)
        write_json(out_json, rec)
        return rec
    choice = options.get("termination", "lowest_energy")
    e_bulk_atom = None
    if choice == "lowest_energy" and len(built) > 1:
        bulk_atoms = structures.to_atoms(bulk)
        _apply_magmoms(bulk_atoms, options)
        calc_settings = _calc_settings(settings, options)
        e_bulk = _kept_energy(
            out_json.with_name("bulk_single_point.json"), bulk_atoms, settings, options,
            lambda: single_point(bulk_atoms, calculators.make_calculator(
                calc_settings, "bulk", txt=out_json.with_name("bulk_calc.txt")),
                forces=False).energy_eV)
        e_bulk_atom = e_bulk / len(bulk_atoms) if e_bulk is not None else None
    for i, slab in enumerate(built):
        entry = {"index": i, "formula": slab.get_chemical_formula(), "n_atoms": len(slab),
                 "n_layers": slab.info["n_layers"], "repeat": slab.info["repeat"],
                 "area_A2": slabs.surface_area(slab),
                 "stoichiometric": slabs.is_stoichiometric(slab, bulk),
                 "atoms": jsonio.encode(slab)}
        if e_bulk_atom is not None:
            energy = _kept_energy(
                out_json.with_name(f"t{i}_single_point.json"), slab, settings, options,
                lambda slab=slab, i=i: _slab_single_point(
                    slab, settings, options, out_json.with_name(f"t{i}_calc.txt"),
                    forces=False).energy_eV)
            entry["E_single_point_eV"] = energy
            entry["gamma_J_m2"] = (energetics.surface_energy(
                energy, len(slab), e_bulk_atom, entry["area_A2"])
                if energy is not None else None)
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
    rec.update(status="ok", selected=selected, e_bulk_per_atom_eV=e_bulk_atom)
    write_json(out_json, rec)
    return rec


def find_sites(terminations_json: str | Path, settings: dict, out_json: str | Path) -> dict:
    """The symmetry-distinct adsorption sites of each selected termination (at most
    ``sites.max_sites``, ids ``t{termination}-{name}``) and all its sites unreduced (the
    moved check compares a relaxed adatom with them). Always writes ``out_json``."""
    terms = read_json(terminations_json)
    rec = {"name": terms["name"], "miller": terms["miller"],
           "settings_hash": settings_hash(settings), "sites": [], "all_sites": {}}
    if terms["status"] != "ok":
        rec.update(status="failed", reason=terms["reason"])
        write_json(out_json, rec)
        return rec
    sc = settings["sites"]
    for i in terms["selected"]:
        slab = jsonio.decode(_termination(terms, i)["atoms"])
        found = sites.find_sites(slab, sc["kinds"], sc["symm_reduce"])
        rec["sites"] += [{**site, "termination": i, "id": f"t{i}-{site['name']}"}
                         for site in found[: sc["max_sites"]]]
        rec["all_sites"][str(i)] = sites.find_sites(slab, sc["kinds"], symm_reduce=0.0)
    rec.update(status="ok", selected=terms["selected"])
    write_json(out_json, rec)
    return rec


def relax_clean_slab(terminations_json: str | Path, termination: int, settings: dict,
                     outdir: str | Path, checkpoint: str | Path,
                     options: dict | None = None, ml: dict | None = None) -> dict:
    """Relax one clean slab (bottom layers fixed) with DFT from its bulk-terminated cut.

    With ``ml`` (the ml-then-dft strategy) BFGS starts from the ML model's Hessian at that
    cut (eV/A^2, saved beside the checkpoint) instead of ASE's stiff 70 eV/A^2 identity;
    the path and the answer stay DFT's, only the number of steps changes."""
    outdir = _outdir(outdir)
    terms = read_json(terminations_json)
    entry = _termination(terms, termination)
    atoms = jsonio.decode(entry["atoms"])
    hessian = None
    if ml is not None:
        ml_calc = calculators.make_calculator(ml["calculator"], "slab")
        hessian = _load_hessian(_ml_hessian_file(atoms, ml_calc, Path(checkpoint).parent,
                                                 Path(checkpoint).stem))
    outcome = _relax_slab(atoms, settings, options, outdir, checkpoint, hessian=hessian)
    rec = _record("clean_slab", outcome, settings, name=terms["name"], miller=terms["miller"],
                  termination=termination, area_A2=entry["area_A2"],
                  initial_hessian="default" if hessian is None else "ml")
    if outcome.energy_eV is None:
        rec.update(status="failed", reason="clean slab SCF did not converge")
    _finish(outdir, rec, outcome, checkpoint)
    return rec

