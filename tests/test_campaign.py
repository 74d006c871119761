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
from sample_data.writers import write_form, write_ledger, write_registry

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


# --- the contract's "Periods, resends and corrections" ----------------------------------


def _county_form(unit, values, *, title_period, filed, file_name, batch=0):
    wb, (ws,) = new_workbook("调度表")
    write_form(ws, values, unit_label=unit, title_period_text=title_period, filed_on_text=filed)
    result = load(wb, file_name)
    result.batch = batch
    return result


def _summary_value(campaign, unit, period, key):
    return campaign.summary()["indicators"].get(unit, {}).get(period, {}).get(key)


def test_a_correction_with_the_blank_time_line_beats_the_dated_original_in_the_same_batch():
    original = _county_form("章贡区", {"self_found": 41}, title_period="（2023年8月）", filed="2023 年 9 月 20 日",
                            file_name="章贡区8月调度表.xlsx")
    correction = _county_form("章贡区", {"self_found": 44}, title_period="（2023年8月）", filed=None,
                              file_name="章贡区8月调度表（更正）.xlsx")
    for order in ([original, correction], [correction, original]):
        campaign = build_campaign(order, AS_OF)
        assert _summary_value(campaign, "章贡区", "2023-08", "self_found") == 44
        (finding,) = _codes(campaign, "duplicate_submission")
        assert "采用“章贡区8月调度表（更正）.xlsx”（标为更正）" in finding.message


def test_a_typo_filing_year_does_not_order_resends_and_is_reported():
    typo = _county_form("南康区", {"self_found": 10}, title_period="（2023年8月）", filed="2032年9月20日", file_name="南康区8月.xlsx")
    dated = _county_form("南康区", {"self_found": 12}, title_period="（2023年8月）", filed="2023年9月22日", file_name="南康区8月调度表.xlsx")
    campaign = build_campaign([dated, typo], AS_OF)
    assert _summary_value(campaign, "南康区", "2023-08", "self_found") == 12
    (finding,) = _codes(campaign, "filing_date_outside_window")
    assert finding.file == "南康区8月.xlsx" and "2032-09-20" in finding.message


def test_a_later_batch_replaces_whatever_the_dates_say():
    first = _county_form("信丰县", {"self_found": 5}, title_period="（2023年8月）", filed="2023年9月22日", file_name="b.xlsx", batch=0)
    resent = _county_form("信丰县", {"self_found": 8}, title_period="（2023年8月）", filed="2023年9月18日", file_name="a.xlsx", batch=1)
    assert _summary_value(build_campaign([first, resent], AS_OF), "信丰县", "2023-08", "self_found") == 8


def test_within_a_batch_without_dates_the_later_file_name_wins_reading_numbers_as_numbers():
    results = [_county_form("大余县", {"self_found": n}, title_period="（2023年8月）", filed=None, file_name=name)
               for n, name in ((3, "大余县8月(10).xlsx"), (1, "大余县8月.xlsx"), (2, "大余县8月(9).xlsx"))]
    assert _summary_value(build_campaign(results, AS_OF), "大余县", "2023-08", "self_found") == 3


def test_a_supplement_ledger_adds_its_hazards_to_the_period():
    december = _ledger("章贡区", 12, [hazard(enterprise="甲", progress="已整改"), hazard(enterprise="乙", progress="整改中")])
    wb, (ws,) = new_workbook("台账")
    write_ledger(ws, [hazard(unit="章贡区", enterprise="丙", progress="未整改")], unit_label="章贡区",
                 title="2023年12月重大事故隐患排查整治台账（补报）")
    supplement = load(wb, "章贡区12月台账补报.xlsx")
    campaign = build_campaign([december, supplement], AS_OF)
    unique = campaign.unique_hazards.set_index("enterprise")
    assert sorted(unique.index) == ["丙", "乙", "甲"]
    assert unique.loc["甲", "status"] == "rectified"
    assert campaign.submissions.set_index("source_file")["state"].to_dict() == {
        "章贡区12月台账.xlsx": "active", "章贡区12月台账补报.xlsx": "added"}
    assert _codes(campaign, "supplement_added")


