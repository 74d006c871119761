"""Parsing an uploaded file in a child process with a memory and a time limit.

The reading limits of ``loaders.workbook`` refuse the hostile workbooks we know of; this is the
second wall for the ones we do not. The server parses each uploaded file in a process of its
own (``parse_isolated``): the parent kills it when its resident memory reaches the limit or past
the time limit (``RLIMIT_DATA`` in the child is the hard backstop between two samples), so the
worst file costs one refused upload with a Chinese message, never the server. Children come from
a ``forkserver`` that has the loaders imported already: the server has threads, so forking it is
unsafe, and a spawned interpreter would import pandas for every file.

The child returns only the result's JSON (``store.codec``), which the parent decodes: nothing
the child sends is unpickled, and the message is bounded by the memory limit.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import resource
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util

from loaders import Issue, WorkbookResult

from .codec import result_from_dict, result_to_dict
from .db import parse_and_encode

from .defaults import DEFAULT_PARSE_MEMORY_MB as DEFAULT_MEMORY_MB  # noqa: E402
from .defaults import DEFAULT_PARSE_TIMEOUT_S as DEFAULT_TIMEOUT_S  # noqa: E402

# Reason codes of the file-level issue of a file the child could not parse.
CODE_MEMORY = "parse_memory_exceeded"
CODE_TIMEOUT = "parse_timeout"
CODE_CRASHED = "parse_crashed"

# How the child ends a parse that ran out of memory (a MemoryError, caught by it or by the loaders).
_MEMORY_MARKER = b"\x00memory"
# The parent samples the child's resident memory this often, and kills it within this margin of
# the limit.
_SAMPLE_S = 0.02
_CAP_MARGIN = 4 * 1024 * 1024
# How long a child that has answered may take to exit before it is killed.
_EXIT_WAIT_S = 5.0
# A child starts with ~75 MB resident (the loaders it inherits from the fork server) and
# ~165 MB of data segment.
from .defaults import MIN_PARSE_MEMORY_MB as MIN_MEMORY_MB  # noqa: E402
# RLIMIT_DATA of the child, as a multiple of the limit: the hard backstop between two samples.
_DATA_LIMIT_FACTOR = 2

_context = multiprocessing.get_context("forkserver")


class _Popen(popen_forkserver.Popen):
    """The fork server's launch (CPython 3.11-3.13 ``popen_forkserver.Popen._launch``) without
    the main module in the preparation data: a child would otherwise run the parent's
    ``__main__`` script again before every parse (the server's console script, a notebook,
    pytest's runner; ~300 ms a file). The target lives in this module, which the fork server
    has imported, so nothing of ``__main__`` is needed. A test fails when CPython's original
    changes (``tests/test_upload_isolation.py``)."""

    def _launch(self, process_obj):
        prep_data = {key: value for key, value in spawn.get_preparation_data(process_obj._name).items()
                     if key not in ("init_main_from_name", "init_main_from_path")}
        buf = io.BytesIO()
        popen_forkserver.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            popen_forkserver.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        parent_w = os.dup(w)  # the child's sentinel of its parent, as in the standard launch
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _ForkServerProcess(_context.Process):
    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


_preload_lock = threading.Lock()
_preloaded = False


@dataclass(frozen=True)
class ParseLimits:
    """What one file's parse may cost: address space of the child (MB) and wall time (s)."""

    memory_mb: int = DEFAULT_MEMORY_MB
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        if self.memory_mb < MIN_MEMORY_MB or self.timeout_s <= 0:
            raise ValueError(f"the parse memory limit must be at least {MIN_MEMORY_MB} MB and the time limit positive")

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_mb) * 1024 * 1024


def warm_up() -> None:
    """Start the fork server (it imports the loaders once), so the first upload does not wait."""
    _ensure_preload()
    forkserver.ensure_running()


def child_process(target, args: tuple, name: str) -> multiprocessing.Process:
    """A process (not started) forked from the fork server, which has the loaders, pandas and
    pyarrow imported already: a spawned interpreter spends 2–3 s importing them. No limits: for
    the server's own work (``store.campaign_cache.build_in_child``), not for an uploaded file."""
    _ensure_preload()
    return _ForkServerProcess(target=target, args=args, daemon=True, name=name)


def parse_isolated(data: bytes, file_name: str, limits: ParseLimits | None = None) -> tuple[WorkbookResult, str]:
    """``store.db.parse_and_encode(data, file_name)`` run in a child process within ``limits``.

    A child that runs out of memory, passes the time limit (it is killed) or dies otherwise
    gives a rejected result with one file-level error naming the limit; the caller stores it
    like any refused workbook. The child is always reaped and its pipe closed."""
    limits = limits or ParseLimits()
    _ensure_preload()
    parent_end, child_end = _context.Pipe(duplex=True)
    process = _ForkServerProcess(target=_child_main, args=(child_end, limits.memory_bytes * _DATA_LIMIT_FACTOR), daemon=True,
                            name="hazardboard-parse")
    try:
        process.start()
        child_end.close()
        outcome, message = _exchange(process, parent_end, data, file_name, limits)
        if outcome != "answered":
            process.kill()
        process.join(timeout=_EXIT_WAIT_S)
        if process.is_alive():  # answered, then stuck on the way out
            process.kill()
            process.join()
        if outcome == "answered" and message == _MEMORY_MARKER:
            outcome = CODE_MEMORY
        if outcome != "answered":
            return refused_result(data, file_name, outcome, limits, process.exitcode)
        result_json = message.decode("utf-8")
        return result_from_dict(json.loads(result_json)), result_json
    finally:
        if process.pid is not None:
            if process.is_alive():
                process.kill()
            process.join()
            process.close()
        parent_end.close()
        child_end.close()


