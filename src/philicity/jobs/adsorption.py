"""Jobs of the adsorption stage (``workflow/rules/adsorption.smk``): the ML prescreen of the
sites (``ml-then-dft``) and one adatom relaxation per site."""

from __future__ import annotations

from pathlib import Path

from ase import Atoms
from ase.io import jsonio, read

from philicity import (
    calculators,
    energetics,
    fastpath,
    quality,
    sites,
    structures,
)
from philicity.config import settings_hash
from philicity.io import read_json, versions
from philicity.jobs.common import (
    _finish,
    _load_hessian,
    _ml_hessian_file,
    _outdir,
    _record,
    _relax_slab,
    _save_wavefunctions,
    _slab_single_point,
    _termination,
    write_atoms,
    write_json,
)
from philicity.relax import single_point


def prescreen_sites(terminations_json: str | Path, sites_json: str | Path,
                    clean_dir: str | Path, termination: int, metal: str, settings: dict,
                    ml: dict, out_json: str | Path, checkpoint_dir: str | Path,
                    options: dict | None = None) -> dict:
    """The ml-then-dft strategy's decision for one termination and metal.

    Every site is relaxed with the ML potential and checked (desorbed, moved,
    reconstructed: pruned); each survivor gets a DFT single point at its ML geometry;
    the ``ml.top_k`` lowest are marked for DFT relaxation. Finished ML relaxations and
    single points are kept in ``checkpoint_dir`` so a killed job resumes.

    A surface never ends without a DFT energy: when the ML flags would prune every site,
    the site with the lowest ML energy keeps its DFT single point (and relaxation), marked
    ``kept_despite``. Reconstruction is judged against the ML model's own relaxed clean
    slab, so a substrate the model moves without any adatom (its own strain) prunes
    nothing.
    """
    out_json, checkpoint_dir = Path(out_json), _outdir(checkpoint_dir)
    _outdir(out_json.parent)
    terms = read_json(terminations_json)
    site_list = read_json(sites_json)
    clean_rec = read_json(Path(clean_dir) / "record.json")
    rec = {"kind": "prescreen", "name": terms["name"], "miller": terms["miller"],
           "termination": termination, "metal": metal, "ml": ml,
           "settings_hash": settings_hash(settings), "versions": versions(), "sites": []}
    if clean_rec["status"] != "ok":
        rec.update(status="failed", reason=f"clean slab failed: {clean_rec.get('reason')}")
        write_json(out_json, rec)
        return rec
    clean = _relaxed_clean(terms, clean_dir, termination)
    ml_calc = calculators.make_calculator(ml["calculator"], "slab")
    # ML trajectories in their own folder: the DFT relaxation of a site checkpoints to
    # {site}.traj beside the prescreen and must not resume from (and count) ML steps
    # the ML binding energies use references from the same model
    ml_clean = fastpath.ml_relax(clean, ml_calc, ml["fmax_eV_A"], ml["steps"],
                                 checkpoint_dir / "ml" / "clean.traj")
    ml_atom = single_point(structures.isolated_atom(metal, settings["calculator"]["atom_box_A"]),
                           ml_calc, forces=False)
    rec.update(ml_clean_slab_eV=ml_clean.energy_eV, ml_atom_eV=ml_atom.energy_eV)
    all_sites = site_list["all_sites"].get(str(termination), [])
    mine = [s for s in site_list["sites"] if s["termination"] == termination]
    items = []
    for site in mine:  # 1. every site relaxed with the ML model and checked
        done = checkpoint_dir / f"{site['name']}.json"
        if done.exists():
            items.append(read_json(done))
            continue
        initial = sites.place_adatom(clean, site, metal, settings["sites"]["height_scale"])
        # the symmetric start gives the geometry DFT starts from; the nudged start tells
        # whether the site is a minimum at all (a saddle point slides off: "moved")
        ml_out = fastpath.ml_relax(initial, ml_calc, ml["fmax_eV_A"], ml["steps"],
                                   checkpoint_dir / "ml" / f"{site['name']}.traj")
        flags = quality.site_flags(initial, ml_out.atoms, ml_clean.atoms, all_sites,
                                   site["kind"], settings["quality"], True,
                                   ml_out.relax_converged)
        if ml["nudge_A"] > 0:
            nudged = fastpath.ml_relax(fastpath.nudge_adatom(initial, ml["nudge_A"]), ml_calc,
                                       ml["fmax_eV_A"], ml["steps"],
                                       checkpoint_dir / "ml" / f"{site['name']}_nudged.traj")
            kinds = {f.split()[0] for f in flags}
            flags += [f for f in quality.site_flags(
                initial, nudged.atoms, ml_clean.atoms, all_sites, site["kind"],
                settings["quality"], True, True) if f.split()[0] not in kinds]
        items.append({
            "site": site["name"], "site_kind": site["kind"], "ml_energy_eV": ml_out.energy_eV,
            "ml_E_b_atom_eV": energetics.binding_energy(
                ml_out.energy_eV, ml_clean.energy_eV, ml_atom.energy_eV),
            "ml_steps": ml_out.steps, "ml_wall_s": round(ml_out.wall_s, 2),
            "ml_flags": flags, "pruned_by": fastpath.pruning_flags(flags),
            "ml_atoms": jsonio.encode(ml_out.atoms),
            "adatom_start_A": initial.positions[-1].tolist()})
    fastpath.keep_lowest_if_all_pruned(items)
    for item, site in zip(items, mine, strict=True):  # 2. DFT single points of the rest
        done = checkpoint_dir / f"{site['name']}.json"
        if not item["pruned_by"] and "dft_single_point_eV" not in item:
            atoms = fastpath.onto_dft_substrate(jsonio.decode(item["ml_atoms"]), clean)
            atoms.set_constraint(clean.constraints)  # the placed adatom's, as in step 1
            item["dft_atoms"] = jsonio.encode(atoms)  # where the DFT single point was taken
            sp = _slab_single_point(atoms, settings, options,
                                    out_json.with_name(f"{site['name']}_calc.txt"))
            if sp.energy_eV is not None and settings["calculator"]["name"] == "gpaw":
                # the DFT relaxation, if this site is chosen, restarts from these
                item["gpw"] = _save_wavefunctions(sp.atoms.calc,
                                                  checkpoint_dir / f"{site['name']}.gpw")
            item.update(dft_single_point_eV=sp.energy_eV, dft_fmax_eV_A=sp.fmax_eV_A,
                        scf_iterations=sp.scf_iterations, dft_wall_s=round(sp.wall_s, 2),
                        scf_converged=sp.scf_converged, scf_tries=sp.extra["scf_tries"])
        write_json(done, item)
    rec["sites"] = items
    chosen = fastpath.select_for_relaxation(
        {i["site"]: i.get("dft_single_point_eV") for i in rec["sites"]}, ml["top_k"],
        ml["window_eV"])
    for item in rec["sites"]:
        item["dft_relax"] = item["site"] in chosen
        if not item["dft_relax"] and item.get("gpw"):
            Path(item.pop("gpw")).unlink(missing_ok=True)
        if item["dft_relax"]:
            item["hessian"] = _ml_hessian_file(jsonio.decode(item["ml_atoms"]), ml_calc,
                                               checkpoint_dir, item["site"])
    rec.update(status="ok", E_clean_slab_eV=clean_rec["energy_eV"],
               selected=chosen, n_pruned=sum(bool(i["pruned_by"]) for i in rec["sites"]))
    write_json(out_json, rec)
    return rec


