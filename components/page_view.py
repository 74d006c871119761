"""What views register on longer-lived objects, and when it is released: one mechanism.

A session has two owners (``Lifecycle``) of the watchers its views put on objects that
outlive them (the session's ``DashboardState``, its ``HazardSelection``, shared models):

- the session's (``session_scope(state)``) holds the session's own objects (the filter
  selection, the filter panel's links) and is released when the session ends
  (``pn.state.on_session_destroyed``, registered by ``release_on_session_end``);
- the page's (``page_scope(state)``) holds every watcher of the views of the page shown,
  and is released when the page is rebuilt (page, language or data revision change, or
  a new ``build``), so views of a replaced page neither recompute nor stay in memory.
  A page whose views follow a new dataset themselves (``begin_page(state, follows_data=True)``)
  is not rebuilt on a data revision change, and keeps its watchers.

A view registers through its owner (``Lifecycle.follow`` / ``watch`` / ``on_change``), never
with a raw ``param.watch``, ``pn.bind`` or ``param.depends`` on another object. Watchers on
the view's own parameters and widgets die with the view and need no owner.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Hashable

import panel as pn
import param

from components.data import CampaignSnapshot
from components.state import DashboardState

PAGE_REBUILD_PARAMS = ("page", "lang", "data_revision")
_SESSION_ATTRIBUTE = "_hb_session_scope"


class Lifecycle:
    """Watchers and callbacks registered on other objects by one owner, all removed by ``release()``.

    Once released, registering does nothing: a view of a replaced page must not follow."""

    def __init__(self) -> None:
        self._watchers: list[param.parameterized.Watcher] = []
        self._bokeh: list[tuple[object, str, Callable]] = []
        self._on_release: list[Callable[[], None]] = []
        self.released = False

    def watch(self, source: param.Parameterized, callback: Callable, names, **kwargs):
        """``source.param.watch(callback, names, **kwargs)``, until released."""
        if self.released:
            return None
        watcher = source.param.watch(callback, list(names) if not isinstance(names, str) else names, **kwargs)
        self._watchers.append(watcher)
        return watcher

    def follow(self, source: param.Parameterized, names: tuple[str, ...], callback: Callable[[], None]):
        """Call ``callback()`` whenever one of ``names`` of ``source`` changes, until released."""
        return self.watch(source, lambda *_events: callback(), names)

    def on_change(self, model, attr: str, callback: Callable) -> None:
        """A Bokeh model's ``on_change`` callback, until released."""
        if self.released:
            return
        model.on_change(attr, callback)
        self._bokeh.append((model, attr, callback))

    def on_release(self, callback: Callable[[], None]) -> None:
        if self.released:
            callback()
        else:
            self._on_release.append(callback)

    @property
    def watcher_count(self) -> int:
        return len(self._watchers) + len(self._bokeh)

    def release(self) -> None:
        self.released = True
        watchers, self._watchers = self._watchers, []
        for watcher in watchers:
            try:
                watcher.inst.param.unwatch(watcher)
            except Exception:  # noqa: BLE001 - already removed: nothing left to release
                pass
        bokeh, self._bokeh = self._bokeh, []
        for model, attr, callback in bokeh:
            try:
                model.remove_on_change(attr, callback)
            except Exception:  # noqa: BLE001 - already removed
                pass
        callbacks, self._on_release = self._on_release, []
        for callback in callbacks:
            callback()


