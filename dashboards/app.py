"""The Panel server: one template with navigation, the seven pages and the meeting screen.

Each page lives in ``dashboards/pages/<name>.py`` and exposes
``build(state: DashboardState, snapshot: CampaignSnapshot, shared: SharedCampaign) -> Viewable``.
The template builds a page when it is opened (and again when the language changes, or the
shared data for a page whose views do not follow new data themselves); filters update the
views inside a page without rebuilding it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import panel as pn
from param import Skip

from components.chart_style import configure_screen_charts
from components.data import SharedCampaign, describe_change, get_shared_campaign
from components.i18n import register_labels, tr
from components.html_text import text
from components.page_view import page_follows_data, session_hold, session_scope
from components.state import PAGES, URL_PARAMS, DashboardState, drop_unknown_values
from components.upload import DEFAULT_UPLOAD_LIMIT_MB, set_upload_limit, websocket_message_limit
from dashboards.cli import DEFAULT_SESSION_EXPIRY_S

# Tabulator serves every table. HoloViews charts render with Bokeh on screen (matplotlib only in
# exports); the modules defining them load its Bokeh backend (``chart_style.bokeh_backend``).
pn.extension("tabulator", notifications=True)
configure_screen_charts()

log = logging.getLogger(__name__)

# A session's poll (a comparison; the store itself is asked at most every ``STORE_POLL_S`` per process).
REVISION_POLL_MS = 1000
# After the port opens, how long a process waits for its first visitor before drawing the landing
# page for nobody (``warm_up_unless_visited``).
WARM_UP_AFTER_S = 1.0
# How long after a first visitor's page was asked for the other pages' chart modules are loaded
# (``load_chart_modules``): that page is still being drawn in their browser.
CHART_MODULES_AFTER_S = 5.0
# The pages whose modules load HoloViews' Bokeh backend.
CHART_PAGES = ("hazards", "map", "enforcement", "training")
# How long 数据已更新 stays on screen.
DATA_UPDATED_NOTICE_MS = 15000
ACCENT = "#b71c1c"
CJK_FONTS = "'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"
ASSETS = Path(__file__).parent / "assets"


def _page_module(page: str):
    return importlib.import_module(f"dashboards.pages.{page}")


def sync_url(state: DashboardState, shared: SharedCampaign, extra: tuple[str, ...] = ()) -> None:
    """Mirror the state in the URL query string, both ways, so views can be bookmarked.

    A URL is anyone's text, so the URL is bound to a copy of the state (the query), not to the
    state itself: values param refuses (an unknown page, a malformed date) and values the dataset
    does not know (units, periods, …) are dropped from the query, and the user is told which;
    only what is left reaches the state. That holds every time the URL is applied: when the
    session is built and when the browser sends its address after the page has loaded (before,
    that second application went straight to the state, and a period the filter's list lacks
    bounced between browser and server for ever)."""
    location = pn.state.location
    if location is None:
        return
    names = (*URL_PARAMS, *extra)
    query = type(state)(**{name: getattr(state, name) for name in names})
    refused: list[str] = []
    announced: set[str] = set()
    loaded = False

    def apply_one_by_one(mapped: dict) -> None:
        for name, value in mapped.items():
            try:
                query.param.update({name: value})
            except Exception:  # noqa: BLE001 - a bad URL value is dropped, the others still apply
                refused.append(str(value))

    def notify(message: str) -> None:
        if pn.state.notifications is not None:
            pn.state.notifications.warning(message, duration=10000)

    def query_to_state(*_events) -> None:
        snapshot = shared.snapshot
        dropped = refused + drop_unknown_values(query, snapshot.units, snapshot.periods)
        refused.clear()
        _copy(query, state, names)
        # The browser sends the address it was opened with once more after loading: told once.
        dropped = [value for value in dropped if value not in announced]
        announced.update(dropped)
        if dropped:
            message = text(tr("url_dropped", state.lang).format(values="、".join(dropped)[:120]))
            if loaded:
                notify(message)
            else:  # a toast sent while the page builds is lost: once it has loaded
                pn.state.onload(partial(notify, message))

    def mark_loaded() -> None:
        nonlocal loaded
        loaded = True

    location.sync(query, {name: name for name in names}, on_error=apply_one_by_one)
    query_to_state()
    pn.state.onload(mark_loaded)
    scope = session_scope(state)
    # After ``sync``'s own watcher on the address: the values it has just applied are checked.
    scope.watch(location, query_to_state, "search")
    scope.watch(state, lambda *_events: _copy(state, query, names), list(names))


def _copy(source, target, names) -> None:
    """The named values of ``source`` that ``target`` lacks, set on it in one update."""
    changed = {name: getattr(source, name) for name in names if getattr(target, name) != getattr(source, name)}
    if changed:
        target.param.update(changed)


def watch_revision(state: DashboardState, shared: SharedCampaign):
    """Poll the shared dataset: when the store changed (an upload in any session or process, an
    ingest from the command line, another machine), redraw this session and say what changed
    (数据已更新, a notice for ``DATA_UPDATED_NOTICE_MS``). Each poll asks the process's dataset to
    follow the store (``SharedCampaign.refresh``: non-blocking, one store read per process at most
    every ``STORE_POLL_S``).

    The poll is Bokeh's public ``Document.add_periodic_callback``: unlike Panel's own
    ``pn.state.add_periodic_callback`` it does not mark the app busy, which blinked the header's
    busy spinner every few seconds in every session. It is removed when the session ends.
    The same poll ends the page of a signed-in officer whose account was removed or changed, or
    whose sign-in expired (``end_signed_out``). Returns the callback (None outside a server session)."""
    shown = [shared.snapshot]  # the dataset this session shows

    def check() -> None:
        if not account_still_valid(shared):
            end_signed_out(doc, callback)
            return
        shared.refresh()  # another process or the command line may have changed the store
        snapshot = shared.snapshot
        if snapshot.revision != state.data_revision:
            if snapshot is not shown[0] and pn.state.notifications is not None:
                pn.state.notifications.info(text(describe_change(shown[0], snapshot, state.lang)),
                                            duration=DATA_UPDATED_NOTICE_MS)
            shown[0] = snapshot
            with session_hold():  # the page's views follow the new data in one patch
                state.data_revision = snapshot.revision

    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        return None
    callback = doc.add_periodic_callback(check, REVISION_POLL_MS)

    def stop(_session_context) -> None:
        # On a server Bokeh destroys the document, and the session removes its callbacks, before
        # the session-destroyed hooks run; only a document still alive needs the removal.
        if doc.session_context is None:
            return
        try:
            doc.remove_periodic_callback(callback)
        except ValueError:  # already removed
            pass

    pn.state.on_session_destroyed(stop)
    return callback


def _navigation(state: DashboardState) -> pn.viewable.Viewable:
    def buttons(page: str, lang: str):
        column = pn.Column(sizing_mode="stretch_width", css_classes=["hb-nav"])
        for name in PAGES:
            button = pn.widgets.Button(
                label=tr(name, lang), color="primary" if name == page else "light",
                sizing_mode="stretch_width", css_classes=[f"hb-nav-{name}"],
            )
            button.on_click(lambda _event, name=name: setattr(state, "page", name))
            column.append(button)
        # The meeting screen opens with this session's filters: the same query string.
        meeting = pn.pane.HTML(
            f'<a class="hb-meeting-link" href="./meeting" target="_blank" '
            f'onclick="this.href=\'./meeting\' + window.location.search">{tr("meeting", lang)} ↗</a>',
            sizing_mode="stretch_width",
        )
        column.append(meeting)
        return column

    return pn.bind(buttons, state.param.page, state.param.lang)


def _language_switch(state: DashboardState) -> pn.widgets.Button:
    button = pn.widgets.Button(label=tr("language", state.lang), color="light", css_classes=["hb-lang"], width=90)

    def toggle(_event) -> None:
        state.lang = "en" if state.lang == "zh" else "zh"

    def relabel(event) -> None:
        button.label = tr("language", event.new)

    button.on_click(toggle)
    state.param.watch(relabel, "lang")
    return button


def signed_in_session(shared: SharedCampaign):
    """The process's dataset as this session's officer may see it, or the page saying why not.

    Returns (session dataset, None) or (None, a page to show instead)."""
    from auth.access import AccessDenied
    from dashboards.signin import LOGIN_URL, session_officer

    try:
        access, signed_in_at = session_officer()
    except AccessDenied as error:
        return None, pn.pane.HTML(f'<div class="hb-denied" style="padding:40px;font-size:18px">{text(error.message)} '
                                  f'<a href=".{LOGIN_URL}">重新登录</a></div>')
    return shared.for_access(access, signed_in_at), None


def account_still_valid(shared: SharedCampaign) -> bool:
    """Whether the session's officer may go on (always, without sign-in)."""
    from dashboards.signin import settings

    signin = settings()
    return signin is None or signin.still_valid(shared.access, getattr(shared, "signed_in_at", None))


