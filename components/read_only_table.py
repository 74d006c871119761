"""A Tabulator the browser can page, sort and click, but never write to.

Every table in the app is read-only, yet Panel still accepts a ``data`` change coming back from the
browser and writes it into the table's frame. In a notebook (Panel over a Jupyter comm) the browser
sends the table's own rows back after a filter change; when the filter has already replaced the rows,
that stale copy no longer fits the new frame and Panel raises ("Must have equal len keys and value",
"… not in index"). The exception escapes Bokeh's flush of the held changes, so the changes queued
after it, such as the county map's new figures, never reach the browser: the map stops following
the filters. A read-only table has nothing to take from the browser's rows, so they are ignored.
"""

from __future__ import annotations

import panel as pn


class ReadOnlyTable(pn.widgets.Tabulator):
    """``pn.widgets.Tabulator`` with editing disabled and the browser's copy of the rows ignored."""

    def __init__(self, value=None, **params):
        params["disabled"] = True
        super().__init__(value, **params)

    def _process_events(self, events: dict) -> None:
        # Paging, sorting, selection and clicks still come through; the rows never do.
        events.pop("data", None)
        if events:
            super()._process_events(events)
