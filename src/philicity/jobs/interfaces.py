"""Jobs of the interface stage (``workflow/rules/interfaces.smk``): lattice match and registry
scan, relaxed interface, separated slabs and W_ad."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import jsonio, read

from philicity import (
    calculators,
    charges,
    energetics,
    interfaces,
    ml_then_dft,
    slabs,
    structures,
    wetting,
)
from philicity.config import settings_hash
from philicity.files import read_json, versions
from philicity.jobs.dft import (
    load_hessian,
    ml_hessian_file,
    point_key,
    read_kept,
    relax_structure,
    same_key,
    save_wavefunctions,
    slab_single_point,
    write_kept,
)
from philicity.jobs.mpi import write_json
from philicity.jobs.records import (
    AdhesionRecord,
    InterfaceRecord,
    InterfaceScanRecord,
    bulk_structure,
    ensure_dir,
    finish,
    record,
    structure_of,
    termination_of,
    termination_options,
    upstream_failure,
    write_failed,
)
from philicity.relax import Outcome


def scan_interface(terminations_json: str | Path, coating_structure: str | Path,
                   metal_bulk_json: str | Path, metal: str, metal_miller: str,
                   termination: int, settings: dict, out_json: str | Path,
                   checkpoint: str | Path, options: dict | None = None,
                   ml: dict | None = None) -> InterfaceScanRecord:
    """Lattice-match the metal film onto one coating termination and scan the registries.

    Single points on a grid of in-plane film offsets (``interface.registry_grid``); with
    ``ml`` (the ml-then-dft strategy) each registry is first relaxed with the ML potential
    and the DFT single point is taken at that geometry, which the DFT relaxation of the
    best registry then starts from. With GPAW the lowest registry's wave functions are
    kept, so that relaxation's first forces need no SCF. Each finished point is kept in
    ``checkpoint`` with its geometry and settings, so a killed scan resumes and a rerun
    on unchanged inputs
    (a cascade from an upstream job that rewrote the same files) redoes none. Always writes
    ``out_json``; ``status`` is ``ok``, ``no_match`` (no interface within the bounds,
    with the reason) or ``failed``.
    """
    out_json, checkpoint = Path(out_json), Path(checkpoint)
    ensure_dir(out_json.parent)
    terms = read_json(terminations_json)
    ic = settings["interface"]
    rec = {"kind": "interface_scan", "name": terms["name"], "miller": terms["miller"],
           "termination": termination, "metal": metal, "metal_miller": metal_miller,
           "settings_hash": settings_hash(settings), "versions": versions()}
    if upstream_failure(terminations=terms):
        return write_failed(out_json, rec, terms["reason"])
    try:
        metal_bulk = bulk_structure(metal_bulk_json)
    except structures.CandidateError as exc:
        return write_failed(out_json, rec, str(exc))
    coating = structures.read_structure(coating_structure)
    raw = slabs.generate_terminations(coating, slabs.str_to_miller(terms["miller"]),
                                      settings["slab"]["min_thickness_A"],
                                      settings["slab"]["vacuum_A"])
    entry = termination_of(terms, termination)
    rec["polar_termination"] = bool(entry.get("polar"))
    options = termination_options(options, rec["polar_termination"])
    try:
        variant = _substrate_variant(entry, coating, terms.get("oxidation_states", {}),
                                     settings["slab"]["layer_tolerance_A"])
        found = interfaces.build_interfaces(
            metal_bulk, slabs.str_to_miller(metal_miller), coating,
            slabs.str_to_miller(terms["miller"]),
            coating_shift=raw[entry.get("source", termination)].shift,
            substrate_variant=variant, **interfaces.settings_bounds(ic))
    except interfaces.InterfaceError as exc:
        return write_failed(out_json, rec, f"{metal}({metal_miller}) on {terms['name']}"
                            f"({terms['miller']}): {exc}", status="no_match")
    best = found[0]
    iface = best["interface"]
    props = iface.interface_properties
    rec.update(area_A2=best["area_A2"], n_atoms=best["n_atoms"],
               strain_pct=best["strain_pct"], labels=best["termination"],
               n_metal=len(iface.film_indices), n_coating=len(iface.substrate_indices),
               film_vectors_A=np.asarray(props["film_sl_vectors"]).tolist(),
               alternatives=[{k: e[k] for k in ("n_atoms", "area_A2", "strain_pct")}
                             for e in found[1:]])
    stage = interface_stage(settings, ml)
    gpaw = settings["calculator"]["name"] == "gpaw"
    done = {tuple(p["offset"]): p for p in (read_json(checkpoint)["points"]
                                             if checkpoint.exists() else [])}
    ml_calc = calculators.make_calculator(ml["calculator"], "slab") if ml else None
    starts = {offset: interfaces.interface_atoms(iface, offset, ic["vacuum_A"],
                                                 settings["slab"]["fixed_layers"],
                                                 settings["slab"]["layer_tolerance_A"])
              for offset in interfaces.registry_shifts(iface, ic["registry_grid"])}
    for i, (offset, atoms) in enumerate(starts.items()):  # 1. ML relaxations (ml-then-dft)
        key = point_key(atoms, settings, options, ml=ml and ml["calculator"])
        if same_key(done.get(offset, {}).get("key"), key):
            continue
        point = {"offset": list(offset), "key": key}
        if ml is not None:  # the DFT single point is taken at the ML geometry
            ml_traj = checkpoint.with_name(f"ml_{i}.traj")
            if offset in done:  # kept from other inputs: start afresh (every rank)
                ml_traj.unlink(missing_ok=True)
            ml_out = ml_then_dft.ml_relax(atoms, ml_calc, ml["fmax_eV_A"], ml["steps"],
                                          ml_traj)
            relaxed = ml_out.atoms.copy()
            relaxed.set_constraint(atoms.constraints)
            point.update(ml_energy_eV=ml_out.energy_eV, ml_steps=ml_out.steps,
                         ml_relax_converged=ml_out.relax_converged,
                         atoms=jsonio.encode(relaxed))
        done[offset] = point
        write_json(checkpoint, {"points": list(done.values())})
    geometry = {o: jsonio.decode(done[o]["atoms"]) if "atoms" in done[o] else a
                for o, a in starts.items()}
    # 2. DFT single points: every registry, or under dft_at_ml those whose ML energy is
    # within interface.window_eV of the ML-lowest (the ML order is not trusted to pick
    # one), once per ML energy: registries the model relaxed to the same energy (within
    # 1 meV) are equivalent by symmetry or fell into the same minimum
    wanted, skipped = list(starts), {}
    if stage == "dft_at_ml":
        wanted, skipped = ml_then_dft.registries_for_dft(
            {o: done[o]["ml_energy_eV"] for o in starts}, ic["window_eV"])
    for offset in wanted:
        point = done[offset]
        if "energy_eV" in point:
            continue
        out = slab_single_point(geometry[offset], settings, options,
                                out_json.with_name("scan_calc.txt"), forces=False)
        point.update(energy_eV=out.energy_eV, scf_converged=out.scf_converged,
                     scf_iterations=out.scf_iterations, wall_s=round(out.wall_s, 2))
        lowest = min((p["energy_eV"] for o, p in done.items()
                      if o != offset and p.get("energy_eV") is not None), default=np.inf)
        lowest_so_far = out.energy_eV is not None and out.energy_eV < lowest and gpaw
        if lowest_so_far and stage == "dft_at_ml":
            # this single point is the interface if no registry is lower: its density
            # is kept for the interface's charge-density difference (jobs.charges)
            charges.save_density(out.atoms.calc, out_json.with_name(charges.DENSITY_FILE))
            for other, p in done.items():
                p["density"] = other == offset
        elif lowest_so_far:
            # the relaxation of the lowest registry restarts from its wave functions
            # (no SCF for its first forces); one file, the lowest so far
            gpw = checkpoint.with_name("lowest_registry.gpw")
            point["gpw"] = save_wavefunctions(out.atoms.calc, gpw)
            for other, p in done.items():
                if other != offset:
                    p.pop("gpw", None)
        write_json(checkpoint, {"points": list(done.values())})
    points = [{**({"energy_eV": None, "dft": skipped[o]} if o in skipped else {}),
               **{k: v for k, v in done[o].items()
                  if k not in ("atoms", "key", "gpw", "density")}}
              for o in starts]
    ok = [p for p in points if p["energy_eV"] is not None]
    # the lowest is chosen among the converged ones: a registry whose SCF failed might
    # have been lower, which the record says
    rec.update(scan=points, interface_stage=stage, registries_scf_failed=[
        p["offset"] for p in points if p["energy_eV"] is None and "dft" not in p])
    if not ok:
        rec.update(status="failed", reason="no registry converged (SCF)")
    else:
        # the lowest; among registries within 0.1 meV of it (equivalent by symmetry),
        # the first on the grid, so that float noise does not pick the label
        lowest = min(p["energy_eV"] for p in ok)
        chosen = next(p for p in ok if p["energy_eV"] <= lowest + 1e-4)
        best_atoms = geometry[tuple(chosen["offset"])]
        rec.update(status="ok", registry=chosen["offset"], energy_eV=chosen["energy_eV"],
                   scf_converged=chosen["scf_converged"],
                   ml_relax_converged=chosen.get("ml_relax_converged"),
                   atoms=jsonio.encode(best_atoms))
        gpw = done[tuple(chosen["offset"])].get("gpw")
        if gpw is not None and Path(gpw).exists():
            rec["gpw"] = gpw
        if stage == "dft_at_ml" and not done[tuple(chosen["offset"])].get("density"):
            # kept for a registry within 0.1 meV of the chosen one: not this geometry's
            # density, so the charge-density difference computes its own (every rank)
            out_json.with_name(charges.DENSITY_FILE).unlink(missing_ok=True)
        if ml is not None and stage == "dft_relaxed":
            # the DFT relaxation of the best registry starts from ML's Hessian
            rec["hessian"] = ml_hessian_file(best_atoms, lambda: ml_calc, checkpoint.parent,
                                             checkpoint.stem)
    write_json(out_json, rec)
    return rec


def interface_stage(settings: dict, ml: dict | None) -> str:
    """How the interface and its separated parts are computed: ``dft_relaxed``, or
    ``dft_at_ml`` (DFT single points at ML-relaxed geometries) when the preset asks for
    it and there is an ML model (strategy ml-then-dft)."""
    return "dft_at_ml" if settings["interface"]["stage"] == "dft_at_ml" and ml else \
        "dft_relaxed"


def _substrate_variant(entry: dict, coating, oxidation: dict, layer_tolerance_A: float):
    """How pymatgen's coating supercell of an interface becomes termination ``entry``:
    as it is (a plain cut), flipped, or reconstructed (Tasker II) the way whose polarity,
    polyanions and exposed face match the record (None where the supercell has none).
    Raises InterfaceError for a repaired cut (pymatgen's interface builder cannot repair
    bonds)."""
    origin = entry.get("origin", "cut")
    if origin == "cut":
        return None
    if origin == "flipped":
        return slabs.flipped
    if origin != "tasker2":
        raise interfaces.InterfaceError(f"termination {entry['index']} is a {origin} cut, "
                                        "which pymatgen's interface builder cannot build")

    def reconstructed(slab):  # None: this supercell has no such reconstruction
        for candidate in slabs.tasker2_variants(slab, oxidation, coating, layer_tolerance_A):
            if slabs.same_variant(candidate, entry, coating, oxidation, layer_tolerance_A):
                return candidate
        return None
    return reconstructed


def relax_interface(scan_json: str | Path, settings: dict, outdir: str | Path,
                    checkpoint: str | Path, options: dict | None = None) -> InterfaceRecord:
    """Relax the lowest-energy registry of the scan (bottom coating layers fixed); under
    ``dft_at_ml`` the interface is that registry's DFT single point at its ML geometry
    (no DFT relaxation)."""
    outdir = ensure_dir(outdir)
    scan = read_json(scan_json)
    fields = {k: scan[k] for k in ("name", "miller", "termination", "metal", "metal_miller")}
    if scan["status"] != "ok":  # failed, or no_match: passed on as it is
        return finish(outdir, record("interface", None, settings, **fields,
                                     status=scan["status"], reason=scan["reason"]), None)
    fields.update(registry=scan["registry"], area_A2=scan["area_A2"],
                  interface_stage=scan.get("interface_stage", "dft_relaxed"))
    if fields["interface_stage"] == "dft_at_ml":
        # its geometry is the ML relaxation's: that one's convergence is the interface's
        rec = record("interface", None, settings, **fields, energy_eV=scan["energy_eV"],
                     scf_converged=scan["scf_converged"],
                     relax_converged=scan.get("ml_relax_converged"), steps=0)
        return finish(outdir, rec, jsonio.decode(scan["atoms"]))
    options = termination_options(options, scan.get("polar_termination", False))
    outcome, rec = _relaxed_interface(jsonio.decode(scan["atoms"]), settings, options, outdir,
                                      checkpoint, fields, load_hessian(scan.get("hessian")),
                                      restart=scan.get("gpw"))
    return finish(outdir, rec, outcome.atoms, checkpoint)


def _relaxed_interface(start: Atoms, settings: dict, options: dict | None, outdir: Path,
                       checkpoint: Path, fields: dict, hessian: np.ndarray | None,
                       restart: str | None = None) -> tuple[Outcome, dict]:
    """An interface relaxed with DFT from ``start`` (``hessian``: BFGS's initial one,
    ``restart``: a .gpw whose wave functions start the first SCF) and its record (not yet
    written), with its density kept in ``outdir`` for the charge-density difference."""
    outcome = relax_structure(start, settings, options, outdir, checkpoint, restart=restart,
                              hessian=hessian)
    rec = record("interface", outcome, settings, **fields,
                 initial_hessian="default" if hessian is None else "ml")
    if outcome.energy_eV is None:
        rec.update(status="failed", reason="interface SCF did not converge")
    else:  # for the interface's charge-density difference (jobs.charges)
        charges.save_density(outcome.atoms.calc, outdir / charges.DENSITY_FILE)
    return outcome, rec


def _initial_energy(rec: dict, part_dir: Path) -> float | None:
    """Energy (eV) of a finished part's starting geometry; records written before it was
    kept have it as the first frame of the part's trajectory."""
    if "energy_initial_eV" in rec:
        return rec["energy_initial_eV"]
    traj = part_dir / "relax.traj"
    return float(read(traj, 0).get_potential_energy()) if traj.exists() else rec["energy_eV"]


