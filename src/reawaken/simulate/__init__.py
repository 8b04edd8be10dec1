"""reawaken.simulate."""
