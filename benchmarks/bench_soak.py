"""Soak benchmark: one server at province scale, sessions opened, filtered and closed for a while.

    .venv/bin/python benchmarks/bench_soak.py [--minutes 30] [--changes-per-session 6]
        [--data /tmp/province] [--store /tmp/hazardboard-bench-store] [--out soak.json]

The server runs on loopback only (``localhost``), as in bench_dashboard.py, whose helpers this
uses. One browser session after another opens the hazards page, makes ``--changes-per-session``
filter changes through the sidebar (a unit, 仅看逾期 on, a second unit, 仅看逾期 off, a search
word, reset: each timed from the input event to the repainted page) and closes. Between
sessions the server's RSS is sampled.

At the start (after one warm-up session) and at the end (after the last session's expiry: Bokeh
discards a closed session after 15 s unused, checked every 17 s) the script records the RSS and
a reference run of filter changes in a fresh session, so the two ends compare like with like.

Bounded: the run stops after --minutes (the session in progress finishes) and the whole script
after --deadline seconds; the server is stopped even on failure.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dashboard import (  # noqa: E402  (a script beside this one)
    CHROMIUM, CHROMIUM_ARGS, Deadline, _on_alarm, _stats, filter_changes, free_port, machine, prepare, rss_mb,
    start_server, stop_server,
)

SESSION_EXPIRY_WAIT_S = 45  # Bokeh: unused for 15 s, checked every 17 s; and a margin


def _reference(browser, base: str, pid: int, changes: int, quiet_ms: int, timeout_ms: int) -> dict:
    """RSS before, then one session's filter changes (median, p95)."""
    memory = rss_mb(pid)
    run = filter_changes(browser, base, changes, quiet_ms, timeout_ms)
    return {"rss_mb": memory["rss_mb"], "filter_change": {k: run[k] for k in ("median_ms", "p95_ms", "max_ms", "n")},
            "failed_changes": len(run["failed_changes"]), "errors": run["errors"]}


def run(args) -> dict:
    from playwright.sync_api import sync_playwright

    prepare(args.data, args.store)
    port = free_port()
    log_path = Path(tempfile.gettempdir()) / f"hazardboard-soak-server-{port}.log"
    process = start_server(args.store, port, log_path, None)
    base = f"http://localhost:{port}"
    timeout_ms = args.timeout_s * 1000
    result = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M"), "minutes": args.minutes,
              "changes_per_session": args.changes_per_session, "server": {"pid": process.pid, "log": str(log_path)}}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                result["after_startup_rss_mb"] = rss_mb(process.pid)["rss_mb"]
                filter_changes(browser, base, args.changes_per_session, args.quiet_ms, timeout_ms)  # warm-up
                time.sleep(SESSION_EXPIRY_WAIT_S)
                result["start"] = _reference(browser, base, process.pid, args.reference_changes, args.quiet_ms, timeout_ms)
                timeline, latencies, sessions = [], [], 0
                started = time.monotonic()
                while time.monotonic() - started < args.minutes * 60:
                    session = filter_changes(browser, base, args.changes_per_session, args.quiet_ms, timeout_ms)
                    sessions += 1
                    latencies += [r["ms"] for r in session["changes"] if "ms" in r]
                    timeline.append({"minute": round((time.monotonic() - started) / 60, 2), "sessions": sessions,
                                     "rss_mb": rss_mb(process.pid)["rss_mb"], "session_median_ms": session.get("median_ms"),
                                     "failed_changes": len(session["failed_changes"]), "errors": len(session["errors"])})
                    print(json.dumps(timeline[-1]), file=sys.stderr, flush=True)
                result["soak"] = {"sessions": sessions, "filter_change": _stats(latencies),
                                  "peak_rss_mb": rss_mb(process.pid)["peak_rss_mb"], "timeline": timeline}
                time.sleep(SESSION_EXPIRY_WAIT_S)
                result["end"] = _reference(browser, base, process.pid, args.reference_changes, args.quiet_ms, timeout_ms)
                time.sleep(SESSION_EXPIRY_WAIT_S)
                result["end_idle_rss_mb"] = rss_mb(process.pid)["rss_mb"]
            finally:
                browser.close()
    finally:
        stop_server(process)
    first, last = result["start"], result["end"]
    result["summary"] = {
        "rss_start_mb": first["rss_mb"], "rss_end_mb": last["rss_mb"], "rss_growth_mb": round(last["rss_mb"] - first["rss_mb"], 1),
        "filter_change_median_start_ms": first["filter_change"]["median_ms"],
        "filter_change_median_end_ms": last["filter_change"]["median_ms"],
        "sessions": result["soak"]["sessions"],
        "first_minutes_median_ms": _median_of(result["soak"]["timeline"][:10]),
        "last_minutes_median_ms": _median_of(result["soak"]["timeline"][-10:]),
    }
    return result


def _median_of(rows: list[dict]) -> float | None:
    values = [row["session_median_ms"] for row in rows if row["session_median_ms"] is not None]
    return round(statistics.median(values)) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("/tmp/province"))
    parser.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) / "hazardboard-bench-store")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--changes-per-session", type=int, default=6)
    parser.add_argument("--reference-changes", type=int, default=12)
    parser.add_argument("--quiet-ms", type=int, default=300)
    parser.add_argument("--timeout-s", type=int, default=120)
    parser.add_argument("--deadline", type=int, default=3600, help="seconds for the whole run")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(args.deadline)
    try:
        result = run(args)
    except Deadline as error:
        sys.exit(f"bench_soak: {error}")
    finally:
        signal.alarm(0)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
