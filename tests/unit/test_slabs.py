import numpy as np
import pytest

from philicity import slabs, structures


def test_miller_round_trip():
    assert slabs.miller_to_str((1, -1, 0)) == "1-10"
    assert slabs.str_to_miller("1-10") == (1, -1, 0)
    assert slabs.str_to_miller("001") == (0, 0, 1)
    with pytest.raises(ValueError):
        slabs.str_to_miller("10")


def test_layer_index_groups_heights():
    z = np.array([0.0, 0.1, 2.0, 2.05, 4.1])
    assert slabs.layer_index(z, 0.5).tolist() == [0, 0, 1, 1, 2]


def test_lateral_repeats_square_and_hexagonal():
    # square 2.889 A: 2 repeats reach 5.78 >= 5.5
    assert slabs.lateral_repeats(np.diag([2.889, 2.889, 20.0]), 5.5) == (2, 2)
    # hexagonal a = 2.556 A: image distance is a sin(60) = 2.214 A, so 3 repeats for 5.5 A
    a = 2.556
    cell = np.array([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, 20]])
    assert slabs.lateral_repeats(cell, 5.5) == (3, 3)


def test_ag100_slab_is_square_fixed_and_tagged(ag100):
    assert ag100.info["n_layers"] == 2
    assert len(ag100) == 8  # 2x2 cell, 2 layers
    a, b = ag100.cell.lengths()[:2]
    assert a == pytest.approx(5.779, abs=1e-3) and b == pytest.approx(5.779, abs=1e-3)
    assert (ag100.get_tags() == 0).sum() == 4  # bottom layer fixed
    assert len(ag100.constraints[0].index) == 4
    assert slabs.surface_area(ag100) == pytest.approx(5.779**2, rel=1e-3)


def test_cu111_primitive_surface_cell(root):
    bulk = structures.read_structure(root / "structures/coatings/Cu.cif")
    slab = slabs.finish_slab(slabs.generate_terminations(bulk, (1, 1, 1), 5.0, 10.0)[0],
                             5.0, 2, 0.5, 100)
    # a = 2.556 A hexagonal cell repeated 3x3 (height 2.214 A per repeat), 3 layers
    assert len(slab) == 27
    assert slabs.is_stoichiometric(slab, bulk)
    # its primitive cell came with c along -z: turned up, the slab inside the cell, so
    # that a x b (pymatgen's surface normal) points out of the free top face
    cell = slab.cell.array
    assert cell[2, 2] > 0 and np.cross(cell[0], cell[1])[2] > 0
    z = slab.positions[:, 2]
    assert 0 < z.min() < z.max() < cell[2, 2]
    fixed = np.isin(np.arange(len(slab)), slab.constraints[0].get_indices())
    assert z[fixed].max() < z[~fixed].min()  # the fixed layers are the bottom ones


def test_max_atoms_guard(root):
    bulk = structures.read_structure(root / "structures/coatings/Cu.cif")
    raw = slabs.generate_terminations(bulk, (1, 1, 1), 5.0, 10.0)
    with pytest.raises(slabs.SlabError, match="max_atoms"):
        slabs.finish_slab(raw[0], 5.0, 2, 0.5, 10)


def test_a_facet_too_large_for_max_atoms_is_refused_before_the_cut(root):
    from ase.build import bulk
    from pymatgen.io.ase import AseAtomsAdaptor

    big = bulk("Cu", cubic=True).repeat(5)  # 500 atoms
    big.rattle(0.05, seed=3)  # no symmetry left: the primitive cell is the whole cell
    with pytest.raises(slabs.SlabError, match=r"500 per primitive cell.*max_atoms=60"):
        slabs.check_slab_size(AseAtomsAdaptor.get_structure(big), (0, 0, 1), 5.0, 60)
    cu = structures.read_structure(root / "structures/coatings/Cu.cif")
    slabs.check_slab_size(cu, (1, 1, 1), 5.0, 60)  # 1 per primitive cell: fine
    # the bound is a lower bound: Cu(100) at 5 A is ~3 layers of 1 atom, the real slab
    # (before lateral repeats) has at least that many
    raw = slabs.generate_terminations(cu, (1, 0, 0), 5.0, 8.0)
    assert len(raw[0]) >= 5.0 / cu.lattice.d_hkl((1, 0, 0))
    with pytest.raises(slabs.SlabError, match="no plane"):
        slabs.check_slab_size(cu, (0, 0, 0), 5.0, 60)


