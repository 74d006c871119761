"""Opening a workbook safely and reading its sheets into grids.

A workbook is checked before any parser touches it: its type is sniffed from
its bytes (never its name), an .xlsx archive is inflated member by member with
a hard cap on the real inflated size (a zip bomb is refused after reading at
most the cap, within seconds and without large memory), and every XML part is
refused if its prolog declares a DOCTYPE or entities (entity expansion, external
entities). Only then does python-calamine read it.

Reading is bounded too: a sheet's grid spans A1 to its last cell with data, the cells of
all sheets together are capped, and merged ranges are clipped to the data and capped in
number and in cells filled, per sheet and per workbook. A few kilobytes of merged ranges
such as ``A1:XFD6`` could otherwise make the reader allocate gigabytes.
"""

from __future__ import annotations

import io
import re
import struct
import sys
from array import array
from itertools import repeat
import zipfile
import zlib
from dataclasses import dataclass

import python_calamine as calamine

from .model import Issue, SheetGrid

# Limits for one workbook. Real monthly forms are a few hundred KB inflated; the
# province-scale ledgers of the benchmarks stay under 40 MB.
MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_MEMBER_INFLATED = 256 * 1024 * 1024
MAX_TOTAL_INFLATED = 512 * 1024 * 1024
MAX_MEMBERS = 5000
MAX_SHEET_CELLS = 5_000_000
# Cells read across all sheets of one workbook (each grid from A1 to its last cell with data).
# The largest province-scale ledger has 14,000 (1,556 rows x 9 columns); a grid costs the reader
# roughly 50 bytes a cell, so one workbook stays within a few hundred MB (5M cells: ~2.5 s, ~250 MB).
MAX_WORKBOOK_CELLS = 5_000_000
# Merged ranges per workbook: real forms have at most a few dozen (57 in the province set);
# each range costs memory even when it covers no data. Counted in the sheet XML before calamine
# reads it, and again in what calamine returns (.xls).
MAX_MERGED_RANGES = 100_000
# Cells filled from merged ranges after clipping them to the sheet's data; each filled cell also
# records its origin (~150 bytes). Real forms fill at most ~1,600 (a unit merged down its rows).
MAX_SHEET_MERGED_CELLS = 500_000
MAX_WORKBOOK_MERGED_CELLS = 1_000_000
# A single range larger than this (before clipping) is a whole-column or whole-row merge,
# which carries no data worth repeating: it is not filled at all.
_HUGE_MERGE = 100_000
_CHUNK = 1024 * 1024

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


