"""The calculator factory's options: dispersion (DFT-D3 added to every energy and force)
and the PAW setup of each element."""

import numpy as np
import pytest
from ase.build import add_adsorbate, fcc111

from philicity import calculators
from philicity import config as cfg

EMT_D3 = {"name": "emt", "xc": "PBE", "dispersion": "d3bj"}


def _slab():
    slab = fcc111("Cu", (2, 2, 3), vacuum=6.0)
    add_adsorbate(slab, "Ag", 2.2, "fcc")
    return slab


def test_dispersion_d3bj_changes_energy_and_forces_and_off_is_plain():
    from dftd3.ase import DFTD3

    plain, dispersed = _slab(), _slab()
    plain.calc = calculators.make_calculator({**EMT_D3, "dispersion": "none"}, "slab")
    dispersed.calc = calculators.make_calculator(EMT_D3, "slab")
    assert not isinstance(plain.calc, calculators.DispersionCorrected)
    d3 = _slab()
    d3.calc = DFTD3(method="PBE", damping="d3bj")
    e_d3 = d3.get_potential_energy()
    assert e_d3 < -0.5  # 13 atoms: attractive, a few tenths of an eV per atom pair shell
    assert dispersed.get_potential_energy() == pytest.approx(
        plain.get_potential_energy() + e_d3, abs=1e-8)
    assert dispersed.get_potential_energy(force_consistent=True) == pytest.approx(
        plain.get_potential_energy() + e_d3, abs=1e-8)
    assert dispersed.calc.results["dispersion_energy"] == pytest.approx(e_d3)
    np.testing.assert_allclose(dispersed.get_forces(), plain.get_forces() + d3.get_forces(),
                               atol=1e-8)
    assert np.abs(d3.get_forces()).max() > 1e-3  # the forces do change
    with pytest.raises(ValueError, match="unknown dispersion"):
        calculators.make_calculator({**EMT_D3, "dispersion": "d2"}, "slab")


def test_dispersion_is_part_of_the_settings_hash_only_when_on(root):
    config, settings = cfg.load(root / "config" / "config.yaml")
    assert settings["calculator"]["dispersion"] == "none"
    on = {**settings, "calculator": {**settings["calculator"], "dispersion": "d3bj"}}
    without_key = {**settings, "calculator": {k: v for k, v in settings["calculator"].items()
                                              if k != "dispersion"}}
    # off: the hash of screens run before the option existed; on: a new one
    assert cfg.settings_hash(settings) == cfg.settings_hash(without_key)
    assert cfg.settings_hash(on) != cfg.settings_hash(settings)
    config["overrides"] = {"calculator": {"dispersion": "d3bj"}}
    cfg.validate(config)
    assert cfg.settings(config)["calculator"]["dispersion"] == "d3bj"


def _gpaw_settings(root, **calculator) -> dict:
    _, settings = cfg.load(root / "config" / "config.yaml")
    return {**settings, "calculator": {**settings["calculator"], **calculator}}


def _valence_electrons(calculator: dict) -> float:
    from ase import Atoms

    atoms = Atoms("Na", positions=[[3.0, 3.0, 3.0]], cell=[6.0, 6.0, 6.0])
    calc = calculators.make_calculator(calculator, "atom")
    calc.initialize(atoms)  # reads the setups; no SCF
    return calc.get_number_of_electrons()


def test_setups_choose_the_paw_setup_of_an_element(root):
    fast = _gpaw_settings(root)["calculator"]
    assert fast["setups"] == {"Na": "1"}  # the fast preset's frozen core
    default = {**fast, "setups": {}}
    assert _valence_electrons(default) == 7.0  # Na.PBE: 2s2p3s
    assert _valence_electrons(fast) == 1.0  # Na.1.PBE: 3s
    # the cost model's count, read from the setup files' headers, agrees with GPAW's
    assert calculators.valence_electrons("Na", "PBE") == 7
    assert calculators.valence_electrons("Na", "PBE", "1") == 1
    assert calculators.valence_electrons("Na", "PBE", "5") is None
    assert calculators.unsupported_elements(["Na", "Ag"], {**default, "setups": {
        "Na": "1", "Ag": "11"}}) == []
    assert calculators.unsupported_elements(["Na", "Ag"], {**default, "setups": {
        "Na": "5"}}) == ["Na"]  # no Na.5.PBE in gpaw-data


def test_setups_are_part_of_the_settings_hash_only_when_named(root):
    settings = _gpaw_settings(root, setups={})
    named = _gpaw_settings(root, setups={"Na": "1"})
    without_key = {**settings, "calculator": {k: v for k, v in settings["calculator"].items()
                                              if k != "setups"}}
    # none named: the hash of screens run before the option existed; named: a new one,
    # for every stage, the candidate check (which elements it can treat) included
    assert cfg.settings_hash(settings) == cfg.settings_hash(without_key)
    for stage in ("candidates", "bulk", "clean", "phases"):
        assert cfg.settings_hash(cfg.stage_settings(named, stage)) != cfg.settings_hash(
            cfg.stage_settings(settings, stage)), stage


def test_single_points_stop_on_their_own_criterion_and_relaxations_keep_gpaws(root):
    fast = _gpaw_settings(root)["calculator"]
    assert fast["single_point_convergence"] == {"energy_eV": 0.001, "density": 0.003,
                                                "eigenstates": 1e-5}
    relax = calculators.make_calculator(fast, "slab")
    point = calculators.make_calculator(fast, "slab", single_point=True)
    # a relaxation: GPAW's per-electron energy criterion, its default density/eigenstates
    assert relax.parameters.convergence == {"energy": 0.0005, "density": 1e-4,
                                            "eigenstates": 4e-8}
    # a single point: 1 meV over three iterations for the whole system, looser density
    assert point.parameters.convergence == {
        "energy": {"name": "energy", "tol": 0.001, "relative": False},
        "density": 0.003, "eigenstates": 1e-5}
    # none configured: single points as relaxations
    unset = {**fast, "single_point_convergence": {}}
    assert calculators.scf_convergence(unset, single_point=True) == \
        calculators.scf_convergence(fast)


def test_single_point_convergence_is_hashed_only_when_set_and_set_whole(root):
    settings = _gpaw_settings(root, single_point_convergence={})
    without_key = {**settings, "calculator": {k: v for k, v in settings["calculator"].items()
                                              if k != "single_point_convergence"}}
    assert cfg.settings_hash(settings) == cfg.settings_hash(without_key)
    assert cfg.settings_hash(_gpaw_settings(root)) != cfg.settings_hash(settings)
    config, _ = cfg.load(root / "config" / "config.yaml")
    config["presets"]["fast"]["calculator"]["single_point_convergence"] = {"density": 0.01}
    with pytest.raises(cfg.ConfigError, match="single_point_convergence.*energy_eV"):
        cfg.validate(config)
