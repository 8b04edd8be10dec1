"""reawaken.cohort.sources."""