class WorkbookRefused(Exception):
    """The file cannot be read as a workbook; the message says why and what to do, in Chinese."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class OpenedWorkbook:
    workbook: calamine.CalamineWorkbook
    format: str  # "xlsx" | "xls"


_DECLARATION_MARKERS = (b"<!doctype", b"<!entity")
_MARKER_OVERLAP = max(len(m) for m in _DECLARATION_MARKERS) - 1


def _refuse_declarations(member: str) -> WorkbookRefused:
    return WorkbookRefused(
        f"文件内部的XML部件“{member}”含有DOCTYPE/实体声明，可能是恶意构造的文件，已拒绝读取。请用Excel或WPS重新另存为.xlsx后再报送。",
        "xml_entities",
    )


def _has_declaration(window: bytes) -> bool:
    lowered = window.lower()
    return any(marker in lowered for marker in _DECLARATION_MARKERS)


_MERGE_MARKER = b"mergecell"

# calamine makes a sheet's grid dense (32 bytes a cell) from its first to its last cell before any
# limit here is checked: a value at A1 and one at XFD1048576 asked for 17 billion cells (550 GB) and
# the process was aborted. A workbook with a sheet whose cells span more than this is refused before
# it is read; up to it, read_grids reports a sheet over MAX_SHEET_CELLS and reads the others.
MAX_SHEET_SPAN = 2 * MAX_SHEET_CELLS
# Cell and row tags with their reference. Writers put r first in an unprefixed tag (the fast
# patterns); a window with a cell or row tag of any other form is read with the general patterns.
_CELL_REFS = re.compile(rb'<c r="([A-Z]+)([0-9]+)"')
_ROW_NUMBERS = re.compile(rb'<row r="([0-9]+)"')
_ANY_CELL_REF = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br="([A-Za-z]+)([0-9]+)"')
_ANY_ROW_REF = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?row\s[^>]*?\br="([0-9]+)"')
_ODD_TAGS = (b":c", b":row", b"<c\t", b"<c\n", b"<c\r", b"<c>", b"<c/", b"<row\t", b"<row\n", b"<row\r")
# The bytes after "<c" / "<row" that make an odd tag, folded into one: a window with none of the
# folded tags has none of _ODD_TAGS but the prefixed ones (ten searches of a 1 MB part took ~28 ms).
_ODD_FOLD = bytes.maketrans(b"\t\n\r>/", b"\0\0\0\0\0")


def _has_odd_tag(window: bytes) -> bool:
    """Whether any of _ODD_TAGS occurs in ``window``."""
    if b":c" in window or b":row" in window:
        return True
    folded = window.translate(_ODD_FOLD)
    if b"<c\0" not in folded and b"<row\0" not in folded:
        return False
    return any(tag in window for tag in _ODD_TAGS)  # "<row>", "<row/" or a NUL folded alike: look again
# A cell without a reference takes the column after the previous cell of its row.
_ROW_OR_CELL = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?(row|c)[\s>/]')
_PLAIN_ROW_OR_CELL = re.compile(rb'<(row|c)[\s>/]')
_OPEN_TAG_LIMIT = 65536  # a tag still open this far before a chunk's end is not carried over


class _Span:
    """The rows and columns a worksheet part's cells reach (1-based), read as it is inflated."""

    def __init__(self) -> None:
        self.rows: list[int] = []  # the first and the last
        self.columns: set[bytes] = set()
        self.unreferenced = 0  # the most cells without a reference in one row
        self.unreferenced_rows = 0  # rows without a reference (each takes the row after the previous)

    def add(self, window: bytes) -> None:
        # The fast patterns when every "<c " is a cell they read, every "<row " a row, and no tag is odd.
        cells = _CELL_REFS.findall(window)
        letters, rows = {cell[0] for cell in cells}, {cell[1] for cell in cells}
        numbers = _ROW_NUMBERS.findall(window)
        if len(cells) != window.count(b"<c ") or len(numbers) != window.count(b"<row ") or _has_odd_tag(window):
            # The general patterns are slow (every "<" is tried): skipped where they cannot match.
            has_refs = b'r="' in window
            cells = _ANY_CELL_REF.findall(window) if has_refs else []
            letters = [letters for letters, _ in cells]
            rows = [row for _, row in cells]
            numbers = _ANY_ROW_REF.findall(window) if has_refs else []
            prefixed = b":c" in window or b":row" in window
            tokens = (_ROW_OR_CELL if prefixed else _PLAIN_ROW_OR_CELL).findall(window)  # b"row", b"c" in order
            if tokens.count(b"c") > len(cells):
                # The most cells in one row (a bound on its unreferenced ones), counted in C: per row
                # in Python, a 256 MB part of unreferenced rows (a lying zip bomb) took 25 s.
                per_row = b" ".join(tokens).split(b"row")
                self.unreferenced = max(self.unreferenced, max(map(bytes.count, per_row, repeat(b"c"))))
            self.unreferenced_rows += tokens.count(b"row") - len(numbers)
        self.columns.update(letters)
        if found := [int(row) for row in {*rows, *numbers}]:
            self.rows = [min(self.rows + [min(found)]), max(self.rows + [max(found)])]

    def extent(self) -> tuple[int, int]:
        """(rows, columns) from the first to the last of each, at most; (0, 0) without cells."""
        if not (self.columns or self.unreferenced):
            return 0, 0
        rows = self.rows or [1]
        numbers = [_column_number(letters) for letters in self.columns] or [1]
        return (max(rows) + self.unreferenced_rows - min(rows) + 1,
                max(numbers) + self.unreferenced - min(numbers) + 1)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def _too_many_merges(count: int) -> WorkbookRefused:
    return WorkbookRefused(
        f"文件含有{count}个以上的合并单元格区域，超出上限{MAX_MERGED_RANGES}个（正常报表只有几十个，疑似恶意构造的文件），已拒绝读取。"
        "请检查文件来源，或取消多余的合并单元格后重新报送。",
        "too_many_merged_ranges",
    )


