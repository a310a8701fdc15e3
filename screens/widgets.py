"""Small building blocks shared by the screens: wrapped text, buttons, the scale of the display.

Sizes are in "units": one unit is 1/480 of the window's height, so the same screen fills an
800×480 and a 1280×800 display alike. Texts wrap inside their box, Japanese between phrases
(:mod:`screens.phrasing`); a test checks that no text outgrows its box at either size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.core.window import Window
from kivy.uix.button import Button
from kivy.uix.label import Label

from screens.fonts import font_for
from screens.phrasing import Phrased

BACKGROUND = (0.97, 0.97, 0.95, 1)
INK = (0.10, 0.10, 0.12, 1)
MUTED = (0.35, 0.35, 0.40, 1)
ALERT = (0.70, 0.10, 0.05, 1)
PRIMARY = (0.05, 0.40, 0.70, 1)
NEUTRAL = (0.45, 0.47, 0.50, 1)
DISABLED = (0.78, 0.78, 0.78, 1)
HEADER = (0.05, 0.30, 0.55, 1)
WHITE = (1, 1, 1, 1)


# Font sizes in units snap to this scale: every size (and bold) of the CJK font Kivy opens is a
# FreeType face of its own, ~2.5 MB each, kept for the life of the process.
TYPE_SCALE = (13, 16, 20, 24, 28, 34, 44, 56)


def type_size(size: float) -> float:
    """The step of TYPE_SCALE nearest to ``size`` (the smaller one on a tie)."""
    return min(TYPE_SCALE, key=lambda step: (abs(step - size), step))


def unit() -> float:
    """Pixels per unit (the window is 480 units high)."""
    return float(Window.height) / 480.0


def _fit_text(widget: Any, *_: Any) -> None:
    # Wrap at the box's width; leave the height free (a height would silently drop the lines
    # that do not fit), so an overgrown text shows in ``texture_size`` and a test can see it.
    widget.text_size = (max(0.0, widget.width - widget.padding_x_px), None)


def set_bold(label: Label, bold: bool) -> None:
    """Bold drawn as an outline of about 1/48 of the size in the text's own colour (none below
    ~24 px, where a whole pixel clogs a kanji). Kivy's ``bold=True`` draws nothing bolder with
    a one-weight font (measured: the same pixels) yet opens a second FreeType face per size;
    the outline reuses the face."""
    label.outline_width = round(label.font_size / 48) if bold else 0
    label.outline_color = tuple(label.color[:3])


def _pick_font(widget: Any, text: str) -> None:
    widget.font_name = font_for(text)


class Text(Phrased, Label):
    """A wrapped, aligned label: ``size`` in units, ``height`` in units or None (stretch)."""

    def __init__(
        self,
        text: str = "",
        size: float = 20,
        height: float | None = None,
        color: tuple[float, ...] = INK,
        halign: str = "center",
        bold: bool = False,
        **kwargs: Any,
    ) -> None:
        u = unit()
        if height is not None:
            kwargs.update(size_hint_y=None, height=height * u)
        super().__init__(
            text=text,
            font_size=type_size(size) * u,
            color=color,
            halign=halign,
            valign="middle",
            font_name=font_for(text),
            **kwargs,
        )
        set_bold(self, bold)
        self.padding_x_px = 8 * u
        self.bind(text=_pick_font)
        self.bind(size=_fit_text)
        _fit_text(self)


# Set by the app (e.g. to ``screens.sounds.Sounds.touch``): called on every press of an enabled
# button. Module-level, so the screens need not know about sounds.
on_press_sound: Callable[[], None] | None = None


class KioskButton(Phrased, Button):
    """A large touch target; ``action`` runs on release (not while disabled)."""

    def __init__(
        self,
        text: str,
        action: Callable[[], None],
        size: float = 22,
        color: tuple[float, ...] = PRIMARY,
        enabled: bool = True,
        bold: bool = False,
        **kwargs: Any,
    ) -> None:
        u = unit()
        super().__init__(
            text=text,
            font_size=type_size(size) * u,
            halign="center",
            valign="middle",
            background_normal="",
            background_disabled_normal="",
            background_color=color if enabled else DISABLED,
            color=WHITE,
            disabled_color=MUTED,
            disabled=not enabled,
            **kwargs,
        )
        set_bold(self, bold)
        self.padding_x_px = 10 * u
        self.action = action
        self.bind(size=_fit_text)
        _fit_text(self)

    def on_press(self) -> None:
        if on_press_sound is not None and not self.disabled:
            on_press_sound()

    def on_release(self) -> None:
        if not self.disabled:
            self.action()
