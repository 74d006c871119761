"""Start-up of a server over a store, end to end as an officer meets it: from `hazardboard serve`
launched in a shell to the port answering, and to the first page drawn in the browser.

    .venv/bin/python benchmarks/bench_startup.py --store /tmp/p11-store --runs 3 [--page overview]

Each run starts a fresh server process. The first run (``--cold``) removes the store's campaign
cache first, so it builds the campaign from every stored result (and keeps it); the others find
the cache (store/campaign_cache.py). Prints JSON: per run the seconds to the port, to the first
painted frame showing the whole page (``drawn_s``) and to the end of the 300 ms quiet window that
confirms it (``confirmed_s``), and the medians of the warm runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_dashboard import (  # noqa: E402 - the same server start and browser measurement as the dashboard benchmark
    CHROMIUM,
    CHROMIUM_ARGS,
    EXPECTED,
    free_port,
    machine,
    new_page,
    start_server,
    stop_server,
    wait_drawn,
)


def drop_cache(store_location: Path) -> None:
    from store import Store
    from store.db import campaign_cache

    with Store(store_location) as store, store.engine.begin() as conn:
        conn.execute(sa.delete(campaign_cache))


def one_run(browser, store: Path, page_name: str, log: Path, timeout_ms: int) -> dict:
    port = free_port()
    # The officer's browser is open before the server starts: its new tab is not the server's time.
    context, page = new_page(browser, timeout_ms)
    started = time.monotonic()
    started_wall = time.time()  # the browser stamps its frames with the same clock (Date.now())
    try:
        process = start_server(store, port, log, None)
    except BaseException:
        context.close()
        raise
    listening = time.monotonic() - started
    try:
        try:
            page.goto(f"http://localhost:{port}/?page={page_name}", wait_until="commit")
            result = wait_drawn(page, {"page": page_name, **EXPECTED.get(page_name, {})}, 300, timeout_ms)
            # Drawn: the first painted frame showing the whole page (as in bench_dashboard); the
            # quiet window that confirms nothing else arrived after it is not counted.
            drawn = result["readyAt"] / 1000 - started_wall
            confirmed = time.monotonic() - started
        finally:
            context.close()
    finally:
        stop_server(process)
    return {"port_s": round(listening, 2), "drawn_s": round(drawn, 2), "confirmed_s": round(confirmed, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3, help="warm runs")
    parser.add_argument("--page", default="overview")
    parser.add_argument("--cold", action="store_true", help="one run without the cache first")
    parser.add_argument("--timeout-s", type=int, default=120)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results: dict = {"machine": machine(), "store": str(args.store), "page": args.page, "runs": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            if args.cold:
                drop_cache(args.store)
                results["cold"] = one_run(browser, args.store, args.page, Path("/tmp/bench-startup-cold.log"),
                                          args.timeout_s * 1000)
                print(json.dumps({"cold": results["cold"]}), file=sys.stderr)
            for index in range(args.runs):
                run = one_run(browser, args.store, args.page, Path(f"/tmp/bench-startup-{index}.log"), args.timeout_s * 1000)
                results["runs"].append(run)
                print(json.dumps(run), file=sys.stderr)
        finally:
            browser.close()
    results["median_port_s"] = statistics.median(r["port_s"] for r in results["runs"])
    results["median_drawn_s"] = statistics.median(r["drawn_s"] for r in results["runs"])
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