def test_emt_does_not_treat_h_c_n_o():
    from philicity.calculators import unsupported_elements

    assert unsupported_elements(["Li", "H"], {"name": "emt"}) == ["H", "Li"]
    assert unsupported_elements(["C", "N", "O", "Cu"], {"name": "emt"}) == ["C", "N", "O"]
    assert unsupported_elements(["Cu", "Ag", "Al"], {"name": "emt"}) == []


def test_termination_choice_stoichiometric_first_then_lowest_surface_energy():
    cuts = [{"index": 0, "stoichiometric": False, "gamma_J_m2": 0.2},
            {"index": 1, "stoichiometric": True, "gamma_J_m2": 0.9},
            {"index": 2, "stoichiometric": True, "gamma_J_m2": 0.5},
            {"index": 3, "stoichiometric": True, "gamma_J_m2": None}]  # SCF failed
    assert slabs.choose_termination(cuts, "lowest_energy") == [2]
    assert slabs.choose_termination(cuts[:1], "lowest_energy") == [0]
    assert slabs.choose_termination(cuts, "all") == [0, 1, 2, 3]
    assert slabs.choose_termination(cuts, 3) == [3]
    # no surface energies (one cut, or every SCF failed): the first cut
    assert slabs.choose_termination([{"index": 0, "stoichiometric": True},
                                     {"index": 1, "stoichiometric": True}],
                                    "lowest_energy") == [0]
    with pytest.raises(slabs.SlabError, match="4 terminations; termination 4 does not"):
        slabs.choose_termination(cuts, 4)


def _rocksalt():
    from pymatgen.core import Lattice, Structure

    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_polar_termination_of_alternating_charged_planes_and_a_neutral_one():
    """NaCl(111): alternating Na+ and Cl- planes, a Tasker III polar surface; NaCl(100):
    neutral planes of both ions, not polar."""
    nacl = _rocksalt()
    ox = slabs.oxidation_states(nacl)
    assert ox == {"Na": 1.0, "Cl": -1.0}
    (flat,) = slabs.generate_terminations(nacl, (1, 0, 0), 8.0, 10.0)
    props = slabs.termination_properties(flat, nacl, ox, 0.5)
    assert props["symmetric"] and not props["polar"] and props["top_face"] == "NaCl"
    assert props["dipole_e_per_A"] == pytest.approx(0.0, abs=1e-6)
    polar = [slabs.termination_properties(s, nacl, ox, 0.5)
             for s in slabs.generate_terminations(nacl, (1, 1, 1), 8.0, 10.0)]
    assert polar and all(p["polar"] and not p["symmetric"] for p in polar)
    assert {p["top_face"] for p in polar} <= {"Na", "Cl"}
    # the same cut without charges (as for a metal) is never polar
    bare = slabs.termination_properties(slabs.generate_terminations(
        nacl, (1, 1, 1), 8.0, 10.0)[0], nacl, {}, 0.5)
    assert not bare["polar"] and bare["dipole_e_per_A"] == 0.0


def test_termination_oxidation_states_guessed_given_or_none_for_metals(root):
    ag = structures.read_structure(root / "structures/coatings/Ag.cif")
    assert slabs.oxidation_states(ag) == {}  # a metal: polarity does not apply
    vn = structures.read_structure(root / "structures/coatings/VN.cif")
    assert slabs.oxidation_states(vn) == {"V": 3.0, "N": -3.0}
    assert slabs.oxidation_states(vn, {"V": 2, "N": -2}) == {"V": 2.0, "N": -2.0}
    # pymatgen's guess for LiC6 is Li+1 C-1/6: a metal, not an ionic crystal (a Tasker-II
    # "reconstruction" of it splits a graphene sheet in two)
    lic6 = structures.read_structure(root / "structures/coatings/LiC6.cif")
    assert slabs.oxidation_states(lic6) == {}


def test_termination_properties_count_the_carbonates_a_cut_breaks(root):
    """Na2CO3(001): of its four cuts two keep every CO3 group whole and two break two of
    them; all four are polar with formal charges (the pipeline's current choice had a
    dipole of -14.9 e A over 116 A^2, -0.128 e/A)."""
    bulk = structures.read_structure(root / "structures/coatings/Na2CO3.cif")
    ox = slabs.oxidation_states(bulk)
    assert ox == {"Na": 1.0, "C": 4.0, "O": -2.0}
    props = [slabs.termination_properties(s, bulk, ox, 0.5)
             for s in slabs.generate_terminations(bulk, (0, 0, 1), 5.0, 10.0)]
    assert sorted(p["polyanions_cut"] for p in props) == [0, 0, 2, 2]
    assert all(p["polar"] for p in props)
    assert min(abs(p["dipole_e_per_A"]) for p in props) == pytest.approx(0.127, abs=0.002)


