import numpy as np

from philicity import quality, sites


def _with_adatom(slab, site_kind="hollow"):
    site = next(s for s in sites.find_sites(slab) if s["kind"] == site_kind)
    return sites.place_adatom(slab, site, "Ag"), site


def test_clean_relaxation_has_no_flags(ag100):
    initial, site = _with_adatom(ag100)
    every = sites.find_sites(ag100, symm_reduce=0.0)
    flags = quality.site_flags(initial, initial.copy(), ag100, every, "hollow",
                               {"desorbed_factor": 1.6, "moved_tolerance_A": 1.0,
                                "reconstructed_tolerance_A": 0.6}, True, True)
    assert flags == []


def test_desorbed(ag100):
    initial, _ = _with_adatom(ag100)
    final = initial.copy()
    final.positions[-1, 2] += 3.0
    assert quality.check_desorbed(final, 1.6).startswith("desorbed")


def test_moved_to_another_kind(ag100):
    initial, _ = _with_adatom(ag100, "hollow")
    final = initial.copy()
    top = ag100.positions[ag100.positions[:, 2].argmax()]
    final.positions[-1, :2] = top[:2]
    every = sites.find_sites(ag100, symm_reduce=0.0)
    flag = quality.check_moved(initial, final, every, "hollow", 1.0)
    assert flag.startswith("moved (hollow -> ontop")


def test_reconstructed(ag100):
    initial, _ = _with_adatom(ag100)
    final = initial.copy()
    final.positions[0] += [0.0, 0.0, 0.9]
    assert quality.check_reconstructed(ag100, final, 0.6).startswith("reconstructed")
    final.positions[0] = ag100.positions[0] + [ag100.cell[0, 0], 0, 0]  # periodic image
    assert quality.check_reconstructed(ag100, final, 0.6) is None


def test_convergence_flags(ag100):
    initial, _ = _with_adatom(ag100)
    flags = quality.site_flags(initial, initial, ag100, [], "hollow",
                               {"desorbed_factor": 1.6, "moved_tolerance_A": 1.0,
                                "reconstructed_tolerance_A": 0.6}, False, False)
    assert flags[:2] == [quality.SCF_NOT_CONVERGED, quality.RELAX_NOT_CONVERGED]
    assert np.isfinite(initial.positions).all()
