"""Japanese line breaks: between phrases (Google's BudouX segmenter), never before 。、」）ー・
or a small kana, never after 「（ — where Kivy would break a Japanese text at any character; and
a web address broken after a slash or before a dot.

Kivy's text layout breaks lines only at spaces and, in a word too long for the line, at any
character; a Japanese sentence has no spaces, so its closing 「。」 could stand alone on a line.
:class:`PhrasedCoreLabel` lays out a text with Japanese in it from the lines :func:`wrap` makes
(newlines where it breaks, so Kivy has nothing left to break); any other text goes to Kivy as
it is and wraps at its spaces.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import budoux
from kivy.core.text import Label as CoreLabel

# JIS X 4051's characters that do not start a line (closing brackets, punctuation, iteration
# marks, the long vowel mark, small kana), and those that do not end one (opening brackets, and
# a currency sign kept with its amount).
SMALL_KANA = "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
NO_LINE_START = frozenset(
    "。、，．,.:;：；？！?!・ー～〜…‥ゝゞヽヾ々〻」』）〕］｝〉》】〙〗)]}’”%％" + SMALL_KANA
)
NO_LINE_END = frozenset("「『（〔［｛〈《【〘〖([{‘“¥￥")

# Hiragana, katakana, CJK punctuation, ideographs (and extension planes), full-width forms.
_JAPANESE = re.compile(
    "[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff]"
)
# An address (or a reference) cut after its slashes and hyphens, before its dots.
_ADDRESS_PART = re.compile(r"\.?[^/.\-]*(?:/+|-)?")
_ADDRESS = re.compile(r"https?://\S+")
# A number, an amount, a reference: kept whole where it fits; any other single character.
_ASCII_WORD_OR_CHARACTER = re.compile(r"[!-~¥]+|.", re.DOTALL)

Measure = Callable[[str], tuple[float, float]]  # a text's (width, height) in pixels


def has_japanese(text: str) -> bool:
    return _JAPANESE.search(text) is not None


def is_address(text: str) -> bool:
    return _ADDRESS.fullmatch(text) is not None


def laid_out_here(text: str) -> bool:
    """Whether :class:`PhrasedCoreLabel` lays ``text`` out (else Kivy does, at its spaces): a
    text with Japanese in it, or a web address (Kivy would cut it at any character)."""
    return has_japanese(text) or is_address(text)


@lru_cache(maxsize=1)
def _parser() -> Any:  # loaded at first use: ~10 ms, ~1 MB
    return budoux.load_default_japanese_parser()


def _glue(pieces: Sequence[str]) -> list[str]:
    """Pieces joined where a break would be wrong: before a piece that starts with a character
    that does not start a line (or is only spaces), after one that ends with a character that
    does not end a line. Spaces that begin a piece move to the end of the one before."""
    glued: list[str] = []
    for piece in pieces:
        if glued:
            head = piece.lstrip()
            if (
                not head
                or head[0] in NO_LINE_START
                or glued[-1].rstrip()[-1:] in NO_LINE_END
                or not glued[-1].strip()
            ):
                glued[-1] += piece
                continue
            if head != piece:
                glued[-1] += piece[: len(piece) - len(head)]
                piece = head
        glued.append(piece)
    return glued


@lru_cache(maxsize=1024)
def phrases(text: str) -> tuple[str, ...]:
    """``text`` (one line of it) cut where a line may break: between BudouX's phrases, with
    the line-start and line-end rules applied. Joined, the phrases are the text again."""
    return tuple(_glue(_parser().parse(text))) if text else ()


def _finer(piece: str) -> list[str]:
    """A piece too wide for a line, cut finer: at its spaces; else as an address is; else
    between its characters (whole ASCII words, with the line rules); else at any character, as
    Kivy would."""
    for cut in (
        _glue(re.split(r"(?<=\s)(?=\S)", piece)),
        [part for part in _ADDRESS_PART.findall(piece) if part],  # a dot may start a line
        _glue(_ASCII_WORD_OR_CHARACTER.findall(piece)),
        list(piece),
    ):
        if len(cut) > 1:
            return cut
    return [piece]


def wrap_line(text: str, width: float, measure: Measure) -> list[str]:
    """One line of text broken into lines no wider than ``width``: phrases kept whole where
    they fit; spaces at a break are dropped."""
    lines: list[str] = []
    line = ""
    queue = deque(phrases(text))
    while queue:
        piece = queue.popleft()
        if measure((line + piece).rstrip())[0] <= width:
            line += piece
        elif measure(piece.strip())[0] > width and len(finer := _finer(piece)) > 1:
            queue.extendleft(reversed(finer))  # wider than any line: fill this one with it
        elif line.strip():
            lines.append(line.rstrip())
            line = ""
            queue.appendleft(piece.lstrip())
        else:
            line = piece  # one character wider than the line: as Kivy would show it
    if line or not lines:
        lines.append(line.rstrip())
    return lines


def wrap(text: str, width: float, measure: Measure) -> str:
    """``text`` with a newline wherever its lines break to fit ``width``."""
    return "\n".join(
        line for paragraph in text.split("\n") for line in wrap_line(paragraph, width, measure)
    )


class PhrasedCoreLabel(CoreLabel):
    """Kivy's core label (the text provider's), laying out a text with Japanese in it from
    :func:`wrap`'s lines. What is drawn is laid out here, in ``render``'s first pass."""

    _text: str  # Kivy's: the text, as the widget gave it

    def render(self, real: bool = False) -> Any:
        text = self._text
        width = self._text_size[0]
        if real or width is None or self.options["shorten"] or not laid_out_here(text):
            return super().render(real)
        left, _, right, _ = self.options["padding"]
        self._text = wrap(text, width - left - right, self.get_cached_extents())
        try:
            return super().render(real)
        finally:
            self._text = text


class Phrased:
    """Mixin for a Kivy Label (or Button): Japanese lines break between phrases."""

    _label: Any

    def _create_label(self) -> None:
        super()._create_label()  # type: ignore[misc]
        # Kivy makes the core label itself, from options it alone knows: the same object, with
        # the phrased layout (a subclass that only overrides render; no state of its own).
        if type(self._label) is CoreLabel:
            self._label.__class__ = PhrasedCoreLabel


def laid_out_lines(label: Any) -> list[str]:
    """The lines a Kivy Label shows, as its core label laid them out (after a texture update)."""
    core = label._label
    return ["".join(word.text for word in line.words) for line in core._cached_lines]
