"""What a DFT rule asks the scheduler for: wall time (minutes) and memory (MB).

Snakemake evaluates a rule's ``resources`` again when its inputs exist, just before the
job is submitted, so the system size is read from them: the slab's atom count from
``terminations.json``, the interface's from ``scan.json``. Before that (a dry run, a
first plan) the preset's bounds stand in (``slab.max_atoms``, ``interface.max_atoms``).

Cost model (rough, on purpose; calibrate with ``parallel.time_scale``):

* One energy + forces of an N-atom slab on one core, plane waves::

      t_sp = 120 s * (N / 13)^2 * (e / 16.2)^0.5 * (ecut / 300 eV)^1.5
             * (kpt_density / 3.5 A) * s

  with e the valence electrons per atom with the calculator's PAW setups (from the
  slab's formula and GPAW's setup files; 16.2 where not known yet) and s = 2 if
  spin-polarized. 120 s: Na on Ag(100) 2x2x3 (13 atoms, 16.2 electrons per atom with
  GPAW's default setups, PW(300), 4x4x1 k-points, which kpt_density 3.5 gives this
  cell) took 115 s, Na on Al(100) 24 s. N^2: the bands grow with N while, at a fixed
  k-point density, (k-points x plane waves) does not; the square root of the electrons
  per atom fits the records below (light or frozen-core atoms need fewer bands but,
  being larger, more plane waves per atom). Linear in kpt_density: at these low
  densities the mesh is rounded up (3x3 at 2.0, 4x4 at 3.5). Checked against a Na
  screen's records (fast preset, GPAW's default Na setup, two jobs on two cores),
  seconds per ionic step measured / model: Al16Na 10-40 / 52, Ag16Na 77-91 / 118, Na17
  77-89 / 77, NaZn12 55-88 / 58, Cu27Na 167-217 / 260, the Na12Pb10 interface 256 /
  155: all below the model times the safety factor. LCAO counts as plane waves.
* A bulk cell adds a third k-direction (x kpt_density / 3.5) and, with
  ``bulk.relax_lattice``, up to 100 steps; the isolated atom costs
  10 s * (box / 10 A)^3 * (ecut / 300)^1.5 (measured: Na, 10 A box, 3.7 s).
* Interfaces under ``interface.stage: dft_at_ml`` (read from ``scan.json``): no DFT
  relaxation; the separated parts cost five single points and three ML relaxations.
* Charge-density differences: two single points at the best site (slab and adatom
  alone), and three per interface unless its records say ``dft_at_ml`` (then its
  densities are all read: none).
* A relaxation is budgeted ``1 + 0.7 * steps / 2`` single points: an ionic step costs
  about 0.7 of the first SCF (it starts from the previous wave functions) and half the
  allowed steps are planned for; a relaxation stopped at the limit resumes from its
  checkpoint, and every retry (``attempt``) asks for that many times more.
* N MPI ranks divide the time by N^0.6 (PW(300): 1.54 times faster on 2 ranks).
* runtime = 2 (safety) * time_scale * attempt * sum(t) / N^0.6, at least 10 min, at most
  ``parallel.max_runtime_min``.
* memory = 400 MB per rank + 25 MB * N * (ecut / 300)^1.5 * (kpt_density / 3.5) * s,
  plus 1500 MB per rank where the ML potential runs (torch), times the attempt, rounded
  up to 500 MB, at least 2000 MB. Measured: 13 atoms, PW(300), 10 k-points: 286 MB on
  1 rank, 270 + 254 MB on 2.

Calculators other than GPAW (EMT in tests) ask for 10 minutes and 2000 MB.

The same estimates give the DFT rules their Snakemake priorities (:func:`priority`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

from philicity.config import reaction_calculator

DFT_RULES = ("compute_atom", "compute_bulk", "compute_phase", "compute_molecule",
             "select_termination", "relax_clean_slab",
             "prescreen_sites", "relax_adsorbate", "site_energies", "scan_interface",
             "relax_interface", "compute_adhesion", "charge_transfer")

# computed with the calculator's reaction values (settings section "reactions")
REACTION_RULES = ("compute_phase", "compute_molecule")
T_REF_S = 120.0  # one energy + forces, 13-atom slab, PW(300), kpt_density 3.5, one core
N_REF = 13
N_E_REF = 211  # its valence electrons: 12 Ag x 17 + Na 7 (GPAW's default setups)
T_ATOM_S = 10.0  # the spin-polarized isolated atom in a 10 A box, PW(300), Gamma point
ECUT_REF_EV = 300.0
KPT_DENSITY_REF = 3.5
STEP_COST = 0.7  # an ionic step relative to the first SCF
STEP_FRACTION = 0.5  # of relax.steps planned for
BULK_RELAX_STEPS = 100  # the lattice relaxation's limit (bulk.relax_lattice), BFGS
RANK_EXPONENT = 0.6  # speedup = tasks ** RANK_EXPONENT
SAFETY = 2.0
MIN_RUNTIME_MIN = 10
MB_PER_RANK = 400
MB_PER_ATOM = 25
MB_ML_PER_RANK = 1500
MIN_MEM_MB = 2000
TERMINATIONS_PLANNED = 4  # select_termination: single points per facet planned for


def _settings_factor(calc: Mapping, kpts: bool = True) -> float:
    """Cost of the calculator settings relative to PW(300), kpt_density 3.5, no spin."""
    ecut = calc.get("ecut_eV", ECUT_REF_EV) if calc.get("mode", "pw") == "pw" else ECUT_REF_EV
    factor = (ecut / ECUT_REF_EV) ** 1.5
    if kpts:
        factor *= calc.get("kpt_density", KPT_DENSITY_REF) / KPT_DENSITY_REF
    return factor * (2.0 if calc.get("spinpol") else 1.0)


def single_point_s(n_atoms: int, calc: Mapping, n_electrons: int | None = None) -> float:
    """Estimated wall time (s, one core) of one energy + forces of an ``n_atoms`` slab
    with ``n_electrons`` valence electrons (with the calculator's setups; where they are
    not known yet, as many per atom as the reference cell has)."""
    per_atom = (n_electrons / n_atoms) / (N_E_REF / N_REF) if n_electrons else 1.0
    return T_REF_S * (n_atoms / N_REF) ** 2 * math.sqrt(per_atom) * _settings_factor(calc)


def electrons(formula: str | None, calc: Mapping) -> int | None:
    """Valence electrons of ``formula`` (e.g. ``"Ag16Na"``) with the calculator's PAW
    setups (``calculator.setups``); None for other calculators or unknown elements."""
    if not formula or calc.get("name") != "gpaw":
        return None
    from pymatgen.core import Composition

    from philicity.calculators import valence_electrons

    total = 0
    for element, amount in Composition(formula).items():
        z = valence_electrons(element.symbol, calc.get("xc", "PBE"),
                              (calc.get("setups") or {}).get(element.symbol))
        if z is None:
            return None
        total += z * int(amount)
    return total


def relaxation_s(n_atoms: int, settings: Mapping, n_electrons: int | None = None) -> float:
    """Estimated wall time (s, one core) of a relaxation budget (see the module doc)."""
    steps = settings["relax"]["steps"]
    return single_point_s(n_atoms, settings["calculator"], n_electrons) * (
        1 + STEP_COST * steps * STEP_FRACTION)


def _find(paths: Iterable[str], suffix: str) -> Path | None:
    return next((Path(p) for p in paths if str(p).endswith(suffix)), None)


def _read_json(path: Path | None) -> dict | None:
    try:
        return json.loads(path.read_text()) if path is not None else None
    except (OSError, ValueError):
        return None  # not written yet: the preset's bound stands in


def _n_bulk(path: Path | None) -> int:
    """Atoms of a bulk structure file (CIF or extxyz); 4 if it cannot be read yet."""
    try:
        from ase.io import read

        return len(read(path))
    except Exception:
        return 4


def _slab(paths: Iterable[str], wildcards: Mapping, settings: Mapping,
          adatom: bool = False) -> tuple[int, int | None]:
    """Atoms and valence electrons (None if not known yet) of the slab of termination
    ``wildcards['term']``; ``adatom``: with one ``wildcards['metal']`` atom on it."""
    terms = _read_json(_find(paths, "terminations.json")) or {}
    term = int(wildcards.get("term", 0))
    entry = next((t for t in terms.get("terminations", []) if t.get("index") == term), None)
    if entry is None:
        return settings["slab"]["max_atoms"] + adatom, None
    n, formula = entry["n_atoms"], entry.get("formula")
    if adatom and wildcards.get("metal"):
        formula = formula and f"{formula}{wildcards['metal']}"
    n_e = electrons(formula, settings["calculator"])
    if adatom and not wildcards.get("metal") and n_e is not None:
        n_e = round(n_e * (n + 1) / n)  # the metal not known yet: an average atom
    return n + adatom, n_e


def _charge_transfer_s(paths: list[str], settings: Mapping,
                       wildcards: Mapping | None = None) -> float:
    """A coating's charge-density differences: at the best site the slab and the adatom
    alone (the whole system's density is read from the site's relaxation), two single
    points of the slab with its adatom (sized from a ``terminations.json`` among the
    paths, else the preset's bound); per interface its three parts, unless its gathered
    records say ``dft_at_ml`` (before they exist: unless the preset's ``interface.stage``
    is ``dft_at_ml``), where all three densities are read (the scan's and W_sep's single
    points). With no inputs known, both parts as budgeted for ``dft_relaxed``."""
    calc = settings["calculator"]
    n, n_e = _slab(paths, {"metal": "", **(wildcards or {})}, settings, adatom=True)
    site = 2 * single_point_s(n, calc, n_e)
    interface = 3 * single_point_s(settings["interface"]["max_atoms"], calc)
    if not paths:
        return site + interface
    summary = next((Path(p) for p in paths if "/interfaces/" in p), None)
    total = site if any("/adsorption/" in p for p in paths) else 0.0
    if summary is not None:
        gathered = _read_json(summary)
        if gathered is None:  # not run yet: what the preset asks for
            at_ml = settings["interface"].get("stage") == "dft_at_ml"
        else:
            records = [_read_json(Path(r)) or {} for r in gathered.get("adhesion", [])]
            at_ml = bool(records) and all(r.get("interface_stage") == "dft_at_ml"
                                          for r in records)
        total += 0.0 if at_ml else interface
    return total


def dft_seconds(rule: str, settings: Mapping, paths: Iterable[str] = (),
                wildcards: Mapping | None = None) -> float:
    """Estimated one-core wall time (s) of one job of ``rule``, before the safety factor.

    ``settings``: the effective settings with the interface section; ``paths``: the
    job's input files (read if they exist); ``wildcards``: ``term`` and ``site`` as
    the rules name them.
    """
    paths, wildcards = [str(p) for p in paths], dict(wildcards or {})
    if rule in REACTION_RULES:  # at the reaction phases' k-mesh and cut-off
        settings = {**settings, "calculator": reaction_calculator(settings)}
    calc = settings["calculator"]
    if rule == "compute_atom":
        box = calc.get("atom_box_A", 10.0)
        # always spin-polarized, as the reference was
        return T_ATOM_S * (box / 10.0) ** 3 * _settings_factor({**calc, "spinpol": False},
                                                               kpts=False)
    if rule == "compute_molecule":  # an atom's box, relaxed in a few steps
        return dft_seconds("compute_atom", settings) * (1 + STEP_COST * 10)
    if rule in ("compute_bulk", "compute_phase"):
        n = max(_n_bulk(_find(paths, ".cif")), N_REF // 3)
        per_sp = single_point_s(n, calc) * calc.get("kpt_density", 3.5) / KPT_DENSITY_REF
        relax_lattice = settings.get("bulk", {}).get("relax_lattice")
        return per_sp * ((1 + STEP_COST * BULK_RELAX_STEPS * STEP_FRACTION)
                         if relax_lattice else 1)
    if rule == "select_termination":
        n_bulk = _n_bulk(_find(paths, ".cif") or _find(paths, ".extxyz"))
        return (single_point_s(max(n_bulk, N_REF // 3), calc)
                + TERMINATIONS_PLANNED * single_point_s(settings["slab"]["max_atoms"], calc))
    if rule == "relax_clean_slab":
        n, n_e = _slab(paths, wildcards, settings)
        return relaxation_s(n, settings, n_e)
    if rule in ("prescreen_sites", "site_energies"):  # a single point per site, after
        # its ML relaxation; site_energies plans one height relaxation too
        n, n_e = _slab(paths, wildcards, settings, adatom=True)
        found = _read_json(_find(paths, "sites.json"))
        term = int(wildcards.get("term", 0))
        n_sites = (sum(s.get("termination") == term for s in found.get("sites", []))
                   if found else settings["sites"]["max_sites"])
        return n_sites * (single_point_s(n, calc, n_e) + 60.0) + (
            relaxation_s(n, settings, n_e) if rule == "site_energies" else 0.0)
    if rule == "relax_adsorbate":
        pre = _read_json(_find(paths, "prescreen.json"))
        if pre is not None:
            item = next((i for i in pre.get("sites", []) if i.get("site") == wildcards.get(
                "site")), None)
            if item is not None and not item.get("dft_relax"):
                return 0.0  # the prescreen's single point or ML flags are only copied
        n, n_e = _slab(paths, wildcards, settings, adatom=True)
        return relaxation_s(n, settings, n_e)
    iface = settings["interface"]
    if rule == "charge_transfer":
        return _charge_transfer_s(paths, settings, wildcards)
    if rule == "scan_interface":
        return iface["registry_grid"] ** 2 * (single_point_s(iface["max_atoms"], calc) + 60.0)
    scan = _read_json(_find(paths, "scan.json")) or {}
    if scan and scan.get("status") != "ok":
        return 0.0  # no interface: the record is written at once
    # DFT single points at ML geometries (before the scan: what the preset asks for)
    at_ml = scan.get("interface_stage", iface.get("stage")) == "dft_at_ml"
    if rule == "relax_interface":
        return 0.0 if at_ml else relaxation_s(scan.get("n_atoms", iface["max_atoms"]),
                                              settings)
    if rule == "compute_adhesion":
        n_metal = scan.get("n_metal", iface["max_atoms"] // 2)
        n_coating = scan.get("n_coating", iface["max_atoms"] // 2)
        if at_ml:  # as cut and after an ML relaxation (film, coating), the unstrained film
            return (3 * single_point_s(n_metal, calc) + 2 * single_point_s(n_coating, calc)
                    + 3 * 60.0)
        if iface["relax_separated"]:
            return 2 * relaxation_s(n_metal, settings) + relaxation_s(n_coating, settings)
        return 2 * single_point_s(n_metal, calc) + single_point_s(n_coating, calc)
    raise ValueError(f"{rule!r} is not one of the DFT rules {DFT_RULES}")


# The chain of DFT stages in series that every surface goes through: its clean slab,
# the ML prescreen of its sites, the relaxations of the sites it keeps.
SITE_CHAIN = ("relax_clean_slab", "prescreen_sites", "relax_adsorbate")
INTERFACE_RULES = ("scan_interface", "relax_interface", "compute_adhesion")
# An interface's DFT relative to its coating's site chain, before its size is known:
# on Na/Ag(100) and Na/Al(100) (fast preset) 6.4 / 13.1 and 1.6 / 3.6 minutes
INTERFACE_SHARE = 0.5
# The jobs whose outputs put a coating's chains into the DAG (its candidate check and the
# two checkpoints after it) run before any DFT job: they take seconds, and a chain
# Snakemake does not know yet cannot be started first. With priority 0 they waited
# behind the first-resolved coating's DFT: in the README's first run Ag(100)'s chain, the
# longest, started 6 minutes after Al(100)'s.
GATES = ("check_candidate", "select_termination", "find_sites")
GATE_PRIORITY = 1e9  # above any chain's one-core seconds


def priority(rule: str, settings: Mapping, paths: Iterable[str] = (),
             wildcards: Mapping | None = None) -> float:
    """A job's Snakemake priority, in estimated one-core seconds of the chain of DFT jobs
    it heads: for the stages of :data:`SITE_CHAIN`, its own and the later ones of its
    surface (sized from its inputs); for an interface's scan, :data:`INTERFACE_SHARE` of
    its coating's site chain; for the interface's later DFT, its own estimate and the
    charge-density difference's (so an interface whose scan has run is finished before
    new chains start); :data:`GATE_PRIORITY` for the :data:`GATES`; 0 for every other
    job. Among ready jobs the longest chain then starts first (a heavy coating's clean
    slab and interface before a light one's, its sites right after its clean slab), and
    the references and reports fill the cores left: the critical-path schedule that
    ``benchmarks/screen_cost.py`` simulates."""
    paths = [str(p) for p in paths]
    wildcards = dict(wildcards or {})
    if rule in GATES:
        return GATE_PRIORITY
    if rule in SITE_CHAIN:
        return round(sum(dft_seconds(r, settings, paths, wildcards)
                         for r in SITE_CHAIN[SITE_CHAIN.index(rule):]), 1)
    if rule == "scan_interface":
        wildcards.pop("metal", None)  # the coating's own chain, with an average adatom
        return round(INTERFACE_SHARE * priority("relax_clean_slab", settings, paths,
                                                wildcards), 1)
    if rule in INTERFACE_RULES:  # and the charge-density difference that waits on it
        return round(dft_seconds(rule, settings, paths, wildcards)
                     + dft_seconds("charge_transfer", settings), 1)
    return 0.0


def n_atoms(rule: str, settings: Mapping, paths: Iterable[str] = (),
            wildcards: Mapping | None = None) -> int:
    """The largest system (atoms) one job of ``rule`` holds in memory."""
    paths, wildcards = [str(p) for p in paths], dict(wildcards or {})
    if rule in ("compute_atom", "compute_molecule"):
        return N_REF  # the box, not the atom, sets the plane waves: count it as a slab
    if rule in ("compute_bulk", "compute_phase"):
        return _n_bulk(_find(paths, ".cif"))
    if rule in ("select_termination",):
        return settings["slab"]["max_atoms"]
    if rule in ("relax_clean_slab", "prescreen_sites", "relax_adsorbate", "site_energies"):
        return _slab(paths, wildcards, settings, adatom=True)[0]
    if rule == "charge_transfer":
        return max(settings["slab"]["max_atoms"] + 1, settings["interface"]["max_atoms"])
    scan = _read_json(_find(paths, "scan.json")) or {}
    return scan.get("n_atoms", settings["interface"]["max_atoms"])


def request(rule: str, settings: Mapping, parallel: Mapping, tasks: int,
            paths: Iterable[str] = (), wildcards: Mapping | None = None,
            attempt: int = 1, ml: bool = False) -> dict[str, int]:
    """``{"runtime": minutes, "mem_mb": MB}`` for one job of ``rule`` on ``tasks`` ranks.

    ``parallel``: the config's ``parallel`` section (``time_scale``, ``max_runtime_min``);
    ``attempt``: Snakemake's attempt (1, 2, ... on retries); ``ml``: an ML potential
    runs on every rank too.
    """
    paths = [str(p) for p in paths]
    if rule in REACTION_RULES:  # at the reaction phases' k-mesh and cut-off
        settings = {**settings, "calculator": reaction_calculator(settings)}
    if settings["calculator"]["name"] != "gpaw":
        return {"runtime": MIN_RUNTIME_MIN, "mem_mb": MIN_MEM_MB}
    seconds = dft_seconds(rule, settings, paths, wildcards)
    minutes = SAFETY * parallel.get("time_scale", 1.0) * attempt * seconds / (
        60.0 * tasks ** RANK_EXPONENT)
    runtime = min(max(math.ceil(minutes), MIN_RUNTIME_MIN),
                  parallel.get("max_runtime_min", 2880))
    mem = (MB_PER_RANK * tasks + (MB_ML_PER_RANK * tasks if ml else 0)
           + MB_PER_ATOM * n_atoms(rule, settings, paths, wildcards)
           * _settings_factor(settings["calculator"])) * attempt
    return {"runtime": runtime, "mem_mb": max(MIN_MEM_MB, 500 * math.ceil(mem / 500))}
