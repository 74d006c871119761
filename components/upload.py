"""Uploading workbooks: several files at once, imported in the background, then a report per file.

``UploadJob`` is the upload of one session (progress while it runs, the report
after). It outlives the page: the page is rebuilt when the shared data change, which
an upload itself causes, and the new page shows the same job's report. The import
runs in a worker thread (``asyncio.to_thread``) so the session stays responsive;
progress reaches the job through the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import html
import logging
import weakref
from functools import partial

import pandas as pd
import panel as pn
import param
from panel.custom import JSComponent
from sqlalchemy.exc import SQLAlchemyError

from auth.access import AccessDenied
from components.data import SharedCampaign
from components.dispatch_views import paged_table, severity_label
from components.i18n import register_labels, tr
from components.kpi import format_count
from components.page_view import page_scope
from components.state import DashboardState
from components.submissions_view import kind_label
from metrics.dispatch import dataset_figures
from store import StoreError
from store.db import IngestOutcome
from store.isolation import ParseLimits, parse_isolated

register_labels({
    "up_heading": ("上传报表", "Upload workbooks"),
    "up_hint": ("可一次选择多个台账、调度表或公示牌文件（.xlsx / .xls / .xlsm），再点“导入”。同一文件重复上传不会重复导入。",
                "Choose one or more ledgers, dispatch forms or notice boards (.xlsx / .xls / .xlsm), then click Import. "
                "A file uploaded twice is imported once."),
    "up_import": ("导入", "Import"),
    "up_choose_first": ("请先选择要上传的文件。", "Choose the files to upload first."),
    "up_running": ("正在导入 {index}/{total}：{name}", "Importing {index}/{total}: {name}"),
    "up_rebuilding": ("正在重新计算汇总数据…", "Recomputing the figures…"),
    "up_finished": ("导入完成：共 {total} 个文件，已导入 {accepted} 个，未通过 {rejected} 个，已导入过跳过 {skipped} 个。",
                    "Done: {total} files, {accepted} imported, {rejected} rejected, {skipped} already imported."),
    "up_refused_count": ("无权上传 {refused} 个（未保存）。", "{refused} refused: not yours to upload (not stored)."),
    "up_denied": ("不能上传：{error}", "Upload refused: {error}"),
    "up_viewer": ("只读账号不能上传文件。", "A read-only account cannot upload files."),
    "up_failed": ("导入失败，本次未完成的文件没有写入：{error}", "The import failed; unfinished files were not stored: {error}"),
    "up_crashed": ("导入失败：服务器处理时出错（{kind}），本次上传未生效，页面数据保持不变。请检查文件后重新选择并导入；如仍失败请联系管理员。",
                   "The import failed: the server hit an error ({kind}); this upload did not take effect and the data shown "
                   "are unchanged. Check the files and import again; if it fails again, contact the administrator."),
    "up_too_large": ("所选文件共 {size}，超过每次上传上限 {limit}，未上传。请分批选择文件，或由管理员用命令行导入。",
                     "The chosen files total {size}, over the upload limit of {limit} per selection; nothing was sent. "
                     "Choose fewer files at a time, or ask the administrator to import them from the command line."),
    "up_receiving": ("正在上传 {received} / {expected}", "Uploading {received} / {expected}"),
    "up_still_receiving": ("文件仍在上传，请稍候再点“导入”。", "The files are still uploading; click Import when they have arrived."),
    "up_read_only": ("当前数据集为只读（未连接数据库），不能上传。", "This dataset is read-only (no database): uploads are disabled."),
    "up_report": ("导入结果", "Import report"),
    "up_issues": ("各文件的问题", "Findings per file"),
    "up_no_issues": ("这些文件没有发现问题。", "No findings in these files."),
    "up_replaced": ("本次上传替代的报送", "Submissions this upload superseded"),
    "up_no_replaced": ("本次上传没有替代任何已有报送。", "This upload superseded no earlier submission."),
    "up_changes": ("本次上传带来的变化", "What this upload changed"),
    "up_col_file": ("文件", "File"),
    "up_col_status": ("结果", "Result"),
    "up_col_submissions": ("报送数", "Submissions"),
    "up_col_issues": ("问题数", "Findings"),
    "up_col_note": ("说明", "Note"),
    "up_col_sheet": ("工作表", "Sheet"),
    "up_col_cell": ("单元格", "Cell"),
    "up_col_severity": ("级别", "Severity"),
    "up_col_message": ("问题说明", "Finding"),
    "up_col_kind": ("报送类型", "Form"),
    "up_col_unit": ("单位", "Unit"),
    "up_col_period": ("期间", "Period"),
    "up_col_older": ("原文件", "Earlier file"),
    "up_col_newer": ("新文件", "New file"),
    "up_col_figure": ("指标", "Figure"),
    "up_col_before": ("导入前", "Before"),
    "up_col_after": ("导入后", "After"),
    "up_col_change": ("变化", "Change"),
    "up_same_as": ("与已导入的“{name}”内容相同", "Same content as “{name}”, already imported"),
    "up_replaces": ("替代了 {count} 份旧报送", "Superseded {count} earlier submissions"),
    "up_added": ("补报台账，并入{periods}的台账", "Supplement ledger, added to {periods}"),
    "up_held_aside": ("月份{periods}不在专项行动期间（2023年5—12月），已保存、未计入统计，请核对年月",
                      "Month {periods} is outside the campaign (May–Dec 2023): stored, not counted; please check the date"),
    "up_fig_unique_hazards": ("隐患总数（去重）", "Unique hazards"),
    "up_fig_rectified": ("已整改", "Rectified"),
    "up_fig_overdue": ("逾期未整改", "Overdue"),
    "up_fig_files": ("已导入文件", "Files imported"),
})

ACCEPTED_TYPES = ".xlsx,.xls,.xlsm"
DEFAULT_UPLOAD_LIMIT_MB = 200
UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024  # one websocket message of the file chooser
# The limit of one selection in the browser, per server process (``hazardboard serve --upload-limit-mb``).
UPLOAD_LIMIT_BYTES = DEFAULT_UPLOAD_LIMIT_MB * 1024 * 1024

# What parsing one uploaded file may cost, per server process (``hazardboard serve
# --parse-memory-mb / --parse-timeout-s``); each file is parsed in a child process within them.
PARSE_LIMITS = ParseLimits()

_log = logging.getLogger(__name__)


def set_parse_limits(limits: ParseLimits) -> None:
    """The memory and time limits of parsing one uploaded file in this server process."""
    global PARSE_LIMITS
    PARSE_LIMITS = limits


def set_upload_limit(limit_bytes: int) -> None:
    """The upload limit of this server process (per selection of files)."""
    global UPLOAD_LIMIT_BYTES
    if limit_bytes <= 0:
        raise ValueError("the upload limit must be positive")
    UPLOAD_LIMIT_BYTES = int(limit_bytes)


def websocket_message_limit(chunk_bytes: int = UPLOAD_CHUNK_BYTES) -> int:
    """The websocket message limit the server sets: the largest message is one upload chunk,
    base64-encoded (4/3 of its size) with its framing; never below Bokeh's default (20 MB).

    Files travel in chunks, so the limit does not grow with the upload limit: a 200 MB message
    limit would let any client make the server buffer 270 MB per message."""
    return max(20 * 1024 * 1024, chunk_bytes * 4 // 3 + 1024 * 1024)


def format_size(size: int) -> str:
    """Bytes as MB with one decimal (200 MB, 26.4 MB)."""
    mb = size / (1024 * 1024)
    return f"{mb:.0f} MB" if mb == int(mb) else f"{mb:.1f} MB"


def too_large_text(size: int, lang: str, limit: int | None = None) -> str:
    limit = UPLOAD_LIMIT_BYTES if limit is None else limit
    return tr("up_too_large", lang).format(size=format_size(size), limit=format_size(limit))

_EN_OUTCOMES = {"accepted": "Imported", "rejected": "Rejected", "skipped": "Already imported, skipped",
                "refused": "Refused: not yours to upload"}
REPORT_COLUMNS = {"file": "up_col_file", "status": "up_col_status", "submissions": "up_col_submissions",
                  "issues": "up_col_issues", "note": "up_col_note"}
ISSUE_COLUMNS = {"file": "up_col_file", "sheet": "up_col_sheet", "cell": "up_col_cell", "severity": "up_col_severity",
                 "message": "up_col_message"}
REPLACEMENT_COLUMNS = {"kind": "up_col_kind", "unit": "up_col_unit", "period": "up_col_period",
                       "older_file": "up_col_older", "newer_file": "up_col_newer"}
CHANGE_COLUMNS = {"figure": "up_col_figure", "before": "up_col_before", "after": "up_col_after", "change": "up_col_change"}


def outcome_label(outcome: IngestOutcome, lang: str) -> str:
    return _EN_OUTCOMES[outcome.status] if lang == "en" else outcome.label


def _note(outcome: IngestOutcome, lang: str) -> str:
    """Why a file was rejected (its first error), which file it repeats, or what it superseded."""
    if outcome.status in ("rejected", "refused"):
        return next((issue.message for issue in outcome.issues if issue.severity == "error"), "")
    if outcome.status == "skipped":
        return tr("up_same_as", lang).format(name=outcome.stored_as)
    notes = [tr("up_replaces", lang).format(count=len(outcome.replaced))] if outcome.replaced else []
    for state in ("added", "held_aside"):
        periods = sorted({p.period or "" for p in outcome.placed if p.state == state})
        if periods:
            notes.append(tr(f"up_{state}", lang).format(periods="、".join(periods)))
    return "；".join(notes)


def outcome_rows(outcomes: list[IngestOutcome], lang: str) -> pd.DataFrame:
    """One row per uploaded file: its result in words, its submissions and findings, and a note."""
    return pd.DataFrame([
        {"file": o.file_name, "status": outcome_label(o, lang), "submissions": o.submissions, "issues": len(o.issues),
         "note": _note(o, lang)}
        for o in outcomes
    ], columns=list(REPORT_COLUMNS))


def issue_rows(outcomes: list[IngestOutcome], lang: str) -> pd.DataFrame:
    """Every finding of the uploaded files with its sheet and cell, file by file in upload order."""
    return pd.DataFrame([
        {"file": o.file_name, "sheet": i.sheet, "cell": i.cell, "severity": severity_label(i.severity, lang), "message": i.message}
        for o in outcomes for i in o.issues
    ], columns=list(ISSUE_COLUMNS))


def replacement_rows(outcomes: list[IngestOutcome], lang: str) -> pd.DataFrame:
    """Which unit's period and form each upload superseded, and by which file."""
    return pd.DataFrame([
        {"kind": kind_label(r.kind, lang), "unit": r.unit, "period": r.period or "", "older_file": r.older_file,
         "newer_file": r.newer_file}
        for o in outcomes for r in o.replaced
    ], columns=list(REPLACEMENT_COLUMNS))