def _inflate_and_check(archive: zipfile.ZipFile) -> None:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise WorkbookRefused(f"文件包含{len(infos)}个内部部件，超出正常工作簿范围，已拒绝读取。", "too_many_members")
    declared = sum(info.file_size for info in infos)
    if declared > MAX_TOTAL_INFLATED or any(info.file_size > MAX_MEMBER_INFLATED for info in infos):
        raise WorkbookRefused(
            f"文件解压后约{declared // (1024 * 1024)}MB，超出上限{MAX_TOTAL_INFLATED // (1024 * 1024)}MB（疑似压缩炸弹），已拒绝读取。请检查文件来源。",
            "zip_bomb",
        )
    if any(info.flag_bits & 0x1 for info in infos):
        raise WorkbookRefused("文件设置了打开密码（内部部件已加密），无法读取。请取消密码后重新报送。", "encrypted")
    total = 0
    merges = 0  # <mergeCell> elements in all worksheets (also counts each <mergeCells> wrapper)
    for info in infos:
        if info.is_dir():
            continue
        is_xml = info.filename.endswith((".xml", ".rels", ".vml"))
        is_sheet = is_xml and info.filename.lower().startswith("xl/worksheets/")
        inflated = 0
        tail = b""
        span = _Span() if is_sheet else None
        ref_tail = b""
        # Stream with our own cap: the sizes declared in the zip directory can lie. zipfile
        # stops reading at the declared size, so the entry declares "unbounded" while the stream
        # is opened (and its own size again after; a copy of each entry cost ~10% of this check):
        # the member is inflated to its real end (CRC checked over all of it) and the real
        # size is compared with the declared one, which the spreadsheet reader relies on.
        declared_size = info.file_size
        info.file_size = MAX_TOTAL_INFLATED + _CHUNK
        try:
            stream = archive.open(info)
        finally:
            info.file_size = declared_size
        with stream:
            while chunk := stream.read(_CHUNK):
                inflated += len(chunk)
                total += len(chunk)
                if inflated > MAX_MEMBER_INFLATED or total > MAX_TOTAL_INFLATED:
                    raise WorkbookRefused(
                        f"文件内部部件“{info.filename}”解压后超过{MAX_MEMBER_INFLATED // (1024 * 1024)}MB（疑似压缩炸弹），已拒绝读取。请检查文件来源。",
                        "zip_bomb",
                    )
                # A DOCTYPE may follow any amount of comments in the prolog: scan the whole part.
                if is_xml:
                    window = tail + chunk
                    if b"<!" in window and _has_declaration(window):  # both markers start with "<!"
                        raise _refuse_declarations(info.filename)
                    if is_sheet:
                        # The tail is shorter than the marker: no occurrence is counted twice.
                        merges += window.lower().count(_MERGE_MARKER)
                        if merges > MAX_MERGED_RANGES + 2 * MAX_MEMBERS:
                            raise _too_many_merges(MAX_MERGED_RANGES)
                        # Whole tags only: the one the chunk's end cuts is read with the next chunk.
                        refs = ref_tail + chunk
                        cut = refs.rfind(b"<")
                        cut = cut if 0 <= cut and len(refs) - cut <= _OPEN_TAG_LIMIT else len(refs)
                        span.add(refs[:cut])
                        ref_tail = refs[cut:]
                    tail = chunk[-_MARKER_OVERLAP:]
        if span is not None:
            span.add(ref_tail)
        if span is not None and (extent := span.extent())[0] * extent[1] > MAX_SHEET_SPAN:
            raise WorkbookRefused(
                f"文件内部的工作表“{info.filename}”的单元格分布在{extent[0]}行×{extent[1]}列的范围内，"
                f"超出上限{MAX_SHEET_SPAN // 10_000}万个单元格（正常报表只有几千个；可能在很远的单元格里误填了内容，"
                "或是恶意构造的文件），已拒绝读取。请删除多余的行、列后重新报送。",
                "sheet_too_large",
            )
        if inflated != info.file_size:
            raise WorkbookRefused(
                f"文件内部部件“{info.filename}”声明的大小（{info.file_size}字节）与实际解压大小（{inflated}字节）不符，"
                "文件已损坏或被篡改，已拒绝读取。请用Excel或WPS重新另存为.xlsx后报送。",
                "size_mismatch",
            )


# The OLE2 (compound file) container of a legacy .xls. calamine follows its sector chains and
# sizes as declared: a sector number past the end of the file makes it zero-fill memory up to
# that offset (terabytes), a chain that loops makes it read forever, and a declared size is
# allocated before it is read. One flipped byte of a real .xls took 24 GB and was killed.
_OLE2_ENDOFCHAIN = 0xFFFFFFFE
_OLE2_RESERVED = 0xFFFFFFFA  # ids from here up are markers, not sectors
_OLE2_DIFSECT = 0xFFFFFFFC
_OLE2_MAX_ENTRIES = 4096  # directory entries; a real .xls has about ten


