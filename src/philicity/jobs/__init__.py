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
which ``philicity.launch`` calls. The package imports a module only when one of its
functions is first used (``jobs.compute_bulk``), so a job pays only for its own module's
imports (pymatgen's analysis modules alone take seconds).
"""

import importlib

# ``jobs.compute_bulk`` etc. for scripts and notebooks, each module imported on first use
_MODULE_OF = {
    "adsorption": ("prescreen_sites", "relax_adsorbate", "site_energies"),
    "bulk": ("check_candidate", "compute_atom", "compute_bulk", "compute_molecule",
             "compute_phase"),
    "charges": ("charge_transfer",),
    "interfaces": ("compute_adhesion", "relax_interface", "scan_interface"),
    "report": ("collect_database", "report_html", "report_metal", "report_reactions",
               "report_terminations"),
    "slabs": ("find_sites", "relax_clean_slab", "select_termination"),
}
__all__ = sorted(name for names in _MODULE_OF.values() for name in names)


def __getattr__(name: str):
    for module, names in _MODULE_OF.items():
        if name in names:
            return getattr(importlib.import_module(f"philicity.jobs.{module}"), name)
    raise AttributeError(f"module 'philicity.jobs' has no attribute {name!r}")
