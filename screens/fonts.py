"""The UI's font: Noto Sans CJK JP (Debian's ``fonts-noto-cjk``) as Kivy's default font, since
Kivy's own Roboto has no Japanese glyphs (they would show as empty boxes)."""

from __future__ import annotations

import os
from pathlib import Path

NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")  # face 0: Japanese
FONT_ENV = "PAYKIOSK_FONT"  # another font file with Japanese glyphs


class FontMissing(RuntimeError):
    pass


def font_path() -> Path:
    path = Path(os.environ.get(FONT_ENV) or NOTO_CJK)
    if not path.is_file():
        raise FontMissing(
            f"the UI font {path} is missing: install Debian's fonts-noto-cjk "
            f"(apt-get install fonts-noto-cjk) or name a font with Japanese glyphs in {FONT_ENV}"
        )
    return path


def register_default_font() -> Path:
    """Make the CJK font Kivy's default for every Label and Button; returns its path."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    path = font_path()
    LabelBase.register(DEFAULT_FONT, str(path))
    return path