def _ole2_damaged(what: str) -> WorkbookRefused:
    return WorkbookRefused(
        f"旧版.xls文件的内部结构已损坏（{what}），无法读取。请用Excel或WPS打开后另存为.xlsx再报送。", "xls_damaged")


def _check_ole2(data: bytes) -> None:
    """Refuse an OLE2 container whose structure would make the reader allocate or loop without
    bound: every sector chain it follows (DIFAT, FAT, directory, mini stream, mini FAT, the
    streams) must stay inside the file, end, and not loop, and every declared size must fit
    in the file. Checked in time and memory linear in the file's size."""
    if len(data) < 512:
        raise _ole2_damaged("文件头不完整")
    shift, mini_shift = struct.unpack_from("<HH", data, 30)
    if shift not in (9, 12) or mini_shift != 6:
        raise _ole2_damaged("扇区大小无效")
    size = 1 << shift
    sectors = -(-(len(data) - size) // size)  # sector i starts at (i + 1) * size
    if sectors <= 0:
        raise _ole2_damaged("没有数据扇区")
    dir_len, fat_len, dir_start = struct.unpack_from("<III", data, 40)
    mini_fat_start, mini_fat_len, difat_start = struct.unpack_from("<III", data, 60)
    # The reader reserves room for this many DIFAT entries, read from bytes 62-65 of the header.
    reserved = struct.unpack_from("<I", data, 62)[0]
    if max(dir_len, fat_len, mini_fat_len) > sectors or reserved * 4 > MAX_MEMBER_INFLATED:
        raise _ole2_damaged("声明的扇区数超出文件大小")

    def sector(i: int) -> array:
        ids = array("I", data[(i + 1) * size:(i + 2) * size].ljust(size, b"\0"))
        if sys.byteorder == "big":
            ids.byteswap()
        return ids

    difat = array("I", struct.unpack_from("<109I", data, 76))
    seen: set[int] = set()
    i = difat_start
    while i < _OLE2_RESERVED:
        if i >= sectors or i in seen:
            raise _ole2_damaged("DIFAT链无效")
        seen.add(i)
        entries = sector(i)
        difat.extend(entries[:-1])
        i = entries[-1]
    fat_sectors = [i for i in difat if i < _OLE2_DIFSECT]
    if any(i >= sectors for i in fat_sectors) or len(set(fat_sectors)) != len(fat_sectors):
        raise _ole2_damaged("FAT扇区无效")
    fat = array("I")
    for i in fat_sectors:
        fat.extend(sector(i))
    steps = {"fat": 0, "mini": 0}

    def chain(start: int, table: array, count: int, kind: str, what: str) -> list[int]:
        """The sector ids of a chain; every id within ``count`` and ``table``, no loop, and all
        chains together no longer than the sectors there are (streams share no sector)."""
        ids: list[int] = []
        i = start
        while i != _OLE2_ENDOFCHAIN:
            steps[kind] += 1
            if i >= count or i >= len(table) or steps[kind] > count:
                raise _ole2_damaged(f"{what}的扇区链无效")
            ids.append(i)
            i = table[i]
        return ids

    directory = b"".join(data[(i + 1) * size:(i + 2) * size] for i in chain(dir_start, fat, sectors, "fat", "目录"))
    entries = [directory[n:n + 128] for n in range(0, len(directory) - 127, 128)]
    if not entries:
        raise _ole2_damaged("目录为空")
    if len(entries) > _OLE2_MAX_ENTRIES:
        raise _ole2_damaged("目录项过多")

    def entry(raw: bytes) -> tuple[str, int, int, int]:
        name = raw[:64].decode("utf-16-le", "replace").split("\0", 1)[0]
        length = struct.unpack_from("<I" if size == 512 else "<Q", raw, 120)[0]
        return name, raw[66], struct.unpack_from("<I", raw, 116)[0], length

    parsed = [entry(raw) for raw in entries]
    if any(name and length > len(data) for name, _, _, length in parsed) or parsed[0][3] > len(data):
        raise _ole2_damaged("数据流声明的大小超出文件大小")
    mini_fat = array("I")
    mini_sectors = 0
    if mini_fat_len:
        _, _, root_start, root_length = parsed[0]
        mini_stream = chain(root_start, fat, sectors, "fat", "迷你数据流")
        mini_sectors = min(len(mini_stream) * size, root_length) // 64
        for i in chain(mini_fat_start, fat, sectors, "fat", "迷你FAT"):
            mini_fat.extend(sector(i))
        mini_fat = mini_fat[:mini_fat_len * size // 4]
    # The streams the reader opens by name (the first entry of that name) and every other stream.
    wanted = {}
    for name, kind, start, length in parsed[1:]:
        if name in ("Workbook", "Book") or (kind == 2 and length):
            wanted.setdefault(name, (start, length))
    for name, (start, length) in wanted.items():
        if length < 4096:
            chain(start, mini_fat, mini_sectors, "mini", f"数据流“{name}”")
        else:
            chain(start, fat, sectors, "fat", f"数据流“{name}”")


def open_workbook(data: bytes, filename: str) -> OpenedWorkbook:
    """Check and open a workbook from its bytes; raises WorkbookRefused with a Chinese message."""
    if not data:
        raise WorkbookRefused("文件为空（0字节），请重新导出后报送。", "empty_file")
    if len(data) > MAX_FILE_BYTES:
        raise WorkbookRefused(f"文件大小{len(data) // (1024 * 1024)}MB，超出上限{MAX_FILE_BYTES // (1024 * 1024)}MB。", "file_too_large")
    if data.startswith(ZIP_MAGIC):
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            names = set(archive.namelist())
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError):
            raise WorkbookRefused("文件已损坏或不完整（可能没有传完），无法打开。请重新导出后报送。", "corrupt") from None
        if "xl/workbook.xml" not in names:
            hint = "这是Word文档" if "word/document.xml" in names else ("这是PPT文件" if "ppt/presentation.xml" in names else "这是一个压缩包")
            raise WorkbookRefused(f"不是Excel工作簿（{hint}）。请报送.xlsx格式的台账或调度表。", "not_a_workbook")
        try:
            _inflate_and_check(archive)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError):
            raise WorkbookRefused("文件已损坏或不完整（可能没有传完），无法打开。请重新导出后报送。", "corrupt") from None
        file_format = "xlsx"
    elif data.startswith(OLE2_MAGIC):
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data[:65536 * 4]:
            raise WorkbookRefused("文件设置了打开密码，无法读取。请取消密码后重新报送。", "encrypted")
        _check_ole2(data)
        file_format = "xls"
    else:
        head = data[:512].lstrip()
        kind = "网页文件" if head[:1] == b"<" else ("文本文件" if _looks_like_text(data[:4096]) else "未知格式文件")
        raise WorkbookRefused(f"不是Excel工作簿（看起来是{kind}，可能被改了扩展名）。请用Excel或WPS另存为.xlsx后报送。", "not_a_workbook")
    try:
        workbook = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except calamine.PasswordError:
        raise WorkbookRefused("文件设置了打开密码，无法读取。请取消密码后重新报送。", "encrypted") from None
    except Exception as exc:  # calamine raises several error types for damaged files
        if file_format == "xls":
            raise WorkbookRefused(f"旧版.xls文件无法读取（{exc}）。请用Excel或WPS另存为.xlsx后报送。", "xls_unreadable") from None
        raise WorkbookRefused(f"文件已损坏，无法打开（{exc}）。请重新导出后报送。", "corrupt") from None
    return OpenedWorkbook(workbook, file_format)