def end_signed_out(doc, callback) -> None:
    """Replace the session's page by a link to the sign-in page; its poll stops."""
    from dashboards.signin import LOGIN_URL

    doc.remove_periodic_callback(callback)
    ended = pn.pane.HTML(f'<div class="hb-signed-out" style="padding:40px;font-size:18px">'
                         f'登录已过期或账号已变更。<a href=".{LOGIN_URL}?expired=1">请重新登录</a></div>')
    doc.clear()
    doc.add_root(ended.get_root(doc))


register_labels({
    "scope_note": ("您的账号属于{unit}：隐患、企业、文件和批注只显示本单位的；调度表数字（排名、配额、地图指标）为全市各单位的。",
                   "Your account belongs to {unit}: hazards, enterprises, files and annotations are your unit's only; "
                   "the dispatch-form figures (rankings, quotas, map measures) are every unit's."),
    "signout": ("退出登录", "Sign out"),
    "role_committee": ("安委会办公室", "Committee office"),
    "role_viewer": ("只读", "Read-only"),
})


def account_label(access, lang: str) -> str:
    """"会昌张三（会昌县）" / "Li Si (Committee office)": the account and its unit or role."""
    where = access.unit if access.role == "unit" else tr(f"role_{access.role}", lang)
    return f"{access.name}（{where}）" if lang == "zh" else f"{access.name} ({where})"


