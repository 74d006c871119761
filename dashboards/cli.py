"""The ``hazardboard`` command: ingest workbooks into the store, print the campaign summary, serve.

Everything printed for officers is in Chinese; ``summary --json`` prints exactly the
machine-readable summary of the data contract and nothing else on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import importlib.resources
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

import loaders
from loaders import Issue
from loaders.model import KIND_LABELS, SEVERITY_LABELS
from loaders.reference import SECTOR_LABELS, STATUS_LABELS, SUPERVISION_LABELS
# The store itself (SQLAlchemy and its tables) is imported by the commands that use it: `summary`
# reads workbooks only, and its start-up is part of its time.
from store.defaults import DEFAULT_PARSE_MEMORY_MB, DEFAULT_PARSE_TIMEOUT_S, DEFAULT_TAGS, INGEST_WORKERS
from store.defaults import MIN_PARSE_MEMORY_MB as MIN_MEMORY_MB

if TYPE_CHECKING:
    from store import IngestReport, Store

# The store's tag column (store/db.py) holds 32 characters.
MAX_TAG_CHARS = 32

# How long a session whose browser has gone is kept (Bokeh's own default).
DEFAULT_SESSION_EXPIRY_S = 15.0

# Exit codes: 0 done (even with rejected files), 1 could not run, 2 bad command line.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# How many entries each list of a report shows before "另有N条".
LIST_LIMIT = 20
TOP_LIMIT = 10

DEFAULT_PORT = 5006
DEFAULT_ADDRESS = "localhost"


class CommandError(Exception):
    """A problem the officer can fix; printed in Chinese without a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


