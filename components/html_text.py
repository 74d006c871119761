"""The one path by which text reaches HTML: whatever an official typed into a workbook, a URL
carries or a user entered is shown as text, never run as markup.

Every ``pn.pane.HTML`` and ``pn.pane.Markdown`` the app builds from values goes through
``text()`` (Tabulator and Bokeh's hover fields escape on their own). Markdown renders raw HTML, so
it needs the same escaping as HTML.
"""

from __future__ import annotations

import html
import math

__all__ = ["choice_options", "text"]


def text(value: object) -> str:
    """``value`` as HTML-safe text ("" for None or NaN); quotes are escaped too, for attributes."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def choice_options(values) -> dict[str, str]:
    """Options for a ``MultiChoice`` whose values are data (unit names): Bokeh's MultiChoice
    (Choices.js) renders option labels as HTML, so each label is the escaped value."""
    return {text(value): value for value in values}
