"""Sign-in and roles benchmark (issue 10): what signing in and being a unit officer cost.

    .venv/bin/python benchmarks/bench_access.py --store /tmp/bench-province-store [--runs 5]

Measured, median of ``--runs``:
- one password check (Argon2id at argon2-cffi's defaults): what each sign-in costs the server;
- a sign-in through HTTP against a running ``hazardboard serve --auth`` (POST /login → the redirect);
- the restricted snapshot of one unit officer over the store's dataset (``CampaignSnapshot.restricted_to``),
  built once per dataset revision and unit, for a few units;
- ``hazardboard backup`` of the store, wall time from the shell (Python start-up included).
Record the figures in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CLI = ROOT / ".venv" / "bin" / "hazardboard"
PASSWORD = "bench-password-1"


def median_seconds(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_sign_in(store: Path, users_path: Path, runs: int) -> float:
    port = free_port()
    server = subprocess.Popen([str(CLI), "serve", "--store", str(store), "--users", str(users_path), "--auth",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        body = urllib.parse.urlencode({"username": "bench", "password": PASSWORD, "next": "/"}).encode()

        def sign_in() -> None:
            try:
                opener.open(f"http://localhost:{port}/login", data=body, timeout=30)
            except urllib.error.HTTPError as error:  # the 302 to the app
                assert error.code == 302, error.code

        sign_in()  # warm
        return median_seconds(sign_in, runs)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from auth.access import Access
    from auth.users import UsersFile
    from components.data import SharedCampaign

    with tempfile.TemporaryDirectory(prefix="bench-access-") as temp:
        temp = Path(temp)
        store = temp / "store"
        shutil.copytree(args.store, store)
        users = UsersFile(temp / "users.json")
        users.add("bench", "committee", password=PASSWORD)
        print(f"machine: {platform.node()} {platform.processor() or platform.machine()}, Python {platform.python_version()}")
        print(f"password check: {median_seconds(lambda: users.verify('bench', PASSWORD), args.runs) * 1000:.0f} ms")

        started = time.perf_counter()
        shared = SharedCampaign(store)
        print(f"dataset built in {time.perf_counter() - started:.1f} s "
              f"({len(shared.snapshot.campaign.unique_hazards):,} hazards, {len(shared.snapshot.units)} units)")
        snapshot = shared.snapshot
        units = shared.snapshot.units
        for unit in (units[0], units[len(units) // 2], units[-1]):
            access = Access(user="bench", role="unit", unit=unit)
            seconds = median_seconds(lambda: snapshot.restricted_to(access), args.runs)
            restricted = snapshot.restricted_to(access)
            print(f"restricted snapshot of {unit}: {seconds * 1000:.0f} ms "
                  f"({len(restricted.campaign.unique_hazards):,} hazards kept)")
        del shared, snapshot

        print(f"sign-in over HTTP (POST /login → 302): {http_sign_in(store, users.path, args.runs) * 1000:.0f} ms")

        def backup() -> None:
            destination = temp / f"backup-{time.monotonic_ns()}.sqlite"
            subprocess.run([str(CLI), "backup", str(destination), "--store", str(store)], check=True,
                           capture_output=True)
            destination.unlink()

        size_mb = (store / "hazardboard.sqlite").stat().st_size / 1024 / 1024
        print(f"hazardboard backup of a {size_mb:.0f} MB store: {median_seconds(backup, args.runs):.2f} s")


if __name__ == "__main__":
    main()
