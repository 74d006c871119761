"""The CJK TrueType fonts of the PDFs, registered with ReportLab once per process.

Usage::

    from briefing.fonts import register_fonts

    fonts = register_fonts()          # idempotent, cheap after the first call
    style = ParagraphStyle("body", fontName=fonts.body, wordWrap="CJK")
    title = ParagraphStyle("title", fontName=fonts.heading, wordWrap="CJK")

``fonts.body`` is AR PL UMing CN (a Song face) for running text and values; ``fonts.heading`` is
WenQuanYi Micro Hei (a Hei face) for titles and labels. ReportLab embeds TrueType fonts as subsets,
so a PDF carries only the glyphs it uses (check with ``pdffonts``: emb=yes, sub=yes). Characters the
face lacks print as an empty box, never as another text.

Each file is looked for at its Debian path, then through ``fc-match``; when neither finds it,
:class:`FontMissingError` says in Chinese which Debian package to install.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

__all__ = ["FontMissingError", "FontNames", "register_fonts"]


@dataclass(frozen=True)
class FontNames:
    """ReportLab font names to put in a ``ParagraphStyle.fontName`` or ``canvas.setFont``."""

    body: str      # AR PL UMing CN (Song)
    heading: str   # WenQuanYi Micro Hei (Hei)


class FontMissingError(RuntimeError):
    """A CJK font file is not installed or unreadable; ``str(error)`` (Chinese) names the Debian package."""


@dataclass(frozen=True)
class _Face:
    name: str            # the ReportLab name it is registered under
    family: str          # the fontconfig family, for fc-match
    postscript: str      # the face's PostScript name, which picks it inside a .ttc collection
    paths: tuple[str, ...]
    package: str         # the Debian package that installs it


_BODY = _Face("HazardboardSong", "AR PL UMing CN", "UMingCN",
              ("/usr/share/fonts/truetype/arphic/uming.ttc",), "fonts-arphic-uming")
_HEADING = _Face("HazardboardHei", "WenQuanYi Micro Hei", "WenQuanYiMicroHei",
                 ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",), "fonts-wqy-microhei")

_lock = threading.Lock()
_registered: FontNames | None = None


def register_fonts() -> FontNames:
    """Register the body and heading faces with ReportLab (once per process) and return their names.

    Raises :class:`FontMissingError` when a font file cannot be found or read."""
    global _registered
    with _lock:
        if _registered is None:
            for face in (_BODY, _HEADING):
                if face.name not in pdfmetrics.getRegisteredFontNames():
                    pdfmetrics.registerFont(_load(face))
            _registered = FontNames(body=_BODY.name, heading=_HEADING.name)
        return _registered


def _load(face: _Face) -> TTFont:
    path = _find(face)
    if path is None:
        raise FontMissingError(f"找不到字体“{face.family}”，无法生成 PDF。请安装 Debian 软件包 {face.package}"
                               f"（sudo apt-get install {face.package}，或运行 scripts/setup.sh）。")
    try:
        # A collection (.ttc) holds several faces: pick ours by its PostScript name.
        subfont = face.postscript if path.suffix.lower() == ".ttc" else 0
        return TTFont(face.name, str(path), subfontIndex=subfont)
    except (TTFError, ValueError, OSError) as error:
        raise FontMissingError(f"字体文件 {path} 无法读取（{error}）。请重新安装 Debian 软件包 {face.package}。") from error


def _find(face: _Face) -> Path | None:
    for candidate in face.paths:
        if Path(candidate).is_file():
            return Path(candidate)
    if shutil.which("fc-match") is None:
        return None
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}\n%{family}", face.family],
                               capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    file, _, families = found.partition("\n")
    # fc-match always answers with some font: accept it only when it is the family asked for.
    if face.family not in families.split(",") or not Path(file).is_file():
        return None
    return Path(file)
