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
which ``philicity.launch`` calls; the package itself imports nothing, so a job pays
only for its own module's imports (pymatgen's analysis modules alone take seconds).
"""
