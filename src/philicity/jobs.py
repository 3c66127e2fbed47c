"""One function per Snakemake rule: read inputs, call the science, write one folder.

Each function takes plain paths and dicts (no ``snakemake`` object, no global
config), so it runs the same from a Snakemake script, a test or a notebook.
Problems with a candidate's input are written as ``status: failed`` records
with the reason, so the ranking can list the candidate instead of losing it.

Under MPI (``philicity.launch``) every rank runs the same function and GPAW splits the
work; files are written by rank 0 only (``write_json``, ``write_atoms`` and the moves
below), while GPAW's and ASE's own writers (text logs, trajectories, .gpw) do the same.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.filters import FrechetCellFilter
from ase.io import jsonio, read
from ase.optimize import BFGS

from philicity import (
    calculators,
    energetics,
    fastpath,
    interfaces,
    io,
    quality,
    sites,
    slabs,
    structures,
)
from philicity.config import settings_hash
from philicity.io import collect_database, read_json, versions
from philicity.relax import Outcome, relax, single_point

__all__ = ["check_candidate", "collect_database", "compute_adhesion", "compute_atom",
           "compute_bulk", "prescreen_sites", "relax_adsorbate", "relax_clean_slab",
           "relax_interface", "report_metal", "scan_interface", "select_termination"]


def _is_master() -> bool:
    """True on MPI rank 0, and in serial runs."""
    from ase.parallel import world

    return world.rank == 0


def _master_only(write: Callable[..., None]) -> Callable[..., None]:
    """``write`` on MPI rank 0 only: the other ranks computed the same result."""

    @functools.wraps(write)
    def on_master(*args, **kwargs) -> None:
        if _is_master():
            write(*args, **kwargs)

    return on_master


write_json = _master_only(io.write_json)
write_atoms = _master_only(io.write_atoms)


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
        rec.update(outcome.extra)
    rec.update(fields)
    return rec


def _finish(outdir: Path, rec: dict, outcome: Outcome | None,
            checkpoint: str | Path | None = None) -> None:
    """Write the structure, keep the trajectory, and write the record last: a record
    means the folder is complete."""
    if outcome is not None:
        write_atoms(outdir / "final.extxyz", outcome.atoms)
    if checkpoint is not None and Path(checkpoint).exists() and _is_master():
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
                f"{settings['calculator']['name']} calculator"
                + (f" (no {settings['calculator']['xc']} PAW setup)"
                   if settings["calculator"]["name"] == "gpaw" else ""),
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
        bulk = _bulk_structure(structure_path)
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


def _point_key(atoms: Atoms, settings: dict, options: dict | None, **extra) -> dict:
    """What a kept single point was computed from: a rerun reuses it only if all match."""
    return {"settings_hash": settings_hash(settings), "options": options or {},
            "atoms": _canonical_atoms(jsonio.encode(atoms)), **extra}


def _canonical_atoms(encoded: str) -> str:
    """ASE's JSON of an Atoms with sorted keys: the order of ``atoms.arrays`` (pymatgen's
    site properties) differs between runs on the same structure, which made equal
    geometries look different and recomputed a kept 35-minute single point."""
    return json.dumps(json.loads(encoded), sort_keys=True)


def _same_key(kept: dict | None, key: dict) -> bool:
    """``kept`` (read back, possibly written before keys were canonical) matches ``key``."""
    if not kept or "atoms" not in kept:
        return False
    return {**kept, "atoms": _canonical_atoms(kept["atoms"])} == key


def _kept_energy(path: Path, atoms: Atoms, settings: dict, options: dict | None,
                 compute) -> float | None:
    """Energy (eV) of a single point, kept in ``path`` beside the job's output so a job
    killed after some of its single points does not redo them on the rerun."""
    key = _point_key(atoms, settings, options)
    if path.is_file() and _same_key((kept := read_json(path)).get("key"), key):
        return kept["energy_eV"]
    energy = compute()
    if energy is not None:
        write_json(path, {"key": key, "energy_eV": energy})
    return energy


def _termination(terminations: dict, index: int) -> dict:
    return next(t for t in terminations["terminations"] if t["index"] == index)


def _bulk_structure(path: str | Path):
    """A bulk structure as pymatgen: a CIF, or compute_bulk's (relaxed) ``final.extxyz``."""
    if str(path).endswith(".cif"):
        return structures.read_structure(path)
    return structures.AseAtomsAdaptor.get_structure(read(path))


