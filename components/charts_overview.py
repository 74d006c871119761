"""Charts of the overview page: the campaign timeline and the quarterly quota bars.

Pure functions from frames to what the charts show (``timeline_layers``, ``quota_frame``) and to
HoloViews elements, styled for Bokeh (the meeting screen, notebooks) and matplotlib (briefing
exports) alike; the overview page draws the same frames as Bokeh figures (``overview_figures``).
Texts come in the language asked for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import holoviews as hv
import pandas as pd

from components.chart_style import bar_colours, bokeh_backend, for_matplotlib, readable_numbers, rows_height
from components.i18n import register_labels, tr

STAGE_COLORS = ("#ef9a9a", "#ffcc80", "#90caf9", "#a5d6a7")
BEHIND_COLOR = "#c62828"
MET_COLOR = "#2e7d32"
TODAY_COLOR = "#b71c1c"
DEADLINE_COLOR = "#546e7a"
MILESTONE_COLOR = "#6a1b9a"

QUOTA_CHART_HEIGHT = 300
TIMELINE_HEIGHT = 230

# Rows of the timeline, bottom to top (y of the row's centre).
_MILESTONE_ROW, _DEADLINE_ROW, _STAGE_ROW = 0.5, 1.5, 2.5

register_labels({
    "ov_stage_row": ("阶段", "Stages"),
    "ov_deadline_row": ("每月23日报送", "Monthly report (23rd)"),
    "ov_milestone_row": ("工作节点", "Milestones"),
    "ov_today": ("今天", "Today"),
    "ov_stage": ("阶段", "Stage"),
    "ov_dates": ("时间", "Dates"),
    "ov_stage_动员部署": ("动员部署", "Mobilisation"),
    "ov_stage_企业自查自改和部门帮扶": ("企业自查自改和部门帮扶", "Self-inspection & assistance"),
    "ov_stage_部门精准执法": ("部门精准执法", "Targeted enforcement"),
    "ov_stage_总结提高": ("总结提高", "Summary"),
    "ov_milestone_notice_boards": ("公示牌悬挂完成", "Notice boards hung"),
    "ov_milestone_final_summary": ("报送工作总结", "Final summary due"),
    "ov_unit": ("单位", "Unit"),
    "ov_quarter_found": ("本季发现隐患（个）", "Hazards found this quarter"),
    "ov_quota": ("指标", "Quota"),
    "ov_quota_status": ("完成情况", "Status"),
    "ov_status_behind": ("未达标", "Behind"),
    "ov_status_met": ("已达标", "Met"),
    "ov_status_not_reported": ("未报送", "Not reported"),
    "ov_missing_months": ("缺报月份（暂定数）", "Months not reported (provisional)"),
})


def missing_months_text(missing: object, lang: str = "zh") -> str:
    """"2023-06、2023-08" (", " in English) for a ``missing_periods`` cell; "" when none."""
    months = [m for m in str(missing or "").split(",") if m]
    return (", " if lang == "en" else "、").join(months)


def _styled(element, bokeh: dict | None = None, matplotlib: dict | None = None, **common):
    """Apply ``common`` options to both backends plus each backend's own."""
    element = element.opts(**common, **(bokeh or {}), backend="bokeh")
    return for_matplotlib(element, **common, **(matplotlib or {}))


def _scroll_page(overlay: hv.Overlay) -> hv.Overlay:
    """No default tools on any layer: the page scrolls under the mouse wheel instead of the plot zooming."""
    return overlay.map(lambda element: element.opts(default_tools=[], backend="bokeh", clone=True), hv.Element)


def _short_date(day: pd.Timestamp) -> str:
    return f"{day.month}/{day.day}"


def _month_ticks(origin: pd.Timestamp, end: pd.Timestamp, lang: str) -> list[tuple[int, str]]:
    ticks = []
    for month in pd.date_range(origin, end, freq="MS"):
        first_of_year = month == origin or month.month == 1
        if lang == "en":
            text = month.strftime("%b %Y" if first_of_year else "%b")
        else:
            text = f"{month.year}年{month.month}月" if first_of_year else f"{month.month}月"
        ticks.append(((month - origin).days, text))
    return ticks


@dataclass(frozen=True)
class TimelineLayers:
    """What the campaign timeline shows, whichever way it is drawn (``campaign_timeline`` with
    HoloViews for exports and the meeting screen, ``overview_figures.timeline_figure`` on the
    overview page). x counts days from the campaign start; y is the row (``_*_ROW``)."""

    stages: pd.DataFrame  # x0, y0, x1, y1, stage (label), dates
    stage_labels: pd.DataFrame  # x, y, text
    deadlines: pd.DataFrame  # x, y, text
    deadline_labels: pd.DataFrame  # x, y, text
    milestones: pd.DataFrame  # x0, y0, x1, y1, text
    milestone_labels: pd.DataFrame  # x, y, text
    today_x: int
    today_label: pd.DataFrame  # x, y, text
    xticks: list[tuple[int, str]]
    yticks: list[tuple[float, str]]
    xlim: tuple[int, int]
    ylim: tuple[float, float] = (0, 3.5)
    stage_colors: dict[str, str] = field(default_factory=dict)  # stage label -> colour


