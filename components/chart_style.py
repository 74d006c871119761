"""Chart settings every chart module shares.

matplotlib (the static backend of the exports) draws Chinese once this module is imported and
matplotlib is (``matplotlib_draws_chinese``): HoloViews chart definitions render with both
backends, and matplotlib's default font has no CJK glyphs. DejaVu Sans stays the fallback for
Latin text.

HoloViews' matplotlib backend is imported only where something is drawn with it (the exports,
``briefing/charts.py``): it cost a server ~1 s of its start-up and the memory of pyplot, for
charts only ever drawn with Bokeh there. Chart definitions set their matplotlib options through
``for_matplotlib``, which keeps them whenever the backend is loaded. HoloViews' Bokeh backend
(which imports matplotlib's colour maps) is loaded by the modules that define HoloViews charts
(``bokeh_backend``): the landing page draws none, so a server loads it after its first page.
"""

import numbers
import sys

CJK_FONT = "Noto Sans CJK SC"  # Debian's fonts-noto-cjk, installed by scripts/setup.sh


def matplotlib_draws_chinese() -> None:
    """Put the CJK font first in matplotlib's sans-serif list (once) and draw minus signs as ASCII."""
    import matplotlib

    fonts = list(matplotlib.rcParams["font.sans-serif"])
    if fonts[:1] != [CJK_FONT]:
        matplotlib.rcParams["font.sans-serif"] = [CJK_FONT, *(font for font in fonts if font != CJK_FONT)]
    matplotlib.rcParams["axes.unicode_minus"] = False


if "matplotlib" in sys.modules:  # already loaded (an export, a notebook): it draws Chinese from now on
    matplotlib_draws_chinese()


def bokeh_backend() -> None:
    """Load HoloViews' Bokeh backend (chart options can only be set for a loaded backend), its charts
    drawn on a canvas, not with WebGL (HoloViews' default): the charts here hold at most a few
    hundred glyphs, where a canvas is as fast; a browser allows a page only about 16 WebGL
    contexts; and a browser without a GPU (the meeting-room PC, headless Chromium) paints WebGL
    in software, ~0.1 s per page at province scale. Importing it costs ~0.4 s the first time."""
    from holoviews.plotting.bokeh import BokehRenderer

    BokehRenderer.webgl = False


# Charts of units list one unit a row, this many pixels each: a name stays readable at province
# scale (100 units), and the chart grows with the units (a page scrolls it within a box).
ROW_PX = 18
ROWS_PADDING_PX = 120  # a title, a toolbar, the value axis


def rows_height(rows: int, minimum: int) -> int:
    """The height of a chart with ``rows`` categories down the side: ``ROW_PX`` each, at least ``minimum``."""
    return max(minimum, rows * ROW_PX + ROWS_PADDING_PX)


def bar_colours(colour):
    """A matplotlib hook colouring each bar of a one-dimensional ``hv.Bars`` by ``colour`` (a value
    dimension's name or an ``hv.dim`` expression), as Bokeh does: HoloViews' matplotlib backend draws
    all such bars in the colour of the first."""

    def hook(plot, element) -> None:
        values = colour.apply(element) if hasattr(colour, "apply") else element.dimension_values(colour)
        by_category: dict = {}
        for category, value in zip(element.dimension_values(0), values):
            by_category.setdefault(category, value)
        patches = [patch for container in plot.handles.get("artist", []) for patch in container.patches]
        for patch, value in zip(patches, by_category.values()):
            patch.set_facecolor(value)

    return hook


# ---------------------------------------------------------------- numbers on axes, colour bars and hovers
#
# Bokeh's default tick formatter switches to scientific notation past 10^5 (a status chart at
# province scale read "1.000e+5") and its tooltips print a non-integer past 1,000 as "1.736e+3";
# matplotlib's switches past 10^6. Every chart shows whole numbers with thousands separators
# (100,000) and at most two decimals, through these hooks: they run each time a plot is drawn,
# so each plot gets formatter models of its own (a Bokeh model belongs to one document).

NUMERAL_FORMAT = "0,0.[00]"  # Bokeh's numeral.js: 100,000 · 0.5 · 1,736.2


