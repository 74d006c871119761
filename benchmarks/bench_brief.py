"""Briefing-pack benchmark: `hazardboard brief` as an officer runs it, wall time from the shell.

    .venv/bin/python benchmarks/bench_brief.py sample   [--runs 5]
    .venv/bin/python benchmarks/bench_brief.py province --store /tmp/hazardboard-soak-store [--runs 3]
    .venv/bin/python benchmarks/bench_brief.py province --data /tmp/province8 [--runs 3]

Each run is a fresh `hazardboard brief ... --out DIR` process (Python start-up, reading the
store or the workbooks, every figure, charts, Word, PDF, Excel, slides, PNGs written), timed
end to end; the median of the runs is printed with the peak RSS of the process (from
/usr/bin/time when present) and what the pack holds. Targets (issue 9): the whole-city pack of
one period under 15 s on the sample, under 60 s at province scale. Record the figures in
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "hazardboard"
SAMPLE_DIR = ROOT / "sample_data" / "campaign"


def run_once(args: list[str]) -> tuple[float, float | None, list[Path]]:
    """Seconds, peak RSS (MB, None without GNU time) and the files written by one run."""
    with tempfile.TemporaryDirectory(prefix="bench-brief-") as out:
        command = [str(CLI), "brief", *args, "--out", out]
        timed = Path("/usr/bin/time").exists()
        if timed:
            command = ["/usr/bin/time", "-f", "MAXRSS %M", *command]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"brief failed ({done.returncode}):\n{done.stderr[-2000:]}")
        match = re.search(r"MAXRSS (\d+)", done.stderr)
        rss = int(match.group(1)) / 1024 if match else None
        files = sorted(Path(out).iterdir())
        sizes = [(p.name, p.stat().st_size) for p in files]
    return seconds, rss, sizes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scale", choices=["sample", "province"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--period", default="2023-08")
    parser.add_argument("--store", help="a store to read (without: read the workbooks directly)")
    parser.add_argument("--data", help="the workbooks folder (province scale)")
    options = parser.parse_args()
    if options.store:
        args = ["--store", options.store]
    else:
        folder = SAMPLE_DIR if options.scale == "sample" else Path(options.data or "/tmp/hazardboard-province")
        args = [str(folder)]
    args += ["--period", options.period]
    print(f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}; "
          f"{options.scale}, {'store' if options.store else 'workbooks'}, {options.runs} runs")
    times, peaks, sizes = [], [], []
    for _ in range(options.runs):
        seconds, rss, sizes = run_once(args)
        times.append(seconds)
        if rss is not None:
            peaks.append(rss)
        print(f"  {seconds:.2f} s" + (f", peak RSS {rss:.0f} MB" if rss is not None else ""))
    print(f"median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f})"
          + (f"; peak RSS median {statistics.median(peaks):.0f} MB" if peaks else ""))
    for name, size in sizes:
        print(f"  {name}: {size:,} bytes")


if __name__ == "__main__":
    main()
