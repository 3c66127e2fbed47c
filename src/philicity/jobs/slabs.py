"""Jobs of the slab stage (``workflow/rules/slabs.smk``): terminations, sites and the
relaxed clean slab."""

from __future__ import annotations

import functools
from pathlib import Path

from ase.io import jsonio

from philicity import calculators, energetics, sites, slabs, structures
from philicity.config import settings_hash
from philicity.files import read_json
from philicity.jobs.dft import (
    bulk_single_point,
    kept_energy,
    load_hessian,
    ml_hessian_file,
    ml_relaxed_file,
    relax_structure,
    slab_single_point,
)
from philicity.jobs.mpi import write_json
from philicity.jobs.records import (
    CleanSlabRecord,
    SitesRecord,
    TerminationsRecord,
    bulk_structure,
    ensure_dir,
    finish,
    record,
    termination_of,
    termination_options,
    upstream_failure,
    write_failed,
)


def select_termination(candidate_json: str | Path, structure_path: str | Path,
                       miller: str, settings: dict, out_json: str | Path,
                       options: dict | None = None) -> TerminationsRecord:
    """Cut every termination of one facet, with its polarity, broken polyanions and
    exposed face (``slabs.termination_properties``, from formal oxidation states:
    ``options["oxidation_states"]`` or pymatgen's guess) and, where they decide the
    choice (``slabs.terminations_to_compare``), its surface energy (J/m^2, DFT single
    points), and choose (``slabs.choose_termination``; ``options["termination"]``).
    Always writes ``out_json``."""
    out_json = Path(out_json)
    cand = read_json(candidate_json)
    options = options or {}
    rec = {"name": cand["name"], "miller": miller, "structure": str(structure_path),
           "settings_hash": settings_hash(settings), "terminations": []}
    if upstream_failure(candidate=cand):
        return write_failed(out_json, rec, cand["reason"])
    sl = settings["slab"]
    choice = options.get("termination", "lowest_energy")
    try:
        bulk = bulk_structure(structure_path)
        hkl = slabs.str_to_miller(miller)
        slabs.check_slab_size(bulk, hkl, sl["min_thickness_A"], sl["max_atoms"])
        oxidation = slabs.oxidation_states(bulk, options.get("oxidation_states"))
        found = slabs.candidate_terminations(bulk, hkl, sl["min_thickness_A"],
                                             sl["vacuum_A"], oxidation,
                                             sl["layer_tolerance_A"])
        raw = [slab for slab, _ in found]
        built = [slabs.finish_slab(s, sl["min_lateral_A"], sl["fixed_layers"],
                                   sl["layer_tolerance_A"], sl["max_atoms"]) for s in raw]
        if isinstance(choice, int):  # before any DFT: does the facet have it?
            slabs.choose_termination([{"index": i} for i in range(len(built))], choice)
    except structures.CandidateError as exc:  # names its file
        return write_failed(out_json, rec, str(exc))
    except (slabs.SlabError, ValueError) as exc:
        return write_failed(out_json, rec, f"{structure_path}: miller ({miller}): {exc}")
    rec["oxidation_states"] = oxidation
    rec["terminations"] = [
        {"index": i, "origin": origin["kind"], "source": origin["source"],
         "formula": slab.get_chemical_formula(), "n_atoms": len(slab),
         "n_layers": slab.info["n_layers"], "repeat": slab.info["repeat"],
         "area_A2": slabs.surface_area(slab),
         "stoichiometric": slabs.is_stoichiometric(slab, bulk),
         **slabs.termination_properties(raw[i], bulk, oxidation, sl["layer_tolerance_A"]),
         "atoms": jsonio.encode(slab)}
        for i, (slab, (_, origin)) in enumerate(zip(built, found, strict=True))]
    # surface energies (DFT) only where they decide: among the cuts tied on polarity,
    # polyanions and stoichiometry
    compare = slabs.terminations_to_compare(rec["terminations"])
    e_bulk_atom = None
    if choice == "lowest_energy" and len(compare) > 1:
        bulk_atoms = structures.to_atoms(bulk)
        e_bulk = kept_energy(out_json.with_name("bulk_single_point.json"), bulk_atoms,
                             settings, options, lambda: bulk_single_point(
                                 bulk_atoms, settings, options,
                                 out_json.with_name("bulk_calc.txt")).energy_eV)
        e_bulk_atom = e_bulk / len(bulk_atoms) if e_bulk is not None else None
    for entry, slab in zip(rec["terminations"], built, strict=True):
        if e_bulk_atom is None or entry["index"] not in compare:
            continue
        i = entry["index"]
        source = rec["terminations"][entry["source"]] if entry["origin"] == "flipped" else {}
        if "E_single_point_eV" in source:  # a mirror image: the same energy
            entry["E_single_point_eV"] = source["E_single_point_eV"]
            entry["gamma_J_m2"] = source["gamma_J_m2"]
            continue
        opts = termination_options(options, entry["polar"])
        energy = kept_energy(
            out_json.with_name(f"t{i}_single_point.json"), slab, settings, opts,
            lambda slab=slab, i=i, opts=opts: slab_single_point(
                slab, settings, opts, out_json.with_name(f"t{i}_calc.txt"),
                forces=False).energy_eV)
        entry["E_single_point_eV"] = energy
        entry["gamma_J_m2"] = (energetics.surface_energy(
            energy, len(slab), e_bulk_atom, entry["area_A2"]) if energy is not None else None)
    selected = slabs.choose_termination(rec["terminations"], choice)
    why = slabs.choice_reason(rec["terminations"], selected, choice)
    if choice == "lowest_energy" and len(compare) > 1 and e_bulk_atom is None:
        why += ("; the bulk single point failed, so no surface energies: the first of the "
                f"{len(compare)} tied cuts")
    rec.update(status="ok", selected=selected, e_bulk_per_atom_eV=e_bulk_atom, choice=choice,
               why=why)
    write_json(out_json, rec)
    return rec


