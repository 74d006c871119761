"""Exports from the UI: the briefing pack dialog (导出简报) and the notice boards download (公示牌).

``ExportDialog`` is one per session, opened from the template header on every page as a modal:
period, scope (全市 or a unit), the page's filters, what to include and the issue number; a build
runs in a worker thread (``asyncio.to_thread``) so the session stays responsive, reports its steps
through the event loop (as ``components.upload`` does) and ends with a download of the pack as one
.zip and the list of its files. Builds are bounded: one per session at a time (the button is
disabled while it runs) and ``MAX_CONCURRENT_BUILDS`` in the whole process; a build waiting for a
slot says 排队中. The zip's bytes are dropped when the dialog closes and when the session ends.

``BoardsDownload`` is the data page's 下载责任公示牌（PDF） button with its unit picker.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from dataclasses import dataclass
from functools import partial

import pandas as pd
import panel as pn
import param

from briefing.pack import PART_LABELS, PARTS, build_pack, default_issue_no, size_text
import components.filters  # noqa: F401  (registers the filter labels the summary names)
from auth.access import AccessDenied
from components.data import SharedCampaign
from components.html_text import text
from components.i18n import register_labels, sector_label, status_label, supervision_label, tr, unit_type_label
from components.page_view import page_scope, session_scope
from components.state import FILTER_PARAMS, DashboardState
from metrics.briefing import BriefingScopeError
from metrics.filters import HazardFilter

register_labels({
    "ex_open": ("导出简报", "Export briefing"),
    "ex_title": ("导出简报", "Export a briefing pack"),
    "ex_period": ("报送期次", "Period"),
    "ex_scope": ("范围", "Scope"),
    "ex_city": ("全市（全部单位）", "Whole city (every unit)"),
    "ex_keep_filters": ("沿用当前页面的筛选条件", "Keep this page's filters"),
    "ex_filters_none": ("当前页面没有筛选条件。", "This page has no filters set."),
    "ex_filters_active": ("当前筛选：{filters}", "Filters: {filters}"),
    "ex_parts": ("简报内容", "Include"),
    "ex_issue_no": ("期号（第 N 期）", "Issue number"),
    "ex_build": ("生成简报", "Build the pack"),
    "ex_queued": ("排队中：其他简报正在生成，请稍候…", "Queued: other packs are being built, please wait…"),
    "ex_step": ("第 {step}/{total} 步：{text}", "Step {step}/{total}: {text}"),
    "ex_done": ("简报已生成，共 {count} 个文件，用时 {seconds} 秒。", "The pack is ready: {count} files, built in {seconds} s."),
    "ex_download": ("下载简报（.zip）", "Download the pack (.zip)"),
    "ex_files": ("简报包含的文件", "Files in the pack"),
    "ex_col_file": ("文件", "File"),
    "ex_col_size": ("大小", "Size"),
    "ex_no_parts": ("请至少选择一项简报内容。", "Choose at least one part to include."),
    "ex_no_data": ("尚未导入任何报送数据，无法生成简报。", "No submissions yet: there is nothing to brief."),
    "ex_scope_error": ("无法生成简报：{message}", "The pack cannot be built: {message}"),
    "ex_failed": ("生成简报失败：在“{step}”这一步出错（{kind}）。请稍后重试；如仍失败请联系管理员。",
                  "Building the pack failed at “{step}” ({kind}). Try again later; if it fails again, contact the administrator."),
    "ex_failed_annotations": ("读取批注", "reading the annotations"),
    "ex_failed_prepare": ("准备生成", "preparing the build"),
    "ex_filter_search": ("搜索", "Search"),
    "ex_filter_period_note": ("（截止期次按上面所选期次）", " (the period chosen above is the end period)"),
    "bd_heading": ("责任公示牌", "Responsibility notice boards"),
    "bd_hint": ("按附件1 安全生产责任公示牌模板打印，每家企业一页。", "Printed on the 附件1 notice board template, one enterprise per page."),
    "bd_unit": ("单位", "Unit"),
    "bd_all": ("全部单位", "All units"),
    "bd_download": ("下载责任公示牌（PDF）", "Download notice boards (PDF)"),
    "bd_none": ("还没有收到任何公示牌信息（附件1）。", "No notice board information (附件1) received yet."),
    "bd_failed": ("生成公示牌失败：{message}", "The notice boards could not be made: {message}"),
})

_EN_PARTS = {"docx": "Word briefing", "pdf": "PDF briefing", "xlsx": "Excel summary", "pptx": "Meeting slides",
             "png": "Chart images"}
# Builds at once in this server process: each takes a core and ~100 MB while it runs.
MAX_CONCURRENT_BUILDS = 2
_BUILD_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_BUILDS)

_log = logging.getLogger(__name__)


def _button_colour(colour: str) -> list[str]:
    """A FileDownload's colour as a stylesheet: Panel 1.9.4's FileDownload drops ``color``/``button_type``
    before they reach the Bokeh model (every download button rendered grey)."""
    return [f":host .bk-btn.bk-btn-default {{ background-color: {colour} !important; border-color: {colour} !important;"
            f" color: #fff !important; }}"
            f":host .bk-btn.bk-btn-default:hover {{ filter: brightness(0.92); }}"]


def set_max_concurrent_builds(count: int) -> None:
    """How many packs this server process builds at once (others wait, 排队中)."""
    global MAX_CONCURRENT_BUILDS, _BUILD_SLOTS
    if count < 1:
        raise ValueError("at least one build must be allowed")
    MAX_CONCURRENT_BUILDS, _BUILD_SLOTS = count, threading.BoundedSemaphore(count)


def part_label(part: str, lang: str = "zh") -> str:
    return _EN_PARTS[part] if lang == "en" else PART_LABELS[part]


def filter_summary(state: DashboardState, lang: str = "zh") -> str:
    """One line naming the filters the session has set (other than the end period, which the
    dialog's period replaces); values are plain text (escape before putting it into HTML)."""
    parts: list[str] = []

    def add(key: str, values: str) -> None:
        parts.append(f"{tr(key, lang)} {values}")

    if state.units:
        add("units", "、".join(state.units))
    if state.unit_type:
        add("unit_type", unit_type_label(state.unit_type, lang))
    if state.sectors:
        add("sectors", "、".join(sector_label(s, lang) for s in state.sectors))
    if state.statuses:
        add("statuses", "、".join(status_label(s, lang) for s in state.statuses))
    if state.supervision_levels:
        add("supervision", "、".join(supervision_label(s, lang) for s in state.supervision_levels))
    if state.overdue_only:
        parts.append(tr("overdue_only", lang))
    if state.period_start:
        add("first_reported_from", state.period_start)
    if state.deadline_start or state.deadline_end:
        start = f"{state.deadline_start:%Y-%m-%d}" if state.deadline_start else ""
        end = f"{state.deadline_end:%Y-%m-%d}" if state.deadline_end else ""
        add("deadline_range", f"{start}—{end}")
    if state.search:
        add("ex_filter_search", f"“{state.search}”")
    if not parts:
        return tr("ex_filters_none", lang)
    separator = "; " if lang == "en" else "；"
    return tr("ex_filters_active", lang).format(filters=separator.join(parts))


_warm = threading.Event()


def warm_up() -> None:
    """Import the pack's writers in the background, once per process, when a dialog is first
    opened: they take seconds to import, which the officer would otherwise wait for at 准备生成."""
    if _warm.is_set():
        return
    _warm.set()

    def load() -> None:
        import importlib

        for name in ("briefing.text", "briefing.charts", "briefing.word", "briefing.pdf", "briefing.workbook",
                     "briefing.slides"):
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a build will report the same failure in words
                _log.exception("warming up %s failed", name)

    threading.Thread(target=load, name="hazardboard-briefing-warm-up", daemon=True).start()


def read_annotations(shared: SharedCampaign, campaign) -> pd.DataFrame | None:
    """The officers' annotations of the store, orphans marked; None without a store or annotations."""
    if shared.store is None:
        return None
    from store.annotations import list_annotations, mark_orphans

    frame = list_annotations(shared.store)
    if frame is None or frame.empty:
        return None
    return mark_orphans(frame, campaign)


@dataclass(frozen=True)
class BuiltPack:
    """What the session keeps of a built pack: the zip and the list of its files, not the pack."""

    filename: str
    zip_bytes: bytes
    files: tuple[tuple[str, int], ...]
    seconds: float


class ExportDialog(pn.viewable.Viewer):
    """The briefing pack export dialog of one session (a modal opened from the header)."""

    state = param.ClassSelector(class_=DashboardState)
    shared = param.ClassSelector(class_=SharedCampaign)

    period = param.Selector(default=None, objects=[], allow_None=True)
    scope = param.String(default="", doc="A unit of the snapshot, or empty for 全市")
    keep_filters = param.Boolean(default=True)
    parts = param.ListSelector(default=list(PARTS), objects=list(PARTS))
    issue_no = param.Integer(default=1, bounds=(1, 999))

    phase = param.Selector(default="idle", objects=["idle", "queued", "running", "done", "failed"])
    step = param.Integer(default=0)
    total = param.Integer(default=1)
    step_text = param.String(default="")
    error = param.String(default="", doc="The Chinese (or English) sentence shown when a build failed")

    def __init__(self, **params):
        super().__init__(**params)
        self._built: BuiltPack | None = None
        self._offered = False  # the built pack was shown in the open dialog
        self._disposed = False
        self.modal = pn.Modal(width=660, css_classes=["hb-export-modal"], show_close_button=True)
        self.open_button = pn.widgets.Button(label=tr("ex_open", self.state.lang), color="light", width=110,
                                             css_classes=["hb-export-open"])
        self.open_button.on_click(lambda _event: self.open())
        scope = session_scope(self.state)
        scope.watch(self.state, self._relabel, "lang")
        scope.on_release(self.dispose)
        self.modal.param.watch(self._modal_toggled, "open")  # the modal dies with the session
        # The choices now; the widgets when the dialog is first opened (``open``): most sessions
        # never export, and every page load would otherwise carry a unit list of the whole dataset.
        self.refresh_choices()

    # --- choices ---------------------------------------------------------------------------

    def refresh_choices(self) -> None:
        """The periods and units of the current snapshot; the period the session filters on
        (else the latest) and, for a session filtered to one unit, that unit."""
        snapshot = self.shared.snapshot
        periods = list(snapshot.periods)
        self.param.period.objects = periods
        period = self.state.period_end if self.state.period_end in periods else snapshot.latest_period
        if not self.shared.access.sees_every_unit:
            scope = self.shared.access.unit
        elif len(self.state.units) == 1 and self.state.units[0] in snapshot.units:
            scope = self.state.units[0]
        else:  # the unit chosen before, while the dataset has it
            scope = self.scope if self.scope in snapshot.units else ""
        self.param.update(period=period, scope=scope, issue_no=default_issue_no(period) if period else 1)

    @param.depends("period", watch=True)
    def _default_issue_no(self) -> None:
        if self.period:
            self.issue_no = default_issue_no(self.period)

    def _has_filters(self) -> bool:
        return any(getattr(self.state, name) != self.state.param[name].default
                   for name in FILTER_PARAMS if name != "period_end")

    def spec(self) -> HazardFilter:
        return self.state.hazard_filter if self.keep_filters else HazardFilter()

    # --- opening, closing, releasing -------------------------------------------------------

    def open(self) -> None:
        warm_up()
        if self.phase not in ("queued", "running"):
            if self._offered:  # shown before: dropped now even if the browser's close never reached us
                self.release_pack()
            if self.phase == "failed":
                self.param.update(phase="idle", error="")
            self.refresh_choices()
            self._render()
        self._offered = self._built is not None  # a pack finished while the dialog was closed is offered now
        self.modal.open = True

    def close(self) -> None:
        self.modal.open = False

    def _modal_toggled(self, event) -> None:
        if not event.new:
            self.release_pack()

    def release_pack(self) -> None:
        """Drop the last pack's bytes (and the download's copy of them)."""
        self._built, self._offered = None, False
        if self.phase == "done":
            self.phase = "idle"
        download = getattr(self, "_download", None)
        if download is not None:
            # data="" not None: once downloaded, the rendered model holds the bytes and Bokeh refuses None
            download.param.update(file=None, data="")
        self._render_result()

    def dispose(self) -> None:
        """The session ended: nothing of a pack stays, and a build still running is dropped when it ends."""
        self._disposed = True
        self._built = None
        self._download = None
        self.modal.objects = []

    @property
    def built(self) -> BuiltPack | None:
        return self._built

    # --- the build -------------------------------------------------------------------------

    @property
    def building(self) -> bool:
        return self.phase in ("queued", "running")

    def _progress(self, step: int, total: int, what: str) -> None:
        if not self._disposed:
            self.param.update(phase="running", step=step, total=max(total, 1), step_text=what)

    async def build(self) -> BuiltPack | None:
        """Build the pack of the dialog's choices without blocking the session; at most one per session."""
        if self.building or self._disposed:
            return None
        if not hasattr(self, "_status"):  # built from code before the dialog was ever opened
            self._render()
        lang = self.state.lang
        parts = [part for part in PARTS if part in self.parts]
        if not parts:
            self.param.update(phase="failed", error=tr("ex_no_parts", lang))
            return None
        snapshot = self.shared.snapshot
        if snapshot.is_empty:
            self.param.update(phase="failed", error=tr("ex_no_data", lang))
            return None
        what = f"简报 {self.period} {self.scope or '全市'}（{'、'.join(parts)}）"
        try:
            self.shared.check_export(self.scope or None, what)  # a scope sent over the websocket meets it too
        except AccessDenied as error:
            self._fail(error.message)
            return None
        self.release_pack()
        request = dict(campaign=snapshot.campaign, period=self.period, unit=self.scope or None, spec=self.spec(),
                       issue_no=self.issue_no, parts=parts, lang=lang)
        loop = asyncio.get_running_loop()

        def post(callback, *args) -> None:
            loop.call_soon_threadsafe(partial(callback, *args))

        self.param.update(phase="running", step=0, total=1, step_text=tr("ex_failed_prepare", lang), error="")
        started = loop.time()
        failed_step = [tr("ex_failed_prepare", lang)]

        def progress(step: int, total: int, what: str) -> None:
            failed_step[0] = what
            post(self._progress, step, total, what)

        try:
            built = await asyncio.to_thread(_build_in_slot, self.shared, request, progress,
                                            partial(post, self._queued), failed_step)
        except BriefingScopeError as error:
            self._fail(tr("ex_scope_error", lang).format(message=str(error)))
            return None
        except Exception as error:  # noqa: BLE001 - any failure is told in words; the traceback is logged
            _log.exception("briefing pack build failed (period %s, unit %s)", request["period"], request["unit"])
            self._fail(tr("ex_failed", lang).format(step=failed_step[0], kind=type(error).__name__))
            return None
        self.shared.record_export(built[0], what)
        if self._disposed:
            return None
        self._finish(BuiltPack(built[0], built[1], built[2], loop.time() - started))
        return self._built

    def _queued(self) -> None:
        if not self._disposed:
            self.param.update(phase="queued", step=0, total=1, step_text="")

    def _fail(self, message: str) -> None:
        if not self._disposed:
            self.param.update(phase="failed", error=message, step_text="")

    def _finish(self, built: BuiltPack) -> None:
        self._built, self._offered = built, self.modal.open
        self.phase = "done"
        self._render_result()

    # --- the view --------------------------------------------------------------------------

    def _relabel(self, event) -> None:
        self.open_button.label = tr("ex_open", event.new)
        if hasattr(self, "_status"):  # rendered once: redrawn in the new language
            self._render()

    def _render(self) -> None:
        """The dialog's content in the session's language (choices kept in the dialog's parameters)."""
        if self._disposed:
            return
        lang = self.state.lang
        snapshot = self.shared.snapshot
        title = pn.pane.HTML(f'<h3 class="hb-export-title" style="margin:0">{text(tr("ex_title", lang))}</h3>',
                             margin=(0, 10))
        period = pn.widgets.Select.from_param(self.param.period, label=tr("ex_period", lang), width=150,
                                              css_classes=["hb-export-period"])
        # Bokeh's Select writes option labels as text (unlike MultiChoice, see html_text): names as written.
        # A unit officer exports their own unit only (checked again when building: ``check_export``).
        city = {tr("ex_city", lang): ""} if self.shared.access.sees_every_unit else {}
        scope_options = city | {unit: unit for unit in snapshot.units}
        scope = pn.widgets.Select(label=tr("ex_scope", lang), options=scope_options, value=self.scope, width=200,
                                  css_classes=["hb-export-scope"])
        scope.param.watch(lambda event: setattr(self, "scope", event.new or ""), "value")
        issue = pn.widgets.IntInput.from_param(self.param.issue_no, label=tr("ex_issue_no", lang), width=150,
                                               css_classes=["hb-export-issue"])
        keep = pn.widgets.Checkbox.from_param(self.param.keep_filters, label=tr("ex_keep_filters", lang),
                                              css_classes=["hb-export-keep-filters"])
        summary = pn.pane.HTML(f'<div class="hb-export-filters" style="font-size:12px;color:#616161">'
                               f'{text(filter_summary(self.state, lang))}'
                               f'{text(tr("ex_filter_period_note", lang)) if self._has_filters() else ""}</div>',
                               sizing_mode="stretch_width", margin=(0, 10, 5, 30))
        parts = pn.widgets.CheckBoxGroup(label=tr("ex_parts", lang), value=list(self.parts),
                                         options={part_label(p, lang): p for p in PARTS}, inline=True,
                                         css_classes=["hb-export-parts"])
        parts.param.watch(lambda event: setattr(self, "parts", [p for p in PARTS if p in event.new]), "value")
        self._build_button = pn.widgets.Button(label=tr("ex_build", lang), color="primary", width=140,
                                               css_classes=["hb-export-build"], disabled=self.building)
        self._build_button.on_click(self._on_build)
        self._status = pn.Column(sizing_mode="stretch_width", css_classes=["hb-export-status-box"])
        self._result = pn.Column(sizing_mode="stretch_width", css_classes=["hb-export-result"])
        self._download = None
        self.modal.objects = [pn.Column(
            title, pn.Row(period, scope, issue), keep, summary,
            pn.pane.HTML(f'<div style="font-weight:600">{text(tr("ex_parts", lang))}</div>', margin=(5, 10, 0, 10)),
            parts, self._build_button, self._status, self._result,
            sizing_mode="stretch_width", css_classes=["hb-export-dialog"],
        )]
        self._render_status()
        self._render_result()

    @param.depends("phase", "step", "total", "step_text", "error", watch=True)
    def _render_status(self) -> None:
        if self._disposed or not hasattr(self, "_status"):
            return
        lang = self.state.lang
        self._build_button.disabled = self.building
        if self.phase == "failed":
            self._status.objects = [pn.pane.Alert(text(self.error), alert_type="danger", css_classes=["hb-export-error"],
                                                  sizing_mode="stretch_width")]
            return
        if not self.building:
            self._status.objects = []
            return
        if self.phase == "queued":
            line = tr("ex_queued", lang)
        else:
            line = tr("ex_step", lang).format(step=min(self.step + 1, self.total), total=self.total, text=self.step_text)
        known = self.phase == "running" and self.step > 0
        self._status.objects = [
            # Indeterminate while queued or preparing (the first build of a process imports the writers).
            pn.indicators.Progress(value=self.step if known else -1, active=not known, max=max(self.total, 1),
                                   width=400, height=20, css_classes=["hb-export-progress"]),
            pn.pane.HTML(f'<div class="hb-export-step">{text(line)}</div>', margin=(0, 10)),
        ]

    def _render_result(self) -> None:
        if self._disposed or not hasattr(self, "_result"):
            return
        built, lang = self._built, self.state.lang
        if built is None:
            self._result.objects = []
            self._download = None
            return
        self._download = pn.widgets.FileDownload(
            file=io.BytesIO(built.zip_bytes), filename=built.filename, label=tr("ex_download", lang),
            width=220, css_classes=["hb-export-download"], stylesheets=_button_colour("#2e7d32"))
        done = tr("ex_done", lang).format(count=len(built.files), seconds=f"{built.seconds:.1f}")
        rows = "".join(f"<tr><td>{text(name)}</td><td style='text-align:right;padding-left:16px'>{size_text(size)}</td></tr>"
                       for name, size in built.files)
        listing = (f'<div class="hb-export-done">{text(done)}</div>'
                   f'<div style="font-weight:600;margin-top:6px">{text(tr("ex_files", lang))}</div>'
                   f'<table class="hb-export-files" style="font-size:12px"><tr><th style="text-align:left">'
                   f'{text(tr("ex_col_file", lang))}</th><th style="text-align:right">{text(tr("ex_col_size", lang))}'
                   f'</th></tr>{rows}</table>')
        self._result.objects = [self._download, pn.pane.HTML(listing, sizing_mode="stretch_width", margin=(0, 10))]

    async def _on_build(self, _event) -> None:
        await self.build()

    def __panel__(self) -> pn.viewable.Viewable:
        return self.modal


def _build_in_slot(shared: SharedCampaign, request: dict, progress, on_queued, failed_step: list[str]):
    """In a worker thread: wait for a build slot (the dialog says 排队中 meanwhile), then build.
    Returns (zip file name, zip bytes, ((file name, size), ...))."""
    slots = _BUILD_SLOTS
    if not slots.acquire(blocking=False):
        on_queued()
        slots.acquire()
    try:
        progress(0, 1, tr("ex_failed_prepare", request["lang"]))
        failed_step[0] = tr("ex_failed_annotations", request["lang"])
        annotations = read_annotations(shared, request["campaign"])
        failed_step[0] = tr("ex_failed_prepare", request["lang"])
        pack = build_pack(request["campaign"], request["period"], request["unit"], request["spec"], annotations,
                          request["issue_no"], None, request["parts"], progress)
        files = tuple((name, len(content)) for name, content in pack.files.items())
        return f"{pack.stem}.zip", pack.zip_bytes(), files
    finally:
        slots.release()


class BoardsDownload(pn.viewable.Viewer):
    """The data page's notice boards: a unit picker (全部 or one unit with boards) and a PDF download,
    made when clicked in a worker thread. The PDF's data are dropped with the page."""

    state = param.ClassSelector(class_=DashboardState)
    shared = param.ClassSelector(class_=SharedCampaign)
    unit = param.String(default="", doc="A unit with boards, or empty for every unit")

    def __init__(self, **params):
        from briefing.boards import board_units

        super().__init__(**params)
        registry = self.shared.snapshot.campaign.registry
        self._units = board_units(registry) if registry is not None and not registry.empty else []
        lang = self.state.lang
        self._message = pn.pane.Alert(alert_type="danger", visible=False, css_classes=["hb-boards-error"],
                                      sizing_mode="stretch_width")
        self.picker = pn.widgets.Select(label=tr("bd_unit", lang), width=200, css_classes=["hb-boards-unit"],
                                        options={tr("bd_all", lang): ""} | {u: u for u in self._units})  # labels are text
        self.download = pn.widgets.FileDownload(
            callback=self._pdf, filename=self._filename(""), label=tr("bd_download", lang), stylesheets=_button_colour("#0072b5"),
            width=240, css_classes=["hb-boards-download"], align="end")
        self.picker.param.watch(self._picked, "value")  # both die with the page
        page_scope(self.state).on_release(self._release)

    def _filename(self, unit: str) -> str:
        from briefing.boards import BOARD_TITLE, board_file_name

        return board_file_name(unit) if unit else f"{BOARD_TITLE}_全部.pdf"

    def _picked(self, event) -> None:
        self.unit = event.new or ""
        # The filename belongs to the download button; setting it relabels the button, so the label is restored.
        self.download.param.update(filename=self._filename(self.unit), data=None)
        self.download.label = tr("bd_download", self.state.lang)

    async def _pdf(self) -> io.BytesIO:
        from briefing.boards import boards_pdf

        self._message.visible = False
        registry = self.shared.snapshot.campaign.registry
        access = self.shared.access
        unit = self.unit or (access.unit if not access.sees_every_unit else None)
        what = f"公示牌 {unit or '全部单位'}"
        try:
            self.shared.check_export(unit, what)
        except AccessDenied as error:
            self._message.param.update(object=text(error.message), visible=True)
            raise
        try:
            content = await asyncio.to_thread(boards_pdf, registry, self.unit or None)
        except ValueError as error:  # BoardsError: a Chinese sentence for the officer
            self._message.param.update(object=text(tr("bd_failed", self.state.lang).format(message=str(error))), visible=True)
            raise
        except Exception as error:
            _log.exception("notice boards PDF failed (unit %r)", self.unit)
            self._message.param.update(object=text(tr("bd_failed", self.state.lang).format(message=type(error).__name__)),
                                       visible=True)
            raise
        self.shared.record_export(self._filename(self.unit), what)
        return io.BytesIO(content)

    def _release(self) -> None:
        self.download.param.update(data=None)

    def __panel__(self) -> pn.viewable.Viewable:
        lang = self.state.lang
        heading = pn.pane.Markdown(f"### {tr('bd_heading', lang)}", margin=(0, 10))
        if not self._units:
            return pn.Column(heading, pn.pane.Alert(tr("bd_none", lang), alert_type="info"), sizing_mode="stretch_width",
                             css_classes=["hb-boards"])
        hint = pn.pane.Markdown(tr("bd_hint", lang), styles={"color": "#666"}, margin=(0, 10))
        return pn.Column(heading, hint, pn.Row(self.picker, self.download), self._message,
                         sizing_mode="stretch_width", css_classes=["hb-boards"])