class SessionScope(Lifecycle):
    """The session's owner: its own objects and watchers, and the current page's ``Lifecycle``."""

    def __init__(self, state: DashboardState) -> None:
        super().__init__()
        self._state = weakref.ref(state)
        self._objects: dict[Hashable, object] = {}
        self._page: Lifecycle | None = None
        self._page_key: tuple | None = None
        self._page_follows_data = False
        self.follow(state, PAGE_REBUILD_PARAMS, self._release_stale_page)

    def _key(self) -> tuple | None:
        state = self._state()
        return None if state is None else page_key(state, self._page_follows_data)

    def get(self, key: Hashable, build: Callable[[], object]) -> object:
        """The session's one object for ``key``, built on first use (released with the session)."""
        if key not in self._objects:
            self._objects[key] = build()
        return self._objects[key]

    def page(self) -> Lifecycle:
        """The owner of the shown page's watchers (a new one once the page was rebuilt)."""
        self._release_stale_page()
        if self._page is None:
            self._page, self._page_key = Lifecycle(), self._key()
        return self._page

    def begin_page(self, follows_data: bool = False) -> Lifecycle:
        """A page is being built: the views of the page before are released. ``follows_data``:
        the new page's views follow a new dataset themselves, so a data revision keeps the page."""
        self._release_page()
        self._page_follows_data = follows_data
        return self.page()

    def shown_page_key(self) -> tuple | None:
        """``page_key`` of the page shown (None before the first page): what it was built for."""
        return None if self._page is None else self._page_key

    def _release_stale_page(self) -> None:
        # Only a page built for other page/language/revision values: whichever of the template's
        # rebuild and this watcher runs first, the page just built keeps its watchers.
        if self._page is not None and self._page_key != self._key():
            self._release_page()

    def _release_page(self) -> None:
        page, self._page = self._page, None
        if page is not None:
            page.release()

    @property
    def page_watcher_count(self) -> int:
        return 0 if self._page is None else self._page.watcher_count

    def release(self) -> None:
        self._release_page()
        objects, self._objects = self._objects, {}
        for obj in objects.values():
            lifecycle = getattr(obj, "lifecycle", None)
            if isinstance(lifecycle, Lifecycle):
                lifecycle.release()
        super().release()


def page_key(state: DashboardState, follows_data: bool) -> tuple:
    """What a page is built for: page and language, and the data revision unless its views follow new data."""
    return state.page, state.lang, None if follows_data else state.data_revision


def session_hold():
    """``pn.io.hold()`` in a server session: the changes made inside reach the browser in one patch.
    Elsewhere nothing: in a notebook every view has a document and a comm of its own, and with
    the hold another cell's county map often never redrew after a filter change (the JupyterLab
    test failed in 7 of 9 runs; 6 of 6 passed without it)."""
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        return contextlib.nullcontext()
    return pn.io.hold()


def session_scope(state: DashboardState) -> SessionScope:
    """The session's owner, created on first use; inside a server session it is released when the session ends."""
    scope = state.__dict__.get(_SESSION_ATTRIBUTE)
    if scope is None or scope.released:
        scope = SessionScope(state)
        state.__dict__[_SESSION_ATTRIBUTE] = scope
        release_on_session_end(state)
    return scope


def page_scope(state: DashboardState) -> Lifecycle:
    """The owner of the watchers of the page the session shows."""
    return session_scope(state).page()


def begin_page(state: DashboardState, follows_data: bool = False) -> Lifecycle:
    """Called by every page's ``build``: the previous page's views stop following and can be collected.

    ``follows_data``: every view of the new page follows a new dataset itself (through the
    session's ``HazardSelection``, or a watcher of their own on ``data_revision``), so a data
    revision does not rebuild it."""
    return session_scope(state).begin_page(follows_data)


def page_follows_data(state: DashboardState) -> bool:
    """Whether the page shown keeps its views across a data revision (``begin_page(follows_data=True)``)."""
    scope = state.__dict__.get(_SESSION_ATTRIBUTE)
    key = None if scope is None or scope.released else scope.shown_page_key()
    return key is not None and key == page_key(state, True)


def release_session(state: DashboardState) -> None:
    """Remove every watcher the session's views and objects registered, and drop its objects."""
    scope = state.__dict__.pop(_SESSION_ATTRIBUTE, None)
    if scope is not None:
        scope.release()