def format_number(value: float, _position=None) -> str:
    """A number as an axis or a colour bar shows it: thousands separators, at most two decimals, never "1e+05"."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _numeric_columns(renderers) -> set[str]:
    columns: set[str] = set()
    for renderer in renderers:
        source = getattr(renderer, "data_source", None)
        for name, values in (getattr(source, "data", None) or {}).items():
            kind = getattr(getattr(values, "dtype", None), "kind", None)
            if kind is None and len(values) and all(isinstance(v, numbers.Number) and not isinstance(v, bool)
                                                    for v in values[:50]):
                kind = "f"
            if kind in ("i", "u", "f"):
                columns.add(name)
    return columns


def _formatted_field(spec: str, numeric: set[str]) -> str:
    """``@{column}`` / ``@column`` of a numeric column with the numeral format; anything else as it is."""
    if not isinstance(spec, str) or not spec.startswith("@") or spec.endswith("}") and "{" in spec[2:]:
        return spec
    name = spec[2:-1] if spec.startswith("@{") and spec.endswith("}") else spec[1:]
    if name in numeric and name.replace("_", "").isalnum():
        return f"@{{{name}}}{{{NUMERAL_FORMAT}}}"
    return spec


def bokeh_readable_numbers(plot, element=None) -> None:
    """A HoloViews Bokeh hook: every numeric axis and colour bar in thousands (100,000), hover values too."""
    from bokeh.models import Axis, BasicTickFormatter, CategoricalAxis, ColorBar, HoverTool, NumeralTickFormatter

    figure = plot.state
    for axis in figure.select(type=Axis):
        if not isinstance(axis, CategoricalAxis) and isinstance(axis.formatter, BasicTickFormatter):
            axis.formatter = NumeralTickFormatter(format=NUMERAL_FORMAT)
    for bar in figure.select(type=ColorBar):
        if bar.formatter is None or bar.formatter == "auto" or isinstance(bar.formatter, BasicTickFormatter):
            bar.formatter = NumeralTickFormatter(format=NUMERAL_FORMAT)
    for hover in figure.select(type=HoverTool):
        if isinstance(hover.tooltips, list):
            renderers = hover.renderers if isinstance(hover.renderers, list) else figure.renderers
            numeric = _numeric_columns(renderers)
            hover.tooltips = [(label, _formatted_field(spec, numeric)) for label, spec in hover.tooltips]


def mpl_readable_numbers(plot, element=None) -> None:
    """A HoloViews matplotlib hook: every numeric axis of the figure (colour bars too) in thousands."""
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    for axes in plot.state.axes:
        for axis in (axes.xaxis, axes.yaxis):
            if isinstance(axis.get_major_formatter(), ScalarFormatter):
                axis.set_major_formatter(FuncFormatter(format_number))


def readable_numbers(element):
    """``element`` with ``bokeh_readable_numbers`` and ``mpl_readable_numbers`` (matplotlib loaded) added to its hooks."""
    for backend, hook in (("bokeh", bokeh_readable_numbers), ("matplotlib", mpl_readable_numbers)):
        if backend == "matplotlib" and not matplotlib_loaded():
            continue
        hooks = list(element.opts.get("plot", backend=backend).kwargs.get("hooks", []))
        if hook not in hooks:
            element = element.opts(hooks=[*hooks, hook], backend=backend)
    return element


def configure_screen_charts() -> None:
    """Settings for views drawn on screen, called once by the server and by notebooks.

    Panel asks every object it wraps whether it is a matplotlib figure, and for that imports
    ``matplotlib.figure`` (~0.3 s of a server's start-up, its font manager) as soon as matplotlib
    is loaded, which HoloViews' Bokeh styles do. No object is a figure before that module is
    imported, so the question waits until something imports it (an export)."""
    import panel as pn

    matplotlib_pane = pn.pane.Matplotlib
    if getattr(matplotlib_pane.applies, "_hazardboard_lazy", False):
        return
    original = matplotlib_pane.applies.__func__

    def applies(cls, obj):
        return "matplotlib.figure" in sys.modules and original(cls, obj)

    applies._hazardboard_lazy = True
    matplotlib_pane.applies = classmethod(applies)


def matplotlib_loaded() -> bool:
    """Whether HoloViews' matplotlib backend is imported, completely: HoloViews keeps a backend's
    options only once it is, and one being imported by another thread (the export warm-up) is not."""
    module = sys.modules.get("holoviews.plotting.mpl")
    return module is not None and not getattr(getattr(module, "__spec__", None), "_initializing", False)


def for_matplotlib(element, **options):
    """``element.opts(**options, backend="matplotlib")`` once that backend is loaded; before, ``element``
    (nothing draws it with matplotlib then: whatever exports loads the backend first)."""
    if not matplotlib_loaded():
        return element
    matplotlib_draws_chinese()
    return element.opts(**options, backend="matplotlib")


# A chart of units taller than this scrolls within a box of this height on a page, so the page
# goes on below it (a 1600×1000 screen shows the box and what follows).
SCROLL_MAX_PX = 640


def scrolled(viewable, css_class: str = "hb-unit-chart-scroll", max_height: int = SCROLL_MAX_PX):
    """``viewable`` in a box that scrolls past ``max_height`` pixels (its own height below that)."""
    import panel as pn

    return pn.Column(viewable, scroll=True, sizing_mode="stretch_width", styles={"max-height": f"{max_height}px"},
                     css_classes=[css_class], margin=0)
