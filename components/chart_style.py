"""Chart settings every chart module shares.

Importing this module makes matplotlib (the static backend of the exports) draw Chinese:
HoloViews chart definitions render with both backends, and matplotlib's default font
has no CJK glyphs. DejaVu Sans stays the fallback for Latin text.
"""

import matplotlib

CJK_FONT = "Noto Sans CJK SC"  # Debian's fonts-noto-cjk, installed by scripts/setup.sh

matplotlib.rcParams["font.sans-serif"] = [CJK_FONT, *matplotlib.rcParams["font.sans-serif"]]
matplotlib.rcParams["axes.unicode_minus"] = False


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
