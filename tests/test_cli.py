"""The ``hazardboard`` command as officers and scripts use it."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from dashboards.cli import main
from store import Store
from tests.test_store import AUGUST_FORM, CHEMICAL_PLANT, NOT_A_WORKBOOK, SHOPPING_MALL, county_form_workbook, ledger_workbook


@pytest.fixture
def reports(tmp_path):
    """A month's folder as received: a ledger, a county form and one file that is not a workbook."""
    folder = tmp_path / "2023年09月"
    folder.mkdir()
    (folder / "章贡区8月台账.xlsx").write_bytes(ledger_workbook([CHEMICAL_PLANT, SHOPPING_MALL]))
    (folder / "章贡区8月调度表.xlsx").write_bytes(county_form_workbook(AUGUST_FORM))
    (folder / "报送说明.xlsx").write_bytes(NOT_A_WORKBOOK)
    return folder


def test_summary_json_prints_exactly_the_contract_object(reports):
    completed = subprocess.run(
        [sys.executable, "-m", "dashboards.cli", "summary", str(reports), "--as-of", "2023-10-01", "--json"],
        capture_output=True, text=True, encoding="utf-8", check=False,
    )
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)  # one object and nothing else, or this fails

    assert list(summary) == ["files", "hazards", "indicators", "issues"]
    assert summary["files"] == {"accepted": 2, "rejected": 1}
    hazards = summary["hazards"]
    assert list(hazards) == ["unique", "by_unit", "by_sector", "by_status", "overdue", "supervised"]
    assert hazards["unique"] == 2 and hazards["by_unit"] == {"章贡区": 2}
    assert hazards["by_sector"] == {"fire": 1, "hazardous_chemicals": 1}
    assert hazards["by_status"] == {"rectified": 1, "in_progress": 1, "not_started": 0}
    assert hazards["overdue"] == 1  # the chemical plant's deadline 2023-09-30 has passed on --as-of
    assert hazards["supervised"] == {"city": 1, "county": 0, "province": 0}
    assert summary["indicators"]["章贡区"]["2023-08"]["self_found"] == 12
    assert summary["indicators"]["章贡区"]["2023-08"]["fines_wan"] == 35.6
    assert summary["issues"] and all(list(i) == ["file", "sheet", "cell", "severity", "message"] for i in summary["issues"])
    assert any(i["file"] == "报送说明.xlsx" and i["severity"] == "error" for i in summary["issues"])


def test_summary_without_json_reads_as_a_chinese_briefing(reports, capsys):
    assert main(["summary", str(reports), "--as-of", "2023-10-01"]) == 0
    out = capsys.readouterr().out
    assert "文件：已导入 2 个，未通过 1 个" in out
    assert "已整改 1 条，整改中 1 条，未整改 0 条；整改率 50.0%" in out
    assert "逾期未整改：1 条" in out
    assert "危险化学品 1" in out and "消防 1" in out
    assert "报送说明.xlsx：文件未导入" in out


def test_summary_without_as_of_counts_on_the_statistics_date(reports, capsys):
    """Today is long after the campaign: the date is capped at the filing deadline of the latest
    period received (August's forms are due 2023-09-23), not today's, so figures stay put."""
    assert main(["summary", str(reports)]) == 0
    out = capsys.readouterr().out
    assert "统计截至 2023年09月23日" in out
    assert "逾期未整改：0 条" in out  # the chemical plant is due 2023-09-30


