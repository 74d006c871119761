"""build_campaign over results of several workbooks written in the real layouts."""

from __future__ import annotations

import datetime as dt
import gc
import weakref

import pandas as pd
import pytest
from openpyxl import Workbook
from tests.xlsx_builders import hazard, issues, load, new_workbook

from loaders import build_campaign, hazard_id
from sample_data.writers import write_form, write_ledger

AS_OF = dt.date(2023, 10, 15)


def _ledger(unit, month, rows, file_name=None):
    wb, (ws,) = new_workbook("台账")
    write_ledger(ws, [{**row, "unit": unit} for row in rows], unit_label=unit, title=f"2023年{month}月重大事故隐患排查整治台账")
    return load(wb, file_name or f"{unit}{month}月台账.xlsx")


def _form(unit, month, values, filed=None, file_name=None):
    wb, (ws,) = new_workbook("调度表")
    write_form(ws, values, unit_label=unit, title_period_text=f"（2023年{month}月）", filed_on_text=filed)
    return load(wb, file_name or f"{unit}{month}月调度表.xlsx")


def _codes(campaign, code):
    return [i for i in campaign.issues if i.code == code]


def test_hazard_id_is_stable_when_whitespace_and_punctuation_differ():
    august = _ledger("龙南县", 8, [hazard(enterprise="甲化工 有限公司", description="储罐区，未设置报警装置。")])
    september = _ledger("龙南市", 9, [hazard(enterprise="甲化工有限公司", description="储罐区未设置报警装置", progress="已整改")])
    campaign = build_campaign([august, september], AS_OF)
    assert campaign.hazards["hazard_id"].nunique() == 1
    assert hazard_id("龙南市", "甲化工 有限公司", "储罐区，未设置报警装置。") == hazard_id("龙南市", "甲化工有限公司", "储罐区未设置报警装置")
    assert hazard_id("龙南市", "甲", "d") != hazard_id("定南县", "甲", "d")


def test_unique_hazards_take_the_latest_status_and_new_only_ledgers_give_the_union():
    august = _ledger("章贡区", 8, [hazard(enterprise="甲", progress="整改中"), hazard(enterprise="乙", progress="未整改")])
    september = _ledger("章贡区", 9, [hazard(enterprise="甲", progress="已整改"), hazard(enterprise="丙", progress="整改中")])
    october = _ledger("章贡区", 10, [hazard(enterprise="丁", progress="未整改")])  # only the new one
    # Received out of order: the period, not the order of arrival, decides the latest status.
    campaign = build_campaign([september, october, august], AS_OF)
    unique = campaign.unique_hazards.set_index("enterprise")
    assert sorted(unique.index) == ["丁", "丙", "乙", "甲"]
    assert unique.loc["甲", "status"] == "rectified" and unique.loc["甲", "period"] == "2023-09"
    assert unique.loc["甲", "first_period"] == "2023-08"
    assert unique.loc["乙", "status"] == "not_started"
    assert campaign.summary()["hazards"]["unique"] == 4


def test_overdue_on_the_as_of_date():
    rows = [
        hazard(enterprise="late", deadline="2023年9月30日", progress="整改中"),
        hazard(enterprise="done", deadline="2023年9月30日", progress="已整改"),
        hazard(enterprise="forever", deadline="长期", progress="未整改"),
        hazard(enterprise="today", deadline="2023年10月15日", progress="未整改"),
        hazard(enterprise="later", deadline="2023年12月31日", progress="未整改"),
    ]
    campaign = build_campaign([_ledger("大余县", 9, rows)], AS_OF)
    overdue = dict(zip(campaign.unique_hazards["enterprise"], campaign.unique_hazards["overdue"]))
    assert overdue == {"late": True, "done": False, "forever": False, "today": False, "later": False}
    assert campaign.summary()["hazards"]["overdue"] == 1
    assert build_campaign([_ledger("大余县", 9, rows)], dt.date(2024, 1, 1)).summary()["hazards"]["overdue"] == 3