def test_a_period_outside_the_campaign_is_held_aside_and_changes_no_figure():
    december = _county_form("瑞金市", {"self_found": 30}, title_period="（2023年12月）", filed="2024年1月20日", file_name="瑞金12月.xlsx")
    # Filed 2024-01-28 with no month named: by the filing rule it covers 2024-01, outside the campaign.
    late = _county_form("瑞金市", {"self_found": 35}, title_period="", filed="2024年1月28日", file_name="瑞金市调度表.xlsx")
    campaign = build_campaign([december, late], AS_OF)
    assert campaign.summary()["indicators"]["瑞金市"] == {"2023-12": {"self_found": 30}}
    assert set(campaign.indicators["period"]) == {"2023-12"}
    held = campaign.submissions.set_index("source_file").loc["瑞金市调度表.xlsx"]
    assert (held["period"], held["held_aside"], held["active"]) == ("2024-01", True, False)
    (finding,) = _codes(campaign, "period_outside_campaign")
    assert finding.file == "瑞金市调度表.xlsx" and "2024-01" in finding.message


def test_a_reworded_hazard_is_one_hazard_with_the_new_text():
    may = _ledger("定南县", 5, [hazard(enterprise="甲化工", description="储罐区未设置可燃气体报警装置", deadline="2023年6月30日",
                                      progress="未整改")])
    june = _ledger("定南县", 6, [hazard(enterprise="甲化工", description="储罐区未设置可燃气体泄漏报警装置", deadline="2023年6月30日",
                                       progress="已整改")])
    campaign = build_campaign([may, june], AS_OF)
    summary = campaign.summary()["hazards"]
    assert (summary["unique"], summary["overdue"], summary["by_status"]["rectified"]) == (1, 0, 1)
    (row,) = campaign.unique_hazards.itertuples()
    assert row.description == "储罐区未设置可燃气体泄漏报警装置" and row.first_period == "2023-05"
    assert campaign.hazards["hazard_id"].nunique() == 1
    (finding,) = _codes(campaign, "hazard_reworded")
    assert finding.severity == "info" and "可燃气体报警装置" in finding.message and "可燃气体泄漏报警装置" in finding.message


def test_a_possibly_reworded_hazard_is_a_finding_and_not_merged():
    may = _ledger("全南县", 5, [hazard(enterprise="乙厂", description="1号厂房安全出口锁闭", progress="未整改")])
    june = _ledger("全南县", 6, [hazard(enterprise="乙厂", description="2号厂房安全出口锁闭", progress="整改中")])
    campaign = build_campaign([may, june], AS_OF)
    assert campaign.summary()["hazards"]["unique"] == 2
    assert not _codes(campaign, "hazard_reworded")
    (finding,) = _codes(campaign, "hazard_possibly_reworded")
    assert finding.severity == "warning" and "1号厂房" in finding.message and "2号厂房" in finding.message


def test_an_open_hazard_vanishing_from_a_full_ledger_is_reported_and_keeps_its_status():
    rows = [hazard(enterprise=name, description=f"{name}安全出口锁闭", progress="整改中") for name in ("甲", "乙", "丙")]
    august = _ledger("会昌县", 8, rows)
    september = _ledger("会昌县", 9, rows[:2])  # 丙 is gone, still 整改中 in August
    campaign = build_campaign([august, september], AS_OF)
    (finding,) = _codes(campaign, "hazard_vanished")
    assert "丙安全出口锁闭" in finding.message and "2023-09" in finding.message and finding.file == "会昌县8月台账.xlsx"
    assert campaign.unique_hazards.set_index("enterprise").loc["丙", "status"] == "in_progress"
    # A ledger of new hazards only lists none of the earlier ones: nothing vanished.
    only_new = build_campaign([august, _ledger("会昌县", 9, [hazard(enterprise="丁")])], AS_OF)
    assert not _codes(only_new, "hazard_vanished")