def compute_adhesion(scan_json: str | Path, interface_dir: str | Path,
                     bulk_json: str | Path, settings: dict, outdir: str | Path,
                     checkpoint_dir: str | Path, options: dict | None = None,
                     ml: dict | None = None, escalation: dict | None = None) -> AdhesionRecord:
    """W_ad of the relaxed interface, the strain energy of the metal film and the DFT
    surface energy of the (unstrained) metal film.

    The metal film and the coating slab are cut from the relaxed interface and
    computed in its cell (same k-mesh); with ``interface.relax_separated`` they are
    relaxed first (W_ad), and their energies before relaxing give the ideal work of
    separation W_sep (without, W_ad = W_sep). The unstrained film is the metal film at
    its own lattice. Under ``dft_at_ml`` (the interface from ``relax_interface`` is a DFT
    single point at an ML geometry) each part is relaxed with the ML model (``ml``)
    instead of DFT and gets a DFT single point there, the film and the coating also one
    as cut (for W_sep): every energy is DFT's, every geometry the ML model's.

    ``escalation`` (``{"within_J_m2": x, "sigma_lv_J_m2": s}``; s None: the film's DFT
    surface energy) sends a ``dft_at_ml`` interface whose W_ad lies within x of a
    Young–Dupré regime boundary on to the ``dft_relaxed`` path, in ``outdir/escalated``:
    the interface relaxed with DFT from its ML geometry (ML Hessian), the parts cut from
    it relaxed with DFT. Its record is that path's (``interface_stage`` dft_relaxed) with
    ``escalated`` (why) and the W_ad and W_sep at ML geometries.
    """
    outdir, checkpoint_dir = ensure_dir(outdir), Path(checkpoint_dir)
    scan = read_json(scan_json)
    iface_rec = read_json(Path(interface_dir) / "record.json")
    keys = ("name", "miller", "termination", "metal", "metal_miller")
    fields = {k: scan[k] for k in keys}
    fields.update({k: scan.get(k) for k in ("area_A2", "n_atoms", "strain_pct", "registry",
                                            "n_metal", "n_coating", "scan")})
    fields["polar_termination"] = scan.get("polar_termination", False)
    options = termination_options(options, fields["polar_termination"])
    if iface_rec["status"] != "ok":  # failed, or no_match: passed on as it is
        return finish(outdir, record("adhesion", None, settings, **fields,
                                     status=iface_rec["status"], reason=iface_rec["reason"]),
                      None)
    start = jsonio.decode(scan["atoms"])  # carries the tags and the fixed layers
    stage = iface_rec.get("interface_stage", "dft_relaxed")
    # built at the first part that needs it: a resumed job whose parts are kept loads no model
    ml_calc = functools.cache(lambda: calculators.make_calculator(ml["calculator"], "slab"))
    adhesion = functools.partial(_adhesion, scan=scan, bulk=read_json(bulk_json),
                                 settings=settings, options=options, fields=fields,
                                 ml=ml, ml_calc=ml_calc)
    rec = adhesion(_as_started(structure_of(Path(interface_dir) / "record.json"), start),
                   iface_rec, stage, outdir, checkpoint_dir)
    why = escalation_reason(rec, stage, escalation)
    if why is not None:
        at_ml = rec
        interface, iface_rec = _relax_escalated(start, scan, settings, options, ml_calc,
                                                outdir / "escalated" / "interface",
                                                checkpoint_dir / "escalated")
        if iface_rec["status"] != "ok":  # the ML geometries' answer stays, flagged
            rec["flags"] = [*rec["flags"], f"escalated ({why}): {iface_rec['reason']}"]
        else:
            rec = adhesion(_as_started(interface, start), iface_rec, "dft_relaxed",
                           outdir / "escalated", checkpoint_dir / "escalated")
            rec.update(escalated=why, interface_record="escalated/interface/record.json",
                       W_ad_at_ml_J_m2=at_ml.get("W_ad_J_m2"),
                       W_sep_at_ml_J_m2=at_ml.get("W_sep_J_m2"))
    write_json(outdir / "record.json", rec)
    return rec