def test_monthly_increments_from_cumulative_values():
    results = [_form("信丰县", 6, {"self_found": 10, "penalties": 2, "fines_wan": 1.5}),
               _form("信丰县", 8, {"self_found": 25, "penalties": 2, "fines_wan": 4}),  # July not sent
               _form("信丰县", 9, {"self_found": 31, "penalties": 5, "fines_wan": 4.5})]
    campaign = build_campaign(results, AS_OF)
    frame = campaign.indicators.set_index(["key", "period"])
    assert [frame.loc[("self_found", p), "increment"] for p in ("2023-06", "2023-08", "2023-09")] == [10, 15, 6]
    assert [frame.loc[("fines_wan", p), "increment"] for p in ("2023-06", "2023-08", "2023-09")] == pytest.approx([1.5, 2.5, 0.5])
    assert frame.loc[("penalties", "2023-08"), "increment"] == 0
    assert not _codes(campaign, "cumulative_decrease")


def test_a_falling_cumulative_value_is_a_finding_and_is_not_clamped():
    campaign = build_campaign([_form("全南县", 8, {"self_found": 20}), _form("全南县", 9, {"self_found": 17})], AS_OF)
    frame = campaign.indicators.set_index("period")
    assert (frame.loc["2023-09", "cumulative"], frame.loc["2023-09", "increment"]) == (17, -3)
    (finding,) = _codes(campaign, "cumulative_decrease")
    assert (finding.severity, finding.file, finding.cell) == ("warning", "全南县9月调度表.xlsx", "C4")
    assert campaign.summary()["indicators"]["全南县"]["2023-09"]["self_found"] == 17


def test_yes_no_answer_changing_is_not_a_cumulative_decrease():
    campaign = build_campaign([_form("寻乌县", 8, {"media_column": "是"}), _form("寻乌县", 9, {"media_column": "否"})], AS_OF)
    assert not _codes(campaign, "cumulative_decrease")
    assert campaign.summary()["indicators"]["寻乌县"] == {"2023-08": {"media_column": True}, "2023-09": {"media_column": False}}


def test_rectified_greater_than_found_is_a_finding():
    campaign = build_campaign([_form("安远县", 8, {"self_found": 5, "self_rectified": 8, "dept_found": 4, "dept_rectified": 4})], AS_OF)
    (finding,) = _codes(campaign, "part_exceeds_whole")
    assert finding.cell == "F4" and "8" in finding.message and "5" in finding.message


def test_same_unit_and_period_sent_twice_the_later_filing_wins():
    later = _form("瑞金市", 8, {"self_found": 12}, filed="2023年9月22日", file_name="瑞金更正.xlsx")
    earlier = _form("瑞金市", 8, {"self_found": 10}, filed="2023年9月20日", file_name="瑞金.xlsx")
    campaign = build_campaign([later, earlier], AS_OF)  # received in the other order
    assert campaign.summary()["indicators"]["瑞金市"]["2023-08"] == {"self_found": 12}
    (finding,) = _codes(campaign, "duplicate_submission")
    assert finding.severity == "warning" and "瑞金更正.xlsx" in finding.message
    # The history lists submissions as received; the dated-later one counts.
    assert campaign.submissions.set_index("source_file")["active"].to_dict() == {"瑞金更正.xlsx": True, "瑞金.xlsx": False}
    assert campaign.submissions.set_index("source_file").loc["瑞金.xlsx", "superseded_by"] == "瑞金更正.xlsx"
    assert pd.isna(campaign.submissions.set_index("source_file").loc["瑞金更正.xlsx", "superseded_by"])


def test_the_campaign_does_not_keep_the_parsed_workbooks_alive():
    """A server keeps its campaign for hours: the parsed sheets of every file must go once it is built."""
    results = [_form("瑞金市", 8, {"self_found": 12}, file_name="瑞金.xlsx"),
               _ledger("石城县", 8, [hazard()], file_name="石城.xlsx")]
    parsed = [weakref.ref(sub) for result in results for sub in result.submissions]
    campaign = build_campaign(results, AS_OF)
    del results
    gc.collect()
    assert len(campaign.unique_hazards) == 1 and len(campaign.submissions) == 2
    assert all(ref() is None for ref in parsed)


