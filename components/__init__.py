"""Reusable Panel pieces over one shared filter state."""