def escalation_reason(rec: dict, stage: str, escalation: dict | None) -> str | None:
    """Why an adhesion record at ML geometries goes on to the dft_relaxed path (its W_ad
    within ``escalation["within_J_m2"]`` of a regime boundary), or None."""
    if stage != "dft_at_ml" or not escalation or rec.get("W_ad_J_m2") is None:
        return None
    sigma = escalation.get("sigma_lv_J_m2") or rec.get("metal_surface_energy_J_m2")
    if sigma is None or sigma <= 0:
        return None
    return wetting.regime_boundary_near(rec["W_ad_J_m2"], sigma, escalation["within_J_m2"])


def _as_started(atoms: Atoms, start: Atoms) -> Atoms:
    """``atoms`` (an interface geometry) with the scan start's tags (which atoms are the
    film) and fixed layers."""
    atoms.set_tags(start.get_tags())
    atoms.set_constraint(start.constraints)
    return atoms


def _kept_outcome(part_dir: Path, key: dict, settings: dict) -> Outcome | None:
    """The outcome a killed job finished before in ``part_dir`` (same key), or None."""
    prev = read_json(part_dir / "record.json") if (part_dir / "record.json").exists() else {}
    if (prev.get("settings_hash") != settings_hash(settings)
            or read_kept(part_dir / "key.json", key) is None):
        return None
    return Outcome(structure_of(part_dir / "record.json"), prev["energy_eV"],
                   prev["fmax_eV_A"], steps=prev["steps"],
                   relax_converged=prev["relax_converged"],
                   scf_converged=prev["scf_converged"],
                   extra={"energy_initial_eV": _initial_energy(prev, part_dir)})


