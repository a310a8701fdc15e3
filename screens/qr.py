"""A QR code drawn with the canvas: the module matrix from the ``qrcode`` package (quiet zone
included), one black Rectangle per dark module on a white square. No image library.

The widget keeps a fixed square size in units (:data:`QR_SIDE`); the code is drawn as large as
whole pixels per module allow inside its box and centred, so modules stay crisp for a camera.
"""

from __future__ import annotations

from typing import Any

import qrcode  # type: ignore[import-untyped]  # ships no type information
from kivy.graphics import Color, Rectangle
from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from screens.widgets import WHITE, Text, unit

# Units: at least 4 px (0.75 mm on a 7" 800×480 panel) a module for a receipt code of up to
# 53 modules (version 7 with the quiet zone); a phone reads that from a hand's length.
QR_SIDE = 240
QUIET_ZONE = 4  # modules of white around the code (the standard's minimum)
BLACK = (0, 0, 0, 1)


def qr_matrix(text: str) -> list[list[bool]]:
    """The code's modules, row by row from the top, the quiet zone included (True: dark)."""
    # Low error correction: a screen is not smudged, and a smaller version has larger modules.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, border=QUIET_ZONE)
    code.add_data(text)
    code.make(fit=True)
    return [[bool(module) for module in row] for row in code.get_matrix()]


def qr_fits(text: str) -> bool:
    """Whether ``text`` fits in a QR code at all (version 40 at the lowest correction holds
    2,953 bytes); a longer summary is shown without its code, never a page left blank."""
    try:
        qr_matrix(text)
    except ValueError:  # qrcode: "Invalid version (was 41, expected 1 to 40)"
        return False
    return True


class QRCode(Widget):
    """``text`` as a QR code, black on white, in a fixed square of ``side`` units."""

    def __init__(self, text: str, side: float = QR_SIDE, **kwargs: Any) -> None:
        px = side * unit()
        super().__init__(size_hint=(None, None), size=(px, px), **kwargs)
        self.text = text
        self.matrix = qr_matrix(text)
        self.modules: list[Rectangle] = []  # the dark ones, as drawn
        self.bind(pos=self._draw, size=self._draw)
        self._draw()

    def _draw(self, *_: object) -> None:
        count = len(self.matrix)
        side = min(self.width, self.height)
        module = max(1, int(side // count))  # whole pixels: no blurred module edges
        drawn = module * count
        left = int(self.x + (self.width - drawn) / 2)
        top = int(self.y + (self.height + drawn) / 2)  # row 0 is at the top
        self.canvas.clear()
        self.modules = []
        with self.canvas:
            Color(*WHITE)  # the whole square: the quiet zone and what whole pixels leave
            Rectangle(pos=(self.center_x - side / 2, self.center_y - side / 2), size=(side, side))
            Color(*BLACK)
            for r, row in enumerate(self.matrix):
                for c, dark in enumerate(row):
                    if dark:
                        at = (left + c * module, top - (r + 1) * module)
                        self.modules.append(Rectangle(pos=at, size=(module, module)))


def beside_receipt(body: BoxLayout, receipt: str, caption: str) -> BoxLayout:
    """Lay ``body`` out as a column of text beside the receipt's QR code (``caption`` under the
    code); returns the column the text goes into."""
    u = unit()
    row = BoxLayout(spacing=16 * u)
    column = BoxLayout(orientation="vertical", spacing=6 * u)
    row.add_widget(column)
    side = BoxLayout(orientation="vertical", size_hint_x=None, width=QR_SIDE * u)
    box = AnchorLayout(size_hint_y=None, height=QR_SIDE * u)
    box.add_widget(QRCode(receipt))
    side.add_widget(BoxLayout())  # the code sits in the middle of the column
    side.add_widget(box)
    side.add_widget(Text(caption, size=16, height=48))
    side.add_widget(BoxLayout())
    row.add_widget(side)
    body.add_widget(row)
    return column