def _account_bar(shared: SharedCampaign, state: DashboardState) -> pn.viewable.Viewable:
    """Who is signed in, and 退出登录 (only when signed in)."""
    from dashboards.signin import LOGOUT_URL

    access = shared.access
    if not access.signed_in:
        return pn.Spacer(width=0)

    def bar(lang: str) -> pn.pane.HTML:
        return pn.pane.HTML(f'<span class="hb-account" style="color:#fff;white-space:nowrap">{text(account_label(access, lang))} '
                            f'<a class="hb-signout" href=".{LOGOUT_URL}" style="color:#fff;margin-left:8px">'
                            f'{text(tr("signout", lang))}</a></span>', margin=(8, 10))

    return pn.panel(pn.bind(bar, state.param.lang))


def _scope_note(shared: SharedCampaign, state: DashboardState) -> list:
    """A unit officer is told, on every page, what their figures cover."""
    access = shared.access
    if access.sees_every_unit:
        return []
    return [pn.pane.Alert(pn.bind(lambda lang: text(tr("scope_note", lang).format(unit=access.unit)), state.param.lang),
                          alert_type="info", css_classes=["hb-scope-note"], sizing_mode="stretch_width", margin=(0, 10))]


def create_app(shared: SharedCampaign, state: DashboardState | None = None) -> pn.viewable.Viewable:
    """One session's dashboard over the process-wide shared dataset, as its officer may see it."""
    from components.data import SessionCampaign
    from components.export_dialog import ExportDialog
    from components.filters import FilterPanel

    if not isinstance(shared, SessionCampaign):
        shared, refusal = signed_in_session(shared)
        if refusal is not None:
            return refusal
    state = state or DashboardState()
    sync_url(state, shared)
    watch_revision(state, shared)

    def render(page: str, lang: str, revision: int):
        if page_follows_data(state):
            # Only the data moved, and the page's views follow it in place: at province scale a
            # rebuild cost each session ~1 s of its process, and 20 sessions redrew one by one.
            raise Skip
        snapshot = shared.snapshot
        if snapshot.is_empty and page != "data":
            return pn.pane.Alert(tr("no_submission", lang), alert_type="warning")
        return _page_module(page).build(state, snapshot, shared)

    main = pn.panel(pn.bind(render, state.param.page, state.param.lang, state.param.data_revision),
                    sizing_mode="stretch_width", loading_indicator=True)
    filters = FilterPanel(state=state, shared=shared)
    exporter = ExportDialog(state=state, shared=shared)  # 导出简报: a modal opened from the header
    # Viewers do not export (checked again when building); the button is left out for them.
    export_button = exporter.open_button if shared.access.can_write else pn.Spacer(width=0)
    # Bootstrap design: every resource is served by this server. (The Fast design fetches a web
    # font from a CDN, which an intranet, like the test machine, cannot reach.)
    template = pn.template.BootstrapTemplate(
        title=tr("app_title", state.lang),
        sidebar=[_navigation(state), pn.layout.Divider(), filters],
        main=[*_scope_note(shared, state), main, exporter],  # the dialog (a modal, hidden until opened) outside the header's white text
        header=[pn.Row(export_button, _language_switch(state), _account_bar(shared, state), margin=0)],
        sidebar_width=300,
        header_background=ACCENT,
        raw_css=[f"body {{ font-family: {CJK_FONTS}; }}"],
    )
    state.param.watch(lambda event: setattr(template, "title", tr("app_title", event.new)), "lang")
    _lay_out_in_one_pass(template)
    return template


