"""QR codes drawn with the canvas: what is painted is qrcode's module matrix (quiet zone
included, row 0 at the top), black squares on white, crisp whole-pixel modules; the done
screen's code holds the receipt and the unknown-card screen's code the portal address.

No decoder is installed: the drawing is read back from the canvas and compared with the
matrix qrcode makes for the same text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import qrcode

from kiosk.core.events import CreditOutcome
from kiosk.core.session import State
from kiosk.core.view import SessionView
from screens.layout_check import overgrown, shown
from screens.samples import SAMPLES
from tests.support.offscreen import SIZES, RecordingInbox, run_app

PORTAL = "https://mypage.coop.example.ac.jp/members/register?campus=hongo"  # a long one
RECEIPT = "Pay Spot receipt\nKiosk K01\n2026-12-01 10:15 JST\nCafeteria ¥3,000\nref K01-0001"


def painted(widget: Any) -> tuple[list[tuple[float, ...]], list[tuple[float, ...]]]:
    """(white rectangles, black rectangles) on the widget's canvas, as (x, y, w, h)."""
    from kivy.graphics import Color, Rectangle

    colour: tuple[float, ...] = ()
    white, black = [], []
    for instruction in widget.canvas.children:
        if isinstance(instruction, Color):
            colour = tuple(instruction.rgba)
        elif isinstance(instruction, Rectangle):
            box = (*instruction.pos, *instruction.size)
            (white if colour == (1, 1, 1, 1) else black).append(box)
            assert colour in ((1, 1, 1, 1), (0, 0, 0, 1)), colour
    return white, black


def matrix_from(
    black: list[tuple[float, ...]], count: int, left: float, top: float
) -> list[list[bool]]:
    """Read the modules back from the black squares (row 0 at the top)."""
    module = black[0][2]
    grid = [[False] * count for _ in range(count)]
    for x, y, w, h in black:
        assert w == h == module, "every module is the same square"
        c, r = (x - left) / module, (top - y - h) / module
        assert c == int(c) and r == int(r), "modules sit on the grid"
        assert not grid[int(r)][int(c)], "one square a module"
        grid[int(r)][int(c)] = True
    return grid


def reference_matrix(text: str) -> list[list[bool]]:
    code = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(text)
    code.make(fit=True)
    return [[bool(m) for m in row] for row in code.get_matrix()]


@pytest.mark.parametrize("box", [(300, 300), (411, 260)], ids=["square", "wide"])
def test_the_drawn_squares_are_qrcodes_matrix(box: tuple[int, int]) -> None:
    from screens.qr import QRCode

    widget = QRCode(RECEIPT)
    widget.pos, widget.size = (10, 20), box  # as a layout would place it
    expected = reference_matrix(RECEIPT)
    count = len(expected)
    white, black = painted(widget)
    assert black and white, "the canvas is not empty"
    assert sum(map(sum, expected)) == len(black)  # one square per dark module
    module = black[0][2]
    assert module == min(box) // count >= 1  # whole pixels, as large as the box allows
    # The white square covers the code and is centred in the box.
    (wx, wy, ww, wh) = white[0]
    assert ww == wh == min(box) and (wx + ww / 2, wy + wh / 2) == (10 + box[0] / 2, 20 + box[1] / 2)
    left = min(x for x, *_ in black) - 4 * module  # the quiet zone is white
    top = max(y + h for _, y, _, h in black) + 4 * module
    assert matrix_from(black, count, left, top) == expected
    # The code is centred too (within a pixel of rounding).
    assert abs(left + count * module / 2 - (10 + box[0] / 2)) <= 1
    assert abs(top - count * module / 2 - (20 + box[1] / 2)) <= 1
    # The quiet zone: the first four rows and columns have no dark module.
    assert not any(any(row) for row in expected[:4]) and not any(any(row[:4]) for row in expected)
    # Row 0 is at the top: the top-left finder pattern's first row is dark.
    assert all(expected[4][4:11]) and all(matrix_from(black, count, left, top)[4][4:11])


def test_a_different_text_draws_a_different_code() -> None:
    from screens.qr import QRCode

    one, other = QRCode(RECEIPT), QRCode(RECEIPT.replace("0001", "0002"))
    assert painted(one)[1] != painted(other)[1]


def find_qr(screen: Any) -> Any:
    from screens.qr import QRCode

    found = [w for w in screen.walk(restrict=True) if isinstance(w, QRCode)]
    return found[0] if found else None


@pytest.mark.usefixtures("in_japan")
def test_the_screens_show_the_receipt_and_the_portal_as_codes() -> None:
    seen: dict[str, Any] = {}
    texts: dict[str, list[str]] = {}
    bad: list[str] = []
    refused = SessionView(
        State.DONE,
        bucket="cafeteria",
        credited=3_000,
        outcome=CreditOutcome.REFUSED,
        reference="K01-20261201-0007",
        finished_at=1_796_087_700.0,  # 2026-12-01 10:15 JST
    )

    def show(view: SessionView, lang: str) -> Callable[[Any], None]:
        def step(app: Any) -> None:
            app.kiosk_id, app.portal_url = "K01", PORTAL
            app.texts.lang = lang
            app.show(view)

        return step

    def look(name: str) -> Callable[[Any], None]:
        def step(app: Any) -> None:
            code = find_qr(app.current_screen)
            if code is not None:
                black = painted(code)[1]
                seen[name] = (code.text, code.matrix, len(black), tuple(code.size), black[0][2])
            else:
                seen[name] = None
            texts[name] = [label.text for label in shown(app.current_screen)]
            bad.extend(overgrown(app.current_screen, SIZES[0]))

        return step

    steps = [
        show(refused, "ja"),
        look("refused"),
        show(SAMPLES["done"], "en"),
        look("confirmed"),
        show(SAMPLES["done_note_held"], "ja"),
        look("note_held"),
        show(SAMPLES["card_not_linked"], "ja"),
        look("portal"),
        show(SAMPLES["card_unreadable"], "ja"),
        look("unreadable"),
    ]
    run_app(RecordingInbox(), SIZES[0], steps)

    text, matrix, dark, size, module = seen["refused"]
    assert text.split("\n") == [
        "Pay Spot 利用控え",
        "端末 K01",
        "2026-12-01 10:15 JST",
        "学食 ¥3,000",
        "未入金",
        "受付番号: K01-20261201-0007",
    ]
    assert matrix == reference_matrix(text) and dark == sum(map(sum, matrix))
    assert size == (240, 240)  # a fixed size in units: 240 px on a 480 px high panel
    assert module >= 4, "big enough for a phone at 800×480"

    text, matrix, dark, _, module = seen["confirmed"]
    assert "Kiosk K01" in text and "Base ¥3,000" in text and "New balance: ¥15,340" in text
    assert "Charged" in text and matrix == reference_matrix(text) and module >= 4
    assert seen["note_held"] is None  # nothing was taken: no receipt

    text, matrix, dark, size, module = seen["portal"]
    assert text == PORTAL and matrix == reference_matrix(text)
    assert PORTAL in texts["portal"]  # the address as text too
    assert not bad, bad  # a long address wraps under its code
    assert dark == sum(map(sum, matrix)) and module >= 4
    assert seen["unreadable"] is None
