"""A notebook view's updates arrive in the order they were made, also before its comm opens.

After "Run All" a cell can change the filters before JupyterLab has drawn (and opened the comm of)
the map's output. Panel retries each such message on its own timer, so a newer message could go
before an older one and the map kept a superseded figure (``components/notebook.py``).
"""

from __future__ import annotations

import asyncio
import json
import sys

from bokeh.document import Document
from bokeh.models import Div

import components.notebook as notebook


class FakeComm:
    """A pyviz comm whose frontend end opens when the test says (``_comm`` is set then)."""

    def __init__(self):
        self._comm = None
        self.texts: list[str] = []

    def send(self, data=None, metadata=None, buffers=()):
        content = json.loads(data) if isinstance(data, str) else {}
        for event in content.get("events", []) if isinstance(content, dict) else []:
            if event.get("attr") == "text":
                self.texts.append(event["new"])


def _notebook_view() -> tuple[Document, Div]:
    """A view as Panel renders it in a notebook: its document holds every change until pushed."""
    doc, div = Document(), Div(text="0")
    doc.add_root(div)
    doc.hold()
    return doc, div


def test_messages_made_before_the_comm_opens_arrive_in_order_and_later_ones_wait_behind_them():
    async def scenario() -> FakeComm:
        doc, div = _notebook_view()
        comm = FakeComm()
        div.text = "1"
        notebook.push_in_order(doc, comm)
        await asyncio.sleep(0.05)  # the kernel is busy between two updates
        div.text = "2"
        notebook.push_in_order(doc, comm)
        comm._comm = object()  # JupyterLab draws the output and opens the comm
        div.text = "3"
        notebook.push_in_order(doc, comm)  # Panel's push sent this one at once, before "1" and "2"
        assert comm.texts == []
        await asyncio.sleep(notebook.RETRY_S * 3)
        assert comm.texts == ["1", "2", "3"]
        div.text = "4"
        notebook.push_in_order(doc, comm)  # nothing waiting: sent straight away
        assert comm.texts == ["1", "2", "3", "4"]
        return comm

    asyncio.run(scenario())
    assert notebook._WAITING == {}


def test_a_comm_that_stays_closed_keeps_its_messages_until_it_opens():
    async def scenario() -> FakeComm:
        doc, div = _notebook_view()
        comm = FakeComm()
        for text in ("a", "b"):
            div.text = text
            notebook.push_in_order(doc, comm)
        await asyncio.sleep(notebook.RETRY_S * 4)
        assert comm.texts == []
        comm._comm = object()
        await asyncio.sleep(notebook.RETRY_S * 2)
        return comm

    assert asyncio.run(scenario()).texts == ["a", "b"]


def test_no_change_no_message():
    doc, _div = _notebook_view()
    comm = FakeComm()
    comm._comm = object()
    notebook.push_in_order(doc, comm)
    assert comm.texts == [] and comm not in notebook._WAITING


def test_panel_and_holoviews_push_in_order_after_setup():
    import holoviews.plotting.plot  # noqa: F401  (imports Panel's push by name)
    import panel.pane.plot  # noqa: F401
    import panel.reactive  # noqa: F401

    names = ("panel.io.notebook", "panel.reactive", "panel.pane.base", "panel.pane.plot", "holoviews.plotting.plot")
    assert all(sys.modules[name].push is notebook._PANEL_PUSH for name in names)
    try:
        notebook.keep_pushes_in_order()
        for name in names:
            assert sys.modules[name].push is notebook.push_in_order, name
    finally:  # the rest of this test process keeps Panel's own
        for module in list(sys.modules.values()):
            if getattr(module, "push", None) is notebook.push_in_order:
                module.push = notebook._PANEL_PUSH
