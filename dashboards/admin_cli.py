"""``hazardboard users add|remove|list|passwd|change`` and ``hazardboard audit``.

Passwords are typed twice at a terminal (getpass) or read as one line from standard input with
``--password-stdin``; never taken as a command-line argument, never printed or logged. Every
change to the accounts (the users file; for a store given as a database URL, its accounts table:
``auth.users.users_for``), and every refused one, is recorded in the store's audit log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
import unicodedata
from collections.abc import Callable, Sequence

from auth import MIN_PASSWORD_CHARS, ROLE_LABELS, ROLES, USERS_ENV_VAR, User, UsersError, UsersFile
from auth.users import users_for

DEFAULT_AUDIT_LIMIT = 100
# Columns of the printed audit log that may be long are cut to this many terminal cells.
AUDIT_CELL_WIDTH = 40


def add_parsers(commands, add_store_option: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register this module's sub-commands on the CLI's sub-parsers."""
    users = commands.add_parser(
        "users", help="管理可登录看板的用户：添加、删除、列出、改密码、改角色",
        description="管理用户文件（默认为数据目录下的 users.json，可用 --users 或环境变量 "
                    f"{USERS_ENV_VAR} 指定；--store 为 PostgreSQL 等数据库地址时账号保存在该数据库中）。"
                    "正在运行的看板无需重启即可生效。每次修改都记入审计日志。")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="操作")
    roles = "；".join(f"{role}={label}" for role, label in ROLE_LABELS.items())

    def action(command: str, help_text: str, handler, name_help: str | None = "用户名", password: bool = False):
        parser = actions.add_parser(command, help=help_text)
        if name_help:
            parser.add_argument("name", metavar="NAME", help=name_help)
        if password:
            parser.add_argument("--password-stdin", action="store_true",
                                help=f"从标准输入读取一行作为密码（供脚本使用）；否则在终端提示输入两次。密码至少 {MIN_PASSWORD_CHARS} 个字符")
        parser.add_argument("--users", metavar="FILE",
                            help=f"用户文件；默认取环境变量 {USERS_ENV_VAR}，否则为数据目录下的 users.json"
                                 "（--store 为 PostgreSQL 等数据库地址时为该数据库中的账户表）")
        add_store_option(parser)
        parser.set_defaults(handler=handler)
        return parser

    add = action("add", "添加用户", _run_users_add, "用户名（登录时填写；不含空格，最多 64 个字符）", password=True)
    add.add_argument("--role", required=True, choices=ROLES,
                     help=f"角色：{roles}（安委会办公室可看全部单位、管理用户；单位用户只看本单位；只读用户可看全部但不能修改）")
    add.add_argument("--unit", metavar="单位", help="单位用户所属的单位（可写简称，如“会昌”“经开区”）；其他角色不填")
    add.add_argument("--display-name", metavar="姓名", help="显示的姓名，默认同用户名")
    add.add_argument("--sso", action="store_true", help="该用户只通过单点登录（OIDC）登录，不设密码")
    action("remove", "删除用户", _run_users_remove)
    action("list", "列出用户（不显示密码）", _run_users_list, name_help=None)
    action("passwd", "为用户设置新密码", _run_users_passwd, password=True)
    change = action("change", "修改用户的角色、单位或姓名", _run_users_change)
    change.add_argument("--role", choices=ROLES, help=f"新角色：{roles}；改为非单位角色时自动清除所属单位")
    change.add_argument("--unit", metavar="单位", help="单位用户的新单位（可写简称）")
    change.add_argument("--display-name", metavar="姓名", help="新的显示姓名")

    audit = commands.add_parser("audit", help="查看审计日志：登录、上传、批注、导出、用户管理等操作记录（最新的在前）")
    add_store_option(audit)
    audit.add_argument("--user", metavar="NAME", help="只看这个用户的操作（命令行操作的用户记为“命令行:系统账户”）")
    audit.add_argument("--action", metavar="ACTION",
                       help="只看这种操作，可写英文代码或中文名称，如 signin 或 登录；写错时列出全部可选值")
    audit.add_argument("--outcome", choices=_outcomes(), help="只看这种结果：ok=成功，refused=被拒绝，failed=失败")
    audit.add_argument("--since", metavar="YYYY-MM-DD", help="从这一天起（含，本机时区）")
    audit.add_argument("--until", metavar="YYYY-MM-DD", help="到这一天止（含，本机时区）")
    audit.add_argument("--text", metavar="TEXT", help="对象或说明中含有这段文字，如文件名、单位名")
    audit.add_argument("--limit", type=int, default=DEFAULT_AUDIT_LIMIT, metavar="N",
                       help=f"最多显示多少条，默认 {DEFAULT_AUDIT_LIMIT}；0 表示全部")
    audit.add_argument("--json", action="store_true", help="每行输出一条 JSON 记录（时间为 UTC 的 ISO 格式），供程序读取")
    audit.set_defaults(handler=_run_audit)


