"""Exit statuses of the ``reawaken`` command line besides 0 (done) and 2 (refused).

A module of its own so that command modules can name them without importing the package that
registers them.
"""

from __future__ import annotations

NOT_CONVERGED = 3
"""A computation ran but did not converge (a fit, a calibration stopped on its budget): its
results are written and marked as such, and stderr says so."""
