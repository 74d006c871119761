"""The exploration notebook in a real JupyterLab, on a machine without internet (issue 9).

A JupyterLab on loopback (a free port, no token, its own config, data, runtime and IPython
folders in a temp dir) opens a temp copy of ``notebooks/explore_sample_campaign.ipynb`` in
Debian's chromium; the test runs every cell from the Run menu, then checks that the KPI cards,
the county map and the tables are drawn, that a filter widget redraws the cards and the map, and
that no request left the machine: in a notebook Panel loads Bokeh, Panel, Tabulator's CSS and
es-module-shims from the HoloViz CDN unless told to inline them, and on an office intranet those
views stay empty. Every request URL the page makes is recorded and must be on loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
PlaywrightTimeout = playwright_api.TimeoutError
expect = playwright_api.expect

from tests.browser.conftest import ARTIFACTS, ROOT, free_port, screenshot, stop_server

pytestmark = pytest.mark.slow

NOTEBOOK = ROOT / "notebooks" / "explore_sample_campaign.ipynb"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
LAB_START_TIMEOUT_S = 60
RUN_ALL_TIMEOUT_MS = 120_000
# Chromium-internal schemes: never a network request.
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-extension", "devtools"}
# Console errors that say a resource did not load (the CDN symptom).
FAILED_LOAD = ("Failed to load", "ERR_", "net::", "Failed to fetch", "Could not load", "failed to load")


def _start_lab(workdir: Path, port: int) -> subprocess.Popen:
    home = workdir / "jupyter"
    env = {
        **os.environ,
        # Nothing of the user's Jupyter or IPython settings is read or written.
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={workdir}", "--IdentityProvider.token=", "--ServerApp.password=",
        # No news and no update check (the lab would ask the internet for both).
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "jupyterlab.log", "w")
    process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + LAB_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}: see {ARTIFACTS / 'jupyterlab.log'}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    stop_server(process)
    raise TimeoutError(f"jupyter lab did not answer on {port} within {LAB_START_TIMEOUT_S}s")


def _off_machine(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme not in LOCAL_SCHEMES and parts.hostname not in LOOPBACK


def _cell(page, source_text: str):
    """The notebook cell whose source contains ``source_text``."""
    return page.locator(".jp-Notebook .jp-CodeCell").filter(
        has=page.locator(".jp-InputArea", has_text=source_text))


def _laid_out_box(locator, timeout_s: float = 20):
    """The element's box once laid out with height, or the last box seen (None if never visible).

    Tabulator replaces its rows when its data arrives after the first render, and the notebook
    skips laying out cells scrolled out of view: between ``wait_for`` and a measurement the first
    row may be a new element not yet laid out, so the measurement is retried, scrolled into view.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            locator.scroll_into_view_if_needed(timeout=2_000)
            box = locator.bounding_box(timeout=2_000)
        except PlaywrightTimeout:
            box = None
        if (box and box["height"] > 10) or time.monotonic() > deadline:
            return box
        time.sleep(0.2)


# Bokeh's documents in the page: the county choropleth's data (the figure text of each county).
MAP_DATA_JS = """() => {
  const texts = [];
  for (const doc of (window.Bokeh ? Bokeh.documents : [])) {
    for (const model of doc.all_models) {
      const data = model.data;
      if (data && data.value_text && data.county) texts.push(Array.from(data.value_text).join('|'));
    }
  }
  return texts.join('/');
}"""


