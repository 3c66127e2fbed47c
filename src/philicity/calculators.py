"""The one calculator factory: every ASE calculator of the pipeline is made here.

Only this module imports GPAW.  ``settings`` is the validated ``calculator``
section of the config (see ``src/philicity/data/config.schema.yaml``).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Literal

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

System = Literal["bulk", "slab", "atom", "molecule"]


# ASE's EMT carries parameters for H, C, N and O "for testing only": a screen of hydrides,
# carbides or oxides with them would rank on meaningless energies.
EMT_TEST_ONLY = frozenset({"H", "C", "N", "O"})


def _emt_elements() -> set[str]:
    from ase.calculators.emt import parameters

    return set(parameters) - EMT_TEST_ONLY


def _gpaw_setup_elements(xc: str, setups: dict[str, str] | None = None) -> set[str]:
    """Elements with a PAW setup for ``xc`` in GPAW's setup paths: the named one
    (``setups``: element to name, e.g. ``{"Na": "1"}`` for ``Na.1.PBE``) where one is
    named, else the default (``Na.PBE``)."""
    import gpaw

    setups = setups or {}
    found = set()
    for folder in gpaw.setup_paths:
        for f in Path(folder).glob(f"*.{xc}*"):
            # {element}.{xc}[.gz] is the default setup, {element}.{name}.{xc}[.gz] a named one
            element, *name, _ = f.name.removesuffix(".gz").split(".")
            if name == ([setups[element]] if element in setups else []):
                found.add(element)
    return found


@functools.cache
def valence_electrons(symbol: str, xc: str, setup: str | None = None) -> int | None:
    """Valence electrons of ``symbol``'s PAW setup for ``xc`` (``setup``: a named one,
    e.g. ``"1"`` for ``Na.1.PBE``), read from the setup file's header in GPAW's setup
    paths; None where there is no such setup."""
    from gpaw.setup_data import search_for_file

    try:
        _, source = search_for_file(f"{symbol}.{setup}.{xc}" if setup else f"{symbol}.{xc}")
    except (FileNotFoundError, RuntimeError):
        return None
    found = re.search(rb'<atom [^>]*valence="([0-9.]+)"', source[:4000])
    return int(float(found[1])) if found else None


# Universal ML potentials whose weights ship inside their PyPI wheels (work offline).
ML_DEFAULT_MODELS = {"chgnet": "0.3.0", "sevenn": "7net-0"}
# Both are trained on the Materials Project trajectory set: elements H (1) to Pu (94).
ML_MAX_Z = 94


def unsupported_elements(symbols: list[str], settings: dict) -> list[str]:
    """Elements the configured calculator cannot treat (no PAW setup, no EMT parameters,
    outside the ML model's training elements)."""
    from ase.data import atomic_numbers

    name = settings["name"]
    if name == "emt":
        known = _emt_elements()
    elif name == "gpaw":
        known = _gpaw_setup_elements(settings["xc"], settings.get("setups"))
    elif name in ML_DEFAULT_MODELS:
        return sorted(s for s in set(symbols) if atomic_numbers[s] > ML_MAX_Z)
    else:
        raise ValueError(f"unknown calculator {name!r}")
    return sorted(set(symbols) - known)


def _ml_calculator(name: str, model: str | None) -> Calculator:
    """CHGNet or SevenNet on the CPU, weights from the installed wheel (no download)."""
    model = model or ML_DEFAULT_MODELS[name]
    try:
        if name == "chgnet":
            from chgnet.model import CHGNet
            from chgnet.model.dynamics import CHGNetCalculator

            return CHGNetCalculator(CHGNet.load(model_name=model, use_device="cpu",
                                                verbose=False), use_device="cpu")
        from sevenn.calculator import SevenNetCalculator

        modal = "PBE" if model == "7net-mf-0" else None
        return SevenNetCalculator(model, device="cpu", modal=modal)
    except ImportError as exc:
        raise ImportError(
            f"the {name} calculator needs the ml extra: pip install torch==2.13.0 "
            f"-e '.[ml]' (scripts/install.sh does this); {exc}"
        ) from exc


class DispersionCorrected(Calculator):
    """A DFT calculator plus a pairwise dispersion correction (DFT-D3): energy, free
    energy, forces and stress are the sums, ``results["dispersion_energy"]`` the
    correction's share (eV). Everything else (SCF iterations, magnetic moment, writing the
    wave functions) is the DFT calculator's own."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, dft: Calculator, dispersion: Calculator):
        super().__init__()
        self.dft = dft
        self.dispersion = dispersion

    def __getattr__(self, name: str):  # only for names this class lacks
        if name in ("dft", "dispersion"):
            raise AttributeError(name)
        return getattr(self.dft, name)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        wanted = ["energy", "forces", *(["stress"] if "stress" in properties else [])]
        d3 = {p: np.asarray(self.dispersion.get_property(p, self.atoms)) for p in wanted}
        for p in wanted:
            self.results[p] = np.asarray(self.dft.get_property(p, self.atoms)) + d3[p]
        e_d3 = float(d3["energy"])
        self.results["energy"] = float(self.results["energy"])
        try:
            free = float(self.dft.get_property("free_energy", self.atoms))
        except Exception:  # a calculator without smearing (EMT): the energy
            free = self.results["energy"] - e_d3
        self.results["free_energy"] = free + e_d3
        self.results["dispersion_energy"] = e_d3

    def get_magnetic_moment(self, atoms=None) -> float:
        return self.dft.get_magnetic_moment(atoms)


def dispersion_calculator(settings: dict) -> Calculator | None:
    """The configured ``dispersion`` alone: None for ``none``; for ``d3bj`` Grimme's D3
    with Becke-Johnson damping for the configured ``xc`` (parameters inside the
    ``dftd3`` wheel)."""
    method = settings.get("dispersion", "none")
    if method == "none":
        return None
    if method != "d3bj":
        raise ValueError(f"unknown dispersion {method!r}; choose none or d3bj")
    from dftd3.ase import DFTD3

    return DFTD3(method=settings.get("xc", "PBE"), damping="d3bj")


def with_dispersion(calc: Calculator, settings: dict) -> Calculator:
    """``calc`` with the configured ``dispersion`` added (:func:`dispersion_calculator`)."""
    dispersion = dispersion_calculator(settings)
    return calc if dispersion is None else DispersionCorrected(calc, dispersion)


def kpoints(settings: dict) -> dict:
    """GPAW's ``kpts`` for a periodic system: a Gamma-centred Monkhorst-Pack mesh of
    ``kpt_density`` points per reciprocal angstrom along each periodic direction
    (``ase.calculators.calculator.kpts2sizeandoffsets(atoms=..., **kpoints(s))`` gives the mesh)."""
    return {"density": settings["kpt_density"], "gamma": True}


def scf_convergence(settings: dict, single_point: bool = False) -> dict:
    """GPAW's ``convergence``: ``energy_convergence_eV`` (eV per valence electron) with
    GPAW's default density and eigenstate criteria; for a single point, the configured
    ``single_point_convergence`` if any: an absolute energy criterion (eV over the last
    three iterations, which the per-electron one is not: 0.0005 eV x 140 electrons lets
    the energy move 70 meV) and looser density and eigenstate criteria (forces and
    densities need GPAW's; ``benchmarks/scf_criterion.py`` replays recorded SCFs under
    both)."""
    sp = settings.get("single_point_convergence") or {}
    if not (single_point and sp):
        # GPAW's default density and eigenstate criteria, spelled out: a restart compares
        return {"energy": settings["energy_convergence_eV"], "density": 1.0e-4,
                "eigenstates": 4.0e-8}
    return {"energy": {"name": "energy", "tol": sp["energy_eV"], "relative": False},
            "density": sp["density"], "eigenstates": sp["eigenstates"]}


def make_calculator(
    settings: dict,
    system: System,
    txt: str | Path | None = None,
    single_point: bool = False,
) -> Calculator:
    """Build the calculator for one calculation.

    ``system`` picks the k-points: ``bulk`` periodic in 3D, ``slab`` periodic in
    the surface plane (one k-point along the normal, dipole correction if asked),
    ``atom`` a spin-polarized isolated atom at the Gamma point (Hund's rule), ``molecule``
    a spin-polarized molecule at the Gamma point (moments from the atoms it is given).
    ``txt`` is where GPAW writes its log (``None`` for silence). ``single_point``: the
    calculation's energy is all that is used (no relaxation follows), so the SCF stops at
    ``single_point_convergence`` when it is set (:func:`scf_convergence`).
    """
    name = settings["name"]
    if name == "emt":
        from ase.calculators.emt import EMT

        return with_dispersion(EMT(), settings)
    if name in ML_DEFAULT_MODELS:
        return _ml_calculator(name, settings.get("model"))
    if name != "gpaw":
        raise ValueError(f"unknown calculator {name!r}; choose gpaw, emt, chgnet or sevenn")
    from gpaw import GPAW, PW, Mixer, MixerSum

    kwargs: dict = {
        "xc": settings["xc"],
        "txt": str(txt) if txt is not None else None,
        "maxiter": settings["maxiter"],
        "convergence": scf_convergence(settings, single_point),
        "occupations": {
            "name": settings["smearing"]["name"],
            "width": settings["smearing"]["width_eV"],
        },
        # Slabs relax: an atom leaving a mirror plane would raise GPAW's
        # SymmetryBrokenError mid-relaxation, so only time reversal is used there.
        "symmetry": {"point_group": system == "bulk", "time_reversal": True},
    }
    if settings["mode"] == "pw":
        kwargs["mode"] = PW(settings["ecut_eV"])
    else:
        kwargs["mode"] = "lcao"
        kwargs["basis"] = settings["basis"]
    spin = system in ("atom", "molecule") or settings["spinpol"]
    kwargs["spinpol"] = spin
    mixer = settings["mixer"]
    mixer_cls = MixerSum if spin else Mixer
    kwargs["mixer"] = mixer_cls(mixer["beta"], mixer["nmaxold"], mixer["weight"])
    if system in ("atom", "molecule"):
        kwargs["kpts"] = (1, 1, 1)
        kwargs["hund"] = system == "atom"
    else:
        kwargs["kpts"] = kpoints(settings)
    if system == "slab" and settings["dipole_correction"]:
        kwargs["poissonsolver"] = {"dipolelayer": "xy"}
    if settings.get("setups"):
        kwargs["setups"] = dict(settings["setups"])
    if settings.get("nbands"):
        kwargs["nbands"] = settings["nbands"]
    if settings.get("parallel"):
        kwargs["parallel"] = settings["parallel"]
    return with_dispersion(GPAW(**kwargs), settings)


def restart_calculator(gpw: str | Path, settings: dict,
                       txt: str | Path | None = None) -> Calculator:
    """A GPAW calculator restored from a ``.gpw`` file written with ``mode='all'``: its
    wave functions and density start the next SCF, and the stored results are reused
    while the atoms do not move (with the configured dispersion correction added).

    For a relaxation: a file written by a single point (stopped on
    ``single_point_convergence``) has its SCF continued to the relaxation's criteria
    first, since its forces would otherwise come from the looser density."""
    from gpaw import GPAW

    calc = GPAW(str(gpw), txt=str(txt) if txt is not None else None)
    wanted = scf_convergence(settings)
    dft = getattr(calc, "dft", None)
    if dft is not None and dict(dft.params.convergence) != wanted:
        dft.change(convergence=wanted)  # keeps the wave functions, drops the results
    return with_dispersion(calc, settings)


def safer_settings(settings: dict, attempt: int) -> dict:
    """Calculator settings for retry ``attempt`` (0 = as configured) of an SCF that did not
    converge: mixing halved per attempt, more old densities, maxiter x (1 + attempt),
    20 % more bands per attempt. The smearing stays: it would change the energies that
    are compared with other calculations."""
    if attempt == 0:
        return settings
    out = {**settings, "mixer": dict(settings["mixer"])}
    out["mixer"]["beta"] = settings["mixer"]["beta"] / 2**attempt
    out["mixer"]["nmaxold"] = max(settings["mixer"]["nmaxold"], 8)
    out["maxiter"] = settings["maxiter"] * (1 + attempt)
    out["nbands"] = f"{100 + 20 * attempt}%"
    return out
