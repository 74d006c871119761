"""Charts of the dispatch-form indicators: pure functions from a ``metrics.indicators`` frame to a HoloViews element.

The same element renders in Bokeh on screen and in matplotlib for the briefing
exports; options that only Bokeh knows (hover, tap, sizes in pixels) are set for
Bokeh alone. Values a unit did not report are gaps (no bar, blank cell) labelled
"未报送", never zeros; negative monthly increments are drawn as they are and marked.
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd

from components.chart_style import bokeh_backend, bar_colours, for_matplotlib, readable_numbers
from components.i18n import indicator_label, register_labels, tr, unit_type_label
from loaders.reference import INDICATOR_BY_KEY

bokeh_backend()  # chart options can only be set for a loaded backend

register_labels({
    "ind_period": ("报送期间", "Period"),
    "ind_unit": ("单位", "Unit"),
    "ind_unit_type": ("单位类型", "Unit type"),
    "ind_category": ("问题类别", "Finding"),
    "ind_increment": ("当月新增", "Monthly increment"),
    "ind_cumulative": ("累计", "Cumulative"),
    "ind_not_reported": ("未报送", "not reported"),
    "ind_decrease": ("累计数减少（待核实）", "cumulative fell (to check)"),
    "ind_decreases": ("累计数减少的单位数", "Units whose cumulative fell"),
    "ind_gaps": ("含缺报月份的单位数", "Units whose increment spans unreported months"),
    "ind_gap_periods": ("含缺报月份", "Includes months not reported"),
    "ind_count": ("家数", "Enterprises"),
    "ind_per_100": ("每百家抽查企业", "Per 100 checked enterprises"),
    "ind_checked": ("抽查检查企业", "Enterprises checked"),
    "chk_head_no_study": ("负责人未亲自研究", "Head did not study"),
    "chk_head_no_inspection": ("负责人未带队检查", "Head led no inspection"),
    "chk_no_duty_list": ("无分管负责人职责清单", "No duty list"),
    "chk_no_safety_staff": ("安全管理机构人员不足", "Safety staff lacking"),
    "chk_unlicensed_welding": ("电焊等无证上岗", "Unlicensed welding"),
    "chk_outsourcing_chaos": ("外包外租管理混乱", "Outsourcing chaos"),
    "chk_no_drill": ("未开展应急演练", "No emergency drill"),
})

UNIT_TYPE_COLOURS = {"county": "#c62828", "zone": "#ef6c00", "department": "#1565c0"}
MUTED_COLOUR = "#cfd8dc"
DECREASE_COLOUR = "#6a1b9a"
HEATMAP_CMAP = "Reds"
# The top of the colour scale lies above the largest value so dark text stays readable on every cell.
HEATMAP_HEADROOM = 1.6
ROW_HEIGHT_PX = 24
CHART_PADDING_PX = 90


def format_value(value: float, key: str) -> str:
    """A figure as officers write it: counts whole, money in 万元 with two decimals."""
    if pd.isna(value):
        return ""
    indicator = INDICATOR_BY_KEY.get(key)  # others (hazards found, a sum of keys) are counts
    if indicator is not None and indicator.kind == "money":
        return f"{value:,.2f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def value_axis_label(key: str, lang: str, measure: str = "") -> str:
    """The indicator's label, prefixed by what is measured (当月新增/累计) when given."""
    label = indicator_label(key, lang)
    return f"{tr(measure, lang)} · {label}" if measure else label


def _styled(element, shared: dict, bokeh: dict | None = None):
    """Options for both backends plus the Bokeh-only ones (hover, tap, pixel sizes)."""
    element = for_matplotlib(element, **shared)
    return element.opts(backend="bokeh", **shared, **(bokeh or {}))


def _labels_on_categories(plot, element) -> None:
    """matplotlib draws categorical bars at 0, 1, 2 … (in the order of the categories) but places a
    label at its category's name, which its numeric axis cannot convert: move each label to its bar."""
    categories = list(dict.fromkeys(element.dimension_values(0)))
    inverted = plot.invert_axes
    for artist, category in zip(plot.handles.get("artist", []), element.dimension_values(0)):
        x, y = artist.get_position()
        position = categories.index(category)
        artist.set_position((x, position) if inverted else (position, y))


def _height(rows: int) -> int:
    return max(160, rows * ROW_HEIGHT_PX + CHART_PADDING_PX)


