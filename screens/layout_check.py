"""What a screen must not do at any display size: a text outgrowing its box or the window, a
button a finger cannot hit, a line break Japanese does not make. Used by the screen tests and by
``paykiosk screens --check``."""

from __future__ import annotations

from itertools import pairwise
from typing import Any


def shown(widget: Any) -> list[Any]:
    """Every Label (Buttons included) with text in the widget's tree."""
    from kivy.uix.label import Label

    return [w for w in widget.walk(restrict=True) if isinstance(w, Label) and w.text]


def overgrown(widget: Any, window: tuple[int, int]) -> list[str]:
    """Texts that do not fit their box, and boxes outside the window."""
    bad = []
    for label in shown(widget):
        tw, th = label.texture_size
        if tw > label.width + 1 or th > label.height + 1:
            bad.append(
                f"{label.text!r}: text {tw}×{th} in a box {label.width:.0f}×{label.height:.0f}"
            )
        x, y = label.to_window(label.x, label.y)
        if x < -1 or y < -1 or x + label.width > window[0] + 1 or y + label.height > window[1] + 1:
            bad.append(f"{label.text!r}: box outside the window")
    return bad


# A 7" 800×480 panel has about 133 pixels per inch: a 9 mm touch target is 47 of its pixels,
# and as many units (1/480 of the height) on any display the screens are scaled to.
MIN_TARGET_UNITS = 9 / 25.4 * 133


def small_targets(widget: Any, window: tuple[int, int]) -> list[str]:
    """Buttons a member can press that are smaller than 9 mm on a 7" panel."""
    from kivy.uix.button import Button

    least = MIN_TARGET_UNITS * window[1] / 480
    return [
        f"{w.text!r}: {w.width:.0f}×{w.height:.0f} px, under {least:.0f}"
        for w in widget.walk(restrict=True)
        if isinstance(w, Button) and not w.disabled and min(w.width, w.height) < least - 0.5
    ]


def bad_breaks(widget: Any) -> list[str]:
    """Line breaks, as Kivy laid the lines out, that put a character that does not start a
    line (。、」）ー・, a small kana …) first on a line or one that does not end a line (「（)
    last, and breaks inside a Japanese phrase (:func:`screens.phrasing.phrases`) that would
    have fit a line of its own (a web address breaks by its own rules). Call it once the labels'
    textures are up to date (drawn)."""
    from screens.phrasing import (
        NO_LINE_END,
        NO_LINE_START,
        has_japanese,
        is_address,
        laid_out_lines,
    )

    bad = []
    for label in shown(widget):
        lines = [line.strip() for line in laid_out_lines(label)]
        if is_address(label.text):
            continue  # broken after a slash, before a dot: an address's own rules
        for before, after in pairwise(lines):
            if after[:1] in NO_LINE_START or before[-1:] in NO_LINE_END:
                bad.append(f"{label.text!r}: a line breaks between {before!r} and {after!r}")
        if has_japanese(label.text):
            bad.extend(f"{label.text!r}: {split}" for split in _split_phrases(label, lines))
    return bad


def _split_phrases(label: Any, lines: list[str]) -> list[str]:
    """Phrases broken across lines though they fit a line."""
    from screens.phrasing import phrases

    text = label.text
    cuts, at = set(), 0  # where phrases (or the text's own lines) begin
    for paragraph in text.split("\n"):
        for phrase in phrases(paragraph):
            cuts.add(at)
            at += len(phrase)
        at += 1
    core = label._label
    left, _, right, _ = core.options["padding"]
    box = label.text_size[0]
    width = float("inf") if box is None else box - left - right
    split = []
    at = 0
    for line in lines[:-1]:
        at = text.index(line, at) + len(line) if line else at
        while at < len(text) and text[at].isspace():
            at += 1  # the spaces dropped at the break
        if at in cuts or text[at - 1].isspace():
            continue
        start = max(cut for cut in cuts if cut < at)
        end = min((cut for cut in cuts if cut > at), default=len(text))
        phrase = text[start:end].strip()
        if core.get_extents(phrase)[0] <= width:
            split.append(f"{phrase!r} is split, though it fits a line")
    return split


def layout_problems(widget: Any, window: tuple[int, int]) -> list[str]:
    return overgrown(widget, window) + small_targets(widget, window) + bad_breaks(widget)