def change_rows(before: dict[str, int], after: dict[str, int], lang: str) -> pd.DataFrame:
    """The key figures before and after the upload, with the signed change."""
    return pd.DataFrame([
        {"figure": tr(f"up_fig_{key}", lang), "before": format_count(before[key]), "after": format_count(after[key]),
         "change": f"{after[key] - before[key]:+,d}"}
        for key in before
    ], columns=list(CHANGE_COLUMNS))


class UploadJob(param.Parameterized):
    """One session's upload: its progress while it runs, its outcomes and the figures before and after."""

    running = param.Boolean(default=False)
    done = param.Integer(default=0, doc="Files stored so far")
    total = param.Integer(default=0)
    current = param.String(default="", doc="The file being stored, empty while the figures are recomputed")
    outcomes = param.List(default=[], item_type=IngestOutcome)
    before = param.Dict(default={})
    after = param.Dict(default={})
    error = param.String(default="", doc="The store's message, or the kind of an unexpected failure")
    failure = param.Selector(default="up_failed", objects=["up_failed", "up_crashed", "up_denied"], doc="Which failure text")

    _by_state: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @classmethod
    def for_session(cls, state: DashboardState) -> UploadJob:
        if state not in cls._by_state:
            cls._by_state[state] = cls()
        return cls._by_state[state]

    def _progress(self, index: int, total: int, name: str) -> None:
        # ``SharedCampaign.ingest`` reports before each file and once more, with total, before rebuilding.
        self.param.update(done=index, total=total, current=name if index < total else "")

    async def run(self, shared: SharedCampaign, files: list[tuple[str, bytes]]) -> None:
        """Ingest ``files`` (name, bytes) into the shared dataset without blocking the session."""
        loop = asyncio.get_running_loop()

        def progress(index: int, total: int, name: str) -> None:
            loop.call_soon_threadsafe(partial(self._progress, index, total, name))

        self.param.update(running=True, done=0, total=len(files), current=files[0][0], outcomes=[], error="",
                          failure="up_failed")
        try:
            before = dataset_figures(shared.snapshot.campaign)
            # Each new file is parsed in a child process within the limits: a file past them is
            # stored as rejected with the limit named; the server and other sessions carry on.
            outcomes = await asyncio.to_thread(shared.ingest, files, progress, partial(parse_isolated, limits=PARSE_LIMITS))
            after = dataset_figures(shared.snapshot.campaign)
        except AccessDenied as error:  # a viewer's upload (the widget is not shown to them; a websocket message is)
            self.param.update(running=False, current="", failure="up_denied", error=error.message)
            return
        except (StoreError, SQLAlchemyError) as error:
            self.param.update(running=False, current="", failure="up_failed", error=str(error))
            return
        except Exception as error:  # noqa: BLE001 - any failure ends the job and says so; the page stays usable
            _log.exception("upload of %d files failed", len(files))
            self.param.update(running=False, current="", failure="up_crashed", error=type(error).__name__)
            return
        self.param.update(running=False, done=len(files), outcomes=outcomes, before=before, after=after)

    def status_text(self, lang: str) -> str:
        if self.error:
            return tr(self.failure, lang).format(error=self.error, kind=self.error)
        if self.running:
            if not self.current:
                return tr("up_rebuilding", lang)
            return tr("up_running", lang).format(index=self.done + 1, total=self.total, name=self.current)
        if self.outcomes:
            counts = {status: sum(o.status == status for o in self.outcomes) for status in ("accepted", "rejected", "skipped")}
            refused = sum(o.status == "refused" for o in self.outcomes)
            return tr("up_finished", lang).format(total=len(self.outcomes), **counts) + (
                tr("up_refused_count", lang).format(refused=refused) if refused else "")
        return ""


