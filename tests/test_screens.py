"""The member's screens, rendered offscreen from hand-made views (no engine): the texts on
screen in both languages at 800×480 and 1280×800, no text outgrowing its box or the window,
screenshots for a look, and a simulated touch reaching the engine's intents.

Screenshots go to $PAYKIOSK_SCREENSHOTS (default /tmp/paykiosk-screens).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kiosk.core.session import State
from kiosk.core.view import LANGUAGES, SessionView
from kiosk.engine.inbox import Activity
from screens.i18n import LOCALE_DIR, Texts, parse_po
from screens.layout_check import overgrown, shown, small_targets
from screens.samples import SAMPLES
from tests.support.common import window_shot
from tests.support.offscreen import SIZES, RecordingInbox, assert_painted, run_app

VIEWS = SAMPLES

# What each view must show, per language (the shown texts must contain each of these).
EXPECTED: dict[str, dict[str, list[str]]] = {
    "attract": {"ja": ["カードをタッチしてください"], "en": ["Touch your card"]},
    "looking_up": {"ja": ["カードを読み取っています…"], "en": ["Reading your card…"]},
    "account": {
        "ja": [
            "山田 花子 さん",
            "ベース",
            "学食",
            "教科書",
            "¥12,340",
            "¥3,000",
            "¥49,500",
            "ポイント 120",
            "入金処理中 ¥2,000",
            "チャージ",
            "マネー移動",
            "履歴",
            "終了",
        ],
        "en": [
            "山田 花子",
            "Base",
            "Cafeteria",
            "Textbook",
            "Points: 120",
            "Being credited: ¥2,000",
            "Charge",
            "History",
            "Finish",
        ],
    },
    "choose_money": {
        "ja": [
            "ベース   残高 ¥12,340   (あと ¥37,660 まで)",
            "学食   残高 ¥3,000   (あと ¥27,000 まで)",
            "教科書   残高 ¥49,500   (今はチャージできません)",
            "戻る",
            "終了",
        ],
        "en": ["Textbook   Balance ¥49,500   (cannot be charged now)", "Back"],
    },
    "insert_empty": {
        "ja": [
            "学食にチャージ",
            "お札を入れてください",
            "¥0",
            "今入れられる最大のお札: ¥10,000",
            "キャンセル",
        ],
        "en": ["Charge Cafeteria", "Insert your notes", "Cancel"],
    },
    "insert_notes": {
        "ja": [
            "¥3,000",
            "今入れられる最大のお札: ¥2,000",
            "¥5,000札を返却しました。お取りください。",
            "完了",
        ],
        "en": [
            "Largest note taken now: ¥2,000",
            "Your ¥5,000 note was handed back: please take it.",
            "Done",
        ],
    },
    "insert_notes_off": {
        "ja": ["¥6,000", "今入れられる最大のお札: ¥10,000", "¥2,000 のお札はここでは使えません。"],
        "en": ["Largest note taken now: ¥10,000", "¥2,000 notes are not taken here."],
    },
    "crediting": {
        "ja": ["入金処理中です…しばらくお待ちください"],
        "en": ["Crediting… please wait"],
    },
    "done": {
        "ja": ["チャージしました", "ベース  ¥3,000", "チャージ後の残高: ¥15,340", "OK"],
        "en": ["Charged", "Base  ¥3,000", "New balance: ¥15,340", "OK"],
    },
    "done_refused": {
        "ja": [
            "¥3,000をお預かりしましたが、入金できませんでした。",
            "受付番号: K01-20261123-0001",
            "このコードを読み取ると控えを保存できます。",
            "OK",
        ],
        "en": ["Reference: K01-20261123-0001", "Scan this code to keep a receipt."],
    },
    "done_pending": {
        "ja": ["受付番号: K01-C000043", "このコードを読み取ると控えを保存できます。"],
        "en": ["Reference: K01-C000043", "Scan this code to keep a receipt."],
    },
    "done_kiosk_fault": {  # the journal failed at the close: the truth, not "the wallet is slow"
        "ja": [
            "¥1,000をお預かりしました。",
            "この機械は、いまチャージを記録できません。修理が済みしだいベースに入金されます。"
            "お金は失われません。",
            "生協店舗にお知らせください。",
            "¥5,000のお札が機械の中に残っています。係員にお申し付けください。",
        ],
        "en": [
            "We took ¥1,000.",
            "This kiosk cannot record your charge just now. It will be credited to Base"
            " once the kiosk is repaired; nothing is lost.",
            "Please tell the co-op store.",
        ],
    },
    "done_nothing_taken": {
        "ja": ["OK"],
        "en": ["No money was taken: your note came back."],
    },
    "done_note_held": {
        "ja": [
            "まだ入金されていません。",
            "¥10,000のお札が機械の中に残っています。係員にお申し付けください。",
        ],
        "en": ["A ¥10,000 note is still inside the machine: please ask the staff."],
    },
    "history": {"ja": ["履歴: ベース", "さらに表示", "戻る"], "en": ["History: Base", "More"]},
    "card_not_linked": {
        "ja": [
            "このカードは登録されていません",
            "1. メール登録",
            "2. 大学生協アプリ/ポータルで会員登録",
            "3. マイページにログイン",
            "4. ポケペイ認証",
            "登録が済んだら、もう一度カードをタッチしてください。",
            "https://www.univcoop.jp/",
            "OK",
        ],
        "en": [
            "This card is not registered",
            "1. Register your email address",
            "4. Authenticate with Pokepay",
            "Then touch your card again.",
            "https://www.univcoop.jp/",
        ],
    },
    "card_unreadable": {
        "ja": [
            "カードを読み取れませんでした",
            "もう一度カードをタッチし、画面が変わるまで動かさずにお待ちください。",
            "それでも読み取れない場合は、生協店舗でお問い合わせください。",
        ],
        "en": ["This card could not be read", "OK"],
    },
    "account_suspended": {
        "ja": [
            "このアカウントは停止されています",
            "このカードをお持ちのうえ、生協店舗でお問い合わせください。",
            "OK",
        ],
        "en": ["Please ask at the co-op store, with this card."],
    },
    "wallet_unavailable": {
        "ja": ["お金はお預かりしていません。後でもう一度お試しください。", "no answer in time"],
        "en": ["No cash was taken. Please try again later.", "OK"],
    },
    "out_of_service": {
        "ja": [
            "休止中",
            "紙幣の読み取り機が使えません。",
            "他の端末をご利用いただくか、生協店舗でお問い合わせください。",
            "acceptor: stacker open",
        ],
        "en": ["Out of service", "The note reader is not available."],
    },
    "account_moves": {
        "ja": [
            "学食への ¥2,000 の移動：完了しました",
            "教科書への ¥5,000 の移動：できませんでした（移動していません）",
        ],
        "en": ["Move of ¥2,000 to Cafeteria: done", "Charge", "History"],
    },
    "move_route": {
        "ja": ["マネー移動：移動先を選んでください", "ベース → 学食   (最大 ¥12,340)", "戻る"],
        "en": ["Base → Textbook   (up to ¥500)", "Back"],
    },
    "move_amount": {
        "ja": [
            "ベース → 学食",
            "¥1,500",
            "最大 ¥12,340",
            "+¥100",
            "+¥5,000",
            "全額",
            "クリア",
            "次へ",
        ],
        "en": ["Base → Cafeteria", "¥1,500", "Up to ¥12,340", "+¥1,000", "All of it", "Next"],
    },
    "move_amount_limit": {
        "ja": ["移動できるのは最大 ¥500 です"],
        "en": ["That is the most that can move: ¥500"],
    },
    "move_confirm": {
        "ja": [
            "¥1,500 を移動しますか？",
            "現在",
            "移動後",
            "¥12,340",
            "¥10,840",
            "¥4,500",
            "確定",
            "キャンセル",
        ],
        "en": ["Move ¥1,500?", "Now", "After", "Confirm", "Cancel"],
    },
    "moving": {"ja": ["移動しています…しばらくお待ちください"], "en": ["Moving… please wait"]},
    "moved": {
        "ja": [
            "移動しました",
            "ベース  ¥10,840",
            "学食  ¥4,500",
            "受付番号: K01-M000014",
            "このコードを読み取ると控えを保存できます。",
            "OK",
        ],
        "en": ["Moved", "Base → Cafeteria  ¥1,500", "Reference: K01-M000014"],
    },
    "move_refused": {
        "ja": ["移動していません。", "移動元の残高が足りません。", "OK"],
        "en": ["Nothing was moved.", "There is not that much money to move."],
    },
    "move_processing": {
        "ja": [
            "マネー移動を処理しています。",
            "結果は次にカードをタッチしたときに表示されます。",
            "受付番号: K01-M000015",
        ],
        "en": ["Your move is being processed.", "Reference: K01-M000015"],
    },
    "starting": {
        "ja": ["起動中です…しばらくお待ちください。", "まもなくご利用いただけます。"],
        "en": ["Starting… please wait.", "acceptor: starting"],
    },
    "door_open": {
        "ja": ["係員が点検中です。", "door: cash-box door open"],
        "en": ["Under maintenance by staff.", "Please wait a little, or use another kiosk."],
    },
    "service_key": {
        "ja": [
            "休止中",
            "係員が点検中です。",
            "しばらくお待ちいただくか、他の端末をご利用ください。",
        ],
        "en": ["Under maintenance by staff.", "service: staff service"],
    },
    # staff's own switch in the staff menu: planned, not an error, and it may last
    "staff_switch": {
        "ja": ["休止中", "係員がこの端末を休止しています。", "他の端末をご利用ください。"],
        "en": [
            "Out of service",
            "Staff have taken this kiosk out of service.",
            "Please use another kiosk.",
            "staff switch: taken out of service by staff",
        ],
    },
    "card_reader": {
        "ja": ["カードの読み取り機が使えません。", "card reader: no poll for 5 s"],
        "en": ["The card reader is not available.", "Out of service"],
    },
    "journal_failed": {
        "ja": [
            "この端末は点検が必要です。",
            "他の端末をご利用いただくか、生協店舗にお知らせください。",
        ],
        "en": ["This kiosk needs maintenance.", "journal: unwritable (disk I/O error)"],
    },
}
# Buttons that must not be there.
ABSENT: dict[str, list[str]] = {
    "insert_empty": ["完了", "Done"],
    "insert_notes": ["キャンセル", "Cancel"],
    "out_of_service": ["OK"],
    "starting": ["OK"],
    "card_reader": ["OK"],
    "service_key": ["OK"],
    "staff_switch": [
        "OK",
        "申し訳ありません。ただいまご利用いただけません。",
        "Sorry, this kiosk cannot take cash now.",
        "Please use another kiosk, or tell the co-op store.",
    ],
    "crediting": ["OK"],
    "moving": ["OK"],
    "account_moves": ["マネー移動", "Move money"],  # nothing to move: no button
    "move_refused": [
        "このコードを読み取ると控えを保存できます。",
        "Scan this code to keep a receipt.",
    ],
    # a receipt only for a charge that took cash
    "done_note_held": [
        "このコードを読み取ると控えを保存できます。",
        "Scan this code to keep a receipt.",
    ],
    "done_kiosk_fault": [  # no credit yet, so no receipt number to keep
        "このコードを読み取ると控えを保存できます。",
        "Scan this code to keep a receipt.",
        "wallet",
    ],
    "done_nothing_taken": [
        "このコードを読み取ると控えを保存できます。",
        "Scan this code to keep a receipt.",
    ],
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_screen_in_both_languages(size: tuple[int, int]) -> None:
    results: dict[tuple[str, str], tuple[list[str], list[str], str]] = {}
    steps: list[Callable[[Any], None]] = []
    for name, view in VIEWS.items():
        for lang in LANGUAGES:

            def show(app: Any, view: SessionView = view, lang: str = lang) -> None:
                app.texts.lang = lang
                app.show(view)

            def look(app: Any, name: str = name, lang: str = lang) -> None:
                from kivy.core.window import Window

                assert tuple(Window.size) == size
                screen = app.current_screen
                texts = [label.text for label in shown(screen)]
                png = window_shot(f"{name}-{lang}-{size[0]}x{size[1]}")
                results[name, lang] = (
                    texts,
                    overgrown(screen, size) + small_targets(screen, size),
                    png,
                )

            steps += [show, look]
    run_app(RecordingInbox(), size, steps)

    for (name, lang), (texts, bad, png) in results.items():
        for text in EXPECTED[name][lang]:
            assert text in texts, f"{name} ({lang}, {size}): {text!r} not in {texts}"
        for text in ABSENT.get(name, []):
            assert text not in texts, f"{name} ({lang}): {text!r} should not be shown"
        other = "English" if lang == "ja" else "日本語"
        assert other in texts, f"{name} ({lang}): no language toggle"
        assert not bad, f"{name} ({lang}, {size}): {bad}"
        assert_painted(png, size)


def test_a_touch_on_a_money_calls_choose_money_and_a_disabled_one_nothing() -> None:
    from kivy.tests.common import UnitTestTouch

    from kiosk.core.events import MoneyChosen

    inbox = RecordingInbox()
    seen: dict[str, Any] = {}

    def button(app: Any, text: str) -> Any:
        return next(w for w in shown(app.current_screen) if w.text.startswith(text))

    def touch(widget: Any) -> None:
        t = UnitTestTouch(*widget.to_window(*widget.center))
        t.touch_down()
        t.touch_up()

    steps: list[Callable[[Any], None]] = [
        lambda app: app.show(VIEWS["choose_money"]),
        lambda app: touch(button(app, "学食")),
        lambda app: touch(button(app, "教科書")),  # not chargeable: shown, not pressable
        lambda app: touch(button(app, "English")),
        lambda app: seen.update(texts=[w.text for w in shown(app.current_screen)]),
    ]
    run_app(inbox, SIZES[0], steps)

    assert inbox.posted == [MoneyChosen("cafeteria"), Activity()]
    assert "Back" in seen["texts"]  # the toggle re-rendered the screen in English


def test_the_warm_up_leaves_the_current_view_on_screen_and_posts_nothing() -> None:
    """The kiosk draws every screen with made-up members once at start: none of them may stay
    on screen, reach the engine or change the language."""
    from screens.samples import BUCKETS

    inbox = RecordingInbox()
    seen: dict[str, Any] = {}
    member = SessionView(State.ACCOUNT, member_name="佐藤 一郎", buckets=BUCKETS)

    def texts(app: Any) -> list[str]:
        return [w.text for w in shown(app.current_screen)]

    steps: list[Callable[[Any], None]] = [
        lambda app: app.show(SessionView(State.IDLE)),
        lambda app: app.warm_up(),
        lambda app: seen.update(screen=app.current_screen.name, lang=app.texts.lang),
        lambda app: seen.update(attract=texts(app)),
        lambda app: app.show(member),
        lambda app: seen.update(account=texts(app)),
    ]
    run_app(inbox, SIZES[0], steps)

    assert inbox.posted == []
    assert (seen["screen"], seen["lang"]) == ("attract", "ja")
    assert "カードをタッチしてください" in seen["attract"]
    assert any("佐藤 一郎" in t for t in seen["account"])
    assert not any("山田" in t for t in seen["attract"] + seen["account"])


def test_a_name_the_main_font_cannot_draw_is_drawn_with_the_fallback() -> None:
    """IPAex Gothic has no 𠮷: the member's name is drawn with Noto, not as an empty box (the
    main font draws 𠮷 exactly as it draws another character it lacks), and a later member's
    plain name goes back to the main font."""
    from kivy.core.text import DEFAULT_FONT
    from kivy.core.text import Label as CoreLabel

    from screens.fonts import FALLBACK_FONT, IPAEX_GOTHIC
    from screens.glyphs import Coverage
    from screens.samples import BUCKETS

    seen: dict[str, Any] = {}
    ipaex = Coverage.of_file(IPAEX_GOTHIC)
    lacking = next(chr(c) for c in range(0x20000, 0x2A6E0) if chr(c) not in ipaex and c != 0x20BB7)

    def name_label(app: Any) -> Any:
        return next(w for w in shown(app.current_screen) if "田" in w.text)

    def pixels(text: str, font: str) -> bytes:
        label = CoreLabel(text=text, font_name=font, font_size=40)
        label.refresh()
        return bytes(label.texture.pixels)

    steps: list[Callable[[Any], None]] = [
        lambda app: app.show(SessionView(State.ACCOUNT, member_name="𠮷田 花子", buckets=BUCKETS)),
        lambda app: seen.update(rare=name_label(app).font_name),
        lambda app: app.show(SessionView(State.ACCOUNT, member_name="吉田 花子", buckets=BUCKETS)),
        lambda app: seen.update(plain=name_label(app).font_name),
        lambda app: seen.update(
            box=pixels("\U00020bb7", DEFAULT_FONT),
            other_box=pixels(lacking, DEFAULT_FONT),
            drawn=pixels("\U00020bb7", FALLBACK_FONT),
        ),
    ]
    run_app(RecordingInbox(), SIZES[0], steps)

    assert (seen["rare"], seen["plain"]) == (FALLBACK_FONT, DEFAULT_FONT)
    assert seen["box"] == seen["other_box"]  # what the member would have seen: a box
    assert seen["drawn"] != seen["box"]


def test_the_catalogs_hold_every_text_the_screens_use() -> None:
    source = "\n".join(p.read_text() for p in sorted(Path("screens").glob("*.py")))
    used = set(re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"\s*\)', source))
    from screens.base import MONEY_NAMES
    from screens.history import KINDS
    from screens.moved import REFUSALS

    used |= {*MONEY_NAMES.values(), *KINDS.values(), *REFUSALS.values()}
    assert "Touch your card" in used and "Textbook" in used
    for lang in LANGUAGES:
        path = LOCALE_DIR / lang / "LC_MESSAGES" / "paykiosk.po"
        catalog = parse_po(path.read_text(encoding="utf-8"), str(path))
        assert not used - catalog.keys(), f"{lang}: missing {sorted(used - catalog.keys())}"
        if lang == "ja":
            assert all(catalog[m] for m in used), "ja: untranslated texts"
    texts = Texts("ja")
    assert texts("{name}").format(name="A") == "A さん"
    texts.lang = "en"
    assert texts("Touch your card") == "Touch your card"


def test_a_missing_font_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from screens.fonts import FONT_ENV, FontMissing, font_path

    monkeypatch.setenv(FONT_ENV, str(tmp_path / "none.ttc"))
    with pytest.raises(FontMissing, match="fonts-ipaexfont-gothic"):
        font_path()


def test_paykiosk_screens_renders_the_samples_to_png_files(tmp_path: Path) -> None:
    import subprocess
    import sys

    command = [sys.executable, "-m", "kiosk", "screens", "--out", str(tmp_path)]
    result = subprocess.run(
        [*command, "--size", "800x480", "--only", "done", "--only", "attract", "--lang", "ja"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "attract-ja-800x480.png",
        "done-ja-800x480.png",
    ]
    png = (tmp_path / "done-ja-800x480.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[16:24] == (800).to_bytes(4, "big") + (
        480
    ).to_bytes(4, "big")
    bad = subprocess.run(
        [*command, "--only", "nothing"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "no sample screen 'nothing'" in bad.stderr


@pytest.mark.parametrize("size", ["1024x600", "1920x1080"])
def test_every_screen_fits_a_1024x600_and_a_full_hd_display(tmp_path: Path, size: str) -> None:
    """The other panels a co-op may buy: no text outgrows its box, no button is too small
    (``paykiosk screens --check``, in its own process: its window opens at the size; one
    process per size, so the two can run side by side)."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "kiosk", "screens", "--out", str(tmp_path), "--check"]
    result = subprocess.run(
        [*command, "--size", size],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    from screens.staff_samples import STAFF_SAMPLES

    assert len(list(tmp_path.glob(f"*-{size}.png"))) == 2 * (len(SAMPLES) + len(STAFF_SAMPLES))
