"""``hazardboard backup DEST`` and ``hazardboard restore SRC`` (``store.backup``).

A backup is taken while servers keep running (one consistent snapshot); a restore replaces what a
store holds, so servers on it are stopped first and started again after.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

EXIT_OK = 0


def add_parsers(commands, add_store_option: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register this module's sub-commands on the CLI's sub-parsers."""
    backup = commands.add_parser(
        "backup", help="备份数据库（看板运行时也可备份）",
        description="把数据库的全部内容（文件、提交记录、批注、审计日志）一致地复制到一个 SQLite 备份文件；看板服务运行时也可执行。")
    backup.add_argument("dest", metavar="DEST",
                        help="备份文件路径（不覆盖已有文件）；若为目录，则在其中生成 hazardboard-年月日-时分秒.sqlite")
    add_store_option(backup)
    backup.set_defaults(handler=_run_backup)

    restore = commands.add_parser(
        "restore", help="从备份文件恢复数据库",
        description="用备份文件恢复数据库。恢复前请先停止使用该数据库的看板服务，恢复后再重新启动。")
    restore.add_argument("src", metavar="SRC", help="hazardboard backup 生成的备份文件")
    add_store_option(restore)
    restore.add_argument("--replace", action="store_true",
                         help="目标数据库已有数据时，用备份替换其全部内容（默认拒绝）")
    restore.set_defaults(handler=_run_restore)


def _run_backup(args: argparse.Namespace) -> int:
    from store import Store
    from store.audit import cli_actor
    from store.backup import backup

    with Store(args.store) as store:
        info = backup(store, args.dest, actor=cli_actor())
        source = store.display_url
    print(f"已备份：{source}")
    print(f"  → {info.path.resolve()}（{_size(info.bytes)}）")
    print(f"  {info.summary()}")
    print("  备份文件含 Cookie 密钥等敏感数据，请与数据库同等妥善保管。")
    return EXIT_OK


def _run_restore(args: argparse.Namespace) -> int:
    from store import resolve_store_url
    from store.audit import cli_actor
    from store.backup import restore

    print("注意：恢复前请先停止使用该数据库的看板服务（hazardboard serve）；恢复后再重新启动，看板才会显示恢复后的数据。",
          file=sys.stderr)
    info = restore(args.src, args.store, replace=args.replace, actor=cli_actor())
    print(f"已恢复：{info.path.resolve()}（{_size(info.bytes)}，结构版本 {info.schema_version}）")
    print(f"  → {_display(resolve_store_url(args.store))}")
    print(f"  {info.summary()}")
    print("请重新启动使用该数据库的看板服务。")
    return EXIT_OK


def _display(url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _size(size: int) -> str:
    from briefing.pack import size_text

    return size_text(size)