_CHOOSER_ESM = """
function megabytes(size) {
  const mb = size / 1048576
  return (Number.isInteger(mb) ? mb : mb.toFixed(1)) + " MB"
}

function base64Of(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "")
    reader.onerror = () => reject(reader.error)
    reader.readAsDataURL(blob)
  })
}

export function render({ model, el }) {
  const input = document.createElement("input")
  input.type = "file"
  input.multiple = true
  input.accept = model.accept
  const note = document.createElement("div")
  note.className = "hb-upload-refused"
  note.style.color = "#b71c1c"
  el.append(input, note)
  model.on("msg:custom", (msg) => {
    if (msg.type === "clear") { input.value = ""; note.textContent = "" }
  })
  input.addEventListener("change", async () => {
    const files = Array.from(input.files || [])
    const total = files.reduce((sum, file) => sum + file.size, 0)
    note.textContent = ""
    if (files.length === 0) { model.send_msg({type: "clear"}); return }
    if (total > model.limit) {
      // Refused here: nothing is sent but the names and the size.
      note.textContent = model.refused_text.replace("{size}", megabytes(total))
      input.value = ""
      model.send_msg({type: "refused", names: files.map((file) => file.name), size: total})
      note.dataset.upload = "refused"
      return
    }
    note.dataset.upload = "sending"
    const id = String(Date.now()) + String(Math.random())
    model.send_msg({type: "start", id, names: files.map((file) => file.name), sizes: files.map((file) => file.size)})
    for (let index = 0; index < files.length; index++) {
      const file = files[index]
      for (let offset = 0; offset < file.size; offset += model.chunk_size) {
        const data = await base64Of(file.slice(offset, offset + model.chunk_size))
        model.send_msg({type: "chunk", id, file: index, data})
      }
    }
    model.send_msg({type: "end", id})
    note.dataset.upload = "sent"
  })
}
"""


