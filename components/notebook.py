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
"""

from __future__ import annotations

import os

import holoviews as hv
import panel as pn

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


def setup_notebook(*extensions: str) -> None:
    """Load HoloViews (Bokeh) and Panel with ``extensions`` (e.g. ``"tabulator"``), nothing from the internet."""
    hv.extension("bokeh", logo=False, inline=True)
    pn.extension(*extensions, inline=True)
    bokeh_backend()
    configure_screen_charts()
    from IPython import get_ipython  # ipykernel's: present wherever a notebook runs

    shell = get_ipython()
    if shell is not None and _documents_use_local_files not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _documents_use_local_files)