def test_an_increment_over_a_month_not_reported_names_that_month():
    may = _county_form("兴国县", {"self_found": 10}, title_period="（2023年5月）", filed="2023年6月20日", file_name="5.xlsx")
    june = _county_form("兴国县", {"self_found": "—", "dept_found": 2}, title_period="（2023年6月）", filed="2023年7月20日",
                        file_name="6.xlsx")
    july = _county_form("兴国县", {"self_found": 45, "dept_found": 3}, title_period="（2023年7月）", filed="2023年8月20日",
                        file_name="7.xlsx")
    campaign = build_campaign([may, june, july], AS_OF)
    rows = campaign.indicators.set_index(["key", "period"])
    assert _summary_value(campaign, "兴国县", "2023-06", "self_found") is None  # "—" is not reported, not 0
    assert (rows.loc[("self_found", "2023-07"), "increment"], rows.loc[("self_found", "2023-07"), "gap_periods"]) == (35, "2023-06")
    assert rows.loc[("self_found", "2023-05"), "gap_periods"] == ""
    # dept_found was first reported in June: its increment covers May too.
    assert rows.loc[("dept_found", "2023-06"), "gap_periods"] == "2023-05"
    assert rows.loc[("dept_found", "2023-07"), "gap_periods"] == ""


def test_a_submission_that_cannot_be_merged_is_a_finding_and_the_others_load():
    good = _ledger("石城县", 8, [hazard(enterprise="甲")])
    broken = _ledger("寻乌县", 8, [hazard(enterprise="乙")])
    broken.submissions[0].records = broken.submissions[0].records.drop(columns=["description"])
    campaign = build_campaign([good, broken], AS_OF)
    assert campaign.summary()["hazards"]["by_unit"] == {"石城县": 1}
    (finding,) = _codes(campaign, "merge_failed")
    assert finding.file == "寻乌县8月台账.xlsx" and finding.severity == "error"


def test_every_notice_board_counts_and_a_later_board_replaces_only_its_enterprise():
    def boards(entries, file_name):
        wb, (ws,) = new_workbook("公示牌")
        write_registry(ws, [{"enterprise": name, "responsible_unit": "章贡区应急管理局", "head": head, "head_phone": "1",
                             "leader": "李四", "leader_phone": "2", "cadre": "王五", "cadre_phone": "3"} for name, head in entries],
                       layout="board")
        return load(wb, file_name)

    june = boards([("甲公司", "张一"), ("乙公司", "张二"), ("丙公司", "张三")], "章贡区公示牌.xlsx")
    august = boards([("乙公司", "赵二")], "章贡区公示牌（8月新增）.xlsx")
    registry = build_campaign([june, august], AS_OF).registry.set_index("enterprise")
    assert registry["head"].to_dict() == {"甲公司": "张一", "乙公司": "赵二", "丙公司": "张三"}
    assert set(registry["unit"]) == {"章贡区"}


def test_a_yearless_deadline_repeated_by_later_ledgers_keeps_its_first_reading():
    august = _ledger("于都县", 8, [hazard(enterprise="甲", deadline="8月底前", progress="整改中")])
    december = _ledger("于都县", 12, [hazard(enterprise="甲", deadline="8月底前", progress="整改中"),
                                       hazard(enterprise="乙", deadline="2月底前", progress="未整改")])
    campaign = build_campaign([august, december], dt.date(2024, 1, 23))
    unique = campaign.unique_hazards.set_index("enterprise")
    assert unique.loc["甲", "deadline"] == pd.Timestamp("2023-08-31") and unique.loc["甲", "overdue"]
    assert unique.loc["乙", "deadline"] == pd.Timestamp("2024-02-29") and not unique.loc["乙", "overdue"]
    # December alone reads its "8月底前" as next year's: the contract's rule for a new text.
    alone = build_campaign([december], dt.date(2024, 1, 23)).unique_hazards.set_index("enterprise")
    assert alone.loc["甲", "deadline"] == pd.Timestamp("2024-08-31")


def test_hazard_rows_as_lists_hold_each_distinct_text_once_and_keep_every_value():
    """Building the campaign turns the hazard rows into lists (identity, hazard ids); a hazard is
    listed again every month, so each distinct text is one object, and nothing else changes."""
    import math

    from loaders.identity import shared_values

    column = pd.Series(["石城县", None, "石城县", "于都县", None, "石城县"], dtype="str")
    values = shared_values(column)
    expected = column.to_numpy(dtype=object).tolist()
    assert len(values) == len(expected)
    for got, want in zip(values, expected):
        assert (isinstance(want, float) and math.isnan(got)) or got == want
    assert values[0] is values[2] is values[5]
    numbers = pd.Series([3, None, 3], dtype="object")
    assert shared_values(numbers) == [3, None, 3]  # not text: as it is