def test_termination_order_non_polar_then_intact_polyanions_then_least_polar():
    cuts = [{"index": 0, "polar": True, "dipole_e_per_A": 0.05, "polyanions_cut": 2,
             "stoichiometric": True, "gamma_J_m2": 0.1},
            {"index": 1, "polar": True, "dipole_e_per_A": -0.3, "polyanions_cut": 0,
             "stoichiometric": True, "gamma_J_m2": 0.2},
            {"index": 2, "polar": True, "dipole_e_per_A": 0.1274, "polyanions_cut": 0,
             "stoichiometric": True, "gamma_J_m2": 0.9},
            {"index": 3, "polar": True, "dipole_e_per_A": -0.1274, "polyanions_cut": 0,
             "stoichiometric": True, "gamma_J_m2": 0.4}]
    # every cut polar: intact carbonates first, then the least polar, then gamma
    assert slabs.choose_termination(cuts, "lowest_energy") == [3]
    assert slabs.terminations_to_compare(cuts) == [2, 3]  # only these need DFT
    flat = {"index": 4, "polar": False, "dipole_e_per_A": 0.0, "polyanions_cut": 0,
            "stoichiometric": False, "gamma_J_m2": 1.5}
    # a non-polar cut wins over any polar one, whatever its surface energy
    assert slabs.choose_termination([*cuts, flat], "lowest_energy") == [4]
    assert slabs.terminations_to_compare([*cuts, flat]) == [4]


@pytest.mark.parametrize("name, miller", [("Ag", (1, 0, 0)), ("Zn", (1, 0, 1)),
                                          ("VN", (0, 0, 1))])
def test_metal_and_rocksalt_001_terminations_are_chosen_as_before(root, name, miller):
    """Non-polar, no polyanions, stoichiometric: every cut stays in the comparison, so the
    lowest surface energy decides, as it did before polarity was recorded."""
    bulk = structures.read_structure(root / f"structures/coatings/{name}.cif")
    ox = slabs.oxidation_states(bulk)
    found = slabs.candidate_terminations(bulk, miller, 5.0, 10.0, ox, 0.5)
    plain = slabs.generate_terminations(bulk, miller, 5.0, 10.0)
    # the plain cuts keep their indices; no Tasker-II or repaired cut is added
    assert [o for _, o in found[:len(plain)]] == [{"kind": "cut", "source": i}
                                                  for i in range(len(plain))]
    assert {o["kind"] for _, o in found} <= {"cut", "flipped"}
    cuts = [{"index": i, "stoichiometric": True,
             **slabs.termination_properties(s, bulk, ox, 0.5)}
            for i, (s, _) in enumerate(found)]
    assert not any(c["polar"] or c["polyanions_cut"] for c in cuts)
    assert slabs.terminations_to_compare(cuts) == [c["index"] for c in cuts]


def _wurtzite_zno():
    from pymatgen.core import Lattice, Structure

    return Structure.from_spacegroup("P6_3mc", Lattice.hexagonal(3.25, 5.21), ["Zn", "O"],
                                     [[1 / 3, 2 / 3, 0], [1 / 3, 2 / 3, 0.382]])


def test_flipped_termination_copies_of_an_asymmetric_slab():
    """Wurtzite ZnO(001) is not centrosymmetric: each cut has a Zn face and an O face, and
    its flipped copy exposes the other one, with the dipole reversed."""
    zno = _wurtzite_zno()
    ox = slabs.oxidation_states(zno)
    found = slabs.candidate_terminations(zno, (0, 0, 1), 5.0, 10.0, ox, 0.3)
    cuts = [(s, o) for s, o in found if o["kind"] == "cut"]
    flips = [(s, o) for s, o in found if o["kind"] == "flipped"]
    assert cuts and len(flips) == len(cuts)
    for slab, origin in flips:
        source = slabs.termination_properties(cuts[origin["source"]][0], zno, ox, 0.3)
        mine = slabs.termination_properties(slab, zno, ox, 0.3)
        assert not source["symmetric"]
        assert mine["dipole_e_per_A"] == pytest.approx(-source["dipole_e_per_A"], abs=1e-4)
        assert {mine["top_face"], source["top_face"]} == {"Zn", "O2"}
        assert len(slab) == len(cuts[origin["source"]][0])
    # a symmetric slab has no flipped copy: NaCl(100)
    nacl = _rocksalt()
    assert [o["kind"] for _, o in slabs.candidate_terminations(
        nacl, (1, 0, 0), 8.0, 10.0, slabs.oxidation_states(nacl), 0.5)] == ["cut"]


