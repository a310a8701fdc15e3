"""The UI's fonts: IPAex Gothic (Debian's ``fonts-ipaexfont-gothic``) as Kivy's default font,
since Kivy's own Roboto has no Japanese glyphs; Noto Sans CJK JP (``fonts-noto-cjk``) for a text
with a character IPAex lacks (a member named with 𠮷, say).

Why not Noto for everything: each size of a font that SDL_ttf opens is a FreeType face kept for
the process's life, ~2.7 MB for Noto's CFF outlines against ~0.5 MB for IPAex's TrueType ones
(measured: 16 faces, +42.6 MB against +7.5 MB), and the kiosk has a memory goal. Noto still draws
the rare text that needs it, at the cost of its faces then.
"""

from __future__ import annotations

import os
from pathlib import Path

from screens.glyphs import Coverage, FontFileError

IPAEX_GOTHIC = Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")  # face 0: Japanese
FONT_ENV = "PAYKIOSK_FONT"  # another font file with Japanese glyphs
FALLBACK_FONT = "PaySpotFallback"  # Kivy's name for the fallback, once registered

_coverage: Coverage | None = None
_coverage_of: Path | None = None  # the file _coverage was read from
_fallback = False


class FontMissing(RuntimeError):
    pass


def font_path() -> Path:
    """The main font's file, checked: it exists, is a font and has Japanese glyphs."""
    global _coverage, _coverage_of
    path = Path(os.environ.get(FONT_ENV) or IPAEX_GOTHIC)
    if not path.is_file():
        raise FontMissing(
            f"the UI font {path} is missing: install Debian's fonts-ipaexfont-gothic "
            f"(apt-get install fonts-ipaexfont-gothic) or name a font with Japanese glyphs "
            f"in {FONT_ENV}"
        )
    if _coverage is not None and _coverage_of == path:
        return path  # checked already (the front checks it before Kivy, the app again)
    try:
        coverage = Coverage.of_file(path)
    except (FontFileError, OSError, ValueError) as error:
        raise FontMissing(f"the UI font {path} cannot be used: {error}") from None
    if coverage.missing("カードをタッチしてください"):
        raise FontMissing(f"the UI font {path} has no Japanese glyphs (set {FONT_ENV})")
    _coverage, _coverage_of = coverage, path
    return path


def register_default_font() -> Path:
    """Make the main font Kivy's default for every Label and Button, and register the fallback
    when it is installed; returns the main font's path."""
    global _fallback
    from kivy.core.text import DEFAULT_FONT, LabelBase

    path = font_path()
    LabelBase.register(DEFAULT_FONT, str(path))
    _fallback = NOTO_CJK.is_file() and path != NOTO_CJK
    if _fallback:
        LabelBase.register(FALLBACK_FONT, str(NOTO_CJK))
    return path


def font_for(text: str) -> str:
    """Kivy's font name for ``text``: the default, or the fallback when the default lacks one
    of its characters and the fallback is installed."""
    from kivy.core.text import DEFAULT_FONT

    if _coverage is None or not _fallback or not _coverage.missing(text):
        return str(DEFAULT_FONT)
    return FALLBACK_FONT
