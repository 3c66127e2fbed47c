"""Jobs of the bulk stage (``workflow/rules/bulk.smk``): check a candidate, isolated
atom, bulk metal, and the phases and molecules of the reaction driving forces."""

from __future__ import annotations

from pathlib import Path

from philicity import calculators, energetics, reactions, structures
from philicity.files import read_json
from philicity.jobs.dft import bulk_single_point, relax_structure, with_scf_retries
from philicity.jobs.mpi import write_json
from philicity.jobs.records import (
    AtomRecord,
    BulkRecord,
    CandidateRecord,
    ensure_dir,
    finish,
    record,
    upstream_failure,
    write_failed,
)
from philicity.relax import single_point
from philicity.resources import BULK_RELAX_STEPS


def check_candidate(cif: str | Path, name: str, settings: dict, out_json: str | Path,
                    preflight_error: str | None = None) -> CandidateRecord:
    """Validate one CIF (+ sidecar) for the configured calculator; always writes a record.

    ``preflight_error`` carries a problem found while the workflow was planned
    (a broken sidecar YAML), so it lands in the ranking like any other.
    """
    rec = {"name": name, "cif": str(cif)}
    try:
        if preflight_error:
            raise structures.CandidateError(cif, preflight_error)
        structure = structures.read_structure(cif)
        missing = calculators.unsupported_elements(structures.elements(structure),
                                                   settings["calculator"])
        if missing:
            calc = settings["calculator"]
            reason = f"elements {missing} cannot be treated by the {calc['name']} calculator"
            if calc["name"] == "gpaw":
                named = (f" of the names in calculator.setups {calc['setups']}"
                         if calc.get("setups") else "")
                reason += f" (no {calc['xc']} PAW setup{named})"
            raise structures.CandidateError(cif, reason)
        rec.update(status="ok", formula=structure.composition.reduced_formula,
                   elements=structures.elements(structure), n_atoms=len(structure))
    except structures.CandidateError as exc:
        rec.update(status="failed", reason=str(exc))
    write_json(out_json, rec)
    return rec


def compute_atom(metal: str, settings: dict, outdir: str | Path) -> AtomRecord:
    """Isolated spin-polarized atom in a box: the literature's E_b reference (SCF retried;
    a failed record, not an energy, if no try converges)."""
    outdir = ensure_dir(outdir)
    atoms = structures.isolated_atom(metal, settings["calculator"]["atom_box_A"])
    outcome = with_scf_retries(lambda calc_settings, _: single_point(
        atoms, calculators.make_calculator(calc_settings, "atom", txt=outdir / "calc.txt",
                                           single_point=True), forces=False),
        settings, None)
    rec = record("atom", outcome, settings, metal=metal,
                 magmom=float(outcome.atoms.calc.get_magnetic_moment())
                 if outcome.energy_eV is not None and settings["calculator"]["name"] == "gpaw"
                 else None)
    if outcome.energy_eV is None:
        rec.update(status="failed", reason=f"{metal} atom SCF did not converge")
    return finish(outdir, rec, outcome.atoms)


def compute_bulk(cif: str | Path, metal: str, settings: dict, outdir: str | Path,
                 checkpoint: str | Path | None = None,
                 candidate_json: str | Path | None = None) -> BulkRecord:
    """Bulk anode metal: energy per atom (eV), with the lattice relaxed (checkpointed to
    ``checkpoint``, default ``{outdir}/bulk.traj``; SCF retried) to ``bulk.fmax_eV_A`` if
    ``bulk.relax_lattice``. An anode whose check (``candidate_json``) failed gives a failed
    record with that reason, and no calculation."""
    outdir = ensure_dir(outdir)
    if candidate_json and (why := upstream_failure(candidate=read_json(candidate_json))):
        return write_failed(outdir / "record.json",
                            record("bulk", None, settings, metal=metal, cif=str(cif)), why)
    return _bulk_energy(structures.to_atoms(structures.read_structure(cif)), settings,
                        outdir, checkpoint, metal=metal)


def _bulk_energy(atoms, settings: dict, outdir: Path, checkpoint: str | Path | None,
                 **fields) -> BulkRecord:
    """Energy (eV, and per atom) of a bulk cell, its lattice relaxed if
    ``bulk.relax_lattice``; ``fields`` go into the record."""
    checkpoint = checkpoint or outdir / "bulk.traj"
    if settings["bulk"]["relax_lattice"]:
        # the bulk stages do not depend on the slabs' ``relax`` section (not in their
        # settings): the lattice has its own tolerance and step limit
        lattice = {"optimizer": "BFGS", "fmax_eV_A": settings["bulk"]["fmax_eV_A"],
                   "steps": BULK_RELAX_STEPS}
        outcome = relax_structure(atoms, {**settings, "relax": lattice}, None, outdir,
                                  checkpoint, kind="bulk", cell=True)
    else:
        outcome = bulk_single_point(atoms, settings, None, outdir / "calc.txt")
    e_atom = (energetics.energy_per_atom(outcome.energy_eV, len(atoms))
              if outcome.energy_eV is not None else None)
    rec = record("bulk", outcome, settings, **fields, energy_per_atom_eV=e_atom,
                 lattice_A=outcome.atoms.cell.cellpar()[:3].tolist())
    if e_atom is None:
        rec.update(status="failed", reason="bulk SCF did not converge")
    return finish(outdir, rec, outcome.atoms, checkpoint)


def compute_phase(cif: str | Path, name: str, settings: dict, outdir: str | Path,
                  checkpoint: str | Path | None = None) -> BulkRecord:
    """Bulk energy of one phase a reaction can reach (a coating or a compound), on its
    primitive cell with the settings of the anode's bulk (:func:`compute_bulk`); a CIF
    that cannot be read gives a failed record with the reason."""
    outdir = ensure_dir(outdir)
    try:
        structure = structures.read_structure(cif).get_primitive_structure()
    except structures.CandidateError as exc:
        return write_failed(outdir / "record.json",
                            record("bulk", None, settings, name=name, cif=str(cif)), str(exc))
    return _bulk_energy(structures.to_atoms(structure), settings, outdir, checkpoint,
                        name=name, cif=str(cif))


def compute_molecule(molecule: str, settings: dict, outdir: str | Path) -> AtomRecord:
    """A gas-phase molecule in a box (``reactions.molecule``), spin-polarized from its
    ground-state moments, geometry relaxed (``relax.fmax_eV_A``): the elemental reference
    of O, N, F, ... in the reaction driving forces."""
    outdir = ensure_dir(outdir)
    atoms = reactions.molecule(molecule, settings["calculator"]["atom_box_A"])
    outcome = relax_structure(atoms, settings, None, outdir, outdir / "relax.traj",
                              kind="molecule")
    rec = record("molecule", outcome, settings, molecule=molecule)
    if outcome.energy_eV is None:
        rec.update(status="failed", reason="molecule SCF did not converge")
    return finish(outdir, rec, outcome.atoms, outdir / "relax.traj")