# --- command line -------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hazardboard",
        description="赣州市重大事故隐患专项排查整治（2023）数据看板：导入各地各部门报送的表格，汇总统计。",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="命令")

    ingest = commands.add_parser("ingest", help="把表格文件或文件夹导入数据库，并给出校验报告")
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="Excel 文件或文件夹")
    _add_store_option(ingest)
    ingest.add_argument("--all", action="store_true", help="列出全部问题，包括已导入过的文件中的问题")
    ingest.set_defaults(handler=_run_ingest)

    summary = commands.add_parser("summary", help="直接读取表格（不入库），打印汇总")
    summary.add_argument("paths", nargs="+", metavar="PATH", help="Excel 文件或文件夹")
    summary.add_argument("--as-of", metavar="YYYY-MM-DD", help="统计截止日期（判断逾期），默认今天")
    summary.add_argument("--json", action="store_true", help="按数据约定输出机器可读的 JSON")
    summary.set_defaults(handler=_run_summary)

    serve = commands.add_parser("serve", help="导入数据并启动看板（浏览器打开）")
    serve.add_argument("--data", nargs="+", action="extend", metavar="PATH",
                       help="启动前导入的文件或文件夹；数据库为空且未指定时导入内置示例数据")
    serve.add_argument("--as-of", metavar="YYYY-MM-DD", help="统计日期（判断逾期），默认今天与最新一期报送截止日中较早者")
    serve.add_argument("--show", action="store_true", help="启动后自动打开浏览器")
    _add_store_option(serve)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"端口，默认 {DEFAULT_PORT}")
    serve.add_argument("--address", default=DEFAULT_ADDRESS, help=f"监听地址，默认 {DEFAULT_ADDRESS}")
    serve.add_argument("--num-procs", type=int, default=1, metavar="N", help="服务进程数，默认 1")
    serve.add_argument("--upload-limit-mb", type=float, default=200, metavar="MB",
                       help="数据页每次选择上传文件的总大小上限（MB），默认 200")
    serve.add_argument("--parse-memory-mb", type=int, default=DEFAULT_PARSE_MEMORY_MB, metavar="MB",
                       help=f"解析每个上传文件的内存上限（MB，在独立进程中解析，超出即拒绝该文件），默认 {DEFAULT_PARSE_MEMORY_MB}")
    serve.add_argument("--parse-timeout-s", type=float, default=DEFAULT_PARSE_TIMEOUT_S, metavar="SECONDS",
                       help=f"解析每个上传文件的时间上限（秒，超出即拒绝该文件），默认 {DEFAULT_PARSE_TIMEOUT_S:g}")
    serve.add_argument("--session-expiry-s", type=float, default=DEFAULT_SESSION_EXPIRY_S, metavar="SECONDS",
                       help=f"浏览器关闭或断开后保留会话的时间（秒），过后释放其内存，默认 {DEFAULT_SESSION_EXPIRY_S:g}")
    serve.add_argument("--annotation-tags", metavar="标签1,标签2,…",
                       help="批注可选的标签（逗号或顿号分隔），默认：" + "、".join(DEFAULT_TAGS))
    serve.add_argument("--auth", action="store_true",
                       help="要求登录（监听本机以外的地址时总是要求登录；仅本机访问时默认不要求）")
    serve.add_argument("--users", metavar="FILE", help="用户文件（由 hazardboard users 管理），默认为数据目录下的 users.json")
    serve.add_argument("--allow-host", action="append", default=[], metavar="HOST[:PORT]",
                       help="浏览器访问看板时使用的主机名（可多次指定，如 aqw.gz.gov.cn）；监听本机以外的地址时必须指定")
    serve.add_argument("--behind-proxy", action="store_true",
                       help="运行在反向代理（如 nginx）之后：要求登录，并按 X-Forwarded-For / X-Real-IP 记录访问来源")
    serve.add_argument("--signin-hours", type=float, default=12.0, metavar="HOURS",
                       help="登录有效时长（小时），过后须重新登录，默认 12")
    serve.add_argument("--oauth-provider", metavar="NAME",
                       help="单点登录：Panel 的 OAuth/OIDC 提供方（如 generic、azure、okta），"
                            "密钥等由环境变量 PANEL_OAUTH_KEY、PANEL_OAUTH_SECRET、PANEL_OAUTH_EXTRA_PARAMS 提供")
    serve.set_defaults(handler=_run_serve)

    brief = commands.add_parser("brief", help="生成一期简报包：Word、PDF、Excel 汇总表、会议幻灯片和图表图片")
    brief.add_argument("paths", nargs="*", metavar="PATH", help="直接读取的 Excel 文件或文件夹；不指定时读取数据库（含工作批注）")
    _add_store_option(brief)
    brief.add_argument("--period", required=True, metavar="YYYY-MM", help="简报所报告的期次（月份），如 2023-08")
    brief.add_argument("--as-of", metavar="YYYY-MM-DD", help="统计日期（判断逾期），也是简报落款日期；默认为数据的统计日期")
    brief.add_argument("--unit", metavar="NAME", help="只报告这个单位（可写简称）；默认全市")
    brief.add_argument("--issue-no", type=int, metavar="N", help="第 N 期；默认按期次排序（2023年5月为第1期）")
    brief.add_argument("--out", required=True, metavar="DIR", help="输出文件夹（不存在时新建）")
    brief.set_defaults(handler=_run_brief)

    boards = commands.add_parser("boards", help="按单位生成安全生产责任公示牌（附件1）PDF，每家企业一页")
    boards.add_argument("paths", nargs="*", metavar="PATH", help="直接读取的 Excel 文件或文件夹；不指定时读取数据库")
    _add_store_option(boards)
    boards.add_argument("--unit", metavar="NAME", help="只生成这个单位的公示牌（可写简称，如“章贡”“经开区”）")
    boards.add_argument("--out", required=True, metavar="DIR", help="PDF 的输出文件夹（不存在时新建）")
    boards.set_defaults(handler=_run_boards)

    from dashboards import admin_cli, backup_cli  # users, audit; backup, restore

    admin_cli.add_parsers(commands, _add_store_option)
    backup_cli.add_parsers(commands, _add_store_option)
    return parser


