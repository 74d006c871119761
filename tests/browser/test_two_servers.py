"""Two server processes over one PostgreSQL database behind nginx (issue 11).

The sample campaign's May and June are ingested into a fresh PostgreSQL database with the CLI;
two ``hazardboard serve --behind-proxy`` processes run on it, and nginx on loopback in front of
them with the configuration the README shows (``docs/deploy/nginx-hazardboard.conf``: a route
cookie nginx sets itself, hashed to pick the server, so a page and its websocket reach the same
process). Two browser contexts sign in, one on each server. July's workbooks are uploaded
through the first; the second (the other process, no reload) says 数据已更新 and shows the new
figures within 10 s. Both sessions still redraw on a filter change, and nginx's log shows every
request of a route, the websockets included, went to one server.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import (
    ARTIFACTS, TRACK_WEBSOCKET, ConsoleLog, _wait_for_port, free_port, screenshot, stop_server, wait_ready,
)
from tests.browser.test_access import SET_MODEL_JS  # a filter widget's value set in the page

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = ROOT / "sample_data" / "campaign"
CONFIG = ROOT / "docs" / "deploy" / "nginx-hazardboard.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PASSWORD = "Ganzhou-2023!"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNIT = "会昌县"
TOTAL = re.compile(r"共 ([\d,]+) 条隐患")
NOTICE_S = 10  # the other server's session shows the change within this after the upload
UPLOADED_FILES = 12  # July's first workbooks (会昌县's among them): enough to move every total
# nginx's main context for the test: everything under a temporary folder, in the foreground.
MAIN_CONFIG = """{user}daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 256; }}
http {{
    log_format routes '$request_method $uri $status route=$cookie_hb_route upstream=$upstream_addr';
    access_log {tmp}/access.log routes;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/hazardboard.conf;
}}
"""


def render_config(listen: str, servers: tuple[str, str], server_name: str) -> str:
    """The README's nginx configuration with this deployment's addresses."""
    text = CONFIG.read_text(encoding="utf-8")
    for placeholder, value in (("@LISTEN@", listen), ("@SERVER_A@", servers[0]), ("@SERVER_B@", servers[1]),
                               ("@SERVER_NAME@", server_name)):
        assert placeholder in text, placeholder
        text = text.replace(placeholder, value)
    return text


def start_nginx(folder: Path, port: int, servers: tuple[str, str]) -> subprocess.Popen:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hazardboard.conf").write_text(render_config(f"127.0.0.1:{port}", servers, "127.0.0.1 localhost"),
                                             encoding="utf-8")
    user = "user root;\n" if os.geteuid() == 0 else ""  # as root the workers would run as nobody
    (folder / "nginx.conf").write_text(MAIN_CONFIG.format(user=user, tmp=folder), encoding="utf-8")
    command = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    _wait_for_port(port, process, 10)
    return process


def launch_server(store: str, port: int, nginx_port: int, log_name: str) -> subprocess.Popen:
    """``hazardboard serve`` behind the proxy (no wait: both servers start together)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / f"{log_name}.log", "w")
    command = [sys.executable, "-m", "dashboards.cli", "serve", "--store", store, "--port", str(port),
               "--behind-proxy", "--allow-host", f"127.0.0.1:{nginx_port}", "--allow-host", f"localhost:{nginx_port}"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    process.log_path = ARTIFACTS / f"{log_name}.log"
    return process


def new_page(browser, base: str, route: str):
    """A browser context whose nginx route cookie is ``route``, and its page (console errors recorded)."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    context.add_cookies([{"name": "hb_route", "value": route, "url": base}])
    context.add_init_script(TRACK_WEBSOCKET)
    page = context.new_page()
    page.console_log = ConsoleLog()
    page.on("console", page.console_log.on_console)
    page.on("pageerror", page.console_log.on_page_error)
    page.on("requestfailed", lambda request: page.console_log.errors.append(f"requestfailed: {request.url} {request.failure}"))
    page.set_default_timeout(30_000)
    return context, page


def sign_in(pages_and_paths: list[tuple], base: str) -> None:
    """Sign the pages in, their servers building the sessions at the same time."""
    for page, path in pages_and_paths:
        page.goto(f"{base}{path}")
        page.locator(".hb-login-form").wait_for()
        page.fill("#username", "awh")
        page.fill("#password", PASSWORD)
        page.locator(".hb-login-submit").click()
    for page, _ in pages_and_paths:
        wait_ready(page, timeout=60_000)
        expect(page.locator(".hb-account")).to_contain_text("安委办李四")


def hazard_total(page) -> int:
    """The hazards page's total (共 N 条隐患), once the summary is drawn."""
    summary = page.locator(".hb-hazards-summary p")
    expect(summary).to_have_text(TOTAL)
    return int(TOTAL.search(summary.inner_text()).group(1).replace(",", ""))


def routes_in_log(path: Path) -> dict[str, set[str]]:
    """route cookie → the upstream addresses nginx sent its requests to (static files included)."""
    seen: dict[str, set[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        route = re.search(r"route=(\S*)", line).group(1)
        upstream = re.search(r"upstream=(\S*)", line).group(1)
        if route and upstream != "-":
            seen.setdefault(route, set()).add(upstream)
    return seen


def test_readme_shows_the_tested_nginx_configuration():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert CONFIG.read_text(encoding="utf-8").strip() in readme


def test_an_upload_through_one_server_reaches_a_session_of_the_other(postgresql_database, browser, tmp_path):
    started = time.monotonic()
    store = postgresql_database()
    ingest = subprocess.run([sys.executable, "-m", "dashboards.cli", "ingest", "--store", store,
                             str(CAMPAIGN / "2023年05月"), str(CAMPAIGN / "2023年06月")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in ingest.stderr, ingest.stderr
    print(f"ingest: {time.monotonic() - started:.1f} s", flush=True)
    # The committee account, in the database: both servers sign in against it.
    account = subprocess.run([sys.executable, "-m", "dashboards.cli", "users", "add", "awh", "--role", "committee",
                              "--display-name", "安委办李四", "--store", store, "--password-stdin"],
                             cwd=ROOT, input=PASSWORD + "\n", capture_output=True, text=True, timeout=60)
    assert account.returncode == 0, account.stderr

    nginx_port, ports = free_port(), (free_port(), free_port())
    servers = tuple(f"127.0.0.1:{port}" for port in ports)
    processes = [launch_server(store, port, nginx_port, f"server-two-{name}")
                 for port, name in zip(ports, "ab")]
    nginx = None
    contexts = []
    pages = []
    try:
        for port, process in zip(ports, processes):
            _wait_for_port(port, process, 120)
        nginx = start_nginx(tmp_path / "nginx", nginx_port, servers)
        base = f"http://127.0.0.1:{nginx_port}"

        # One context per server: route cookies tried until each server has one.
        by_server: dict[str, tuple] = {}
        for attempt in range(40):
            context, page = new_page(browser, base, f"route-{attempt}")
            upstream = context.request.get(f"{base}/login").headers.get("x-hazardboard-upstream")
            assert upstream in servers, upstream
            if upstream in by_server:
                context.close()
                continue
            contexts.append(context)
            by_server[upstream] = (context, page, f"route-{attempt}")
            if len(by_server) == 2:
                break
        assert set(by_server) == set(servers)
        print(f"servers and nginx up: {time.monotonic() - started:.1f} s", flush=True)
        (_, uploader, route_a), (_, watcher, route_b) = by_server[servers[0]], by_server[servers[1]]
        pages = [uploader, watcher]
        sign_in([(uploader, "/?page=data"), (watcher, "/?page=hazards")], base)
        before = hazard_total(watcher)
        startup_s = time.monotonic() - started
        print(f"servers up, nginx, two sessions signed in: {startup_s:.1f} s", flush=True)

        july = sorted((CAMPAIGN / "2023年07月").glob("*.xls*"))[:UPLOADED_FILES]
        uploader.locator(".hb-upload-input input[type=file]").set_input_files(
            [{"name": path.name, "mimeType": XLSX, "buffer": path.read_bytes()} for path in july])
        uploader.locator(".hb-upload-refused[data-upload=sent]").wait_for(state="attached", timeout=60_000)
        clicked = time.monotonic()
        uploader.locator(".hb-upload-import button").click()
        uploader.get_by_text("导入完成").wait_for(timeout=60_000)
        upload_s = time.monotonic() - clicked
        print(f"upload of {len(july)} files: {upload_s:.1f} s", flush=True)

        # The other process's session, without a reload: the notice and the new figures, both
        # within NOTICE_S of the upload's end.
        deadline = time.monotonic() + NOTICE_S

        def left_ms() -> float:
            return max(1.0, (deadline - time.monotonic()) * 1000)

        notice = watcher.locator(".notyf__message", has_text="数据已更新")
        expect(notice).to_be_visible(timeout=left_ms())
        expect(notice).to_contain_text("新增")
        expect(watcher.locator(".hb-hazards-summary p")).not_to_contain_text(f"共 {before:,} 条", timeout=left_ms())
        notice_s = time.monotonic() - clicked
        after = hazard_total(watcher)
        assert after > before

        # Both sessions still work on their own server: the uploader's page follows the change
        # too, and a filter change redraws each.
        uploader.locator(".hb-nav-hazards button").click()
        expect(uploader.locator(".hb-hazards-summary p")).to_contain_text(f"共 {after:,} 条")
        for page in pages:
            wait_ready(page, timeout=60_000)
            assert page.evaluate(SET_MODEL_JS, ["hb-filter-units", "value", [UNIT]])
            expect(page.locator(".hb-hazards-summary p")).not_to_contain_text(f"共 {after:,} 条")
            wait_ready(page, timeout=60_000)
            units = page.locator(".hb-hazard-table .tabulator-cell[tabulator-field='unit']")
            assert set(units.all_inner_texts()) == {UNIT}
        assert hazard_total(uploader) == hazard_total(watcher) < after
        screenshot(watcher, "two-servers-watcher")

        for page in pages:
            assert page.console_log.errors == []
        for process in processes:
            server_log = process.log_path.read_text(encoding="utf-8")
            assert "Traceback" not in server_log and "ERROR" not in server_log, server_log[-3000:]
        # nginx sent each route's requests, page and websocket alike, to one server (a websocket
        # is logged when it closes).
        for context in contexts:
            context.close()
        contexts.clear()
        access_log = tmp_path / "nginx" / "access.log"
        deadline = time.monotonic() + 10
        while access_log.read_text(encoding="utf-8").count("GET /ws") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert access_log.read_text(encoding="utf-8").count("GET /ws 101") >= 2
        routes = routes_in_log(access_log)
        assert routes[route_a] == {servers[0]} and routes[route_b] == {servers[1]}
        print(f"upload {upload_s:.1f} s, notice and figures on the other server {notice_s - upload_s:.1f} s "
              f"after it, whole test {time.monotonic() - started:.1f} s")
    except Exception:
        for name, page in zip(("uploader", "watcher"), pages):
            if not page.is_closed():
                screenshot(page, f"FAILED-two-servers-{name}")
        raise
    finally:
        for context in contexts:
            context.close()
        if nginx is not None:
            nginx.terminate()
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.kill()
        for process in processes:
            stop_server(process)