def timeline_layers(
    stages: pd.DataFrame, deadlines: pd.DataFrame, milestones: pd.DataFrame, as_of: dt.date, lang: str = "zh",
) -> TimelineLayers:
    """The campaign calendar's layers: stages as bars, the monthly report deadlines, the milestones, today.

    ``stages`` has stage, start, end (end exclusive); ``deadlines`` has period and due;
    ``milestones`` has milestone and due (see ``metrics.overview``). The x axis counts
    days from the campaign start, labelled by month.
    """
    origin = stages["start"].min()
    today = pd.Timestamp(as_of)
    end = max(stages["end"].max(), deadlines["due"].max() + pd.offsets.MonthBegin(1), today + pd.Timedelta(days=5))

    def days(column: pd.Series) -> pd.Series:
        return (column - origin).dt.days

    stage_frame = pd.DataFrame({
        "x0": days(stages["start"]), "y0": _STAGE_ROW - 0.4, "x1": days(stages["end"]), "y1": _STAGE_ROW + 0.4,
        "stage": [tr(f"ov_stage_{name}", lang) for name in stages["stage"]],
        "dates": [f"{s:%Y-%m-%d} – {e - pd.Timedelta(days=1):%Y-%m-%d}" for s, e in zip(stages["start"], stages["end"])],
    })
    deadline_frame = pd.DataFrame({"x": days(deadlines["due"]), "y": _DEADLINE_ROW,
                                   "text": [_short_date(d) for d in deadlines["due"]]})
    milestone_frame = pd.DataFrame({
        "x0": days(milestones["due"]), "y0": _MILESTONE_ROW - 0.3, "x1": days(milestones["due"]), "y1": _MILESTONE_ROW + 0.3,
        "text": [f"{tr(f'ov_milestone_{key}', lang)} {_short_date(due)}" for key, due in zip(milestones["milestone"], milestones["due"])],
    })
    today_x = int((today - origin).days)
    return TimelineLayers(
        stages=stage_frame,
        stage_labels=pd.DataFrame({"x": (stage_frame["x0"] + stage_frame["x1"]) / 2, "y": _STAGE_ROW, "text": stage_frame["stage"]}),
        deadlines=deadline_frame,
        deadline_labels=deadline_frame.assign(y=_DEADLINE_ROW - 0.35),
        milestones=milestone_frame,
        milestone_labels=pd.DataFrame({"x": milestone_frame["x0"] + 3, "y": _MILESTONE_ROW, "text": milestone_frame["text"]}),
        today_x=today_x,
        today_label=pd.DataFrame({"x": [today_x - 2], "y": [3.2], "text": [f"{tr('ov_today', lang)} {as_of:%Y-%m-%d}"]}),
        xticks=_month_ticks(origin, end, lang),
        yticks=[(_MILESTONE_ROW, tr("ov_milestone_row", lang)), (_DEADLINE_ROW, tr("ov_deadline_row", lang)),
                (_STAGE_ROW, tr("ov_stage_row", lang))],
        xlim=(0, int((end - origin).days)),
        stage_colors={stage: STAGE_COLORS[min(i, len(STAGE_COLORS) - 1)] for i, stage in enumerate(stage_frame["stage"])},
    )


def campaign_timeline(
    stages: pd.DataFrame, deadlines: pd.DataFrame, milestones: pd.DataFrame, as_of: dt.date, lang: str = "zh",
) -> hv.Overlay:
    """The campaign calendar (``timeline_layers``) as a HoloViews overlay, for exports and the meeting screen."""
    bokeh_backend()  # loaded here, not on import: the overview page draws these frames without HoloViews
    layers = timeline_layers(stages, deadlines, milestones, as_of, lang)
    stage_bars = _styled(
        hv.Rectangles(layers.stages, ["x0", "y0", "x1", "y1"], [("stage", tr("ov_stage", lang)), ("dates", tr("ov_dates", lang))]),
        bokeh={"tools": ["hover"], "line_color": "white", "line_width": 2},
        matplotlib={"edgecolor": "white", "linewidth": 2},
        color=hv.dim("stage").categorize(layers.stage_colors, default=STAGE_COLORS[-1]),
    )
    stage_labels = _styled(
        hv.Labels(layers.stage_labels, ["x", "y"], "text"),
        bokeh={"text_font_size": "12px", "text_color": "#212121"}, matplotlib={"size": 9, "color": "#212121"},
    )
    deadline_marks = _styled(hv.Scatter(layers.deadlines, "x", ["y", "text"]), bokeh={"size": 9}, matplotlib={"s": 40},
                             color=DEADLINE_COLOR)
    deadline_labels = _styled(
        hv.Labels(layers.deadline_labels, ["x", "y"], "text"),
        bokeh={"text_font_size": "10px", "text_color": DEADLINE_COLOR}, matplotlib={"size": 7, "color": DEADLINE_COLOR},
    )
    milestone_marks = _styled(hv.Segments(layers.milestones, ["x0", "y0", "x1", "y1"]),
                              bokeh={"line_width": 4}, matplotlib={"linewidth": 4}, color=MILESTONE_COLOR)
    milestone_labels = _styled(
        hv.Labels(layers.milestone_labels, ["x", "y"], "text"),
        bokeh={"text_font_size": "11px", "text_color": MILESTONE_COLOR, "text_align": "left"},
        matplotlib={"size": 8, "color": MILESTONE_COLOR, "horizontalalignment": "left"},
    )
    today_line = _styled(hv.VLine(layers.today_x), bokeh={"line_width": 2, "line_dash": "dashed"},
                         matplotlib={"linewidth": 2, "linestyle": "dashed"}, color=TODAY_COLOR)
    today_label = _styled(
        hv.Labels(layers.today_label, ["x", "y"], "text"),
        bokeh={"text_font_size": "11px", "text_color": TODAY_COLOR, "text_align": "right"},
        matplotlib={"size": 8, "color": TODAY_COLOR, "horizontalalignment": "right"},
    )
    overlay = (stage_bars * stage_labels * deadline_marks * deadline_labels * milestone_marks * milestone_labels
               * today_line * today_label)
    return _styled(
        _scroll_page(overlay),
        bokeh={"height": TIMELINE_HEIGHT, "responsive": True, "toolbar": None, "show_grid": False},
        matplotlib={"fig_inches": (12, 2.6), "aspect": "auto"},
        xticks=layers.xticks, yticks=layers.yticks, xlim=layers.xlim, ylim=layers.ylim, xlabel="", ylabel="",
    )


