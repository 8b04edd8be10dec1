"""reawaken.cohort."""
