"""The exploration notebook runs top to bottom on the sample campaign."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore_sample_campaign.ipynb"


def test_notebook_executes_without_errors():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    texts = " ".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "'unique'" not in texts  # the summary cell shows values, not keys
    assert "Figure" in texts  # the chart rendered with matplotlib
    # An annotation was added and resolved (history: created, resolved), and a pack was built with it.
    assert "resolved" in texts and "已督办" in texts
    streams = " ".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    for suffix in (".docx", ".pdf", ".xlsx", ".pptx", ".png"):
        assert suffix in streams
    assert "截至8月底" in streams  # the briefing's headline
    # The views carry their stylesheets inline, no CDN link (issue 9; the browser test checks every request).
    html = " ".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "cdn.holoviz.org" not in html and "cdn.bokeh.org" not in html
