"""Bad files dropped into the monthly folder: each is refused with a message an officer can act on,
and none of them stops the good workbooks next to it from loading.

Every bad file is written for real into ``tmp_path`` and loaded through ``loaders.load_paths``
together with one good county dispatch form (附件3).
"""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
import xlwt

from loaders import load_paths
from loaders.reference import INDICATOR_BY_KEY

GOOD_NAME = "章贡区调度表.xlsx"
# What the good form reports, as the campaign must show it: 章贡区, period 2023-08.
GOOD_VALUES = {
    "enterprises": 120, "sampled_enterprises": 30, "self_found": 12, "self_rectified": 8, "penalties": 3, "fines_wan": 35.6,
}


def dispatch_form_rows() -> list[list[object]]:
    """附件3 for 章贡区, filed 2023-09-20 (covering August): title, unit line, label/value pairs.
    dept_found is "—" (not reported), so it must be absent, not 0."""
    label = {key: INDICATOR_BY_KEY[key].label for key in (*GOOD_VALUES, "dept_found")}
    return [
        ["赣州市章贡区重大事故隐患专项排查整治进展情况调度表"],
        ["填报单位：章贡区", None, None, "时间：2023 年 9 月 20 日"],
        ["排查整治", label["enterprises"], 120, label["sampled_enterprises"], "30家"],
        ["排查整治", label["self_found"], "１２", label["self_rectified"], " 8 "],
        ["执法检查", "行政处罚（次，万元）", "3次 35.6万元", label["dept_found"], "—"],
    ]


