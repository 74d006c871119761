"""How long an open page takes to show a change made from the shell, end to end as officers meet it.

    .venv/bin/python benchmarks/bench_freshness.py --store /tmp/p11-store --source /tmp/province8/2023年12月 --runs 3

A server runs over the store; a browser page shows the overview. Each run writes a corrected copy of
``--files`` workbooks of the source folder (one cell changed, so the content is new: a resend) and
runs `hazardboard ingest` on them from the shell. Measured: the ingest's wall time (which includes
building the campaign once and keeping it in the store), and from the ingest's end to the page's
数据已更新 notice. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_dashboard import (  # noqa: E402
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

HAZARDBOARD = Path(sys.executable).with_name("hazardboard")


def corrected_copies(source: Path, count: int, run: int, into: Path) -> list[Path]:
    """``count`` ledgers of ``source`` with a note appended to a title cell: new content, same unit and month."""
    from openpyxl import load_workbook

    made = []
    for path in sorted(source.glob("*台账.xlsx"))[:count]:
        workbook = load_workbook(path)
        sheet = workbook.worksheets[0]
        sheet["A1"] = f"{sheet['A1'].value or ''}（第{run}次更正）"
        target = into / f"{path.stem}_更正{run}.xlsx"
        workbook.save(target)
        made.append(target)
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--source", type=Path, required=True, help="a month folder of workbooks")
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = start_server(args.store, port, Path("/tmp/bench-freshness-server.log"), None)
    results: dict = {"machine": machine(), "store": str(args.store), "runs": []}
    try:
        with sync_playwright() as playwright, tempfile.TemporaryDirectory() as folder:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context, page = new_page(browser, 120_000)
            page.goto(f"http://localhost:{port}/?page=overview", wait_until="commit")
            wait_drawn(page, {"page": "overview", **EXPECTED.get("overview", {})}, 300, 120_000)
            for run in range(1, args.runs + 1):
                files = corrected_copies(args.source, args.files, run, Path(folder))
                started = time.monotonic()
                ingest = subprocess.run([str(HAZARDBOARD), "ingest", "--store", str(args.store), *map(str, files)],
                                        capture_output=True, text=True)
                ingested = time.monotonic()
                if ingest.returncode != 0:
                    raise RuntimeError(ingest.stderr)
                notice = page.locator(".notyf__message", has_text="数据已更新").last
                notice.wait_for(timeout=120_000)
                shown = time.monotonic()
                result = {"ingest_s": round(ingested - started, 2), "notice_after_ingest_s": round(shown - ingested, 2),
                          "message": notice.inner_text()}
                results["runs"].append(result)
                print(json.dumps(result, ensure_ascii=False), file=sys.stderr)
                page.wait_for_timeout(17_000)  # the notice stays 15 s: the next run's is a new one
            context.close()
            browser.close()
    finally:
        stop_server(server)
    results["median_ingest_s"] = statistics.median(r["ingest_s"] for r in results["runs"])
    results["median_notice_after_ingest_s"] = statistics.median(r["notice_after_ingest_s"] for r in results["runs"])
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