def quota_frame(progress: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """What the quota bars show, one row a unit (the frame's first on top): unit, found, missing
    (months the figure depends on that were not reported), status and its colour.

    ``progress`` holds rows of ``metrics.overview.quarter_progress`` (unit, hazards_found,
    behind_hazards, missing_periods); a unit that filed no form gets an empty bar marked
    "not reported"."""
    missing = progress["missing_periods"] if "missing_periods" in progress else pd.Series("", index=progress.index)
    statuses = [
        tr("ov_status_not_reported", lang) if pd.isna(found) else tr("ov_status_behind" if behind else "ov_status_met", lang)
        for found, behind in zip(progress["hazards_found"], progress["behind_hazards"])
    ]
    colors = quota_colors(lang)
    return pd.DataFrame({
        "unit": progress["unit"].astype(str).to_numpy(),
        "found": progress["hazards_found"].fillna(0).to_numpy(dtype=float),
        "missing": [missing_months_text(m, lang) if pd.notna(f) else "" for m, f in zip(missing, progress["hazards_found"])],
        "status": statuses,
        "color": [colors.get(status, BEHIND_COLOR) for status in statuses],
    }).astype({"missing": object, "status": object, "color": object})  # texts even with no row (not float)


def quota_colors(lang: str = "zh") -> dict[str, str]:
    """Status label → bar colour: behind and not reported in red, met in green."""
    return {tr("ov_status_behind", lang): BEHIND_COLOR, tr("ov_status_not_reported", lang): BEHIND_COLOR,
            tr("ov_status_met", lang): MET_COLOR}


def quota_value_end(frame: pd.DataFrame, quota: int) -> float:
    """Where the value axis of the quota bars ends: past the longest bar and the quota line."""
    return max(float(frame["found"].max()) if not frame.empty else 0, quota) * 1.15


def quota_bars(progress: pd.DataFrame, quota: int, lang: str = "zh") -> hv.Overlay:
    """Hazards each unit found in a quarter against the quota line (``quota_frame``); units behind
    in red. One unit a row (the frame's first on top): the chart grows with the units, so 100 stay
    readable. The hover of a provisional figure names the months it depends on that were not reported.
    For exports; the overview page draws the same frame with ``overview_figures.QuotaBarsChart``.
    """
    bokeh_backend()
    frame = quota_frame(progress, lang)
    colors = quota_colors(lang)
    bars = _styled(
        hv.Bars(frame.drop(columns="color"), ("unit", tr("ov_unit", lang)),
                [("found", tr("ov_quarter_found", lang)), ("status", tr("ov_quota_status", lang)),
                 ("missing", tr("ov_missing_months", lang))]),
        bokeh={"tools": ["hover"], "responsive": True, "height": rows_height(len(frame), QUOTA_CHART_HEIGHT), "toolbar": None,
               "line_color": None, "xaxis": "top"},
        matplotlib={"edgecolor": "none", "hooks": [bar_colours(hv.dim("status").categorize(colors, default=BEHIND_COLOR))]},
        color=hv.dim("status").categorize(colors, default=BEHIND_COLOR), invert_axes=True, invert_yaxis=True, xlabel="",
        ylim=(0, quota_value_end(frame, quota)),
    )
    quota_line = _styled(hv.HLine(quota), bokeh={"line_width": 2, "line_dash": "dashed"},
                         matplotlib={"linewidth": 2, "linestyle": "dashed"}, color=BEHIND_COLOR)
    overlay = for_matplotlib(_scroll_page(bars * quota_line), fig_inches=(8, max(3.5, 0.8 + 0.16 * len(frame))),
                             aspect="auto", padding=0)
    return readable_numbers(overlay)
