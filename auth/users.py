"""The users file: who may sign in, with which role, and their Argon2id password hashes.

One JSON file (``{"format": 1, "users": [...]}``, UTF-8, mode 0600), written atomically, so a
crash leaves either the old or the new file. A running server re-reads it when it changes
(``UsersFile.users`` compares the file's inode, mtime and size on each call), so ``hazardboard
users passwd``/``remove`` take effect without a restart. Plain passwords are never stored, logged
or kept beyond the call that hashes or checks them.

A store given as a database URL (PostgreSQL) has no data folder, and servers on several machines
share it: there the same document lives in one row of the store's ``accounts`` table
(``UsersTable``). ``users_for(store_location, users_path)`` picks the one of a store.

Notebook use: ``users_for(None).users()``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import logging
import os
import tempfile
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from loaders.reference import COUNTIES, DEPARTMENTS, UNIT_ALIASES, ZONES, canonical_unit
from store.defaults import DEFAULT_STORE_DIR, STORE_ENV_VAR

try:  # POSIX: writers in other processes (the CLI, a server rehashing) take turns
    import fcntl
except ImportError:  # pragma: no cover - Windows: only the in-process lock
    fcntl = None

log = logging.getLogger(__name__)

ROLES = ("committee", "unit", "viewer")
ROLE_LABELS = {"committee": "安委会办公室", "unit": "单位", "viewer": "只读"}
KNOWN_UNITS = COUNTIES + ZONES + DEPARTMENTS  # the units a "unit" user can be bound to

USERS_ENV_VAR = "HAZARDBOARD_USERS"
USERS_FILE_NAME = "users.json"
ACCOUNTS_ROW = 1  # the id of the one row of the store's accounts table (``UsersTable``)
FILE_FORMAT = 1
MAX_NAME_CHARS = 64
MAX_DISPLAY_NAME_CHARS = 64
MIN_PASSWORD_CHARS = 8
# Argon2 takes any length; a cap keeps one sign-in attempt from hashing megabytes.
MAX_PASSWORD_CHARS = 1024
# Names the audit log uses for actors that are not users (store/audit.py).
RESERVED_NAMES = ("本机", "命令行")

_HASHER = PasswordHasher()  # Argon2id with the library's defaults
# Checked against for unknown names and single-sign-on users, so that a wrong name costs as long
# as a wrong password (the password it hashes was random and thrown away).
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$uk4IYUigNplQFw0Nx3DNeQ$Xu40TUxHl+AejoKzL/robWNZK9tdnmqqln4jkA68n4w"
_dummy_lock = threading.Lock()


@dataclass(frozen=True)
class User:
    """One user as stored. ``unit`` is the canonical unit name, only for role "unit";
    ``password_hash`` is None for a user who signs in only through single sign-on (``sso``)."""

    name: str
    role: str
    unit: str | None = None
    display_name: str = ""
    password_hash: str | None = None
    sso: bool = False

    def __post_init__(self) -> None:
        if not self.display_name:
            object.__setattr__(self, "display_name", self.name)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def __repr__(self) -> str:  # never the hash in logs or tracebacks
        return (f"User(name={self.name!r}, role={self.role!r}, unit={self.unit!r}, "
                f"display_name={self.display_name!r}, sso={self.sso!r})")


class UsersError(Exception):
    """A users file that cannot be read or written, or a change refused; ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def default_users_path(store_location: str | os.PathLike | None = None) -> Path:
    """Where the users file is: ``HAZARDBOARD_USERS`` if set; else ``users.json`` in the data
    folder (``store_location``, else ``HAZARDBOARD_STORE``, else ``./data``, as the store resolves
    it); for a store given as a database URL, ``./data/users.json`` in the current directory
    (``users_for`` uses the store's accounts table there instead, except for a SQLite URL)."""
    explicit = os.environ.get(USERS_ENV_VAR)
    if explicit:
        return Path(explicit).expanduser().resolve()
    location = os.fspath(store_location or os.environ.get(STORE_ENV_VAR) or DEFAULT_STORE_DIR)
    folder = Path(DEFAULT_STORE_DIR) if "://" in location else Path(location).expanduser()
    return (folder / USERS_FILE_NAME).resolve()


