"""One function per Snakemake rule: read inputs, call the science, write one record.

The modules follow ``workflow/rules/``: ``bulk``, ``slabs``, ``adsorption``,
``interfaces``, ``report`` (with ``charges``, the charge-density differences its rules
ask for); what they share: ``records`` (the records and their
structure files), ``dft`` (SCF retries, slab single points and relaxations, kept single
points, saved wave functions and ML Hessians) and ``mpi`` (rank-0 writers). Each function
takes plain paths and dicts (no ``snakemake`` object, no global config), so it runs the
same from a Snakemake rule, a test or a notebook. Problems with a candidate's input are
written as ``status: failed`` records with the reason, so the ranking lists the candidate
instead of losing it. Each rule names its function (param ``job``, ``module:function``),
which ``philicity.launch`` calls.
"""

from philicity.jobs.adsorption import prescreen_sites, relax_adsorbate, site_energies
from philicity.jobs.bulk import (
    check_candidate,
    compute_atom,
    compute_bulk,
    compute_molecule,
    compute_phase,
)
from philicity.jobs.charges import charge_transfer
from philicity.jobs.interfaces import compute_adhesion, relax_interface, scan_interface
from philicity.jobs.records import write_crash_records
from philicity.jobs.report import collect_database, report_metal, report_reactions
from philicity.jobs.slabs import find_sites, relax_clean_slab, select_termination

__all__ = ["charge_transfer", "check_candidate", "collect_database", "compute_adhesion",
           "compute_atom", "compute_bulk", "compute_molecule", "compute_phase", "find_sites",
           "prescreen_sites", "relax_adsorbate", "relax_clean_slab", "relax_interface",
           "report_metal", "report_reactions", "scan_interface", "select_termination",
           "site_energies", "write_crash_records"]