def test_bad_as_of_exits_2_with_a_chinese_message(reports, capsys):
    assert main(["summary", str(reports), "--as-of", "2023-13-01", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--as-of 的日期“2023-13-01”无效" in captured.err


def test_ingest_reports_in_chinese_and_exits_0_with_a_bad_file_among_good_ones(reports, tmp_path, capsys):
    store_dir = tmp_path / "store"
    assert main(["ingest", str(reports), "--store", str(store_dir)]) == 0
    out = capsys.readouterr().out
    assert "已导入 2 个文件，未通过 1 个，已导入过跳过 0 个" in out
    assert "未通过的文件（1个" in out and "报送说明.xlsx：文件未导入：不是Excel工作簿" in out
    assert (store_dir / "hazardboard.sqlite").exists()

    assert main(["ingest", str(reports), "--store", str(store_dir)]) == 0
    assert "已导入 0 个文件，未通过 0 个，已导入过跳过 3 个" in capsys.readouterr().out


def test_ingest_report_lists_replacements_supplements_and_held_aside_files(tmp_path, capsys):
    store_dir = tmp_path / "store"
    first = tmp_path / "九月"
    first.mkdir()
    (first / "章贡区8月台账.xlsx").write_bytes(ledger_workbook([CHEMICAL_PLANT]))
    assert main(["ingest", str(first), "--store", str(store_dir)]) == 0
    capsys.readouterr()

    second = tmp_path / "十月"
    second.mkdir()
    (second / "章贡区8月台账（补报）.xlsx").write_bytes(ledger_workbook([SHOPPING_MALL]))
    (second / "章贡区调度表.xlsx").write_bytes(county_form_workbook(AUGUST_FORM, filed_on="2032年9月20日"))
    assert main(["ingest", str(second), "--store", str(store_dir)]) == 0
    out = capsys.readouterr().out
    assert "补报台账并入当月台账（不替代原台账）：\n  章贡区 2023-08 隐患台账（附件2）：“章贡区8月台账（补报）.xlsx”" in out
    assert "所属月份不在专项行动期间" in out and "章贡区 2032-08 县市区调度表（附件3）：“章贡区调度表.xlsx”" in out
    with Store(store_dir) as store:
        assert store.campaign(dt.date(2023, 10, 1)).summary()["hazards"]["unique"] == 2


def test_ingest_lists_cell_findings_errors_first_and_caps_long_lists(tmp_path, capsys, monkeypatch):
    bad_deadlines = [[n, "章贡区", f"企业{n}", "消防", f"隐患{n}", "整改", "无", "明年再说", "整改中"] for n in range(1, 24)]
    unknown_sector = [[24, "章贡区", "企业24", "", "隐患24", "整改", "无", "2023.9.30", "整改中"]]
    (tmp_path / "台账.xlsx").write_bytes(ledger_workbook(bad_deadlines + unknown_sector))
    monkeypatch.setenv("HAZARDBOARD_STORE", str(tmp_path / "store"))

    assert main(["ingest", str(tmp_path / "台账.xlsx")]) == 0
    out = capsys.readouterr().out
    assert out.index("错误（23条）") < out.index("警告（") and "台账.xlsx / 台账 / H4：" in out
    assert "……另有3条，见 hazardboard ingest … --all" in out

    assert main(["ingest", str(tmp_path / "台账.xlsx"), "--all"]) == 0
    out = capsys.readouterr().out
    assert "另有" not in out and "台账.xlsx / 台账 / H26：" in out


@pytest.fixture
def served(monkeypatch):
    """Capture what ``serve`` would start instead of blocking on a Panel server."""
    import dashboards.app

    calls: list[dict] = []
    monkeypatch.setattr(dashboards.app, "serve", lambda **kwargs: calls.append(kwargs))
    return calls


def test_serve_ingests_data_and_passes_options_through(reports, tmp_path, capsys, served):
    from auth.users import UsersFile

    store_dir = tmp_path / "store"
    users = UsersFile(store_dir / "users.json")  # the default users file: in the data folder
    users.add("awh", "committee", password="an-office-password")
    assert main(["serve", "--data", str(reports), "--store", str(store_dir), "--port", "5007",
                 "--address", "0.0.0.0", "--allow-host", "aqw.gz.gov.cn", "--behind-proxy",
                 "--num-procs", "2", "--as-of", "2023-10-01"]) == 0
    assert "已导入 2 个文件，未通过 1 个" in capsys.readouterr().err
    (call,) = served
    assert (call["port"], call["address"], call["num_procs"]) == (5007, "0.0.0.0", 2)
    assert call["as_of"] == dt.date(2023, 10, 1)
    assert call["allow_hosts"] == ("aqw.gz.gov.cn",) and call["behind_proxy"] is True
    signin = call["signin"]
    assert signin.required and signin.users.path == users.path and len(signin.cookie_secret) >= 32
    assert len(Store(call["store"]).files_frame()) == 3
    # The cookie secret is made once and kept: a restart signs nobody out.
    assert main(["serve", "--store", str(store_dir), "--address", "0.0.0.0", "--allow-host", "aqw.gz.gov.cn"]) == 0
    assert served[1]["signin"].cookie_secret == signin.cookie_secret
    # On loopback nobody signs in unless asked.
    assert main(["serve", "--store", str(store_dir)]) == 0
    assert not served[2]["signin"].required
    assert main(["serve", "--store", str(store_dir), "--auth"]) == 0
    assert served[3]["signin"].required


def test_serve_loads_the_sample_only_into_an_empty_store(reports, tmp_path, served):
    store_dir = tmp_path / "store"
    assert main(["serve", "--data", str(reports), "--store", str(store_dir)]) == 0
    assert main(["serve", "--store", str(store_dir)]) == 0  # a store with data: nothing added
    assert len(Store(store_dir).files_frame()) == 3
    empty_dir = tmp_path / "empty"
    assert main(["serve", "--store", str(empty_dir)]) == 0
    assert len(Store(empty_dir).files_frame()) > 100  # the bundled sample campaign


def test_missing_paths_and_version(tmp_path, capsys):
    assert main(["summary", str(tmp_path / "没有这个文件夹")]) == 2
    assert "找不到要读取的文件或文件夹" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.startswith("hazardboard ")


def test_serve_takes_the_annotation_tags_officers_choose_from(reports, tmp_path, capsys, served):
    store_dir = tmp_path / "store"
    assert main(["serve", "--data", str(reports), "--store", str(store_dir),
                 "--annotation-tags", "需关注, 已督办、限期整改,需关注"]) == 0
    assert served[-1]["annotation_tags"] == ("需关注", "已督办", "限期整改")
    assert main(["serve", "--store", str(store_dir)]) == 0
    assert served[-1]["annotation_tags"] is None  # the default list
    assert main(["serve", "--store", str(store_dir), "--annotation-tags", "，"]) == 2
    assert "--annotation-tags" in capsys.readouterr().err
    assert main(["serve", "--store", str(store_dir), "--annotation-tags", "标" * 33]) == 2
    assert "32" in capsys.readouterr().err


def test_the_server_offers_the_tags_it_was_given():
    from components.annotation_panel import annotation_tags, set_annotation_tags
    from store.annotations import DEFAULT_TAGS

    set_annotation_tags(("限期整改", "已约谈"))
    try:
        assert annotation_tags() == ("限期整改", "已约谈")
    finally:
        set_annotation_tags(None)
    assert annotation_tags() == tuple(DEFAULT_TAGS)
