"""`hazardboard summary` end to end against a plain pandas + openpyxl read of the same files.

    .venv/bin/python benchmarks/bench_summary.py [--dir sample_data/campaign] [--runs 5] [--as-of 2023-12-31]
    .venv/bin/python benchmarks/bench_summary.py --dir /tmp/province8 --runs 3 --openpyxl-runs 1

In one run, alternating the two so that both see the same machine load:
- *summary*: the wall time of ``.venv/bin/hazardboard summary DIR --json`` started from this
  script as a fresh process (interpreter start-up, imports, reading, merging, the JSON on stdout),
  and its max RSS (the largest single process of its tree: ``wait4``'s ru_maxrss covers the
  command and the workers it waited for);
- *pandas + openpyxl*: a fresh ``python`` process doing, for each workbook the CLI reads (the files
  ``loaders.find_workbooks`` lists), ``pd.read_excel(path, sheet_name=None, header=None,
  engine="openpyxl")``, the files it cannot read skipped (the sample's deliberately bad ones) —
  the definition of the "reader" comparison of ``bench_ingest.py``, here as a process so that
  its imports count as the CLI's do.

Prints the medians, every run and the ratio (pandas + openpyxl / summary) as JSON. This script
imports neither pandas nor the loaders itself, so a child's ru_maxrss is its own (on Linux it
survives exec: a child forked from a large process reports that process's peak).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
SAMPLE_DIR = ROOT / "sample_data" / "campaign"  # what `hazardboard serve` loads by default

PANDAS_READ = """
import sys
import pandas as pd
cells = 0
for line in open(sys.argv[1], encoding="utf-8"):
    path = line.rstrip("\\n")
    try:
        frames = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
    except Exception:  # the deliberately bad sample files
        continue
    cells += sum(frame.size for frame in frames.values())
print(cells)
"""

LIST_FILES = """
import sys
from loaders import find_workbooks
files, _ = find_workbooks(sys.argv[1:])
print("\\n".join(str(p) for p in files))
"""


def _timed(command: list[str], cwd: Path) -> tuple[float, float, bytes]:
    """Wall seconds, max RSS (MB) and stdout of one fresh process."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr = process.stderr.read().decode("utf-8", "replace")
        process.stderr.close()
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr}")
        out.seek(0)
        return seconds, usage.ru_maxrss / 1024, out.read()


def _python() -> str:
    venv_python = VENV_BIN / "python"
    return str(venv_python) if venv_python.exists() else sys.executable


def _hazardboard() -> list[str]:
    script = VENV_BIN / "hazardboard"
    return [str(script)] if script.exists() else [_python(), "-m", "dashboards.cli"]


def _stats(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "runs": [round(v, 3) for v in values]}


def bench(directory: Path, runs: int, openpyxl_runs: int, as_of: str | None, expect: Path | None) -> dict:
    listing = subprocess.run([_python(), "-c", LIST_FILES, str(directory)], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split("\n")
    files = [line for line in listing if line]
    summary_command = [*_hazardboard(), "summary", str(directory), "--json", *(["--as-of", as_of] if as_of else [])]
    summary_s, summary_rss, pandas_s, pandas_rss = [], [], [], []
    expected = expect.read_bytes() if expect else None
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt") as file_list:
        file_list.write("\n".join(files) + "\n")
        file_list.flush()
        pandas_command = [_python(), "-c", PANDAS_READ, file_list.name]
        for run in range(max(runs, openpyxl_runs)):
            if run < runs:
                seconds, rss, stdout = _timed(summary_command, ROOT)
                if expected is not None and stdout != expected:
                    raise SystemExit(f"run {run + 1}: the summary differs from {expect}")
                summary_s.append(seconds)
                summary_rss.append(rss)
                print(f"summary run {run + 1}: {seconds:.2f} s, max RSS {rss:.0f} MB", file=sys.stderr)
            if run < openpyxl_runs:
                seconds, rss, _ = _timed(pandas_command, ROOT)
                pandas_s.append(seconds)
                pandas_rss.append(rss)
                print(f"pandas + openpyxl run {run + 1}: {seconds:.2f} s", file=sys.stderr)
    result = {
        "dir": str(directory),
        "files": len(files),
        "size_mb": round(sum(Path(f).stat().st_size for f in files) / 1e6, 1),
        "summary_command": " ".join(summary_command),
        "summary_s": _stats(summary_s),
        "summary_max_rss_mb": round(max(summary_rss)),
    }
    if pandas_s:
        result["pandas_openpyxl_s"] = _stats(pandas_s)
        result["pandas_openpyxl_max_rss_mb"] = round(max(pandas_rss))
        result["ratio"] = round(statistics.median(pandas_s) / statistics.median(summary_s), 2)
    if expected is not None:
        result["output_identical_to"] = str(expect)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=SAMPLE_DIR, help="the folder of workbooks (default: the sample campaign)")
    parser.add_argument("--runs", type=int, default=5, help="runs of the summary (default 5)")
    parser.add_argument("--openpyxl-runs", type=int, help="runs of the pandas + openpyxl read (default: --runs; 0 skips it)")
    parser.add_argument("--as-of", help="passed to the summary (YYYY-MM-DD) so that its output does not move with the date")
    parser.add_argument("--expect", type=Path, help="a saved `summary --json` output every run must equal byte for byte")
    args = parser.parse_args()
    openpyxl_runs = args.runs if args.openpyxl_runs is None else args.openpyxl_runs
    figures = bench(args.dir.resolve(), args.runs, openpyxl_runs, args.as_of, args.expect)
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    figures["machine"] = f"{platform.machine()}, {nproc} cores, Python {platform.python_version()}"
    figures["date"] = time.strftime("%Y-%m-%d %H:%M")
    figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(figures, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
