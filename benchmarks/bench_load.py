"""Load benchmark (issue 11): 20 signed-in sessions changing filters on two server processes over
one PostgreSQL database behind nginx, for 3 minutes, while an upload happens.

    .venv/bin/python benchmarks/bench_load.py [--minutes 3] [--sessions 20] [--data /tmp/province8]
        [--upload-units 3] [--think-s 2] [--store postgresql://…] [--out result.json]
        [--py-spy stacks.txt] [--trim-check]

Figures and what they showed: benchmarks/README.md, "Issue 11: load".

Loopback only, and it stops by itself (the run after --minutes, the whole script after
--deadline-s; servers, nginx, the browser and PostgreSQL are stopped even on failure).

- The store: a throwaway PostgreSQL cluster (tests/postgres.py) and a database into which the
  province set is ingested with the CLI, except the last period's workbooks of --upload-units
  units, kept for the upload (the ingest builds the dataset once and keeps it in the store). With
  --store URL that database is prepared so if it is empty, and each run uses a copy of it
  (CREATE DATABASE … TEMPLATE), so every run starts from the same data.
- Two ``hazardboard serve --behind-proxy`` processes and nginx in front, with the README's
  configuration (docs/deploy/nginx-hazardboard.conf, rendered as tests/browser/test_two_servers.py
  does); a committee account in the database.
- The sessions are Bokeh client sessions as a browser makes them, without the drawing: each
  signs in (POST /login), is routed to one server by nginx's route cookie (half on each), GETs
  the hazards page (the server builds the session), opens the websocket with the page's token,
  pulls the document and says it is ready (DocumentReady). Then in a loop: set the unit filter
  (the MultiChoice model's ``value``, as the browser's widget does) to one of the units or to none,
  and wait until the server has answered (its OK) and no message came for QUIET_S: the latency is
  from the change to the last patch of the redraw. Between changes a random pause of 0 to
  2 × --think-s seconds.
- A quarter into the run, a chromium page (Playwright) signed in on one server uploads the held-out workbooks
  on the 数据 page. Every hazards summary a session receives (共 N 条隐患) must be the count of
  its unit filter in the dataset before the upload or after it (both computed from the store's
  cached datasets): a session never sees a half-built dataset. The run goes on at least
  AFTER_UPLOAD_S past the upload's end.
- Errors: a server log line with Traceback or ERROR, a websocket closed or an ERROR message, a
  change with no redraw within CHANGE_TIMEOUT_S, a summary of neither dataset.
- Memory: the RSS of both servers with their children (the parse workers) and nginx, summed,
  sampled every second; the peak.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _wait_for_port, free_port  # noqa: E402
from tests.browser.test_two_servers import start_nginx  # noqa: E402  (the README's nginx set-up)

PASSWORD = "Load-test-2023!"
ACCOUNT = "loadtest"
QUIET_S = 0.5
CHANGE_TIMEOUT_S = 60
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOTAL = re.compile(r"共 ([\d,]+) 条隐患")
SERVER_START_TIMEOUT_S = 300
UPLOAD_AT = 0.25  # of the run
AFTER_UPLOAD_S = 30
# Tornado's noise when a server writes to a websocket its client has just closed (the end of
# the run): counted apart from the errors.
CLOSED_SOCKET = ("WebSocketClosedError", "StreamClosedError")


class Deadline(Exception):
    pass


def _on_alarm(_signum, _frame):
    raise Deadline("the benchmark ran past --deadline-s")


def machine() -> str:
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    model = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    return (f"{platform.machine()}, {os.cpu_count()} cores ({model.group(1).strip() if model else '?'}), "
            f"{memory_kb / 1024 / 1024:.1f} GiB, Python {platform.python_version()}")


def cli(*arguments: str, stdin: str | None = None, timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboards.cli", *arguments], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


# --- the store ---------------------------------------------------------------------------

def held_out(data: Path, upload_units: int) -> list[Path]:
    """The last period's workbooks of the first ``upload_units`` units: kept for the upload."""
    last = sorted(p for p in data.iterdir() if p.is_dir())[-1]
    units = sorted({p.name.split("_")[0] for p in last.glob("*.xls*")})[:upload_units]
    return sorted(p for p in last.glob("*.xls*") if p.name.split("_")[0] in units)


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def stored_files(url: str) -> int:
    import psycopg

    try:
        with psycopg.connect(_plain(url)) as conn:
            return conn.execute("SELECT count(*) FROM files").fetchone()[0]
    except psycopg.errors.UndefinedTable:
        return 0