def _outcomes() -> tuple[str, ...]:
    from store.defaults import OUTCOMES

    return OUTCOMES


# --- users ---------------------------------------------------------------------------

def _run_users_add(args: argparse.Namespace) -> int:
    if args.sso and args.password_stdin:
        raise _command_error("单点登录用户不设密码，--sso 与 --password-stdin 不能同时使用。", usage=True)
    detail = _role_detail(args.role, args.unit) + ("，单点登录" if args.sso else "，密码登录")

    def change(users: UsersFile) -> tuple[User, str]:
        users.check_add(args.name, args.role, args.unit, args.display_name)  # refused before the password is asked
        password = None if args.sso else _read_new_password(args, f"用户“{args.name}”的密码")
        user = users.add(args.name, args.role, unit=args.unit, password=password,
                         display_name=args.display_name, sso=args.sso)
        login = "单点登录" if user.sso else "密码"
        return user, f"{_user_detail(user)}，登录方式：{login}"

    user, detail_done = _audited_change(args, "user_add", detail, change)
    print(f"已添加用户“{user.name}”（{detail_done}）。")
    print(f"账号保存在{_users(args).where}；正在运行的看板无需重启即可生效。")
    return _exit_ok()


def _run_users_remove(args: argparse.Namespace) -> int:
    def change(users: UsersFile) -> tuple[User, str]:
        user = users.remove(args.name)
        return user, _user_detail(user)

    user, _ = _audited_change(args, "user_remove", "", change)
    print(f"已删除用户“{user.name}”（{_user_detail(user)}），此后不能再登录。")
    return _exit_ok()


def _run_users_passwd(args: argparse.Namespace) -> int:
    def change(users: UsersFile) -> tuple[User, str]:
        existing = users.require(args.name)  # refused before the password is asked
        if existing.sso:
            raise UsersError(f"用户“{existing.name}”使用单点登录，没有密码可改。")
        user = users.set_password(args.name, _read_new_password(args, f"用户“{args.name}”的新密码"))
        return user, "已设置新密码"

    user, _ = _audited_change(args, "user_passwd", "设置新密码", change)
    print(f"已为用户“{user.name}”设置新密码。")
    return _exit_ok()


def _run_users_change(args: argparse.Namespace) -> int:
    if args.role is None and args.unit is None and args.display_name is None:
        raise _command_error("请至少指定 --role、--unit、--display-name 中的一项。", usage=True)
    wanted = "、".join(part for part in (
        f"角色改为{ROLE_LABELS[args.role]}" if args.role else "",
        f"单位改为{args.unit}" if args.unit else "",
        f"姓名改为{args.display_name}" if args.display_name is not None else "") if part)

    def change(users: UsersFile) -> tuple[User, str]:
        before = users.get(args.name)
        user = users.change(args.name, role=args.role, unit=args.unit, display_name=args.display_name)
        return user, f"由 {_user_detail(before)} 改为 {_user_detail(user)}" if before else _user_detail(user)

    user, detail = _audited_change(args, "user_change", wanted, change)
    print(f"已修改用户“{user.name}”：{detail}。")
    return _exit_ok()


