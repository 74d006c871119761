"""Every update of a notebook view reaches it, in the order it was made (``components/notebook.py``).

- After "Run All" a cell can change the filters before JupyterLab has drawn (and opened the comm of)
  the map's output. Panel retried each such message on its own timer, so a newer message could go
  before an older one and the view kept a superseded state.
- A message from the browser (a figure reporting its size) arriving between HoloViews' update of
  the map and its push discarded the update: the map kept its old figures after a filter change.
"""

from __future__ import annotations

import asyncio
import json
import sys

import panel as pn
import pytest
from bokeh.document import Document
from bokeh.document.events import ModelChangedEvent
from bokeh.models import Div
from bokeh.protocol import Protocol
from panel.io.model import add_to_doc
from panel.models.comm_manager import CommManager
from panel.viewable import MimeRenderMixin

import components.notebook as notebook


class FakeComm:
    """A pyviz comm whose frontend end opens when the test says (``_comm`` is set then)."""

    id = "fake-comm"

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


@pytest.fixture
def every_update_kept():
    """``keep_every_update`` for one test; the rest of this test process keeps Panel's own."""
    notebook.keep_every_update()
    yield
    for module in list(sys.modules.values()):
        if getattr(module, "push", None) is notebook.push_in_order:
            module.push = notebook._PANEL_PUSH
    MimeRenderMixin._on_msg = notebook._PANEL_ON_MSG


def test_panel_and_holoviews_push_in_order_after_setup(every_update_kept):
    # Loaded before the set-up, these are patched; loaded after, they import the patched push.
    import holoviews.plotting.plot  # noqa: F401  (imports Panel's push by name)
    import panel.pane.plot  # noqa: F401
    import panel.reactive  # noqa: F401

    for name in ("panel.io.notebook", "panel.reactive", "panel.pane.base", "panel.pane.plot", "holoviews.plotting.plot"):
        assert sys.modules[name].push is notebook.push_in_order, name
    assert pn.Column()._on_msg.__func__ is notebook._on_msg_after_pending_changes


def _browser_message(doc: Document, model, attr: str, value) -> dict:
    """A change made in the browser, as Panel's comm handler receives it."""
    message = Protocol().create("PATCH-DOC", [ModelChangedEvent(doc, model, attr, value)])
    return {"header": json.loads(message.header_json), "metadata": json.loads(message.metadata_json),
            "content": json.loads(message.content_json), "_buffers": {}}


def test_a_message_from_the_browser_does_not_discard_a_change_not_yet_sent(every_update_kept):
    comm = FakeComm()
    comm._comm = object()
    search, figure = pn.widgets.TextInput(value="a"), pn.pane.Markdown("0")
    view = pn.Column(search, figure)
    doc = Document()
    root = view.get_root(doc, comm)
    add_to_doc(root, doc, True)  # as Panel renders a notebook output: the document holds changes
    ref = root.ref["id"]
    # A change made and not yet pushed (HoloViews pushes once its whole update is done).
    figure._models[ref][0].text = "updated"
    # Meanwhile the browser sends a change of its own.
    view._on_msg(ref, CommManager(), _browser_message(doc, search._models[ref][0], "value", "b"))
    assert comm.texts == ["updated"]  # Panel's handler alone dropped it: []
    assert search.value == "b"
