"""What changes on a screen while it is up (the time left, a slow lookup), the history by money
and page, and the sounds: rendered offscreen like tests/test_screens.py, with the same helpers
(tests/support/offscreen.py). The sound choice is tested without audio; the sound player
through SDL's disk driver (what it plays is written to a file)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from kiosk.core.events import (
    HistoryEntry,
    HistoryRequested,
    HistoryView,
    MoreHistoryRequested,
    Notice,
)
from kiosk.core.session import State
from kiosk.core.view import BucketView, SessionView
from screens.layout_check import overgrown, shown
from tests.support.common import window_shot
from tests.support.offscreen import SIZES, RecordingInbox, assert_painted, run_app

Step = Callable[[Any], object]
BUCKETS = [
    BucketView("base", 12_340, 120, 50_000, 37_660, True),
    BucketView("cafeteria", 3_000, 0, 30_000, 27_000, True),
    BucketView("textbook", 49_500, 0, 50_000, 500, False),
]


def texts(app: Any) -> list[str]:
    return [label.text for label in shown(app.current_screen)]


def wait(seconds: float) -> list[Step]:
    """A step that lets ``seconds`` pass on the monotonic clock (Kivy's clock may fire a
    step early after a pause, and its frame rate is whatever the last app left)."""
    until: list[float] = []

    def step(app: Any) -> bool:
        if not until:
            until.append(time.monotonic() + seconds)
        return time.monotonic() >= until[0]

    return [step]


def touch(widget: Any) -> None:
    from kivy.tests.common import UnitTestTouch

    t = UnitTestTouch(*widget.to_window(*widget.center))
    t.touch_down()
    t.touch_up()


def button(app: Any, text: str) -> Any:
    return next(w for w in shown(app.current_screen) if w.text == text)


# ---- the time left ------------------------------------------------------------------------
def test_the_time_left_counts_down_in_the_header_and_idle_has_no_timer() -> None:
    seen: dict[str, Any] = {}

    def insert_notes(app: Any) -> None:
        view = SessionView(State.ACCEPTING, bucket="base", largest_note=10_000)
        seen["deadline"] = time.monotonic() + 20
        app.show(SessionView(**{**view.__dict__, "deadline": seen["deadline"]}))

    def first(app: Any) -> None:
        screen = app.current_screen
        seen["first"] = [t for t in texts(app) if "残り" in t]
        seen["label"], seen["body"] = screen.countdown, screen.children[0]

    def later(app: Any) -> None:
        screen = app.current_screen
        seen["later"] = [t for t in texts(app) if "残り" in t]
        seen["truly_left"] = seen["deadline"] - time.monotonic()
        window_shot("live-countdown-ja-800x480")
        seen["same"] = screen.countdown is seen["label"] and screen.children[0] is seen["body"]
        seen["screen"] = screen

    def far(app: Any) -> None:  # a minute away: no hurry shown yet
        app.show(SessionView(State.ACCOUNT, member_name="山田 花子", buckets=BUCKETS,
                             deadline=time.monotonic() + 60))  # fmt: skip
        seen["far"] = [t for t in texts(app) if "残り" in t]

    def idle(app: Any) -> None:
        app.show(SessionView(State.IDLE))
        seen["idle"] = [t for t in texts(app) if "残り" in t or "left" in t]
        seen["idle_timers"] = list(app.current_screen.timers)
        seen["left_timers"] = [list(s.timers) for s in app.screens.values()]

    run_app(RecordingInbox(), SIZES[0], [insert_notes, first, *wait(2.1), later, far, idle])

    assert seen["first"] == ["残り 20 秒"]
    [later_text] = seen["later"]
    left = int(later_text.split()[1])
    # Ticks once a second: at most a second behind the truth (however slow this machine is).
    assert left < 20 and 0 <= left - seen["truly_left"] <= 1.1, (later_text, seen["truly_left"])
    assert seen["same"], "the screen was rebuilt for a tick: only the label should change"
    assert seen["far"] == []
    assert seen["idle"] == [] and seen["idle_timers"] == []
    assert seen["left_timers"] == [[] for _ in seen["left_timers"]], "a timer outlived its screen"


# ---- looking up a card --------------------------------------------------------------------
def test_a_slow_lookup_says_it_is_still_working() -> None:
    seen: dict[str, Any] = {}
    looking = SessionView(State.LOOKING_UP, deadline=time.monotonic() + 12)
    please_wait = "処理中です。もう少しお待ちください…"

    def progress(app: Any) -> str:
        return str(app.current_screen.progress.text)

    def at_once(app: Any) -> None:
        seen["at_once"], seen["dots"] = texts(app), progress(app)

    def after(app: Any) -> None:
        seen["after"], seen["dots_after"] = texts(app), progress(app)

    def english(app: Any) -> None:  # a re-render keeps the lookup's time
        app.toggle_language()
        seen["english"] = texts(app)

    def again(app: Any) -> None:
        app.show(SessionView(State.ACCOUNT, member_name="山田 花子", buckets=BUCKETS))
        app.texts.lang = "ja"
        app.show(looking)
        seen["again"] = texts(app)

    def idle(app: Any) -> None:
        app.show(SessionView(State.IDLE))
        seen["idle_timers"] = list(app.current_screen.timers)

    steps = [lambda app: app.show(looking), at_once, *wait(2.3), after, english, again, idle]
    run_app(RecordingInbox(), SIZES[0], steps)

    assert "カードを読み取っています…" in seen["at_once"]
    assert please_wait not in seen["at_once"]
    assert not any("残り" in t for t in seen["at_once"]), "the lookup's deadline is not shown"
    assert please_wait in seen["after"]
    assert seen["dots_after"] != seen["dots"], "the progress did not move"
    assert "Still working, please wait…" in seen["english"]
    assert please_wait not in seen["again"], "a new lookup starts from the beginning"
    assert seen["idle_timers"] == []


# ---- history ------------------------------------------------------------------------------
JST = timezone(timedelta(hours=9))


PAGE = tuple(
    HistoryEntry(f"2026-11-{day:02d}T0{day % 10}:30:00Z", kind, "base", amount)
    for day, kind, amount in (
        (19, "payment", -480),
        (24, "topup", 5_000),  # the wallet's order is kept newest first on screen
        (23, "exchange_outflow", -1_200),
        (22, "cashback", 30),
        (21, "payment", -350),
        (20, "expire", -15),
    )
)
HISTORY = SessionView(
    State.HISTORY,
    member_name="山田 花子",
    buckets=BUCKETS,
    history=HistoryView("base", PAGE, next_cursor="c3", loading=False, pages=2),
)


def test_history_formats_local_time_and_signed_amounts() -> None:
    from screens.history import signed, when

    assert when("2026-11-20T03:05:00Z", JST) == "2026-11-20 12:05"
    assert when("2026-11-20T23:59:59+09:00", JST) == "2026-11-20 23:59"
    assert when("2026-11-20T12:00:00") == "2026-11-20 12:00"  # no zone: as given
    assert when("not a date") == "not a date"
    assert (signed(5_000), signed(-480), signed(0)) == ("+¥5,000", "−¥480", "¥0")


@pytest.mark.usefixtures("in_japan")
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_history_by_money_one_page_at_a_time(size: tuple[int, int]) -> None:
    inbox = RecordingInbox()
    seen: dict[str, Any] = {}

    def look(name: str) -> Step:
        def step(app: Any) -> None:
            screen = app.current_screen
            png = window_shot(f"live-history-{name}-{app.texts.lang}-{size[0]}x{size[1]}")
            seen[name] = (texts(app), overgrown(screen, size), png)
            seen[name + "_rows"] = [
                [c.text for c in reversed(row.children)]
                for row in screen.walk(restrict=True)
                if type(row).__name__ == "BoxLayout" and len(row.children) == 4
                and all(getattr(c, "text", "") for c in row.children)
            ]  # fmt: skip

        return step

    failed = SessionView(**{**HISTORY.__dict__, "notice": Notice.HISTORY_UNAVAILABLE})
    loading = HistoryView("cafeteria")
    steps: list[Step] = [
        lambda app: app.show(HISTORY),
        look("page"),
        lambda app: touch(button(app, "学食")),
        lambda app: touch(button(app, "最新に戻る")),
        lambda app: touch(button(app, "さらに表示")),
        lambda app: setattr(app.texts, "lang", "en"),
        lambda app: app.show(HISTORY),
        look("page_en"),
        lambda app: app.show(SessionView(**{**HISTORY.__dict__, "history": loading})),
        look("loading"),
        lambda app: app.show(failed),
        look("failed"),
    ]
    run_app(inbox, size, steps)

    shown_texts, bad, png = seen["page"]
    assert not bad, bad
    assert_painted(png, size)
    tabs = ["ベース", "学食", "教科書"]
    for text in ["履歴: ベース", *tabs, "2 ページ目", "最新に戻る", "さらに表示", "戻る"]:
        assert text in shown_texts, f"{text!r} not in {shown_texts}"
    rows = seen["page_rows"]
    assert rows[0] == ["2026-11-24 13:30", "チャージ", "ベース", "+¥5,000"]
    hours = {24: "13", 23: "12", 22: "11", 21: "10", 20: "09", 19: "18"}  # UTC → JST
    assert [r[0] for r in rows] == [f"2026-11-{d} {h}:30" for d, h in hours.items()]
    assert rows[-1] == ["2026-11-19 18:30", "支払い", "ベース", "−¥480"]
    assert inbox.posted == [
        HistoryRequested("cafeteria"),
        HistoryRequested("base"),
        MoreHistoryRequested(),
    ]
    en_texts, bad, _ = seen["page_en"]
    assert not bad, bad
    assert {"History: Base", "Page 2", "Newest page", "More", "Back"} <= set(en_texts)
    loading_texts, _, _ = seen["loading"]
    assert "Loading…" in loading_texts and "Newest page" not in loading_texts
    failed_texts, bad, _ = seen["failed"]
    assert "The history cannot be shown now." in failed_texts and not bad
    assert {"Base", "Cafeteria", "Textbook", "Back", "More"} <= set(failed_texts)


# ---- sounds (which change of view makes which sound: tests/test_cues.py) -------------------
ACCEPTING = SessionView(State.ACCEPTING, bucket="base", largest_note=10_000)


def until_silent(sounds: Any) -> None:
    """Until the player's thread has given up (the kiosk goes on meanwhile)."""
    deadline = time.monotonic() + 20
    while sounds.enabled:
        assert time.monotonic() < deadline, "the sounds never went silent"
        time.sleep(0.02)