def _add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="DIR_OR_URL",
                        help="数据目录或数据库地址；默认取环境变量 HAZARDBOARD_STORE，否则为当前目录下的 data")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CommandError as error:
        print(f"错误：{error.message}", file=sys.stderr)
        return error.exit_code
    except Exception as error:
        # A store error can only come from a command that imported the store.
        if (db := sys.modules.get("store.db")) is not None and isinstance(error, db.StoreError):
            print(f"错误：{error.message}", file=sys.stderr)
            return EXIT_FAILED
        if (sql := sys.modules.get("sqlalchemy.exc")) is not None and isinstance(error, sql.SQLAlchemyError):
            # E.g. the database is locked by another ingest or the server is unreachable.
            print(f"错误：数据库操作失败，本次未完成的文件没有写入：{error.__class__.__name__}: {error}", file=sys.stderr)
            return EXIT_FAILED
        raise


def _version() -> str:
    try:
        return importlib.metadata.version("hazardboard")
    except importlib.metadata.PackageNotFoundError:
        return "（版本未知）"


# --- commands ------------------------------------------------------------------------

def _run_ingest(args: argparse.Namespace) -> int:
    from store import Store
    from store.audit import cli_actor

    _require_some_path(args.paths)
    with Store(args.store) as store:
        with ProgressBar("导入", always=True) as progress:
            report = store.ingest_paths(args.paths, progress=progress, actor=cli_actor())
        cross_file = _cross_file_findings(store, report, include_skipped=args.all)
        print(f"数据库：{store.display_url}")
    print(format_ingest_report(report, cross_file, show_all=args.all))
    return EXIT_OK


def _run_summary(args: argparse.Namespace) -> int:
    # Without --as-of: the statistics date (today, capped by the latest period received).
    as_of = parse_as_of(args.as_of) if args.as_of else None
    _require_some_path(args.paths)
    with ProgressBar("读取", always=False) as progress:
        campaign = loaders.load_paths(args.paths, as_of, progress=progress, workers=INGEST_WORKERS)
    if args.json:
        print(json.dumps(campaign.summary(), ensure_ascii=False))
    else:
        print(format_summary(campaign.summary(), campaign.as_of))
    return EXIT_OK


def _run_serve(args: argparse.Namespace) -> int:
    from store import Store
    from store.audit import cli_actor
    from store.isolation import ParseLimits

    as_of = parse_as_of(args.as_of) if args.as_of else None
    if args.upload_limit_mb <= 0:
        raise CommandError("--upload-limit-mb 必须大于 0")
    if args.session_expiry_s < 1:
        raise CommandError("--session-expiry-s 不能小于 1 秒")
    if args.parse_memory_mb < MIN_MEMORY_MB:
        raise CommandError(f"--parse-memory-mb 不能小于 {MIN_MEMORY_MB}（解析进程本身约占 75 MB）")
    if not args.parse_timeout_s > 0:
        raise CommandError("--parse-timeout-s 必须大于 0")
    parse_limits = ParseLimits(memory_mb=args.parse_memory_mb, timeout_s=args.parse_timeout_s)
    annotation_tags = parse_annotation_tags(args.annotation_tags) if args.annotation_tags is not None else None
    # The server keeps one dataset for hours: with Arrow's default pool (mimalloc) the pages
    # freed after a build stay with the process; from the system allocator the trim after each
    # build returns them (server at province scale: 884 -> 742 MB after start-up).
    import pyarrow

    pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    limit_malloc_arenas()
    with Store(args.store) as store:
        signin = _signin_settings(args, store)  # before anything else: a server that may not start says so at once
        # The bundled sample only goes into an empty store: a real store is never mixed with it.
        data = args.data or ([str(_bundled_campaign_folder())] if store.is_empty() else [])
        if data:
            with ProgressBar("导入", always=False) as progress:
                report = store.ingest_paths(data, progress=progress, actor=cli_actor())
            print(_ingest_counts_line(report), file=sys.stderr)
            for issue in report.missing:
                print(f"警告：{issue.message}", file=sys.stderr)
        store_location = store.url
    if args.num_procs == 1:
        from components.data import start_loading_shared_campaign
        from store import campaign_cache  # noqa: F401  (imported here, not by two threads at once)

        start_loading_shared_campaign(store_location, as_of)  # while Panel is imported below
    from components.upload import set_parse_limits
    from dashboards.app import serve  # Panel is imported only when serving
    from store import isolation

    set_parse_limits(parse_limits)
    if args.num_procs == 1:
        isolation.warm_up()  # the fork server imports the loaders now, not at the first upload

    shown_host = args.allow_host[0] if args.allow_host else f"{args.address}:{args.port}"
    if ":" not in shown_host.rsplit("]", 1)[-1]:  # an allowed host named without its port
        shown_host = f"{shown_host}:{args.port}"
    print(f"看板地址：http://{shown_host}/  （会议大屏：/meeting）", file=sys.stderr)
    print("登录：" + ("需要登录（账号保存在" + signin.users.where + "）" if signin.required else "不需要登录（仅本机访问）"),
          file=sys.stderr)
    serve(store=store_location, port=args.port, address=args.address, num_procs=args.num_procs, as_of=as_of, show=args.show,
          upload_limit_mb=args.upload_limit_mb, session_expiry_s=args.session_expiry_s, annotation_tags=annotation_tags,
          signin=signin, allow_hosts=tuple(args.allow_host), behind_proxy=args.behind_proxy,
          oauth_provider=args.oauth_provider)
    return EXIT_OK


LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(address: str | None) -> bool:
    """Whether the server listens on this machine only (an empty address or 0.0.0.0 is every interface)."""
    import ipaddress

    text = (address or "").strip().strip("[]").lower()
    if text in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


# glibc's mallopt parameter for the number of malloc arenas.
_M_ARENA_MAX = -8
SERVER_MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = SERVER_MALLOC_ARENAS) -> None:
    """At most ``arenas`` glibc malloc arenas in the server: by default each thread that allocates
    (Tornado's, the export and refresh threads) may get its own, up to 8 per core, and each keeps
    the pages of the frames it once held. As MALLOC_ARENA_MAX would, set before threads start."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, arenas)
    except (OSError, AttributeError):  # not glibc
        pass


def _signin_settings(args: argparse.Namespace, store: Store):
    """The server's sign-in, or a CommandError saying how to set it up.

    Beyond loopback sign-in is required, and the server refuses to start without an account to
    sign in with (or single sign-on) and without the host names browsers will use."""
    import os

    from auth.users import UsersError, users_for
    from dashboards.signin import SignIn

    if args.signin_hours <= 0:
        raise CommandError("--signin-hours 必须大于 0", EXIT_USAGE)
    users = users_for(args.store, args.users)
    exposed = not is_loopback(args.address)
    # Behind a reverse proxy the server listens on loopback but the network reaches it: sign-in too.
    required = exposed or args.auth or args.behind_proxy or bool(args.oauth_provider)
    if exposed and not args.allow_host:
        raise CommandError(f"看板将在 {args.address} 上对网络开放，请用 --allow-host 指定同事在浏览器地址栏中使用的主机名或 IP"
                           f"（例如 --allow-host 192.168.1.20 或 --allow-host aqw.gz.gov.cn），其他来源的页面不能连接看板。", EXIT_USAGE)
    if required and not args.oauth_provider:
        try:
            has_password_user = any(user.password_hash for user in users.users().values())
        except UsersError as error:
            raise CommandError(error.message) from None
        if not has_password_user:
            where = (f"在 {args.address} 上对网络开放" if exposed else
                     "经反向代理对网络开放（--behind-proxy）" if args.behind_proxy else "要求登录（--auth）")
            raise CommandError(
                f"看板将{where}，但{users.where}中还没有可以登录的账号，因此未启动。请先添加安委会办公室账号：\n"
                f"  hazardboard users add 用户名 --role committee" + (f" --store {args.store}" if args.store else "")
                + (f" --users {args.users}" if args.users else "") + "\n（按提示输入两次密码），"
                "或配置单点登录（--oauth-provider）。各单位账号用 --role unit --unit 单位名称 添加。")
    secret = os.environ.get("HAZARDBOARD_COOKIE_SECRET") or store.secret("cookie")
    return SignIn(users=users, store_location=store.url, cookie_secret=secret, required=required,
                  session_hours=args.signin_hours, oauth=bool(args.oauth_provider))


def _campaign_source(args: argparse.Namespace, as_of: dt.date | None = None, with_annotations: bool = False):
    """The campaign of the PATHs given (read directly, as ``summary`` does) or else of the store:
    (campaign, where it came from in Chinese, the store's annotations or None)."""
    if args.paths:
        _require_some_path(args.paths)
        with ProgressBar("读取", always=False) as progress:
            campaign = loaders.load_paths(args.paths, as_of, progress=progress, workers=INGEST_WORKERS)
        return campaign, "所读取的文件中", None
    from store import Store
    from store.campaign_cache import campaign_for

    with Store(args.store) as store:
        campaign, _revision = campaign_for(store, as_of)
        annotations = None
        if with_annotations:
            from store.annotations import list_annotations, mark_orphans

            annotations = mark_orphans(list_annotations(store), campaign)
        return campaign, f"数据库“{store.display_url}”中", annotations


def _run_brief(args: argparse.Namespace) -> int:
    from briefing.fonts import FontMissingError
    from briefing.pack import build_pack, size_text
    from metrics.briefing import BriefingScopeError

    if not re.fullmatch(r"\d{4}-\d{2}", args.period.strip()):
        raise CommandError(f"--period 的期次“{args.period}”无效，请按“年-月”格式填写，例如 2023-08。", EXIT_USAGE)
    if args.issue_no is not None and args.issue_no < 1:
        raise CommandError("--issue-no 必须是正整数", EXIT_USAGE)
    as_of = parse_as_of(args.as_of) if args.as_of else None
    campaign, _where, annotations = _campaign_source(args, as_of, with_annotations=True)
    with ProgressBar("生成简报", always=False, unit="步") as progress:
        try:
            pack = build_pack(campaign, args.period.strip(), args.unit, annotations=annotations,
                              issue_no=args.issue_no, issue_date=as_of, progress=progress)
        except (BriefingScopeError, FontMissingError) as error:
            raise CommandError(str(error)) from None
    try:
        written = pack.write(Path(args.out))
    except OSError as error:
        raise CommandError(f"无法写入输出文件夹 {args.out}：{error.strerror or error}") from None
    figures = pack.figures
    print(f"{figures.scope_label} {figures.period} 简报（第{pack.issue_no}期，{pack.issue_date:%Y-%m-%d}）：")
    for path in written:
        print(f"{path}（{size_text(path.stat().st_size)}）")
    print(f"共 {len(written)} 个文件，保存在 {args.out}")
    return EXIT_OK




def _run_boards(args: argparse.Namespace) -> int:
    from briefing.boards import BoardsError, write_boards  # ReportLab is imported only for the PDFs
    from briefing.fonts import FontMissingError

    campaign, where, _ = _campaign_source(args)
    registry = campaign.registry
    if not len(registry):
        raise CommandError(f"{where}没有公示牌信息（附件1），未生成任何文件。请先导入各单位报送的公示牌表格。")
    try:
        written = write_boards(registry, Path(args.out), unit=args.unit)
    except (BoardsError, FontMissingError) as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"无法写入输出文件夹 {args.out}：{error.strerror or error}") from None
    for board_file in written:
        print(f"{board_file.path}：{board_file.unit} 公示牌 {board_file.boards} 张（{board_file.boards} 页）")
    total = sum(f.boards for f in written)
    print(f"共生成 {len(written)} 个 PDF 文件，{total} 张公示牌，保存在 {args.out}")
    return EXIT_OK


