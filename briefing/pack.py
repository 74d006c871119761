"""A briefing pack: the figures of one period, scope and filter written as Word, PDF, Excel,
slides and chart images, for the CLI (``hazardboard brief``), the export dialog and a notebook.

The same inputs give the same pack: every writer is deterministic and the only date inside is
the issue date of the title block (default: the dataset's statistics date).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from loaders import Campaign
from loaders.reference import CAMPAIGN_START_PERIOD
from metrics.briefing import BriefingFigures, briefing_figures
from metrics.filters import HazardFilter

# What a pack can hold, in the order it is built and listed.
PARTS = ("docx", "pdf", "xlsx", "pptx", "png")
PART_LABELS = {"docx": "Word 简报", "pdf": "PDF 简报", "xlsx": "Excel 汇总表", "pptx": "会议幻灯片", "png": "图表图片"}
# (step, total, what is being done): the progress a pack reports, in Chinese for the officer.
PackProgress = Callable[[int, int, str], None]
# A zip entry's time must not vary: the pack is the same for the same inputs.
ZIP_DATE = (2023, 1, 1, 0, 0, 0)


@dataclass
class Pack:
    figures: BriefingFigures
    issue_no: int
    issue_date: dt.date
    files: dict[str, bytes] = field(default_factory=dict)  # file name -> content, in build order

    @property
    def stem(self) -> str:
        return pack_stem(self.figures, self.issue_no)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write every file into ``out_dir`` (created); returns the paths in build order."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, content in self.files.items():
            path = out / name
            path.write_bytes(content)
            written.append(path)
        return written

    def zip_bytes(self) -> bytes:
        """The pack as one .zip (what the export dialog downloads), byte-identical for the same pack."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, content in self.files.items():
                info = zipfile.ZipInfo(f"{self.stem}/{name}", date_time=ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.flag_bits |= 0x800  # names are UTF-8 (Chinese file names open right on Windows)
                archive.writestr(info, content)
        return buffer.getvalue()


def size_text(size: int) -> str:
    """A file size for officers: KB below a megabyte, MB with one decimal above."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024)):,} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def default_issue_no(period: str) -> int:
    """第 N 期 when none is given: the period's month of the campaign (2023-05 is 第1期)."""
    start = pd.Period(CAMPAIGN_START_PERIOD, freq="M")
    return max(1, (pd.Period(period, freq="M") - start).n + 1)


def pack_stem(figures: BriefingFigures, issue_no: int) -> str:
    scope = _safe_file_part(figures.scope_label)
    return f"重大事故隐患专项排查整治简报_第{issue_no}期_{figures.period}_{scope}"


def _safe_file_part(text: str) -> str:
    """A unit name as part of a file name: path separators and characters Windows refuses replaced."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", text).strip(" .") or "_"


def build_pack(campaign: Campaign, period: str | None = None, unit: str | None = None,
               spec: HazardFilter = HazardFilter(), annotations: pd.DataFrame | None = None,
               issue_no: int | None = None, issue_date: dt.date | None = None,
               parts: Iterable[str] = PARTS, progress: PackProgress | None = None) -> Pack:
    """Build the pack's files in memory. Raises ``metrics.briefing.BriefingScopeError`` (Chinese
    message) for a period or unit the dataset does not have."""
    from briefing.charts import CHART_FILES, render_charts
    from briefing.pdf import write_pdf
    from briefing.slides import write_pptx
    from briefing.text import briefing_document
    from briefing.word import write_docx
    from briefing.workbook import write_workbook

    parts = [part for part in PARTS if part in set(parts)]
    unknown = set(parts) - set(PARTS)
    if unknown or not parts:
        raise ValueError(f"简报内容只能从 {'、'.join(PARTS)} 中选择")
    steps = ["整理数据", "绘制图表", *(f"生成{PART_LABELS[p]}" for p in parts if p != "png")]
    report = progress or (lambda *_: None)

    report(0, len(steps), steps[0])
    figures = briefing_figures(campaign, period, unit, spec, annotations)
    number = issue_no if issue_no is not None else default_issue_no(figures.period)
    date = issue_date or figures.as_of
    pack = Pack(figures=figures, issue_no=number, issue_date=date)
    report(1, len(steps), steps[1])
    charts = render_charts(figures)
    document = briefing_document(figures, number, date) if {"docx", "pdf"} & set(parts) else None
    writers = {
        "docx": lambda path: write_docx(document, charts, path),
        "pdf": lambda path: write_pdf(document, charts, path),
        "xlsx": lambda path: write_workbook(figures, path, date),
        "pptx": lambda path: write_pptx(figures, charts, path, date),
    }
    step = 2
    with tempfile.TemporaryDirectory(prefix="hazardboard-pack-") as tmp:
        for part in parts:
            if part == "png":
                continue
            report(step, len(steps), steps[step])
            path = Path(tmp) / f"{pack.stem}.{part}"
            writers[part](path)
            pack.files[path.name] = path.read_bytes()
            step += 1
    if "png" in parts:
        for key, name in CHART_FILES.items():
            if key in charts:
                pack.files[name] = charts[key]
    report(len(steps), len(steps), "完成")
    return pack
