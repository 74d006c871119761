"""A throwaway PostgreSQL cluster for the tests: Debian's ``postgresql`` package, started by the tests.

``scripts/setup.sh --test`` installs the package; nothing else is needed (Debian's own cluster,
"15/main" on port 5432, is neither used nor touched). Each pytest process (each xdist worker)
starts its own cluster the first time a test asks for one:

- ``initdb`` into a fresh temporary folder (``--auth=trust``, superuser ``postgres``, UTF-8, no
  sync); as root it runs as the ``postgres`` system user (PostgreSQL refuses to run as root), the
  folder owned by it;
- ``pg_ctl start`` on a free loopback port, its Unix socket in that folder (not /run/postgresql),
  ``fsync=off`` (a test cluster need not survive a power cut); a port taken meanwhile by another
  process is retried with another one;
- stopped (``pg_ctl stop -m immediate``) and its folder removed when the process exits.

A test gets a fresh empty database from ``Cluster.create_database()`` (``CREATE DATABASE …
TEMPLATE template0``; about 0.1 s) and it is dropped after the test (``WITH (FORCE)``:
connections a test left open do not keep it).

Without the binaries the tests that need PostgreSQL fail (CI must prove them, not skip them),
saying how to install them.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

SETUP_HINT = "PostgreSQL is not installed: run `bash scripts/setup.sh --test` (it installs Debian's postgresql package)."
BIN_GLOB = "/usr/lib/postgresql/*/bin"
SUPERUSER = "postgres"
START_ATTEMPTS = 3
START_TIMEOUT_S = 60


class PostgresUnavailable(RuntimeError):
    """The cluster cannot be started; the message says why and what to do."""


def binary_folder() -> Path:
    """The newest installed PostgreSQL's bin folder (``/usr/lib/postgresql/<version>/bin``)."""
    candidates = [Path(folder) for folder in glob.glob(BIN_GLOB)
                  if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file()]
    if not candidates:
        raise PostgresUnavailable(SETUP_HINT)

    def version(folder: Path) -> tuple[int, ...]:
        name = folder.parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    return max(candidates, key=version)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """One running PostgreSQL server of this process, in a temporary folder."""

    def __init__(self) -> None:
        self.bin = binary_folder()
        self.as_root = os.geteuid() == 0
        self.folder = Path(tempfile.mkdtemp(prefix="hazardboard-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port: int | None = None
        self.owner_pid = os.getpid()  # a forked child (a test's writer process) never stops it
        self._lock = threading.Lock()
        self.started_in_s = 0.0
        if self.as_root:
            import pwd

            try:
                owner = pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise PostgresUnavailable(f"no '{SUPERUSER}' system user. {SETUP_HINT}") from None
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        began = time.perf_counter()
        try:
            self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                      "--locale=C.UTF-8", "--no-sync", "--no-instructions")
            self._start()
        except BaseException:
            self.stop()
            raise
        self.started_in_s = time.perf_counter() - began

    def _command(self, program: str, *args: str) -> list[str]:
        command = [str(self.bin / program), *args]
        return ["runuser", "-u", SUPERUSER, "--", *command] if self.as_root else command

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(self._command(program, *args), capture_output=True, text=True, timeout=START_TIMEOUT_S,
                              cwd=self.folder)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{program} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def _start(self) -> None:
        for attempt in range(1, START_ATTEMPTS + 1):
            port = _free_port()
            options = f"-p {port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off " \
                      "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(START_TIMEOUT_S),
                          "-o", options, "start")
            except PostgresUnavailable:
                # The port may have been taken between our probe and the server's bind (another
                # worker, another program): once more on another port.
                if attempt == START_ATTEMPTS:
                    log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
                    raise PostgresUnavailable(f"PostgreSQL did not start; its log ends:\n{log}") from None
                continue
            self.port = port
            return

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self) -> str:
        """A fresh empty database's URL (``postgresql://postgres@127.0.0.1:PORT/hb_<uuid>``)."""
        name = f"hb_{uuid.uuid4().hex}"
        with self._lock:
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self._lock:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if os.getpid() != self.owner_pid:
            return
        if self.data.exists() and self.port is not None:
            try:
                subprocess.run(self._command("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop"),
                               capture_output=True, timeout=START_TIMEOUT_S, cwd=self.folder)
            except (OSError, subprocess.SubprocessError):
                pass
            self.port = None
        shutil.rmtree(self.folder, ignore_errors=True)


_cluster: Cluster | None = None
_failure: str | None = None
_guard = threading.Lock()


def cluster() -> Cluster:
    """This process's cluster, started the first time; PostgresUnavailable (again, without
    retrying) when it could not be started."""
    global _cluster, _failure
    with _guard:
        if _failure is not None:
            raise PostgresUnavailable(_failure)
        if _cluster is None:
            try:
                _cluster = Cluster()
            except PostgresUnavailable as error:
                _failure = str(error)
                raise
            atexit.register(stop_cluster)
        return _cluster


def stop_cluster() -> None:
    global _cluster
    with _guard:
        if _cluster is not None:
            _cluster.stop()
            _cluster = None
