"""Jobs of the adsorption stage (``workflow/rules/adsorption.smk``): the ML prescreen of the
sites (``ml-then-dft``), one adatom relaxation per site, and the site-energy table (every
site with the adatom's lateral position held)."""

from __future__ import annotations

import functools
from pathlib import Path

from ase import Atoms
from ase.io import jsonio

from philicity import (
    calculators,
    charges,
    ml_then_dft,
    quality,
    sites,
)
from philicity.config import settings_hash
from philicity.files import read_json, versions
from philicity.jobs.dft import (
    kept_energy,
    kept_result,
    load_hessian,
    ml_hessian_file,
    point_key,
    read_kept,
    relax_structure,
    save_wavefunctions,
    slab_single_point,
    write_kept,
)
from philicity.jobs.mpi import write_json
from philicity.jobs.records import (
    AdsorbateRecord,
    PrescreenRecord,
    ensure_dir,
    finish,
    record,
    structure_of,
    termination_of,
    termination_options,
    upstream_failure,
    write_failed,
)


def prescreen_sites(terminations_json: str | Path, sites_json: str | Path,
                    clean_dir: str | Path, termination: int, metal: str, settings: dict,
                    ml: dict, out_json: str | Path, checkpoint_dir: str | Path,
                    options: dict | None = None) -> PrescreenRecord:
    """The ml-then-dft strategy's decision for one termination and metal
    (``ml_then_dft.prescreen``): ML relaxations and pruning, DFT single points of the
    survivors, the ``ml.top_k`` lowest marked for DFT relaxation, each with its ML Hessian
    (and with GPAW its wave functions) kept for that relaxation. Finished ML relaxations
    and single points are kept in ``checkpoint_dir`` so a killed job resumes."""
    out_json, checkpoint_dir = Path(out_json), ensure_dir(checkpoint_dir)
    ensure_dir(out_json.parent)
    terms = read_json(terminations_json)
    site_list = read_json(sites_json)
    clean_rec = read_json(Path(clean_dir) / "record.json")
    rec = {"kind": "prescreen", "name": terms["name"], "miller": terms["miller"],
           "termination": termination, "metal": metal, "ml": ml,
           "settings_hash": settings_hash(settings), "versions": versions(), "sites": []}
    if reason := upstream_failure(clean_slab=clean_rec):
        return write_failed(out_json, rec, reason)
    clean = _relaxed_clean(terms, clean_dir, termination)
    options = termination_options(options, termination_of(terms, termination).get("polar"))
    ml_calc = calculators.make_calculator(ml["calculator"], "slab")
    gpaw = settings["calculator"]["name"] == "gpaw"

    def dft_single_point(atoms: Atoms, site: str) -> dict:
        # not energy only: its density gives the adatom's charge and its wave functions
        # start the site's DFT relaxation, which needs them converged as its own SCF does
        sp = slab_single_point(atoms, settings, options, out_json.with_name(f"{site}_calc.txt"),
                               energy_only=False)
        fields = {"dft_single_point_eV": sp.energy_eV, "dft_fmax_eV_A": sp.fmax_eV_A,
                  "scf_iterations": sp.scf_iterations, "dft_wall_s": round(sp.wall_s, 2),
                  "scf_converged": sp.scf_converged, "scf_tries": sp.extra["scf_tries"],
                  "adatom_charge_e": adatom_charge(sp, checkpoint_dir / f"{site}_density.gpw")}
        if sp.energy_eV is not None and gpaw:
            # the DFT relaxation, if this site is chosen, restarts from these
            fields["gpw"] = save_wavefunctions(sp.atoms.calc, checkpoint_dir / f"{site}.gpw")
        return fields

    # a site's kept ML relaxation and single point are reused only for the same clean
    # slab, site, settings, candidate options and ML settings
    key = point_key(clean, settings, options, ml=ml)

    def kept(site: dict) -> dict | None:
        return read_kept(checkpoint_dir / f"{site['name']}.json", {**key, "site": site})

    def keep(site: dict, item: dict) -> None:
        write_kept(checkpoint_dir / f"{site['name']}.json", {**key, "site": site}, item)

    result = ml_then_dft.prescreen(
        clean, [s for s in site_list["sites"] if s["termination"] == termination],
        site_list["all_sites"].get(str(termination), []), metal, ml_calc, ml,
        settings["quality"], settings["sites"]["height_scale"],
        settings["calculator"]["atom_box_A"], dft_single_point, checkpoint_dir, kept, keep)
    for item in result["sites"]:
        if not item["dft_relax"] and item.get("gpw"):
            Path(item.pop("gpw")).unlink(missing_ok=True)
        if item["dft_relax"]:
            item["hessian"] = ml_hessian_file(jsonio.decode(item["ml_atoms"]), lambda: ml_calc,
                                              checkpoint_dir, item["site"])
    rec.update(result, status="ok", E_clean_slab_eV=clean_rec["energy_eV"],
               n_pruned=sum(bool(i["pruned_by"]) for i in result["sites"]))
    write_json(out_json, rec)
    return rec