def unit_ranking_chart(values: pd.DataFrame, key: str, lang: str = "zh", selected: tuple[str, ...] = (),
                       title: str = "", value_label: str = "") -> hv.Overlay:
    """Horizontal bars of the latest cumulative value per unit, largest on top; "未报送" where missing.

    ``values`` is ``metrics.indicators.unit_values`` output; ``selected`` units keep
    their colour and the others are muted. The bars carry the tap tool: a click
    selects a row of the bar element's data (see ``Selection1D``). ``value_label`` names the
    value axis of a figure that is not an indicator of the forms (``overview.HAZARDS_FOUND``).
    """
    unit_dim = hv.Dimension("unit", label=tr("ind_unit", lang))
    value_dim = hv.Dimension("value", label=value_label or indicator_label(key, lang))
    frame = values.iloc[::-1].reset_index(drop=True)  # the first factor is drawn at the bottom
    colours = frame["unit_type"].map(UNIT_TYPE_COLOURS).fillna(MUTED_COLOUR)
    if selected:
        colours = colours.where(frame["unit"].isin(selected), MUTED_COLOUR)
    reported = frame["value"].notna()
    plot_frame = frame.assign(
        colour=colours,
        text=" " + pd.Series(np.where(reported, frame["value"].map(lambda v: format_value(v, key)), tr("ind_not_reported", lang))),
        label_at=frame["value"].fillna(0.0),
        period=frame["period"].fillna(tr("ind_not_reported", lang)),
    )
    bars = hv.Bars(plot_frame, unit_dim, [value_dim, "colour", hv.Dimension("period", label=tr("ind_period", lang))])
    # Room right of the longest bar for its value label (a padding of the overlay left it cut off).
    shown = frame["value"].dropna()
    limits = (min(0.0, float(shown.min()) if len(shown) else 0.0) * 1.2, max(float(shown.max()) if len(shown) else 0.0, 1.0) * 1.2)
    bars = _styled(bars, {"color": "colour", "invert_axes": True, "title": title, "xlabel": "", "ylim": limits},
                   {"tools": ["tap"], "hover_tooltips": [(unit_dim.label, "@unit"), (value_dim.label, "@{value}{0,0.[00]}"),
                                                          (tr("ind_period", lang), "@period")],
                    "height": _height(len(frame)), "responsive": True, "line_alpha": 0,
                    "nonselection_alpha": 1.0, "toolbar": None, "default_tools": [], "show_grid": True})
    bars = for_matplotlib(bars, color=MUTED_COLOUR, edgecolor="none", hooks=[bar_colours("colour")])
    labels = hv.Labels(plot_frame, [unit_dim, hv.Dimension("label_at", label=value_dim.label)], "text")
    labels = _styled(labels, {"invert_axes": True}, {"text_align": "left", "text_font_size": "9pt",
                                                     "text_color": "#37474f"})
    labels = for_matplotlib(labels, horizontalalignment="left", size=7, color="#37474f", hooks=[_labels_on_categories])
    return readable_numbers(bars * labels)


def increments_chart(by_period: pd.DataFrame, key: str, lang: str = "zh") -> hv.Overlay:
    """Stacked bars of the monthly increment per period, by unit type; ▼ where some unit's cumulative fell.

    ``by_period`` is ``metrics.indicators.increments_by_period`` output. Negative sums
    are drawn below the axis as they are.
    """
    frame = by_period.assign(unit_type_label=by_period["unit_type"].map(lambda t: unit_type_label(t, lang)))
    period_dim = hv.Dimension("period", label=tr("ind_period", lang))
    type_dim = hv.Dimension("unit_type_label", label=tr("ind_unit_type", lang))
    value_dim = hv.Dimension("increment", label=value_axis_label(key, lang, "ind_increment"))
    palette = [UNIT_TYPE_COLOURS[t] for t in ("county", "department", "zone") if t in set(frame["unit_type"])]
    type_order = [unit_type_label(t, lang) for t in ("county", "department", "zone") if t in set(frame["unit_type"])]
    frame = frame.assign(type_order=frame["unit_type_label"].map({label: i for i, label in enumerate(type_order)}))
    frame = frame.sort_values(["period", "type_order"])
    if "gaps" not in frame:
        frame = frame.assign(gaps=0)
    bars = hv.Bars(frame, [period_dim, type_dim], [value_dim, hv.Dimension("units", label=tr("ind_unit", lang)),
                                                   hv.Dimension("gaps", label=tr("ind_gaps", lang))])
    bars = _styled(bars, {"stacked": True, "color": hv.Cycle(palette), "show_legend": True},
                   {"tools": ["hover"], "height": 300, "responsive": True, "legend_position": "right",
                    "toolbar": None, "default_tools": []})
    flagged = frame.groupby("period", as_index=False)["decreases"].sum()
    flagged = flagged[flagged["decreases"] > 0].assign(y=0.0)
    markers = hv.Scatter(flagged, period_dim, [hv.Dimension("y", label=value_dim.label),
                                               hv.Dimension("decreases", label=tr("ind_decreases", lang))])
    markers = _styled(markers, {"color": DECREASE_COLOUR, "marker": "v"}, {"size": 14, "tools": ["hover"]})
    return readable_numbers(bars * markers)


