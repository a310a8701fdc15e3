"""What the kiosk says (screens/voice.py): a prompt for every member state in both languages,
amounts as a person says them, the right prompts in the right order through a charge, and
nothing said to an empty hall."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from kiosk.core.events import CreditOutcome, MoveOutcome, MoveSettled, Notice
from kiosk.core.session import State
from kiosk.core.view import LANGUAGES, SessionView
from screens.i18n import Texts
from screens.samples import SAMPLES
from screens.voice import (
    ENTERED,
    FIXED,
    WARN_S,
    Prompt,
    kanji_number,
    prompt_for,
    spoken_yen,
    warning_for,
)

TEXTS = {lang: Texts(lang) for lang in LANGUAGES}
KANA_OR_KANJI = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def said(prompt: Prompt | None, lang: str = "ja") -> tuple[str, ...]:
    return () if prompt is None else prompt.text(TEXTS[lang], lang)


def test_every_member_state_has_its_prompt_in_both_languages() -> None:
    assert set(ENTERED) == set(State)
    by_state: dict[State, list[SessionView]] = {}
    for view in SAMPLES.values():
        by_state.setdefault(view.state, []).append(view)
    missing = set(State) - set(by_state)
    assert not missing, f"no sample view for {missing}"
    for state, views in by_state.items():
        for view in views:
            # a member who just used the kiosk (IDLE and OUT_OF_SERVICE speak only then)
            before = SessionView(State.ACCOUNT) if state is not State.ACCOUNT else None
            if state is State.DONE and view.outcome is None:
                continue  # the result is said when its outcome is known
            prompt = prompt_for(before, view)
            assert prompt is not None and prompt.lines, state
            ja, en = said(prompt, "ja"), said(prompt, "en")
            assert len(ja) == len(en) == len(prompt.lines)
            for sentence in ja:
                # translated, and nothing left for the voice to spell out letter by letter
                assert KANA_OR_KANJI.search(sentence), (state, sentence)
                assert not re.search(r"[A-Za-z{}¥]", sentence.replace("OK", "")), sentence
            for sentence in en:
                assert sentence.isascii() and "{" not in sentence, sentence


def test_amounts_are_said_as_a_person_says_them() -> None:
    cases = {
        1: "一",
        10: "十",
        1_000: "千",
        2_000: "二千",
        6_000: "六千",
        10_000: "一万",
        12_340: "一万二千三百四十",
        100_000: "十万",
        111_111: "十一万千百十一",
        50_000_000: "五千万",
        123_456_789: "一億二千三百四十五万六千七百八十九",
    }
    for number, words in cases.items():
        assert kanji_number(number) == words
    assert spoken_yen(6_000, "ja") == "六千円"
    assert spoken_yen(6_000, "en") == "6,000 yen"


def test_a_charge_is_talked_through_in_order() -> None:
    account = SessionView(State.ACCOUNT, member_name="山田 花子")
    choose = SessionView(State.CHOOSE_MONEY)
    empty = SessionView(State.ACCEPTING, bucket="base", remaining=7_000, largest_note=5_000)
    one = replace(empty, inserted=1_000, remaining=6_000)
    two = replace(one, inserted=6_000, remaining=1_000, largest_note=1_000)
    back = replace(two, notice=Notice.NOTE_RETURNED, notice_amount=5_000)
    crediting = replace(two, state=State.CREDITING)
    done = replace(
        two, state=State.DONE, credited=6_000, new_balance=18_340, outcome=CreditOutcome.CONFIRMED
    )
    steps = [
        (SessionView(State.LOOKING_UP), account),
        (account, choose),
        (choose, empty),
        (empty, one),
        (one, two),
        (two, back),
        (back, crediting),
        (crediting, done),
    ]
    heard = [said(prompt_for(before, after)) for before, after in steps]
    assert heard == [
        ("現金でチャージするときは、チャージを押してください。",),
        ("チャージするマネーを選んでください。",),
        ("お札を入れてください。", "今入れられるのは五千円札までです。"),
        ("合計千円です。", "続けてお札を入れるか、終わったら完了を押してください。"),
        ("合計六千円です。", "今入れられるのは千円札までです。"),
        ("五千円札は上限を超えるため返却しました。お取りください。",),
        ("入金しています。しばらくお待ちください。",),
        ("ベースに六千円チャージしました。", "残高は一万八千三百四十円です。"),
    ]
    assert said(prompt_for(crediting, done), "en") == (
        "6,000 yen was charged to Base.",
        "The balance is 18,340 yen.",
    )
    # "please wait" only if crediting takes a while: a quick result takes its place
    crediting_prompt = prompt_for(back, crediting)
    assert crediting_prompt is not None and crediting_prompt.pause_s > 0


def test_each_result_and_error_is_said() -> None:
    base = SessionView(State.CREDITING, bucket="cafeteria", inserted=3_000)
    outcomes = {
        CreditOutcome.BEING_CREDITED: "三千円をお預かりしました。",
        CreditOutcome.REFUSED: "三千円をお預かりしましたが、入金できませんでした。",
        CreditOutcome.NOTHING_TAKEN: "お札は返却されました。入金はありません。",
        CreditOutcome.KIOSK_FAULT: "三千円をお預かりしました。",
    }
    for outcome, first in outcomes.items():
        done = replace(base, state=State.DONE, outcome=outcome)
        assert said(prompt_for(base, done))[0] == first, outcome
    held = replace(base, state=State.DONE, outcome=CreditOutcome.NOTE_HELD, held=5_000)
    assert said(prompt_for(base, held)) == (
        "五千円札が機械の中に残っています。",
        "係員にお申し付けください。",
    )
    moved = SessionView(
        State.MOVED,
        move=SAMPLES["move_confirm"].move,
        move_result=MoveSettled(MoveOutcome.MOVED, None, 10_840, 4_500),
    )
    assert said(prompt_for(SessionView(State.MOVING), moved)) == (
        "移動しました。",
        "ベースの残高は一万八百四十円です。",
        "学食の残高は四千五百円です。",
    )
    looking = SessionView(State.LOOKING_UP)
    unreadable = SessionView(State.UNKNOWN_CARD, notice=Notice.CARD_UNREADABLE)
    assert said(prompt_for(looking, unreadable)) == (
        "カードを読み取れませんでした。もう一度タッチしてください。",
    )
    offline = SessionView(State.OUT_OF_SERVICE)
    assert said(prompt_for(SessionView(State.ACCEPTING), offline)) == (
        "申し訳ありません。ただいまご利用いただけません。",
    )


def test_nothing_is_said_to_an_empty_hall_nor_twice_for_the_same_view() -> None:
    idle, out = SessionView(State.IDLE), SessionView(State.OUT_OF_SERVICE)
    done = SessionView(State.DONE, outcome=CreditOutcome.CONFIRMED, credited=1_000)
    assert prompt_for(None, idle) is None  # start-up, a resize, the staff menu closing
    assert prompt_for(idle, idle) is None
    assert prompt_for(out, idle) is None  # back in service: nobody there
    assert prompt_for(idle, out) is None  # staff took it out of service
    assert prompt_for(done, idle) is None  # the member has heard the result and left
    assert said(prompt_for(SessionView(State.ACCOUNT), idle)) == ("ご利用ありがとうございました。",)
    # a note left inside the machine is said even when nobody seemed to be there
    held = replace(out, held=2_000)
    assert "二千円札が機械の中に残っています。" in said(prompt_for(idle, held))
    # the language toggled: the same view says its prompt again, now in English
    choose = SessionView(State.CHOOSE_MONEY)
    assert said(prompt_for(choose, choose), "en") == ("Please choose the money to charge.",)


def test_the_time_out_warning() -> None:
    account = SessionView(State.ACCOUNT, deadline=100.0)
    assert said(warning_for(account)) == ("操作がないため、まもなく終了します。",)
    waiting = SessionView(State.ACCEPTING, inserted=2_000, deadline=100.0)
    assert said(warning_for(waiting)) == ("お札の投入がないため、まもなくチャージを終了します。",)
    assert warning_for(SessionView(State.ACCOUNT)) is None  # no deadline
    assert warning_for(SessionView(State.UNKNOWN_CARD, deadline=100.0)) is None
    assert warning_for(SessionView(State.CREDITING, deadline=100.0)) is None
    assert WARN_S > 0


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_fixed_sentences_are_the_ones_without_values(lang: str) -> None:
    sentences = Prompt(FIXED).text(TEXTS[lang], lang)
    assert len(set(sentences)) == len(sentences) >= 30
    assert all("{" not in s for s in sentences)
