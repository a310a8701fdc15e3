"""Japanese line breaks (screens/phrasing.py) on the catalog's own texts: no line starts with
。、」）ー or a small kana, none ends with 「（, phrases stay whole where they fit, nothing is lost
but the spaces at a break; a web address breaks after a slash or before a dot; English goes to
Kivy as it is. Measured here with a monospaced stand-in (a Japanese character two units, any
other one); the screens' tests check the same rules on what Kivy lays out with the real font."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

from screens.i18n import LOCALE_DIR, parse_po
from screens.phrasing import NO_LINE_END, NO_LINE_START, has_japanese, phrases, wrap

# The Japanese catalog's texts, their placeholders filled in.
JAPANESE_TEXTS = sorted(
    {
        re.sub(r"\{[^}]*\}", "12", text)
        for text in parse_po((LOCALE_DIR / "ja/LC_MESSAGES/paykiosk.po").read_text()).values()
        if has_japanese(text)
    }
)
WIDTHS = range(12, 61, 4)  # six to thirty Japanese characters


def measure(text: str) -> tuple[float, float]:
    return sum(2 if has_japanese(c) else 1 for c in text), 1


def test_the_closing_maru_stays_with_its_sentence() -> None:
    # 26 characters in a line of 25: broken at any character, 。 would stand alone
    text = "登録が済んだら、もう一度カードをタッチしてください。"
    lines = wrap(text, 50, measure).split("\n")
    assert lines == ["登録が済んだら、もう一度カードを", "タッチしてください。"]


def test_a_phrase_wider_than_the_line_still_keeps_the_rules() -> None:
    lines = wrap("タッチしてください。", 8, measure).split("\n")
    assert lines == ["タッチし", "てくださ", "い。"]  # never 。 alone, as Kivy would put it


def test_spaces_are_breaks_and_dropped_there() -> None:
    text = "ベース   残高 ¥12,340   (あと ¥37,660 まで)"
    assert wrap(text, 26, measure).split("\n") == ["ベース   残高 ¥12,340", "(あと ¥37,660 まで)"]


def test_a_web_address_breaks_after_a_slash_or_before_a_dot() -> None:
    lines = wrap("https://krm-system.powerappsportals.com/", 25, measure).split("\n")
    assert lines == ["https://krm-system", ".powerappsportals.com/"]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_japanese_text_of_the_catalog_breaks_by_the_rules(width: int) -> None:
    for text in JAPANESE_TEXTS:
        lines = wrap(text, width, measure).split("\n")
        assert re.sub(r"\s", "", "".join(lines)) == re.sub(r"\s", "", text), text
        for before, after in pairwise(lines):
            assert after[:1] not in NO_LINE_START, (text, lines)
            assert before[-1:] not in NO_LINE_END, (text, lines)
        for line in lines:
            assert measure(line)[0] <= width or len(line.split()) == 1, (text, width, lines)
        # a break inside a phrase only where the phrase is wider than the line
        for paragraph in text.split("\n"):
            for phrase in phrases(paragraph):
                if measure(phrase.strip())[0] <= width:
                    assert any(phrase.strip() in line for line in lines), (phrase, lines)


def test_english_is_laid_out_by_kivy_as_it_was() -> None:
    from kivy.core.text import Label as CoreLabel

    from screens.phrasing import PhrasedCoreLabel

    text = "This kiosk cannot record your charge just now. It will be credited once repaired."
    laid_out = []
    for kind in (CoreLabel, PhrasedCoreLabel):
        label = kind(text=text, font_size=24, text_size=(300, None))
        label.render()  # the layout pass (no texture, so no window needed)
        laid_out.append([[word.text for word in line.words] for line in label._cached_lines])
    assert laid_out[0] == laid_out[1]
    assert len(laid_out[0]) > 1  # it did wrap, at spaces
