"""Sign-in for the server: the Chinese sign-in page, sign-out, the session cookie, the lock-out.

Bokeh asks ``HazardboardAuth.get_user`` for every page, websocket and session request; without
a valid session cookie the browser is sent to ``/login`` (this module's page: no external
resources), so a server on the network shows nothing before sign-in. The cookie is signed with
the store's cookie secret (``Store.secret("cookie")``: made once, shared by every process and
machine on the store, so a restart signs nobody out) and carries the sign-in time; it expires
after ``session_hours``. A user removed from the users file is signed out at their next request
and within seconds in an open page (``SignIn.still_valid``, checked by the session's poll).

Repeated failures lock the name out: ``LOCKOUT_FAILURES`` failed sign-ins within
``LOCKOUT_WINDOW`` since the last success refuse further tries until the window has passed since
the latest failure. The count is read from the audit log, so it holds across processes and
restarts. Every sign-in, failure, lock-out and sign-out is audited with the client's address.

With single sign-on (``oauth_provider``: Panel's OAuth/OIDC providers, configured through
Panel's ``PANEL_OAUTH_*`` environment variables) Panel's provider signs in instead, and the
account name it reports must be in the users file (``hazardboard users add NAME --sso``), which
gives the role.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import threading
import time
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from bokeh.server.auth_provider import AuthProvider
from tornado.web import RequestHandler

from auth.access import LOCAL_ACCESS, ROLE_LABELS, Access, AccessDenied
from auth.users import UsersFile
from store import Store
from store.audit import Actor, record, recent_failures

SESSION_COOKIE = "hb_session"
DEFAULT_SESSION_HOURS = 12.0
# How stale the accounts behind the sessions' polls may be (a removed account's pages end within this plus one poll).
POLL_USERS_S = 1.0
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = dt.timedelta(minutes=15)
LOGIN_URL = "/login"
LOGOUT_URL = "/logout"
MAX_FIELD_CHARS = 200


@dataclass
class SignIn:
    """The server's sign-in settings. ``required`` False: nobody signs in and every session is the
    local committee officer (an unprotected loopback server)."""

    users: UsersFile
    store_location: str
    cookie_secret: str
    required: bool = True
    session_hours: float = DEFAULT_SESSION_HOURS
    oauth: bool = False
    _store: Store | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # The accounts as last read for the sessions' polls, and when (time.monotonic()).
    _polled_users: dict = field(default_factory=dict, repr=False)
    _polled_at: float = field(default=float("-inf"), repr=False)

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = Store(self.store_location)
            return self._store

    # --- the cookie ------------------------------------------------------------------------
    def cookie_value(self, name: str, now: float | None = None) -> str:
        return json.dumps({"u": name, "t": int(now if now is not None else time.time())}, ensure_ascii=False)

    def signed_in_user(self, raw: bytes | str | None, now: float | None = None) -> tuple[str, float] | None:
        """(account name, sign-in time) of a verified cookie value, if still valid."""
        if not raw:
            return None
        try:
            data = json.loads(raw)
            name, issued = str(data["u"]), float(data["t"])
        except (ValueError, KeyError, TypeError):
            return None
        now = now if now is not None else time.time()
        if not (issued <= now + 60 and now - issued < self.session_hours * 3600):
            return None
        if self.users.get(name) is None:  # removed since
            return None
        return name, issued

    def decode(self, cookie: str | None) -> tuple[str, float] | None:
        """A session cookie as the browser sent it (signed) → (name, sign-in time), if valid."""
        if not cookie:
            return None
        from tornado.web import decode_signed_value

        raw = decode_signed_value(self.cookie_secret, SESSION_COOKIE, cookie, max_age_days=self.session_hours / 24 + 1)
        return self.signed_in_user(raw)

    # --- a session's officer ---------------------------------------------------------------
    def access_for(self, name: str, origin: str) -> Access:
        user = self.users.get(name)
        if user is None:
            raise AccessDenied(f"账号“{name}”不存在或已被删除，请联系安委会办公室。")
        return Access(user=user.name, role=user.role, unit=user.unit, display_name=user.display_name or user.name,
                      origin=origin)

    def still_valid(self, access: Access, signed_in_at: float | None) -> bool:
        """Whether a session's officer may go on: the account is unchanged and the sign-in not expired."""
        if not self.required or not access.signed_in:
            return True
        user = self._polled_user(access.user)
        if user is None or (user.role, user.unit) != (access.role, access.unit):
            return False
        return signed_in_at is None or time.time() - signed_in_at < self.session_hours * 3600

    def _polled_user(self, name: str):
        """The account as read at most ``POLL_USERS_S`` ago: every open page asks on each poll, and
        accounts kept in a database would be queried many times a second by 20 sessions."""
        with self._lock:
            now = time.monotonic()
            if now - self._polled_at >= POLL_USERS_S:
                self._polled_users, self._polled_at = self.users.users(), now
            return self._polled_users.get(name)

    # --- sign-in ---------------------------------------------------------------------------
    def attempt(self, name: str, password: str, origin: str) -> tuple[str | None, str]:
        """Check a sign-in: (the account name, "") or (None, the message to show). Audited."""
        name = name.strip()[:MAX_FIELD_CHARS]
        actor = Actor(name or "（空）", "", origin)
        if not name or not password:
            return None, "请输入用户名和密码。"
        failures, latest = recent_failures(self.store, name, LOCKOUT_WINDOW)
        now = dt.datetime.now(dt.timezone.utc)
        if failures >= LOCKOUT_FAILURES and latest is not None and now - latest < LOCKOUT_WINDOW:
            minutes = max(1, int((LOCKOUT_WINDOW - (now - latest)).total_seconds() // 60) + 1)
            record(self.store, actor, "signin_locked", target=name, detail=f"连续{failures}次失败后再次尝试", outcome="refused")
            return None, f"该账号连续{failures}次登录失败，已暂时锁定，请{minutes}分钟后再试，或联系安委会办公室重置密码。"
        user = self.users.verify(name, password[:1024])
        if user is None:
            record(self.store, actor, "signin_failed", target=name, outcome="failed")
            left = LOCKOUT_FAILURES - failures - 1
            hint = f"（再失败{left}次将锁定{int(LOCKOUT_WINDOW.total_seconds() // 60)}分钟）" if 0 < left <= 2 else ""
            return None, f"用户名或密码错误。{hint}"
        record(self.store, Actor(user.name, user.role, origin), "signin", target=user.name,
               detail=ROLE_LABELS.get(user.role, user.role) + (f"（{user.unit}）" if user.unit else ""))
        return user.name, ""


_SETTINGS: SignIn | None = None


def configure(settings: SignIn | None) -> None:
    """The sign-in settings of this server process (None: no sign-in)."""
    global _SETTINGS
    _SETTINGS = settings


def settings() -> SignIn | None:
    return _SETTINGS


def _safe_next(target: str | None) -> str:
    """Only a path on this server: never another site (``//host``, ``http:``, a backslash trick)."""
    target = (target or "").strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target or "\n" in target or "\r" in target:
        return "/"
    return target


def _origin(handler: RequestHandler) -> str:
    return str(handler.request.remote_ip or "")


PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录 · 赣州市重大事故隐患专项排查整治数据看板</title>
<style>
body {{ margin:0; font-family:'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei','PingFang SC',sans-serif;
       background:#f4f4f4; color:#212121; }}
header {{ background:#b71c1c; color:#fff; padding:14px 24px; font-size:20px; font-weight:600; }}
main {{ max-width:380px; margin:60px auto; background:#fff; border-radius:6px; padding:28px 32px;
        box-shadow:0 1px 4px rgba(0,0,0,.15); }}
h1 {{ font-size:20px; margin:0 0 18px 0; }}
label {{ display:block; margin:12px 0 4px 0; font-size:14px; }}
input {{ width:100%; box-sizing:border-box; padding:8px; font-size:15px; border:1px solid #bdbdbd; border-radius:4px; }}
button {{ margin-top:20px; width:100%; padding:10px; font-size:16px; background:#b71c1c; color:#fff; border:0;
          border-radius:4px; cursor:pointer; }}
.hb-login-error {{ background:#ffebee; color:#b71c1c; padding:8px 10px; border-radius:4px; font-size:14px; }}
.hb-login-note {{ background:#e8f5e9; color:#1b5e20; padding:8px 10px; border-radius:4px; font-size:14px; }}
.hb-login-foot {{ margin-top:18px; font-size:12px; color:#757575; }}
</style></head>
<body><header>赣州市重大事故隐患专项排查整治数据看板</header>
<main><h1>登录 <span style="font-size:13px;color:#757575;font-weight:400">Sign in</span></h1>
{message}
<form method="post" action="{action}" class="hb-login-form" autocomplete="on">
<label for="username">用户名 <small>User name</small></label>
<input id="username" name="username" value="{username}" autocomplete="username" required autofocus maxlength="200">
<label for="password">密码 <small>Password</small></label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<input type="hidden" name="next" value="{next}">
<button type="submit" class="hb-login-submit">登录</button>
</form>
<div class="hb-login-foot">账号由安委会办公室开设（hazardboard users add）。忘记密码请联系安委会办公室重置。</div>
</main></body></html>"""


def login_page(action: str, next_path: str, username: str = "", error: str = "", note: str = "") -> str:
    """The sign-in page; every value escaped."""
    message = ""
    if error:
        message = f'<div class="hb-login-error" role="alert">{html.escape(error)}</div>'
    elif note:
        message = f'<div class="hb-login-note">{html.escape(note)}</div>'
    return PAGE.format(message=message, action=html.escape(action, quote=True), username=html.escape(username, quote=True),
                       next=html.escape(next_path, quote=True))


class LoginHandler(RequestHandler):
    """GET the page; POST user name and password."""

    def _page(self, status: int = 200, username: str = "", error: str = "", note: str = "") -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Frame-Options", "DENY")
        next_path = _safe_next(self.get_argument("next", "/"))
        self.finish(login_page(self.request.path, next_path, username, error, note))

    def get(self) -> None:
        note = "您已退出登录。" if self.get_argument("signed_out", "") else (
            "登录已过期或账号已变更，请重新登录。" if self.get_argument("expired", "") else "")
        self._page(note=note)

    async def post(self) -> None:
        signin = settings()
        if signin is None:
            self.redirect("/")
            return
        name = self.get_body_argument("username", "")[:MAX_FIELD_CHARS]
        password = self.get_body_argument("password", "")
        # Argon2 takes tens of milliseconds on purpose: off the server's event loop.
        account, message = await asyncio.to_thread(signin.attempt, name, password, _origin(self))
        if account is None:
            self._page(401 if "锁定" not in message else 429, username=name, error=message)
            return
        self.set_signed_cookie(SESSION_COOKIE, signin.cookie_value(account), expires_days=None, httponly=True,
                               samesite="Lax", secure=self.request.protocol == "https")
        self.redirect(_safe_next(self.get_body_argument("next", "/")))


class LogoutHandler(RequestHandler):
    def get(self) -> None:
        signin = settings()
        if signin is not None:
            found = signin.decode(self.get_cookie(SESSION_COOKIE))
            if found is not None:
                user = signin.users.get(found[0])
                record(signin.store, Actor(found[0], user.role if user else "", _origin(self)), "signout", target=found[0])
        self.clear_cookie(SESSION_COOKIE)
        self.redirect(LOGIN_URL + "?" + urlencode({"signed_out": 1}))


class HazardboardAuth(AuthProvider):
    """Bokeh's hook: every page, session and websocket request needs a valid session cookie."""

    @property
    def get_user(self):
        def get_user(handler: RequestHandler):
            signin = settings()
            if signin is None:
                return None
            cookie = handler.get_cookie(SESSION_COOKIE)
            found = signin.decode(cookie)
            return found[0] if found else None

        return get_user

    @property
    def login_url(self) -> str:
        return LOGIN_URL

    @property
    def login_handler(self):
        return LoginHandler

    @property
    def logout_url(self) -> str:
        return LOGOUT_URL

    @property
    def logout_handler(self):
        return LogoutHandler


def session_officer() -> tuple[Access, float | None]:
    """The officer of the Bokeh session being built, and when they signed in.

    Without sign-in: the local committee officer. Raises AccessDenied for a session whose account
    is gone (Bokeh let the request in a moment before) or an SSO account not in the users file."""
    import panel as pn

    doc = pn.state.curdoc
    request = doc.session_context.request if doc is not None and doc.session_context is not None else None
    origin = str(getattr(request, "remote_ip", "") or "") if request is not None else ""
    signin = settings()
    if signin is None or not signin.required:
        return replace(LOCAL_ACCESS, origin=origin or "localhost"), None
    if signin.oauth:
        name = pn.state.user
        if not name:
            raise AccessDenied("未登录。")
        return signin.access_for(str(name), origin), None
    cookies = request.cookies if request is not None else {}
    found = signin.decode(cookies.get(SESSION_COOKIE))
    if found is None:
        raise AccessDenied("登录已过期，请重新登录。")
    return signin.access_for(found[0], origin), found[1]
