"""The staff menu's screens, rendered offscreen from hand-made views (no desk): the texts on
screen in both languages at 800×480 and 1280×800, nothing outgrowing its box or under the
header, no line break Japanese does not make, screenshots for a look, and simulated touches
reaching the desk's intents.

Screenshots go to $PAYKIOSK_SCREENSHOTS (default /tmp/paykiosk-screens) as ``staff_*``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from kiosk.core.session import State
from kiosk.core.view import LANGUAGES, SessionView
from kiosk.staff.view import Desk, StaffView
from screens.layout_check import layout_problems, overgrown, shown, small_targets
from screens.staff_samples import REFUSED, STAFF_SAMPLES
from tests.support.common import window_shot
from tests.support.offscreen import SIZES, RecordingInbox, assert_painted, run_app

EXPECTED: dict[str, dict[str, list[str]]] = {
    "choose_name": {
        "ja": ["係員ログイン", "係員を選んでください", "佐藤", "鈴木", "Smith", "キャンセル"],
        "en": ["Staff entry", "Who are you?", "高橋", "Cancel"],
    },
    "pin": {
        "ja": ["佐藤 さんの暗証番号", "係員カードで入室", "● ● ● ○", "消去", "OK", "キャンセル"],
        "en": ["PIN for 佐藤", "With a staff card", "● ● ● ○", "Erase", "Cancel"],
    },
    "pin_wrong": {
        "ja": [
            "鈴木 さんの暗証番号",
            "サービスキーで入室",
            "○ ○ ○ ○",
            "暗証番号が違います (あと 3 回)",
        ],
        "en": ["With the service key", "Wrong PIN: 3 tries left"],
    },
    "locked": {
        "ja": [
            "暗証番号の誤りが続いたため、係員ログインはロックされています。",
            "閉じる",
        ],
        "en": ["Staff entry is locked after too many wrong PINs.", "Close"],
    },
    "menu": {
        "ja": [
            "係員メニュー",
            "ログイン中: 佐藤",
            "状態",
            "金庫",
            "回収",
            "要対応案件 (3)",
            "休止にする",
            "イベント履歴",
            "CSV出力",
            "アプリ再起動",
            "月別アーカイブ",
            "閉じる",
        ],
        "en": [
            "Staff menu",
            "Signed in: 佐藤",
            "Status",
            "Cash box",
            "Collection",
            "Staff cases (3)",
            "Take out of service",
            "Events",
            "Export CSV",
            "Restart the app",
            "Close",
        ],
    },
    "menu_near_full": {
        "ja": [
            "金庫がまもなく満杯です。回収してください。",
            "利用を再開",
            "端末を休止中にしました",
            "会員向けに休止中 (係員による停止)",
        ],
        "en": [
            "The cash box is nearly full: please collect it.",
            "Back in service",
            "The kiosk is out of service",
            "Staff cases (0)",
        ],
    },
    "status": {
        "ja": [
            "未送信の入金",
            "2 (oldest 14 min)",
            "入金 (確定 / 拒否)",
            "未処理の案件",
            "機器",
            "回収記録なしの金庫取り外し",
            "reader: no answer (2026-12-01 10:14:52)",
            "戻る",
        ],
        "en": [
            "Credits waiting",
            "Staff cases open",
            "Cash box taken out without a collection",
            "Device",
            "Clock",
            "2026-12-01 10:15:00 JST",
            "Back",
        ],
    },
    "cashbox": {
        "ja": [
            "金庫 (前回の回収以降)",
            "¥1,000",
            "132 枚",
            "¥132,000",
            "合計",
            "203 枚",
            "¥613,000",
            "203 / 1000 枚 (20 %)",
            "回収",
            "戻る",
        ],
        "en": [
            "Cash box since the last collection",
            "41 notes",
            "¥205,000",
            "Total",
            "203 of 1000 notes (20 %)",
            "Collection",
            "Back",
        ],
    },
    "cashbox_near_full": {
        "ja": [
            "556 / 600 枚 (93 %)",
            "金庫がまもなく満杯です。回収してください。",
            "回収の記録なしの取り外し: 1 回",
        ],
        "en": ["556 of 600 notes (93 %)", "Times taken out without a collection: 1"],
    },
    "count": {
        "ja": [
            "回収: 紙幣の枚数を入力",
            "¥5,000",
            "131 枚",
            "0 枚",
            "+",
            "+10",
            "−",
            "数えた金額: ¥407,000 (161 枚)",
            "記録する",
            "戻る",
        ],
        "en": [
            "Collection: count the notes",
            "27 notes",
            "¥270,000",
            "Counted: ¥407,000 (161 notes)",
            "Save",
            "Back",
        ],
    },
    "record": {
        "ja": [
            "回収を記録しました",
            STAFF_SAMPLES["record"].record_text,
            "差額: −¥1,000",
            "メニューに戻る",
        ],
        "en": ["Collection recorded", "Difference: −¥1,000", "Back to menu"],
    },
    "cases": {
        "ja": [
            "要対応案件",
            "案件 K01-20261128-0004 を処理済みにしました",
            "K01-20261130-0001",
            "入金拒否",
            "¥3,000",
            "山田 花子",
            "紙幣未入金",
            "紙幣未確定",
            "開く",
            "戻る",
        ],
        "en": [
            "Staff cases",
            "Case K01-20261128-0004 resolved",
            "Credit refused",
            "Note not credited",
            "Note not settled",
            "Open",
            "Back",
        ],
    },
    "cases_empty": {"ja": ["未処理の案件はありません", "戻る"], "en": ["No open cases"]},
    "case": {
        "ja": [
            "案件 K01-20261130-0001",
            "入金拒否",
            "¥3,000",
            "拒否",
            "山田 花子",
            "0123…ef",
            "wallet: account suspended (403)",
            "今すぐ再送",
            "現金で返金済み",
            "手作業で入金済み",
            "戻る",
        ],
        "en": [
            "Case K01-20261130-0001",
            "Credit refused",
            "refused",
            "Retry now",
            "Refunded in cash",
            "Credited by hand",
            "Back",
        ],
    },
    "case_move": {  # a move took no cash: retried or settled, never refunded
        "ja": ["移動拒否（現金なし）", "¥1,500", "今すぐ再送", "手作業で入金済み"],
        "en": ["Move refused (no cash)", "Retry now", "Credited by hand"],
    },
    "case_journal_file": {  # nothing to pay back: staff only mark it checked
        "ja": ["ジャーナル復元", "確認済み（金銭なし）"],
        "en": [
            "Journal file restored",
            "file removed; restored from the open connection",
            "Checked: no money involved",
        ],
    },
    "case_note": {
        "ja": [
            "紙幣未入金",
            "できませんでした: case K01-20261130-0002 is already resolved",
            "現金で返金済み",
        ],
        "en": ["Note not credited", "Not done: case K01-20261130-0002 is already resolved"],
    },
    "events": {
        "ja": ["最近のイベント", "entry: 佐藤 (card)", "acceptor: jam in the acceptor", "戻る"],
        "en": ["Recent events", "entry: 佐藤 (card)", "fault", "Back"],
    },
    "restart": {
        "ja": ["アプリ再起動", "チャージ機のアプリを再起動しますか？", "今すぐ再起動", "戻る"],
        "en": ["Restart the app", "Restart the kiosk app now?", "Restart now", "Back"],
    },
    "menu_exported": {
        "ja": ["4 個のファイルを出力しました"],
        "en": ["Exported 4 files"],
    },
    "acceptor": {
        "ja": ["紙幣識別機", "状態: 準備完了", "¥2,000: 停止", "¥10,000: 受付", "紙幣テスト"],
        "en": ["State: Ready", "¥1,000: on", "¥2,000: off", "Reset the acceptor", "Back"],
    },
    "acceptor_fault": {
        "ja": ["状態: 異常: failure stacker_motor", "紙幣識別機をリセットしています"],
        "en": ["State: Fault: failure stacker_motor", "The acceptor is resetting"],
    },
    "acceptor_test": {
        "ja": [
            "テストする紙幣を入れてください。",
            "識別OK・返却しました",
            "受付不可（受付停止中）・返却しました",
        ],
        "en": ["¥10,000", "recognised, handed back", "refused (not a note it knows), handed back"],
    },
    "acceptor_test_empty": {
        "ja": ["まだ紙幣はありません。", "テスト終了"],
        "en": ["Every note is handed back. Nothing is counted or credited.", "End the test"],
    },
    "day_close": {
        "ja": [
            "日計: 2026-12-07",
            "1 個のファイルを出力しました",
            "前日",
            "翌日",
            "ウォレットと照合",
            "CSV出力",
            "戻る",
        ],
        "en": [
            "Daily close: 2026-12-07",
            "Day before",
            "Day after",
            "Check with the wallet",
            "Export CSV",
            "Back",
        ],
    },
    "speaker": {
        "ja": ["音声と音量", "音声案内: オン", "オフにする", "音量: 80 %", "−", "+", "戻る"],
        "en": ["Voice and volume", "Voice guidance: on", "Switch off", "Volume: 80 %", "Back"],
    },
    "speaker_off": {
        "ja": ["音声案内: オフ", "オンにする", "音量: 0 %"],
        "en": ["Voice guidance: off", "Switch on", "Volume: 0 %"],
    },
    "archives": {
        "ja": [
            "月別アーカイブ",
            "2026-08 分を出力しました",
            "2026-09",
            "18,204 件",
            "2.3 MB",
            "検証済み",
            "破損",
            "USBへ出力",
            "全 6 か月中 1–5",
            "新しい月",
            "古い月",
            "戻る",
        ],
        "en": [
            "Monthly archives",
            "Month 2026-08 exported",
            "17,655 rows",
            "Verified",
            "Damaged",
            "To USB",
            "Months 1–5 of 6",
            "Newer",
            "Older",
        ],
    },
    "archives_checking": {
        "ja": ["アーカイブを検証しています…", "戻る"],
        "en": ["Checking the archives…", "Back"],
    },
    "archives_empty": {
        "ja": ["アーカイブはまだありません。"],
        "en": ["No archives yet."],
    },
}
ABSENT: dict[str, list[str]] = {
    "case_move": ["現金で返金済み", "Refunded in cash"],
    "case_note": ["今すぐ再送", "Retry now"],  # only a refused credit is sent again
    "case_journal_file": [
        "現金で返金済み",
        "Refunded in cash",
        "手作業で入金済み",
        "Credited by hand",
        "今すぐ再送",
        "Retry now",
    ],
    "menu": ["利用を再開", "Back in service", "金庫がまもなく満杯です。回収してください。"],
    "archives": ["2026-04"],  # on the next page
    "archives_checking": ["No archives yet.", "アーカイブはまだありません。"],
}


class RecordingDesk:
    """A desk that records which intents the screens called."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        if not name.startswith("staff_"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name, *args))