def _relax_escalated(start: Atoms, scan: dict, settings: dict, options: dict | None,
                     ml_calc, folder: Path, checkpoint_dir: Path) -> tuple[Atoms, dict]:
    """The interface of an escalated ``dft_at_ml`` record relaxed with DFT from its ML
    geometry (``start``) with the ML model's Hessian there, in ``folder`` (kept: a rerun
    reads it back); its structure (as written) and record."""
    folder = ensure_dir(folder)
    fields = {k: scan[k] for k in ("name", "miller", "termination", "metal", "metal_miller",
                                   "registry", "area_A2")}
    key = point_key(start, settings, options, stage="escalated")
    kept = _kept_outcome(folder, key, settings)
    if kept is not None:
        return kept.atoms, read_json(folder / "record.json")
    hessian = load_hessian(ml_hessian_file(start, ml_calc, checkpoint_dir, "interface"))
    outcome, rec = _relaxed_interface(start, settings, options, folder,
                                      checkpoint_dir / "interface.traj",
                                      {**fields, "interface_stage": "dft_relaxed"}, hessian)
    write_kept(folder / "key.json", key, {})
    finish(folder, rec, outcome.atoms, checkpoint_dir / "interface.traj")
    # as written (the parts' keys hold the geometry to the file's precision): a rerun
    # reads the same
    return structure_of(folder / "record.json"), rec


