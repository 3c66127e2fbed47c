"""Tiny real GPAW calculations, so the DFT path is always exercised (about a minute)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms

from philicity import calculators, config, jobs

pytestmark = pytest.mark.gpaw

gpaw = pytest.importorskip("gpaw", reason="GPAW is installed by scripts/install.sh")


@pytest.fixture
def tiny():
    """Plane waves at 200 eV, Gamma-point-like k-mesh, a 2-layer Al(100) 2x2 slab."""
    cfg = config.validate({"presets": {"tiny": {
        "calculator": {"name": "gpaw", "mode": "pw", "ecut_eV": 200, "kpt_density": 1.0,
                       "atom_box_A": 7.0, "energy_convergence_eV": 0.001,
                       "single_point_convergence": {"energy_eV": 0.001, "density": 0.003,
                                                    "eigenstates": 1e-5}},
        "slab": {"min_thickness_A": 3.0, "vacuum_A": 7.0, "min_lateral_A": 5.0,
                 "fixed_layers": 1},
        "relax": {"fmax_eV_A": 0.1, "steps": 3},
    }}, "preset": "tiny"})
    return config.settings(cfg)


def test_gpaw_knows_the_shipped_elements(tiny):
    assert calculators.unsupported_elements(["Li", "Na", "K", "V", "N", "Ga"],
                                            tiny["calculator"]) == []
    assert calculators.unsupported_elements(["Og"], tiny["calculator"]) == ["Og"]


def test_isolated_na_atom_is_spin_polarized(tmp_path, tiny):
    rec = jobs.compute_atom("Na", tiny, tmp_path / "atom")
    assert rec["scf_converged"] and rec["magmom"] == pytest.approx(1.0, abs=0.01)
    # a single point: GPAW stops on the whole system's energy, not per electron
    log = (tmp_path / "atom" / "calc.txt").read_text()
    assert "[total energy] change in last 3 cyles: 0.001 eV\n" in log
    assert "[dens]ity change: 0.003 electrons" in log


def test_real_gpaw_relaxation_of_na_on_al100(tmp_path, tiny, root):
    cif = tmp_path / "Al.cif"
    shutil.copy(root / "structures/coatings/Al.cif", cif)
    jobs.check_candidate(cif, "Al", tiny, tmp_path / "c.json")
    terms = jobs.select_termination(tmp_path / "c.json", cif, "100", tiny, tmp_path / "t.json",
                                    {"termination": "lowest_energy"})
    assert terms["status"] == "ok" and terms["terminations"][0]["n_atoms"] == 8
    found = jobs.find_sites(tmp_path / "t.json", tiny, tmp_path / "sites.json")
    clean = jobs.relax_clean_slab(tmp_path / "t.json", 0, tiny, tmp_path / "clean",
                                  tmp_path / "ck" / "clean.traj")
    hollow = next(s for s in found["sites"] if s["kind"] == "hollow")
    rec = jobs.relax_adsorbate(tmp_path / "t.json", tmp_path / "sites.json", tmp_path / "clean",
                               hollow["id"], "Na",
                               tiny, tmp_path / "ads", tmp_path / "ck" / "ads.traj")
    atom = jobs.compute_atom("Na", tiny, tmp_path / "atom")
    assert rec["scf_converged"] and rec["steps"] >= 1
    assert rec["settings"]["calculator"]["name"] == "gpaw"
    assert rec["versions"]["gpaw"] != "not installed"
    e_b = rec["energy_eV"] - clean["energy_eV"] - atom["energy_eV"]
    # Na binds to Al: negative, and within the physical range of an alkali adatom
    assert -3.0 < e_b < -0.5
    # and gives electrons to the metal: a positive Hirshfeld charge, below one electron
    assert 0.05 < rec["adatom_charge_e"] < 1.0
    # the relaxation keeps its final density: the site's charge-density difference reads
    # it instead of an SCF, with the numbers that SCF gives
    from philicity.charges import DENSITY_FILE
    from philicity.jobs.charges import density_difference
    from philicity.jobs.records import structure_of

    saved = tmp_path / "ads" / DENSITY_FILE
    assert saved.stat().st_size > 0
    atoms = structure_of(tmp_path / "ads" / "record.json")
    lower = np.arange(len(atoms)) < len(atoms) - 1
    (tmp_path / "r").mkdir()
    (tmp_path / "f").mkdir()
    reused = density_difference(atoms, lower, tiny, None, tmp_path / "r", "site",
                                {"combined": saved})
    fresh = density_difference(atoms, lower, tiny, None, tmp_path / "f", "site")
    assert reused["status"] == fresh["status"] == "ok"
    assert reused["read"] == ["combined"] and fresh["read"] == []
    assert reused["upper_hirshfeld_e"] == pytest.approx(rec["adatom_charge_e"], abs=1e-6)
    assert reused["upper_hirshfeld_e"] == pytest.approx(fresh["upper_hirshfeld_e"], abs=2e-3)
    assert reused["charge_moved_e"] == pytest.approx(fresh["charge_moved_e"], abs=2e-3)
    assert reused["wall_s"] < fresh["wall_s"]  # one SCF fewer
    # a kept density of another geometry (a file left by an earlier run) is not read
    moved = atoms.copy()
    moved.positions[-1, 2] += 0.05
    (tmp_path / "m").mkdir()
    assert density_difference(moved, lower, tiny, None, tmp_path / "m", "site",
                              {"combined": saved})["read"] == []
    # the parts' densities kept by single points at the same geometries (as the interface
    # stage keeps its separated parts'): no SCF at all, the same difference
    from philicity.charges import save_density
    from philicity.jobs.dft import slab_single_point

    kept = {"combined": saved}
    for part, mask in (("lower", lower), ("upper", ~lower)):
        sp = slab_single_point(atoms[mask], tiny, None, tmp_path / f"{part}.txt", forces=False)
        kept[part] = Path(save_density(sp.atoms.calc, tmp_path / f"{part}.gpw"))
    (tmp_path / "k").mkdir()
    read = density_difference(atoms, lower, tiny, None, tmp_path / "k", "site", kept)
    assert read["read"] == ["lower", "upper", "combined"] and read["wall_s"] == 0
    assert read["charge_moved_e"] == pytest.approx(fresh["charge_moved_e"], abs=2e-3)
    assert read["integral_e"] == pytest.approx(fresh["integral_e"], abs=2e-3)


def test_charge_density_difference_cube_of_na_on_al100_integrates_to_zero(tmp_path, tiny,
                                                                          root):
    """rho(Na/Al) - rho(Al) - rho(Na) of a neutral system holds no net charge: its integral
    (from the cube file) is zero within the grid's own error, the error with which each
    of the three densities integrates to its electron count."""
    from ase.io.cube import read_cube_data
    from ase.units import Bohr

    from philicity import charges
    from philicity.jobs.charges import density_difference

    cif = tmp_path / "Al.cif"
    shutil.copy(root / "structures/coatings/Al.cif", cif)
    jobs.check_candidate(cif, "Al", tiny, tmp_path / "c.json")
    terms = jobs.select_termination(tmp_path / "c.json", cif, "100", tiny, tmp_path / "t.json",
                                    {"termination": "lowest_energy"})
    from ase.io import jsonio

    slab = jsonio.decode(terms["terminations"][0]["atoms"])
    top = slab.positions[:, 2].max()
    hollow = slab.positions[slab.positions[:, 2] > top - 0.1][:2, :2].mean(axis=0)
    atoms = slab + Atoms("Na", positions=[[*hollow, top + 2.6]])
    lower = np.arange(len(atoms)) < len(slab)
    out = density_difference(atoms, lower, tiny, None, tmp_path, "site")
    assert out["status"] == "ok"
    data, cube_atoms = read_cube_data(str(tmp_path / "site_density_difference.cube"))
    integral = data.sum() * cube_atoms.get_volume() / Bohr**3 / data.size
    # each density's own integration error on this grid: Al 13 e, Na 11 e per atom
    errors = []
    for part, n_el in (("combined", 8 * 13 + 11), ("lower", 8 * 13), ("upper", 11)):
        errors.append(abs(out[f"{part}_integral_e"] - n_el))
    assert abs(integral) <= sum(errors) + 1e-3, (integral, errors)
    assert integral == pytest.approx(out["integral_e"], abs=1e-6)
    # Na gives electrons to Al: charge moves down across the plane between them
    assert out["charge_moved_e"] > 0.02
    assert out["upper_hirshfeld_e"] > 0.05
    profile = np.loadtxt(tmp_path / "site_profile.csv", delimiter=",", skiprows=1)
    assert profile.shape[1] == 3 and (tmp_path / "site_profile.png").stat().st_size > 1000
    assert charges.interface_plane(atoms, lower) == pytest.approx(top + 1.3)


def test_factory_builds_lcao_and_dipole_corrected_pw(tiny):
    from ase.build import fcc100

    slab = fcc100("Al", (1, 1, 2), vacuum=4.0)
    lcao = calculators.make_calculator({**tiny["calculator"], "mode": "lcao", "basis": "dzp"},
                                       "slab")
    assert "lcao" in str(lcao.parameters.mode).lower() and "dzp" in str(lcao.parameters.basis)
    pw = calculators.make_calculator({**tiny["calculator"], "dipole_correction": True}, "slab")
    assert "dipolelayer" in str(pw.parameters.poissonsolver)
    slab.calc = lcao
    assert slab.get_potential_energy() < 0  # a real LCAO single point, 2 Al atoms


def test_slab_relaxation_survives_broken_symmetry(tiny):
    """A rattled bcc(110) slab breaks GPAW's point group mid-relaxation; slabs therefore
    use time-reversal symmetry only (a real run once failed with SymmetryBrokenError)."""
    from ase.build import bcc110
    from ase.constraints import FixAtoms
    from ase.optimize import BFGS

    slab = bcc110("Na", (2, 1, 2), a=4.29, vacuum=4.0)
    slab.set_constraint(FixAtoms(indices=[0, 1]))
    slab.rattle(0.05, seed=1)
    slab.calc = calculators.make_calculator(tiny["calculator"], "slab")
    assert "point_group=False" in str(slab.calc.parameters.symmetry)
    BFGS(slab, logfile=None).run(fmax=0.1, steps=2)
    assert slab.get_potential_energy() < 0


def test_real_gpaw_work_of_adhesion_na100_on_al100(tmp_path, tiny, root):
    """A lattice-matched Na(100)/Al(100) interface (12 atoms), W_ad from GPAW single
    points of the interface and of both slabs in its cell."""
    tiny = {**tiny, "relax": {**tiny["relax"], "steps": 0},
            "interface": {**tiny["interface"], "max_area_A2": 20.0, "max_strain_pct": 6.0,
                          "max_atoms": 12, "film_thickness_A": 2.0,
                          "substrate_thickness_A": 2.0, "vacuum_A": 7.0, "registry_grid": 1,
                          "relax_separated": False}}
    cif = tmp_path / "Al.cif"
    shutil.copy(root / "structures/coatings/Al.cif", cif)
    jobs.check_candidate(cif, "Al", tiny, tmp_path / "c.json")
    jobs.select_termination(tmp_path / "c.json", cif, "100", tiny, tmp_path / "t.json",
                            {"termination": 0})
    bulk = jobs.compute_bulk(root / "structures/anodes/Na.cif", "Na", tiny, tmp_path / "bulk")
    scan = jobs.scan_interface(tmp_path / "t.json", cif, tmp_path / "bulk/final.extxyz", "Na",
                               "100", 0, tiny, tmp_path / "i/scan.json", tmp_path / "ck/s.json")
    assert scan["status"] == "ok" and scan["n_atoms"] <= 12 and abs(scan["strain_pct"]) <= 6
    assert scan["gpw"] == str(tmp_path / "ck/lowest_registry.gpw")
    relaxed = jobs.relax_interface(tmp_path / "i/scan.json", tiny, tmp_path / "i/relaxed",
                                   tmp_path / "ck/r.traj")
    # the relaxation restarts from the scan's wave functions: its first forces cost only
    # the iterations that take the scan's single-point SCF on to the relaxation's criteria
    assert 0 < relaxed["scf_iterations"] <= scan["scan"][0]["scf_iterations"]
    assert relaxed["energy_eV"] == pytest.approx(scan["scan"][0]["energy_eV"], abs=2e-3)
    assert not (tmp_path / "ck/lowest_registry.gpw").exists()
    # its density is kept for the interface's charge-density difference, read without SCF
    from philicity.charges import DENSITY_FILE, saved_density

    rho, q = saved_density(tmp_path / "i/relaxed" / DENSITY_FILE)
    assert len(q) == scan["n_atoms"] and abs(sum(q)) < 0.05 and rho.min() >= -1e-6
    rec = jobs.compute_adhesion(tmp_path / "i/scan.json", tmp_path / "i/relaxed",
                                tmp_path / "bulk/record.json", tiny, tmp_path / "i/adhesion",
                                tmp_path / "ck/a")
    assert rec["status"] == "ok" and bulk["status"] == "ok"
    assert rec["versions"]["gpaw"] != "not installed"
    # Na sticks to Al: positive W_ad, below the ~1.5 J/m^2 of strongly bonded metals
    assert 0.05 < rec["W_ad_J_m2"] < 1.5
    assert 0.05 < rec["metal_surface_energy_J_m2"] < 0.6  # Na: ~0.2 J/m^2


def test_scf_failure_is_retried_with_safer_settings_and_flagged(tmp_path, tiny, root):
    """maxiter 1 cannot converge: every try is recorded, the record is failed, no crash."""
    tiny["calculator"].update(maxiter=1, scf_retries=2)
    cif = tmp_path / "Al.cif"
    shutil.copy(root / "structures/coatings/Al.cif", cif)
    jobs.check_candidate(cif, "Al", tiny, tmp_path / "c.json")
    jobs.select_termination(tmp_path / "c.json", cif, "100", tiny, tmp_path / "t.json",
                            {"termination": 0})
    rec = jobs.relax_clean_slab(tmp_path / "t.json", 0, tiny, tmp_path / "clean",
                                tmp_path / "ck" / "clean.traj")
    assert rec["status"] == "failed" and "SCF did not converge" in rec["reason"]
    assert rec["scf_converged"] is False
    tries = rec["scf_tries"]
    assert [t["attempt"] for t in tries] == [0, 1, 2]
    assert [t["maxiter"] for t in tries] == [1, 2, 3]
    assert [t["mixer_beta"] for t in tries] == pytest.approx([0.05, 0.025, 0.0125])
    assert [t["nbands"] for t in tries] == ["default", "120%", "140%"]
    assert not any(t["scf_converged"] for t in tries)


def test_a_killed_relaxation_resumes_from_its_wave_functions(tmp_path, tiny, monkeypatch):
    """A relaxation cut after its second frame resumes from the kept wave functions:
    the first forces of the resumed run cost no SCF, and the file is gone at the end."""
    from ase.build import fcc100
    from ase.constraints import FixAtoms

    from philicity.jobs import dft

    slab = fcc100("Al", (1, 1, 3), vacuum=4.0)
    slab.set_constraint(FixAtoms(indices=[0]))
    settings = {**tiny, "relax": {**tiny["relax"], "fmax_eV_A": 0.01, "steps": 10}}
    save, saved = dft.save_wavefunctions, []

    def killed_after_two(calc, path):
        saved.append(save(calc, path))
        if len(saved) == 2:
            raise RuntimeError("killed")

    monkeypatch.setattr(dft, "save_wavefunctions", killed_after_two)
    with pytest.raises(RuntimeError, match="killed"):
        dft.relax_structure(slab.copy(), settings, None, tmp_path, tmp_path / "ck/r.traj")
    state = tmp_path / "ck/r_state.gpw"
    assert saved[-1] == str(state) and state.exists()
    monkeypatch.undo()
    out = dft.relax_structure(slab.copy(), settings, None, tmp_path, tmp_path / "ck/r.traj")
    assert out.resumed_steps == 1 and out.relax_converged
    assert out.extra["scf_per_step"][0] == 0 and out.extra["scf_per_step"][1] > 0
    assert not state.exists()


def test_dispersion_d3bj_on_real_gpaw_keeps_scf_count_and_wave_functions(tmp_path, tiny):
    """GPAW plus DFT-D3(BJ): the energy is GPAW's plus the correction's; the wrapper still
    reports GPAW's SCF iterations and writes its wave functions, and a restart from them
    (as a resumed relaxation does) gives the same dispersion-corrected energy."""
    from ase.build import fcc100
    from dftd3.ase import DFTD3

    from philicity.jobs.dft import save_wavefunctions
    from philicity.relax import single_point

    slab = fcc100("Al", (1, 1, 2), vacuum=4.0)
    settings = {**tiny["calculator"], "dispersion": "d3bj"}
    plain = single_point(slab, calculators.make_calculator(tiny["calculator"], "slab"))
    calc = calculators.make_calculator(settings, "slab")
    both = single_point(slab, calc)
    d3 = slab.copy()
    d3.calc = DFTD3(method="PBE", damping="d3bj")
    assert both.energy_eV == pytest.approx(plain.energy_eV + d3.get_potential_energy(),
                                           abs=2e-3)
    assert both.scf_iterations and both.scf_iterations > 3
    gpw = save_wavefunctions(calc, tmp_path / "state.gpw")
    again = single_point(slab, calculators.restart_calculator(gpw, settings))
    assert again.energy_eV == pytest.approx(both.energy_eV, abs=1e-6)


def test_relaxation_restarted_from_a_single_point_converges_to_its_own_criteria(tmp_path,
                                                                                 tiny):
    """A relaxation that starts from a single point's wave functions (the ML prescreen's
    site, the interface scan's lowest registry) takes its forces at the relaxation's SCF
    criteria, not at the single point's looser ones: the restored calculator continues
    the SCF (a few iterations, not the dozen from scratch) to the same forces as a
    relaxation's own SCF; a file written under the relaxation's criteria is reused as is."""
    from ase.build import fcc100

    from philicity.jobs.dft import save_wavefunctions
    from philicity.relax import single_point

    slab = fcc100("Al", (1, 1, 2), vacuum=4.0)
    slab.positions[1, 2] += 0.1  # forces on the top atom
    settings = tiny["calculator"]
    loose = calculators.make_calculator(settings, "slab", single_point=True)
    point = single_point(slab, loose)
    tight = single_point(slab, calculators.make_calculator(settings, "slab"))
    assert point.scf_iterations < tight.scf_iterations
    restarted = calculators.restart_calculator(
        save_wavefunctions(loose, tmp_path / "point.gpw"), settings)
    again = single_point(slab, restarted)
    assert 0 < again.scf_iterations < tight.scf_iterations
    assert again.fmax_eV_A == pytest.approx(tight.fmax_eV_A, abs=2e-3)
    kept = calculators.restart_calculator(
        save_wavefunctions(tight.atoms.calc, tmp_path / "relax.gpw"), settings)
    same = single_point(slab, kept)
    assert same.energy_eV == tight.energy_eV and same.fmax_eV_A == tight.fmax_eV_A
