"""The meeting screen in a real browser: keyboard and clicker navigation, the session's filters, read-only."""

from __future__ import annotations

import json
import urllib.parse

from tests.browser.conftest import screenshot

SLIDE_TITLES = ["工作总览", "通报排名", "挂图作战", "逾期与挂牌督办隐患", "执法情况"]


def _title(page) -> str:
    return page.locator(".hb-slide-title").first.inner_text()


def _wait_title(page, text: str) -> None:
    page.locator(".hb-slide-title", has_text=text).first.wait_for(timeout=20_000)


def test_keyboard_and_clicker_keys_move_between_screens(server, page):
    page.goto(f"{server}/meeting")
    _wait_title(page, SLIDE_TITLES[0])
    screenshot(page, "meeting-0-overview")
    for index, key in enumerate(["ArrowRight", "PageDown", "ArrowRight", "ArrowRight"], start=1):
        page.keyboard.press(key)
        _wait_title(page, SLIDE_TITLES[index])
        page.wait_for_function(f"() => window.location.search.includes('slide={index}')")
        page.wait_for_timeout(800)  # let the charts draw before the screenshot
        screenshot(page, f"meeting-{index}")
    page.keyboard.press("ArrowRight")  # the last screen stays the last
    page.wait_for_timeout(500)
    assert SLIDE_TITLES[-1] in _title(page)
    page.keyboard.press("PageUp")
    _wait_title(page, SLIDE_TITLES[3])
    page.keyboard.press("Home")
    _wait_title(page, SLIDE_TITLES[0])
    page.keyboard.press("End")
    _wait_title(page, SLIDE_TITLES[-1])
    assert page.console_log.errors == []


def test_opens_on_the_screen_and_filters_in_the_url(server, page):
    query = urllib.parse.urlencode({"slide": 2, "units": json.dumps(["章贡区"], ensure_ascii=False)})
    page.goto(f"{server}/meeting?{query}")
    _wait_title(page, "挂图作战 · 章贡区")
    page.locator(".hb-meeting-map canvas").first.wait_for()
    assert page.console_log.errors == []


def test_overview_numbers_follow_the_unit_filter(server, page):
    page.goto(f"{server}/meeting")
    _wait_title(page, SLIDE_TITLES[0])
    everyone = page.locator(".hb-kpi .hb-number").first.inner_text()
    query = urllib.parse.urlencode({"units": json.dumps(["章贡区"], ensure_ascii=False)})
    page.goto(f"{server}/meeting?{query}")
    _wait_title(page, "工作总览 · 章贡区")
    one_county = page.locator(".hb-kpi .hb-number").first.inner_text()
    assert int(one_county.replace(",", "")) < int(everyone.replace(",", ""))


def test_no_editing_controls(server, page):
    page.goto(f"{server}/meeting")
    _wait_title(page, SLIDE_TITLES[0])
    for selector in ("input", "select", "textarea", "button"):
        assert page.locator(selector).count() == 0, selector
