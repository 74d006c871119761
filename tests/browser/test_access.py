"""Sign-in and roles in a real browser against a server open to the network (issue 10).

``hazardboard serve --address 0.0.0.0`` on the sample campaign with a users file: nothing is
served before sign-in (pages, the meeting screen, the websocket); a county officer (会昌县) who
signs in sees only 会昌县's hazards, and is refused when they reach for 章贡区's through the
websocket (the unit filter's model changed in the page's JavaScript), through a URL (章贡区's
hazard id) and through the upload (章贡区's workbook); a viewer has nothing to write with.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from auth.users import UsersFile
from store import Store
from tests.browser.conftest import TRACK_WEBSOCKET, free_port, screenshot, start_server, stop_server, wait_ready

ROOT = Path(__file__).resolve().parents[2]
AUGUST = ROOT / "sample_data" / "campaign" / "2023年08月"
OWN, OTHER = "会昌县", "章贡区"
OTHER_LEDGER = "章贡区_2023年8月_台账.xlsx"
PASSWORD = "Ganzhou-2023!"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Sets a Bokeh model's property in the page, as a hand-made websocket message would.
SET_MODEL_JS = """
([cssClass, name, value]) => {
  for (const doc of Bokeh.documents) {
    for (const model of doc.all_models) {
      if (model.css_classes && model.css_classes.includes(cssClass) && name in model) {
        model[name] = value; return true;
      }
    }
  }
  return false;
}
"""


@pytest.fixture(scope="module")
def network_server(server_process, tmp_path_factory):
    """A second server over the session server's store, on 0.0.0.0, sign-in required."""
    users = UsersFile(tmp_path_factory.mktemp("users") / "users.json")
    users.add("hc01", "unit", unit=OWN, password=PASSWORD, display_name="会昌张三")
    users.add("screen", "viewer", password=PASSWORD, display_name="会议室大屏")
    port = free_port()
    process = start_server(server_process.store_dir, port, log_name="server-access",
                           options=["--address", "0.0.0.0", "--allow-host", "localhost", "--users", str(users.path)])
    process.url = f"http://localhost:{port}"
    process.users = users
    campaign = Store(server_process.store_dir).campaign()
    process.other = campaign.unique_hazards.query("unit == @OTHER")
    process.own_count = int((campaign.unique_hazards["unit"] == OWN).sum())
    yield process
    stop_server(process)


