"""What a screen must not do at any display size: a text outgrowing its box or the window, a
button a finger cannot hit. Used by the screen tests and by ``paykiosk screens --check``."""

from __future__ import annotations

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


def layout_problems(widget: Any, window: tuple[int, int]) -> list[str]:
    return overgrown(widget, window) + small_targets(widget, window)
