"""Workbooks in, a validated campaign dataset out. No Panel, no store: pure functions of bytes.

- ``load_workbook(data, file_name)`` reads one file into submissions and issues;
- ``build_campaign(results, as_of)`` merges results into the canonical frames;
- ``load_paths(paths, as_of)`` does both for files and folders on disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from .campaign import Campaign, build_campaign, hazard_id
from .model import Issue, SheetGrid, Submission, WorkbookResult
from .sheets import parse_sheet
from .workbook import WorkbookRefused, open_workbook, read_grids

# Bump when parsing changes what a workbook yields, so stored results are re-read.
PARSER_VERSION = 2

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et")
# Other office files an officer may drop in the folder by mistake: read, so that
# each is reported as "not a workbook" instead of being passed over unseen.
MISPLACED_SUFFIXES = (".csv", ".txt", ".doc", ".docx", ".wps", ".pdf")

__all__ = [
    "PARSER_VERSION",
    "Campaign",
    "Issue",
    "SheetGrid",
    "Submission",
    "WorkbookResult",
    "build_campaign",
    "find_workbooks",
    "hazard_id",
    "load_paths",
    "load_workbook",
]


def load_workbook(data: bytes, file_name: str) -> WorkbookResult:
    """Read one workbook's bytes. Never raises for bad input: problems become issues."""
    result = WorkbookResult(file=file_name, sha256=hashlib.sha256(data).hexdigest())
    try:
        opened = open_workbook(data, file_name)
        grids, sheet_issues = read_grids(opened, file_name)
    except WorkbookRefused as refused:
        result.issues.append(Issue(file_name, "", "", "error", f"文件未导入：{refused.message}", refused.code))
        return result
    except Exception as exc:  # noqa: BLE001 - no workbook may stop the others from loading
        result.issues.append(Issue(file_name, "", "", "error",
                                   f"文件未导入：读取文件时出错（{_describe(exc)}）。请用Excel或WPS打开检查后重新保存，仍有问题请将此文件发给系统管理员。",
                                   "file_read_failed"))
        return result
    result.issues.extend(sheet_issues)
    templates = []
    for grid in grids:
        try:
            sheet = parse_sheet(grid, file_name)
        except Exception as exc:  # noqa: BLE001 - one sheet's failure is a finding; the other sheets still load
            result.issues.append(Issue(file_name, grid.name, "", "error",
                                       f"读取工作表时出错，该表未导入：{_describe(exc)}。请检查此表的格式，仍有问题请将此文件发给系统管理员。",
                                       "sheet_parse_failed"))
            templates.append("failed")
            continue
        templates.append(sheet.template)
        for sub in sheet.submissions:
            sub.file_sha256 = result.sha256
        result.submissions.extend(sheet.submissions)
        result.issues.extend(sheet.issues)
    result.sheets_read = len(grids)
    if result.submissions:
        # Beside real forms, an unrecognised sheet is an instructions or scratch sheet.
        result.issues = [_soften_unknown_sheet(issue) for issue in result.issues]
    else:
        if any(issue.code == "sheet_unreadable" for issue in sheet_issues):
            reason = "工作表已损坏，无法读取，请用Excel或WPS打开检查后重新导出"
        elif "failed" in templates:
            reason = "读取工作表时出错，详见各工作表的问题说明"
        elif any(issue.code == "sheet_too_large" for issue in sheet_issues):
            reason = "工作表过大，未读取（详见该工作表的问题说明）"
        elif not grids or all(t == "empty" for t in templates):
            reason = "工作簿中没有任何内容（空白工作簿）"
        else:
            reason = "没有找到可导入的台账、调度表或公示牌数据"
        result.issues.insert(0, Issue(file_name, "", "", "error", f"文件未导入：{reason}。请检查是否报错了文件。", "no_data"))
    return result


def _describe(exc: Exception) -> str:
    """The exception's type and (shortened) text, for the finding a programmer will read."""
    text = str(exc).strip().replace("\n", " ")
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


def _soften_unknown_sheet(issue: Issue) -> Issue:
    if issue.code != "unknown_template":
        return issue
    instructions = any(word in issue.sheet for word in ("说明", "填表", "注意", "目录"))
    message = (f"工作表“{issue.sheet}”是说明性内容，未导入。" if instructions
               else f"工作表“{issue.sheet}”不是台账、调度表或公示牌，未导入；本文件其他工作表已导入。如此表有数据，请按方案附件格式填写。")
    return replace(issue, severity="info" if instructions else "warning", message=message)


def find_workbooks(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[Issue]]:
    """Workbook files under the given files and folders, in a stable order; missing paths are issues.

    Inside a folder: workbooks and misplaced office files (reported when loaded), not hidden
    files, Office lock files (~$x.xlsx) or data files such as the generator's manifest.json.
    """
    files: list[Path] = []
    issues: list[Issue] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not child.name.startswith((".", "~$")) and child.suffix.lower() in (*WORKBOOK_SUFFIXES, *MISPLACED_SUFFIXES):
                    files.append(child)
        elif path.is_file():
            files.append(path)
        else:
            issues.append(Issue(str(path), "", "", "error", f"路径不存在：{path}", "missing_path"))
    return files, issues


def _load_file(path: Path, display_name: str) -> WorkbookResult:
    return load_workbook(path.read_bytes(), display_name)


def _load_file_packed(path: Path, display_name: str) -> WorkbookResult:
    """``_load_file`` in a worker process: the records packed for the way back (``RecordRows.pack``:
    a fraction of the bytes to send and of the memory to hold, and no text converted again)."""
    result = _load_file(path, display_name)
    for sub in result.submissions:
        if (rows := sub.record_rows) is not None:
            rows.pack()
    return result


def load_paths(
    paths: Iterable[str | os.PathLike],
    as_of: dt.date | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    workers: int = 1,
) -> Campaign:
    """Load every workbook under ``paths`` and build the campaign dataset.

    ``workers`` > 1 reads files in that many processes (reading is CPU-bound and each
    file independent); results keep the files' order either way.
    """
    paths = list(paths)
    files, path_issues = find_workbooks(paths)
    names = [_display_name(path, paths) for path in files]
    if progress:
        progress(0, len(files), names[0] if names else "")
    if workers > 1 and len(files) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = []
            for index, result in enumerate(pool.map(_load_file_packed, files, names, chunksize=8)):
                results.append(result)
                if progress:
                    progress(index + 1, len(files), result.file)
    else:
        results = []
        for index, (path, name) in enumerate(zip(files, names)):
            results.append(_load_file(path, name))
            if progress:
                progress(index + 1, len(files), name)
    campaign = build_campaign(results, as_of)
    campaign.issues[:0] = path_issues
    return campaign


def _display_name(path: Path, roots: Iterable[str | os.PathLike]) -> str:
    """The file's path relative to the folder it was found in, as officers named it."""
    for root in roots:
        root = Path(root)
        if root.is_dir():
            try:
                return str(path.relative_to(root))
            except ValueError:
                continue
    return path.name