class ChunkedFileInput(JSComponent):
    """Choose several files; they travel to the server in chunks, with progress, up to ``limit`` bytes.

    A selection over the limit is refused in the browser (the message names the limit) and only
    its names and size are sent. The server checks the bytes it receives against the limit too.
    ``value`` and ``filename`` hold the received files once the whole selection has arrived."""

    accept = param.String(default=ACCEPTED_TYPES)
    limit = param.Integer(default=UPLOAD_LIMIT_BYTES, doc="Bytes per selection")
    chunk_size = param.Integer(default=UPLOAD_CHUNK_BYTES)
    refused_text = param.String(default="", doc="Shown in the browser past the limit; {size} is filled in there")
    receiving = param.Boolean(default=False)
    received = param.Integer(default=0)
    expected = param.Integer(default=0)
    refused = param.String(default="", doc="Why the last selection was refused, empty if it was not")
    filename = param.List(default=[])
    value = param.List(default=[])

    _esm = _CHOOSER_ESM
    # The received bytes stay on the server: never sent back to the browser.
    _property_mapping = {"value": None, "filename": None, "refused": None, "design": None}

    def __init__(self, **params):
        super().__init__(**params)
        self._upload: dict | None = None

    def clear(self) -> None:
        """Forget the received files and empty the browser's chooser."""
        self._upload = None
        self.param.update(value=[], filename=[], receiving=False, received=0, expected=0)
        self._send_msg({"type": "clear"})

    def _refuse(self, size: int) -> None:
        self._upload = None
        self.param.update(value=[], filename=[], receiving=False, received=0, expected=0,
                          refused=too_large_text(size, "zh", self.limit))

    def _handle_msg(self, msg) -> None:
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "clear":
            self._upload = None
            self.param.update(value=[], filename=[], receiving=False, received=0, expected=0, refused="")
        elif kind == "refused":
            self._refuse(int(msg.get("size") or 0))
        elif kind == "start":
            names, sizes = list(msg.get("names") or []), [int(size) for size in msg.get("sizes") or []]
            if len(names) != len(sizes) or sum(sizes) > self.limit:
                self._refuse(sum(sizes))
                return
            self._upload = {"id": msg.get("id"), "names": names, "sizes": sizes, "parts": [[] for _ in names]}
            self.param.update(value=[], filename=[], receiving=True, received=0, expected=sum(sizes), refused="")
        elif kind in ("chunk", "end"):
            upload = self._upload
            if upload is None or msg.get("id") != upload["id"]:
                return  # a superseded selection
            if kind == "chunk":
                index = int(msg.get("file", -1))
                if not 0 <= index < len(upload["parts"]):
                    return
                data = base64.b64decode(msg.get("data") or "")
                received = self.received + len(data)
                if received > min(self.expected, self.limit):  # more than announced: refused
                    self._refuse(received)
                    return
                upload["parts"][index].append(data)
                self.received = received
            else:
                files = [b"".join(parts) for parts in upload["parts"]]
                self._upload = None
                if [len(data) for data in files] != upload["sizes"]:
                    self.param.update(receiving=False, value=[], filename=[])
                    return
                self.param.update(value=files, filename=upload["names"], receiving=False)