def prepare(url: str, data: Path, held: list[Path], work: Path) -> float:
    """The set but ``held`` ingested with the CLI (which builds the dataset once and keeps it in
    the store), and the committee account. Returns the ingest's seconds."""
    stored = work / "stored"
    shutil.copytree(data, stored, ignore=lambda folder, names: [n for n in names if Path(folder) / n in held])
    began = time.monotonic()
    ingest = cli("ingest", "--store", url, str(stored))
    seconds = round(time.monotonic() - began, 1)
    shutil.rmtree(stored)
    if "Traceback" in ingest.stderr or not stored_files(url):
        raise RuntimeError(ingest.stderr[-3000:])
    added = cli("users", "add", ACCOUNT, "--role", "committee", "--display-name", "压力测试",
                "--store", url, "--password-stdin", stdin=PASSWORD + "\n")
    if added.returncode != 0:
        raise RuntimeError(added.stderr)
    return seconds


def copy_database(url: str) -> str:
    """A copy of a prepared database on the same server (nobody may be connected to it)."""
    import psycopg

    base, name = url.rsplit("/", 1)
    copy = f"hb_load_{uuid.uuid4().hex[:12]}"
    admin = _plain(base) + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
    return f"{base}/{copy}"


def drop_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(_plain(base) + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def unit_counts(store: str) -> dict:
    """Hazards per unit and in all of the store's current dataset (from its campaign cache), in a
    child process (the dataset's memory goes with it)."""
    code = ("import json, sys; from store import Store; from store.campaign_cache import campaign_for; "
            "c = campaign_for(Store(sys.argv[1]), wait_s=300)[0]; h = c.unique_hazards; "
            "print(json.dumps({'': len(h), **{str(k): int(v) for k, v in h['unit'].value_counts().items()}}))")
    done = subprocess.run([sys.executable, "-c", code, store], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- servers, nginx, memory --------------------------------------------------------------

def launch_server(store: str, port: int, nginx_port: int, log_path: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "dashboards.cli", "serve", "--store", store, "--port", str(port),
               "--behind-proxy", "--allow-host", f"127.0.0.1:{nginx_port}", "--allow-host", f"localhost:{nginx_port}"]
    log = open(log_path, "w")
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


class MemorySampler(threading.Thread):
    """The summed RSS of some processes and their children, every second; the peak."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.peak_mb = 0.0
        self.peak_parts: dict = {}
        self.timeline: list[tuple[float, float]] = []
        self.parts_timeline: list[list[float]] = []
        self.started = time.monotonic()
        self._stop = threading.Event()

    def sample(self) -> tuple[float, dict]:
        import psutil

        parts = {}
        for pid in self.pids:
            try:
                root = psutil.Process(pid)
                members = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            total = 0
            for member in members:
                try:
                    total += member.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            parts[pid] = {"rss_mb": round(total / 2**20, 1), "processes": len(members)}
        return sum(p["rss_mb"] for p in parts.values()), parts

    def run(self) -> None:
        while not self._stop.wait(1.0):
            total, parts = self.sample()
            self.timeline.append((round(time.monotonic() - self.started, 1), round(total, 1)))
            self.parts_timeline.append([round(time.monotonic() - self.started, 1),
                                        *(part["rss_mb"] for part in parts.values())])
            if total > self.peak_mb:
                self.peak_mb, self.peak_parts = total, parts

    def stop(self) -> None:
        self._stop.set()


def log_errors(path: Path) -> tuple[list[str], int]:
    """The log's errors (each Traceback with its last line), and how many were only a write to a
    websocket the client had closed."""
    errors, closed = [], 0
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines):
        if "ERROR" in line and "Traceback" not in line:
            errors.append(line)
        elif line.startswith("Traceback"):
            end = next((n for n in range(number + 1, len(lines)) if lines[n] and not lines[n].startswith(" ")), number)
            if "During handling" in lines[end]:
                continue  # the chained one's own Traceback follows
            if any(name in lines[end] for name in CLOSED_SOCKET):
                closed += 1
            else:
                errors.append(" | ".join(lines[max(0, end - 3):end + 1]))
    return errors, closed


# --- a client session --------------------------------------------------------------------

def _find_model(node, css_class: str) -> str | None:
    """The id of the model in a document's JSON whose css_classes hold ``css_class``."""
    if isinstance(node, dict):
        attributes = node.get("attributes")
        if isinstance(attributes, dict) and css_class in (attributes.get("css_classes") or []):
            return node.get("id")
        values = node.values()
    elif isinstance(node, list):
        values = node
    else:
        return None
    for value in values:
        found = _find_model(value, css_class)
        if found:
            return found
    return None


class Session:
    """One officer's page as the browser holds it, without the drawing."""

    def __init__(self, index: int, base: str, route: str, cookie: str, units: list[str], think_s: float,
                 log: dict) -> None:
        self.index, self.base, self.route, self.cookie = index, base, route, cookie
        self.units, self.think_s, self.log = units, think_s, log
        self.upstream = ""
        self.socket = None
        self.unit = ""  # the filter the session shows: "" = every unit
        self.previous_unit = ""
        self.latencies: list[float] = []
        self.changes_at: list[float] = []  # when each timed change was sent
        self.summary_ms: list[float] = []
        self.observed: list[tuple[float, str, str, int]] = []  # (time, unit filter, the one before, 共 N 条隐患)
        self.errors: list[str] = []
        self.updated_at: float | None = None  # when 数据已更新 arrived
        self.last_message = 0.0
        self.ok_count = 0
        self.closed = False

    def headers(self) -> dict:
        return {"Cookie": self.cookie, "Origin": self.base}

    async def open(self) -> None:
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest
        from tornado.websocket import websocket_connect

        response = await AsyncHTTPClient().fetch(f"{self.base}/?page=hazards", headers=self.headers(),
                                                 follow_redirects=False, request_timeout=300)
        self.upstream = response.headers.get("X-Hazardboard-Upstream", "")
        token = re.search(r'"token":\s*"([^"]+)"', response.body.decode("utf-8")).group(1)
        ws_url = self.base.replace("http://", "ws://") + "/ws"
        self.socket = await websocket_connect(HTTPRequest(ws_url, headers=self.headers(), request_timeout=300),
                                              subprotocols=["bokeh", token], max_message_size=200 * 2**20)
        from bokeh.protocol import Protocol
        from bokeh.protocol.receiver import Receiver

        self.receiver = Receiver(Protocol())
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.reader = asyncio.ensure_future(self._read())
        ack = await self._expect("ACK")
        del ack
        await self._send("PULL-DOC-REQ", {})
        reply = await self._expect("PULL-DOC-REPLY")
        document = reply.content["doc"]
        self.filter_id = _find_model(document, "hb-filter-units")
        if self.filter_id is None:
            raise RuntimeError("no unit filter in the page")
        self._note_summary(json.dumps(document, ensure_ascii=False))
        ready = {"type": "event", "name": "document_ready", "values": {"type": "map", "entries": []}}
        await self._send("PATCH-DOC", {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": ready}]})
        await self._settle(time.monotonic())

    async def _send(self, msgtype: str, content: dict) -> None:
        header = {"msgid": uuid.uuid4().hex, "msgtype": msgtype}
        for part in (header, {}, content):
            await self.socket.write_message(json.dumps(part, ensure_ascii=False))

    async def _read(self) -> None:
        while True:
            fragment = await self.socket.read_message()
            if fragment is None:
                if not self.closed:
                    self.errors.append(f"session {self.index}: websocket closed by the server "
                                       f"({self.socket.close_code} {self.socket.close_reason})")
                await self.inbox.put(None)
                return
            message = await self.receiver.consume(fragment)
            if message is None:
                continue
            now = time.monotonic()
            self.last_message = now
            msgtype = message.header["msgtype"]
            if msgtype == "ERROR":
                self.errors.append(f"session {self.index}: server ERROR {json.dumps(message.content, ensure_ascii=False)[:500]}")
            elif msgtype == "OK":
                self.ok_count += 1
            elif msgtype == "PATCH-DOC":
                text = json.dumps(message.content, ensure_ascii=False)
                self._note_summary(text, now)
                if "数据已更新" in text and self.updated_at is None:
                    self.updated_at = now
            await self.inbox.put(message)

    def _note_summary(self, text: str, now: float | None = None) -> None:
        for match in TOTAL.finditer(text):
            self.observed.append((now or time.monotonic(), self.unit, self.previous_unit,
                                  int(match.group(1).replace(",", ""))))

    async def _expect(self, msgtype: str, timeout: float = 300):
        deadline = time.monotonic() + timeout
        while True:
            message = await asyncio.wait_for(self.inbox.get(), max(0.1, deadline - time.monotonic()))
            if message is None:
                raise RuntimeError(f"session {self.index}: closed while waiting for {msgtype}")
            if message.header["msgtype"] == msgtype:
                return message

    async def _settle(self, sent: float, oks_before: int | None = None, summaries_before: int | None = None) -> float | None:
        """Wait for the redraw after ``sent``: the server's OK (when asked), the page's new hazards
        summary (when asked: Panel runs the filter's callbacks after Bokeh's OK, so the OK alone
        says nothing of the redraw), then QUIET_S without a message. Returns the time of the last
        message, None on a timeout."""
        deadline = sent + CHANGE_TIMEOUT_S
        while time.monotonic() < deadline:
            while not self.inbox.empty():
                self.inbox.get_nowait()
            answered = oks_before is None or self.ok_count > oks_before
            redrawn = summaries_before is None or len(self.observed) > summaries_before
            if answered and redrawn and self.last_message > sent and time.monotonic() - self.last_message >= QUIET_S:
                return self.last_message
            if self.closed or (self.reader.done()):
                return None
            await asyncio.sleep(0.05)
        return None

    async def change(self) -> None:
        choices = [u for u in self.units if u != self.unit]
        self.previous_unit, self.unit = self.unit, random.choice(choices)
        value = [self.unit] if self.unit else []
        oks = self.ok_count
        observed = len(self.observed)
        sent = time.monotonic()
        event = {"kind": "ModelChanged", "model": {"id": self.filter_id}, "attr": "value", "new": value}
        await self._send("PATCH-DOC", {"events": [event]})
        last = await self._settle(sent, oks, observed)
        if last is None:
            self.errors.append(f"session {self.index}: no redraw within {CHANGE_TIMEOUT_S} s after the filter {value}")
            return
        self.latencies.append((last - sent) * 1000)
        self.changes_at.append(sent)
        summaries = [t for t, _, _, _ in self.observed[observed:]]
        if summaries:
            self.summary_ms.append((summaries[0] - sent) * 1000)

    async def run(self, until: list[float]) -> None:
        while time.monotonic() < until[0] and not self.reader.done():
            await self.change()
            await asyncio.sleep(random.uniform(0, 2 * self.think_s))

    async def close(self) -> None:
        self.closed = True
        if self.socket is not None:
            self.socket.close()


async def sign_in(base: str, route: str) -> tuple[str, str]:
    """(the Cookie header of a signed-in officer routed by ``route``, the server that answered)."""
    from tornado.httpclient import AsyncHTTPClient, HTTPClientError

    client = AsyncHTTPClient()
    body = urlencode({"username": ACCOUNT, "password": PASSWORD, "next": "/?page=hazards"})
    try:
        response = await client.fetch(f"{base}/login", method="POST", body=body, follow_redirects=False,
                                      headers={"Cookie": f"hb_route={route}"}, raise_error=False, request_timeout=120)
    except HTTPClientError as error:
        response = error.response
    cookies = [value.split(";", 1)[0] for value in response.headers.get_list("Set-Cookie")]
    session = next((c for c in cookies if c.startswith("hb_session=")), None)
    if response.code != 302 or session is None:
        raise RuntimeError(f"sign-in failed: {response.code} {response.body[:300]!r}")
    return f"hb_route={route}; {session}", response.headers.get("X-Hazardboard-Upstream", "")


async def routes_for(base: str, servers: tuple[str, str], count: int) -> list[str]:
    """``count`` route cookie values, half going to each server."""
    from tornado.httpclient import AsyncHTTPClient

    wanted = {servers[0]: (count + 1) // 2, servers[1]: count // 2}
    routes: list[str] = []
    attempt = 0
    while any(wanted.values()):
        route = f"load-{attempt}"
        attempt += 1
        response = await AsyncHTTPClient().fetch(f"{base}/login", headers={"Cookie": f"hb_route={route}"})
        upstream = response.headers.get("X-Hazardboard-Upstream", "")
        if wanted.get(upstream):
            wanted[upstream] -= 1
            routes.append(route)
        if attempt > 50 * count:
            raise RuntimeError("nginx does not spread the routes over both servers")
    return routes


# --- the upload ----------------------------------------------------------------------------

def upload_in_browser(base: str, route: str, files: list[Path], result: dict) -> None:
    """A chromium page signed in through nginx uploads ``files`` on the 数据 page."""
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
            context.add_cookies([{"name": "hb_route", "value": route, "url": base}])
            page = context.new_page()
            page.set_default_timeout(300_000)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{base}/?page=data")
            page.locator(".hb-login-form").wait_for()
            page.fill("#username", ACCOUNT)
            page.fill("#password", PASSWORD)
            page.locator(".hb-login-submit").click()
            page.locator(".hb-upload-input input[type=file]").wait_for(state="attached")
            result["ready_at"] = time.monotonic()
            result["go"].wait()
            page.locator(".hb-upload-input input[type=file]").set_input_files(
                [{"name": path.name, "mimeType": XLSX, "buffer": path.read_bytes()} for path in files])
            page.locator(".hb-upload-refused[data-upload=sent]").wait_for(state="attached")
            result["clicked_at"] = time.monotonic()
            page.locator(".hb-upload-import button").click()
            page.get_by_text("导入完成").wait_for()
            result["done_at"] = time.monotonic()
            result["report"] = page.locator(".hb-upload-report").inner_text()[:2000]
            result["page_errors"] = errors
            browser.close()
    except Exception as error:  # reported with the results
        result["error"] = repr(error)


# --- the run ---------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))], 1)


def stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95),
            "max_ms": round(max(values), 1), "mean_ms": round(statistics.fmean(values), 1)}


async def drive(base: str, routes: list[str], units: list[str], args, upload: dict) -> list[Session]:
    log: dict = {}
    sessions: list[Session] = []
    for index, route in enumerate(routes):
        cookie, _ = await sign_in(base, route)
        sessions.append(Session(index, base, route, cookie, units, args.think_s, log))
    # The pages open a few at a time, as officers arrive.
    for start in range(0, len(sessions), 4):
        await asyncio.gather(*(s.open() for s in sessions[start:start + 4]))
    print(f"{len(sessions)} sessions open on {sorted({s.upstream for s in sessions})}", file=sys.stderr, flush=True)
    started = time.monotonic()
    until = [started + args.minutes * 60]

    async def start_upload() -> None:
        # A quarter into the run: at province scale the upload (parse, store, rebuild) takes a
        # minute or more on 2 cores, and the sessions must go on past it.
        await asyncio.sleep(args.minutes * 60 * UPLOAD_AT)
        upload["started_at"] = time.monotonic()
        upload["go"].set()
        while "done_at" not in upload and "error" not in upload:
            await asyncio.sleep(0.5)
        # The run goes on at least AFTER_UPLOAD_S past the upload, so every session sees it.
        until[0] = max(until[0], time.monotonic() + AFTER_UPLOAD_S)

    uploader = asyncio.ensure_future(start_upload())
    await asyncio.gather(*(s.run(until) for s in sessions))
    uploader.cancel()
    upload["run_started_at"], upload["run_ended_at"] = started, time.monotonic()
    for s in sessions:
        await s.close()
    return sessions


def run(args) -> dict:
    import tornado.httpclient

    tornado.httpclient.AsyncHTTPClient.configure(None, max_clients=64)
    work = Path(tempfile.mkdtemp(prefix="hazardboard-load-"))
    result: dict = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M %Z"), "minutes": args.minutes,
                    "sessions": args.sessions, "think_s": args.think_s, "work": str(work),
                    "load_average_at_start": os.getloadavg()}
    cluster = None
    store = None
    processes: list[subprocess.Popen] = []
    nginx = None
    sampler = None
    try:
        if args.store:
            prepared = args.store
        else:
            from tests import postgres

            cluster = postgres.cluster()
            prepared = cluster.create_database()
        held = held_out(args.data, args.upload_units)
        if not stored_files(prepared):
            result["ingest_s"] = prepare(prepared, args.data, held, work)
        # A copy per run of a database given: every run starts from the same data.
        store = copy_database(prepared) if args.store else prepared
        result["upload_files"] = [p.name for p in held]
        print(f"store ready: {store}", file=sys.stderr, flush=True)
        before = unit_counts(store)
        upload_units = sorted({p.name.split("_")[0] for p in held})
        others = sorted((u for u in before if u and u not in upload_units), key=lambda u: -before[u])[:6]
        units = ["", *upload_units, *others]

        nginx_port, ports = free_port(), (free_port(), free_port())
        servers = (f"127.0.0.1:{ports[0]}", f"127.0.0.1:{ports[1]}")
        began = time.monotonic()
        for port, name in zip(ports, "ab"):
            processes.append(launch_server(store, port, nginx_port, work / f"server-{name}.log"))
        for port, process in zip(ports, processes):
            _wait_for_port(port, process, SERVER_START_TIMEOUT_S)
        result["servers_start_s"] = round(time.monotonic() - began, 1)
        nginx = start_nginx(work / "nginx", nginx_port, servers)
        base = f"http://127.0.0.1:{nginx_port}"
        sampler = MemorySampler([p.pid for p in processes] + [nginx.pid])
        result["rss_after_start_mb"] = round(sampler.sample()[0], 1)
        sampler.start()

        spy = None
        if args.py_spy:
            # Server a's stacks for the whole run (collapsed, one line per stack), to see where the
            # time of a filter change goes.
            spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--nonblocking",
                                    "-r", "50", "-f", "raw", "-o", str(args.py_spy), "-p", str(processes[0].pid),
                                    "-d", str(int(args.minutes * 60 + 240))],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        routes = asyncio.run(routes_for(base, servers, args.sessions + 1))
        upload: dict = {"go": threading.Event()}
        uploader = threading.Thread(target=upload_in_browser, args=(base, routes[-1], held, upload), daemon=True)
        uploader.start()
        sessions = asyncio.run(drive(base, routes[:-1], units, args, upload))
        uploader.join(timeout=600)
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes what it has
            spy.wait(timeout=60)
        time.sleep(20)  # idle: what the servers keep
        result["rss_20s_after_run_mb"] = round(sampler.sample()[0], 1)
        if args.trim_check:
            # Diagnosis: is what the servers keep live data or freed heap glibc has not given
            # back? malloc_trim(0) called in each server (gdb), then the RSS again.
            for process in processes:
                subprocess.run(["gdb", "-p", str(process.pid), "-batch", "-ex", "call (int) malloc_trim(0)"],
                               capture_output=True, timeout=120)
            result["rss_after_malloc_trim_mb"] = round(sampler.sample()[0], 1)
        sampler.stop()
        time.sleep(1)
        after = unit_counts(store)

        latencies = [ms for s in sessions for ms in s.latencies]
        errors = [e for s in sessions for e in s.errors]
        if "error" in upload:
            errors.append(f"upload: {upload['error']}")
        # Every summary a session received is the count of its unit filter in the dataset before
        # or after the upload; one of the filter it had just before ("stale": a redraw the server
        # began before it applied the change) is counted apart; anything else is half-built.
        half_built, stale, final_wrong = [], [], []
        for s in sessions:
            for _, unit, previous, count in s.observed:
                if count in (before.get(unit, 0), after.get(unit, 0)):
                    continue
                line = (f"session {s.index}: 共 {count} 条 for {unit or 'every unit'} (before {before.get(unit, 0)}, "
                        f"after {after.get(unit, 0)}; the filter before: {previous or 'every unit'})")
                (stale if count in (before.get(previous, 0), after.get(previous, 0)) else half_built).append(line)
            if s.observed and s.observed[-1][3] != after.get(s.unit, 0):
                final_wrong.append(f"session {s.index}: ends on 共 {s.observed[-1][3]} 条 for {s.unit or 'every unit'}")
        done_at = upload.get("done_at")
        server_errors = {f"server-{name}": log_errors(work / f"server-{name}.log")[0] for name in "ab"}
        closed_writes = sum(log_errors(work / f"server-{name}.log")[1] for name in "ab")
        clicked = upload.get("clicked_at")
        during = [ms for s in sessions for at, ms in zip(s.changes_at, s.latencies)
                  if clicked and done_at and clicked <= at <= done_at + 15]
        outside = [ms for s in sessions for at, ms in zip(s.changes_at, s.latencies)
                   if not (clicked and done_at and clicked <= at <= done_at + 15)]
        marks = {name: round(upload[name] - sampler.started, 1) for name in ("clicked_at", "done_at") if name in upload}
        reached = sorted(round(s.updated_at - done_at, 2) for s in sessions if s.updated_at and done_at)
        result.update({
            "units": units,
            "sessions_per_server": {u: sum(1 for s in sessions if s.upstream == u) for u in servers},
            "filter_change": stats(latencies),
            "filter_change_outside_upload": stats(outside),
            "filter_change_during_upload": stats(during),
            "run_s": round(upload["run_ended_at"] - upload["run_started_at"], 1),
            "summary_arrival": stats([ms for s in sessions for ms in s.summary_ms]),
            "changes_per_session": [len(s.latencies) for s in sessions],
            "upload": {k: (round(v - upload["run_started_at"], 1) if k.endswith("_at") and isinstance(v, float) else v)
                       for k, v in upload.items() if k != "go"},
            "upload_s": round(done_at - upload["clicked_at"], 1) if done_at else None,
            "notice_after_upload_s": {"n": len(reached), "min": reached[0] if reached else None,
                                      "max": reached[-1] if reached else None},
            "totals": {"before": before.get(""), "after": after.get("")},
            "summaries_observed": sum(len(s.observed) for s in sessions),
            "half_built": half_built[:20], "half_built_count": len(half_built),
            "stale_summaries": stale[:20], "stale_summary_count": len(stale),
            "sessions_ending_on_a_wrong_total": final_wrong,
            "client_errors": errors[:50], "client_error_count": len(errors),
            "server_errors": {k: v[:20] for k, v in server_errors.items()},
            "server_writes_to_closed_websockets": closed_writes,
            "memory_marks_s": marks,
            "peak_rss_mb": round(sampler.peak_mb, 1), "peak_rss_parts": sampler.peak_parts,
            "rss_timeline": sampler.timeline[::5],
            "rss_by_process_timeline": sampler.parts_timeline[::5],
            "load_average_at_end": os.getloadavg(),
        })
        return result
    finally:
        if sampler is not None:
            sampler.stop()
        stop(nginx)
        for process in processes:
            stop(process)
        if store and args.store:
            try:
                drop_database(store)
            except Exception as error:  # reported, never hides the run's own error
                print(f"could not drop {store}: {error}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--data", type=Path, default=Path("/tmp/province8"))
    parser.add_argument("--upload-units", type=int, default=3)
    parser.add_argument("--think-s", type=float, default=2.0, help="mean pause between a session's changes")
    parser.add_argument("--store", help="a PostgreSQL database URL: prepared if empty, then copied per run")
    parser.add_argument("--py-spy", type=Path, metavar="FILE", help="record server a with py-spy (raw stacks) into FILE")
    parser.add_argument("--trim-check", action="store_true",
                        help="after the run, call malloc_trim(0) in each server (gdb) and sample the RSS again")
    parser.add_argument("--deadline-s", type=int, default=1800)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(args.deadline_s)
    result = run(args)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