def test_an_identical_resend_is_not_a_finding():
    first = _form("石城县", 8, {"self_found": 12, "media_column": "否"}, file_name="a.xlsx")
    again = _form("石城县", 8, {"self_found": 12, "media_column": "否"}, file_name="b.xlsx")
    ledger_a = _ledger("石城县", 8, [hazard()], file_name="c.xlsx")
    ledger_b = _ledger("石城县", 8, [hazard()], file_name="d.xlsx")
    campaign = build_campaign([first, again, ledger_a, ledger_b], AS_OF)
    assert not _codes(campaign, "duplicate_submission")
    assert len(campaign.unique_hazards) == 1


def test_hazards_missing_deadline_or_sector_are_findings():
    campaign = build_campaign([_ledger("定南县", 8, [hazard(enterprise="甲", deadline=None),
                                                    hazard(enterprise="乙", sector=None),
                                                    hazard(enterprise="丙", deadline="长期")])], AS_OF)
    assert [i.cell for i in _codes(campaign, "missing_deadline")] == ["H4"]
    assert [i.cell for i in _codes(campaign, "missing_sector")] == ["D5"]
    assert campaign.summary()["hazards"]["by_sector"]["hazardous_chemicals"] == 2


def test_missing_deadline_finding_points_at_the_real_column():
    wb = Workbook()
    ws = wb.active
    ws.append(["2023年8月重大事故隐患排查整治台账"])
    ws.append(["填报单位（盖章）：崇义县"])
    ws.append(["企业（项目）", "所属行业领域", "重大隐患描述", "整改措施", "督办层级，文件名称及文号", "整改期限", "整改进展"])
    ws.append(["某矿", None, "无安全出口", "开挖", "无", None, "整改中"])
    campaign = build_campaign([load(wb, "chongyi.xlsx")], AS_OF)
    assert [i.cell for i in _codes(campaign, "missing_deadline")] == ["F4"]
    assert [i.cell for i in _codes(campaign, "missing_sector")] == ["B4"]


def test_ledger_count_disagreeing_with_the_form_is_a_finding():
    ledger = _ledger("宁都县", 8, [hazard(enterprise=name) for name in "甲乙丙"])
    far = build_campaign([ledger, _form("宁都县", 8, {"self_found": 10, "dept_found": 5})], AS_OF)
    (finding,) = _codes(far, "ledger_form_mismatch")
    assert "3" in finding.message and "15" in finding.message
    close = build_campaign([ledger, _form("宁都县", 8, {"self_found": 2, "dept_found": 1})], AS_OF)
    assert not _codes(close, "ledger_form_mismatch")


def test_summary_has_exactly_the_contract_keys_and_omits_values_not_reported():
    results = [_ledger("于都县", 8, [hazard(supervision="市级挂牌督办 赣市安办字〔2023〕12号", progress="已整改"),
                                     hazard(enterprise="乙", supervision="县级督办", sector="消防")]),
               _form("于都县", 8, {"self_found": 2, "self_rectified": "—", "dept_found": 0, "penalties": 12, "fines_wan": 35.6}),
               _form("于都县", 9, {}, file_name="空白.xlsx")]
    wb, (ws,) = new_workbook("Sheet1")
    results.append(load(wb, "empty.xlsx"))
    summary = build_campaign(results, AS_OF).summary()
    assert set(summary) == {"files", "hazards", "indicators", "issues"}
    assert summary["files"] == {"accepted": 3, "rejected": 1}
    assert set(summary["hazards"]) == {"unique", "by_unit", "by_sector", "by_status", "overdue", "supervised"}
    assert summary["hazards"]["by_unit"] == {"于都县": 2}
    assert summary["hazards"]["by_status"] == {"rectified": 1, "in_progress": 1, "not_started": 0}
    assert summary["hazards"]["supervised"] == {"city": 1, "county": 1, "province": 0}
    assert summary["indicators"] == {"于都县": {"2023-08": {"self_found": 2, "dept_found": 0, "penalties": 12, "fines_wan": 35.6}}}
    assert all(set(issue) == {"file", "sheet", "cell", "severity", "message"} for issue in summary["issues"])
    rejected = [i for i in summary["issues"] if i["file"] == "empty.xlsx"]
    assert [(i["sheet"], i["cell"], i["severity"]) for i in rejected] == [("", "", "error")]
    assert issues(results[-1], "no_data")
