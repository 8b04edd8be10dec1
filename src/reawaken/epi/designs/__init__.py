"""The designs run on the cohort store, one module each: ``cox``, ``competing``, ``sccs``,
``emulation`` (registered in :mod:`reawaken.epi.estimate`)."""
