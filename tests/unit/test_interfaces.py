"""Lattice-matched interfaces built by pymatgen, filtered by our bounds."""

import numpy as np
import pytest

from philicity import interfaces, slabs, structures

BOUNDS = dict(max_area_A2=60.0, max_strain_pct=6.0, max_atoms=40, gap_A=2.5,
              film_thickness_A=5.0, substrate_thickness_A=5.0, vacuum_A=10.0)


@pytest.fixture(scope="module")
def na_on_al(request):
    root = request.config.rootpath
    na = structures.read_structure(root / "structures/anodes/Na.cif")
    al = structures.read_structure(root / "structures/coatings/Al.cif")
    shift = slabs.generate_terminations(al, (1, 0, 0), 5.0, 10.0)[0].shift
    return na, al, shift


def test_na100_on_al100_respects_the_bounds(na_on_al):
    na, al, shift = na_on_al
    found = interfaces.build_interfaces(na, (1, 0, 0), al, (1, 0, 0), coating_shift=shift,
                                        **BOUNDS)
    assert found
    for entry in found:
        assert entry["area_A2"] <= BOUNDS["max_area_A2"]
        assert abs(entry["strain_pct"]) <= BOUNDS["max_strain_pct"]
        assert entry["n_atoms"] <= BOUNDS["max_atoms"]
    best = found[0]
    iface = best["interface"]
    # the film carries the strain, the coating keeps its lattice
    sub = iface.substrate
    assert sub.lattice.a == pytest.approx(np.linalg.norm(
        iface.interface_properties["substrate_sl_vectors"][0]))
    assert {e.symbol for e in iface.film.composition.elements} == {"Na"}
    assert len(iface.film_indices) + len(iface.substrate_indices) == best["n_atoms"]
    sizes = [(e["n_atoms"], abs(e["strain_pct"])) for e in found]
    assert sizes == sorted(sizes, key=lambda s: s[0])  # smallest first


def test_no_match_names_the_bound(na_on_al):
    na, al, shift = na_on_al
    with pytest.raises(interfaces.InterfaceError, match="strain"):
        interfaces.build_interfaces(na, (1, 0, 0), al, (1, 0, 0), coating_shift=shift,
                                    **{**BOUNDS, "max_strain_pct": 0.5})
    with pytest.raises(interfaces.InterfaceError, match="max_atoms"):
        interfaces.build_interfaces(na, (1, 0, 0), al, (1, 0, 0), coating_shift=shift,
                                    **{**BOUNDS, "max_atoms": 5})


def test_registries_tile_one_primitive_coating_cell(na_on_al):
    na, al, shift = na_on_al
    iface = interfaces.build_interfaces(na, (1, 0, 0), al, (1, 0, 0), coating_shift=shift,
                                        **BOUNDS)[0]["interface"]
    shifts = interfaces.registry_shifts(iface, 2)
    assert len(shifts) == 4 and shifts[0] == (0.0, 0.0)
    # each shift, in angstrom, lies inside one primitive Al(100) cell (2.8634 A square)
    cell = iface.lattice.matrix[:2, :2]
    for s in shifts[1:]:
        d = np.linalg.norm(np.asarray(s) @ cell)
        assert 0.1 < d < 2.8634 * np.sqrt(2) + 1e-6
    assert len(interfaces.registry_shifts(iface, 1)) == 1


def test_tagged_atoms_separate_and_unstrain(na_on_al):
    na, al, shift = na_on_al
    found = interfaces.build_interfaces(na, (1, 0, 0), al, (1, 0, 0), coating_shift=shift,
                                        **BOUNDS)
    iface = found[0]["interface"]
    atoms = interfaces.interface_atoms(iface, (0.0, 0.0), 10.0, fixed_layers=1,
                                layer_tolerance_A=0.5)
    tags = atoms.get_tags()
    assert (tags == interfaces.FILM_TAG).sum() == len(iface.film_indices)
    assert set(atoms[tags == interfaces.FILM_TAG].get_chemical_symbols()) == {"Na"}
    assert (tags == 0).sum() > 0  # bottom Al layer fixed
    z = atoms.positions[:, 2]
    assert z.min() == pytest.approx(5.0, abs=1e-6)  # half the vacuum below
    assert atoms.cell[2, 2] - z.max() == pytest.approx(5.0, abs=1e-6)
    assert z[tags == interfaces.FILM_TAG].min() > z[tags != interfaces.FILM_TAG].max()
    metal, coating = interfaces.separate(atoms)
    assert len(metal) + len(coating) == len(atoms)
    assert not metal.constraints and coating.constraints
    film_vectors = np.asarray(iface.interface_properties["film_sl_vectors"])
    free = interfaces.unstrain(metal, film_vectors)
    area = np.linalg.norm(np.cross(free.cell[0], free.cell[1]))
    assert area == pytest.approx(np.linalg.norm(np.cross(*film_vectors)))
    # the film at its own lattice: Na-Na nearest distance of bcc Na, a sqrt(3) / 2
    d = free.get_all_distances(mic=True)
    assert d[d > 0.1].min() == pytest.approx(4.2906 * np.sqrt(3) / 2, abs=0.05)


def test_polar_termination_tasker2_substrate_in_the_interface(request):
    """Na(100) on the chosen Na2CO3(001) termination (every plain cut polar; a Tasker-II
    reconstruction is not): the interface's coating is that reconstruction (non-polar,
    Na on top, every CO3 whole), not pymatgen's polar cut."""
    from philicity.jobs.interfaces import _substrate_variant

    root = request.config.rootpath
    na = structures.read_structure(root / "structures/anodes/Na.cif")
    bulk = structures.read_structure(root / "structures/coatings/Na2CO3.cif")
    ox = slabs.oxidation_states(bulk)
    found = slabs.candidate_terminations(bulk, (0, 0, 1), 5.0, 10.0, ox, 0.5)
    i, (slab, origin) = next((i, f) for i, f in enumerate(found) if f[1]["kind"] == "tasker2")
    entry = {"index": i, "origin": "tasker2", "source": origin["source"],
             **slabs.termination_properties(slab, bulk, ox, 0.5)}
    shift = slabs.generate_terminations(bulk, (0, 0, 1), 5.0, 10.0)[origin["source"]].shift
    bounds = {**BOUNDS, "max_area_A2": 100.0, "max_strain_pct": 10.0, "max_atoms": 120}
    plain = interfaces.build_interfaces(na, (1, 0, 0), bulk, (0, 0, 1), coating_shift=shift,
                                        **bounds)
    built = interfaces.build_interfaces(na, (1, 0, 0), bulk, (0, 0, 1), coating_shift=shift,
                                        substrate_variant=_substrate_variant(entry, bulk, ox,
                                                                             0.5),
                                        **bounds)
    assert built

    def faces(iface) -> tuple[set[str], float]:
        """Top-face elements of the coating and its dipole per area (e/A, formal charges;
        the slab is neutral, so the origin does not matter)."""
        sub = iface.substrate
        z = sub.cart_coords[:, 2]
        top = {s.specie.symbol for s, h in zip(sub, z, strict=True) if h > z.max() - 0.5}
        charges = np.array([ox[s.specie.symbol] for s in sub])
        assert abs(charges.sum()) < 1e-9
        return top, float(charges @ z) / interfaces.interface_area(iface)

    top, dipole = faces(built[0]["interface"])
    assert top == {"Na"} and abs(dipole) < 1e-3
    assert abs(faces(plain[0]["interface"])[1]) > 0.1  # pymatgen's own cut: polar
    assert built[0]["interface"].film.composition.reduced_formula == "Na"
