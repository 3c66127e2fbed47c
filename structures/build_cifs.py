"""Write the shipped CIFs from published experimental lattice parameters.

Run once (`python structures/build_cifs.py`); the CIFs are committed. Sources
are cited per entry in structures/README.md. `compounds/` holds the phases a reaction of
the anode metal with a coating can reach (elemental references and M-X products). Space
groups use the standard settings of the International Tables (pymatgen takes origin
choice 1 where there is a choice).
"""

from pathlib import Path

from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter

HERE = Path(__file__).parent


def cubic(sg, a, species, coords):
    return Structure.from_spacegroup(sg, Lattice.cubic(a), species, coords)


def hexagonal(sg, a, c, species, coords):
    return Structure.from_spacegroup(sg, Lattice.hexagonal(a, c), species, coords)


ANODES = {
    "Li": cubic("Im-3m", 3.5093, ["Li"], [[0, 0, 0]]),
    "Na": cubic("Im-3m", 4.2906, ["Na"], [[0, 0, 0]]),
    "K": cubic("Im-3m", 5.328, ["K"], [[0, 0, 0]]),
}

COATINGS = {
    "Ag": cubic("Fm-3m", 4.0862, ["Ag"], [[0, 0, 0]]),
    "Au": cubic("Fm-3m", 4.0782, ["Au"], [[0, 0, 0]]),
    "Cu": cubic("Fm-3m", 3.6149, ["Cu"], [[0, 0, 0]]),
    "Al": cubic("Fm-3m", 4.0495, ["Al"], [[0, 0, 0]]),
    "Pb": cubic("Fm-3m", 4.9502, ["Pb"], [[0, 0, 0]]),
    "Zn": hexagonal("P6_3/mmc", 2.6649, 4.9468, ["Zn"], [[1 / 3, 2 / 3, 1 / 4]]),
    "Mg": hexagonal("P6_3/mmc", 3.2094, 5.2108, ["Mg"], [[1 / 3, 2 / 3, 1 / 4]]),
    # beta-Sn, I4_1/amd (pymatgen uses origin choice 1): Sn on 4a (0, 0, 0)
    "Sn": Structure.from_spacegroup(
        "I4_1/amd", Lattice.tetragonal(5.8318, 3.1818), ["Sn"], [[0, 0, 0]]
    ),
    "VN": cubic("Fm-3m", 4.139, ["V", "N"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    "TiN": cubic("Fm-3m", 4.242, ["Ti", "N"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    "graphite": hexagonal(
        "P6_3/mmc", 2.464, 6.711, ["C", "C"], [[0, 0, 0.25], [1 / 3, 2 / 3, 0.25]]
    ),
    "LiC6": hexagonal("P6/mmm", 4.305, 3.706, ["Li", "C"], [[0, 0, 0], [1 / 3, 0, 0.5]]),
    "Li3N": hexagonal(
        "P6/mmm", 3.648, 3.875, ["N", "Li", "Li"], [[0, 0, 0], [0, 0, 0.5], [1 / 3, 2 / 3, 0]]
    ),
    "LiGa": cubic("Fd-3m", 6.195, ["Li", "Ga"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    "Li2O": cubic("Fm-3m", 4.6114, ["O", "Li"], [[0, 0, 0], [0.25, 0.25, 0.25]]),
    "LiF": cubic("Fm-3m", 4.0263, ["Li", "F"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    "NaF": cubic("Fm-3m", 4.6342, ["Na", "F"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    "Na2O": cubic("Fm-3m", 5.55, ["O", "Na"], [[0, 0, 0], [0.25, 0.25, 0.25]]),
    # gamma-Na2CO3 (natrite, 293 K), average C2/m cell of the modulated structure,
    # Na sites taken as fully occupied
    "Na2CO3": Structure.from_spacegroup(
        "C2/m", Lattice.monoclinic(8.851, 5.24, 6.021, 101.08),
        ["Na", "Na", "Na", "C", "O", "O"],
        [[0, 0, 0], [0, 0, 0.5], [0.17036, 0.5, 0.74816], [0.16441, 0.5, 0.24920],
         [0.10178, 0.29423, 0.28557], [0.28986, 0.5, 0.17760]],
    ),
}

# Phases a reaction of the anode metal with a coating can reach (reactions.py): the
# elemental references the shipped coatings lack and M-X products. Not screened.
COMPOUNDS = {
    # Wyckoff (1963), as recorded in MINCRYST: Ti 2c (1/3, 2/3, 1/4)
    "Ti": hexagonal("P6_3/mmc", 2.95, 4.686, ["Ti"], [[1 / 3, 2 / 3, 1 / 4]]),
    # Ashcroft & Mermin (1976), as tabulated in ase.data.reference_states
    "V": cubic("Im-3m", 3.02, ["V"], [[0, 0, 0]]),
    # alpha-Ga (A11), Cmce: Ga 8f (0, y, z); AFLOW A_oC8_64_f-001 parameters
    "Ga": Structure.from_spacegroup(
        "Cmce", Lattice.orthorhombic(4.523, 7.661, 4.524), ["Ga"], [[0, 0.1549, 0.081]]
    ),
    # LiSn, P2/m (unique axis b): Sn 1a + 2m (x, 0, z), Li 1e + 2n (x, 1/2, z);
    # AFLOW AB_mP6_10_en_am parameters
    "LiSn": Structure.from_spacegroup(
        "P2/m", Lattice.monoclinic(5.170, 3.180, 7.740, 104.5),
        ["Sn", "Sn", "Li", "Li"],
        [[0, 0, 0], [0.234, 0, 0.66], [0.5, 0.5, 0], [0.263, 0.5, 0.336]],
    ),
    # NaTl (B32) type like LiGa: Li 8a, M 8b
    "LiAl": cubic("Fd-3m", 6.37, ["Li", "Al"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    "LiZn": cubic("Fd-3m", 6.209, ["Li", "Zn"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    # stage-2 LiC12, P6/mmm: Li 1a, C 12n (1/3, 0, z); AA-stacked graphene layers, Li in
    # every other gallery, the filled gallery 3.706 A wide as in LiC6
    "LiC12": hexagonal(
        "P6/mmm", 4.288, 7.065, ["Li", "C"], [[0, 0, 0], [1 / 3, 0, 3.706 / 2 / 7.065]]
    ),
    # NaPb3, Cu3Au (L1_2) type: Na 1a, Pb 3c
    "NaPb3": cubic("Pm-3m", 4.88, ["Na", "Pb"], [[0, 0, 0], [0, 0.5, 0.5]]),
    # NaSn (Na4Sn4), NaPb type, I4_1/acd: Na 16e + 16f, Sn 32g (Sn4 tetrahedra); the
    # measured lattice, positions relaxed with CHGNet in it (structures/README.md); given
    # here in pymatgen's origin choice 1, i.e. the paper's origin-2 positions + (0, 3/4, 1/8)
    "NaSn": Structure.from_spacegroup(
        "I4_1/acd", Lattice.tetragonal(10.475, 17.412), ["Na", "Na", "Sn"],
        [[0.8780, 0.75, 0.375], [0.3793, 0.3793, 0.25], [0.0663, 0.8655, 0.0593]]),
}

if __name__ == "__main__":
    for folder, table in (("anodes", ANODES), ("coatings", COATINGS), ("compounds", COMPOUNDS)):
        (HERE / folder).mkdir(exist_ok=True)
        for name, structure in table.items():
            path = HERE / folder / f"{name}.cif"
            CifWriter(structure, symprec=0.01).write_file(path)
            nearest = min(d for row in structure.distance_matrix for d in row if d > 0)
            print(f"{path}: {structure.composition.reduced_formula}, {len(structure)} atoms,"
                  f" nearest distance {nearest:.3f} A")