def touch(widget: Any) -> None:
    from kivy.tests.common import UnitTestTouch

    t = UnitTestTouch(*widget.to_window(*widget.center))
    t.touch_down()
    t.touch_up()


def texts(app: Any) -> list[str]:
    return [w.text for w in shown(app.current_screen)]


def labelled(app: Any, text: str) -> Any:
    return next(w for w in shown(app.current_screen) if w.text == text)


def under_header(screen: Any, size: tuple[int, int]) -> list[str]:
    """Texts of the body drawn over the header band (a body taller than its space)."""
    from kivy.uix.boxlayout import BoxLayout

    page = screen.children[0]
    header = page.children[-1]  # the first added
    header_bottom = header.to_window(header.x, header.y)[1]
    bad = []
    for part in page.children[:-1]:
        assert isinstance(part, BoxLayout)
        for label in shown(part):
            top = label.to_window(label.x, label.top)[1]
            if top > header_bottom + 1:
                bad.append(f"{label.text!r}: top {top:.0f} over the header at {header_bottom:.0f}")
    return bad


def test_every_desk_state_but_closed_has_a_sample_and_a_screen() -> None:
    from screens.staff_app import SCREEN_FOR_DESK

    desks = {view.desk for view in STAFF_SAMPLES.values()}
    assert desks == set(Desk) - {Desk.CLOSED} == set(SCREEN_FOR_DESK)
    assert set(EXPECTED) == set(STAFF_SAMPLES)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_staff_screen_in_both_languages(size: tuple[int, int]) -> None:
    results: dict[tuple[str, str], tuple[list[str], list[str], str]] = {}
    steps: list[Callable[[Any], None]] = []
    for name, view in STAFF_SAMPLES.items():
        for lang in LANGUAGES:

            def show(app: Any, view: StaffView = view, lang: str = lang) -> None:
                app.texts.lang = lang
                app.show_staff(view)

            def look(app: Any, name: str = name, lang: str = lang) -> None:
                from kivy.core.window import Window

                assert tuple(Window.size) == size
                screen = app.current_screen
                results[name, lang] = (
                    texts(app),
                    layout_problems(screen, size) + under_header(screen, size),
                    window_shot(f"staff_{name}-{lang}-{size[0]}x{size[1]}"),
                )

            steps += [show, look]
    run_app(RecordingInbox(), size, steps)

    for (name, lang), (shown_texts, bad, png) in results.items():
        for text in EXPECTED[name][lang]:
            assert text in shown_texts, f"{name} ({lang}, {size}): {text!r} not in {shown_texts}"
        for text in ABSENT.get(name, []):
            assert text not in shown_texts, f"{name} ({lang}): {text!r} should not be shown"
        other = "English" if lang == "ja" else "日本語"
        assert other in shown_texts, f"{name} ({lang}): no language toggle"
        assert not bad, f"{name} ({lang}, {size}): {bad}"
        assert_painted(png, size)


