"""reawaken.plots."""