def parse_annotation_tags(text: str) -> tuple[str, ...]:
    """"需关注,已督办、待核实" → the tags in order, each once; a tag too long to store is refused."""
    tags = tuple(dict.fromkeys(t.strip() for t in re.split(r"[,，、]", text) if t.strip()))
    if not tags:
        raise CommandError("--annotation-tags 至少要有一个标签，例如 需关注,已督办", EXIT_USAGE)
    too_long = [t for t in tags if len(t) > MAX_TAG_CHARS]
    if too_long:
        raise CommandError(f"批注标签不能超过 {MAX_TAG_CHARS} 个字：{'、'.join(too_long)}", EXIT_USAGE)
    return tags


def parse_as_of(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"--as-of 的日期“{text}”无效，请按“年-月-日”格式填写，例如 2023-09-30。", EXIT_USAGE) from None


def _require_some_path(paths: Iterable[str]) -> None:
    """Run when at least one path exists (the missing ones are reported); refuse when none does."""
    paths = list(paths)
    if not any(Path(p).exists() for p in paths):
        raise CommandError("找不到要读取的文件或文件夹：" + "、".join(paths), EXIT_USAGE)


def _bundled_campaign_folder() -> Path:
    return Path(str(importlib.resources.files("sample_data") / "campaign"))


