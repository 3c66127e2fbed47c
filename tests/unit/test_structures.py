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
    with pytest.raises(structures.CandidateError, match="unknown keys"):
        structures.read_sidecar(cif)


def test_foreign_alkali():
    assert structures.contains_foreign_alkali(["F", "Li"], "Na")
    assert not structures.contains_foreign_alkali(["F", "Na"], "Na")
    assert not structures.contains_foreign_alkali(["Ag"], "Li")
