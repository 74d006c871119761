"""The one path by which text reaches HTML: whatever an official typed into a workbook, a URL
carries or a user entered is shown as text, never run as markup.

Every ``pn.pane.HTML`` and ``pn.pane.Markdown`` the app builds from values goes through
``text()`` (Tabulator and Bokeh's hover fields escape on their own). Markdown renders raw HTML, so
it needs the same escaping as HTML.
"""

from __future__ import annotations

import functools
import html
import math

__all__ = ["choice_options", "markdown_html", "text"]


def text(value: object) -> str:
    """``value`` as HTML-safe text ("" for None or NaN); quotes are escaped too, for attributes."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def choice_options(values) -> dict[str, str]:
    """Options for a ``MultiChoice`` whose values are data (unit names): Bokeh's MultiChoice
    (Choices.js) renders option labels as HTML, so each label is the escaped value."""
    return {text(value): value for value in values}


# What an officer's Markdown may become: text formatting, lists, quotes, code, tables and links.
_MARKDOWN_TAGS = {"p", "br", "hr", "em", "strong", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li",
                  "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td"}
_MARKDOWN_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}


@functools.cache
def _markdown():
    from markdown_it import MarkdownIt

    # "commonmark" with raw HTML off: a <script> typed in a note is text; tables and ~~strike~~ on.
    renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])
    # Only web links: javascript:, data:, vbscript:, file: ... are not links (their text stays).
    renderer.validateLink = lambda url: url.strip().lower().startswith(("http://", "https://"))
    return renderer


def markdown_html(source: object) -> str:
    """An officer's Markdown (an annotation) as safe HTML: rendered with raw HTML disabled (typed
    tags come out as text), links only to http/https, then sanitised by nh3 (an allow-list of tags
    and attributes; links get ``rel="noopener noreferrer"`` and open in a new tab)."""
    if source is None or (isinstance(source, float) and math.isnan(source)):
        return ""
    rendered = _markdown().render(str(source))
    import nh3

    return nh3.clean(rendered, tags=_MARKDOWN_TAGS, attributes=_MARKDOWN_ATTRIBUTES, url_schemes={"http", "https"},
                     link_rel="noopener noreferrer", set_tag_attribute_values={"a": {"target": "_blank"}})
