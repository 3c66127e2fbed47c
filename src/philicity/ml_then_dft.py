"""The ``ml-then-dft`` strategy: ML pre-relaxation, pruning, DFT only where it decides.

After AdsorbML (Lan et al., npj Comput. Mater. 9, 172 (2023)), adapted so that every
energy a user reads comes from DFT:

1. every site is relaxed with a universal ML potential (seconds), once from its
   symmetric start (the geometry DFT continues from) and once with the adatom nudged
   sideways (``ml.nudge_A``), so that a site which is only a saddle point shows it;
2. sites the ML relaxation flags (desorbed, moved to another site, reconstructed the
   substrate) are pruned: their DFT answer is another site's;
3. a DFT single point at each surviving ML geometry;
4. a DFT relaxation, from the ML geometry, of only the ``top_k`` lowest single points
   that lie within ``window_eV`` of the lowest, with the ML model's Hessian as the
   optimizer's initial Hessian (``ml_hessian``).

The ML energies are kept beside the DFT ones for comparison, never used to rank.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.optimize import BFGS

from philicity import quality
from philicity.relax import Outcome, relax

# Flags that prune a site after the ML relaxation (SCF flags cannot occur for ML).
PRUNING_FLAGS = (quality.DESORBED, quality.MOVED, quality.RECONSTRUCTED)


def ml_relax(atoms: Atoms, calc: Calculator, fmax_eV_A: float, steps: int,
             checkpoint) -> Outcome:
    """Relax ``atoms`` (constraints kept) with an ML calculator; ASE BFGS.

    Under MPI every rank runs the (cheap) ML relaxation and all continue from rank 0's
    geometry and energy: the DFT that follows needs identical atoms on every rank, and
    torch does not promise bitwise-equal results on different CPUs of one job.
    """
    from ase.parallel import broadcast, world

    outcome = relax(atoms, calc, fmax_eV_A, steps, checkpoint, "BFGS")
    if world.size > 1:
        outcome.atoms.positions[:] = broadcast(outcome.atoms.positions, 0, world)
        outcome.energy_eV = broadcast(outcome.energy_eV, 0, world)
    return outcome


def onto_dft_substrate(ml_atoms: Atoms, clean: Atoms, shell_A: float = 0.5) -> Atoms:
    """The DFT start of an ML-relaxed site: the DFT-relaxed clean slab ``clean`` with the
    adatom (the last atom of ``ml_atoms``) where the ML model put it relative to its
    nearest substrate atoms (those within ``shell_A`` angstrom of the closest one).

    A model whose lattice constant differs from DFT's is strained by the DFT cell and
    moves the free layers of the slab: with CHGNet on a 2-layer Cu(111) slab the DFT
    single point at the ML geometry lay 0.38 eV above the DFT-relaxed site. The adatom's
    place and height over its neighbours are the ML's answer; the substrate is DFT's.
    """
    n = len(clean)
    if len(ml_atoms) != n + 1:
        raise ValueError(f"expected the {n}-atom slab plus one adatom, got {len(ml_atoms)}")
    d = ml_atoms.get_distances(n, range(n), mic=True)
    near = d <= d.min() + shell_A
    shift = (clean.positions[near] - ml_atoms.positions[:n][near]).mean(axis=0)
    out = clean.copy()
    adatom = ml_atoms[n:]  # slicing copies
    adatom.positions += shift
    out.extend(adatom)
    return out


def ml_hessian(atoms: Atoms, calc: Calculator, free: list[int],
               other_eV_A2: float = BFGS.defaults["alpha"], floor_eV_A2: float = 0.1,
               delta_A: float = 0.01) -> np.ndarray:
    """The (3N x 3N, eV/A^2) initial Hessian for a BFGS relaxation of ``atoms``: the
    ML model's, by central finite differences of its forces (displacement ``delta_A``)
    over the ``free`` atoms; ``other_eV_A2`` times the identity (ASE BFGS's default) for
    the fixed ones.

    Symmetrized, with eigenvalues raised to at least ``floor_eV_A2`` so that BFGS's
    first step is downhill. ASE starts BFGS from 70 eV/A^2 times the identity, which is
    ~100x too stiff for an adatom's lateral modes: its first steps near a minimum are
    tiny. Measured with CHGNet on Na/Al(100) (hollow, from the DFT single point at the
    ML geometry): 1 BFGS step and 17 SCF iterations instead of 4 steps and 38.
    (Not ase.vibrations.Vibrations: its file cache is written by MPI rank 0 and read by
    every rank, while here each rank evaluates the model on its own.)
    """
    n = 3 * len(atoms)
    hessian = np.eye(n) * other_eV_A2
    if not free:
        return hessian
    moving = atoms.copy()
    moving.calc = calc
    idx = (3 * np.asarray(free)[:, None] + np.arange(3)).ravel()
    rows = []
    for atom in free:
        for axis in range(3):
            forces = []
            for sign in (1, -1):
                moving.positions[atom, axis] += sign * delta_A
                forces.append(moving.get_forces(apply_constraint=False).ravel()[idx])
                moving.positions[atom, axis] -= sign * delta_A
            rows.append((forces[1] - forces[0]) / (2 * delta_A))  # -dF/dx
    h = np.array(rows)
    h = 0.5 * (h + h.T)
    w, v = np.linalg.eigh(h)
    hessian[np.ix_(idx, idx)] = (v * np.maximum(w, floor_eV_A2)) @ v.T
    return hessian


# A lateral nudge of the adatom before the ML relaxation, along an angle that lies on no
# mirror line of the common surface lattices, so saddle-point sites (often bridges and
# tops) slide to the minimum they belong to instead of staying by symmetry.
JITTER_ANGLE_RAD = 0.3


def nudge_adatom(atoms: Atoms, distance_A: float) -> Atoms:
    """Copy of ``atoms`` with the last atom (the adatom) moved ``distance_A`` in the plane."""
    out = atoms.copy()
    out.positions[-1, :2] += distance_A * np.array([np.cos(JITTER_ANGLE_RAD),
                                                    np.sin(JITTER_ANGLE_RAD)])
    return out


def pruning_flags(flags: list[str]) -> list[str]:
    """The flags of an ML relaxation that remove the site from the DFT stage."""
    return [f for f in flags if f.startswith(PRUNING_FLAGS)]


def select_for_relaxation(single_points: dict[str, float | None], top_k: int,
                          window_eV: float | None = None) -> list[str]:
    """Site ids whose DFT relaxation decides the answer: the ``top_k`` lowest DFT single
    points (eV; ``None`` = SCF failed, never selected), and of those only the ones within
    ``window_eV`` of the lowest. Ties keep the input order.

    The window is safe when relaxing from the ML geometry lowers a site's energy by much
    less than the window (measured on our systems: see docs/fast-path.md).
    """
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    done = sorted((e, i, s) for i, (s, e) in enumerate(single_points.items()) if e is not None)
    if not done:
        return []
    lowest = done[0][0]
    return [s for e, _, s in done[:top_k] if window_eV is None or e - lowest <= window_eV]


def registries_for_dft(ml_energies: dict, window_eV: float,
                       same_eV: float = 1e-3) -> tuple[list, dict]:
    """The interface registries (keys of ``ml_energies``, eV after ML relaxation) that get
    a DFT single point: those within ``window_eV`` of the ML-lowest, once per ML energy
    (registries within ``same_eV`` of one already taken are equivalent by symmetry or
    relaxed into the same minimum; of such twins the first in input order is taken, so
    float noise does not choose). Returns them in their input order, and the reason
    each other registry is skipped."""
    taken: list = []
    skipped: dict = {}
    lowest = min(ml_energies.values())
    order = list(ml_energies)
    for key, energy in sorted(ml_energies.items(), key=lambda kv: kv[1]):
        if energy - lowest > window_eV:
            skipped[key] = "outside the ML window"
        elif twin := next((t for t in taken if abs(ml_energies[t] - energy) <= same_eV),
                          None):
            if order.index(key) < order.index(twin):  # of twins, the first in input order
                taken[taken.index(twin)] = key
                key, twin = twin, key
            skipped[key] = f"the ML energy of registry {list(twin)}"
        else:
            taken.append(key)
    return [k for k in ml_energies if k in taken], skipped


def keep_lowest_if_all_pruned(items: list[dict]) -> None:
    """When the ML flags prune every site of a surface, un-prune the one with the lowest
    ML energy (in place; its flags move to ``kept_despite``): a surface always gets at least
    one DFT energy, and its DFT relaxation, not the ML model, decides whether the flag was
    right. A flag that prunes everything says more about the model than about the
    surface."""
    if not items or not all(i["pruned_by"] for i in items):
        return
    scored = [i for i in items if i.get("ml_energy_eV") is not None]
    lowest = min(scored or items, key=lambda i: i.get("ml_energy_eV") or 0.0)
    lowest["kept_despite"], lowest["pruned_by"] = lowest["pruned_by"], []


def prescreen(clean: Atoms, surface_sites: list[dict], all_sites: list[dict], metal: str,
              ml_calc: Calculator, ml: dict, quality_settings: dict, height_scale: float,
              atom_box_A: float, dft_single_point: Callable[[Atoms, str], dict],
              checkpoint_dir: Path, kept: Callable[[dict], dict | None],
              keep: Callable[[dict, dict], None]) -> dict:
    """Steps 1 to 3 of the strategy, and the choice of step 4, for one surface and metal.

    ``clean``: the DFT-relaxed clean slab (constraints and tags set); ``surface_sites``:
    its sites (``sites.find_sites`` dicts with ``name`` and ``kind``); ``all_sites``: every
    site unreduced (the moved check); ``ml``: the config's ``ml`` section.
    ``dft_single_point(atoms, site_name)`` computes one survivor's DFT single point and
    returns its fields (``dft_single_point_eV``, ``scf_converged``, ...). Each finished
    site is passed to ``keep(site, item)``, and ``kept(site)`` gives it back to a rerun
    (None: not kept, or kept from other inputs), so a killed prescreen resumes; the ML
    trajectories go to
    ``{checkpoint_dir}/ml/`` (the DFT relaxation of a site checkpoints beside them and
    must not resume from ML steps).

    A surface never ends without a DFT energy: when the ML flags would prune every site,
    the site with the lowest ML energy keeps its DFT single point (and relaxation), marked
    ``kept_despite``. Reconstruction is judged against the ML model's own relaxed clean
    slab, so a substrate the model moves without any adatom (its own strain) prunes
    nothing. ML binding energies (eV) use the same model's clean slab and atom.

    Returns ``ml_clean_slab_eV``, ``ml_atom_eV``, ``sites`` (one dict per site: ML energy,
    flags, ``pruned_by``, geometries as ASE JSON, DFT fields, ``dft_relax``) and
    ``selected`` (the sites to relax with DFT).
    """
    from ase.io import jsonio

    from philicity import energetics, sites
    from philicity.relax import single_point
    from philicity.structures import isolated_atom

    ml_clean = ml_relax(clean, ml_calc, ml["fmax_eV_A"], ml["steps"],
                        checkpoint_dir / "ml" / "clean.traj")
    ml_atom = single_point(isolated_atom(metal, atom_box_A), ml_calc, forces=False)
    items = []
    for site in surface_sites:  # 1. every site relaxed with the ML model and checked
        if (item := kept(site)) is not None:
            items.append(item)
            continue
        initial = sites.place_adatom(clean, site, metal, height_scale)
        # the symmetric start gives the geometry DFT starts from; the nudged start tells
        # whether the site is a minimum at all (a saddle point slides off: "moved")
        ml_out = ml_relax(initial, ml_calc, ml["fmax_eV_A"], ml["steps"],
                          checkpoint_dir / "ml" / f"{site['name']}.traj")
        flags = quality.site_flags(initial, ml_out.atoms, ml_clean.atoms, all_sites,
                                   site["kind"], quality_settings, True,
                                   ml_out.relax_converged)
        if ml["nudge_A"] > 0:
            nudged = ml_relax(nudge_adatom(initial, ml["nudge_A"]), ml_calc,
                              ml["fmax_eV_A"], ml["steps"],
                              checkpoint_dir / "ml" / f"{site['name']}_nudged.traj")
            kinds = {f.split()[0] for f in flags}
            flags += [f for f in quality.site_flags(
                initial, nudged.atoms, ml_clean.atoms, all_sites, site["kind"],
                quality_settings, True, True) if f.split()[0] not in kinds]
        items.append({
            "site": site["name"], "site_kind": site["kind"], "ml_energy_eV": ml_out.energy_eV,
            "ml_E_b_atom_eV": energetics.binding_energy(
                ml_out.energy_eV, ml_clean.energy_eV, ml_atom.energy_eV),
            "ml_steps": ml_out.steps, "ml_wall_s": round(ml_out.wall_s, 2),
            "ml_flags": flags, "pruned_by": pruning_flags(flags),
            "ml_atoms": jsonio.encode(ml_out.atoms),
            "adatom_start_A": initial.positions[-1].tolist()})
    keep_lowest_if_all_pruned(items)
    for item, site in zip(items, surface_sites, strict=True):  # 2. DFT single points
        if not item["pruned_by"] and "dft_single_point_eV" not in item:
            atoms = onto_dft_substrate(jsonio.decode(item["ml_atoms"]), clean)
            atoms.set_constraint(clean.constraints)  # the placed adatom's, as in step 1
            item["dft_atoms"] = jsonio.encode(atoms)  # where the DFT single point was taken
            item.update(dft_single_point(atoms, site["name"]))
        keep(site, item)
    chosen = select_for_relaxation(  # 3. the DFT relaxations
        {i["site"]: i.get("dft_single_point_eV") for i in items}, ml["top_k"],
        ml["window_eV"])
    for item in items:
        item["dft_relax"] = item["site"] in chosen
    return {"ml_clean_slab_eV": ml_clean.energy_eV, "ml_atom_eV": ml_atom.energy_eV,
            "sites": items, "selected": chosen}
