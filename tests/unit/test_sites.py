import numpy as np
import pytest

from philicity import sites


def test_fcc100_has_ontop_bridge_and_fourfold_hollow(ag100):
    found = sites.find_sites(ag100)
    assert sorted(s["kind"] for s in found) == ["bridge", "hollow", "ontop"]


def test_fcc100_all_sites_unreduced(ag100):
    every = sites.find_sites(ag100, symm_reduce=0.0)
    kinds = [s["kind"] for s in every]
    # 2x2 cell: 4 top atoms, 8 bridges, 4 hollows
    assert kinds.count("ontop") == 4 and kinds.count("bridge") == 8 and kinds.count("hollow") == 4


def test_classify_square_lattice_points(ag100):
    top = ag100.positions[ag100.positions[:, 2].argmax()]
    a = 4.0862 / np.sqrt(2)
    assert sites.classify_site(ag100, top[:2]) == "ontop"
    assert sites.classify_site(ag100, top[:2] + [a / 2, 0]) == "bridge"
    assert sites.classify_site(ag100, top[:2] + [a / 2, a / 2]) == "hollow"
    # centroid of a right triangle of top atoms: no high-symmetry site
    assert sites.classify_site(ag100, top[:2] + [a / 3, a / 3]) is None


def test_adatom_height_ontop_is_bond_length(ag100):
    top = ag100.positions[ag100.positions[:, 2].argmax()]
    d = sites.bond_length("Na", "Ag")  # 1.66 + 1.45 = 3.11 A
    assert d == pytest.approx(3.11, abs=0.01)
    h = sites.adatom_height(ag100, top[:2], "Na")
    assert h - top[2] == pytest.approx(d, abs=1e-6)


def test_adatom_height_hollow_hand_computed(ag100):
    top = ag100.positions[ag100.positions[:, 2].argmax()]
    a = 4.0862 / np.sqrt(2)
    d = sites.bond_length("Na", "Ag")
    r = a / np.sqrt(2)  # lateral distance from the four-fold hollow to its 4 atoms
    h = sites.adatom_height(ag100, top[:2] + [a / 2, a / 2], "Na")
    assert h - top[2] == pytest.approx(np.sqrt(d**2 - r**2), abs=1e-6)


def test_place_adatom_tags(ag100):
    site = sites.find_sites(ag100)[0]
    atoms = sites.place_adatom(ag100, site, "Na")
    assert len(atoms) == len(ag100) + 1
    assert atoms.get_tags()[-1] == 2 and atoms[-1].symbol == "Na"


def test_lateral_distances_minimum_image():
    cell = np.diag([4.0, 4.0, 10.0])
    d = sites.lateral_distances(cell, np.array([[3.9, 0.0, 0.0]]), np.array([0.1, 0.0]))
    assert d[0] == pytest.approx(0.2)


def test_equivalent_sites_get_one_canonical_position_and_name(ag100):
    """Every hollow of Ag(100) 2x2 is the same site: whichever one a finder returns, its
    canonical position is the same, so site names and starting geometries do not depend
    on a library's enumeration order."""
    from pymatgen.io.ase import AseAtomsAdaptor

    structure = AseAtomsAdaptor.get_structure(ag100)
    ops = sites._surface_operations(structure)
    every = sites.find_sites(ag100, symm_reduce=0.0)
    z = ag100.positions[:, 2].max()
    hollows = [np.array([*s["xy"], z]) for s in every if s["kind"] == "hollow"]
    assert len(hollows) == 4
    canonical = [sites.canonical_xy(structure, ops, h) for h in hollows]
    assert all(np.allclose(c, canonical[0], atol=1e-6) for c in canonical)
    reduced = sites.find_sites(ag100)
    hollow = next(s for s in reduced if s["kind"] == "hollow")
    assert np.allclose(hollow["xy"], canonical[0], atol=1e-6) and hollow["name"] == "hollow0"


@pytest.mark.parametrize("cif, miller, kinds", [
    # the bridge of fcc(111) was lost when its cell's c pointed down (sites of the bottom
    # face, relabelled against the top); bcc(110) has a pseudo-threefold hollow whose
    # corners are 1.65, 1.94, 1.94 A away (Li)
    ("coatings/Cu.cif", (1, 1, 1), ["ontop", "bridge", "hollow", "hollow"]),
    ("anodes/Li.cif", (1, 1, 0), ["ontop", "bridge", "hollow", "bridge"]),
    ("coatings/Ag.cif", (1, 0, 0), ["ontop", "bridge", "hollow"]),
])
def test_sites_of_the_top_face_of_shipped_facets(root, cif, miller, kinds):
    from philicity import slabs, structures

    bulk = structures.read_structure(root / "structures" / cif)
    slab = slabs.finish_slab(slabs.generate_terminations(bulk, miller, 4.0, 10.0)[0],
                             5.0, 1, 0.3, 200)
    found = sites.find_sites(slab)
    assert [s["kind"] for s in found] == kinds
    top = slab.positions[:, 2].max()
    for s in found:  # placed on the top face, the free one
        assert sites.place_adatom(slab, s, "Na", 1.0).positions[-1, 2] > top


def test_bcc110_pseudo_threefold_hollow_is_a_hollow():
    """Corners at unequal distances within HOLLOW_SPREAD of the nearest are a hollow."""
    from ase import Atoms

    slab = Atoms("Li3", positions=[[0, 0, 5], [3.0, 0, 5], [1.5, 2.6, 5]],
                 cell=[[6, 0, 0], [0, 7, 0], [0, 0, 15]], pbc=(True, True, False))
    assert sites.classify_site(slab, np.array([1.5, 1.05])) == "hollow"  # 1.55, 1.83, 1.83
    assert sites.classify_site(slab, np.array([1.5, 0.2])) == "bridge"  # 1.51, 1.51, 2.40
    assert sites.classify_site(slab, np.array([1.0, 0.3])) is None  # 1.04, 2.02, 2.35