def _exchange(process, conn, data: bytes, file_name: str, limits: ParseLimits) -> tuple[str, bytes]:
    """Send the file, wait for the answer within the limits: ("answered", the child's message) or
    (the reason code, b"") when the child must be killed or has died.

    While waiting, the child's resident memory is sampled every ``_SAMPLE_S`` and the child killed
    once it reaches the limit: a clean end, where a failed allocation may leave the Rust reader
    hanging until the time limit, and allocators that reserve address space they never touch
    (Arrow's pool) are not mistaken for use. ``RLIMIT_DATA`` in the child (twice the limit) bounds
    what it can take between two samples."""
    deadline = time.monotonic() + limits.timeout_s
    near_cap = limits.memory_bytes - _CAP_MARGIN
    peak = 0
    try:
        conn.send_bytes(file_name.encode("utf-8"))
        conn.send_bytes(data)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return CODE_TIMEOUT, b""
            if conn.poll(min(_SAMPLE_S, remaining)):
                return "answered", conn.recv_bytes(maxlength=limits.memory_bytes)
            peak = max(peak, _resident(process.pid))
            if peak >= near_cap:
                return CODE_MEMORY, b""
            if not process.is_alive() and not conn.poll(0):
                break
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the child died before answering
    except OSError:
        return CODE_MEMORY, b""  # an answer larger than the memory limit (recv_bytes' maxlength)
    process.join(_SAMPLE_S)
    if process.exitcode == -signal.SIGABRT:
        # Rust's reader aborts when an allocation fails: it reached ``RLIMIT_DATA`` between two
        # samples (a fast parse, or this process slow to sample on a loaded machine).
        return CODE_MEMORY, b""
    return CODE_CRASHED, b""  # died without an answer: killed, or native code crashed


def _resident(pid: int | None) -> int:
    """The child's resident memory (VmRSS) in bytes, 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def refused_result(data: bytes, file_name: str, code: str, limits: ParseLimits,
                   exitcode: int | None = None) -> tuple[WorkbookResult, str]:
    """A rejected result for a file its parse could not finish, built as ``loaders.load_workbook``
    builds a refused workbook: one file-level error whose message says which limit and what to do."""
    if code == CODE_MEMORY:
        reason = f"文件解析超出内存上限（{limits.memory_mb} MB），已拒绝读取，疑似异常或恶意构造的文件。"
    elif code == CODE_TIMEOUT:
        reason = f"文件解析超出时间上限（{limits.timeout_s:g} 秒），已拒绝读取，疑似异常或恶意构造的文件。"
    else:
        reason = (f"文件解析进程异常终止（{_describe_exit(exitcode)}；内存上限 {limits.memory_mb} MB），已拒绝读取，"
                  "疑似异常或恶意构造的文件。")
    result = WorkbookResult(file=file_name, sha256=hashlib.sha256(data).hexdigest())
    result.issues.append(Issue(file_name, "", "", "error", f"文件未导入：{reason}请检查文件后重新报送。", code))
    return result, json.dumps(result_to_dict(result), ensure_ascii=False)


def _describe_exit(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"信号 {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"信号 {-exitcode}"
    return f"退出码 {exitcode}"


def _ensure_preload() -> None:
    """Have the fork server import this module (and with it the loaders, pandas and the codec)."""
    global _preloaded
    with _preload_lock:
        if not _preloaded:
            # Arrow's default pool (mimalloc) reserves ~1 GB of address space when pyarrow is imported,
            # which RLIMIT_DATA counts: a child forked with it could not even receive its file. The
            # fork server, started from this environment, uses the system allocator instead.
            os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
            _context.set_forkserver_preload([__name__])
            _preloaded = True


def _child_main(conn, memory_bytes: int) -> None:
    """In the child: cap the data segment, read the name and bytes, parse, answer with the JSON.

    ``RLIMIT_DATA`` (private writable memory: heap, anonymous mappings) bounds what a parse can
    allocate, from Python, numpy or the Rust reader; ``RLIMIT_AS`` would also count the shared
    libraries mapped already (~390 MB of address space before any parse). It is the backstop
    (``_DATA_LIMIT_FACTOR`` times the limit); the parent enforces the limit on resident memory.
    A MemoryError the loaders caught and turned into a finding (``file_read_failed``, ``sheet_parse_failed``: their
    message starts with the exception's type) refuses the whole file too: a partial read is not
    a result."""
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
        file_name = conn.recv_bytes().decode("utf-8")
        data = conn.recv_bytes()
        try:
            result, result_json = parse_and_encode(data, file_name)
            del data
            if any("MemoryError" in issue.message for issue in result.issues
                   if issue.code in ("file_read_failed", "sheet_parse_failed", "sheet_unreadable")):
                answer = _MEMORY_MARKER
            else:
                answer = result_json.encode("utf-8")
            del result, result_json
        except MemoryError:
            answer = _MEMORY_MARKER
        try:
            conn.send_bytes(answer)
        except MemoryError:  # a result that fits but whose message does not: the limit all the same
            answer = None
            conn.send_bytes(_MEMORY_MARKER)
    finally:
        conn.close()
        os._exit(0)  # no atexit handlers or finalizers of the parent's modules in a child