def relax_adsorbate(terminations_json: str | Path, sites_json: str | Path,
                    clean_dir: str | Path, site_id: str, metal: str, settings: dict,
                    outdir: str | Path, checkpoint: str | Path, options: dict | None = None,
                    prescreen_json: str | Path | None = None) -> dict:
    """Place one ``metal`` adatom on a site of the relaxed clean slab, relax, and flag.

    With ``prescreen_json`` (the ml-then-dft strategy) the site starts from its ML
    geometry and is relaxed with DFT only if the prescreen selected it; otherwise the
    record carries the DFT single point at the ML geometry, or the ML flags that
    pruned it. Energies are always DFT; the ML energy is kept beside them.
    """
    outdir = _outdir(outdir)
    terms = read_json(terminations_json)
    site_list = read_json(sites_json)
    site = next(s for s in site_list["sites"] if s["id"] == site_id)
    all_sites = site_list["all_sites"].get(str(site["termination"]), [])
    clean_rec = read_json(Path(clean_dir) / "record.json")
    fields = {"name": terms["name"], "miller": terms["miller"], "metal": metal,
              "termination": site["termination"], "site": site_id, "site_kind": site["kind"]}
    pre = read_json(prescreen_json) if prescreen_json is not None else {"status": "ok"}
    upstream = [f"{what} failed: {r.get('reason')}" for what, r in
                (("clean slab", clean_rec), ("ML prescreen", pre)) if r["status"] != "ok"]
    if upstream:
        rec = _record("adsorbate", None, settings, **fields, status="failed",
                      reason=upstream[0])
        _finish(outdir, rec, None)
        return rec
    clean = _relaxed_clean(terms, clean_dir, site["termination"])
    initial = sites.place_adatom(clean, site, metal, settings["sites"]["height_scale"])
    start, stage = initial, "dft_relaxed"
    if prescreen_json is not None:
        item = next(i for i in pre["sites"] if i["site"] == site["name"])
        fields.update({k: item.get(k) for k in ("ml_energy_eV", "ml_E_b_atom_eV", "ml_steps",
                                                  "ml_flags", "dft_single_point_eV",
                                                  "kept_despite")})
        fields["prescreen_scf_iterations"] = item.get("scf_iterations")
        # the DFT geometry (the ML adatom on the DFT substrate); the ML one if pruned
        at_sp = jsonio.decode(item.get("dft_atoms") or item["ml_atoms"])
        if not item["dft_relax"]:
            if item["pruned_by"]:
                stage, flags, energy = "pruned_by_ml", [f"ml: {f}" for f in item["pruned_by"]], None
            else:
                stage, flags, energy = "dft_single_point", [], item["dft_single_point_eV"]
                if not item["scf_converged"]:
                    flags = [quality.SCF_NOT_CONVERGED]
            rec = _record("adsorbate", None, settings, **fields, flags=flags, stage=stage,
                          energy_eV=energy, E_clean_slab_eV=clean_rec["energy_eV"],
                          adatom_start_A=initial.positions[-1].tolist(),
                          adatom_final_A=at_sp.positions[-1].tolist())
            write_atoms(outdir / "final.extxyz", at_sp)
            write_json(outdir / "record.json", rec)
            return rec
        start = at_sp
        start.set_constraint(initial.constraints)
        stage = "dft_relaxed_from_ml"
    restart = hessian = None
    if prescreen_json is not None:
        restart, hessian = item.get("gpw"), _load_hessian(item.get("hessian"))
        fields["initial_hessian"] = "ml" if hessian is not None else "default"
    outcome = _relax_slab(start, settings, options, outdir, checkpoint, restart=restart,
                          hessian=hessian)
    # flags judge the whole path from the placement, ML part included
    flags = quality.site_flags(initial, outcome.atoms, clean, all_sites,
                               site["kind"], settings["quality"], outcome.scf_converged,
                               outcome.relax_converged)
    rec = _record("adsorbate", outcome, settings, **fields, flags=flags, stage=stage,
                  E_clean_slab_eV=clean_rec["energy_eV"],
                  adatom_start_A=initial.positions[-1].tolist(),
                  adatom_final_A=outcome.atoms.positions[-1].tolist())
    _finish(outdir, rec, outcome, checkpoint)
    return rec


def _relaxed_clean(terms: dict, clean_dir: str | Path, termination: int) -> Atoms:
    """The relaxed clean slab with the fixed layers and tags of the unrelaxed one."""
    clean = read(Path(clean_dir) / "final.extxyz")
    unrelaxed = jsonio.decode(_termination(terms, termination)["atoms"])
    clean.set_constraint(unrelaxed.constraints)
    clean.set_tags(unrelaxed.get_tags())
    return clean