def increments_heatmap(increments: pd.DataFrame, key: str, lang: str = "zh") -> hv.Overlay:
    """Unit × period grid of monthly increments: blank where not reported, purple and "!" where the cumulative fell,
    "*" where the increment spans months the unit did not report (the hover names them).

    ``increments`` is ``metrics.indicators.monthly_increments`` output for one key.
    """
    frame = increments[increments["key"] == key]
    gaps = frame["gap_periods"] if "gap_periods" in frame else pd.Series("", index=frame.index)
    # Plain objects: HeatMap reshapes its value columns, which Arrow-backed strings refuse.
    frame = frame.assign(gap_text=gaps.fillna("").astype(str).str.replace(",", ", " if lang == "en" else "、", regex=False)
                         .astype(object))
    period_dim = hv.Dimension("period", label=tr("ind_period", lang))
    unit_dim = hv.Dimension("unit", label=tr("ind_unit", lang))
    value_dim = hv.Dimension("increment", label=value_axis_label(key, lang, "ind_increment"))
    top = float(frame["increment"].max()) if not frame.empty else 1.0
    units = frame["unit"].nunique()
    heatmap = hv.HeatMap(frame, [period_dim, unit_dim], [value_dim, hv.Dimension("cumulative", label=tr("ind_cumulative", lang)),
                                                         hv.Dimension("gap_text", label=tr("ind_gap_periods", lang))])
    heatmap = _styled(heatmap, {"cmap": HEATMAP_CMAP, "clim": (0, max(top, 1.0) * HEATMAP_HEADROOM),
                                "clipping_colors": {"min": DECREASE_COLOUR, "NaN": "#ffffff"}},
                      {"tools": ["hover"], "height": _height(units), "responsive": True, "colorbar": False,
                       "toolbar": None, "default_tools": [], "xaxis": "top"})
    text = frame["increment"].map(lambda v: format_value(v, key)).where(~frame["decrease"], frame["increment"].map(
        lambda v: format_value(v, key) + "!"))
    text = text.where(frame["gap_text"] == "", text + "*")
    labels = hv.Labels(frame.assign(text=text), [period_dim, unit_dim], "text")
    labels = _styled(labels, {}, {"text_font_size": "8pt", "text_color": "#263238"})
    return readable_numbers(heatmap * labels)


def comparison_chart(frame: pd.DataFrame, key: str, lang: str = "zh", value: str = "increment") -> hv.Bars:
    """Grouped bars: per period, one bar per chosen unit; a missing bar is a period the unit did not report.

    ``frame`` is ``metrics.indicators.comparison`` output, ``value`` the measure it holds.
    """
    measure = "ind_increment" if value == "increment" else "ind_cumulative"
    bars = hv.Bars(frame, [hv.Dimension("period", label=tr("ind_period", lang)), hv.Dimension("unit", label=tr("ind_unit", lang))],
                   hv.Dimension("value", label=value_axis_label(key, lang, measure)))
    return readable_numbers(_styled(bars, {"show_legend": True}, {"tools": ["hover"], "height": 340, "responsive": True,
                                                                  "multi_level": False, "legend_position": "right",
                                                                  "cmap": "Category10", "toolbar": None, "default_tools": []}))


def spot_check_heatmap(matrix: pd.DataFrame, lang: str = "zh", measure: str = "count") -> hv.Overlay:
    """Unit × failure-category grid of the spot checks: ``measure`` "count" (家) or "per_100" (per 100 checked)."""
    frame = matrix.assign(category_label=matrix["category"].map(lambda c: tr(c, lang)))
    unit_dim = hv.Dimension("unit", label=tr("ind_unit", lang))
    category_dim = hv.Dimension("category_label", label=tr("ind_category", lang))
    value_dim = hv.Dimension(measure, label=tr("ind_count" if measure == "count" else "ind_per_100", lang))
    units = frame["unit"].nunique()
    heatmap = hv.HeatMap(frame, [category_dim, unit_dim], [value_dim, hv.Dimension("checked", label=tr("ind_checked", lang))])
    top = float(frame[measure].max()) if frame[measure].notna().any() else 1.0
    heatmap = _styled(heatmap, {"cmap": HEATMAP_CMAP, "clim": (0, max(top, 1.0) * HEATMAP_HEADROOM),
                                "clipping_colors": {"NaN": "#ffffff"}},
                      {"tools": ["hover"], "height": _height(units), "responsive": True, "colorbar": False,
                       "toolbar": None, "default_tools": [], "xaxis": "top"})
    decimals = 0 if measure == "count" else 1
    text = frame[measure].map(lambda v: "" if pd.isna(v) else f"{v:.{decimals}f}")
    labels = hv.Labels(frame.assign(text=text), [category_dim, unit_dim], "text")
    labels = _styled(labels, {}, {"text_font_size": "8pt", "text_color": "#263238"})
    return readable_numbers(heatmap * labels)


def spot_check_trend_chart(by_period: pd.DataFrame, lang: str = "zh") -> hv.Bars:
    """Stacked bars of newly found spot-check failures per period, one colour per category."""
    frame = by_period.assign(category_label=by_period["category"].map(lambda c: tr(c, lang)))
    bars = hv.Bars(frame, [hv.Dimension("period", label=tr("ind_period", lang)),
                           hv.Dimension("category_label", label=tr("ind_category", lang))],
                   [hv.Dimension("increment", label=tr("ind_increment", lang) + "（" + tr("ind_count", lang) + "）"),
                    hv.Dimension("checked", label=tr("ind_checked", lang))])
    return readable_numbers(_styled(bars, {"stacked": True, "show_legend": True, "color": hv.Cycle("Category10")},
                                    {"tools": ["hover"], "height": 340, "responsive": True, "legend_position": "right",
                                     "toolbar": None, "default_tools": []}))
