"""The writer that tests/test_durability.py kills with SIGKILL: the server's write paths in a loop.

``python -m tests.durability_child STORE [--pause upload|annotation] [--slow SECONDS]``

Each round uploads a batch of sample workbooks with ``Store.ingest_upload`` as an officer (the
batch's last file is refused by ``authorize``), adds an annotation and edits the one before, all
with an actor, and prints a line right after each commit returns:

    COMMITTED upload [[name, sha256, status, submissions], ...]
    COMMITTED annotation <id> <version>

A round whose files are already stored is passed over, so a child started after a kill carries
on where the last one's commits ended. ``--pause upload`` stops inside the first upload's write
transaction (two files' rows and audit entries written, not committed) after printing
``WRITING upload [sha256, ...]`` (the round's files); ``--pause annotation`` likewise inside
the first annotation edit, after ``WRITING annotation <id> <version being written>``. ``--slow``
sleeps that long after every audit entry written inside a transaction, to widen the window a
kill at a random moment lands in.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

from store import audit
from store.annotations import Annotations, unit_subject
from store.audit import Actor
from store.db import Store, files

import sqlalchemy as sa

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "campaign"
ACTOR = Actor("测试员", "committee", "127.0.0.1")
FILES_PER_ROUND = 4  # the last of each round is refused
REFUSAL = "不是本单位的文件，无权上传"


def plan() -> list[list[tuple[str, str]]]:
    """Rounds of (name, sha256): the sample's workbooks in name order, each content once."""
    seen, workbooks = set(), []
    for path in sorted(SAMPLE.rglob("*.xls*")):
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        if sha256 not in seen:
            seen.add(sha256)
            workbooks.append((str(path.relative_to(SAMPLE)), sha256))
    return [workbooks[i:i + FILES_PER_ROUND] for i in range(0, len(workbooks) - FILES_PER_ROUND + 1, FILES_PER_ROUND)]


def refused_names() -> set[str]:
    return {round_[-1][0] for round_ in plan()}


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("--pause", choices=("upload", "annotation"))
    parser.add_argument("--slow", type=float, default=0.0)
    args = parser.parse_args(argv)

    original = audit.record
    writing = {"upload": 0, "round": []}

    def record(target_of, actor, action, target="", detail="", *rest, **options):
        original(target_of, actor, action, target, detail, *rest, **options)
        if isinstance(target_of, Store):
            return
        if action == "upload":
            writing["upload"] += 1
            if args.pause == "upload" and writing["upload"] == 2:
                say("WRITING upload " + json.dumps([sha256 for _, sha256 in writing["round"]]))
                time.sleep(600)
        if args.pause == "annotation" and action == "annotation_edit":
            # target "批注#12 会昌县", detail "第3版：…"
            say(f"WRITING annotation {target.split()[0].removeprefix('批注#')} {detail.split('版')[0].removeprefix('第')}")
            time.sleep(600)
        if args.slow:
            time.sleep(args.slow)

    audit.record = record  # store.db and store.annotations call audit.record at call time

    store = Store(args.store)
    notes = Annotations(store, actor=ACTOR)
    refused = refused_names()
    with store.engine.connect() as conn:
        stored = set(conn.execute(sa.select(files.c.sha256)).scalars())
    say("READY")
    for number, round_ in enumerate(plan()):
        if any(sha256 in stored for _, sha256 in round_):
            continue
        upload = [(name, (SAMPLE / name).read_bytes()) for name, _ in round_]
        writing["round"] = round_
        outcomes = store.ingest_upload(upload, authorize=lambda result: REFUSAL if result.file in refused else None,
                                       actor=ACTOR)
        say("COMMITTED upload " + json.dumps([[o.file_name, o.sha256, o.status, o.submissions] for o in outcomes],
                                             ensure_ascii=False))
        previous = notes.list(author="测试员")
        added = notes.add(unit_subject("会昌县"), f"第{number}轮：核实处罚数据。", "测试员")
        say(f"COMMITTED annotation {added['id']} {added['version']}")
        target = previous.iloc[-1] if len(previous) else added
        edited = notes.edit(int(target["id"]), int(target["version"]), "测试员", text=f"第{number}轮修改：已电话核实。")
        say(f"COMMITTED annotation {edited['id']} {edited['version']}")
    say("DONE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
