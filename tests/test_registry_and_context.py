"""Who sent a sheet and which month it covers (loaders.context), and the 附件1 registry."""

from __future__ import annotations

import pytest
from tests.xlsx_builders import assert_rows_accounted, hazard, issues, load, new_workbook

from sample_data.writers import COUNTY_FORM_TITLE, write_form, write_ledger, write_registry

VALUES = {"self_found": 7, "penalties": 2, "fines_wan": 1.5}


def _form(*, unit="", period_text=None, filed=None, file_name="调度表.xlsx", title=None, sheet="Sheet1"):
    wb, (ws,) = new_workbook(sheet)
    write_form(ws, VALUES, unit_label=unit, title_period_text=period_text, filed_on_text=filed)
    if title is not None:
        ws["A1"] = title
    result = load(wb, file_name)
    return result


@pytest.mark.parametrize(("line_value", "unit", "unit_type"), [
    ("赣县区安委办（盖章）", "赣县区", "county"),
    ("章贡区安委会", "章贡区", "county"),
    ("赣州经开区安全生产委员会办公室", "赣州经开区", "zone"),
    ("于都县人民政府安委会（盖章）", "于都县", "county"),
])
def test_unit_from_the_filled_by_line_with_decorations(line_value, unit, unit_type):
    (sub,) = _form(unit=line_value, period_text="（2023年8月）").submissions
    assert (sub.unit, sub.unit_raw, sub.unit_type) == (unit, line_value, unit_type)


def test_unit_from_the_ledger_filled_by_line_applies_when_the_unit_column_is_blank():
    wb, (ws,) = new_workbook("Sheet1")
    write_ledger(ws, [hazard(unit=None)], unit_label="石城县安委办（盖章）", title="2023年8月重大事故隐患排查整治台账")
    (sub,) = load(wb, "x.xlsx").submissions
    assert (sub.unit, sub.period, list(sub.records["unit"])) == ("石城县", "2023-08", ["石城县"])


def test_unit_from_the_title():
    (sub,) = _form(title="赣州市章贡区重大事故隐患专项排查整治进展情况调度表（2023年8月）").submissions
    assert (sub.unit, sub.period) == ("章贡区", "2023-08")


def test_unit_and_period_from_the_file_name():
    (sub,) = _form(file_name="南康区8月调度表.xlsx").submissions
    assert (sub.unit, sub.period) == ("南康区", "2023-08")


@pytest.mark.parametrize(("file_name", "period"), [
    ("兴国县_2023年8月_调度表.xlsx", "2023-08"),
    ("兴国县调度表（11月）.xlsx", "2023-11"),
    ("2024年1月兴国县调度表.xlsx", "2024-01"),
])
def test_period_from_the_file_name(file_name, period):
    (sub,) = _form(unit="兴国县", file_name=file_name).submissions
    assert sub.period == period


def test_the_title_month_wins_over_the_file_name():
    (sub,) = _form(unit="兴国县", period_text="（2023年9月）", file_name="兴国县_8月.xlsx").submissions
    assert sub.period == "2023-09"


@pytest.mark.parametrize(("filed", "period", "reported_on"), [
    ("2023 年 9 月 20 日", "2023-08", "2023-09-20"),
    ("2024年1月18日", "2023-12", "2024-01-18"),
    ("2023年8月31日", "2023-08", "2023-08-31"),
])
def test_period_from_the_time_line_as_filing_date(filed, period, reported_on):
    (sub,) = _form(unit="宁都县", filed=filed).submissions
    assert (sub.period, str(sub.reported_on)) == (period, reported_on)


def test_no_period_anywhere_is_an_error_telling_what_to_fill_in_and_other_sheets_still_load():
    wb, (form_ws, ledger_ws) = new_workbook("调度表", "台账")
    write_form(form_ws, VALUES, unit_label="会昌县")  # 时间：2023 年 　月 　日 left blank, no month in the title
    write_ledger(ledger_ws, [hazard(unit="会昌县")], unit_label="会昌县", title="2023年8月重大事故隐患排查整治台账")
    result = load(wb, "会昌县报送.xlsx")
    assert form_ws["A1"].value == COUNTY_FORM_TITLE
    assert [(s.kind, s.unit, s.period) for s in result.submissions] == [("ledger", "会昌县", "2023-08")]
    (error,) = issues(result, "period_unknown")
    assert (error.sheet, error.severity) == ("调度表", "error")
    assert "2023年X月" in error.message and "时间" in error.message


def test_no_unit_anywhere_is_an_error():
    result = _form(period_text="（2023年8月）", file_name="调度表.xlsx")
    assert not result.submissions
    (error,) = issues(result, "unit_unknown")
    assert error.severity == "error" and "填报单位" in error.message


REGISTRY = [
    {"enterprise": "赣州某化工有限公司", "responsible_unit": "章贡区应急管理局", "head": "王五", "head_phone": "13800000001",
     "leader": "赵六", "leader_phone": "13800000002", "cadre": "钱七", "cadre_phone": "13800000003"},
    {"enterprise": "某矿业公司", "responsible_unit": "大余县应急管理局", "head": "孙八", "head_phone": "13800000004",
     "leader": "周九", "leader_phone": "13800000005", "cadre": "吴十", "cadre_phone": "13800000006"},
]


def test_registry_table():
    wb, (ws,) = new_workbook("公示牌")
    write_registry(ws, REGISTRY, layout="table")
    ws.append([None, "注：各地可结合实际适当调整。"])
    result = load(wb, "公示牌汇总.xlsx")
    (sub,) = result.submissions
    assert sub.kind == "registry" and sub.period is None
    frame = sub.records
    assert frame[list(REGISTRY[0])].to_dict("records") == REGISTRY
    assert list(frame["source_row"]) == [3, 4]
    assert_rows_accounted(ws, result, first_row=3)


def test_registry_board():
    wb, (ws,) = new_workbook("公示牌")
    write_registry(ws, REGISTRY[:1], layout="board")
    (sub,) = load(wb, "公示牌.xlsx").submissions
    (record,) = sub.records.to_dict("records")
    assert {k: record[k] for k in REGISTRY[0]} == REGISTRY[0]
    assert sub.layout == "board"