class ProgressBar:
    """A ``(index, total, name)`` callback drawing a tqdm bar on stderr (only on a terminal unless ``always``)."""

    def __init__(self, description: str, always: bool, unit: str = "个文件"):
        self.description = description
        self.unit = unit
        self.enabled = always or sys.stderr.isatty()
        self.bar: tqdm | None = None

    def __call__(self, index: int, total: int, name: str) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.description, unit=self.unit, file=sys.stderr, dynamic_ncols=True)
        self.bar.update(index - self.bar.n)
        self.bar.set_postfix_str(name, refresh=True)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


# --- ingest report -------------------------------------------------------------------

def _cross_file_findings(store: Store, report: IngestReport, include_skipped: bool) -> list[Issue]:
    """Findings that only appear when files are put together (a cumulative figure falling,
    a unit reporting twice), for the files of this run."""
    from store.campaign_cache import campaign_for

    # Built once here and kept in the store: running servers take it instead of rebuilding.
    campaign, _revision = campaign_for(store)
    results = store.results()
    per_file = {issue for result in results for issue in result.issues}
    names = {o.file_name for o in report.outcomes if o.status != "skipped" or include_skipped}
    return [issue for issue in campaign.issues if issue not in per_file and issue.file in names]


def format_ingest_report(report: IngestReport, cross_file: list[Issue], show_all: bool = False) -> str:
    from store.db import OVERSIZED_CODE

    limit = None if show_all else LIST_LIMIT
    listed = [o for o in report.outcomes if o.status != "skipped" or show_all]
    issues = [*report.missing, *(issue for o in listed for issue in o.issues), *cross_file]
    lines = ["导入结果", _ingest_counts_line(report), _findings_line(issues)]

    rejected = [o for o in report.outcomes if o.status == "rejected"]
    reasons: set[Issue] = set()
    if rejected:
        lines += ["", f"未通过的文件（{len(rejected)}个，问题见下；原件已保存，超过大小上限的只记录文件名和校验值）："]
        for outcome in rejected:
            reason = next((i for i in outcome.issues if i.severity == "error"), None)
            reasons.add(reason)
            kept = "" if reason is None or reason.code != OVERSIZED_CODE else "（未保存原件）"
            lines.append(f"  {outcome.file_name}：{reason.message if reason else '没有可导入的数据'}{kept}")

    skipped = [o for o in report.outcomes if o.status == "skipped"]
    if skipped:
        lines += ["", f"已导入过，跳过（{len(skipped)}个，内容与库中文件相同）："]
        lines += _capped([f"  {o.file_name}" + (f"（库中名为“{o.stored_as}”）" if o.stored_as != o.file_name else "")
                          for o in skipped], limit)

    replacements = [r for o in report.outcomes for r in o.replaced]
    if replacements:
        lines += ["", "新报送替代旧报送（旧文件保留在历史记录中）："]
        lines += _capped([f"  {r.unit} {r.period or ''} {KIND_LABELS.get(r.kind, r.kind)}：以“{r.newer_file}”为准，替代“{r.older_file}”"
                          for r in replacements], limit)
    for state, heading in (("added", "补报台账并入当月台账（不替代原台账）："),
                           ("held_aside", "所属月份不在专项行动期间，已单独保存、不计入统计（请核对年月）：")):
        placed = [(o.file_name, p) for o in report.outcomes for p in o.placed if p.state == state]
        if placed:
            lines += ["", heading]
            lines += _capped([f"  {p.unit} {p.period or ''} {KIND_LABELS.get(p.kind, p.kind)}：“{name}”" for name, p in placed], limit)

    for severity in ("error", "warning"):
        chosen = [i for i in issues if i.severity == severity and i not in reasons]
        if chosen:
            lines += ["", f"{SEVERITY_LABELS[severity]}（{len(chosen)}条）："]
            lines += _capped([f"  {format_issue(i)}" for i in chosen], limit)
    return "\n".join(lines)


