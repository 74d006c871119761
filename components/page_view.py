"""The base of the views that live on one page of one session."""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
import param

from components.data import CampaignSnapshot
from components.state import DashboardState

PAGE_REBUILD_PARAMS = ("page", "lang", "data_revision")


class PageView(pn.viewable.Viewer):
    """A view of one page of one session, over one snapshot.

    It registers its watchers on the session's (longer-lived) state through
    ``follow`` and drops them when the page is rebuilt, so views of a replaced page
    neither recompute nor stay in memory.
    """

    state = param.ClassSelector(class_=DashboardState)
    snapshot = param.ClassSelector(class_=CampaignSnapshot)

    def __init__(self, **params):
        super().__init__(**params)
        self._watchers = [self.state.param.watch(self._stop_following, list(PAGE_REBUILD_PARAMS))]

    def follow(self, source: param.Parameterized, names: tuple[str, ...], callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever one of ``names`` of ``source`` changes, until the page is rebuilt."""
        self._watchers.append(source.param.watch(lambda *_events: callback(), list(names)))

    def _stop_following(self, *_events) -> None:
        for watcher in self._watchers:
            watcher.inst.param.unwatch(watcher)
        self._watchers = []