def _adhesion(interface: Atoms, iface_rec: dict, stage: str, outdir: Path,
              checkpoint_dir: Path, *, scan: dict, bulk: dict, settings: dict,
              options: dict | None, fields: dict, ml: dict | None, ml_calc) -> dict:
    """The adhesion record of ``interface`` (energy and convergence in ``iface_rec``):
    its parts computed on ``stage``'s path in ``outdir/{part}``, and W_ad, W_sep, the
    film's strain and surface energy from them."""
    metal, coating = interfaces.separate(interface)
    unstrained = interfaces.unstrain(metal, np.asarray(scan["film_vectors_A"]))
    fields = {**fields, "interface_stage": stage}
    parts = {}
    for part, atoms in (("metal", metal), ("coating", coating),
                        ("metal_unstrained", unstrained)):
        part_dir = ensure_dir(outdir / part)
        # what the part's energies come from: its geometry as cut from this interface
        key = point_key(atoms, settings, options, stage=stage)
        if (kept := _kept_outcome(part_dir, key, settings)) is not None:
            parts[part] = kept  # finished before a kill: not computed twice
            continue
        if stage == "dft_at_ml":
            out = _separated_at_ml(atoms, settings, options, ml_calc(), ml, part_dir,
                                   checkpoint_dir / f"{part}_ml.traj",
                                   frozen=part != "metal_unstrained")
        elif settings["interface"]["relax_separated"]:
            out = relax_structure(atoms, settings, options, part_dir,
                                  checkpoint_dir / f"{part}.traj")
        else:
            out = slab_single_point(atoms, settings, options, part_dir / "calc.txt")
        parts[part] = out
        write_kept(part_dir / "key.json", key, {})  # before the record, written last
        finish(part_dir, record(f"adhesion_{part}", out, settings,
                                **{**fields, "n_atoms": len(atoms)}), out.atoms,
               checkpoint_dir / f"{part}.traj")
    energies = {p: o.energy_eV for p, o in parts.items()}
    # frozen: the parts exactly as they sit in the relaxed interface (the first frame of
    # their relaxation, or their single point as cut), for the work of separation
    frozen = {p: o.extra.get("energy_initial_eV", o.energy_eV) for p, o in parts.items()}
    flags = [f"{p}: SCF not converged" for p, o in parts.items() if not o.scf_converged]
    flags += [f"{p} as cut: SCF not converged" for p in ("metal", "coating")
              if frozen[p] is None and energies[p] is not None]
    flags += [f"{p}: relaxation not converged" for p, o in parts.items()
              if settings["interface"]["relax_separated"] and not o.relax_converged]
    if iface_rec.get("relax_converged") is False:
        flags.append("interface: relaxation not converged")
    above_cut = {}
    for p in ("metal", "coating"):
        # a relaxed part cannot lie above its start; a DFT single point at the ML model's
        # geometry can (dft_at_ml): then the cut's DFT energy is the better estimate
        if None not in (energies[p], frozen[p]) and energies[p] > frozen[p]:
            above_cut[p] = round(energies[p] - frozen[p], 4)
            energies[p] = frozen[p]
    rec = record("adhesion", None, settings, **fields, flags=flags,
                 relaxed_part_above_cut_eV=above_cut,
                 E_interface_eV=iface_rec["energy_eV"],
                 **{f"E_{p}_eV": e for p, e in energies.items()})
    if None in energies.values() or None in frozen.values() or iface_rec["energy_eV"] is None:
        rec.update(status="failed", reason="; ".join(flags) or "interface SCF did not converge")
    else:
        rec.update(energetics.adhesion(
            iface_rec["energy_eV"], energies["metal"], energies["coating"], frozen["metal"],
            frozen["coating"], energies["metal_unstrained"], scan["area_A2"],
            len(unstrained), slabs.surface_area(unstrained), bulk.get("energy_per_atom_eV")))
    return rec