def _looks_like_text(sample: bytes) -> bool:
    for encoding in ("utf-8", "gb18030"):
        try:
            sample.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def read_grids(opened: OpenedWorkbook, filename: str) -> tuple[list[SheetGrid], list[Issue]]:
    """Every worksheet as a grid with merged cells filled; unreadable sheets become issues.

    Raises WorkbookRefused when the workbook as a whole is beyond the reading limits.
    """
    grids: list[SheetGrid] = []
    issues: list[Issue] = []
    budget = _Budget()
    for meta in opened.workbook.sheets_metadata:
        name = meta.name
        if meta.typ != calamine.SheetTypeEnum.WorkSheet:
            continue  # chart sheets and macro sheets hold no data
        try:
            sheet = opened.workbook.get_sheet_by_name(name)
            # The grid runs from A1 to the last cell with data: calamine's height and width
            # measure from the first cell with data, which may be far from A1.
            end = sheet.end
            height, width = (end[0] + 1, end[1] + 1) if end else (0, 0)
        except Exception as exc:
            issues.append(Issue(filename, name, "", "error", f"工作表无法读取（{exc}）。", "sheet_unreadable"))
            continue
        if height * max(width, 1) > MAX_SHEET_CELLS:
            issues.append(Issue(filename, name, "", "error", f"工作表过大（{height}行×{width}列），超出上限，未读取。请删除多余的空行空列后重新报送。", "sheet_too_large"))
            continue
        budget.add_cells(name, height * width)
        try:
            rows = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
        except Exception as exc:
            issues.append(Issue(filename, name, "", "error", f"工作表无法读取（{exc}）。", "sheet_unreadable"))
            continue
        grids.append(_fill_merged(filename, name, rows, merged, budget))
    return grids, issues