def test_touches_reach_the_desk() -> None:
    """The PIN pad's digits and OK, a COUNT + and Save, a CASE's resolutions and the menu's
    buttons call the desk's intents; a disabled OK calls nothing."""
    desk = RecordingDesk()
    inbox = RecordingInbox()
    pin = replace(STAFF_SAMPLES["pin"], pin_digits=0)

    def row_button(app: Any, denomination: str, text: str) -> Any:
        row = labelled(app, denomination).parent
        return next(w for w in shown(row) if w.text == text)

    steps: list[Callable[[Any], None]] = [
        lambda app: setattr(app, "staff", desk),
        lambda app: app.show_staff(pin),
        lambda app: touch(labelled(app, "1")),
        lambda app: touch(labelled(app, "2")),
        lambda app: touch(labelled(app, "0")),
        lambda app: touch(labelled(app, "OK")),  # disabled: under pin_length digits
        lambda app: app.show_staff(replace(pin, pin_digits=4)),
        lambda app: touch(labelled(app, "消去")),
        lambda app: touch(labelled(app, "OK")),
        lambda app: app.show_staff(STAFF_SAMPLES["count"]),
        lambda app: touch(row_button(app, "¥5,000", "+")),
        lambda app: touch(row_button(app, "¥1,000", "+10")),
        lambda app: touch(row_button(app, "¥2,000", "−")),
        lambda app: touch(row_button(app, "¥5,000", "−")),  # disabled: none counted
        lambda app: touch(labelled(app, "記録する")),
        lambda app: app.show_staff(STAFF_SAMPLES["case"]),
        lambda app: touch(labelled(app, "現金で返金済み")),
        lambda app: touch(labelled(app, "今すぐ再送")),
        lambda app: touch(labelled(app, "手作業で入金済み")),
        lambda app: app.show_staff(STAFF_SAMPLES["menu"]),
        lambda app: touch(labelled(app, "回収")),
        lambda app: touch(labelled(app, "休止にする")),
        lambda app: touch(labelled(app, "閉じる")),
        lambda app: app.show_staff(STAFF_SAMPLES["cases"]),
        lambda app: touch(next(w for w in shown(app.current_screen) if w.text == "開く")),
        lambda app: app.show_staff(STAFF_SAMPLES["menu"]),
        lambda app: touch(labelled(app, "音声と音量")),
        lambda app: app.show_staff(STAFF_SAMPLES["speaker"]),
        lambda app: touch(labelled(app, "オフにする")),
        lambda app: touch(labelled(app, "+")),
        lambda app: touch(labelled(app, "−")),
        lambda app: app.show_staff(STAFF_SAMPLES["speaker_off"]),
        lambda app: touch(labelled(app, "オンにする")),
        lambda app: app.show_staff(STAFF_SAMPLES["cashbox"]),
        lambda app: touch(labelled(app, "日計")),
        lambda app: app.show_staff(STAFF_SAMPLES["day_close"]),
        lambda app: touch(labelled(app, "前日")),
        lambda app: touch(labelled(app, "翌日")),
        lambda app: touch(labelled(app, "CSV出力")),
        lambda app: app.show_staff(replace(STAFF_SAMPLES["day_close"], last_day=True)),
        lambda app: touch(labelled(app, "翌日")),  # disabled: no day after today
        lambda app: app.show_staff(STAFF_SAMPLES["menu"]),
        lambda app: touch(labelled(app, "月別アーカイブ")),
        lambda app: app.show_staff(STAFF_SAMPLES["archives"]),
        lambda app: touch(row_button(app, "2026-06", "USBへ出力")),
        lambda app: touch(row_button(app, "2026-07", "USBへ出力")),  # disabled: damaged
        lambda app: touch(labelled(app, "新しい月")),  # disabled: the first page
        lambda app: touch(labelled(app, "古い月")),
        lambda app: app.show_staff(replace(STAFF_SAMPLES["archives"], busy=True)),
        lambda app: touch(row_button(app, "2026-09", "USBへ出力")),  # disabled: busy
    ]
    run_app(inbox, SIZES[0], steps)

    reference = REFUSED.reference
    assert desk.calls == [
        ("staff_digit", "1"),
        ("staff_digit", "2"),
        ("staff_digit", "0"),
        ("staff_erase",),
        ("staff_enter",),
        ("staff_count", 5_000, 1),
        ("staff_count", 1_000, 10),
        ("staff_count", 2_000, -1),
        ("staff_count_save",),
        ("staff_resolve", reference, "refunded"),
        ("staff_retry", reference),
        ("staff_resolve", reference, "credited_manually"),
        ("staff_open", Desk.COUNT),
        ("staff_service", True),
        ("staff_close",),
        ("staff_case", reference),
        ("staff_open", Desk.SPEAKER),
        ("staff_voice", False),
        ("staff_volume", 1),
        ("staff_volume", -1),
        ("staff_voice", True),
        ("staff_open", Desk.DAY_CLOSE),
        ("staff_day", -1),
        ("staff_day", 1),
        ("staff_day_export",),
        ("staff_open", Desk.ARCHIVES),
        ("staff_archive_export", "2026-06"),
        ("staff_archive_page", 1),
    ]
    assert inbox.posted == []  # nothing of the staff menu reaches the member's engine