def good_form_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "调度表"
    for row in dispatch_form_rows():
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def table_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def replace_member(data: bytes, member: str, content: bytes) -> bytes:
    """The same .xlsx with one internal part replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, content if info.filename == member else src.read(info.filename))
    return out.getvalue()


def inject_doctype(data: bytes, member: str, doctype: bytes, entity_use: bytes = b"") -> bytes:
    """Put a DOCTYPE before the root element of ``member`` (and an entity reference in a cell)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read(member)
    xml = re.sub(rb"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or b"") + doctype, xml, count=1)
    if entity_use:
        xml = xml.replace(b"<v>120</v>", b"<v>" + entity_use + b"</v>", 1)
    return replace_member(data, member, xml)


def load_with_good(tmp_path: Path, bad_name: str, bad: bytes):
    folder = tmp_path / "2023-09"
    folder.mkdir()
    (folder / GOOD_NAME).write_bytes(good_form_bytes())
    (folder / bad_name).write_bytes(bad)
    return load_paths([folder])


def assert_good_loaded(campaign) -> None:
    files = campaign.files.set_index("file")["accepted"]
    assert files[GOOD_NAME], "the good workbook was not accepted"
    found = campaign.indicators[campaign.indicators["unit"] == "章贡区"]
    assert set(found["period"]) == {"2023-08"}
    assert dict(zip(found["key"], found["cumulative"])) == GOOD_VALUES


def rejection_message(campaign, bad_name: str) -> str:
    """The bad file is counted as rejected and carries one Chinese error naming it."""
    files = campaign.files.set_index("file")["accepted"]
    assert not files[bad_name], f"{bad_name} was accepted"
    errors = [issue for issue in campaign.issues if issue.file == bad_name and issue.severity == "error"]
    assert errors, f"no error issue names {bad_name}"
    message = errors[0].message
    assert message.startswith("文件未导入")
    assert re.search(r"[\u4e00-\u9fff]{4}", message)
    summary = campaign.summary()
    assert summary["files"] == {"accepted": 1, "rejected": 1}
    assert any(i["file"] == bad_name and i["severity"] == "error" for i in summary["issues"])
    return message


def check_bad_file(tmp_path: Path, bad_name: str, bad: bytes, *expected: str) -> str:
    campaign = load_with_good(tmp_path, bad_name, bad)
    message = rejection_message(campaign, bad_name)
    for words in expected:
        assert words in message, f"“{words}” not in “{message}”"
    assert_good_loaded(campaign)
    return message


def test_good_form_alone_loads(tmp_path):
    (tmp_path / GOOD_NAME).write_bytes(good_form_bytes())
    campaign = load_paths([tmp_path])
    assert campaign.summary()["files"] == {"accepted": 1, "rejected": 0}
    assert not [i for i in campaign.issues if i.severity == "error"]
    assert_good_loaded(campaign)


def test_csv_renamed_to_xlsx(tmp_path):
    csv = "单位,企业自查发现的重大事故隐患（个）\n章贡区,12\n".encode("gb18030")
    check_bad_file(tmp_path, "章贡区台账.xlsx", csv, "不是Excel工作簿", "文本文件", "另存为.xlsx")


def test_truncated_xlsx(tmp_path):
    whole = good_form_bytes()
    check_bad_file(tmp_path, "南康区调度表.xlsx", whole[: len(whole) // 2], "损坏或不完整", "重新导出")


def test_word_document_renamed_to_xlsx(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as docx:
        docx.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        docx.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>')
    check_bad_file(tmp_path, "赣县区工作总结.xlsx", out.getvalue(), "不是Excel工作簿", "Word", "请报送.xlsx")


def test_unrelated_staff_list(tmp_path):
    staff = table_bytes([["姓名", "性别", "电话"], ["张三", "男", "13800000000"], ["李四", "女", "13900000000"]])
    check_bad_file(tmp_path, "信丰县人员名单.xlsx", staff, "没有找到可导入", "请检查")


def test_empty_workbook(tmp_path):
    check_bad_file(tmp_path, "大余县调度表.xlsx", table_bytes([]), "空白工作簿", "请检查")


def test_zero_byte_file(tmp_path):
    check_bad_file(tmp_path, "上犹县调度表.xlsx", b"", "0字节", "重新导出")


BILLION_LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
    + b"]>"
)
XXE = b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize(
    ("member", "doctype", "entity_use"),
    [
        ("xl/workbook.xml", BILLION_LAUGHS, b""),
        ("xl/worksheets/sheet1.xml", BILLION_LAUGHS, b"&lol9;"),
        ("xl/worksheets/sheet1.xml", XXE, b"&x;"),
        ("xl/workbook.xml", XXE, b""),
        # A DOCTYPE after 70 KB of comment in the prolog is still a DOCTYPE (was read past).
        ("xl/worksheets/sheet1.xml", b"<!--" + b"x" * 70_000 + b"-->" + XXE, b"&x;"),
    ],
    ids=["laughs-workbook", "laughs-sheet", "xxe-sheet", "xxe-workbook", "xxe-after-long-comment"],
)
def test_xml_entity_declarations_are_refused(tmp_path, member, doctype, entity_use):
    bad = inject_doctype(good_form_bytes(), member, doctype, entity_use)
    message = check_bad_file(tmp_path, "崇义县调度表.xlsx", bad, "DOCTYPE", member, "另存为")
    assert "root:" not in message  # nothing of /etc/passwd leaks into the message


def test_password_protected_ole_file(tmp_path):
    # Excel saves a password-protected .xlsx as an OLE2 compound file holding an "EncryptedPackage"
    # stream. A minimal look-alike: the OLE2 signature, a header sector, one directory entry name.
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    entry = "EncryptedPackage".encode("utf-16-le").ljust(64, b"\0") + struct.pack("<H", 34) + bytes(62)
    check_bad_file(tmp_path, "安远县调度表.xlsx", header + entry + bytes(1024), "密码", "取消密码后重新报送")


def set_encrypted_flag(data: bytes) -> bytes:
    """The same zip with every member flagged as (traditionally) encrypted, as WinRAR/7-Zip write it."""
    buf = bytearray(data)
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := buf.find(signature, start)) >= 0:
            buf[at + flag_at] |= 0x01
            start = at + 4
    return bytes(buf)


def test_zip_encrypted_members(tmp_path):
    # zipfile raised RuntimeError("password required") out of load_workbook for such a file.
    check_bad_file(tmp_path, "定南县调度表.xlsx", set_encrypted_flag(good_form_bytes()), "密码", "重新报送")


def test_legacy_xls_dispatch_form_loads(tmp_path):
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("调度表")
    for r, row in enumerate(dispatch_form_rows()):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    folder = tmp_path / "2023-09"
    folder.mkdir()
    book.save(str(folder / "章贡区调度表.xls"))
    campaign = load_paths([folder])
    files = campaign.files.set_index("file")["accepted"]
    assert files["章贡区调度表.xls"]
    assert not [i for i in campaign.issues if i.severity == "error"]
    found = campaign.indicators[campaign.indicators["unit"] == "章贡区"]
    assert set(found["period"]) == {"2023-08"}
    assert dict(zip(found["key"], found["cumulative"])) == GOOD_VALUES


def test_damaged_sheet_is_not_called_blank(tmp_path):
    good = good_form_bytes()
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    bad = replace_member(good, "xl/worksheets/sheet1.xml", sheet[: len(sheet) // 2])
    message = check_bad_file(tmp_path, "全南县调度表.xlsx", bad)
    assert "空白" not in message


# --- zip bombs ----------------------------------------------------------------------

BOMB_MEMBER = "xl/worksheets/sheet1.xml"
BOMB_HEAD = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
BOMB_CHUNK = b'<row><c t="inlineStr"><is><t>A</t></is></c></row>' * 80_000  # 4 MB
BOMB_CHUNKS = 2 * 1024**3 // len(BOMB_CHUNK) + 1  # a little over 2 GiB inflated
LIED_SIZE = 4096


def write_bomb(path: Path) -> None:
    """A real .xlsx whose sheet XML inflates to over 2 GiB, streamed so the test stays small."""
    with zipfile.ZipFile(io.BytesIO(good_form_bytes())) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            if info.filename != BOMB_MEMBER:
                dst.writestr(info.filename, src.read(info.filename))
                continue
            with dst.open(BOMB_MEMBER, "w", force_zip64=True) as stream:
                stream.write(BOMB_HEAD)
                for _ in range(BOMB_CHUNKS):
                    stream.write(BOMB_CHUNK)


def lie_about_size(data: bytes, member: str, size: int) -> bytes:
    """Patch the central directory to declare ``size`` inflated bytes for ``member``, with the CRC of
    the first ``size`` real bytes, so zipfile's own bounded read of the member checks out."""
    buf = bytearray(data)
    name = member.encode()
    at = buf.find(b"PK\x01\x02")
    while at >= 0:
        name_len, extra_len = struct.unpack_from("<HH", buf, at + 28)
        if bytes(buf[at + 46 : at + 46 + name_len]) == name:
            break
        at = buf.find(b"PK\x01\x02", at + 4)
    assert at >= 0, "member not in the central directory"
    struct.pack_into("<L", buf, at + 16, zlib.crc32((BOMB_HEAD + BOMB_CHUNK)[:size]))
    assert struct.unpack_from("<L", buf, at + 24)[0] == 0xFFFFFFFF  # zip64: the size is in the extra field
    extra = at + 46 + name_len
    end = extra + extra_len
    while extra < end:
        tag, length = struct.unpack_from("<HH", buf, extra)
        if tag == 0x0001:
            struct.pack_into("<Q", buf, extra + 4, size)
            return bytes(buf)
        extra += 4 + length
    raise AssertionError("no zip64 extra field")


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    honest = folder / "honest.xlsx"
    write_bomb(honest)
    liar = folder / "liar.xlsx"
    liar.write_bytes(lie_about_size(honest.read_bytes(), BOMB_MEMBER, LIED_SIZE))
    return {"honest": honest, "liar": liar}


def test_bomb_fixture_is_a_real_bomb(bombs):
    for kind, path in bombs.items():
        assert path.stat().st_size < 16 * 1024**2
        with zipfile.ZipFile(path) as archive:
            declared = archive.getinfo(BOMB_MEMBER).file_size
            with archive.open(BOMB_MEMBER) as stream:
                head = stream.read(len(BOMB_HEAD))
        assert head == BOMB_HEAD
        assert declared == (LIED_SIZE if kind == "liar" else len(BOMB_HEAD) + BOMB_CHUNKS * len(BOMB_CHUNK))
    assert bombs["honest"].stat().st_size * 100 < 2 * 1024**3


LOAD_IN_SUBPROCESS = textwrap.dedent(
    """
    import json, sys, time
    from loaders import load_paths
    start, cpu_start = time.monotonic(), time.process_time()
    campaign = load_paths([sys.argv[1]])
    elapsed, cpu = time.monotonic() - start, time.process_time() - cpu_start
    print(json.dumps({
        "elapsed": elapsed,
        "cpu": cpu,
        # VmHWM, not ru_maxrss: ru_maxrss survives exec and reports the (large) pytest worker's peak.
        "peak_mb": next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) / 1024,
        "summary": campaign.summary(),
    }, ensure_ascii=False))
    """
)


@pytest.mark.slow  # a few seconds: builds a 2 GiB bomb once; part of the default suite
@pytest.mark.parametrize("kind", ["honest", "liar"])
def test_zip_bomb_is_refused_quickly_in_little_memory(tmp_path, bombs, kind):
    folder = tmp_path / "2023-09"
    folder.mkdir()
    (folder / GOOD_NAME).write_bytes(good_form_bytes())
    bad_name = "瑞金市调度表.xlsx"
    (folder / bad_name).write_bytes(bombs[kind].read_bytes())
    run = subprocess.run(
        [sys.executable, "-c", LOAD_IN_SUBPROCESS, str(folder)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    # Processor time, not wall time: on a loaded CI machine the wall clock of the same refusal reached
    # 10.8 s. Inflating the bomb would cost far more than this (and the memory bound below).
    assert report["cpu"] < 10, report
    # The bomb inflates to over 2 GiB; the interpreter with pandas and pyarrow alone is ~140 MB.
    assert report["peak_mb"] < 512, report["peak_mb"]
    summary = report["summary"]
    assert summary["files"] == {"accepted": 1, "rejected": 1}
    errors = [i["message"] for i in summary["issues"] if i["file"] == bad_name and i["severity"] == "error"]
    assert errors and "压缩炸弹" in errors[0] and "已拒绝读取" in errors[0]
    assert summary["indicators"]["章贡区"]["2023-08"] == GOOD_VALUES


def test_a_sheet_whose_parse_fails_is_a_finding_and_the_other_sheets_load(tmp_path, monkeypatch):
    import loaders
    from loaders import sheets

    real = sheets.parse_sheet

    def failing(grid, file_name):
        if grid.name == "坏表":
            raise KeyError("boom")
        return real(grid, file_name)

    monkeypatch.setattr(loaders, "parse_sheet", failing)
    workbook = openpyxl.load_workbook(io.BytesIO(good_form_bytes()))
    bad = workbook.create_sheet("坏表")
    bad.append(["随便什么内容"])
    out = io.BytesIO()
    workbook.save(out)
    campaign = load_with_good(tmp_path, "南康区调度表.xlsx", out.getvalue())
    assert_good_loaded(campaign)
    # The other file and the good sheet of the same file load; the failing sheet is an error naming it.
    files = campaign.files.set_index("file")["accepted"]
    assert files["南康区调度表.xlsx"]
    (failure,) = [i for i in campaign.issues if i.code == "sheet_parse_failed"]
    assert (failure.file, failure.sheet, failure.severity) == ("南康区调度表.xlsx", "坏表", "error")
    assert failure.message.startswith("读取工作表时出错，该表未导入") and "KeyError" in failure.message


def test_a_workbook_whose_only_sheet_fails_is_rejected_with_the_reason(tmp_path, monkeypatch):
    import loaders

    def failing(grid, file_name):
        raise ValueError("unexpected layout")

    monkeypatch.setattr(loaders, "parse_sheet", failing)
    result = loaders.load_workbook(good_form_bytes(), GOOD_NAME)
    assert not result.accepted
    assert [(i.code, i.severity) for i in result.issues] == [("no_data", "error"), ("sheet_parse_failed", "error")]
    assert "ValueError" in result.issues[1].message


def test_parser_version_was_bumped_for_the_new_readings():
    from loaders import PARSER_VERSION

    assert PARSER_VERSION >= 2


# --- merge bombs --------------------------------------------------------------------
# One data cell and many merged ranges A{r}:XFD{r+5}, each just under the size of a range that is
# skipped as a whole-row merge: 100 such ranges in a 7 KB file took 2 GB and 15 s to read.

def merge_bomb_bytes(ranges: int = 100) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "x"
    sheet.merge_cells("A1:B1")
    out = io.BytesIO()
    workbook.save(out)
    # Written into the XML: openpyxl's merge_cells makes one object per covered cell (minutes here).
    return with_merged_ranges(out.getvalue(), [f"A{1 + 6 * i}:XFD{6 + 6 * i}" for i in range(ranges)])


READ_ONE_MEASURED = textwrap.dedent(
    """
    import json, sys, time, tracemalloc
    from pathlib import Path
    from loaders import load_workbook

    def peak_rss_mb():
        # VmHWM, not ru_maxrss: ru_maxrss survives exec and may report the parent's peak.
        return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024

    path = Path(sys.argv[1])
    data = path.read_bytes()
    before = peak_rss_mb()
    tracemalloc.start()
    start = time.monotonic()
    result = load_workbook(data, path.name)
    elapsed = time.monotonic() - start
    traced = tracemalloc.get_traced_memory()[1] / 1024**2
    print(json.dumps({
        "elapsed": elapsed, "traced_mb": traced, "rss_growth_mb": peak_rss_mb() - before,
        "accepted": result.accepted, "issues": [[i.code, i.message] for i in result.issues],
    }, ensure_ascii=False))
    """
)


def read_measured(path: Path) -> dict:
    """Read one file in a fresh interpreter: time, traced Python memory and peak RSS growth."""
    run = subprocess.run([sys.executable, "-c", READ_ONE_MEASURED, str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def test_merge_bomb_fixture_is_small():
    bomb = merge_bomb_bytes()
    assert len(bomb) < 10_000
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.read("xl/worksheets/sheet1.xml").count(b"<mergeCell ") == 100


def test_merge_bomb_is_read_in_little_time_and_memory(tmp_path):
    path = tmp_path / "兴国县调度表.xlsx"
    path.write_bytes(merge_bomb_bytes())
    report = read_measured(path)
    # Before: 15 s and 1.9 GB of peak RSS on the development machine.
    assert report["elapsed"] < 1, report
    assert report["traced_mb"] < 100, report
    assert report["rss_growth_mb"] < 100, report
    assert not report["accepted"]


def test_merge_bomb_does_not_stop_the_good_form(tmp_path):
    message = check_bad_file(tmp_path, "兴国县调度表.xlsx", merge_bomb_bytes())
    assert "没有找到可导入" in message  # one cell "x": read, and found to hold no form


def test_legacy_xls_merge_bomb_is_read_in_little_time_and_memory(tmp_path):
    # The same bomb in BIFF8, whose rows end at column IV: A{r}:IV{r+5} ranges.
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("调度表")
    sheet.write(0, 0, "x")
    for i in range(2000):
        sheet.merge(6 * i, 6 * i + 5, 0, 255)
    path = tmp_path / "兴国县调度表.xls"
    book.save(str(path))
    report = read_measured(path)
    assert report["elapsed"] < 1, report
    assert report["rss_growth_mb"] < 100, report
    assert not report["accepted"]


def with_merged_ranges(data: bytes, refs: list[str]) -> bytes:
    """The same .xlsx with its first sheet's merged ranges replaced by ``refs``, written straight
    into the XML as an attacker would (openpyxl's merge_cells makes one object per covered cell)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    merges = b'<mergeCells count="%d">' % len(refs) + b"".join(b'<mergeCell ref="%s"/>' % ref.encode() for ref in refs) + b"</mergeCells>"
    xml, replaced = re.subn(rb"<mergeCells.*?</mergeCells>", merges, xml, count=1)
    assert replaced == 1
    return replace_member(data, "xl/worksheets/sheet1.xml", xml)


def test_merge_bomb_over_real_data_is_refused(tmp_path):
    # Data from A1 to CV1000 (100,000 cells, a large but possible sheet) and 20 merged ranges of
    # 99,100 cells each over it: 2 million cells to fill, refused before any is filled.
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "x"
    sheet["CV1000"] = "y"
    sheet.merge_cells("A1:B1")
    out = io.BytesIO()
    workbook.save(out)
    bomb = with_merged_ranges(out.getvalue(), [f"A{1 + i}:CV{991 + i}" for i in range(20)])
    path = tmp_path / "于都县调度表.xlsx"
    path.write_bytes(bomb)
    report = read_measured(path)
    assert report["elapsed"] < 5, report
    assert report["rss_growth_mb"] < 150, report
    assert not report["accepted"]
    [(code, message)] = report["issues"]
    assert code == "too_many_merged_cells"
    assert message.startswith("文件未导入") and "合并单元格" in message and "已拒绝读取" in message
    check_bad_file(tmp_path, "于都县调度表.xlsx", bomb, "合并单元格", "50万", "已拒绝读取")


def test_a_lone_value_in_the_last_cell_is_not_read_as_a_huge_grid(tmp_path):
    # calamine measures a sheet from its first cell with data, so a sheet holding only XFD1048576
    # looked like 1 x 1, and reading it from A1 asked for 17 billion cells.
    workbook = openpyxl.Workbook()
    workbook.active["XFD1048576"] = "x"
    path = tmp_path / "会昌县调度表.xlsx"
    workbook.save(path)
    report = read_measured(path)
    assert report["elapsed"] < 1, report
    assert report["rss_growth_mb"] < 100, report
    assert not report["accepted"]
    [message] = [message for code, message in report["issues"] if code == "sheet_too_large"]
    assert "工作表过大（1048576行×16384列）" in message
    # The file's own reason names the real cause, not an empty workbook.
    check_bad_file(tmp_path, "会昌县调度表.xlsx", path.read_bytes(), "工作表过大")
