"""Job of the charge stage (rule ``charge_transfer`` in ``workflow/rules/report.smk``):
charge-density differences of a coating's best site and of its interfaces with one metal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import jsonio

from philicity import charges, interfaces, ranking
from philicity.config import settings_hash
from philicity.files import atomic_write_text, interface_record_path, read_json, versions
from philicity.jobs.dft import calc_settings, slab_single_point
from philicity.jobs.mpi import is_master, write_json
from philicity.jobs.records import ensure_dir, structure_of, termination_options


def best_site(records: list[dict]) -> dict | None:
    """The site the ranking ranks on (:func:`philicity.ranking.best_sites`): of the site
    records of the best :func:`philicity.ranking.site_tier`, the one with the lowest
    E(slab + adatom) - E(clean slab) (the lowest E_b whatever the references); None if
    there is none."""
    tiered = [(ranking.site_tier(r.get("stage"), "; ".join(r.get("flags") or [])), r)
              for r in records if r.get("status") == "ok"
              and r.get("energy_eV") is not None and r.get("E_clean_slab_eV") is not None]
    tiered = [(t, r) for t, r in tiered if t is not None]
    top = min((t for t, _ in tiered), default=None)
    return min((r for t, r in tiered if t == top),
               key=lambda r: r["energy_eV"] - r["E_clean_slab_eV"], default=None)


def density_difference(atoms: Atoms, lower: np.ndarray, settings: dict,
                       options: dict | None, outdir: Path, label: str,
                       saved: dict[str, Path] | None = None) -> dict:
    """rho(AB) - rho(A) - rho(B) of ``atoms`` split into the ``lower`` part (boolean mask:
    the substrate) and the rest (adatom or film), all three DFT single points at this
    geometry in this cell. ``saved`` (keys ``combined``, ``lower``, ``upper``): densities
    that calculations at exactly these geometries in this cell already converged and kept
    (:func:`philicity.charges.save_density`), read instead of their single points; one on
    another grid (other settings) is computed again. Writes
    the cube ``{label}_density_difference.cube`` (e/bohr^3), the
    plane-averaged profile ``{label}_profile.csv`` and ``.png``, and returns the summary:
    charge moved across the plane between the parts (e, positive toward the lower part),
    the difference's integral (e, zero up to the grid's error; each density's own
    integral, its electron count up to that error, beside it), the upper part's Hirshfeld
    charge in the combined system (e) and which densities were read (``read``)."""
    saved = {part: Path(p) for part, p in (saved or {}).items()
             if p is not None and Path(p).exists()}
    parts = {"lower": atoms[lower], "upper": atoms[~lower], "combined": atoms}
    densities, cost = {}, 0.0

    def computed(part: str) -> tuple[np.ndarray, list[float] | None] | dict:
        """The part's density (and, for the whole, Hirshfeld charges) from its own single
        point, or the failed summary."""
        nonlocal cost
        part_atoms = parts[part].copy()
        part_atoms.set_constraint()
        sp = slab_single_point(part_atoms, settings, options,
                               outdir / f"{label}_{part}_calc.txt", forces=False,
                               energy_only=False)
        cost += sp.wall_s
        if sp.energy_eV is None:
            return {"status": "failed", "reason": f"{label}: the {part} SCF did not converge"}
        rho = charges.all_electron_density(sp.atoms.calc)
        if rho is None:
            return {"status": "skipped", "reason": f"the {settings['calculator']['name']}"
                    " calculator has no electron density"}
        q = (charges.hirshfeld_charges(sp.atoms.calc, outdir / f"{label}_density.gpw")
             if part == "combined" else None)
        return rho, q

    def compute(todo: list[str]) -> dict | None:
        """Each part of ``todo`` from its own single point; the failed summary, if any."""
        for part in todo:
            got = computed(part)
            if isinstance(got, dict):
                return got
            densities[part] = got
        return None

    # a kept density is read only if it is of exactly this part's geometry
    kept = {part: charges.saved_density(saved[part], hirshfeld=part == "combined",
                                        atoms=parts[part]) for part in parts if part in saved}
    read = [part for part, got in kept.items() if got is not None]
    densities.update({part: kept[part] for part in read})
    failed = compute([part for part in parts if part not in read])
    if failed is None and len({rho.shape for rho, _ in densities.values()}) > 1:
        # a kept density on another grid (other settings): those computed here too
        failed, read = compute(read), []
    if failed is not None:
        return failed
    hirshfeld = float(np.asarray(densities["combined"][1])[~lower].sum())
    integrals = {f"{part}_integral_e": charges.integrate(rho, atoms.cell.array)
                 for part, (rho, _) in densities.items()}
    densities = {part: rho for part, (rho, _) in densities.items()}
    diff = charges.density_difference(densities["combined"], densities["lower"],
                                      densities["upper"])
    profile = charges.plane_profile(diff, atoms.cell.array)
    z_plane = charges.interface_plane(atoms, lower)
    if is_master():  # every rank holds the densities; one writes
        charges.write_cube(outdir / f"{label}_density_difference.cube", atoms, diff)
        atomic_write_text(outdir / f"{label}_profile.csv", "z_A,drho_e_per_A,dq_below_e\n"
                          + "".join(f"{z:.4f},{r:.6f},{q:.6f}\n" for z, r, q in zip(
                              profile.z_A, profile.rho_e_per_A, profile.q_below_e,
                              strict=True)))
        _plot_profile(profile, z_plane, outdir / f"{label}_profile.png", label)
    moved = {"charge_moved_e": profile.charge_moved(z_plane)} if z_plane is not None else {
        "charge_moved_e": None,
        "note": "the upper part reaches below the lower one's top atom: no plane between them"}
    return {"status": "ok", **moved, "z_plane_A": z_plane,
            "integral_e": charges.integrate(diff, atoms.cell.array),
            "upper_hirshfeld_e": hirshfeld, "wall_s": round(cost, 2), **integrals,
            "read": read,
            "cube": f"{label}_density_difference.cube", "profile": f"{label}_profile.csv"}


def _plot_profile(profile: charges.Profile, z_plane: float | None, path: Path,
                  label: str) -> None:
    """The plane-averaged difference and its running integral along z, the plane marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(profile.z_A, profile.rho_e_per_A, label=r"$\Delta\bar\rho(z)$ (e/$\AA$)")
    ax.plot(profile.z_A, profile.q_below_e, label=r"$\Delta q(z)$ (e)")
    if z_plane is not None:
        ax.axvline(z_plane, color="grey", ls="--", lw=1)
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel(r"z ($\AA$)")
    ax.set_title(f"{label}: charge-density difference, plane average")
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def charge_transfer(site_summary: str | Path, settings: dict, outdir: str | Path,
                    name: str, metal: str, interface_summary: str | Path | None = None,
                    options: dict | None = None) -> dict:
    """Charge-density differences of one coating with one metal: its best site (the
    adatom against the slab) and each computed interface (the film against the coating),
    in ``outdir`` with ``record.json`` last."""
    outdir = ensure_dir(outdir)
    rec = {"kind": "charges", "name": name, "metal": metal, "status": "ok",
           "settings_hash": settings_hash(settings), "versions": versions(), "parts": []}
    records = [(p, read_json(p)) for p in read_json(site_summary).get("sites", [])]
    best = best_site([r for _, r in records])
    if best is not None:
        path = next(p for p, r in records if r is best)
        atoms = structure_of(path)
        lower = np.arange(len(atoms)) < len(atoms) - 1  # the adatom is the last atom
        polar = termination_options(options, best.get("polar_termination", False))
        rec["parts"].append({"part": "site", "site": best["site"], "miller": best["miller"],
                             "termination": best.get("termination"),
                             **density_difference(atoms, lower, settings, polar, outdir,
                                                  f"site_{best['site']}", {
                                                      "combined": Path(path).parent
                                                      / charges.DENSITY_FILE})})
    adhesions = read_json(interface_summary).get("adhesion", []) if interface_summary else []
    for path in map(Path, adhesions):
        adhesion = read_json(path)
        if adhesion.get("status") != "ok":
            continue
        folder = path.parent.parent
        scan = read_json(folder / "scan.json")
        iface_json = interface_record_path(path, adhesion)
        atoms = structure_of(iface_json)
        atoms.set_tags(jsonio.decode(scan["atoms"]).get_tags())
        lower = atoms.get_tags() != interfaces.FILM_TAG  # the coating below the film
        label = (f"interface_{adhesion['miller']}_t{adhesion['termination']}_"
                 f"{metal}{adhesion['metal_miller']}")
        polar = termination_options(options, adhesion.get("polar_termination", False))
        # the densities kept at exactly these geometries: the interface's (its
        # relaxation's, or under dft_at_ml the scan's single point of the chosen
        # registry) and, under dft_at_ml, the coating's and the film's as cut from it
        # (compute_adhesion's single points for W_sep)
        at_ml = adhesion.get("interface_stage", scan.get("interface_stage")) == "dft_at_ml"
        saved = {"combined": (folder if at_ml else iface_json.parent) / charges.DENSITY_FILE}
        if at_ml:
            saved.update(lower=path.parent / "coating" / charges.DENSITY_FILE,
                         upper=path.parent / "metal" / charges.DENSITY_FILE)
        rec["parts"].append({"part": "interface", "miller": adhesion["miller"],
                             "termination": adhesion["termination"],
                             "metal_miller": adhesion["metal_miller"],
                             **density_difference(atoms, lower, settings, polar, outdir,
                                                  label, saved)})
    rec["calculator"] = calc_settings(settings, options)["name"]
    write_json(outdir / "record.json", rec)
    return rec