def find_sites(terminations_json: str | Path, settings: dict, out_json: str | Path) -> SitesRecord:
    """The symmetry-distinct adsorption sites of each selected termination (at most
    ``sites.max_sites``, ids ``t{termination}-{name}``) and all its sites unreduced (the
    moved check compares a relaxed adatom with them). Always writes ``out_json``."""
    terms = read_json(terminations_json)
    rec = {"name": terms["name"], "miller": terms["miller"],
           "settings_hash": settings_hash(settings), "sites": [], "all_sites": {}}
    if upstream_failure(terminations=terms):
        return write_failed(out_json, rec, terms["reason"])
    sc = settings["sites"]
    for i in terms["selected"]:
        slab = jsonio.decode(termination_of(terms, i)["atoms"])
        found = sites.find_sites(slab, sc["kinds"], sc["symm_reduce"])
        rec["sites"] += [{**site, "termination": i, "id": f"t{i}-{site['name']}"}
                         for site in found[: sc["max_sites"]]]
        rec["all_sites"][str(i)] = sites.find_sites(slab, sc["kinds"], symm_reduce=0.0)
    rec.update(status="ok", selected=terms["selected"])
    write_json(out_json, rec)
    return rec


def relax_clean_slab(terminations_json: str | Path, termination: int, settings: dict,
                     outdir: str | Path, checkpoint: str | Path,
                     options: dict | None = None, ml: dict | None = None) -> CleanSlabRecord:
    """Relax one clean slab (bottom layers fixed) with DFT from its bulk-terminated cut.

    With ``ml`` (the ml-then-dft strategy) the ML model relaxes the cut first (seconds),
    and the DFT relaxation's first step goes from the cut to that geometry where DFT's
    forces at the cut point along it, kept only if DFT's energy falls
    (:class:`philicity.relax.GuardedBFGS`), with the ML model's Hessian there (eV/A^2) as
    BFGS's initial Hessian instead of ASE's stiff 70 eV/A^2 identity; both saved beside
    the checkpoint. The path and the answer stay DFT's."""
    outdir = ensure_dir(outdir)
    terms = read_json(terminations_json)
    entry = termination_of(terms, termination)
    atoms = jsonio.decode(entry["atoms"])
    polar = bool(entry.get("polar"))
    options = termination_options(options, polar)
    hessian = first = None
    if ml is not None:  # the model is loaded only if its results are not saved yet
        from ase.io import read

        folder, stem = Path(checkpoint).parent, Path(checkpoint).stem
        model = functools.cache(lambda: calculators.make_calculator(ml["calculator"], "slab"))
        first = read(ml_relaxed_file(atoms, model, ml, folder, stem))
        hessian = load_hessian(ml_hessian_file(first, model, folder, stem))
    outcome = relax_structure(atoms, settings, options, outdir, checkpoint, hessian=hessian,
                              first_positions=None if first is None else first.positions)
    rec = record("clean_slab", outcome, settings, name=terms["name"], miller=terms["miller"],
                 termination=termination, area_A2=entry["area_A2"],
                 initial_hessian="default" if hessian is None else "ml",
                 polar_termination=polar)
    if outcome.energy_eV is None:
        rec.update(status="failed", reason="clean slab SCF did not converge")
    return finish(outdir, rec, outcome.atoms, checkpoint)