def test_polar_termination_na2co3_001_chosen_non_polar_with_whole_carbonates(root):
    """Every plain cut of Na2CO3(001) is polar; a Tasker-II reconstruction of the cut with
    Na on top is not, keeps every CO3 group whole, is stoichiometric, and is chosen."""
    bulk = structures.read_structure(root / "structures/coatings/Na2CO3.cif")
    ox = slabs.oxidation_states(bulk)
    found = slabs.candidate_terminations(bulk, (0, 0, 1), 5.0, 10.0, ox, 0.5)
    entries = [{"index": i, "origin": o["kind"], "source": o["source"],
                "stoichiometric": slabs.is_stoichiometric(slabs.to_atoms(s), bulk),
                **slabs.termination_properties(s, bulk, ox, 0.5)}
               for i, (s, o) in enumerate(found)]
    assert all(e["polar"] for e in entries if e["origin"] != "tasker2")
    (chosen,) = slabs.choose_termination(entries, "lowest_energy")
    best = entries[chosen]
    assert best["origin"] == "tasker2" and not best["polar"]
    assert best["polyanions_cut"] == 0 and best["stoichiometric"]
    assert best["top_face"] == "Na"
    assert slabs.terminations_to_compare(entries) == [chosen]  # no DFT needed to choose
    assert slabs.choice_reason(entries, [chosen], "lowest_energy").startswith(
        "every plain cut polar: a Tasker-II reconstruction of cut")


def test_termination_choice_reason_in_words():
    polar = [{"index": 0, "polar": True, "polyanions_cut": 2, "gamma_J_m2": 0.1},
             {"index": 1, "polar": True, "polyanions_cut": 0, "gamma_J_m2": 0.3},
             {"index": 2, "polar": True, "polyanions_cut": 0, "gamma_J_m2": 0.2}]
    assert slabs.choice_reason(polar, [2], "lowest_energy") == (
        "every cut polar: the least polar; keeps every polyanion whole; "
        "lowest surface energy of 3 compared")
    assert slabs.choice_reason(polar[:1], [0], "lowest_energy") == "the only cut"
    assert slabs.choice_reason(polar, [1], 1) == "termination 1 set in the candidate's options"
    flat = [{"index": 0, "polar": False}, {"index": 1, "polar": True}]
    assert slabs.choice_reason(flat, [0], "lowest_energy") == "non-polar"


def test_a_cut_tied_with_its_upside_down_copy_says_so():
    """gamma of an asymmetric slab averages its two faces, so a cut and its flipped copy
    tie by construction: the reason says which one is screened and how to get both."""
    pair = [{"index": 0, "polar": False, "origin": "cut", "gamma_J_m2": 0.4},
            {"index": 1, "polar": False, "origin": "flipped", "source": 0,
             "gamma_J_m2": 0.4},
            {"index": 2, "polar": False, "origin": "cut", "gamma_J_m2": 0.6}]
    assert slabs.choose_termination(pair, "lowest_energy") == [0]
    assert slabs.choice_reason(pair, [0], "lowest_energy") == (
        "non-polar; lowest surface energy of 3 compared; tied with its upside-down copy 1 "
        "(the same two faces, so the same surface energy): the first of the two is "
        "screened, termination: all screens both")
    pair[2]["gamma_J_m2"] = 0.3  # another cut lower: no tie to speak of
    assert "upside-down" not in slabs.choice_reason(pair, [2], "lowest_energy")


def test_a_non_polar_cuts_leftover_dipole_does_not_outrank_stoichiometry():
    cuts = [{"index": 0, "polar": False, "dipole_e_per_A": 4e-4, "stoichiometric": True},
            {"index": 1, "polar": False, "dipole_e_per_A": 1e-5, "stoichiometric": False}]
    assert slabs.terminations_to_compare(cuts) == [0]
    assert slabs.choose_termination(cuts, "lowest_energy") == [0]