def _fetch(url: str) -> tuple[int, str, str]:
    """(status, Location header, body) without following redirects."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=20) as response:
            return response.status, response.headers.get("Location", ""), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", ""), error.read().decode("utf-8", "replace")


def test_nothing_is_served_before_sign_in(network_server):
    base = network_server.url
    for path in ("/", "/?page=hazards", "/meeting", "/ws", "/?page=data"):
        status, location, body = _fetch(base + path)
        assert status in (302, 403), path
        assert status == 403 or "/login" in location, path
        assert not any(name in body for name in network_server.other["enterprise"].head(20)), path
    status, _, body = _fetch(base + "/login")
    assert status == 200 and "用户名" in body and "密码" in body
    assert "http://" not in body and "https://" not in body  # served by the app itself


def _sign_in(page, base: str, user: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/?page=hazards")
    page.locator(".hb-login-form").wait_for()
    page.fill("#username", user)
    page.fill("#password", password)
    page.locator(".hb-login-submit").click()


def test_a_county_officer_is_refused_other_units_hazards_by_websocket_url_and_upload(network_server, browser):
    base = network_server.url
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    context.add_init_script(TRACK_WEBSOCKET)
    page = context.new_page()
    try:
        _sign_in(page, base, "hc01", "not-the-password")
        expect(page.locator(".hb-login-error")).to_contain_text("用户名或密码错误")
        page.fill("#password", PASSWORD)
        page.locator(".hb-login-submit").click()
        wait_ready(page, timeout=60_000)
        expect(page.locator(".hb-account")).to_contain_text("会昌张三（会昌县）")
        expect(page.locator(".hb-scope-note")).to_contain_text(f"您的账号属于{OWN}")
        summary = page.locator(".hb-hazards-summary p")
        expect(summary).to_contain_text(f"共 {network_server.own_count} 条")
        units = page.locator(".hb-hazard-table .tabulator-cell[tabulator-field='unit']")
        assert set(units.all_inner_texts()) == {OWN}
        screenshot(page, "access-county-hazards")

        # Through the websocket: the unit filter's model set to 章贡区 by hand. Whether the server
        # drops the unknown unit or filters on it, 章贡区's hazards are not in this session's data.
        assert page.evaluate(SET_MODEL_JS, ["hb-filter-units", "value", [OTHER]])
        page.wait_for_timeout(1000)
        wait_ready(page, timeout=60_000)
        assert set(units.all_inner_texts()) <= {OWN}
        text = summary.inner_text()
        assert f"共 {network_server.own_count} 条" in text or "共 0 条" in text
        body = page.locator("body").inner_text()
        assert not any(name in body for name in network_server.other["enterprise"])

        # Through a URL: 章贡区's hazard opened by its id.
        hazard = network_server.other.iloc[0]
        page.goto(f"{base}/?page=hazards&hazard={hazard['hazard_id']}")
        wait_ready(page, timeout=60_000)
        expect(page.locator(".hb-hazard-detail")).to_contain_text("当前数据中没有这条隐患")
        assert hazard["enterprise"] not in page.locator("body").inner_text()

        # Through the upload: 章贡区's ledger is refused by name, nothing stored.
        page.goto(f"{base}/?page=data")
        wait_ready(page, timeout=60_000)
        page.locator(".hb-upload-input input[type=file]").set_input_files([
            {"name": "会昌县8月台账（补报）.xlsx", "mimeType": XLSX, "buffer": (AUGUST / OTHER_LEDGER).read_bytes()}])
        page.locator(".hb-upload-refused[data-upload=sent]").wait_for(state="attached", timeout=60_000)
        page.locator(".hb-upload-import button").click()
        row = page.locator(".hb-upload-report .tabulator-row", has_text="会昌县8月台账（补报）.xlsx")
        expect(row).to_contain_text("无权上传", timeout=60_000)
        expect(row).to_contain_text(f"只能上传{OWN}的表格")
        # The export offers the officer's own unit only.
        page.locator(".hb-export-open button").click()
        scope = page.locator(".hb-export-scope select")
        expect(scope).to_be_visible()
        assert scope.locator("option").all_inner_texts() == [OWN]
        screenshot(page, "access-county-export")

        # Signing out ends it: the app is behind the sign-in page again.
        page.goto(f"{base}/logout")
        expect(page.locator(".hb-login-note")).to_contain_text("您已退出登录")
        page.goto(f"{base}/?page=hazards")
        page.locator(".hb-login-form").wait_for()
    finally:
        context.close()


def test_a_viewer_has_nothing_to_write_with(network_server, browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    context.add_init_script(TRACK_WEBSOCKET)
    page = context.new_page()
    try:
        _sign_in(page, network_server.url, "screen")
        wait_ready(page, timeout=60_000)
        expect(page.locator(".hb-account")).to_contain_text("会议室大屏（只读）")
        assert page.locator(".hb-export-open").count() == 0
        page.goto(f"{network_server.url}/?page=data")
        wait_ready(page, timeout=60_000)
        expect(page.locator(".hb-upload-viewer")).to_contain_text("只读账号不能上传文件")
        assert page.locator(".hb-upload-input").count() == 0
        # The account removed while its page is open: the page ends and asks for a new sign-in.
        network_server.users.remove("screen")
        expect(page.locator(".hb-signed-out")).to_contain_text("请重新登录", timeout=15_000)
        page.locator(".hb-signed-out a").click()
        page.locator(".hb-login-form").wait_for()
    finally:
        context.close()
