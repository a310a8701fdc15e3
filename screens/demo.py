"""``paykiosk --demo``'s window: the kiosk's screens beside a strip of buttons for the outside
world (touch a demo card, feed a note, jam the acceptor, cut its power, take the wallet away).

Presentation only: the strip calls a :class:`DemoActions` it is given (kiosk/app/demo.py's
``DemoControls``), each in its own thread since they block (a card stays on the reader for
5 s), and shows their short answers. F2 or Tab hides and shows it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from screens.app import KioskApp
from screens.intents import Intents
from screens.widgets import WHITE, KioskButton, Text, unit

# The strip is not the product: its texts are English only and deliberately not translated
# (never ``self._``), so the member's catalogs hold only what a member sees.
STRIP_UNITS = 240  # its width (kiosk/app/demo.py opens the window 800 + this wide)
TOGGLE_KEYS = (283, 9)  # Kivy's key codes of F2 and Tab
STRIP_BACKGROUND = (0.16, 0.17, 0.20, 1)
CARD = (0.20, 0.45, 0.35, 1)
NOTE = (0.55, 0.42, 0.15, 1)
FAULT = (0.50, 0.22, 0.20, 1)
WALLET = (0.30, 0.32, 0.45, 1)
LIGHT = (0.80, 0.82, 0.86, 1)


class DemoActions(Protocol):
    """What the strip can do to the simulated outside world; every call may block."""

    @property
    def cards(self) -> Sequence[tuple[str, str]]:  # (label, card id) of each demo card
        ...

    @property
    def notes(self) -> Sequence[int]: ...

    def touch_card(self, card_id: str) -> str: ...

    def feed_note(self, value: int) -> str: ...

    def jam(self) -> str: ...

    def clear_jam(self) -> str: ...

    def power_cut(self) -> str: ...

    def set_wallet(self, up: bool) -> str: ...


class DemoStrip(BoxLayout):
    """The buttons and a one-line status of the last thing done."""

    def __init__(self, actions: DemoActions) -> None:
        super().__init__(orientation="vertical", size_hint_x=None)
        self.actions = actions
        self.status = "ready: touch a card"
        self.said: list[str] = [self.status]  # every status shown, oldest first (the last 50)
        with self.canvas.before:
            Color(*STRIP_BACKGROUND)
            self._background = Rectangle()
        self.bind(pos=self._paint, size=self._paint)
        self.render()

    def _paint(self, *_: object) -> None:
        self._background.pos, self._background.size = self.pos, self.size

    def render(self) -> None:
        """Lay the strip out for the window's current height."""
        u = unit()
        self.width = STRIP_UNITS * u
        self.spacing, self.padding = 3 * u, (6 * u, 4 * u)
        self.clear_widgets()
        actions = self.actions
        self.add_widget(Text("Demo: the outside world", size=15, height=24, color=WHITE, bold=True))
        self._heading("Touch a card (held 5 s)")
        for label, card_id in actions.cards:
            self._button(label, "card on the reader", partial(actions.touch_card, card_id), CARD)
        self._heading("Feed a note")
        notes = self._grid(len(actions.notes))
        for value in actions.notes:
            self._button(
                f"¥{value:,}",
                f"feeding ¥{value:,}…",
                partial(actions.feed_note, value),
                NOTE,
                notes,
            )
        self._heading("Acceptor and wallet")
        faults = self._grid(6)
        self._button("jam", "jamming…", actions.jam, FAULT, faults)
        self._button("clear jam", "clearing…", actions.clear_jam, FAULT, faults)
        self._button("power cut", "power cut (1 s)…", actions.power_cut, FAULT, faults)
        faults.add_widget(Widget())  # the wallet's two buttons side by side
        self._button("wallet down", "…", partial(actions.set_wallet, False), WALLET, faults)
        self._button("wallet up", "…", partial(actions.set_wallet, True), WALLET, faults)
        self.status_label = Text(self.status, size=14, height=40, color=WHITE)
        self.add_widget(self.status_label)
        self.add_widget(Text("F2 or Tab: hide / show this strip", size=12, height=18, color=LIGHT))

    def _heading(self, text: str) -> None:
        self.add_widget(Text(text, size=13, height=20, color=LIGHT, halign="left"))

    def _grid(self, count: int) -> GridLayout:
        grid = GridLayout(cols=2, spacing=3 * unit(), size_hint_y=(count + 1) // 2)
        self.add_widget(grid)
        return grid

    def _button(
        self,
        text: str,
        busy: str,
        action: Callable[[], str],
        color: tuple[float, ...],
        parent: Any = None,
    ) -> None:
        button = KioskButton(text, partial(self.run, busy, action), size=14, color=color)
        (parent or self).add_widget(button)

    def run(self, busy: str, action: Callable[[], str]) -> None:
        """Show ``busy``, do ``action`` in a thread (never on the UI loop), then its answer."""
        self.say(busy)

        def work() -> None:
            try:
                answer = action()
            except Exception as error:  # a demo part failed: say so, keep the demo running
                answer = f"failed: {error}"
            Clock.schedule_once(lambda _dt: self.say(answer))

        threading.Thread(target=work, name="demo-action", daemon=True).start()

    def say(self, status: str) -> None:
        self.status = self.status_label.text = status
        self.said = [*self.said[-49:], status]


class DemoApp(KioskApp):
    """The kiosk's screens with the demo strip on their right."""

    title = "Pay Spot demo"

    def __init__(self, actions: DemoActions, intents: Intents, **kwargs: Any) -> None:
        super().__init__(intents, **kwargs)
        self.actions = actions
        self.layout: BoxLayout | None = None
        self.strip: DemoStrip | None = None

    def build(self) -> BoxLayout:
        manager = super().build()
        self.layout = BoxLayout(orientation="horizontal")
        self.layout.add_widget(manager)
        self.strip = DemoStrip(self.actions)
        self.layout.add_widget(self.strip)
        Window.bind(on_key_down=self._key, on_resize=self._relayout)
        return self.layout

    def on_stop(self) -> None:
        super().on_stop()
        Window.unbind(on_key_down=self._key, on_resize=self._relayout)

    def _relayout(self, *_: object) -> None:
        if self.strip is not None:
            self.strip.render()

    def _key(self, _window: Any, key: int, *_: Any) -> bool:
        if key in TOGGLE_KEYS:
            self.toggle_strip()
            return True
        return False

    def toggle_strip(self) -> None:
        """Hide the strip (the window narrows to the kiosk's screen) or show it again."""
        assert self.layout is not None and self.strip is not None
        width, height = Window.size
        if self.strip.parent is not None:
            self.layout.remove_widget(self.strip)
            Window.size = (width - self.strip.width, height)
        else:
            self.layout.add_widget(self.strip)
            Window.size = (width + STRIP_UNITS * unit(), height)