class UsersFile:
    """The users file at ``path``; safe to share between the threads of a server."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.RLock()
        self._key: tuple[int, int, int] | None = None
        self._records: list[dict] = []
        self._users: dict[str, User] = {}

    def __repr__(self) -> str:
        return f"UsersFile({str(self.path)!r})"

    @property
    def where(self) -> str:
        """Where the accounts are kept, for messages: 用户文件“/srv/hazardboard/data/users.json”."""
        return f"用户文件“{self.path}”"

    # --- reading ---------------------------------------------------------------------

    def users(self) -> dict[str, User]:
        """Every user by name, in the file's order; re-read when the file has changed.
        A missing file means no users; a file that cannot be read raises ``UsersError``."""
        with self._lock:
            self._refresh()
            return dict(self._users)

    def get(self, name: str) -> User | None:
        return self.users().get(name) if isinstance(name, str) else None

    @property
    def is_empty(self) -> bool:
        return not self.users()

    def verify(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs, else None (unknown name, single-sign-on user,
        wrong password). Takes about as long in every case. A hash made with older parameters
        is replaced by one with the current ones on success."""
        try:
            user = self.get(name)
        except UsersError:
            log.exception("%s unreadable during sign-in", self.where)
            user = None
        if not isinstance(password, str) or len(password) > MAX_PASSWORD_CHARS:
            password = ""
        if user is None or user.password_hash is None:
            _check(_dummy_hash(), password)
            return None
        if not _check(user.password_hash, password):
            return None
        if _needs_rehash(user.password_hash):
            try:
                self._rehash(user, password)
            except (UsersError, OSError):
                log.warning("could not store a rehashed password for %r in %s", user.name, self.where)
        return self.get(name) or user

    # --- changes ---------------------------------------------------------------------

    def add(self, name: str, role: str, unit: str | None = None, password: str | None = None,
            display_name: str | None = None, sso: bool = False) -> User:
        """A new user: with a password, or ``sso=True`` and none."""
        name, role, unit, display = self.check_add(name, role, unit, display_name)
        if sso and password is not None:
            raise UsersError("单点登录用户不设密码，请去掉密码。")
        if not sso and password is None:
            raise UsersError(f"请为用户“{name}”设置密码（至少 {MIN_PASSWORD_CHARS} 个字符），或指定其使用单点登录。")
        password_hash = None if sso else _hash(_checked_password(password, name))
        with self._changing() as records:
            _refuse_taken(records, name)
            now = _now()
            records.append({"name": name, "role": role, "unit": unit, "display_name": display,
                            "password_hash": password_hash, "sso": bool(sso), "created_at": now, "updated_at": now})
        return self.users()[name]

    def check_add(self, name: str, role: str, unit: str | None = None,
                  display_name: str | None = None) -> tuple[str, str, str | None, str]:
        """Raises the ``UsersError`` that ``add`` would raise for these fields (so a command can
        refuse before asking for a password); returns them as ``add`` stores them:
        (name, role, canonical unit or None, display name)."""
        name = _checked_name(name)
        role, unit = _checked_role_and_unit(role, unit)
        display = _checked_display_name(display_name, name)
        with self._lock:
            self._refresh()
            _refuse_taken(self._records, name)
        return name, role, unit, display

    def require(self, name: str) -> User:
        """The user, or ``UsersError`` saying there is none of that name."""
        user = self.get(name)
        if user is None:
            raise UsersError(_no_such_user(name, self.where))
        return user

    def remove(self, name: str) -> User:
        """Removes the user; returns them as they were."""
        with self._changing() as records:
            index = _index_of(records, name, self.where)
            removed = _user_from_record(records.pop(index))
        return removed

    def set_password(self, name: str, password: str) -> User:
        password_hash = _hash(_checked_password(password, name))  # the slow part, outside the lock
        with self._changing() as records:
            record = records[_index_of(records, name, self.where)]
            if record.get("sso"):
                raise UsersError(f"用户“{name}”使用单点登录，没有密码可改。")
            record["password_hash"] = password_hash
            record["updated_at"] = _now()
        return self.users()[name]

    def change(self, name: str, role: str | None = None, unit: str | None = None,
               display_name: str | None = None) -> User:
        """Changes role, unit and/or display name (None leaves a field as it is). A user who
        leaves role "unit" loses their unit; one who takes it needs one."""
        with self._changing() as records:
            record = records[_index_of(records, name, self.where)]
            new_role = role if role is not None else record["role"]
            if unit is None and new_role == "unit" and record["role"] == "unit":
                unit = record.get("unit")
            new_role, new_unit = _checked_role_and_unit(new_role, unit)
            record["role"], record["unit"] = new_role, new_unit
            if display_name is not None:
                record["display_name"] = _checked_display_name(display_name, record["name"])
            record["updated_at"] = _now()
        return self.users()[name]

    # --- file ------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Re-reads the file if it is not the one read last (inode, mtime, size). Under the lock."""
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            self._key, self._records, self._users = None, [], {}
            return
        except OSError as error:
            raise UsersError(f"无法读取用户文件“{self.path}”：{error.strerror or error}") from None
        if self._key == _key_of(status):
            return
        try:
            with open(self.path, "rb") as handle:
                key = _key_of(os.fstat(handle.fileno()))
                data = handle.read()
        except FileNotFoundError:
            self._key, self._records, self._users = None, [], {}
            return
        except OSError as error:
            raise UsersError(f"无法读取用户文件“{self.path}”：{error.strerror or error}") from None
        self._use(_parse(data, self.where), key)

    def _use(self, records: list[dict], key: object) -> None:
        """Keep what was read (under the lock)."""
        self._records = records
        self._users = {r["name"]: _user_from_record(r) for r in records}
        self._key = key

    @contextmanager
    def _changing(self) -> Iterator[list[dict]]:
        """The records as on disk now, to change in place; written back when the block ends
        without an exception. Other threads and (on POSIX) other processes wait their turn."""
        with self._lock, self._file_lock():
            self._key = None  # read afresh: another process may have written since
            self._refresh()
            records = [dict(r) for r in self._records]
            yield records
            self._write(records)
            self._key = None

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        self._ensure_folder()
        if fcntl is None:  # pragma: no cover
            yield
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise UsersError(f"无法写入用户文件所在的文件夹“{self.path.parent}”：{error.strerror or error}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _ensure_folder(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsersError(f"无法创建用户文件所在的文件夹“{self.path.parent}”：{error.strerror or error}") from None

    def _write(self, records: list[dict]) -> None:
        text = _document(records)
        folder = self.path.parent
        try:  # mkstemp creates the file with mode 0600
            fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        except OSError as error:
            raise UsersError(f"无法写入用户文件“{self.path}”：{error.strerror or error}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except OSError as error:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise UsersError(f"无法写入用户文件“{self.path}”：{error.strerror or error}") from None
        _fsync_folder(folder)

    def _rehash(self, user: User, password: str) -> None:
        new_hash = _hash(password)
        with self._changing() as records:
            for record in records:
                # Only if nobody changed the password meanwhile (e.g. ``users passwd``).
                if record["name"] == user.name and record.get("password_hash") == user.password_hash:
                    record["password_hash"] = new_hash


class UsersTable(UsersFile):
    """The accounts of a store given as a database URL (PostgreSQL), kept in the store's
    ``accounts`` table so that servers on several machines share them: one row holding the same
    JSON document as a users file, and a version that moves with every change.

    Every rule of ``UsersFile`` (validation, hashing, rehashing) is shared; only the storage
    differs: the document is re-read when the row's version has moved (one primary-key lookup per
    call), and a change reads, changes and writes it in one transaction holding the row
    (``SELECT … FOR UPDATE``), so changes from any process or machine take turns and none is lost.
    The store is opened on first use, and again in a process forked from the one that opened it."""

    def __init__(self, store_location: str | os.PathLike):
        self.path = None  # no file: see ``where``
        self.location = os.fspath(store_location)
        self._lock = threading.RLock()
        self._key: int | None = None
        self._records: list[dict] = []
        self._users: dict[str, User] = {}
        self._store: Store | None = None
        self._store_pid: int | None = None
        _import_sql()

    def __repr__(self) -> str:
        return f"UsersTable({self.display_url!r})"

    @property
    def display_url(self) -> str:
        return sa.engine.make_url(resolve_store_url(self.location)).render_as_string(hide_password=True)

    @property
    def where(self) -> str:
        return f"数据库“{self.display_url}”的账户表"

    def close(self) -> None:
        with self._lock:
            if self._store is not None and self._store_pid == os.getpid():
                self._store.close()
            self._store = None

    def _opened(self) -> Store:
        """The store, opened in this process (under the lock)."""
        if self._store is None or self._store_pid != os.getpid():
            if self._store is not None:  # forked: the parent's pooled connections stay the parent's
                self._store.engine.dispose(close=False)
            self._store = Store(self.location)
            self._store_pid = os.getpid()
        return self._store

    def _refresh(self) -> None:
        """Re-reads the document if the row's version is not the one read last. Under the lock."""
        row_id = accounts.c.id == ACCOUNTS_ROW
        try:
            with self._opened().engine.connect() as conn:
                version = conn.execute(sa.select(accounts.c.version).where(row_id)).scalar()
                if version is None:
                    self._use([], None)
                    return
                if version == self._key:
                    return
                row = conn.execute(sa.select(accounts.c.version, accounts.c.document).where(row_id)).one()
        except (StoreError, sa.exc.SQLAlchemyError) as error:
            raise UsersError(f"无法读取{self.where}：{_reason(error)}") from None
        self._use(_parse(row.document.encode("utf-8"), self.where), row.version)

    @contextmanager
    def _changing(self) -> Iterator[list[dict]]:
        """The records as stored now, to change in place, written back (version + 1) in the same
        transaction when the block ends without an exception; the row is held meanwhile."""
        row_id = accounts.c.id == ACCOUNTS_ROW
        with self._lock:
            try:
                store = self._opened()
                self._ensure_row(store)
                with store._write() as conn:
                    row = conn.execute(sa.select(accounts.c.version, accounts.c.document)
                                       .where(row_id).with_for_update()).one()
                    records = [dict(r) for r in _parse(row.document.encode("utf-8"), self.where)]
                    yield records
                    conn.execute(accounts.update().where(row_id).values(
                        version=row.version + 1, document=_document(records), updated_at=dt.datetime.now(dt.timezone.utc)))
            except (StoreError, sa.exc.SQLAlchemyError) as error:
                raise UsersError(f"无法写入{self.where}：{_reason(error)}") from None
            finally:
                self._key = None  # read afresh next time

    def _ensure_row(self, store: Store) -> None:
        """The one row, made empty the first time (two processes at once: one makes it)."""
        with store.engine.connect() as conn:
            if conn.execute(sa.select(accounts.c.id).where(accounts.c.id == ACCOUNTS_ROW)).first() is not None:
                return
        try:
            with store._write() as conn:
                if conn.execute(sa.select(accounts.c.id).where(accounts.c.id == ACCOUNTS_ROW)).first() is None:
                    conn.execute(accounts.insert().values(id=ACCOUNTS_ROW, version=0, document=_document([]),
                                                          updated_at=dt.datetime.now(dt.timezone.utc)))
        except sa.exc.IntegrityError:
            pass  # made meanwhile by another process


def users_for(store_location: str | os.PathLike | None = None, users_path: str | os.PathLike | None = None) -> UsersFile:
    """The accounts of a store (a ``--store`` value; None: ``HAZARDBOARD_STORE``, else ``./data``):
    ``users_path`` (``--users FILE``) or ``HAZARDBOARD_USERS`` is always a file; else a store given
    as a database URL other than SQLite keeps them in its ``accounts`` table (``UsersTable``), and a
    data folder (or SQLite file URL) in ``users.json`` as ``default_users_path`` says."""
    if users_path:
        return UsersFile(Path(users_path).expanduser().resolve())
    location = os.fspath(store_location or os.environ.get(STORE_ENV_VAR) or DEFAULT_STORE_DIR)
    if not os.environ.get(USERS_ENV_VAR) and "://" in location and not location.lower().startswith("sqlite"):
        return UsersTable(location)
    return UsersFile(default_users_path(store_location))


# --- validation ------------------------------------------------------------------------

def _checked_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise UsersError("用户名不能为空。")
    name = unicodedata.normalize("NFC", name)
    if len(name) > MAX_NAME_CHARS:
        raise UsersError(f"用户名不能超过 {MAX_NAME_CHARS} 个字符。")
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in name):
        raise UsersError(f"用户名“{_printable(name)}”不能含空格、换行或控制字符。")
    if name in RESERVED_NAMES or name.startswith(tuple(f"{n}:" for n in RESERVED_NAMES)):
        raise UsersError(f"“{name}”是审计日志中表示本机或命令行操作的名称，不能用作用户名。")
    return name


def _checked_display_name(display_name: object, name: str) -> str:
    if display_name is None:
        return name
    if not isinstance(display_name, str):
        raise UsersError("姓名应为文字。")
    text = unicodedata.normalize("NFC", display_name).strip()
    if not text:
        return name
    if len(text) > MAX_DISPLAY_NAME_CHARS:
        raise UsersError(f"姓名不能超过 {MAX_DISPLAY_NAME_CHARS} 个字符。")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise UsersError(f"姓名“{_printable(text)}”不能含换行或控制字符。")
    return text


def _checked_role_and_unit(role: object, unit: object) -> tuple[str, str | None]:
    if role not in ROLES:
        listed = "、".join(f"{r}（{ROLE_LABELS[r]}）" for r in ROLES)
        raise UsersError(f"角色“{role}”无效，应为 {listed}。")
    written = unit.strip() if isinstance(unit, str) else unit
    if role != "unit":
        if written:
            raise UsersError(f"{ROLE_LABELS[role]}（{role}）用户可看全市数据，不绑定单位；只有单位（unit）用户需要指定单位。")
        return role, None
    if not written:
        raise UsersError("单位（unit）用户必须指定所属单位，例如 --unit 会昌县。")
    canonical = canonical_unit(written)
    if canonical is None or canonical not in KNOWN_UNITS:
        raise UsersError(f"无法识别单位“{_printable(str(written))}”。{_close_units_hint(str(written))}")
    return role, canonical


def _close_units_hint(written: str) -> str:
    candidates = difflib.get_close_matches(written, list(UNIT_ALIASES), n=12, cutoff=0.4)
    close = list(dict.fromkeys(UNIT_ALIASES[c] for c in candidates))[:5]
    if close:
        return "相近的单位：" + "、".join(close) + "。"
    return "可用的单位：" + "、".join(KNOWN_UNITS) + "。"


def _checked_password(password: object, name: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise UsersError(f"密码至少要有 {MIN_PASSWORD_CHARS} 个字符。")
    if len(password) > MAX_PASSWORD_CHARS:
        raise UsersError(f"密码不能超过 {MAX_PASSWORD_CHARS} 个字符。")
    if password.casefold() == name.casefold():
        raise UsersError("密码不能与用户名相同。")
    return password


# --- reading the file --------------------------------------------------------------------

def _parse(data: bytes, where: str) -> list[dict]:
    """The records of a users document; ``where`` (``UsersFile.where``) names it in messages."""
    def corrupt(reason: str) -> UsersError:
        return UsersError(f"{where}已损坏，无法读取（{reason}）。请从备份恢复或改正；在此之前任何人都无法登录。")

    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise corrupt("不是 UTF-8 文本") from None
    except json.JSONDecodeError as error:
        raise corrupt(f"JSON 格式错误，第 {error.lineno} 行第 {error.colno} 列") from None
    if not isinstance(document, dict) or not isinstance(document.get("users"), list):
        raise corrupt("缺少用户列表 users")
    if document.get("format") != FILE_FORMAT:
        raise UsersError(f"{where}的格式版本为 {document.get('format')!r}，本程序只能读取版本 {FILE_FORMAT}。")
    records: list[dict] = []
    seen: set[str] = set()
    for number, record in enumerate(document["users"], start=1):
        if not isinstance(record, dict) or not isinstance(record.get("name"), str) or not record["name"]:
            raise corrupt(f"第 {number} 个用户没有用户名")
        name = record["name"]
        if name in seen:
            raise corrupt(f"用户“{name}”出现了两次")
        seen.add(name)
        if record.get("role") not in ROLES:
            raise corrupt(f"用户“{name}”的角色“{record.get('role')}”无效")
        if record["role"] == "unit" and not (isinstance(record.get("unit"), str) and record["unit"]):
            raise corrupt(f"单位用户“{name}”没有指定单位")
        password_hash = record.get("password_hash")
        if not record.get("sso") and not (isinstance(password_hash, str) and password_hash.startswith("$argon2")):
            raise corrupt(f"用户“{name}”没有有效的密码散列值")
        records.append(record)
    return records


def _user_from_record(record: dict) -> User:
    return User(name=record["name"], role=record["role"],
                unit=record.get("unit") if record["role"] == "unit" else None,
                display_name=str(record.get("display_name") or record["name"]),
                password_hash=None if record.get("sso") else record.get("password_hash"),
                sso=bool(record.get("sso")))


def _index_of(records: list[dict], name: str, where: str) -> int:
    for index, record in enumerate(records):
        if record["name"] == name:
            return index
    raise UsersError(_no_such_user(name, where))


def _no_such_user(name: object, where: str) -> str:
    return f"{where}中没有用户“{_printable(str(name))}”。查看现有用户：hazardboard users list"


def _refuse_taken(records: list[dict], name: str) -> None:
    if any(r["name"] == name for r in records):
        raise UsersError(f"用户“{name}”已存在。修改请用 hazardboard users change 或 passwd。")
    clash = next((r["name"] for r in records if r["name"].casefold() == name.casefold()), None)
    if clash is not None:
        raise UsersError(f"已有用户“{clash}”，与“{name}”只差大小写，容易混淆，请换一个用户名。")


def _document(records: list[dict]) -> str:
    """The users document as written: ``{"format": 1, "users": [...]}``, indented UTF-8 JSON."""
    return json.dumps({"format": FILE_FORMAT, "users": records}, ensure_ascii=False, indent=2) + "\n"


def _import_sql() -> None:
    """SQLAlchemy and the store's tables, for ``UsersTable`` only: the users file, and the commands
    that never touch accounts (``summary``), do without them."""
    global sa, Store, StoreError, accounts, resolve_store_url  # noqa: PLW0603
    import sqlalchemy as sa
    from store.db import Store, StoreError, accounts, resolve_store_url


def _reason(error: Exception) -> str:
    """The first line of a store error, for a message."""
    text = getattr(error, "message", None) or str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else error.__class__.__name__


def _key_of(status: os.stat_result) -> tuple[int, int, int]:
    return (status.st_ino, status.st_mtime_ns, status.st_size)


def _fsync_folder(folder: Path) -> None:
    """Makes the rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def _printable(text: str) -> str:
    """Control characters shown as escapes, so a message cannot move the terminal's cursor."""
    return "".join(ch if not unicodedata.category(ch).startswith("C") else ch.encode("unicode_escape").decode()
                   for ch in text)


# --- hashing -----------------------------------------------------------------------------

def _hash(password: str) -> str:
    return _HASHER.hash(password)


def _check(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _needs_rehash(password_hash: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def _dummy_hash() -> str:
    """``_DUMMY_HASH``, or one made with the current parameters if the library's defaults changed
    (so that checking it costs what checking a real hash costs)."""
    global _DUMMY_HASH
    if _needs_rehash(_DUMMY_HASH):
        with _dummy_lock:
            if _needs_rehash(_DUMMY_HASH):
                _DUMMY_HASH = _HASHER.hash(os.urandom(16).hex())
    return _DUMMY_HASH
