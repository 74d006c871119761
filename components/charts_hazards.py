"""Hazard charts: pure functions from an aggregated frame to a HoloViews element.

The same element renders in Bokeh on screen and in matplotlib for briefing exports,
so each function sets its options for both backends. Categories are shown by their
Chinese (or English) labels; colours are fixed per sector and status so a category
keeps its colour whatever the filter.
"""

from __future__ import annotations

import holoviews as hv
import pandas as pd

from components.chart_style import bokeh_backend, for_matplotlib, readable_numbers, rows_height
from components.i18n import register_labels, sector_label, status_label, tr
from loaders.reference import SECTOR_KEYS
from metrics.hazards import STATUSES

bokeh_backend()  # chart options can only be set for a loaded backend

register_labels({
    "hazard_count": ("隐患数", "Hazards"),
    "period": ("报送月份", "Period"),
    "chart_by_unit": ("各单位隐患数（按行业领域）", "Hazards by unit and sector"),
    "chart_heatmap": ("单位 × 行业领域", "Unit × sector"),
    "chart_status_over_time": ("各月整改状态", "Rectification status by period"),
    "chart_sector_status": ("各行业领域隐患整改情况", "Hazards by sector and status"),
})

SECTOR_COLORS = dict(zip(
    (*SECTOR_KEYS, "unknown"),
    ("#1f77b4", "#d62728", "#ff7f0e", "#8c564b", "#9467bd", "#7f7f7f", "#e377c2", "#17becf", "#2ca02c", "#bcbd22", "#c7c7c7"),
))
STATUS_COLORS = {"rectified": "#2e7d32", "in_progress": "#f9a825", "not_started": "#c62828"}
CHART_HEIGHT = 340
HEATMAP_HEIGHT = 340
# Unit charts list one unit a row (``chart_style.ROW_PX`` on screen, this on paper).
ROW_INCHES = 0.16


def _rows_inches(rows: int) -> tuple[float, float]:
    return 9.0, max(3.0, 1.2 + rows * ROW_INCHES)


def _dimensions(lang: str) -> dict[str, hv.Dimension]:
    return {
        "unit": hv.Dimension("unit", label=tr("units", lang)),
        "sector": hv.Dimension("sector", label=tr("sectors", lang)),
        "status": hv.Dimension("status", label=tr("statuses", lang)),
        "period": hv.Dimension("period", label=tr("period", lang)),
        "count": hv.Dimension("count", label=tr("hazard_count", lang)),
    }


def _labelled_sectors(counts: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """The counts with sector labels instead of keys, and the colour of each label."""
    keys = counts["sector"].unique()
    labels = {key: sector_label(key, lang) for key in keys}
    colors = {labels[key]: SECTOR_COLORS.get(key, SECTOR_COLORS["other"]) for key in keys}
    return counts.assign(sector=counts["sector"].map(labels)), colors


def hazards_by_unit_bars(counts: pd.DataFrame, lang: str = "zh") -> hv.Bars:
    """Hazards per unit stacked by sector, from ``metrics.hazards.unit_sector_counts``: one unit a row
    (the frame's first on top), so 100 units stay readable."""
    data, colors = _labelled_sectors(counts, lang)
    dims = _dimensions(lang)
    rows = data["unit"].nunique()
    # Neither backend can stack an empty frame; an empty selection draws bare axes.
    bars = hv.Bars(data, [dims["unit"], dims["sector"]], dims["count"]).opts(
        stacked=not data.empty, cmap=colors, invert_axes=True, invert_yaxis=True, responsive=True,
        height=rows_height(rows, CHART_HEIGHT), tools=["hover", "tap"], xaxis="top",
        legend_position="right", shared_axes=False, title=tr("chart_by_unit", lang), backend="bokeh",
    )
    bars = for_matplotlib(bars, stacked=not data.empty, invert_axes=True, invert_yaxis=True, fig_inches=_rows_inches(rows),
                          aspect="auto", title=tr("chart_by_unit", lang))
    return readable_numbers(bars)


def unit_sector_heatmap(counts: pd.DataFrame, lang: str = "zh") -> hv.HeatMap:
    """Hazards per unit (rows, in the frame's order, first on top) and sector (columns), from
    ``metrics.hazards.unit_sector_counts``: one unit a row, so 100 units stay readable."""
    data, _colors = _labelled_sectors(counts, lang)
    dims = _dimensions(lang)
    rows = data["unit"].nunique()
    heatmap = hv.HeatMap(data, [dims["sector"], dims["unit"]], dims["count"]).opts(
        cmap="Reds", colorbar=True, colorbar_position="top", invert_yaxis=True, responsive=True,
        height=rows_height(rows, HEATMAP_HEIGHT), xaxis="top", tools=["hover", "tap"], shared_axes=False,
        title=tr("chart_heatmap", lang), backend="bokeh",
    )
    heatmap = for_matplotlib(heatmap, cmap="Reds", colorbar=True, invert_yaxis=True, xrotation=45,
                             fig_inches=_rows_inches(rows), aspect="auto", title=tr("chart_heatmap", lang))
    return readable_numbers(heatmap)


def status_over_time_bars(counts: pd.DataFrame, lang: str = "zh") -> hv.Bars:
    """Hazards per period stacked by their status that period, from ``metrics.hazards.status_by_period``."""
    labels = {status: status_label(status, lang) for status in STATUSES}
    data = counts.assign(status=counts["status"].map(labels))
    colors = {labels[status]: STATUS_COLORS[status] for status in STATUSES}
    dims = _dimensions(lang)
    bars = hv.Bars(data, [dims["period"], dims["status"]], dims["count"]).opts(
        stacked=not data.empty, cmap=colors, xrotation=45, responsive=True, height=CHART_HEIGHT, tools=["hover"],
        legend_position="right", shared_axes=False, title=tr("chart_status_over_time", lang), backend="bokeh",
    )
    return readable_numbers(
        for_matplotlib(bars, stacked=not data.empty, xrotation=45, title=tr("chart_status_over_time", lang)))


def sector_status_bars(counts: pd.DataFrame, lang: str = "zh") -> hv.Bars:
    """Hazards per sector (rows, in the frame's order) stacked by status, from rows of sector, status, count
    (``metrics.briefing.sector_counts`` melted)."""
    labels = {status: status_label(status, lang) for status in STATUSES}
    data = counts.assign(sector=counts["sector"].map(lambda key: sector_label(key, lang)),
                         status=counts["status"].map(labels))
    colors = {labels[status]: STATUS_COLORS[status] for status in STATUSES}
    dims = _dimensions(lang)
    # The statuses in a fixed order, so matplotlib's colour cycle meets them in the order of ``colors``.
    status_dim = hv.Dimension("status", label=tr("statuses", lang), values=list(colors))
    bars = hv.Bars(data, [dims["sector"], status_dim], dims["count"]).opts(
        stacked=not data.empty, cmap=colors, invert_axes=True, invert_yaxis=True, responsive=True, height=CHART_HEIGHT,
        tools=["hover"], legend_position="right", shared_axes=False, title=tr("chart_sector_status", lang), backend="bokeh",
    )
    return readable_numbers(
        for_matplotlib(bars, stacked=not data.empty, invert_axes=True, invert_yaxis=True,
                       color=hv.Cycle(list(colors.values())), edgecolor="none", legend_position="top", xlabel="",
                       title=tr("chart_sector_status", lang)))