def relax_adsorbate(terminations_json: str | Path, sites_json: str | Path,
                    clean_dir: str | Path, site_id: str, metal: str, settings: dict,
                    outdir: str | Path, checkpoint: str | Path, options: dict | None = None,
                    prescreen_json: str | Path | None = None) -> AdsorbateRecord:
    """Place one ``metal`` adatom on a site of the relaxed clean slab, relax, and flag.

    With ``prescreen_json`` (the ml-then-dft strategy) the site starts from its ML
    geometry and is relaxed with DFT only if the prescreen selected it; otherwise the
    record carries the DFT single point at the ML geometry, or the ML flags that
    pruned it. Energies are always DFT; the ML energy is kept beside them.
    """
    outdir = ensure_dir(outdir)
    terms = read_json(terminations_json)
    site_list = read_json(sites_json)
    site = next(s for s in site_list["sites"] if s["id"] == site_id)
    all_sites = site_list["all_sites"].get(str(site["termination"]), [])
    clean_rec = read_json(Path(clean_dir) / "record.json")
    polar = bool(termination_of(terms, site["termination"]).get("polar"))
    options = termination_options(options, polar)
    fields = {"name": terms["name"], "miller": terms["miller"], "metal": metal,
              "termination": site["termination"], "site": site_id, "site_kind": site["kind"],
              "site_label": site.get("label", site["kind"]), "polar_termination": polar}
    pre = read_json(prescreen_json) if prescreen_json is not None else {"status": "ok"}
    if reason := upstream_failure(clean_slab=clean_rec, ML_prescreen=pre):
        return write_failed(outdir / "record.json", record("adsorbate", None, settings,
                                                           **fields), reason)
    clean = _relaxed_clean(terms, clean_dir, site["termination"])
    initial = sites.place_adatom(clean, site, metal, settings["sites"]["height_scale"])
    start, stage = initial, "dft_relaxed"
    if prescreen_json is not None:
        item = next(i for i in pre["sites"] if i["site"] == site["name"])
        fields.update({k: item.get(k) for k in ("ml_energy_eV", "ml_E_b_atom_eV", "ml_steps",
                                                  "ml_flags", "dft_single_point_eV",
                                                  "kept_despite", "adatom_charge_e")})
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
            rec = record("adsorbate", None, settings, **fields, flags=flags, stage=stage,
                         energy_eV=energy, E_clean_slab_eV=clean_rec["energy_eV"],
                         adatom_start_A=initial.positions[-1].tolist(),
                         adatom_final_A=at_sp.positions[-1].tolist())
            return finish(outdir, rec, at_sp)
        start = at_sp
        start.set_constraint(initial.constraints)
        stage = "dft_relaxed_from_ml"
    restart = hessian = None
    if prescreen_json is not None:
        restart, hessian = item.get("gpw"), load_hessian(item.get("hessian"))
        fields["initial_hessian"] = "ml" if hessian is not None else "default"
    outcome = relax_structure(start, settings, options, outdir, checkpoint, restart=restart,
                          hessian=hessian)
    # flags judge the whole path from the placement, ML part included
    flags = quality.site_flags(initial, outcome.atoms, clean, all_sites,
                               site["kind"], settings["quality"], outcome.scf_converged,
                               outcome.relax_converged)
    # the density is kept: the charge-density difference of the coating's best site
    # reads it instead of repeating this SCF (jobs.charges)
    fields["adatom_charge_e"] = adatom_charge(outcome, outdir / charges.DENSITY_FILE,
                                              keep=True)
    rec = record("adsorbate", outcome, settings, **fields, flags=flags, stage=stage,
                  E_clean_slab_eV=clean_rec["energy_eV"],
                  adatom_start_A=initial.positions[-1].tolist(),
                  adatom_final_A=outcome.atoms.positions[-1].tolist())
    return finish(outdir, rec, outcome.atoms, checkpoint)


