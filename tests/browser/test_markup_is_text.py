"""Text from a workbook or a link is shown as text and never runs (issue 8, point 1).

A campaign whose ledger, form and notice board carry markup in every text field is served;
every page of the dashboard and every meeting slide is opened, also through links whose query
parameters carry markup. A payload that ran would set ``window.__xss`` or open a dialog.
"""

from __future__ import annotations

import json
import urllib.parse

import pytest
from openpyxl import Workbook

from sample_data.writers import write_form, write_ledger, write_registry
from tests.browser.conftest import screenshot, start_server, stop_server, free_port, wait_ready

PAYLOAD = '<img src=x onerror="window.__xss=(window.__xss||0)+1">'
UNIT = f"{PAYLOAD}县"  # an unknown unit is kept as written, so its name reaches every unit list
PAGES = ("overview", "hazards", "map", "enforcement", "training", "dispatch", "data")
SLIDES = range(5)


def _hostile_campaign(folder) -> None:
    rows = [{
        "unit": UNIT, "enterprise": f"{PAYLOAD}企业{n}", "sector": f"{PAYLOAD}危化", "description": f"{PAYLOAD}描述{n}",
        "measures": f"<script>window.__xss=1</script>措施{n}", "supervision": f"市级挂牌督办{PAYLOAD}",
        "deadline": "2023年6月30日", "progress": f"整改中{PAYLOAD}",
    } for n in range(3)]
    for month in (7, 8):
        workbook = Workbook()
        write_ledger(workbook.active, rows, unit_label=UNIT, title=f"2023年{month}月重大事故隐患排查整治台账")
        workbook.save(folder / f"{month}月台账.xlsx")
        workbook = Workbook()
        write_form(workbook.active, {"self_found": 3 * month, "dept_found": 2, "penalties": 1, "fines_wan": 2.5,
                                     "media_column": "是"},
                   unit_label=UNIT, title_period_text=f"（2023年{month}月）", filed_on_text=f"2023年{month + 1}月20日")
        workbook.save(folder / f"{month}月调度表.xlsx")
    workbook = Workbook()
    write_registry(workbook.active, [{"enterprise": f"{PAYLOAD}企业0", "responsible_unit": PAYLOAD, "head": PAYLOAD,
                                      "head_phone": PAYLOAD, "leader": PAYLOAD, "leader_phone": "1", "cadre": PAYLOAD,
                                      "cadre_phone": "2"}], layout="board")
    workbook.save(folder / f"{PAYLOAD[:4]}公示牌.xlsx")


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    _hostile_campaign(folder)
    process = start_server(tmp_path_factory.mktemp("store"), port := free_port(), data=[str(folder)], log_name="server-hostile")
    yield f"http://localhost:{port}"
    stop_server(process)


def _visit(page, url: str) -> None:
    page.goto(url)
    wait_ready(page, timeout=60_000)
    page.wait_for_timeout(500)  # an image error handler fires after the image fails to load


def _assert_nothing_ran(page, dialogs: list[str], where: str) -> None:
    assert page.evaluate("() => window.__xss") is None, f"markup ran on {where}"
    assert dialogs == [], f"a dialog opened on {where}"


def test_workbook_text_with_markup_stays_text_on_every_page_and_slide(hostile_server, page):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for name in PAGES:
        _visit(page, f"{hostile_server}/?page={name}")
        _assert_nothing_ran(page, dialogs, name)
    # The hazards page lists the enterprise: its name is shown literally.
    _visit(page, f"{hostile_server}/?page=hazards")
    assert page.get_by_text("企业1", exact=False).count() > 0
    assert "<img src=x" in page.locator(".tabulator-table").first.inner_text()
    screenshot(page, "markup-hazards")
    units = urllib.parse.quote(json.dumps([UNIT], ensure_ascii=False))
    for slide in SLIDES:
        _visit(page, f"{hostile_server}/meeting?slide={slide}&units={units}")
        _assert_nothing_ran(page, dialogs, f"meeting slide {slide}")
        if slide == 0:
            assert "<img src=x" in page.locator(".hb-slide-title").first.inner_text()
    screenshot(page, "markup-meeting")


def test_markup_in_every_url_parameter_is_dropped_or_shown_as_text(hostile_server, page):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    hostile = json.dumps([PAYLOAD])
    query = {name: PAYLOAD for name in ("page", "unit_type", "period_start", "period_end", "search", "hazard", "lang",
                                         "measure", "deadline_start", "deadline_end", "overdue_only")}
    query.update({name: hostile for name in ("units", "sectors", "statuses", "supervision_levels")})
    for route in ("/", "/meeting"):
        _visit(page, f"{hostile_server}{route}?{urllib.parse.urlencode(query)}")
        _assert_nothing_ran(page, dialogs, route)
        assert page.console_log.errors == []
    # The dashboard says which values it ignored, as text.
    _visit(page, f"{hostile_server}/?units={urllib.parse.quote(hostile)}")
    notice = page.locator(".notyf__message").first
    notice.wait_for(timeout=20_000)
    assert "已忽略" in notice.inner_text() and "<img src=x" in notice.inner_text()
    _assert_nothing_ran(page, dialogs, "notice")