def _with_scf_retries(run, settings: dict, options: dict | None) -> Outcome:
    """Call ``run(calc_settings)`` until its SCF converges, with safer settings each retry
    (``calculator.scf_retries``); every try is recorded in ``outcome.extra``."""
    base = _calc_settings(settings, options)
    tries = []
    for attempt in range(base.get("scf_retries", 0) + 1):
        calc_settings = calculators.safer_settings(base, attempt)
        outcome = run(calc_settings, attempt)
        tries.append({"attempt": attempt, "mixer_beta": calc_settings["mixer"]["beta"],
                      "maxiter": calc_settings["maxiter"],
                      "nbands": calc_settings.get("nbands", "default"),
                      "scf_converged": outcome.scf_converged,
                      "wall_s": round(outcome.wall_s, 2)})
        if outcome.scf_converged:
            break
    outcome.extra["scf_tries"] = tries
    outcome.wall_s = sum(t["wall_s"] for t in tries)
    return outcome


def _save_wavefunctions(calc, path: Path) -> str:
    """Write a GPAW calculator's wave functions and density to ``path`` (.gpw), which a
    relaxation from the same atoms restarts from without an SCF (forces included)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(f"{path}.tmp")
    calc.write(tmp, mode="all")  # all ranks take part, rank 0 writes
    if _is_master():
        tmp.replace(path)  # a kill never leaves half a wave-function file
    return str(path)


def _slab_single_point(atoms: Atoms, settings: dict, options: dict | None,
                       txt: str | Path, forces: bool = True) -> Outcome:
    """Energy of a slab as it is, with the configured calculator (SCF retried)."""
    _apply_magmoms(atoms, options)
    return _with_scf_retries(lambda cs, _: single_point(
        atoms, calculators.make_calculator(cs, "slab", txt=txt), forces=forces),
        settings, options)


def _relax_slab(atoms: Atoms, settings: dict, options: dict | None, outdir: Path,
                checkpoint: str | Path, restart: str | Path | None = None,
                hessian: np.ndarray | None = None) -> Outcome:
    """Relax a slab (with or without adatom) with the configured calculator and optimizer;
    ``restart``: a .gpw of these atoms whose wave functions start the first SCF;
    ``hessian``: BFGS's initial Hessian. An SCF failure is retried with safer settings,
    continuing from the checkpoint."""
    _apply_magmoms(atoms, options)
    rx = settings["relax"]

    def run(calc_settings: dict, attempt: int) -> Outcome:
        if restart is not None and Path(restart).exists() and attempt == 0:
            calc = calculators.restart_calculator(restart, txt=outdir / "calc.txt")
            if np.abs(calc.atoms.positions - atoms.positions).max() < 1e-8:
                atoms.positions = calc.atoms.positions  # identical: stored results reused
        else:
            calc = calculators.make_calculator(calc_settings, "slab", txt=outdir / "calc.txt")
        return relax(atoms, calc, rx["fmax_eV_A"], rx["steps"], checkpoint, rx["optimizer"],
                     log=outdir / "opt.log", hessian=hessian)

    outcome = _with_scf_retries(run, settings, options)
    if restart is not None and _is_master():  # used; a killed relaxation keeps it
        Path(restart).unlink(missing_ok=True)
    return outcome


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


def _relaxed_clean(terms: dict, clean_dir: str | Path, termination: int) -> Atoms:
    """The relaxed clean slab with the fixed layers and tags of the unrelaxed one."""
    clean = read(Path(clean_dir) / "final.extxyz")
    unrelaxed = jsonio.decode(_termination(terms, termination)["atoms"])
    clean.set_constraint(unrelaxed.constraints)
    clean.set_tags(unrelaxed.get_tags())
    return clean


def prescreen_sites(terminations_json: str | Path, clean_dir: str | Path, termination: int,
                    metal: str, settings: dict, ml: dict, out_json: str | Path,
                    checkpoint_dir: str | Path, options: dict | None = None) -> dict:
    """The ml-then-dft strategy's decision for one termination and metal.

    Every site is relaxed with the ML potential and checked (desorbed, moved,
    reconstructed: pruned); each survivor gets a DFT single point at its ML geometry;
    the ``ml.top_k`` lowest are marked for DFT relaxation. Finished ML relaxations and
    single points are kept in ``checkpoint_dir`` so a killed job resumes.
    """
    out_json, checkpoint_dir = Path(out_json), _outdir(checkpoint_dir)
    _outdir(out_json.parent)
    terms = read_json(terminations_json)
    clean_rec = read_json(Path(clean_dir) / "record.json")
    rec = {"kind": "prescreen", "name": terms["name"], "miller": terms["miller"],
           "termination": termination, "metal": metal, "ml": ml,
           "settings_hash": settings_hash(settings), "versions": versions(), "sites": []}
    if clean_rec["status"] != "ok":
        rec.update(status="failed", reason=f"clean slab failed: {clean_rec.get('reason')}")
        write_json(out_json, rec)
        return rec
    clean = _relaxed_clean(terms, clean_dir, termination)
    entry = _termination(terms, termination)
    ml_calc = calculators.make_calculator(ml["calculator"], "slab")
    # ML trajectories in their own folder: the DFT relaxation of a site checkpoints to
    # {site}.traj beside the prescreen and must not resume from (and count) ML steps
    # the ML binding energies use references from the same model
    ml_clean = fastpath.ml_relax(clean, ml_calc, ml["fmax_eV_A"], ml["steps"],
                                 checkpoint_dir / "ml" / "clean.traj")
    ml_atom = single_point(structures.isolated_atom(metal, settings["calculator"]["atom_box_A"]),
                           ml_calc, forces=False)
    rec.update(ml_clean_slab_eV=ml_clean.energy_eV, ml_atom_eV=ml_atom.energy_eV)
    for site in (s for s in terms["sites"] if s["termination"] == termination):
        done = checkpoint_dir / f"{site['name']}.json"
        if done.exists():
            rec["sites"].append(read_json(done))
            continue
        initial = sites.place_adatom(clean, site, metal, settings["sites"]["height_scale"])
        # the symmetric start gives the geometry DFT starts from; the nudged start tells
        # whether the site is a minimum at all (a saddle point slides off: "moved")
        ml_out = fastpath.ml_relax(initial, ml_calc, ml["fmax_eV_A"], ml["steps"],
                                   checkpoint_dir / "ml" / f"{site['name']}.traj")
        flags = quality.site_flags(initial, ml_out.atoms, clean, entry.get("all_sites", []),
                                   site["kind"], settings["quality"], True,
                                   ml_out.relax_converged)
        if ml["nudge_A"] > 0:
            nudged = fastpath.ml_relax(fastpath.nudge_adatom(initial, ml["nudge_A"]), ml_calc,
                                       ml["fmax_eV_A"], ml["steps"],
                                       checkpoint_dir / "ml" / f"{site['name']}_nudged.traj")
            kinds = {f.split()[0] for f in flags}
            flags += [f for f in quality.site_flags(
                initial, nudged.atoms, clean, entry.get("all_sites", []), site["kind"],
                settings["quality"], True, True) if f.split()[0] not in kinds]
        item = {"site": site["name"], "site_kind": site["kind"], "ml_energy_eV": ml_out.energy_eV,
                "ml_E_b_atom_eV": energetics.binding_energy(
                    ml_out.energy_eV, ml_clean.energy_eV, ml_atom.energy_eV),
                "ml_steps": ml_out.steps, "ml_wall_s": round(ml_out.wall_s, 2),
                "ml_flags": flags, "pruned_by": fastpath.pruning_flags(flags),
                "ml_atoms": jsonio.encode(ml_out.atoms), "adatom_start_A":
                initial.positions[-1].tolist()}
        if not item["pruned_by"]:
            atoms = fastpath.onto_dft_substrate(ml_out.atoms, clean)
            atoms.set_constraint(initial.constraints)
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
        rec["sites"].append(item)
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


def _ml_hessian_file(atoms: Atoms, ml_calc, folder: Path, stem: str) -> str:
    """The ML model's Hessian at ``atoms`` (the initial Hessian of their DFT relaxation),
    saved once as ``{folder}/{stem}_hessian_{geometry hash}.npy``; returns the path."""
    from ase.parallel import broadcast

    digest = hashlib.sha1(_canonical_atoms(jsonio.encode(atoms)).encode()).hexdigest()[:12]
    path = folder / f"{stem}_hessian_{digest}.npy"
    if not path.exists():
        fixed = {int(i) for c in atoms.constraints for i in c.get_indices()}
        free = [i for i in range(len(atoms)) if i not in fixed]
        hessian = broadcast(fastpath.ml_hessian(atoms, ml_calc, free), 0)
        if _is_master():
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, hessian)
            tmp.replace(path)
    return str(path)


def _load_hessian(path: str | None) -> np.ndarray | None:
    """A saved initial Hessian, or None (ASE's default) if there is none or it is gone."""
    return np.load(path) if path and Path(path).exists() else None


def relax_adsorbate(terminations_json: str | Path, clean_dir: str | Path, site_id: str,
                    metal: str, settings: dict, outdir: str | Path, checkpoint: str | Path,
                    options: dict | None = None,
                    prescreen_json: str | Path | None = None) -> dict:
    """Place one ``metal`` adatom on a site of the relaxed clean slab, relax, and flag.

    With ``prescreen_json`` (the ml-then-dft strategy) the site starts from its ML
    geometry and is relaxed with DFT only if the prescreen selected it; otherwise the
    record carries the DFT single point at the ML geometry, or the ML flags that
    pruned it. Energies are always DFT; the ML energy is kept beside them.
    """
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
    clean = _relaxed_clean(terms, clean_dir, site["termination"])
    initial = sites.place_adatom(clean, site, metal, settings["sites"]["height_scale"])
    start, stage = initial, "dft_relaxed"
    if prescreen_json is not None:
        pre = read_json(prescreen_json)
        item = next(i for i in pre["sites"] if i["site"] == site["name"])
        fields.update({k: item.get(k) for k in ("ml_energy_eV", "ml_E_b_atom_eV", "ml_steps",
                                                  "ml_flags", "dft_single_point_eV")})
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
    flags = quality.site_flags(initial, outcome.atoms, clean, entry.get("all_sites", []),
                               site["kind"], settings["quality"], outcome.scf_converged,
                               outcome.relax_converged)
    rec = _record("adsorbate", outcome, settings, **fields, flags=flags, stage=stage,
                  E_clean_slab_eV=clean_rec["energy_eV"],
                  adatom_start_A=initial.positions[-1].tolist(),
                  adatom_final_A=outcome.atoms.positions[-1].tolist())
    _finish(outdir, rec, outcome, checkpoint)
    return rec


def report_metal(metal: str, candidate_jsons: list, adsorbate_jsons: list,
                 baseline_jsons: list, atom_json: str | Path, bulk_json: str | Path,
                 reference_miller: str, settings: dict, weights: dict,
                 sites_csv: str | Path, baseline_csv: str | Path, ranking_csv: str | Path,
                 ranking_md: str | Path, adhesion_jsons: list | None = None,
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
    table = ranking.site_rows([r for r in map(read_json, adsorbate_jsons)
                               if r["name"] not in failed], formula, e_atom, e_bulk)
    base = ranking.site_rows([read_json(p) for p in baseline_jsons], {metal: metal},
                             e_atom, e_bulk)
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
                             ifaces)
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


def scan_interface(terminations_json: str | Path, coating_structure: str | Path,
                   metal_structure: str | Path, metal: str, metal_miller: str,
                   termination: int, settings: dict, out_json: str | Path,
                   checkpoint: str | Path, options: dict | None = None,
                   ml: dict | None = None) -> dict:
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
    _outdir(out_json.parent)
    terms = read_json(terminations_json)
    ic = settings["interface"]
    rec = {"kind": "interface_scan", "name": terms["name"], "miller": terms["miller"],
           "termination": termination, "metal": metal, "metal_miller": metal_miller,
           "settings_hash": settings_hash(settings), "versions": versions()}
    if terms["status"] != "ok":
        rec.update(status="failed", reason=terms["reason"])
        write_json(out_json, rec)
        return rec
    coating = structures.read_structure(coating_structure)
    raw = slabs.generate_terminations(coating, slabs.str_to_miller(terms["miller"]),
                                      settings["slab"]["min_thickness_A"],
                                      settings["slab"]["vacuum_A"])
    try:
        found = interfaces.build_interfaces(
            _bulk_structure(metal_structure), slabs.str_to_miller(metal_miller), coating,
            slabs.str_to_miller(terms["miller"]), coating_shift=raw[termination].shift,
            **interfaces.settings_bounds(ic))
    except interfaces.InterfaceError as exc:
        rec.update(status="no_match", reason=f"{metal}({metal_miller}) on {terms['name']}"
                   f"({terms['miller']}): {exc}")
        write_json(out_json, rec)
        return rec
    best = found[0]
    iface = best["interface"]
    props = iface.interface_properties
    rec.update(area_A2=best["area_A2"], n_atoms=best["n_atoms"],
               strain_pct=best["strain_pct"], labels=best["termination"],
               n_metal=len(iface.film_indices), n_coating=len(iface.substrate_indices),
               film_vectors_A=np.asarray(props["film_sl_vectors"]).tolist(),
               alternatives=[{k: e[k] for k in ("n_atoms", "area_A2", "strain_pct")}
                             for e in found[1:]])
    done = {tuple(p["offset"]): p for p in (read_json(checkpoint)["points"]
                                             if checkpoint.exists() else [])}
    points, structures_by_offset = [], {}
    ml_calc = calculators.make_calculator(ml["calculator"], "slab") if ml else None
    for i, offset in enumerate(interfaces.registry_shifts(iface, ic["registry_grid"])):
        atoms = interfaces.to_atoms(iface, offset, ic["vacuum_A"],
                                    settings["slab"]["fixed_layers"],
                                    settings["slab"]["layer_tolerance_A"])
        key = _point_key(atoms, settings, options, ml=ml and ml["calculator"])
        if not _same_key(done.get(offset, {}).get("key"), key):
            point = {"offset": list(offset), "key": key}
            if ml is not None:  # ml-then-dft: the DFT single point at the ML geometry
                ml_traj = checkpoint.with_name(f"ml_{i}.traj")
                if offset in done:  # kept from other inputs: start afresh (every rank)
                    ml_traj.unlink(missing_ok=True)
                ml_out = fastpath.ml_relax(atoms, ml_calc, ml["fmax_eV_A"], ml["steps"],
                                           ml_traj)
                relaxed = ml_out.atoms.copy()
                relaxed.set_constraint(atoms.constraints)
                atoms = relaxed
                point.update(ml_energy_eV=ml_out.energy_eV, ml_steps=ml_out.steps,
                             atoms=jsonio.encode(atoms))
            out = _slab_single_point(atoms, settings, options,
                                     out_json.with_name("scan_calc.txt"), forces=False)
            point.update(energy_eV=out.energy_eV, scf_converged=out.scf_converged,
                         scf_iterations=out.scf_iterations, wall_s=round(out.wall_s, 2))
            lowest = min((p["energy_eV"] for o, p in done.items()
                          if o != offset and p["energy_eV"] is not None), default=np.inf)
            if (out.energy_eV is not None and out.energy_eV < lowest
                    and settings["calculator"]["name"] == "gpaw"):
                # the relaxation of the lowest registry restarts from its wave functions
                # (no SCF for its first forces); one file, the lowest so far
                gpw = checkpoint.with_name("lowest_registry.gpw")
                point["gpw"] = _save_wavefunctions(out.atoms.calc, gpw)
                for p in done.values():
                    p.pop("gpw", None)
            done[offset] = point
            write_json(checkpoint, {"points": list(done.values())})
        if "atoms" in done[offset]:
            atoms = jsonio.decode(done[offset]["atoms"])
        structures_by_offset[offset] = atoms
        points.append({k: v for k, v in done[offset].items()
                       if k not in ("atoms", "key", "gpw")})
    rec["scan"] = points
    ok = [p for p in points if p["energy_eV"] is not None]
    if not ok:
        rec.update(status="failed", reason="no registry converged (SCF)")
    else:
        chosen = min(ok, key=lambda p: p["energy_eV"])
        best_atoms = structures_by_offset[tuple(chosen["offset"])]
        rec.update(status="ok", registry=chosen["offset"], atoms=jsonio.encode(best_atoms))
        gpw = done[tuple(chosen["offset"])].get("gpw")
        if gpw is not None and Path(gpw).exists():
            rec["gpw"] = gpw
        if ml is not None:  # the DFT relaxation of the best registry starts from ML's Hessian
            rec["hessian"] = _ml_hessian_file(best_atoms, ml_calc, checkpoint.parent,
                                              checkpoint.stem)
    write_json(out_json, rec)
    return rec


def relax_interface(scan_json: str | Path, settings: dict, outdir: str | Path,
                    checkpoint: str | Path, options: dict | None = None) -> dict:
    """Relax the lowest-energy registry of the scan (bottom coating layers fixed)."""
    outdir = _outdir(outdir)
    scan = read_json(scan_json)
    fields = {k: scan[k] for k in ("name", "miller", "termination", "metal", "metal_miller")}
    if scan["status"] != "ok":
        rec = _record("interface", None, settings, **fields, status=scan["status"],
                      reason=scan["reason"])
        _finish(outdir, rec, None)
        return rec
    hessian = _load_hessian(scan.get("hessian"))
    outcome = _relax_slab(jsonio.decode(scan["atoms"]), settings, options, outdir, checkpoint,
                          restart=scan.get("gpw"), hessian=hessian)
    rec = _record("interface", outcome, settings, **fields, registry=scan["registry"],
                  area_A2=scan["area_A2"],
                  initial_hessian="default" if hessian is None else "ml")
    if outcome.energy_eV is None:
        rec.update(status="failed", reason="interface SCF did not converge")
    _finish(outdir, rec, outcome, checkpoint)
    return rec


def compute_adhesion(scan_json: str | Path, interface_dir: str | Path,
                     bulk_json: str | Path, settings: dict, outdir: str | Path,
                     checkpoint_dir: str | Path, options: dict | None = None) -> dict:
    """W_ad of the relaxed interface, the strain energy of the metal film and the DFT
    surface energy of the (unstrained) metal film.

    The metal film and the coating slab are cut from the relaxed interface and
    computed in its cell (same k-mesh); with ``interface.relax_separated`` they are
    relaxed first. The unstrained film is the metal film at its own lattice.
    """
    outdir, checkpoint_dir = _outdir(outdir), Path(checkpoint_dir)
    scan = read_json(scan_json)
    iface_rec = read_json(Path(interface_dir) / "record.json")
    keys = ("name", "miller", "termination", "metal", "metal_miller")
    fields = {k: scan[k] for k in keys}
    fields.update({k: scan.get(k) for k in ("area_A2", "n_atoms", "strain_pct", "registry",
                                            "n_metal", "n_coating", "scan")})
    if iface_rec["status"] != "ok":
        rec = _record("adhesion", None, settings, **fields, status=iface_rec["status"],
                      reason=iface_rec["reason"])
        write_json(outdir / "record.json", rec)
        return rec
    relaxed = read(Path(interface_dir) / "final.extxyz")
    start = jsonio.decode(scan["atoms"])  # carries the tags and the fixed layers
    relaxed.set_tags(start.get_tags())
    relaxed.set_constraint(start.constraints)
    metal, coating = interfaces.separate(relaxed)
    unstrained = interfaces.unstrain(metal, np.asarray(scan["film_vectors_A"]))
    parts = {}
    for part, atoms in (("metal", metal), ("coating", coating),
                        ("metal_unstrained", unstrained)):
        part_dir = _outdir(outdir / part)
        prev = read_json(part_dir / "record.json") if (part_dir / "record.json").exists() else {}
        if prev.get("settings_hash") == settings_hash(settings):
            # finished before a kill: not computed twice
            parts[part] = Outcome(read(part_dir / "final.extxyz"), prev["energy_eV"],
                                  prev["fmax_eV_A"], steps=prev["steps"],
                                  relax_converged=prev["relax_converged"],
                                  scf_converged=prev["scf_converged"])
            continue
        if settings["interface"]["relax_separated"]:
            out = _relax_slab(atoms, settings, options, part_dir,
                              checkpoint_dir / f"{part}.traj")
        else:
            out = _slab_single_point(atoms, settings, options, part_dir / "calc.txt")
        parts[part] = out
        _finish(part_dir, _record(f"adhesion_{part}", out, settings, **fields), out,
                checkpoint_dir / f"{part}.traj")
    energies = {p: o.energy_eV for p, o in parts.items()}
    bulk = read_json(bulk_json)
    flags = [f"{p}: SCF not converged" for p, o in parts.items() if not o.scf_converged]
    flags += [f"{p}: relaxation not converged" for p, o in parts.items()
              if settings["interface"]["relax_separated"] and not o.relax_converged]
    if iface_rec.get("relax_converged") is False:
        flags.append("interface: relaxation not converged")
    rec = _record("adhesion", None, settings, **fields, flags=flags,
                  E_interface_eV=iface_rec["energy_eV"],
                  **{f"E_{p}_eV": e for p, e in energies.items()})
    if None in energies.values():
        rec.update(status="failed", reason="; ".join(flags))
    else:
        area = scan["area_A2"]
        rec.update(
            W_ad_J_m2=energetics.work_of_adhesion(energies["metal"], energies["coating"],
                                                  iface_rec["energy_eV"], area),
            E_strain_J_m2=energetics.strain_energy(energies["metal"],
                                                   energies["metal_unstrained"], area),
            metal_surface_energy_J_m2=energetics.surface_energy(
                energies["metal_unstrained"], len(unstrained),
                bulk["energy_per_atom_eV"], slabs.surface_area(unstrained))
            if bulk.get("energy_per_atom_eV") is not None else None,
        )
    write_json(outdir / "record.json", rec)
    return rec
