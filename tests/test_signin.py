"""Sign-in without a browser (issue 10, "Sign-in"): when it is required, the refusal to start
without accounts, the lock-out, the session cookie's expiry, and the sign-in page's escaping.
The browser side is tests/browser/test_access.py."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from auth.users import UsersFile
from dashboards import cli
from dashboards.app import websocket_origins
from dashboards.signin import LOCKOUT_FAILURES, POLL_USERS_S, SignIn, _safe_next, login_page
from store import Store
from store.audit import entries
from tests.conftest import recording_serve

PASSWORD = "correct-horse-9"


@pytest.fixture
def signin(tmp_path) -> SignIn:
    users = UsersFile(tmp_path / "users.json")
    users.add("hc01", "unit", unit="会昌县", password=PASSWORD, display_name="张三")
    store = Store(tmp_path / "store")
    return SignIn(users=users, store_location=store.url, cookie_secret="s" * 48, session_hours=1)


@pytest.mark.parametrize("address, loopback", [("localhost", True), ("127.0.0.1", True), ("127.0.1.1", True), ("::1", True),
                                               ("[::1]", True), ("0.0.0.0", False), ("", False), ("192.168.1.20", False),
                                               ("::", False), ("aqw.gz.gov.cn", False)])
def test_which_addresses_are_this_machine_only(address, loopback):
    assert cli.is_loopback(address) is loopback


def test_a_server_open_to_the_network_refuses_to_start_without_hosts_or_accounts(tmp_path, capsys):
    store = tmp_path / "store"
    users = tmp_path / "users.json"
    code = cli.main(["serve", "--store", str(store), "--users", str(users), "--address", "0.0.0.0"])
    message = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and "--allow-host" in message and "0.0.0.0" in message
    code = cli.main(["serve", "--store", str(store), "--users", str(users), "--address", "0.0.0.0",
                     "--allow-host", "aqw.gz.gov.cn"])
    message = capsys.readouterr().err
    assert code == cli.EXIT_FAILED
    assert "hazardboard users add 用户名 --role committee" in message and str(users) in message
    # Nothing was ingested: the refusal comes before the sample is loaded.
    assert len(Store(store).files_frame()) == 0
    # On loopback, --auth asks the same, and so does a server behind a reverse proxy.
    code = cli.main(["serve", "--store", str(store), "--users", str(users), "--auth"])
    assert code == cli.EXIT_FAILED and "--auth" in capsys.readouterr().err
    code = cli.main(["serve", "--store", str(store), "--users", str(users), "--behind-proxy"])
    assert code == cli.EXIT_FAILED and "--behind-proxy" in capsys.readouterr().err


def test_failed_sign_ins_lock_the_name_out_and_every_attempt_is_audited(signin):
    for attempt in range(LOCKOUT_FAILURES):
        account, message = signin.attempt("hc01", "wrong-password", "10.0.0.7")
        assert account is None and "用户名或密码错误" in message
    account, message = signin.attempt("hc01", PASSWORD, "10.0.0.7")  # the right password, too late
    assert account is None and "锁定" in message and "分钟" in message
    log = entries(signin.store, actor="hc01")
    assert list(log["action"]).count("signin_failed") == LOCKOUT_FAILURES
    assert log.iloc[0]["action"] == "signin_locked" and set(log["origin"]) == {"10.0.0.7"}
    # An unknown name gets the same answer as a wrong password.
    assert signin.attempt("nobody", PASSWORD, "10.0.0.8") == (None, "用户名或密码错误。")


def test_a_sign_in_resets_the_count(signin):
    for _ in range(LOCKOUT_FAILURES - 1):
        signin.attempt("hc01", "wrong-password", "10.0.0.7")
    assert signin.attempt("hc01", PASSWORD, "10.0.0.7") == ("hc01", "")
    assert signin.attempt("hc01", "wrong-password", "10.0.0.7")[0] is None
    assert signin.attempt("hc01", PASSWORD, "10.0.0.7") == ("hc01", "")
    assert entries(signin.store, actor="hc01", action="signin").iloc[0]["detail"] == "单位（会昌县）"


def test_the_session_cookie_expires_and_dies_with_the_account(signin):
    now = time.time()
    assert signin.signed_in_user(signin.cookie_value("hc01", now - 10), now) == ("hc01", pytest.approx(now - 10, abs=1))
    assert signin.signed_in_user(signin.cookie_value("hc01", now - 3601), now) is None  # session_hours=1
    assert signin.signed_in_user('{"u": "hc01"}', now) is None
    access = signin.access_for("hc01", "10.0.0.7")
    assert (access.role, access.unit, access.name) == ("unit", "会昌县", "张三")
    assert signin.still_valid(access, now - 10)
    assert not signin.still_valid(access, now - 3601)
    signin.users.change("hc01", role="unit", unit="章贡区")
    # The sessions' polls read the accounts at most every POLL_USERS_S, once for all of them.
    assert signin.still_valid(access, now - 10)
    signin._polled_at -= POLL_USERS_S
    assert not signin.still_valid(access, now - 10)  # moved to another unit: this session ends
    signin.users.remove("hc01")
    assert signin.signed_in_user(signin.cookie_value("hc01", now), now) is None


def test_the_sign_in_page_shows_typed_text_as_text_and_goes_back_only_to_this_server():
    page = login_page("/login", "/?page=hazards", username='"><script>alert(1)</script>', error="<b>x</b>")
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page and "&lt;b&gt;x" in page
    assert "http://" not in page and "https://" not in page  # no external resources
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""):
        assert _safe_next(target) == "/"
    assert _safe_next("/meeting?slide=2") == "/meeting?slide=2"


def test_websocket_origins_are_this_machine_and_the_configured_hosts():
    assert websocket_origins(5006) == ["localhost:5006", "127.0.0.1:5006"]
    origins = websocket_origins(5006, ("aqw.gz.gov.cn", "10.1.2.3:8443"))
    assert "aqw.gz.gov.cn:5006" in origins and "aqw.gz.gov.cn:443" in origins and "10.1.2.3:8443" in origins
    assert "0.0.0.0:5006" not in origins


def test_serve_hands_sign_in_to_bokeh_or_to_panels_single_sign_on(signin, tmp_path, monkeypatch):
    import panel as pn

    import dashboards.app as app
    from dashboards.signin import HazardboardAuth

    calls: list[dict] = []
    monkeypatch.setattr(pn, "serve", recording_serve(calls))
    monkeypatch.setattr("dashboards.signin._SETTINGS", None)  # serve() configures it: put back after
    store = str(tmp_path / "store")
    app.serve(store=store, signin=signin, allow_hosts=("aqw.gz.gov.cn",), behind_proxy=True)
    app.serve(store=store, signin=signin, oauth_provider="generic")
    app.serve(store=store, signin=SignIn(users=signin.users, store_location=signin.store_location,
                                         cookie_secret="s" * 48, required=False))
    own, sso, local = calls
    assert isinstance(own["auth_provider"], HazardboardAuth) and own["cookie_secret"] == signin.cookie_secret
    assert own["use_xheaders"] is True and "aqw.gz.gov.cn:443" in own["websocket_origin"]
    assert sso["oauth_provider"] == "generic" and "auth_provider" not in sso and sso["cookie_secret"]
    assert "auth_provider" not in local and "oauth_provider" not in local
