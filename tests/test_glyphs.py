"""The font coverage reader (screens/glyphs.py) against fontTools, an independent reader of the
same ``cmap`` tables, on the fonts the README installs; and bad font files named clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from screens.fonts import FONT_ENV, IPAEX_GOTHIC, NOTO_CJK, FontMissing, font_path
from screens.glyphs import UNICODE_SIZE, Coverage


def mapped_by_fonttools(path: Path) -> set[int]:
    font = TTFont(str(path), fontNumber=0, lazy=True)
    try:
        return {code for code, name in font.getBestCmap().items() if font.getGlyphID(name)}
    finally:
        font.close()


@pytest.mark.parametrize("path", [IPAEX_GOTHIC, NOTO_CJK], ids=lambda p: p.name)
def test_the_coverage_is_the_one_fonttools_reads(path: Path) -> None:
    coverage = Coverage.of_file(path)
    mine = {code for code in range(UNICODE_SIZE) if chr(code) in coverage}
    assert mine == mapped_by_fonttools(path)
    assert len(coverage) == len(mine) > 10_000


def test_a_name_with_a_character_ipaex_lacks_is_seen_as_missing() -> None:
    ipaex, noto = Coverage.of_file(IPAEX_GOTHIC), Coverage.of_file(NOTO_CJK)
    assert ipaex.missing("𠮷田 花子") == "𠮷"  # the "tsuchi-yoshi" of many family names
    assert noto.missing("𠮷田 花子") == ""
    assert ipaex.missing("髙橋 﨑山 ¥1,000\n学食") == ""


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "cannot be used"),
        (b"hello, not a font" * 10, "not a TrueType/OpenType font"),
        (IPAEX_GOTHIC.read_bytes()[:300], "truncated"),
    ],
    ids=["empty", "text", "truncated"],
)
def test_a_file_that_is_not_a_usable_font_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: bytes, said: str
) -> None:
    bad = tmp_path / "bad.ttf"
    bad.write_bytes(content)
    monkeypatch.setenv(FONT_ENV, str(bad))
    with pytest.raises(FontMissing, match=said) as raised:
        font_path()
    assert str(bad) in str(raised.value)


def test_a_font_without_japanese_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import kivy

    roboto = Path(kivy.__file__).parent / "data" / "fonts" / "Roboto-Regular.ttf"
    monkeypatch.setenv(FONT_ENV, str(roboto))
    with pytest.raises(FontMissing, match="no Japanese glyphs"):
        font_path()
