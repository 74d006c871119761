"""Browser benchmark of the dashboard at province scale: page ready, filter changes, server memory.

    .venv/bin/python benchmarks/bench_dashboard.py [--runs 5] [--changes 30] [--extra-sessions 5]
        [--data /tmp/province] [--store /tmp/hazardboard-bench-store] [--profile OUT.prof]

1. Prepare (cached): the province-scale set is generated into --data and ingested into
   --store unless the store already holds a database.
2. The server (``hazardboard serve --store``) runs as a subprocess on a free port; it
   builds the shared dataset before it listens, so "listening" means "data loaded".
3. Memory: the server's RSS (/proc/PID/status) after startup, after one session opened
   every page (through the navigation buttons, in one session), and after N more
   concurrent sessions each holding the hazards page open.
4. Page ready: each page, --runs times, in a fresh browser context: from ``page.goto``
   to the first painted frame in which every view is drawn, after the last websocket
   message (see READY below); the quiet window used to decide that nothing more comes
   is not counted.
5. Filter change: on the hazards page, --changes changes through the sidebar widgets
   (search word + Enter, a unit picked in the MultiChoice, 仅看逾期 on/off, reset):
   from the input event (keydown / pointerdown) to the first painted frame after the
   last websocket message of the resulting burst, with the summary line changed and
   every chart repainted. Each change is checked to have changed the summary line.

Prints one JSON object (machine, date, all figures). The server is stopped at the end,
even on failure; every browser wait has a timeout and the whole run a --deadline.
With --profile the server runs under cProfile (stopped with SIGINT so the profile is
written); the timings are then not representative, use it to see where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PAGES = ("overview", "hazards", "map", "enforcement", "training", "dispatch", "data")
# The least a page must show to count as drawn: Bokeh plots (painted canvases) and
# Tabulator tables (with rows). Every other plot in the document must be painted too.
EXPECTED = {
    "overview": {"plots": 2, "tables": 2},
    "hazards": {"plots": 3, "tables": 1},
    "map": {"plots": 1, "tables": 1},
}
SEARCH_WORDS = ("燃气", "消防", "气瓶", "彩钢板", "充电", "液化气")
SERVER_START_TIMEOUT_S = 300
VIEWPORT = {"width": 1600, "height": 1000}

# Installed before any page script: records every websocket message (arrival time, size)
# and, when armed, the time of the next user input event.
INIT_SCRIPT = r"""
(() => {
  const hb = window.__hb = {msgs: 0, lastMsg: 0, firstMsg: 0, bytes: 0, sent: 0, armed: false, inputAt: 0, busyMsgs: 0};
  // A message that only switches the header's busy spinner. Panel keeps the spinner on for
  // at least 500 ms (BooleanIndicator.throttle), so its "off" message says nothing about
  // the views: it is recorded but does not extend a burst.
  const BUSY_ONLY = /^\{"events":\[\{"kind":"ModelChanged","model":\{"id":"[^"]+"\},"attr":"css_classes","new":\["loader"[^\]]*\]\}\]\}$/;
  const Native = window.WebSocket;
  class Recording extends Native {
    constructor(...args) {
      super(...args);
      let beforeMessage = {lastMsg: 0, msgs: 0};
      this.addEventListener("message", (event) => {
        const now = Date.now();
        const data = event.data;
        // A Bokeh message is several frames, its header first.
        if (typeof data === "string" && data.startsWith('{"msgid"')) beforeMessage = {lastMsg: hb.lastMsg, msgs: hb.msgs};
        if (!hb.firstMsg) hb.firstMsg = now;
        hb.lastMsg = now;
        hb.msgs++;
        hb.bytes += typeof data === "string" ? data.length : (data.byteLength || data.size || 0);
        if (typeof data === "string" && BUSY_ONLY.test(data)) {
          hb.lastMsg = beforeMessage.lastMsg;
          hb.msgs = beforeMessage.msgs;
          hb.busyMsgs++;
        }
      });
    }
    send(data) { hb.sent++; return super.send(data); }
  }
  window.WebSocket = Recording;
  for (const type of ["keydown", "pointerdown", "mousedown"]) {
    window.addEventListener(type, () => {
      if (hb.armed) { hb.armed = false; hb.inputAt = Date.now(); }
    }, true);
  }

  function deepAll(selector, root = document, out = []) {
    out.push(...root.querySelectorAll(selector));
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) deepAll(selector, el.shadowRoot, out);
    return out;
  }
  function shown(el) {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }
  function plotViews() {
    const views = [];
    const walk = (view) => {
      if (view == null) return;
      if (view.canvas_view && view.frame) views.push(view);
      if (view.children_views) for (const child of view.children_views()) walk(child);
    };
    if (window.Bokeh && Bokeh.index) for (const root of Object.values(Bokeh.index)) walk(root);
    return views;
  }
  // The state of the page's views: null while something is not drawn yet.
  hb.drawn = (spec) => {
    if (!window.Bokeh || !Bokeh.documents || Bokeh.documents.length === 0) return null;
    if (spec.page && deepAll(".hb-page-" + spec.page).length === 0) return null;
    if (deepAll(".pn-loading").some(shown)) return null;
    const plots = plotViews().filter((v) => v.model.visible !== false && shown(v.canvas_view.el));
    for (const v of plots) if (!v.has_finished() || v._needs_paint || !(v._render_count > 0)) return null;
    const summaryEl = deepAll(".hb-hazards-summary")[0];
    // Markdown panes render into their own shadow root: the text is in its <p>.
    const summaryP = summaryEl ? deepAll("p", summaryEl.shadowRoot || summaryEl)[0] : null;
    const summary = summaryP ? summaryP.innerText : null;
    if (spec.summaryNot !== undefined && summary === spec.summaryNot) return null;
    // A filter that leaves nothing shows the empty state instead of the charts and the table.
    const empty = summary !== null && /共 0 条/.test(summary);
    if (!empty && plots.length < (spec.plots || 0)) return null;
    const tables = deepAll(".tabulator").filter(shown);
    if (!empty && tables.length < (spec.tables || 0)) return null;
    for (const t of tables) if (t.querySelectorAll(".tabulator-row").length === 0) return null;
    const renders = plots.map((v) => v.model.id + ":" + v._render_count);
    if (spec.rendersNot) for (const r of renders) if (spec.rendersNot.includes(r)) return null;
    const row = tables.length ? tables[0].querySelector(".tabulator-row") : null;
    return {plots: plots.length, tables: tables.length, summary, renders, firstRow: row ? row.innerText : null};
  };
  // Resolves with the first painted frame in which hb.drawn(spec) holds after the last
  // websocket message, once no message came for quietMs (the quiet window is not counted).
  hb.waitDrawn = (spec, quietMs, timeoutMs) => new Promise((resolve, reject) => {
    const start = Date.now();
    let seen = -1, okAt = null, readyAt = null, state = null;
    const tick = () => {
      const now = Date.now();
      if (now - start > timeoutMs) {
        reject(new Error("not drawn within " + timeoutMs + " ms: " + JSON.stringify({spec, msgs: hb.msgs, okAt, readyAt})));
        return;
      }
      if (hb.msgs !== seen) { seen = hb.msgs; okAt = null; readyAt = null; }
      const drawn = hb.drawn(spec);
      if (drawn === null) { okAt = null; readyAt = null; }
      else if (okAt === null) { okAt = now; state = drawn; }
      else if (readyAt === null) { readyAt = now; }  // the frame of okAt has been painted
      if (readyAt !== null && now - hb.lastMsg >= quietMs && now - readyAt >= quietMs) {
        resolve({readyAt, lastMsg: hb.lastMsg, firstMsg: hb.firstMsg, msgs: hb.msgs, bytes: hb.bytes, state});
        return;
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  hb.quiet = (quietMs, timeoutMs) => new Promise((resolve, reject) => {
    const start = Date.now();
    const poll = () => {
      if (Date.now() - start > timeoutMs) { reject(new Error("websocket never quiet")); return; }
      if (hb.msgs > 0 && Date.now() - hb.lastMsg >= quietMs) { resolve(true); return; }
      setTimeout(poll, 25);
    };
    poll();
  });
})();
"""

UNIT_OPTIONS_JS = """
() => {
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    if (m.type === "MultiChoice" && (m.css_classes || []).includes("hb-filter-units")) {
      return m.options.map((o) => Array.isArray(o) ? String(o[1]) : String(o));
    }
  }
  return [];
}
"""


class Deadline(Exception):
    pass


def _on_alarm(_signum, _frame):
    raise Deadline("the benchmark ran past --deadline")


# --- machine and server ------------------------------------------------------------------

def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {
        "nproc": os.cpu_count() if not hasattr(os, "sched_getaffinity") else len(os.sched_getaffinity(0)),
        "cpu": cpu, "ram_gb": round(mem_kb / 1024 / 1024, 1), "python": platform.python_version(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def rss_mb(pid: int) -> dict:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields["VmRSS"], "peak_rss_mb": fields["VmHWM"]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(data: Path, store: Path) -> None:
    if (store / "hazardboard.sqlite").exists() and (store / "hazardboard.sqlite").stat().st_size > 1_000_000:
        return
    if not data.exists():
        print(f"generating the province-scale set into {data} …", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "sample_data.generate", "--scale", "province", "--out", str(data),
                        "--seed", "1"], check=True, cwd=ROOT, timeout=1800)
    print(f"ingesting {data} into {store} …", file=sys.stderr)
    store.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "dashboards.cli", "ingest", str(data), "--store", str(store)],
                   check=True, cwd=ROOT, timeout=1800, stdout=subprocess.DEVNULL)


def start_server(store: Path, port: int, log_path: Path, profile: Path | None) -> subprocess.Popen:
    command = [sys.executable]
    if profile is not None:
        command += ["-m", "cProfile", "-o", str(profile)]
    command += ["-m", "dashboards.cli", "serve", "--store", str(store), "--port", str(port)]
    log = open(log_path, "w")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
                               start_new_session=True)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see {log_path}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    stop_server(process)
    raise TimeoutError(f"server did not listen on {port} within {SERVER_START_TIMEOUT_S}s")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, 20), (signal.SIGTERM, 10)):
        process.send_signal(sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
    process.kill()
    process.wait(timeout=10)


# --- browser measurements ----------------------------------------------------------------

def _pct(values: list[float], q: float) -> float:
    """Percentile by linear interpolation (q in 0..100)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    k = (len(ordered) - 1) * q / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def _stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"median_ms": round(statistics.median(values)), "p95_ms": round(_pct(values, 95)),
            "max_ms": round(max(values)), "min_ms": round(min(values)), "n": len(values)}


def new_page(browser, timeout_ms: int):
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return context, page


def wait_drawn(page, spec: dict, quiet_ms: int, timeout_ms: int) -> dict:
    return page.evaluate("([spec, q, t]) => window.__hb.waitDrawn(spec, q, t)", [spec, quiet_ms, timeout_ms])


def page_ready(browser, base: str, page_name: str, quiet_ms: int, timeout_ms: int) -> dict:
    context, page = new_page(browser, timeout_ms)
    try:
        start = time.time() * 1000
        page.goto(f"{base}/?page={page_name}", wait_until="commit")
        result = wait_drawn(page, {"page": page_name, **EXPECTED.get(page_name, {})}, quiet_ms, timeout_ms)
        nav = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0];"
                            " return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd}; }")
        return {
            "ready_ms": result["readyAt"] - start,
            "first_ws_msg_ms": result["firstMsg"] - start if result["firstMsg"] else None,
            "last_ws_msg_ms": result["lastMsg"] - start if result["lastMsg"] else None,
            "dom_content_loaded_ms": nav["dcl"], "ws_msgs": result["msgs"], "ws_kb": round(result["bytes"] / 1024),
            "plots": result["state"]["plots"], "tables": result["state"]["tables"], "errors": list(page.errors),
        }
    finally:
        context.close()


def filter_changes(browser, base: str, changes: int, quiet_ms: int, timeout_ms: int) -> dict:
    context, page = new_page(browser, timeout_ms)
    try:
        page.goto(f"{base}/?page=hazards")
        first = wait_drawn(page, {"page": "hazards", **EXPECTED["hazards"]}, quiet_ms, timeout_ms)
        units = [u for u in page.evaluate(UNIT_OPTIONS_JS)]
        counties = [u for u in units if u.endswith(("区", "县", "市"))] or units
        search = page.locator(".hb-filter-search input")
        unit_input = page.locator(".hb-filter-units input.choices__input--cloned")
        overdue = page.locator(".hb-filter-overdue input[type=checkbox]")
        reset = page.locator(".hb-filter-reset button")
        state = first["state"]
        records = []
        for i in range(changes):
            # Per cycle: unit A, 仅看逾期 on, unit B added, 仅看逾期 off, a search word, reset.
            cycle, step = divmod(i, 6)
            word = SEARCH_WORDS[cycle % len(SEARCH_WORDS)]
            unit_a = counties[(2 * cycle) % len(counties)]
            unit_b = counties[(2 * cycle + 7) % len(counties)]
            if step in (0, 2):
                unit = unit_a if step == 0 else unit_b
                kind, label = "unit", unit
                unit_input.click()
                unit_input.fill(unit)
                choice = page.locator(".hb-filter-units .choices__list--dropdown .choices__item--choice",
                                      has_text=unit).first
                choice.wait_for(state="visible")
                action = choice.click
            elif step in (1, 3):
                kind, label = "overdue", "on" if step == 1 else "off"
                action = overdue.click
            elif step == 4:
                kind, label = "search", word
                search.fill(word)
                action = lambda: search.press("Enter")  # noqa: E731
            else:
                kind, label = "reset", ""
                action = reset.click
            # Start from a quiet page, then time from the input event.
            page.evaluate("([q, t]) => window.__hb.quiet(q, t)", [quiet_ms, timeout_ms])
            before = state
            page.evaluate("() => { window.__hb.armed = true; window.__hb.inputAt = 0; }")
            action()
            spec = {"page": "hazards", **EXPECTED["hazards"], "summaryNot": before["summary"],
                    "rendersNot": before["renders"]}
            try:
                result = wait_drawn(page, spec, quiet_ms, timeout_ms)
            except Exception as error:  # noqa: BLE001 - a change that changed nothing: record, go on
                records.append({"kind": kind, "value": label, "error": str(error)[:300]})
                page.evaluate("([q, t]) => window.__hb.quiet(q, t)", [quiet_ms, timeout_ms])
                state = wait_drawn(page, {"page": "hazards"}, quiet_ms, timeout_ms)["state"]
                continue
            input_at = page.evaluate("() => window.__hb.inputAt")
            state = result["state"]
            records.append({
                "kind": kind, "value": label, "ms": result["readyAt"] - input_at,
                "last_ws_msg_ms": result["lastMsg"] - input_at,
                "summary": state["summary"], "changed": state["summary"] != before["summary"],
                "table_changed": state["firstRow"] != before["firstRow"],
            })
        timings = [r["ms"] for r in records if "ms" in r]
        by_kind = {}
        for kind in ("search", "unit", "overdue", "reset"):
            values = [r["ms"] for r in records if r.get("kind") == kind and "ms" in r]
            if values:
                by_kind[kind] = _stats(values)
        return {
            **_stats(timings), "by_kind": by_kind,
            "verified_changes": sum(1 for r in records if r.get("changed")),
            "failed_changes": [r for r in records if "error" in r],
            "changes": records, "errors": list(page.errors),
        }
    finally:
        context.close()


def memory(browser, base: str, pid: int, extra: int, quiet_ms: int, timeout_ms: int) -> dict:
    figures = {"startup": rss_mb(pid)}
    contexts = []
    try:
        context, page = new_page(browser, timeout_ms)
        contexts.append(context)
        page.goto(f"{base}/?page=overview")
        wait_drawn(page, {"page": "overview", **EXPECTED["overview"]}, quiet_ms, timeout_ms)
        for name in PAGES[1:]:
            page.locator(f".hb-nav-{name} button").click()
            wait_drawn(page, {"page": name, **EXPECTED.get(name, {})}, quiet_ms, timeout_ms)
        time.sleep(2)
        figures["one_session_all_pages"] = rss_mb(pid)
        for _ in range(extra):
            context, page = new_page(browser, timeout_ms)
            contexts.append(context)
            page.goto(f"{base}/?page=hazards")
            wait_drawn(page, {"page": "hazards", **EXPECTED["hazards"]}, quiet_ms, timeout_ms)
        time.sleep(2)
        figures[f"plus_{extra}_sessions_on_hazards"] = rss_mb(pid)
        one = figures["one_session_all_pages"]["rss_mb"]
        figures["per_extra_session_mb"] = round((figures[f"plus_{extra}_sessions_on_hazards"]["rss_mb"] - one) / extra, 1)
        return figures
    finally:
        for context in contexts:
            context.close()


def run(args) -> dict:
    from playwright.sync_api import sync_playwright

    prepare(args.data, args.store)
    port = free_port()
    log_path = Path(tempfile.gettempdir()) / f"hazardboard-bench-server-{port}.log"
    started = time.perf_counter()
    process = start_server(args.store, port, log_path, args.profile)
    result = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M"), "store": str(args.store),
              "server": {"pid": process.pid, "port": port, "log": str(log_path),
                         "start_to_listen_s": round(time.perf_counter() - started, 1),
                         "profiled": args.profile is not None},
              "quiet_window_ms": args.quiet_ms}
    base = f"http://localhost:{port}"
    timeout_ms = args.timeout_s * 1000
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                if not args.skip_memory:
                    result["memory"] = memory(browser, base, process.pid, args.extra_sessions, args.quiet_ms, timeout_ms)
                if not args.skip_ready:
                    ready = {}
                    for name in args.pages:
                        runs = [page_ready(browser, base, name, args.quiet_ms, timeout_ms) for _ in range(args.runs)]
                        ready[name] = {**_stats([r["ready_ms"] for r in runs]), "runs": runs}
                    result["page_ready"] = ready
                if args.changes:
                    result["filter_change"] = filter_changes(browser, base, args.changes, args.quiet_ms, timeout_ms)
            finally:
                browser.close()
        result["server"]["final"] = rss_mb(process.pid)
    finally:
        stop_server(process)
    result["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("/tmp/province"))
    parser.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) / "hazardboard-bench-store")
    parser.add_argument("--runs", type=int, default=5, help="page-ready runs per page")
    parser.add_argument("--pages", type=lambda s: s.split(","), default=["hazards", "overview", "map"])
    parser.add_argument("--changes", type=int, default=30, help="filter changes on the hazards page (0: skip)")
    parser.add_argument("--extra-sessions", type=int, default=5)
    parser.add_argument("--quiet-ms", type=int, default=300, help="no websocket message for this long: done")
    parser.add_argument("--timeout-s", type=int, default=60, help="longest wait for one page or change")
    parser.add_argument("--deadline-s", type=int, default=1800, help="the whole run, preparation excluded")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-ready", action="store_true")
    parser.add_argument("--profile", type=Path, help="run the server under cProfile, write the stats here")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    prepare(args.data, args.store)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(args.deadline_s)
    try:
        result = run(args)
    finally:
        signal.alarm(0)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