class _Budget:
    """What one workbook has cost so far; refuses the workbook when a limit is passed."""

    def __init__(self) -> None:
        self.cells = 0
        self.merged_ranges = 0
        self.merged_cells = 0

    def add_cells(self, sheet: str, cells: int) -> None:
        self.cells += cells
        if self.cells > MAX_WORKBOOK_CELLS:
            raise WorkbookRefused(
                f"工作簿的单元格总数超过{MAX_WORKBOOK_CELLS // 10_000}万个（读到工作表“{sheet}”时），远超正常台账和调度表，已拒绝读取。"
                "请删除多余的行、列或工作表（或拆分成几个文件）后重新报送。",
                "workbook_too_large",
            )

    def add_merges(self, sheet: str, ranges: int, cells: int) -> None:
        self.merged_ranges += ranges
        self.merged_cells += cells
        if self.merged_ranges > MAX_MERGED_RANGES:
            raise _too_many_merges(self.merged_ranges)
        if cells > MAX_SHEET_MERGED_CELLS or self.merged_cells > MAX_WORKBOOK_MERGED_CELLS:
            where = f"工作表“{sheet}”" if cells > MAX_SHEET_MERGED_CELLS else "工作簿"
            limit = MAX_SHEET_MERGED_CELLS if cells > MAX_SHEET_MERGED_CELLS else MAX_WORKBOOK_MERGED_CELLS
            raise WorkbookRefused(
                f"{where}的合并单元格共覆盖超过{limit // 10_000}万个单元格，超出上限（疑似恶意构造的文件），已拒绝读取。"
                "请检查文件来源，或取消多余的合并单元格后重新报送。",
                "too_many_merged_cells",
            )


def _fill_merged(filename: str, name: str, rows: list[list[object]], merged, budget: _Budget | None = None) -> SheetGrid:
    """The grid with each merged range's top-left value copied into the range's other cells.

    Ranges are clipped to the data (A1 to the last cell with data): beyond it a merged cell
    would only repeat the top-left value into rows and columns that hold nothing else, and a
    range like ``A1:XFD6`` must not allocate 16,384 columns. The cells to fill are counted,
    and the workbook refused past the limits, before any is filled.
    """
    rows = [[None if v == "" else v for v in row] for row in rows]
    height = len(rows)
    width = max((len(row) for row in rows), default=0)
    clipped: list[tuple[int, int, int, int]] = []
    cells = 0
    for (r0, c0), (r1, c1) in merged:
        if r1 < r0 or c1 < c0:
            continue
        if (r1 - r0 + 1) * (c1 - c0 + 1) > _HUGE_MERGE:
            continue  # a whole-column merge carries no data worth repeating
        if r0 >= height or c0 >= width:
            continue  # the top-left cell, and so the whole range, lies beyond the data
        r1, c1 = min(r1, height - 1), min(c1, width - 1)
        clipped.append((r0, c0, r1, c1))
        cells += (r1 - r0 + 1) * (c1 - c0 + 1)
    if budget is not None:
        budget.add_merges(name, len(merged), cells)
    origin: dict[tuple[int, int], tuple[int, int]] = {}
    for r0, c0, r1, c1 in clipped:
        top_left = rows[r0][c0] if c0 < len(rows[r0]) else None
        source = (r0, c0)
        for r in range(r0, r1 + 1):
            row = rows[r]
            if len(row) <= c1:
                row.extend([None] * (c1 + 1 - len(row)))
            for c in range(c0, c1 + 1):
                row[c] = top_left
                origin[(r, c)] = source
    return SheetGrid(filename, name, rows, origin)
