"""Chart settings every chart module shares.

Importing this module makes matplotlib (the static backend of the exports) draw Chinese:
HoloViews chart definitions render with both backends, and matplotlib's default font
has no CJK glyphs. DejaVu Sans stays the fallback for Latin text.
"""

import matplotlib

CJK_FONT = "Noto Sans CJK SC"  # Debian's fonts-noto-cjk, installed by scripts/setup.sh

matplotlib.rcParams["font.sans-serif"] = [CJK_FONT, *matplotlib.rcParams["font.sans-serif"]]
matplotlib.rcParams["axes.unicode_minus"] = False
