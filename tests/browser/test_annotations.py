"""Annotations in a real browser (issue 9): the officer gives a name once, annotates a hazard from its
detail, edits and resolves it, annotates a county from the map (the name remembered by the browser
across page loads); everything survives a server restart on the same store and a re-ingest of the
sample, and shows on the hazard's table row and as the county's badge on the map."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import quote

import pytest
from tests.browser.conftest import (
    ROOT,
    TRACK_WEBSOCKET,
    click_row_until,
    free_port,
    screenshot,
    start_server,
    stop_server,
    wait_ready,
)

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect  # noqa: E402

AUTHOR = "张科长"
UNIT = "会昌县"
UNITS_QUERY = "units=" + quote(f'["{UNIT}"]')
# The text of the county's label on the map (a Bokeh data source), e.g. "会昌县✎1\n123".
MAP_LABEL_JS = """
(prefix) => {
  for (const doc of Bokeh.documents) {
    for (const model of doc.all_models) {
      const data = model.data;
      if (!data) continue;
      const texts = data instanceof Map ? data.get("text") : data.text;
      if (!texts) continue;
      for (const text of texts) if (String(text).startsWith(prefix)) return String(text);
    }
  }
  return null;
}
"""


def _save(page, scope) -> None:
    scope.locator(".hb-an-save button").click()


def _hazard_card(page):
    return page.locator(".hb-hazard-detail .hb-an-card")


def test_annotate_edit_resolve_and_keep_across_restart_and_reingest(browser, tmp_path):
    store_dir = tmp_path / "store"
    port = free_port()
    server = start_server(store_dir, port, log_name="server-annotations")
    base = f"http://localhost:{port}"
    context = browser.new_context(viewport={"width": 1600, "height": 1400}, locale="zh-CN")
    context.add_init_script(TRACK_WEBSOCKET)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # A hazard of 会昌县, opened from the table.
        page.goto(f"{base}/?page=hazards&{UNITS_QUERY}")
        wait_ready(page)
        first = page.locator(".hb-hazard-table .tabulator-row").first
        click_row_until(page, first.locator(".tabulator-cell[tabulator-field='enterprise']"),
                        "() => Boolean(new URLSearchParams(location.search).get('hazard'))")
        hazard = page.evaluate("() => new URLSearchParams(location.search).get('hazard')")
        detail = page.locator(".hb-hazard-detail")
        editor = detail.locator(".hb-an-editor")
        expect(editor.locator(".hb-an-text textarea")).to_be_visible()

        # No name yet: refused with a clear message, the text stays.
        editor.locator(".hb-an-text textarea").fill("**已电话核实**，<script>alert(1)</script> 企业承诺月底前完成整改。")
        _save(page, editor)
        expect(editor.locator(".hb-an-message")).to_contain_text("请先在“批注人”处填写您的姓名")
        expect(editor.locator(".hb-an-text textarea")).to_have_value("**已电话核实**，<script>alert(1)</script> 企业承诺月底前完成整改。")

        # The name, once; then the note is saved and rendered (the markup typed is text).
        editor.locator(".hb-an-author input").fill(AUTHOR)
        editor.locator(".hb-an-author input").press("Enter")
        _save(page, editor)
        card = _hazard_card(page)
        expect(card).to_have_count(1)
        expect(card.locator("strong")).to_have_text("已电话核实")
        expect(card).to_contain_text("<script>alert(1)</script>")
        expect(card).to_contain_text(AUTHOR)

        # Edit it.
        detail.locator(".hb-an-edit button").click()
        expect(editor.locator(".hb-an-editing")).to_contain_text("正在编辑")
        editor.locator(".hb-an-text textarea").fill("已督办：**9月30日前**完成整改。")
        _save(page, editor)
        expect(card.locator("strong")).to_have_text("9月30日前")
        expect(card).to_contain_text("第 2 版")

        # Resolve it; the history keeps every version.
        detail.locator(".hb-an-resolve button").click()
        expect(card).to_contain_text("已办结")
        expect(detail.locator(".hb-an-reopen button")).to_be_visible()  # the cards are drawn again
        history = detail.locator(".hb-an-history-table")
        for _ in range(3):  # a click while the cards are being replaced can land on the old ones
            detail.locator(".hb-an-history button").click()
            try:
                expect(history).to_be_visible(timeout=5_000)
                break
            except AssertionError:
                continue
        expect(history).to_contain_text("创建")
        expect(history).to_contain_text("修改")
        expect(history).to_contain_text("办结")
        screenshot(page, "annotations-hazard-detail")

        # The table row carries the mark.
        row = page.locator(".hb-hazard-table .tabulator-row", has_text="✎ 1")
        expect(row).to_have_count(1)

        # A unit annotation from the map (the county selected), and its badge. A new page load: the
        # server's session is new, the name comes back from the browser.
        page.goto(f"{base}/?page=map&{UNITS_QUERY}")
        wait_ready(page)
        page.locator(".hb-an-unit-button button").click()
        unit_editor = page.locator(".hb-an-unit .hb-an-editor")
        expect(unit_editor.locator(".hb-an-author input")).to_have_value(AUTHOR)
        unit_editor.locator(".hb-an-text textarea").fill("乡镇排查力度不足，已约谈。")
        _save(page, unit_editor)
        expect(page.locator(".hb-an-unit .hb-an-card")).to_contain_text("已约谈")
        page.wait_for_function(f"() => ({MAP_LABEL_JS})('{UNIT}✎1') !== null")
    finally:
        stop_server(server)

    # The same store: the sample ingested again from the command line, then the server restarted.
    ingest = subprocess.run([sys.executable, "-m", "dashboards.cli", "ingest", "--store", str(store_dir),
                             str(ROOT / "sample_data" / "campaign")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    server = start_server(store_dir, port, log_name="server-annotations-restarted")
    try:
        page.goto(f"{base}/?page=hazards&{UNITS_QUERY}&hazard={hazard}")
        wait_ready(page)
        card = _hazard_card(page)
        expect(card).to_have_count(1)
        expect(card.locator("strong")).to_have_text("9月30日前")
        expect(card).to_contain_text("已办结")
        expect(page.locator(".hb-hazard-table .tabulator-row", has_text="✎ 1")).to_have_count(1)

        page.goto(f"{base}/?page=map")
        wait_ready(page)
        page.wait_for_function(f"() => ({MAP_LABEL_JS})('{UNIT}✎1') !== null")
        screenshot(page, "annotations-map")

        # The panel lists both, in Chinese and in English.
        page.goto(f"{base}/?page=annotations")
        wait_ready(page)
        table = page.locator(".hb-an-table")
        expect(table.locator(".tabulator-row")).to_have_count(2)
        expect(table).to_contain_text(AUTHOR)
        table.locator(".tabulator-cell", has_text="乡镇排查").click()
        expect(page.locator(".hb-an-detail .hb-an-card")).to_contain_text("已约谈")
        screenshot(page, "annotations-page-zh")
        page.goto(f"{base}/?page=annotations&lang=en")
        wait_ready(page)
        expect(page.locator(".hb-an-heading")).to_contain_text("Annotations")
        screenshot(page, "annotations-page-en")
        assert errors == []
    finally:
        context.close()
        stop_server(server)
