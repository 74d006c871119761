"""Ingest benchmarks: the sample campaign and the province-scale set.

    .venv/bin/python benchmarks/bench_ingest.py sample  [--runs 5]
    .venv/bin/python benchmarks/bench_ingest.py province [--runs 3] [--dir /tmp/hazardboard-province]

For each set it reports, as the median of several runs:
- ingest: every workbook read, parsed and merged into the campaign (loaders.load_paths),
  and the same into a fresh SQLite store (store.Store.ingest_paths) when available;
- the reader alone: our safe opener + python-calamine grids against
  pandas.read_excel(engine="openpyxl", sheet_name=None, header=None) on the same files,
  as a ratio measured in the same run;
- peak memory (max RSS) of a fresh process doing one full load, and of its largest worker.
Record the figures in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loaders import find_workbooks, load_paths  # noqa: E402
from loaders.workbook import WorkbookRefused, open_workbook, read_grids  # noqa: E402

SAMPLE_DIR = ROOT / "sample_data" / "campaign"


def _median_seconds(fn, runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def _read_all_calamine(files: list[Path]) -> int:
    cells = 0
    for path in files:
        try:
            grids, _ = read_grids(open_workbook(path.read_bytes(), path.name), path.name)
        except WorkbookRefused:
            continue
        cells += sum(len(row) for grid in grids for row in grid.rows)
    return cells


def _read_all_openpyxl(files: list[Path]) -> int:
    import pandas as pd

    cells = 0
    for path in files:
        try:
            frames = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
        except Exception:  # the deliberately bad sample files
            continue
        cells += sum(frame.size for frame in frames.values())
    return cells


def _peak_memory_mb(directory: Path, workers: int) -> dict[str, float]:
    """Peak RSS of a fresh process loading the set, and of its largest worker process."""
    # VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so a child forked from this
    # (large) benchmark process would report the benchmark's own peak.
    code = (
        "import json, resource, sys; sys.path.insert(0, %r);"
        "from loaders import load_paths; c = load_paths([%r], workers=%d);"
        "hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'));"
        "print(json.dumps([hwm / 1024, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024]))"
    ) % (str(ROOT), str(directory), workers)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    main, worker = json.loads(out.strip().splitlines()[-1])
    return {"peak_rss_main_mb": round(main), "peak_rss_largest_worker_mb": round(worker)}


def _store_ingest(directory: Path) -> float | None:
    try:
        from store import Store
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        start = time.perf_counter()
        store.ingest_paths([directory])
        store.campaign()
        return time.perf_counter() - start


def bench(directory: Path, runs: int, workers: int, compare_reader: bool) -> dict:
    files, _ = find_workbooks([directory])
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    ingest, ingest_runs = _median_seconds(lambda: load_paths([directory], workers=workers), runs)
    campaign = load_paths([directory], workers=workers)
    result = {
        "files": len(files),
        "size_mb": round(size_mb, 1),
        "unique_hazards": int(len(campaign.unique_hazards)),
        "hazard_rows": int(len(campaign.hazards)),
        "ingest_median_s": round(ingest, 3),
        "ingest_runs_s": [round(t, 3) for t in ingest_runs],
        "workers": workers,
    }
    store_seconds = [t for t in (_store_ingest(directory) for _ in range(max(1, runs // 2))) if t is not None]
    if store_seconds:
        result["store_ingest_median_s"] = round(statistics.median(store_seconds), 3)
    if compare_reader:
        calamine_s, _ = _median_seconds(lambda: _read_all_calamine(files), runs)
        openpyxl_s, _ = _median_seconds(lambda: _read_all_openpyxl(files), max(1, runs // 2))
        result["reader_calamine_s"] = round(calamine_s, 3)
        result["reader_openpyxl_s"] = round(openpyxl_s, 3)
        result["reader_speedup"] = round(openpyxl_s / calamine_s, 1)
    result.update(_peak_memory_mb(directory, workers))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("set", choices=["sample", "province"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "hazardboard-province")
    parser.add_argument("--no-reader-compare", action="store_true")
    args = parser.parse_args()
    if args.set == "sample":
        directory = SAMPLE_DIR
    else:
        directory = args.dir
        if not directory.exists():
            print(f"generating the province-scale set into {directory} …", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "sample_data.generate", "--scale", "province", "--out", str(directory), "--seed", "1"],
                           check=True, cwd=ROOT)
    figures = bench(directory, args.runs, args.workers, not args.no_reader_compare)
    figures["machine"] = f"{platform.machine()}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, Python {platform.python_version()}"
    figures["date"] = time.strftime("%Y-%m-%d")
    print(json.dumps({args.set: figures}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
