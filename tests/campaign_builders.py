"""Small campaigns built the way the server builds them: real .xlsx forms, ledgers and notice
boards written by ``sample_data.writers``, read by ``loaders.load_workbook`` and merged by
``loaders.build_campaign``. Tests of the metrics and views use these instead of hand-made
frames, so they never restate a loader rule (increments, gaps, supersession)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from tests.xlsx_builders import hazard, load, new_workbook

from loaders import Campaign, WorkbookResult, build_campaign
from sample_data.writers import LEDGER_TITLE, write_form, write_ledger, write_registry

DEPARTMENTS_PREFIX = "市"


def form(unit: str, period: str, values: Mapping[str, object], *, filed_on: str | None = None) -> WorkbookResult:
    """One unit's dispatch form for ``period`` (YYYY-MM): 附件4 for a city department (市…), else 附件3.

    ``values`` are raw cell contents ("—" is not reported)."""
    year, month = int(period[:4]), int(period[5:7])
    wb, (ws,) = new_workbook("调度表")
    write_form(ws, values, form=4 if unit.startswith(DEPARTMENTS_PREFIX) else 3, unit_label=unit,
               title_period_text=f"（{year}年{month}月）", filed_on_text=filed_on)
    return load(wb, f"{unit}{year}年{month}月调度表.xlsx")


def ledger(unit: str, period: str, rows: Sequence[Mapping[str, object]]) -> WorkbookResult:
    """One unit's hazard ledger for ``period``; ``rows`` override ``tests.xlsx_builders.hazard``."""
    year, month = int(period[:4]), int(period[5:7])
    wb, (ws,) = new_workbook("台账")
    write_ledger(ws, [hazard(unit=unit, **row) for row in rows], unit_label=unit, title=f"{year}年{month}月{LEDGER_TITLE}")
    return load(wb, f"{unit}{year}年{month}月隐患台账.xlsx")


def boards(unit: str, rows: Sequence[Mapping[str, object]], file_name: str | None = None) -> WorkbookResult:
    """Notice boards (附件1) sent by ``unit``, one table row per enterprise."""
    wb, (ws,) = new_workbook("公示牌")
    write_registry(ws, rows, layout="table")
    return load(wb, file_name or f"{unit}公示牌.xlsx")


def campaign(*results: WorkbookResult, as_of: dt.date = dt.date(2024, 1, 23)) -> Campaign:
    """The campaign of ``results`` (received in this order), as of ``as_of``."""
    for result in results:
        assert result.accepted and result.submissions, [i.message for i in result.issues]
    return build_campaign(list(results), as_of)


def forms_campaign(series: Mapping[str, Mapping[str, Mapping[str, object]]], as_of: dt.date = dt.date(2024, 1, 23)) -> Campaign:
    """A campaign of forms only: unit -> period -> values."""
    return campaign(*(form(unit, period, values) for unit, periods in series.items() for period, values in periods.items()),
                    as_of=as_of)