def _run_users_list(args: argparse.Namespace) -> int:
    accounts = _users(args)
    try:
        users = accounts.users()
    except UsersError as error:
        raise _command_error(error.message) from None
    if not users:
        print(f"{accounts.where}中还没有用户。添加：hazardboard users add NAME --role committee")
        return _exit_ok()
    order = {role: index for index, role in enumerate(ROLES)}
    rows = [[u.name, u.display_name, u.role_label, u.unit or "—", "单点登录" if u.sso else "密码"]
            for u in sorted(users.values(), key=lambda u: (order.get(u.role, len(order)), u.unit or "", u.name))]
    print(f"{accounts.where}（{len(users)} 个用户）")
    print("\n".join(format_table(["用户名", "姓名", "角色", "单位", "登录方式"], rows)))
    return _exit_ok()


def _audited_change(args: argparse.Namespace, action: str, attempted: str,
                    change: Callable[[UsersFile], tuple[User, str]]) -> tuple[User, str]:
    """Runs ``change`` on the users file and records it in the audit log: "ok" with what was
    done, or "refused" with the reason (then raised as a CommandError). The store is opened
    first, so a store that cannot be opened stops the command before the file changes."""
    from store import Store
    from store.audit import record

    actor = _cli_actor()
    with Store(args.store) as store:
        try:
            user, detail = change(_users(args))
        except UsersError as error:
            record(store, actor, action, target=args.name, detail=_joined(attempted, error.message), outcome="refused")
            raise _command_error(error.message) from None
        record(store, actor, action, target=user.name, detail=detail)
    return user, detail


def _read_new_password(args: argparse.Namespace, what: str) -> str:
    """One line of standard input with ``--password-stdin``; else typed twice at a terminal."""
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise _command_error("标准输入中没有读到密码（应为一行文字）。")
        return password
    if not sys.stdin.isatty():
        raise _command_error("标准输入不是终端，无法提示输入密码：请加 --password-stdin，从标准输入传入一行密码。", usage=True)
    first = getpass.getpass(f"{what}（至少 {MIN_PASSWORD_CHARS} 个字符，输入时不显示）：")
    second = getpass.getpass("再输入一次：")
    if first != second:
        raise _command_error("两次输入的密码不一致，未作修改。")
    return first


def _users(args: argparse.Namespace) -> UsersFile:
    """The accounts of ``--users FILE``, else of the store (``auth.users.users_for``)."""
    return users_for(args.store, args.users)


def _user_detail(user: User) -> str:
    parts = [f"角色：{user.role_label}"]
    if user.unit:
        parts.append(f"单位：{user.unit}")
    if user.display_name != user.name:
        parts.append(f"姓名：{user.display_name}")
    return "，".join(parts)


def _role_detail(role: str, unit: str | None) -> str:
    return f"角色：{ROLE_LABELS.get(role, role)}" + (f"，单位：{unit}" if unit else "")


def _joined(*parts: str) -> str:
    return "；".join(p for p in parts if p)


def _cli_actor():
    from store.audit import cli_actor

    return cli_actor()


# --- audit ---------------------------------------------------------------------------

