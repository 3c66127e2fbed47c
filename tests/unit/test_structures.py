import pytest

from philicity import structures

DISORDERED = """data_disordered
_symmetry_space_group_name_H-M 'P 1'
_cell_length_a 4.0
_cell_length_b 4.0
_cell_length_c 4.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_symmetry_equiv_pos_as_xyz
 'x, y, z'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Cu1 Cu 0 0 0 0.5
Au1 Au 0 0 0 0.5
"""


def test_shipped_cifs_are_valid(root):
    cifs = sorted((root / "structures").glob("*/*.cif"))
    assert len(cifs) >= 21
    for cif in cifs:
        assert len(structures.read_structure(cif)) > 0


def test_missing_file(tmp_path):
    with pytest.raises(structures.CandidateError, match="file not found"):
        structures.read_structure(tmp_path / "nope.cif")


def test_malformed_cif_names_file(tmp_path):
    bad = tmp_path / "bad.cif"
    bad.write_text("data_x\nthis is not a cif\n")
    with pytest.raises(structures.CandidateError) as err:
        structures.read_structure(bad)
    assert str(bad) in str(err.value) and "not a readable CIF" in str(err.value)


def test_disordered_cif_is_refused(tmp_path):
    cif = tmp_path / "CuAu.cif"
    cif.write_text(DISORDERED)
    with pytest.raises(structures.CandidateError, match="partial occupancies"):
        structures.read_structure(cif)


def test_sidecar(tmp_path):
    cif = tmp_path / "X.cif"
    (tmp_path / "X.yaml").write_text("miller: [[1, 0, 0]]\n")
    assert structures.read_sidecar(cif) == {"miller": [[1, 0, 0]]}
    (tmp_path / "X.yaml").write_text("milller: [[1, 0, 0]]\n")
    with pytest.raises(structures.CandidateError, match="unknown keys.*'oxidation_states'"):
        structures.read_sidecar(cif)
    # every key of the schema's candidate definition, as the docs list them
    (tmp_path / "X.yaml").write_text("miller: [[0, 0, 1]]\ntermination: all\n"
                                     "magmoms: {Fe: 3.0}\noxidation_states: {Na: 1, C: 4, O: -2}"
                                     "\nnote: Tasker-II\n")
    assert structures.read_sidecar(cif)["oxidation_states"] == {"Na": 1, "C": 4, "O": -2}


def test_foreign_alkali():
    assert structures.contains_foreign_alkali(["F", "Li"], "Na")
    assert not structures.contains_foreign_alkali(["F", "Na"], "Na")
    assert not structures.contains_foreign_alkali(["Ag"], "Li")


def _cu(root) -> str:
    return (root / "structures/coatings/Cu.cif").read_text()


def test_find_candidates_takes_any_case_of_cif_and_fails_broken_links_as_rows(tmp_path,
                                                                              root):
    (tmp_path / "Upper.CIF").write_text(_cu(root))
    (tmp_path / "lower.cif").write_text(_cu(root))
    (tmp_path / "Dangling.cif").symlink_to(tmp_path / "missing.cif")
    (tmp_path / "notes.txt").write_text("not a candidate")
    found = {c.name: c for c in structures.find_candidates(tmp_path)}
    assert set(found) == {"Upper", "lower", "Dangling"}
    assert found["Upper"].elements == ["Cu"] and found["Dangling"].elements is None
    with pytest.raises(structures.CandidateError, match="broken symbolic link"):
        structures.read_structure(tmp_path / "Dangling.cif")
    (tmp_path / "lower.CIF").write_text(_cu(root))
    with pytest.raises(structures.CandidateError, match="same name"):
        structures.find_candidates(tmp_path)


def test_a_cif_with_two_data_blocks_is_refused_with_their_names(tmp_path, root):
    cif = tmp_path / "Two.cif"
    cif.write_text(_cu(root) + "\n" + _cu(root).replace("data_", "data_other_", 1))
    with pytest.raises(structures.CandidateError, match=r"2 data blocks \(.*other_"):
        structures.read_structure(cif)


def test_pymatgen_s_own_reason_for_a_bad_cif_is_kept(tmp_path, root):
    cif = tmp_path / "Over.cif"
    cif.write_text(_cu(root).replace("0.00000000  1\n", "0.00000000  1.2\n"))
    with pytest.raises(structures.CandidateError, match=r"Over\.cif.*occupanc.*1\.2"):
        structures.read_structure(cif)


@pytest.mark.parametrize("text, words", [
    ("miller: [[0, 0, 0]]\n", ["key 'miller.0'", "no plane"]),
    ("miller: [1, 1, 1]\n", ["key 'miller.0'", "not of type 'array'"]),
    ("miller: [[1, 2]]\n", ["key 'miller.0'", "too short"]),
    ('miller: "111"\n', ["key 'miller'", "not of type 'array'"]),
    ("termination: lowest\n", ["key 'termination'"]),
    ("magmoms: {Fe: big}\n", ["key 'magmoms.Fe'"]),
])
def test_sidecar_values_are_checked_against_the_schema(tmp_path, root, text, words):
    (tmp_path / "X.cif").write_text(_cu(root))
    (tmp_path / "X.yaml").write_text(text)
    with pytest.raises(structures.CandidateError) as err:
        structures.read_sidecar(tmp_path / "X.cif")
    assert str(err.value).startswith(str(tmp_path / "X.yaml"))
    assert all(w in str(err.value) for w in words), str(err.value)


def test_a_valid_sidecar_with_a_note_is_read(tmp_path, root):
    (tmp_path / "X.cif").write_text(_cu(root))
    (tmp_path / "X.yaml").write_text("miller: [[1, 1, 1]]\nnote: Cu(111)\n")
    assert structures.read_sidecar(tmp_path / "X.cif")["miller"] == [[1, 1, 1]]