def _lay_out_in_one_pass(template: pn.template.BaseTemplate) -> None:
    """Add the template's roots to the session's document under one ``Document.models.freeze``.

    Outside a freeze, Bokeh walks every model of the document again after each root added
    (``Document.add_root`` → ``DocumentModelManager.recompute``); the template adds about a dozen,
    so a session's page at province scale spent 0.9 s of its 2.4 s there. Frozen, the walk
    happens once, when the last root is in."""
    init_doc = template._init_doc  # the one method ``server_doc`` and the server's ``_modify_doc`` go through

    def frozen(doc=None, *args, **kwargs):
        document = doc if doc is not None else pn.state.curdoc
        if document is None:  # a notebook without a document: nothing to defer
            return init_doc(doc, *args, **kwargs)
        with document.models.freeze():
            return init_doc(doc, *args, **kwargs)

    template._init_doc = frozen


def serve(
    store: str | None = None,
    port: int = 5006,
    address: str | None = None,
    num_procs: int = 1,
    as_of: dt.date | None = None,
    show: bool = False,
    upload_limit_mb: float = DEFAULT_UPLOAD_LIMIT_MB,
    session_expiry_s: float = DEFAULT_SESSION_EXPIRY_S,
    annotation_tags: tuple[str, ...] | None = None,
    signin=None,
    allow_hosts: tuple[str, ...] = (),
    behind_proxy: bool = False,
    oauth_provider: str | None = None,
) -> None:
    """Serve the dashboard and the meeting screen; the dataset is built once per process.

    ``signin`` (``dashboards.signin.SignIn``) with ``required``: every page, session and websocket
    needs a signed-in account (``HazardboardAuth``), or Panel's OAuth provider ``oauth_provider``.
    Browsers may open the websocket from ``localhost``/``127.0.0.1`` and the ``allow_hosts``
    (host or host:port, as typed in the address bar). ``behind_proxy``: the client address and
    scheme come from the reverse proxy's X-Real-IP / X-Forwarded-For / X-Forwarded-Proto.

    ``upload_limit_mb`` bounds one selection of files on the data page. The files travel in
    chunks (``components.upload.ChunkedFileInput``), so the websocket's message limit is set from
    the chunk size, not the upload limit (one 16 MB+ message used to close the session, 1009)."""
    from components.annotation_panel import set_annotation_tags
    from dashboards.signin import HazardboardAuth, configure

    set_annotation_tags(annotation_tags)
    limit_bytes = int(upload_limit_mb * 1024 * 1024)
    set_upload_limit(limit_bytes)
    configure(signin)

    def shared() -> SharedCampaign:
        return get_shared_campaign(store, as_of, build_in_child=True)

    visited = threading.Event()

    def visit(make_page):
        def page():
            visited.set()
            return make_page(shared())
        return page

    def create_meeting(dataset: SharedCampaign):
        from dashboards.meeting import create_meeting  # its HoloViews charts: loaded once the server is up

        return create_meeting(dataset)

    routes = {"/": visit(create_app), "/meeting": visit(create_meeting)}
    # Build the dataset before the port opens: a bad store fails at once (with several processes,
    # each builds it once it has forked, below).
    if num_procs == 1:
        shared()
    auth: dict = {}
    if signin is not None and signin.required:
        auth["cookie_secret"] = signin.cookie_secret
        if oauth_provider:
            auth["oauth_provider"] = oauth_provider
        else:
            auth["auth_provider"] = HazardboardAuth()
    server = pn.serve(
        routes, port=port, address=address, num_procs=num_procs, show=show, title=tr("app_title"),
        websocket_origin=websocket_origins(port, allow_hosts),
        static_dirs={"assets": str(ASSETS)} if ASSETS.exists() else {},
        websocket_max_message_size=websocket_message_limit(),
        # A session whose browser has gone is discarded after ``session_expiry_s``, checked twice as often.
        unused_session_lifetime_milliseconds=int(session_expiry_s * 1000),
        check_unused_sessions_milliseconds=max(500, int(session_expiry_s * 500)),
        use_xheaders=behind_proxy,
        start=False, **auth,
    )
    # Each process draws the landing page once its port is open, so that an officer who comes
    # later finds the shared figures computed; an officer already waiting is served first.
    server.io_loop.call_later(WARM_UP_AFTER_S, warm_up_unless_visited, shared, visited, server.io_loop)
    server.start()
    server.io_loop.start()


