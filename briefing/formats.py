"""How the pack's writers tell a missing value and print a rate: the screen's own formatters.

A rate prints as on the dashboard's cards (``components.kpi.format_rate``: "63.4%", "—" when
nothing was found), so a figure reads the same on screen, in Word, in the workbook and on slides."""

from __future__ import annotations

import pandas as pd

from components.kpi import format_rate

__all__ = ["format_rate", "is_missing"]


def is_missing(value: object) -> bool:
    """None, NA, NaT or NaN: a value not reported (never zero)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