def release_on_session_end(state: DashboardState) -> None:
    """Release the session (``release_session``) when Panel destroys it; outside a server session, nothing.

    ``session_scope`` calls it when it creates a session's owner; calling it again is harmless."""
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        return
    reference = weakref.ref(state)

    def release(_session_context) -> None:
        state = reference()
        if state is not None:
            release_session(state)
        forget_panel_views(doc)

    pn.state.on_session_destroyed(release)


def forget_panel_views(doc) -> None:
    """Drop a destroyed document's entries from Panel's registry of rendered roots.

    Panel registers every root it renders in ``pn.state._views`` (ref → (view, model, document,
    comm)) and removes it in ``Viewable._server_destroy``, which knows only the documents that
    ``server_doc`` rendered. The notification area that ``server_doc`` adds to a document outside
    a template (the meeting screen) is rendered with ``get_root`` and never removed: its entry
    held the document and so the whole session, ~2 MB per meeting screen opened, for ever.
    A private Panel attribute: ``tests/test_server_limits.py`` fails loudly when it changes."""
    views = pn.state._views
    for ref in [ref for ref, entry in list(views.items()) if entry[2] is doc]:
        views.pop(ref, None)


class _NoSession:
    """What Panel's session-end hooks read of a session: its id and its document."""

    def __init__(self, doc) -> None:
        self.id, self._document = f"unserved-{id(doc)}", doc


def destroy_unserved_document(doc) -> None:
    """Release a document rendered without a server session, as the end of a session would.

    Panel keys its per-document caches (templates, stylesheets, notifications, locations) weakly
    by the document, but the cached objects hold it; a session's end clears them, and nothing
    else does. The landing page drawn once at start-up (``dashboards.app.warm_up``) thus stayed,
    with its views and the first dataset they showed, after every later data change (at province
    scale the process stayed 190 MB larger). Panel's private ``_destroy_session`` and
    ``_stylesheets``: ``tests/test_server_limits.py`` fails loudly when they change."""
    context = _NoSession(doc)
    for callback in [*doc.session_destroyed_callbacks, pn.state._destroy_session]:
        try:
            callback(context)
        except KeyError:  # a view registered twice (Panel's Location is) is gone after the first
            pass
    pn.state._stylesheets.pop(doc, None)
    # What ``Viewable._server_destroy`` does for the views that registered no session hook (the
    # process-wide notification area, drawn into this document outside a session).
    for view, root, entry_doc, _comm in list(pn.state._views.values()):
        documents = getattr(view, "_documents", None)
        if entry_doc is doc and isinstance(documents, dict) and documents.get(doc) is root:
            view._cleanup(root)
            del documents[doc]
    forget_panel_views(doc)


class PageView(pn.viewable.Viewer):
    """A view of one page of one session, over one snapshot.

    Its watchers on the session's (longer-lived) state and selection go through ``follow``,
    owned by the page's ``Lifecycle``: dropped when the page is rebuilt or the session ends.
    """

    state = param.ClassSelector(class_=DashboardState)
    snapshot = param.ClassSelector(class_=CampaignSnapshot)

    def __init__(self, **params):
        super().__init__(**params)
        self.lifecycle = page_scope(self.state)

    def follow(self, source: param.Parameterized, names: tuple[str, ...], callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever one of ``names`` of ``source`` changes, until the page is rebuilt."""
        self.lifecycle.follow(source, names, callback)

    def refreshed(self, render: Callable[[], pn.viewable.Viewable],
                  *follows: tuple[param.Parameterized, tuple[str, ...]]) -> pn.Column:
        """A box showing ``render()``, drawn again whenever a parameter of ``follows`` (``(source, names)``
        pairs) changes, until the page is rebuilt: what ``pn.panel`` of a ``param.depends`` method
        does, without leaving watchers on the state behind."""
        box = pn.Column(render(), sizing_mode="stretch_width")
        for source, names in follows:
            self.follow(source, names, lambda: setattr(box, "objects", [render()]))
        return box