def _separated_at_ml(atoms: Atoms, settings: dict, options: dict | None, ml_calc, ml: dict,
                     part_dir: Path, ml_checkpoint: Path, frozen: bool) -> Outcome:
    """One separated part under ``dft_at_ml``: a DFT single point as cut (``frozen``: its
    energy is ``extra["energy_initial_eV"]``, for W_sep) and, with
    ``interface.relax_separated``, an ML relaxation and a DFT single point there."""
    as_cut = (slab_single_point(atoms, settings, options, part_dir / "as_cut_calc.txt",
                                forces=False) if frozen else None)
    if as_cut is not None and as_cut.energy_eV is not None:
        # the part's density where it sits in the interface: the interface's
        # charge-density difference (jobs.charges) reads it instead of the same SCF
        charges.save_density(as_cut.atoms.calc, part_dir / charges.DENSITY_FILE)
    if not settings["interface"]["relax_separated"]:
        out = as_cut or slab_single_point(atoms, settings, options, part_dir / "calc.txt")
    else:
        ml_out = ml_then_dft.ml_relax(atoms, ml_calc, ml["fmax_eV_A"], ml["steps"],
                                      ml_checkpoint)
        relaxed = ml_out.atoms.copy()
        relaxed.set_constraint(atoms.constraints)
        out = slab_single_point(relaxed, settings, options, part_dir / "calc.txt")
        out.relax_converged = ml_out.relax_converged  # the ML relaxation's
        out.extra.update(ml_energy_eV=ml_out.energy_eV, ml_steps=ml_out.steps)
    if as_cut is not None:
        out.extra["energy_initial_eV"] = as_cut.energy_eV
        if out is not as_cut:  # its cost counts with the part's
            out.wall_s += as_cut.wall_s
            if out.scf_iterations is not None and as_cut.scf_iterations is not None:
                out.scf_iterations += as_cut.scf_iterations
    return out
