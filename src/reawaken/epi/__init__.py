"""reawaken.epi."""