def site_energies(terminations_json: str | Path, sites_json: str | Path,
                  clean_dir: str | Path, termination: int, metal: str, settings: dict,
                  out_json: str | Path, checkpoint_dir: str | Path,
                  options: dict | None = None, ml: dict | None = None) -> dict:
    """The energy of every symmetry-distinct site of one termination with the adatom's
    lateral position held (``sites.hold_lateral``: it relaxes in height, with the
    substrate, and stays on its site), the way papers tabulate site energies; the free
    relaxations (``relax_adsorbate``) find where the adatom goes, these say what each site
    costs. With ``ml`` (ml-then-dft) each site is relaxed the same way with the ML model,
    gets a DFT single point there (the adatom on the DFT substrate,
    ``ml_then_dft.onto_dft_substrate``), and the sites within ``ml.window_eV`` of the
    lowest are relaxed with DFT; without, every site is relaxed with DFT. Single points and
    relaxations are kept in ``checkpoint_dir``, so a killed job resumes. Always writes
    ``out_json``; energies in eV, heights (adatom above the highest substrate atom) in A.
    """
    out_json, checkpoint_dir = Path(out_json), ensure_dir(checkpoint_dir)
    ensure_dir(out_json.parent)
    terms = read_json(terminations_json)
    clean_rec = read_json(Path(clean_dir) / "record.json")
    rec = {"kind": "site_energies", "name": terms["name"], "miller": terms["miller"],
           "termination": termination, "metal": metal, "site_energy_mode": "lateral_fixed",
           "ml": ml, "settings_hash": settings_hash(settings), "versions": versions(),
           "sites": []}
    if reason := upstream_failure(clean_slab=clean_rec):
        return write_failed(out_json, rec, reason)
    clean = _relaxed_clean(terms, clean_dir, termination)
    polar = bool(termination_of(terms, termination).get("polar"))
    options = termination_options(options, polar)
    ml_calc = functools.cache(lambda: calculators.make_calculator(ml["calculator"], "slab"))
    scale = settings["sites"]["height_scale"]
    items = []
    for site in (s for s in read_json(sites_json)["sites"] if s["termination"] == termination):
        name = site["name"]
        item = {"site": site["id"], "site_kind": site["kind"],
                "site_label": site.get("label", site["kind"]), "xy": site["xy"]}
        start = sites.hold_lateral(sites.place_adatom(clean, site, metal, scale))
        if ml is not None:
            ml_out = ml_then_dft.ml_relax(start, ml_calc(), ml["fmax_eV_A"], ml["steps"],
                                          checkpoint_dir / f"{name}_ml.traj")
            start = sites.hold_lateral(ml_then_dft.onto_dft_substrate(ml_out.atoms, clean))
            item["energy_eV"] = kept_energy(
                checkpoint_dir / f"{name}_single_point.json", start, settings, options,
                lambda start=start, name=name: slab_single_point(
                    start, settings, options, checkpoint_dir / f"{name}_calc.txt").energy_eV)
            item.update(stage="dft_single_point", flags=[] if item["energy_eV"] is not None
                        else [quality.SCF_NOT_CONVERGED])
        items.append((item, start))
    lowest = min((i["energy_eV"] for i, _ in items if i.get("energy_eV") is not None),
                 default=None)
    for item, start in items:
        if ml is not None and (item["energy_eV"] is None
                               or item["energy_eV"] > lowest + ml["window_eV"]):
            item["atoms"] = jsonio.encode(start)
            continue
        folder = checkpoint_dir / item["site"]
        item.update(kept_result(folder / "result.json", start, settings, options,
                                lambda start=start, folder=folder: _held_relaxation(
                                    start, settings, options, folder),
                                keep=lambda result: result["energy_eV"] is not None))
    for item, _ in items:
        atoms = jsonio.decode(item["atoms"])
        item["height_A"] = float(atoms.positions[-1, 2] - atoms.positions[:-1, 2].max())
        rec["sites"].append(item)
    rec.update(status="ok", E_clean_slab_eV=clean_rec["energy_eV"],
               polar_termination=polar)
    write_json(out_json, rec)
    return rec


def _held_relaxation(start: Atoms, settings: dict, options: dict | None,
                     folder: Path) -> dict:
    """One laterally held site relaxed with DFT in ``folder``: its energy, stage, steps,
    flags and final atoms."""
    outcome = relax_structure(start, settings, options, ensure_dir(folder),
                              folder / "relax.traj")
    flags = ([quality.SCF_NOT_CONVERGED] if not outcome.scf_converged else []) + (
        [quality.RELAX_NOT_CONVERGED] if not outcome.relax_converged else [])
    return {"energy_eV": outcome.energy_eV, "stage": "dft_relaxed", "steps": outcome.steps,
            "scf_iterations": outcome.scf_iterations, "flags": flags,
            "atoms": jsonio.encode(outcome.atoms)}


def adatom_charge(outcome, scratch: Path, keep: bool = False) -> float | None:
    """The adatom's (last atom's) Hirshfeld charge (e, positive = electrons given to the
    substrate) at the outcome's final geometry; None without a converged GPAW density.
    ``keep``: leave the density in ``scratch`` (:func:`charges.hirshfeld_charges`)."""
    if outcome.energy_eV is None:
        return None
    q = charges.hirshfeld_charges(outcome.atoms.calc, scratch, keep)
    return None if q is None else q[-1]


def _relaxed_clean(terms: dict, clean_dir: str | Path, termination: int) -> Atoms:
    """The relaxed clean slab with the fixed layers and tags of the unrelaxed one."""
    clean = structure_of(Path(clean_dir) / "record.json")
    unrelaxed = jsonio.decode(termination_of(terms, termination)["atoms"])
    clean.set_constraint(unrelaxed.constraints)
    clean.set_tags(unrelaxed.get_tags())
    return clean

