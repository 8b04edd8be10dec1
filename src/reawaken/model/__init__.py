"""reawaken.model."""