def warm_up_unless_visited(shared: Callable[[], SharedCampaign], visited: threading.Event, loop) -> None:
    """``warm_up`` the process's dataset (building it first) unless a page was already asked for:
    that visitor's page does the same work, and a warm-up before it would make it wait. Then load
    the modules of the other pages' charts (HoloViews' Bokeh backend, ~0.4 s), which the landing
    page does not need: after the warm-up, or a few seconds after that visitor's page was asked
    for (``loop``: the server's IOLoop)."""
    if visited.is_set():
        log.info("a visitor came before the warm-up: the landing page is drawn for them")
        loop.call_later(CHART_MODULES_AFTER_S, load_chart_modules)
        return
    warm_up(shared())
    load_chart_modules()


def load_chart_modules() -> None:
    """Import the pages that draw HoloViews charts and the meeting screen, so that the first officer
    to open one does not wait for their modules."""
    started = time.monotonic()
    for page in CHART_PAGES:
        _page_module(page)
    importlib.import_module("dashboards.meeting")
    log.info("chart modules loaded in %.1f s", time.monotonic() - started)


def warm_up(dataset: SharedCampaign, page: str = "overview") -> None:
    """Draw ``page`` once for nobody, so the first officer's page finds the shared figures computed
    (``CampaignSnapshot.derived``) and the plotting modules imported; everything it made is released."""
    from bokeh.document import Document
    from panel.io.state import set_curdoc

    from auth.access import LOCAL_ACCESS
    from components.page_view import destroy_unserved_document, session_scope

    started = time.monotonic()
    state, doc = DashboardState(page=page), Document()
    try:
        with set_curdoc(doc):  # Panel keys its per-document caches (stylesheets) by it
            create_app(dataset.for_access(LOCAL_ACCESS), state).server_doc(doc)
    except Exception:  # noqa: BLE001 - only a head start: the first visitor computes it instead
        log.warning("warming up the %s page failed", page, exc_info=True)
    finally:
        session_scope(state).release()
        destroy_unserved_document(doc)
    log.info("landing page drawn once in %.1f s", time.monotonic() - started)


def websocket_origins(port: int, allow_hosts: tuple[str, ...] = ()) -> list[str]:
    """The origins a browser may open the websocket from: this machine, and the host names the
    office configured (``--allow-host``). A name without a port is allowed on the server's port
    and on 80/443 (behind a reverse proxy the browser's origin carries the proxy's port)."""
    origins = [f"localhost:{port}", f"127.0.0.1:{port}"]
    for host in allow_hosts:
        host = host.strip()
        if not host:
            continue
        if ":" in host.rsplit("]", 1)[-1]:
            origins.append(host)
        else:
            origins += [f"{host}:{port}", f"{host}:80", f"{host}:443"]
    return list(dict.fromkeys(origins))
