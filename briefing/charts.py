"""The chart images of a briefing pack: the dashboard's HoloViews chart definitions drawn by matplotlib.

Usage::

    from briefing.charts import render_charts, chart_files

    images = render_charts(figures)             # {"counties": b"\\x89PNG…", …}
    paths = chart_files(figures, out_dir)       # [out_dir / "图1_各县市区排查隐患数.png", …]

``briefing_elements(figures, lang)`` returns the HoloViews objects themselves (the same
definitions as the screen: ``unit_ranking_chart``, ``quota_bars``, ``sector_status_bars``,
``county_choropleth``), sized for an A4 page (16 cm wide); ``render_charts`` draws each to PNG
at ``DPI``. Every figure comes from ``metrics.briefing.BriefingFigures``; this module only
reshapes its frames into what a definition takes. A chart with nothing to show is left out
(no key, no file).

Images are reproducible: the same figures give the same bytes (a fixed figure size, no tight
bounding box, no "Software" or date in the PNG's metadata).
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (first: Bokeh stays HoloViews' current backend)
import holoviews.plotting.mpl  # noqa: F401  (the chart definitions keep matplotlib options only once it is loaded)
import matplotlib.pyplot as plt
import pandas as pd

import components.chart_style  # noqa: F401  (CJK fonts for matplotlib)
from components.charts_hazards import sector_status_bars
from components.charts_indicators import unit_ranking_chart
from components.charts_overview import quota_bars
from components.county_map import county_choropleth
from components.i18n import register_labels, tr
from loaders.reference import COUNTIES, QUOTA_COUNTY_HAZARDS, QUOTA_DEPARTMENT_HAZARDS
from metrics.briefing import DEPARTMENT_TYPES, LOCAL_TYPES, BriefingFigures
from metrics.hazards import STATUSES
from metrics.map import unit_figures

__all__ = ["CHART_FILES", "CHART_NAMES", "DPI", "PAGE_WIDTH_INCHES", "briefing_elements", "chart_files",
           "chart_inches", "chart_title", "render_charts"]

DPI = 150
PAGE_WIDTH_INCHES = 6.3  # 16 cm, the text width of an A4 page with 2.5 cm margins (945 px at DPI)
ROW_INCHES = 0.24              # one bar of a ranking (8 pt names)
# The tallest chart an A4 page holds with its caption (24.7 cm of text height): past ~32 units a
# ranking's bars and names get thinner instead of running off the page (province scale: ~100 units).
MAX_CHART_INCHES = 8.6
MIN_NAME_PT = 4.5  # as printed; a row of 100 units on MAX_CHART_INCHES is 5.6 pt
FONT_SCALE = 0.85  # the pack's type size against matplotlib's
CHART_NAMES = ("counties", "departments", "sectors", "quota", "quota_departments", "enforcement", "map")
# The file of each chart: numbered as the pack's figures, named by what it shows (Chinese, like the pack).
CHART_FILES = {
    "counties": "图1_各县市区排查隐患数.png",
    "departments": "图2_市直部门排查隐患数.png",
    "sectors": "图3_各行业领域隐患整改情况.png",
    "quota": "图4_县市区本季度隐患排查任务完成情况.png",
    "quota_departments": "图5_市直部门本季度隐患排查任务完成情况.png",
    "enforcement": "图6_各单位行政处罚次数.png",
    "map": "图7_各县市区隐患分布图.png",
}

register_labels({
    "bc_counties": ("各县（市、区）排查重大事故隐患数", "Hazards found by county and zone"),
    "bc_departments": ("市直部门排查重大事故隐患数", "Hazards found by city department"),
    "bc_sectors": ("各行业领域隐患整改情况", "Hazards by sector and status"),
    "bc_quota": ("县市区（含功能区）本季度隐患排查任务完成情况（指标 {quota} 个）",
                 "Counties and zones: hazards found this quarter (quota {quota})"),
    "bc_quota_departments": ("市直部门本季度隐患排查任务完成情况（指标 {quota} 个）",
                             "City departments: hazards found this quarter (quota {quota})"),
    "bc_enforcement": ("各单位行政处罚（次）", "Penalties by unit"),
    "bc_map": ("各县市区重大事故隐患分布", "Hazards by county"),
    "bc_found": ("排查重大隐患（个）", "Hazards found"),
})

# matplotlib's pyplot state and HoloViews' renderer are process-wide: one render at a time.
_render_lock = threading.Lock()


QUOTAS = {"quota": QUOTA_COUNTY_HAZARDS, "quota_departments": QUOTA_DEPARTMENT_HAZARDS}
# Charts with one unit a row (the rankings and the quotas): their height follows the units.
UNIT_ROWS = ("counties", "departments", "enforcement", *QUOTAS)


def chart_title(name: str, lang: str = "zh") -> str:
    """The caption of chart ``name`` (for a document's figure caption or a slide title)."""
    return tr(f"bc_{name}", lang).format(quota=QUOTAS.get(name, ""))


def _ranking_values(ranking: pd.DataFrame, period: str) -> pd.DataFrame:
    """``overview.ranking`` rows in the shape ``unit_ranking_chart`` takes (unit, unit_type, period, value)."""
    return ranking[["unit", "unit_type", "value"]].assign(period=period).reset_index(drop=True)


def _enforcement_values(enforcement: pd.DataFrame, key: str, period: str) -> pd.DataFrame:
    """One key of ``BriefingFigures.enforcement`` in the shape and order of ``metrics.indicators.unit_values``:
    largest first, not reported last."""
    frame = enforcement[["unit", "unit_type", key]].rename(columns={key: "value"}).assign(period=period)
    return frame.sort_values(["value", "unit"], ascending=[False, True], na_position="last").reset_index(drop=True)


def _sector_rows(sectors: pd.DataFrame) -> pd.DataFrame:
    """``BriefingFigures.sectors`` as rows of sector, status, count (sectors in the figures' order)."""
    sectors = sectors.assign(sector=sectors["sector"].replace("", "unknown"))  # no sector filled in: 未填写
    long = sectors.melt(id_vars="sector", value_vars=list(STATUSES), var_name="status", value_name="count")
    order = {sector: i for i, sector in enumerate(sectors["sector"])}
    long = long.assign(_order=long["sector"].map(order), _status=long["status"].map(STATUSES.index))
    return long.sort_values(["_order", "_status"]).drop(columns=["_order", "_status"]).reset_index(drop=True)


def _whole_pixels(inches: float) -> float:
    """``inches`` rounded to 1/50 in: a whole number of pixels at ``DPI``."""
    return round(inches * 50) / 50


def chart_inches(name: str, element: hv.core.Dimensioned) -> tuple[float, float]:
    """The size of chart ``name`` on the page: the page's width, a height that fits its rows."""
    if name in UNIT_ROWS:
        bars = element.get(0) if isinstance(element, hv.Overlay) else element
        return PAGE_WIDTH_INCHES, _whole_pixels(min(MAX_CHART_INCHES, max(2.2, 0.8 + ROW_INCHES * len(bars))))
    if name == "sectors":
        return PAGE_WIDTH_INCHES, _whole_pixels(1.6 + 0.3 * len(element.dimension_values(0, expanded=False)))
    return PAGE_WIDTH_INCHES, 6.0  # map


def briefing_elements(figures: BriefingFigures, lang: str = "zh") -> dict[str, hv.core.Dimensioned]:
    """The HoloViews objects of the pack's charts, keyed by ``CHART_NAMES``; charts without data are left out."""
    elements: dict[str, hv.core.Dimensioned] = {}
    found_label = tr("bc_found", lang)
    for name, ranking in (("counties", figures.county_ranking), ("departments", figures.department_ranking)):
        if not ranking.empty:
            elements[name] = unit_ranking_chart(_ranking_values(ranking, figures.period), "hazards_found", lang,
                                                value_label=found_label)
    if not figures.sectors.empty and figures.sectors["hazards"].sum() > 0:
        elements["sectors"] = sector_status_bars(_sector_rows(figures.sectors), lang)
    quota = figures.quota
    for name, types, target in (("quota", LOCAL_TYPES, QUOTA_COUNTY_HAZARDS),
                                ("quota_departments", DEPARTMENT_TYPES, QUOTA_DEPARTMENT_HAZARDS)):
        rows = quota[quota["unit_type"].isin(types)].reset_index(drop=True) if not quota.empty else quota
        if not rows.empty:
            elements[name] = quota_bars(rows, target, lang)
    enforcement = figures.enforcement
    if not enforcement.empty and enforcement["penalties"].notna().any():
        elements["enforcement"] = unit_ranking_chart(_enforcement_values(enforcement, "penalties", figures.period),
                                                     "penalties", lang)
    # The map by hazards alone: enterprises per county only feed the screen's hover, which a picture has not.
    counties = unit_figures(figures.hazards, pd.Series(dtype=float), list(COUNTIES))
    if counties["hazards"].sum() > 0:
        elements["map"] = county_choropleth(counties["hazards"], found_label, selected=(figures.unit,) if figures.unit else (),
                                            lang=lang)
    return {name: _sized(name, element) for name, element in elements.items()}


def _sized(name: str, element: hv.core.Dimensioned) -> hv.core.Dimensioned:
    """``element`` at its page size, with the pack's type size; no title (the document's caption names it)."""
    width, height = chart_inches(name, element)
    options = {"fig_inches": (width, height), "fontscale": FONT_SCALE, "title": ""}
    if name != "map":
        options["aspect"] = "auto"
    if name in UNIT_ROWS:
        bars = element.get(0) if isinstance(element, hv.Overlay) else element
        row_inches = (height - 0.8) / max(len(bars), 1)
        options["padding"] = 0  # the value axis has its limits; no empty rows above or below the units
        if row_inches < ROW_INCHES:  # squeezed to fit the page: the names and values shrink with their bars
            # Sizes as printed: the pack's font scale applies to them too.
            options["fontsize"] = {"yticks": max(MIN_NAME_PT, 8 * row_inches / ROW_INCHES) / FONT_SCALE}
            size = max(MIN_NAME_PT, 7 * row_inches / ROW_INCHES) / FONT_SCALE
            # Element by element: ``hv.opts.Labels`` needs ``hv.extension``, which the CLI never runs.
            element = element.map(lambda labels: labels.opts(size=size, backend="matplotlib", clone=True), hv.Labels)
    return element.opts(**options, backend="matplotlib", clone=True)


def _png(element: hv.core.Dimensioned, tight: bool) -> bytes:
    renderer = hv.renderer("matplotlib")
    figure = renderer.get_plot(element).state
    try:
        if tight:  # one axes: fit its tick labels into the page's size (a colour bar or a layout places itself)
            figure.set_layout_engine("tight")
        buffer = io.BytesIO()
        # No "Software" (matplotlib's version) in the file: the bytes depend on the figures alone.
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        return buffer.getvalue()
    finally:
        plt.close(figure)


def render_charts(figures: BriefingFigures, lang: str = "zh") -> dict[str, bytes]:
    """PNG bytes of every chart of the pack with data, keyed by ``CHART_NAMES`` (in that order)."""
    elements = briefing_elements(figures, lang)
    with _render_lock:
        return {name: _png(element, tight=name != "map")
                for name, element in elements.items()}


def chart_files(figures: BriefingFigures, out_dir: str | Path, lang: str = "zh") -> list[Path]:
    """Write each chart to ``out_dir / CHART_FILES[name]`` (created if missing); the paths written, in order."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in render_charts(figures, lang).items():
        path = out / CHART_FILES[name]
        path.write_bytes(data)
        paths.append(path)
    return paths