def test_sounds_without_audio_stay_silent_and_say_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from screens.sounds import Sounds

    sounds = Sounds(enabled=True, sound_dir=tmp_path)  # nothing to load there, nor a device
    with caplog.at_level(logging.INFO, logger="paykiosk.sounds"):
        sounds.start()
        sounds.touch()
        sounds(ACCEPTING, SessionView(**{**ACCEPTING.__dict__, "inserted": 1_000}))
        until_silent(sounds)
        sounds.touch()
        sounds.stop()
    said = [r for r in caplog.records if r.name == "paykiosk.sounds"]
    assert len(said) == 1 and said[0].levelno == logging.INFO and "no sound" in said[0].message

    monkeypatch.setenv("PAYKIOSK_SOUND", "0")
    off = Sounds()
    off.start()
    off.touch()
    assert not off.enabled and off._thread is None  # switched off: no player even started


def test_with_no_audio_device_no_player_is_started(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import screens.sounds

    monkeypatch.setattr(screens.sounds, "has_audio_device", lambda: False)
    sounds = screens.sounds.Sounds(enabled=True)
    with caplog.at_level(logging.INFO, logger="paykiosk.sounds"):
        sounds.start()
        until_silent(sounds)
        sounds.touch()
        sounds.stop()
    assert sounds._player is None
    assert "no audio device" in caplog.text


def test_the_player_plays_a_press_through_sdl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The player process with SDL's disk driver, which writes what it plays to a file."""
    import array

    from screens.sounds import Sounds

    played = tmp_path / "played.raw"
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(played))
    monkeypatch.delenv("PULSE_SERVER", raising=False)

    def loudest() -> int:
        written = played.read_bytes()  # 16-bit samples, the last maybe half written
        return max(map(abs, array.array("h", written[: len(written) // 2 * 2])), default=0)

    sounds = Sounds(enabled=True)
    sounds.start()
    try:
        deadline = time.monotonic() + 20
        while not (sounds.playing and played.exists() and played.stat().st_size > 0):
            assert sounds.enabled and time.monotonic() < deadline, "the player did not open"
            time.sleep(0.02)
        assert loudest() == 0  # silence until a press
        sounds.touch()
        while loudest() == 0:
            assert time.monotonic() < deadline, "the press was never heard"
            time.sleep(0.02)
    finally:
        sounds.stop()
    assert sounds.enabled  # it played: nothing said it went silent


def test_the_wavs_are_short_mono_16_bit_and_made_by_the_script(tmp_path: Path) -> None:
    import runpy
    import shutil
    import wave

    from screens.sounds import SOUND_DIR, Wav

    shutil.copy(SOUND_DIR / "make_sounds.py", tmp_path)
    runpy.run_path(str(tmp_path / "make_sounds.py"), run_name="__main__")
    for name in Wav:
        committed = SOUND_DIR / f"{name.value}.wav"
        with wave.open(str(committed)) as wav:
            params = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate())
            assert params == (1, 2, 22050)
            assert wav.getnframes() / wav.getframerate() < 0.3
        assert committed.read_bytes() == (tmp_path / committed.name).read_bytes(), (
            f"{committed.name} is not what make_sounds.py makes: run it and commit"
        )


def test_a_button_press_calls_the_sound_hook_and_a_disabled_one_does_not() -> None:
    from screens import widgets

    presses: list[str] = []
    choose = SessionView(State.CHOOSE_MONEY, member_name="A", buckets=BUCKETS)
    steps: list[Step] = [
        lambda app: app.show(choose),
        lambda app: touch(next(w for w in shown(app.current_screen) if w.text.startswith("学食"))),
        lambda app: touch(
            next(w for w in shown(app.current_screen) if w.text.startswith("教科書"))
        ),
    ]
    widgets.on_press_sound = lambda: presses.append("press")
    try:
        run_app(RecordingInbox(), SIZES[0], steps)
    finally:
        widgets.on_press_sound = None
    assert presses == ["press"]  # the textbook money cannot be charged: no button to press