def test_the_pin_pad_shows_dots_never_digits() -> None:
    seen: dict[str, Any] = {}
    pad = set("0123456789") | {"OK", "消去", "English", "キャンセル"}
    steps: list[Callable[[Any], None]] = [
        lambda app: app.show_staff(replace(STAFF_SAMPLES["pin"], pin_digits=6, pin_length=4)),
        lambda app: seen.update(texts=texts(app)),
    ]
    run_app(RecordingInbox(), SIZES[0], steps)

    assert "● ● ● ● ● ●" in seen["texts"]  # six typed, past the shortest PIN: no open dots
    others = [t for t in seen["texts"] if t not in pad]
    assert not [t for t in others if any(c.isdigit() for c in t)], others


def test_member_views_wait_under_the_staff_menu_and_come_back_when_it_closes() -> None:
    """A member view arriving while the menu is up is kept, not shown; CLOSED shows it. The
    language toggle re-renders the staff screen and posts no member activity."""
    inbox = RecordingInbox()
    seen: dict[str, Any] = {}
    steps: list[Callable[[Any], None]] = [
        lambda app: app.show_staff(STAFF_SAMPLES["menu"]),
        lambda app: app.show(SessionView(State.IDLE)),
        lambda app: seen.update(under=app.current_screen.name, view=app.view.state),
        lambda app: touch(labelled(app, "English")),
        lambda app: seen.update(toggled=(app.current_screen.name, texts(app))),
        lambda app: app.show_staff(StaffView(Desk.CLOSED)),
        lambda app: seen.update(closed=(app.current_screen.name, texts(app))),
    ]
    run_app(inbox, SIZES[0], steps)

    assert seen["under"] == "staff_menu" and seen["view"] is State.IDLE
    assert seen["toggled"][0] == "staff_menu" and "Staff menu" in seen["toggled"][1]
    assert seen["closed"][0] == "attract" and "Touch your card" in seen["closed"][1]
    assert inbox.posted == []