def _run_audit(args: argparse.Namespace) -> int:
    from store import Store
    from store.audit import ACTION_LABELS, OUTCOME_LABELS, entries

    action = _resolve_action(args.action) if args.action else None
    since = _local_day_start(args.since, "--since") if args.since else None
    until = _local_day_start(args.until, "--until") + dt.timedelta(days=1) if args.until else None
    if since is not None and until is not None and since >= until:
        raise _command_error("--since 的日期晚于 --until，没有可显示的记录。", usage=True)
    if args.limit < 0:
        raise _command_error("--limit 不能为负数（0 表示全部）。", usage=True)
    limit = args.limit or None
    with Store(args.store) as store:
        frame = entries(store, actor=args.user, action=action, outcome=args.outcome, since=since, until=until,
                        text=args.text, limit=None if limit is None else limit + 1)
        where = store.display_url
    more = limit is not None and len(frame) > limit
    frame = frame.iloc[:limit] if limit is not None else frame

    if args.json:
        for row in frame.itertuples(index=False):
            print(json.dumps({"id": int(row.id), "at": row.at.isoformat(), "actor": row.actor, "role": row.role,
                              "action": row.action, "action_label": ACTION_LABELS.get(row.action, row.action),
                              "target": row.target, "detail": row.detail, "origin": row.origin,
                              "outcome": row.outcome}, ensure_ascii=False))
        return _exit_ok()

    zone = _local_zone_text()
    if frame.empty:
        print(f"数据库“{where}”中没有符合条件的审计记录。")
        return _exit_ok()
    shown = f"只显示最新的 {limit} 条，更早的可加 --limit 0 或缩小范围" if more else f"共 {len(frame)} 条"
    print(f"审计日志（数据库“{where}”；时间为本机时区 {zone}；最新的在前；{shown}）")
    rows = [[row.at.to_pydatetime().astimezone().strftime("%Y-%m-%d %H:%M:%S"),
             _cell(row.actor, AUDIT_CELL_WIDTH // 2), ROLE_LABELS.get(row.role, row.role) or "—",
             ACTION_LABELS.get(row.action, row.action), _cell(row.target, AUDIT_CELL_WIDTH),
             OUTCOME_LABELS.get(row.outcome, row.outcome), _cell(row.origin, AUDIT_CELL_WIDTH // 2),
             _cell(row.detail, None)]
            for row in frame.itertuples(index=False)]
    print("\n".join(format_table(["时间", "用户", "角色", "操作", "对象", "结果", "来源", "说明"], rows)))
    return _exit_ok()


def _resolve_action(text: str) -> str:
    from store.audit import ACTION_LABELS

    wanted = text.strip()
    if wanted in ACTION_LABELS:
        return wanted
    by_label = {label: action for action, label in ACTION_LABELS.items()}
    if wanted in by_label:
        return by_label[wanted]
    listed = "、".join(f"{action}（{label}）" for action, label in ACTION_LABELS.items())
    raise _command_error(f"--action 的操作“{_cell(text, 40)}”无效，可选：{listed}", usage=True)


def _local_day_start(text: str, option: str) -> dt.datetime:
    """Midnight at the start of the day ``text`` (YYYY-MM-DD) in the machine's time zone."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise _command_error(f"{option} 的日期“{_cell(text, 40)}”无效，请按“年-月-日”格式填写，例如 2026-03-01。",
                             usage=True) from None
    return dt.datetime(day.year, day.month, day.day).astimezone()


def _local_zone_text() -> str:
    now = dt.datetime.now().astimezone()
    offset = now.strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    name = now.tzname() or ""
    return f"{name}，{utc}" if name and name != "UTC" and not name.startswith(("+", "-")) else utc


# --- text layout ---------------------------------------------------------------------

def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Lines of columns aligned in terminal cells (a Chinese character takes two); the last
    column is not padded."""
    table = [list(header), *([str(cell) for cell in row] for row in rows)]
    widths = [max(display_width(row[i]) for row in table) for i in range(len(header))]
    lines = []
    for row in table:
        cells = [cell + " " * (widths[i] - display_width(cell)) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
               for ch in text)


def _cell(value: object, width: int | None) -> str:
    """One line of printable text (control and bidi characters escaped, so a name an attacker
    typed at the sign-in page cannot move the terminal's cursor), cut to ``width`` cells."""
    text = "" if value is None else str(value)
    text = "".join(" " if ch in "\r\n\t" else
                   ch.encode("unicode_escape").decode() if unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs")
                   else ch for ch in text)
    if width is None or display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


# --- glue with dashboards.cli (imported late: cli imports this module while building its parser) ---

def _command_error(message: str, usage: bool = False):
    from dashboards.cli import EXIT_FAILED, EXIT_USAGE, CommandError

    return CommandError(message, EXIT_USAGE if usage else EXIT_FAILED)


def _exit_ok() -> int:
    from dashboards.cli import EXIT_OK

    return EXIT_OK