def _ingest_counts_line(report: IngestReport) -> str:
    return (f"已导入 {report.count('accepted')} 个文件，未通过 {report.count('rejected')} 个，"
            f"已导入过跳过 {report.count('skipped')} 个")


def _findings_line(issues: Iterable[Issue]) -> str:
    counts = Counter(i.severity for i in issues)
    return "发现问题：" + "，".join(f"{SEVERITY_LABELS[s]} {counts[s]} 条" for s in ("error", "warning", "info"))


def _capped(lines: list[str], limit: int | None) -> list[str]:
    if limit is None or len(lines) <= limit:
        return lines
    return [*lines[:limit], f"  ……另有{len(lines) - limit}条，见 hazardboard ingest … --all（重新运行不会重复导入）"]


def format_issue(issue: Issue) -> str:
    where = " / ".join(part for part in (issue.file, issue.sheet, issue.cell) if part)
    return f"{where}：{issue.message}"


# --- readable summary ----------------------------------------------------------------

def format_summary(summary: dict, as_of: dt.date) -> str:
    """The contract's summary object as a short Chinese briefing."""
    files, hazards = summary["files"], summary["hazards"]
    status = hazards["by_status"]
    unique = hazards["unique"]
    rate = f"{status['rectified'] / unique:.1%}" if unique else "—"
    supervised = hazards["supervised"]
    lines = [
        f"赣州市重大事故隐患专项排查整治汇总（统计截至 {as_of:%Y年%m月%d日}）",
        f"文件：已导入 {files['accepted']} 个，未通过 {files['rejected']} 个",
        f"重大事故隐患（去重后）：{unique} 条",
        "  " + "，".join(f"{STATUS_LABELS[key]} {count} 条" for key, count in status.items()) + f"；整改率 {rate}",
        f"  逾期未整改：{hazards['overdue']} 条",
        "  挂牌督办：" + "，".join(f"{SUPERVISION_LABELS[level]} {supervised[level]} 条" for level in ("province", "city", "county")),
    ]
    lines += _top_lines("隐患最多的单位", hazards["by_unit"], lambda unit: unit)
    lines += _top_lines("隐患最多的行业领域", hazards["by_sector"], lambda key: SECTOR_LABELS.get(key, "未填写行业领域"))
    indicators = summary["indicators"]
    if indicators:
        months = sorted({period for periods in indicators.values() for period in periods})
        lines.append(f"调度表：{len(indicators)} 个单位报送，月份 {months[0]} 至 {months[-1]}")
    issues = summary["issues"]
    lines.append(_findings_line(Issue(**i) for i in issues))
    errors = [i for i in issues if i["severity"] == "error"]
    if errors:
        lines.append(f"前{min(len(errors), TOP_LIMIT)}条错误：")
        lines += [f"  {format_issue(Issue(**i))}" for i in errors[:TOP_LIMIT]]
        if len(errors) > TOP_LIMIT:
            lines.append(f"  ……另有{len(errors) - TOP_LIMIT}条，见 hazardboard summary --json 的 issues")
    return "\n".join(lines)


def _top_lines(title: str, counts: dict[str, int], label) -> list[str]:
    if not counts:
        return []
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_LIMIT]
    return [f"{title}（前{len(ranked)}）：" + "，".join(f"{label(key)} {count}" for key, count in ranked)]


if __name__ == "__main__":
    # Run as ``python -m dashboards.cli``: the sub-command modules import ``dashboards.cli``, whose
    # CommandError must be the one ``main`` catches (not this ``__main__`` module's copy).
    from dashboards.cli import main as _main

    sys.exit(_main())
