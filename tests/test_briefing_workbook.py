"""The briefing pack's Excel workbook (briefing/workbook.py) on the sample campaign, read back with openpyxl
and with the project's own loader."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from dataclasses import replace

import openpyxl
import pandas as pd
import pytest

import loaders
from briefing import workbook as wbmod
from briefing.workbook import NOT_REPORTED, write_workbook
from loaders.reference import LEDGER_COLUMNS, STATUS_LABELS
from metrics import overview
from sample_data.writers import form_label, pair_keys, pair_sub_label, wide_form_columns

ISSUE_DATE = dt.date(2023, 9, 25)
PERIOD = "2023-08"
UNIT = "会昌县"


def _bytes(figures, issue_date=ISSUE_DATE) -> bytes:
    buffer = io.BytesIO()
    write_workbook(figures, buffer, issue_date)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def city_bytes(figures):
    started = time.perf_counter()
    data = _bytes(figures)
    elapsed = time.perf_counter() - started
    assert elapsed < 3, f"writing the sample workbook took {elapsed:.2f} s"
    return data


@pytest.fixture(scope="module")
def book(city_bytes):
    return openpyxl.load_workbook(io.BytesIO(city_bytes))


@pytest.fixture(scope="module")
def unit_book(unit_figures):
    return openpyxl.load_workbook(io.BytesIO(_bytes(unit_figures)))


def _rows(ws) -> list[list[object]]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


def _find_row(ws, first: object) -> int:
    """1-based row whose first cell is ``first``."""
    for index, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if row[0] == first:
            return index
    raise AssertionError(f"no row starting with {first!r} in {ws.title}")


def test_sheets(book):
    assert book.sheetnames == [
        wbmod.SHEET_LEDGER, wbmod.SHEET_COUNTY_FORMS, wbmod.SHEET_DEPARTMENT_FORMS, wbmod.SHEET_RANKING,
        wbmod.SHEET_QUOTA, wbmod.SHEET_SECTORS, wbmod.SHEET_ENFORCEMENT, wbmod.SHEET_TRAINING, wbmod.SHEET_KPIS,
        wbmod.SHEET_UNITS, wbmod.SHEET_OVERDUE, wbmod.SHEET_SUPERVISED, wbmod.SHEET_ANNOTATIONS]


# --- 附件2 ----------------------------------------------------------------------------------------

def test_ledger_layout(book, figures):
    ws = book[wbmod.SHEET_LEDGER]
    rows = _rows(ws)
    assert rows[0][0] == "赣州市重大事故隐患排查整治台账（2023年8月）"
    assert "A1:I1" in {str(r) for r in ws.merged_cells.ranges}
    assert rows[1][0] == "填报单位（盖章）：赣州市安全生产委员会办公室（汇总）　　填报人：　　联系电话："
    assert rows[2] == list(LEDGER_COLUMNS.values())
    assert rows[2] == ["序号", "县市区/部门", "企业（项目）", "所属行业领域", "重大隐患描述", "整改措施",
                       "督办层级，文件名称及文号", "整改期限", "整改进展"]
    data = rows[3:]
    assert len(data) == len(figures.hazards) > 0
    assert [r[0] for r in data] == list(range(1, len(data) + 1))
    assert [r[4] for r in data] == figures.hazards["description"].tolist()
    # Print setup: landscape A4, header rows repeated, fit to one page wide; header frozen.
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.print_title_rows == "$1:$3"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert ws.freeze_panes == "A4"
    assert ws["E4"].alignment.wrap_text


def test_ledger_labels(book, figures):
    ws = book[wbmod.SHEET_LEDGER]
    data = _rows(ws)[3:]
    hazards = figures.hazards
    assert {r[3] for r in data} <= {"道路交通", "消防", "建筑施工", "矿山", "危险化学品", "工贸", "城镇燃气", "特种设备",
                                     "农业生产", "其他"} | set(hazards["sector_raw"].dropna())
    levels = {"市级督办": "city", "县级督办": "county", "省级督办": "province", "未督办": "none"}
    assert [levels[r[6].split(" ")[0]] for r in data] == hazards["supervision_level"].tolist()
    for r, (_, hazard) in zip(data, hazards.iterrows()):
        if pd.isna(hazard["deadline"]):
            assert r[7] == (hazard["deadline_raw"] or None)
        else:
            assert r[7] == hazard["deadline"].to_pydatetime()
        assert r[8] == (hazard["progress_raw"] or STATUS_LABELS[hazard["status"]])


def test_ledger_reads_back_as_ledgers(city_bytes, figures):
    """The project's loader reads the 附件2 sheet as the official ledger: one submission per unit
    (the 县市区/部门 column decides the unit; the 填报单位 line, 赣州市安委办（汇总）, is no unit and
    is not needed), the period from the title, every hazard with its sector, level and status."""
    result = loaders.load_workbook(city_bytes, "简报.xlsx")
    ledgers = [s for s in result.submissions if s.kind == "ledger" and s.source_sheet == wbmod.SHEET_LEDGER]
    assert sum(len(s.records) for s in ledgers) == len(figures.hazards)
    assert {s.period for s in ledgers} == {PERIOD}
    assert {s.unit for s in ledgers} == set(figures.hazards["unit"])
    errors = [i for i in result.issues if i.sheet == wbmod.SHEET_LEDGER and i.severity == "error"]
    assert errors == []
    read = pd.concat([s.records.assign(unit=s.unit) for s in ledgers]).set_index(["unit", "enterprise", "description"])
    expected = figures.hazards.set_index(["unit", "enterprise", "description"])
    read = read.loc[expected.index]
    assert read["sector"].tolist() == expected["sector"].tolist()
    assert read["supervision_level"].tolist() == expected["supervision_level"].tolist()
    assert read["status"].tolist() == expected["status"].tolist()
    dated = expected["deadline"].notna()
    assert (pd.to_datetime(read["deadline"])[dated.to_numpy()] == expected["deadline"][dated]).all()
    # The consolidated forms read back as every unit's form with the same values.
    forms = {(s.unit, r.key): r.value for s in result.submissions
             if s.source_sheet == wbmod.SHEET_COUNTY_FORMS for r in s.records.itertuples()}
    latest = figures.latest.set_index(["unit", "key"])["cumulative"]
    for (unit, key), value in list(forms.items())[:200]:
        if value is not None and not isinstance(value, bool):
            assert value == pytest.approx(latest[(unit, key)])


# --- 附件3 / 附件4 --------------------------------------------------------------------------------

@pytest.mark.parametrize("form", [3, 4])
def test_form_summary_layout(book, figures, form):
    ws = book[wbmod.SHEET_COUNTY_FORMS if form == 3 else wbmod.SHEET_DEPARTMENT_FORMS]
    rows = _rows(ws)
    columns = wide_form_columns(form)
    assert rows[2][:2] == ["序号", "县市区" if form == 3 else "部门"]
    previous_section = None
    for offset, (section, item, key) in enumerate(columns):
        col = 2 + offset
        if section != previous_section:
            assert rows[2][col] == section.replace("\n", "")
            previous_section = section
        keys = pair_keys(item)
        if keys is None or key == keys[0]:
            assert rows[3][col] == form_label(item, form)
        if keys:
            assert rows[4][col] == pair_sub_label(key)
    units_expected = figures.latest[figures.latest["unit_type"].isin(wbmod.FORM_UNIT_TYPES[form])]["unit"].unique()
    data = rows[5:5 + len(units_expected)]
    assert sorted(r[1] for r in data) == sorted(units_expected)
    assert rows[5 + len(units_expected)][0] == "合计"


def test_form_summary_values_and_totals(book, campaign, figures):
    ws = book[wbmod.SHEET_COUNTY_FORMS]
    rows = _rows(ws)
    keys = [key for _, _, key in wide_form_columns(3)]
    total_at = next(i for i, r in enumerate(rows) if r[0] == "合计")
    data = {r[1]: dict(zip(keys, r[2:])) for r in rows[5:total_at]}
    latest = overview.latest_cumulative(campaign.indicators, PERIOD).set_index(["unit", "key"])["cumulative"]
    for unit, key in (("章贡区", "self_found"), ("会昌县", "penalties"), ("会昌县", "fines_wan"), ("瑞金市", "supervised"),
                      ("赣州经开区", "dept_rectified"), ("南康区", "enterprises")):
        assert data[unit][key] == pytest.approx(latest[(unit, key)])
    totals = dict(zip(keys, rows[total_at][2:]))
    for key in keys:
        if key == "media_column":
            continue
        values = [v[key] for v in data.values() if v[key] != NOT_REPORTED]
        assert totals[key] == (pytest.approx(sum(values)) if values else NOT_REPORTED)
    assert {v["media_column"] for v in data.values()} <= {"是", "否", NOT_REPORTED}


def test_form_summary_missing_is_a_dash_not_zero(figures):
    latest = figures.latest
    dropped = latest[~((latest["unit"] == UNIT) & (latest["key"] == "penalties"))]
    ws = openpyxl.load_workbook(io.BytesIO(_bytes(replace(figures, latest=dropped))))[wbmod.SHEET_COUNTY_FORMS]
    rows = _rows(ws)
    col = 2 + [key for _, _, key in wide_form_columns(3)].index("penalties")
    row = next(r for r in rows if r[1] == UNIT)
    assert row[col] == NOT_REPORTED
    total = next(r for r in rows if r[0] == "合计")
    reported = dropped[(dropped["key"] == "penalties") & dropped["unit_type"].isin(("county", "zone"))]
    assert total[col] == pytest.approx(reported["cumulative"].sum())


# --- the figures sheets ---------------------------------------------------------------------------

def _table(ws, header_first: str) -> list[dict]:
    """Rows of the table whose header row starts with ``header_first``, as dicts, up to a blank row."""
    rows = _rows(ws)
    start = next(i for i, r in enumerate(rows) if r[0] == header_first)
    header = rows[start]
    out = []
    for r in rows[start + 1:]:
        if r[0] is None or r[0] == "（无）":
            break
        out.append(dict(zip(header, r)))
    return out


def test_kpis_sheet(book, figures):
    ws = book[wbmod.SHEET_KPIS]
    rows = {r[0]: r for r in _rows(ws)[4:] if r[0]}
    k, p = figures.kpis, figures.previous_kpis
    for label, read, kind in wbmod.KPI_ROWS:
        now, then = read(k), read(p)
        assert rows[label][1] == pytest.approx(now), label
        assert rows[label][3] == pytest.approx(then), label
        assert rows[label][5] == pytest.approx(now - then), label
        if kind != "pct":
            assert isinstance(rows[label][1], int) == float(now).is_integer()
    rate = rows["整改率"]
    assert rate[2] == f"{k.rectification_rate * 100:.1f}%"
    assert rows["行政处罚（万元）"][1] == pytest.approx(k.fines_wan)
    assert rows["逾期未整改隐患清单（条）"][1] == len(figures.overdue)
    assert rows["挂牌督办超过时限未见实质性进展（条）"][1] == len(figures.stalled)
    header_row = _find_row(ws, "指标")
    assert ws.cell(header_row + 1 + [r[0] for r in wbmod.KPI_ROWS].index("整改率"), 2).number_format == "0.0%"


def test_ranking_quota_sectors_units(book, figures):
    ranking = _table(book[wbmod.SHEET_RANKING], "排名")
    assert [r["单位"] for r in ranking] == figures.county_ranking["unit"].tolist()
    assert [r["发现重大事故隐患（个）"] for r in ranking] == figures.county_ranking["value"].tolist()
    changes = [None if pd.isna(c) else int(c) for c in figures.county_ranking["rank_change"]]
    assert [r["名次变化（正数为上升）"] if r["名次变化（正数为上升）"] != NOT_REPORTED else None for r in ranking] == changes

    quota = _table(book[wbmod.SHEET_QUOTA], "单位")
    assert [r["单位"] for r in quota] == figures.quota["unit"].tolist()
    assert [r["隐患任务"] == "未完成" for r in quota] == figures.quota["behind_hazards"].tolist()
    assert [r["总体"] == "滞后" for r in quota] == figures.quota["behind"].tolist()

    sectors = _table(book[wbmod.SHEET_SECTORS], "所属行业领域")
    assert [r["重大隐患（条）"] for r in sectors] == figures.sectors["hazards"].tolist()
    assert sum(r["重大隐患（条）"] for r in sectors) == len(figures.hazards)

    units = _table(book[wbmod.SHEET_UNITS], "单位")
    by_unit = {r["单位"]: r for r in units}
    for row in figures.unit_progress.itertuples():
        if pd.notna(row.rate):
            assert by_unit[row.unit]["整改率"] == pytest.approx(row.rate, abs=1e-6)
            assert by_unit[row.unit]["整改率（显示）"] == f"{row.rate * 100:.1f}%"


def test_enforcement_and_training(book, figures):
    for sheet, totals, per_unit in ((wbmod.SHEET_ENFORCEMENT, figures.enforcement_totals, figures.enforcement),
                                    (wbmod.SHEET_TRAINING, figures.training_totals, figures.training)):
        table = _table(book[sheet], "指标")
        assert len(table) == len(totals)
        for row, expected in zip(table, totals.itertuples()):
            assert row["累计（各单位最新累计数之和）"] == pytest.approx(expected.cumulative)
            assert row["本期新增"] == pytest.approx(expected.increment)
            assert row["报送单位数（个）"] == expected.units_reporting
        units = _table(book[sheet], "单位")
        assert [r["单位"] for r in units] == per_unit["unit"].tolist()


def test_overdue_and_supervised(book, figures):
    overdue = _table(book[wbmod.SHEET_OVERDUE], "县市区/部门")
    assert len(overdue) == len(figures.overdue)
    assert [r["逾期天数"] for r in overdue] == [int(-d) for d in figures.overdue["days_to_deadline"]]
    supervised = _table(book[wbmod.SHEET_SUPERVISED], "县市区/部门")
    assert len(supervised) == len(figures.supervised)
    stalled = [r for r in supervised if r["超过时限未见实质性进展"] == "是"]
    assert [r["已督办天数"] for r in stalled] == figures.stalled["days_supervised"].tolist()
    assert [r["时限（天）"] for r in stalled] == figures.stalled["limit_days"].tolist()


def test_annotations_sheet(figures):
    notes = pd.DataFrame([{
        "id": 1, "kind": "figure", "subject_key": "figure:会昌县|penalties|2023-08", "hazard_id": None, "unit": UNIT,
        "indicator": "penalties", "period": PERIOD, "page": None, "query": None, "text": "=1+1 处罚次数偏低，已电话核实。",
        "tag": "待核实", "follow_up": dt.date(2023, 10, 1), "status": "open", "author": "张三", "orphaned": False}])
    ws = openpyxl.load_workbook(io.BytesIO(_bytes(replace(figures, annotations=notes))))[wbmod.SHEET_ANNOTATIONS]
    (row,) = _table(ws, "批注对象")
    assert row["批注对象"] == "指标数值：会昌县 · 行政处罚（次） · 2023年8月"
    assert row["批注内容"] == "=1+1 处罚次数偏低，已电话核实。"
    assert (row["标签"], row["状态"], row["批注人"], row["对象已不在数据中"]) == ("待核实", "未办结", "张三", "否")
    assert row["跟进日期"] == dt.datetime(2023, 10, 1)


# --- one unit -------------------------------------------------------------------------------------

def test_one_unit(unit_book, unit_figures):
    ledger = _rows(unit_book[wbmod.SHEET_LEDGER])
    assert ledger[0][0] == f"{UNIT}重大事故隐患排查整治台账（2023年8月）"
    assert len(ledger) - 3 == len(unit_figures.hazards) > 0
    assert {r[1] for r in ledger[3:]} == {UNIT}
    county = _rows(unit_book[wbmod.SHEET_COUNTY_FORMS])
    assert county[5][1] == UNIT and county[6][0] == "合计"
    departments = _rows(unit_book[wbmod.SHEET_DEPARTMENT_FORMS])
    assert departments[5][0] == "合计" and set(departments[5][2:]) == {NOT_REPORTED}
    kpis = {r[0]: r for r in _rows(unit_book[wbmod.SHEET_KPIS])}
    assert kpis["台账重大隐患（条）"][1] == unit_figures.kpis.ledger_hazards


# --- security and determinism ---------------------------------------------------------------------

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "=1+1", "http://example.com", "0012"]


def test_no_formula_from_officials_text(figures):
    hazards = figures.hazards.copy()
    for index, text in enumerate(HOSTILE):
        hazards.loc[index, "description"] = text
        hazards.loc[index, "enterprise"] = text
        hazards.loc[index, "measures"] = text
        hazards.loc[index, "progress_raw"] = text
    hostile = replace(figures, hazards=hazards, overdue=hazards.head(len(HOSTILE)))
    data = _bytes(hostile)
    book = openpyxl.load_workbook(io.BytesIO(data))
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    ledger = book[wbmod.SHEET_LEDGER]
    for index, text in enumerate(HOSTILE):
        for col in (3, 5, 6, 9):
            cell = ledger.cell(4 + index, col)
            assert cell.value == text and cell.data_type == "s"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name)
                assert b"hyperlink" not in archive.read(name).lower()


def test_deterministic(figures, city_bytes, tmp_path):
    assert _bytes(figures) == city_bytes
    path = tmp_path / "pack.xlsx"
    write_workbook(figures, path, ISSUE_DATE)
    assert path.read_bytes() == city_bytes
    with zipfile.ZipFile(io.BytesIO(city_bytes)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert "2023-09-25T00:00:00Z" in core
    assert _bytes(figures, dt.date(2023, 9, 26)) != city_bytes
