"""Browser tests: Playwright driving Debian's chromium against a real Panel server.

One server per test session (``hazardboard serve`` on the sample campaign with a
fresh store), one browser per session, a fresh page per test. Every page records
console errors and page errors; tests assert there are none. Screenshots go to
``tests/artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_START_TIMEOUT_S = 120
# Bokeh/Panel log these on a healthy page; they are not application errors.
_BENIGN_CONSOLE = ("[bokeh] setting log level", "favicon.ico")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.25)
    raise TimeoutError(f"server did not listen on {port} within {timeout}s")


def start_server(store_dir: Path, port: int, data: list[str] | None = None, log_name: str = "server",
                 options: list[str] | None = None) -> subprocess.Popen:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / f"{log_name}.log", "w")
    command = [sys.executable, "-m", "dashboards.cli", "serve", "--store", str(store_dir), "--port", str(port)]
    for path in data or []:
        command += ["--data", path]
    command += options or []
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_for_port(port, process, SERVER_START_TIMEOUT_S)
    except Exception:
        process.kill()
        raise
    return process


@pytest.fixture(scope="session")
def server_process(tmp_path_factory):
    """A server on the sample campaign (fresh store): its process, its URL in ``process.url``."""
    store_dir = tmp_path_factory.mktemp("store")
    port = free_port()
    process = start_server(store_dir, port)
    process.url = f"http://localhost:{port}"
    process.store_dir = store_dir
    yield process
    stop_server(process)


@pytest.fixture(scope="session")
def server(server_process):
    """Base URL of the server on the sample campaign."""
    return server_process.url


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session", autouse=True)
def fresh_failure_screenshots():
    """Failure screenshots belong to this run only."""
    for stale in ARTIFACTS.glob("FAILED-*.png"):
        stale.unlink(missing_ok=True)  # another test worker may have removed it


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: run scripts/setup.sh --test")
    # Assertions wait like the page does: two servers and two browsers share 2 cores in CI.
    playwright_api.expect.set_options(timeout=20_000)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class ConsoleLog:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def on_console(self, message) -> None:
        if message.type == "error" and not any(b in message.text for b in _BENIGN_CONSOLE):
            self.errors.append(message.text)

    def on_page_error(self, error) -> None:
        self.errors.append(f"pageerror: {error}")


@pytest.fixture
def page(browser, request):
    """A fresh 1600×1000 page; ``page.console_log.errors`` collects console errors."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    context.add_init_script(TRACK_WEBSOCKET)
    page = context.new_page()
    log = ConsoleLog()
    page.on("console", log.on_console)
    page.on("pageerror", log.on_page_error)
    page.console_log = log
    page.set_default_timeout(30_000)
    yield page
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        screenshot(page, f"FAILED-{request.node.name}")
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# Records when the server last sent a websocket message, so a test can wait for quiet.
TRACK_WEBSOCKET = """
(() => {
  window.__hbLastMessage = performance.now();
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener("message", () => { window.__hbLastMessage = performance.now(); });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})();
"""
QUIET_MS = 300


def wait_ready(page, timeout: float = 30_000) -> None:
    """Wait until Bokeh has drawn every root of the document and the server has gone quiet
    (no websocket message for QUIET_MS): Panel's follow-up updates after the first render are in."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => window.Bokeh !== undefined && Bokeh.documents.length > 0 && "
        f"Bokeh.documents.every(d => d.is_idle) && performance.now() - window.__hbLastMessage > {QUIET_MS}",
        timeout=timeout,
    )


def click_row_until(page, cell, done: str, attempts: int = 3, wait_ms: int = 8_000) -> None:
    """Click a Tabulator cell until ``done`` (a JS predicate) holds.

    Under heavy CPU load a row click is occasionally not acted on (seen in ~1 of 10 loaded
    runs, not reproduced on a quiet machine); an officer would click again, and so does
    the test, at most ``attempts`` times. The effect itself is still asserted."""
    for _ in range(attempts - 1):
        cell.click()
        try:
            page.wait_for_function(done, timeout=wait_ms)
            return
        except Exception:  # playwright's TimeoutError: not acted on yet
            continue
    cell.click()
    page.wait_for_function(done, timeout=30_000)