def _section(title_key: str, lang: str, frame: pd.DataFrame, columns: dict[str, str], css_class: str,
             empty_key: str = "no_data") -> pn.Column:
    """A titled report table, or the sentence saying there is nothing to list."""
    title = pn.pane.Markdown(f"#### {tr(title_key, lang)}", margin=(10, 10, 0, 10))
    if frame.empty:
        body = pn.pane.Alert(tr(empty_key, lang), alert_type="light", css_classes=[f"{css_class}-empty"])
    else:
        body = paged_table({column: tr(key, lang) for column, key in columns.items()}, css_class, lang, value=frame)
    return pn.Column(title, body, sizing_mode="stretch_width")


class UploadPanel(pn.viewable.Viewer):
    """The file chooser, the import button, progress and the report of the session's last upload."""

    state = param.ClassSelector(class_=DashboardState)
    shared = param.ClassSelector(class_=SharedCampaign)
    job = param.ClassSelector(class_=UploadJob, doc="The session's upload (defaults to UploadJob.for_session(state))")

    def __init__(self, **params):
        params.setdefault("job", UploadJob.for_session(params["state"]))
        super().__init__(**params)
        lang = self.state.lang
        limit = UPLOAD_LIMIT_BYTES
        self.file_input = ChunkedFileInput(
            limit=limit, refused_text=tr("up_too_large", lang).format(size="{size}", limit=format_size(limit)),
            css_classes=["hb-upload-input"], width=320, height=60)
        self.import_button = pn.widgets.Button(
            label=tr("up_import", lang), color="primary", width=120, css_classes=["hb-upload-import"],
            disabled=self.job.running)
        self.import_button.on_click(self._import)
        # The job outlives the page: its watchers belong to the page and go with it (page_scope).
        self._status = pn.Column(self._progress_view(), sizing_mode="stretch_width")
        self._report = pn.Column(self.report(), sizing_mode="stretch_width")
        scope = page_scope(self.state)
        scope.follow(self.job, ("running", "done", "total", "current", "error", "outcomes"), self._refresh_status)
        scope.follow(self.job, ("outcomes",), lambda: setattr(self._report, "objects", [self.report()]))
        self.file_input.param.watch(lambda _event: self._sync_button(), "receiving")  # dies with the page
        self._message = pn.pane.Alert(alert_type="warning", visible=False, css_classes=["hb-upload-message"])

    async def _import(self, _event) -> None:
        names, contents = self.file_input.filename or [], self.file_input.value or []
        if self.file_input.receiving:
            self._message.param.update(object=tr("up_still_receiving", self.state.lang), visible=True)
            return
        if not contents:
            self._message.param.update(object=tr("up_choose_first", self.state.lang), visible=True)
            return
        size = sum(len(content) for content in contents)
        if size > UPLOAD_LIMIT_BYTES:  # the browser refuses these first; a check here too
            self._message.param.update(object=too_large_text(size, self.state.lang), visible=True)
            self._forget_files()
            return
        self._message.visible = False
        files = list(zip(names, contents))
        self._forget_files()  # the session does not keep the bytes once they are handed over
        await self.job.run(self.shared, files)
        # Show the new data in this session at once rather than at the next poll.
        self.state.data_revision = self.shared.snapshot.revision

    def _forget_files(self) -> None:
        self.file_input.clear()

    def _transfer_view(self, receiving: bool, received: int, refused: str) -> pn.viewable.Viewable:
        """The transfer of the chosen files to the server, or why they were refused."""
        chooser, lang = self.file_input, self.state.lang
        if chooser.refused:
            return pn.pane.Alert(chooser.refused, alert_type="warning", css_classes=["hb-upload-refused-server"])
        if not chooser.receiving:
            return pn.Column()
        text = tr("up_receiving", lang).format(received=format_size(chooser.received), expected=format_size(chooser.expected))
        return pn.Column(
            pn.indicators.Progress(value=chooser.received, max=max(chooser.expected, 1), width=400,
                                   css_classes=["hb-upload-transfer"]),
            pn.pane.HTML(f'<div class="hb-upload-transfer-status">{html.escape(text)}</div>', margin=(0, 10)),
        )

    def _sync_button(self) -> None:
        self.import_button.disabled = self.job.running or self.file_input.receiving

    def _refresh_status(self) -> None:
        self._sync_button()
        self._status.objects = [self._progress_view()]

    def _progress_view(self) -> pn.viewable.Viewable:
        lang, job = self.state.lang, self.job
        status = pn.pane.HTML(f'<div class="hb-upload-status">{html.escape(job.status_text(lang))}</div>',
                              sizing_mode="stretch_width", margin=(0, 10))
        if not job.running:
            return status
        bar = pn.indicators.Progress(value=job.done, max=max(job.total, 1), width=400, css_classes=["hb-upload-progress"])
        return pn.Column(bar, status, sizing_mode="stretch_width")

    def report(self) -> pn.viewable.Viewable:
        lang, job = self.state.lang, self.job
        if not job.outcomes:
            return pn.Column()
        return pn.Column(
            _section("up_report", lang, outcome_rows(job.outcomes, lang), REPORT_COLUMNS, "hb-upload-report"),
            _section("up_issues", lang, issue_rows(job.outcomes, lang), ISSUE_COLUMNS, "hb-upload-issues", "up_no_issues"),
            _section("up_replaced", lang, replacement_rows(job.outcomes, lang), REPLACEMENT_COLUMNS, "hb-upload-replaced",
                     "up_no_replaced"),
            _section("up_changes", lang, change_rows(job.before, job.after, lang), CHANGE_COLUMNS, "hb-upload-changes"),
            sizing_mode="stretch_width", css_classes=["hb-upload-results"],
        )

    def __panel__(self) -> pn.viewable.Viewable:
        lang = self.state.lang
        if self.shared.store is None:
            return pn.pane.Alert(tr("up_read_only", lang), alert_type="info")
        if not self.shared.access.can_write:
            return pn.pane.Alert(tr("up_viewer", lang), alert_type="info", css_classes=["hb-upload-viewer"])
        chooser = self.file_input.param
        transfer = pn.bind(self._transfer_view, chooser.receiving, chooser.received, chooser.refused)
        return pn.Column(
            pn.pane.Markdown(f"### {tr('up_heading', lang)}", margin=(0, 10)),
            pn.pane.Markdown(tr("up_hint", lang), styles={"color": "#666"}, margin=(0, 10)),
            pn.Row(self.file_input, self.import_button), transfer, self._message, self._status, self._report,
            sizing_mode="stretch_width", css_classes=["hb-upload"],
        )