def test_notebook_runs_in_jupyterlab_with_every_resource_local(browser, tmp_path):
    workdir = tmp_path / "lab"
    workdir.mkdir()
    shutil.copy(NOTEBOOK, workdir / NOTEBOOK.name)
    port = free_port()
    started = time.monotonic()
    lab = _start_lab(workdir, port)
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
    passed = False
    try:
        requests: list[str] = []
        failed_loads: list[str] = []
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.on("websocket", lambda socket: requests.append(socket.url))
        page.on("requestfailed", lambda request: failed_loads.append(f"{request.url} {request.failure}"))
        page.on("console", lambda message: failed_loads.append(message.text)
                if message.type == "error" and any(f in message.text for f in FAILED_LOAD) else None)
        # Panel reports an exception raised in the kernel by a widget's message as a console warning.
        kernel_errors: list[str] = []
        page.on("console", lambda message: kernel_errors.append(message.text)
                if "Python failed with the following traceback" in message.text else None)
        page.set_default_timeout(30_000)

        try:
            page.goto(f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK.name}?reset")
            page.locator(".jp-Notebook .jp-CodeCell").first.wait_for()
            # JupyterLab may ask which kernel to use (Python 3 is preselected): accept it.
            kernel_dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
            try:
                kernel_dialog.wait_for(timeout=5_000)
                kernel_dialog.locator(".jp-mod-accept").click()
            except PlaywrightTimeout:
                pass
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=60_000)

            # Run → Run All Cells, as a user does.
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            # Every code cell has run ([n] in its prompt, none waiting with [*]) and the kernel is idle.
            page.wait_for_function("""() => {
              const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
              return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            }""", timeout=RUN_ALL_TIMEOUT_MS)
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=60_000)
            ran = time.monotonic()
            assert page.locator(".jp-Notebook .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                                ).filter(has_text="Traceback").count() == 0
            assert page.locator(".jp-Notebook .jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").count() == 0

            # The KPI cards: eight figures.
            cards = _cell(page, "KpiCards(")
            found = cards.locator(".hb-kpi-found .hb-kpi-value")
            found.wait_for()
            assert cards.locator(".hb-kpi-value").count() == 8
            # The county map: a Bokeh canvas of real size, with the counties' figures in its data.
            map_cell = _cell(page, "CountyMap(")
            canvas = map_cell.locator(".hb-map canvas").first
            canvas.wait_for()
            box = _laid_out_box(canvas)
            assert box and box["width"] > 200 and box["height"] > 200, box
            page.wait_for_function(f"() => ({MAP_DATA_JS})().length > 0")
            # The tables: the map's functional zones and the hazards, rows drawn (Tabulator's CSS applied:
            # rows are laid out with height).
            zone_rows = map_cell.locator(".hb-map-zones .tabulator-row")
            zone_rows.first.wait_for()
            assert zone_rows.count() >= 3
            hazard_rows = _cell(page, "HazardTable(").locator(".hb-hazard-table .tabulator-row")
            hazard_rows.first.wait_for()
            row_box = _laid_out_box(hazard_rows.first)
            assert row_box and row_box["height"] > 10, row_box

            # A filter widget redraws the views: pick a sector in the filter panel.
            overdue_detail = cards.locator(".hb-kpi-overdue .hb-kpi-detail")
            detail_before, map_before = overdue_detail.inner_text(), page.evaluate(MAP_DATA_JS)
            sectors = _cell(page, "FilterPanel(").locator(".hb-filter-sectors")
            # Choices.js: focusing its input opens the list with the first sector highlighted; Enter picks it.
            sectors.locator("input.choices__input--cloned").click()
            page.keyboard.press("Enter")
            expect(sectors.locator(".choices__list--multiple .choices__item")).to_have_count(1)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and (overdue_detail.inner_text() == detail_before
                                                   or page.evaluate(MAP_DATA_JS) == map_before):
                page.wait_for_timeout(200)
            assert overdue_detail.inner_text() != detail_before, "the KPI cards did not follow the sector filter"
            assert page.evaluate(MAP_DATA_JS) != map_before, "the map did not follow the sector filter"
            screenshot(page, "jupyterlab-notebook")
        except Exception as error:
            # An empty view is the symptom; a request off the machine is the cause: name it first.
            off_machine = sorted({url for url in requests if _off_machine(url)})
            if off_machine:
                raise AssertionError(f"requests off loopback: {off_machine[:10]}; then: {error}") from error
            raise
        # Nothing left the machine, and nothing failed to load.
        off_machine = sorted({url for url in requests if _off_machine(url)})
        assert not off_machine, f"requests off loopback: {off_machine[:10]}"
        assert not failed_loads, failed_loads[:10]
        assert not kernel_errors, kernel_errors[:3]
        passed = True
        print(f"jupyterlab: started+opened {ran - started:.1f}s (run all included), total {time.monotonic() - started:.1f}s, "
              f"{len(requests)} requests")
    finally:
        if not passed and context.pages:
            screenshot(context.pages[0], "FAILED-jupyterlab-notebook")
        context.close()
        stop_server(lab)
