"""The notebook's set-up: every script and stylesheet from this machine, none from a CDN.

In a notebook Panel and Bokeh load their JavaScript and CSS from the HoloViz and Bokeh CDNs
unless told otherwise; on an office intranet the views then render as empty outputs (issue 9).
``setup_notebook()`` is the first cell's one line:

- ``inline=True`` (``pn.config.inline``, documented: "Whether to inline JS and CSS resources")
  writes Bokeh, Panel, the Tabulator script and es-module-shims into the notebook, and replaces
  the stylesheets a view is first drawn with (Tabulator's theme, Panel's design) by inline copies;
- but a pane that changes later (a KPI card after a filter change) is sent again with all of
  its properties, its stylesheets as CDN links: Panel inlines only the models it creates. After
  each cell, every notebook view's document is therefore given Panel's ``dist_url`` (the one a
  served app gets), the copy of Panel's files that Panel's own Jupyter server extension serves
  under ``/panel-preview/static/extensions/panel/`` (enabled when Panel is installed next to
  JupyterLab, as ``scripts/setup.sh --lab`` does), and Panel rewrites those links to it.

The documents are found in Panel's registry of rendered roots (``pn.state._views``, private, as
in ``components/page_view.py``); ``tests/browser/test_jupyterlab.py`` fails if any request
leaves the machine.

Every update reaches a view, in the order it was made (``keep_every_update``). Panel sends a view's
changes over its comm, which JupyterLab opens only once the output is drawn. Until then Panel
retries each message on its own 0.1 s timer, and a message made once the comm is open goes at
once: after "Run All" (a cell changing the filters before the map's output is drawn) a view can
receive an older state after a newer one and keep it (three updates made around the comm's
opening arrive as 3, 1, 2 with Panel 1.9's ``push``). Messages for a comm not yet open now wait in
one queue per comm, and a message made while older ones wait goes behind them.

And a message from the browser no longer discards the view's changes not yet sent. Panel applies
such a message (a figure reporting its new size after a redraw, say) between ``doc.hold()`` and
``doc.unhold()``; in a notebook ``unhold`` hands the held changes to nobody, so a change HoloViews
had made and not yet pushed was lost: the map kept its old figures after a filter change (one
cause of the JupyterLab test's intermittent failure; a rarer one is not found yet). The view's
pending changes are now sent first.
"""

from __future__ import annotations

import os
import sys
from collections import deque

import holoviews as hv
import panel as pn
import panel.io.notebook
from panel.io.model import diff
from panel.viewable import MimeRenderMixin
from tornado.ioloop import IOLoop

from components.chart_style import bokeh_backend, configure_screen_charts

# Served by panel.io.jupyter_server_extension (a MultiRootStaticHandler over Panel's dist folder).
PANEL_FILES_PATH = "panel-preview/static/extensions/panel/"


def local_dist_url() -> str:
    """Where the Jupyter server serves Panel's files: its base URL (JupyterHub's prefix, else /) + the path."""
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    return f"{prefix.rstrip('/')}/{PANEL_FILES_PATH}"


def _documents_use_local_files(_result=None) -> None:
    """Give each notebook view's document Panel's local ``dist_url`` (IPython's post_run_cell event)."""
    dist_url = local_dist_url()
    for _view, _root, document, _comm in list(pn.state._views.values()):
        if document is not None:
            document.template_variables.setdefault("dist_url", dist_url)


# Panel retries a message for a comm not yet open every 0.1 s; the queue is tried as often.
RETRY_S = 0.1
_PANEL_PUSH = panel.io.notebook.push
# comm → the messages waiting for it, oldest first (the entry goes once its queue is sent).
_WAITING: dict = {}


def push_in_order(doc, comm, binary: bool = True, msg=None) -> None:
    """Panel's ``push`` (same arguments), but a comm's messages leave in the order they were made."""
    if msg is None:
        msg = diff(doc, binary=binary)
    if msg is None:
        return
    waiting = _WAITING.get(comm)
    if waiting is None and comm._comm:
        panel.io.notebook.send(comm, msg)
        return
    if waiting is None:
        waiting = _WAITING[comm] = deque()
        IOLoop.current().call_later(RETRY_S, _send_waiting, comm)
    waiting.append(msg)


def _send_waiting(comm) -> None:
    if not comm._comm:
        IOLoop.current().call_later(RETRY_S, _send_waiting, comm)
        return
    waiting = _WAITING.pop(comm)
    while waiting:
        panel.io.notebook.send(comm, waiting.popleft())


_PANEL_ON_MSG = MimeRenderMixin._on_msg


def _on_msg_after_pending_changes(self, ref: str, manager, msg) -> None:
    """Panel's handler of a message from a view's browser side, once the view's unsent changes are sent."""
    _view, _root, doc, comm = pn.state._views.get(ref, (None, None, None, None))
    if comm is not None:
        push_in_order(doc, comm)
    _PANEL_ON_MSG(self, ref, manager, msg)


def keep_every_update() -> None:
    """Every module that imported Panel's ``push`` (Panel's panes and widgets, HoloViews' plots) uses
    ``push_in_order``, and a view's changes are sent before a message from its browser side is applied.

    The handler serves the views rendered afterwards (Panel binds it at render)."""
    for module in list(sys.modules.values()):
        if getattr(module, "push", None) is _PANEL_PUSH:
            module.push = push_in_order
    MimeRenderMixin._on_msg = _on_msg_after_pending_changes


def setup_notebook(*extensions: str) -> None:
    """Load HoloViews (Bokeh) and Panel with ``extensions`` (e.g. ``"tabulator"``), nothing from the internet."""
    hv.extension("bokeh", logo=False, inline=True)
    pn.extension(*extensions, inline=True)
    bokeh_backend()
    configure_screen_charts()
    keep_every_update()
    from IPython import get_ipython  # ipykernel's: present wherever a notebook runs

    shell = get_ipython()
    if shell is not None and _documents_use_local_files not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _documents_use_local_files)