def test_the_menu_counts_down_to_its_deadline() -> None:
    seen: dict[str, Any] = {}
    view = replace(STAFF_SAMPLES["menu"], deadline=time.monotonic() + 20.5)
    steps: list[Callable[[Any], None]] = [
        lambda app: app.show_staff(view),
        lambda app: seen.update(texts=texts(app)),
    ]
    run_app(RecordingInbox(), SIZES[0], steps)

    assert any(t in seen["texts"] for t in ("残り 20 秒", "残り 19 秒", "残り 21 秒")), seen


def test_long_lists_fit_a_small_display() -> None:
    """Sixteen staff names, seven open cases, twenty status rows: nothing outgrows its box or
    slides under the header, every button stays a 9 mm target."""
    from kiosk.staff.view import StatusRow
    from screens.staff_samples import CASES

    names = tuple(f"Staff {n}" for n in range(16))
    views = [
        StaffView(Desk.CHOOSE_NAME, via="key", names=names[:12]),
        StaffView(Desk.CHOOSE_NAME, via="key", names=names),
        replace(STAFF_SAMPLES["cases"], cases=CASES * 3),
        replace(
            STAFF_SAMPLES["status"],
            status=tuple(StatusRow("Device", f"device {n}: ok") for n in range(20)),
        ),
    ]
    size = SIZES[0]
    found: list[str] = []
    steps: list[Callable[[Any], None]] = []
    for view in views:

        def look(app: Any, view: StaffView = view) -> None:
            app.show_staff(view)

        def check(app: Any, view: StaffView = view) -> None:
            screen = app.current_screen
            bad = overgrown(screen, size) + small_targets(screen, size) + under_header(screen, size)
            found.extend(f"{view.desk}: {problem}" for problem in bad)

        steps += [look, check]
    run_app(RecordingInbox(), size, steps)

    assert not found


def test_a_summary_too_long_for_a_qr_code_is_shown_without_one_not_a_blank_page() -> None:
    """A day with many reconciliation findings: more text than a QR code holds (2,953 bytes)."""
    findings = "\n".join(f"mismatch {n}: wallet-only top-up ¥1,000 tx-{n:08d}" for n in range(120))
    long_day = replace(STAFF_SAMPLES["day_close"], record_text=findings)
    seen: dict[str, list[str]] = {}
    steps: list[Callable[[Any], None]] = [
        lambda app: app.show_staff(long_day),
        lambda app: seen.update(texts=[w.text for w in shown(app.current_screen)]),
    ]
    run_app(RecordingInbox(), SIZES[0], steps)
    assert "QRコードには長すぎます。CSVで出力してください。" in seen["texts"]
    assert "CSV出力" in seen["texts"] and findings in seen["texts"]
