"""What the kiosk says: a spoken prompt for each moment a member must act or must know
something, in the member's language. One rule, :func:`prompt_for` (the change from one view to
the next → a :class:`Prompt`, or nothing), and one for the time-out warning,
:func:`warning_for`. The words are catalog messages (``assets/locale``, beside the screens'),
marked here with ``_`` and translated when spoken: :meth:`Prompt.text`.

Nothing here plays or synthesizes: :mod:`screens.sounds` hands a prompt's lines to the sound
player process, which speaks them (:mod:`screens.speech`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.core.events import CreditOutcome, MoveOutcome, MoveRefusal, Notice
from kiosk.core.session import TIMEOUTS, State, Wait
from kiosk.core.view import SessionView


def _(message: str) -> str:
    """Marks a catalog message (it is translated when spoken, not here)."""
    return message


WARN_S = 10.0  # the time-out warning: this long before a member's screen gives up
LOOKUP_PAUSE_S = 0.8  # "reading your card" only when the wallet is slow to answer
WAIT_PAUSE_S = 1.5  # "please wait" only when crediting or moving takes a while


@dataclass(frozen=True)
class Line:
    """One sentence: a catalog message and its values (amounts in yen, money names)."""

    message: str
    amounts: dict[str, int] = field(default_factory=dict)
    moneys: dict[str, str] = field(default_factory=dict)  # bucket names, spoken by name


@dataclass(frozen=True)
class Prompt:
    """What to say, sentence by sentence; ``pause_s``: said only if the view is still the same
    after that long (a newer prompt, or none, takes its place)."""

    lines: tuple[Line, ...]
    pause_s: float = 0.0

    def text(self, translate: Callable[[str], str], lang: str) -> tuple[str, ...]:
        """The sentences as they are spoken in ``lang`` (``translate``: that language's
        catalog)."""
        return tuple(_spoken(line, translate, lang) for line in self.lines)


MONEY_NAMES = {"base": _("Base"), "cafeteria": _("Cafeteria"), "textbook": _("Textbook")}


def _spoken(line: Line, translate: Callable[[str], str], lang: str) -> str:
    values: dict[str, str] = {k: spoken_yen(v, lang) for k, v in line.amounts.items()}
    for key, bucket in line.moneys.items():
        values[key] = translate(MONEY_NAMES.get(bucket, bucket))
    return translate(line.message).format(**values)


# ---- amounts as a person says them ------------------------------------------------------------
_DIGITS = "〇一二三四五六七八九"
_SMALL = ((1000, "千"), (100, "百"), (10, "十"))
_LARGE = ((10**8, "億"), (10**4, "万"))


def _below_10000(number: int) -> str:
    words = ""
    for unit, name in _SMALL:
        count, number = divmod(number, unit)
        if count:
            words += ("" if count == 1 else _DIGITS[count]) + name
    return words + (_DIGITS[number] if number else "")


def kanji_number(number: int) -> str:
    """``6000`` → 六千, ``12340`` → 一万二千三百四十: the number as written to be read aloud."""
    if number == 0:
        return _DIGITS[0]
    words = ""
    for unit, name in _LARGE:
        count, number = divmod(number, unit)
        if count:
            words += _below_10000(count) + name
    return words + _below_10000(number)


def spoken_yen(amount: int, lang: str) -> str:
    """An amount as the voice says it: 「六千円」, "6,000 yen"."""
    if lang == "ja":
        return kanji_number(amount) + "円"
    return f"{amount:,} yen"


# ---- the prompts ------------------------------------------------------------------------------
THANKS = Line(_("Thank you."))
READING = Line(_("Reading your card. Please wait."))
ACCOUNT = Line(_("To add cash, press Charge."))
HISTORY = Line(_("Here is your history."))
CHOOSE = Line(_("Please choose the money to charge."))
INSERT = Line(_("Please insert your notes."))
FULL = Line(_("This money cannot be charged any further."))
WHEN_DONE = Line(_("Insert more notes, or press Done when you have finished."))
REJECTED = Line(_("This note was not accepted. Please take it back."))
RETURNED = Line(_("A note was handed back. Please take it."))
NOT_CHARGEABLE = Line(_("That money cannot be charged now."))
CREDITING = Line(_("Crediting your money. Please wait."))
NOTHING_TAKEN = Line(_("Your note came back. No money was taken."))
ASK_STAFF = Line(_("Please ask the staff."))
TELL_STORE = Line(_("Please tell the co-op store."))
NOTHING_LOST = Line(_("Nothing is lost."))
MOVE_ROUTE = Line(_("Please choose where to move money."))
MOVE_AMOUNT = Line(_("Please choose how much to move."))
MOVE_CONFIRM = Line(_("Check the amounts, then press Confirm."))
MOVING = Line(_("Moving your money. Please wait."))
MOVE_PENDING = Line(_("Your move is being processed."))
NOT_MOVED = Line(_("Nothing was moved."))
NOT_STARTED = Line(_("The move could not be started. Please try again later."))
UNREADABLE = Line(_("This card could not be read. Please touch it again."))
UNKNOWN = Line(_("This card is not registered. Please register it, then touch it again."))
SUSPENDED = Line(_("This card cannot be charged now. Please ask at the co-op store."))
UNAVAILABLE = Line(_("The e-money service cannot be reached. No cash was taken."))
TRY_LATER = Line(_("Please try again later."))
OUT_OF_SERVICE = Line(_("Sorry, this kiosk cannot be used now."))
WARNING = Line(_("No one is using the screen: it will close soon."))
FINISH_WARNING = Line(_("If you have no more notes, the charge will finish soon."))
MOVE_REFUSALS = {
    MoveRefusal.NOT_ENOUGH: Line(_("There is not that much money to move.")),
    MoveRefusal.OVER_CAP: Line(_("The money you are moving to cannot hold that much.")),
    MoveRefusal.ACCOUNT_STOPPED: Line(_("Your account is suspended.")),
    MoveRefusal.NOT_ALLOWED: Line(_("This move is not possible.")),
}


def _amount(message: str, **amounts: int) -> Line:
    return Line(message, amounts=amounts)


def _largest(view: SessionView) -> Line | None:
    """The largest note still taken, when a ¥10,000 note is not."""
    if view.largest_note is None:
        return FULL
    if view.largest_note < 10_000:
        return _amount(_("Notes up to {amount} are taken now."), amount=view.largest_note)
    return None


def _returned(view: SessionView) -> Line:
    if view.notice is Notice.NOTE_REJECTED:
        return REJECTED
    value = view.notice_amount
    if value and view.state is State.ACCEPTING and value > view.remaining:
        return _amount(_("Your {amount} note is over the limit. Please take it."), amount=value)
    if value:
        return _amount(_("Your {amount} note was handed back. Please take it."), amount=value)
    return RETURNED


def _result(view: SessionView) -> tuple[Line, ...]:
    """A finished charge, by its outcome."""
    money = {"money": view.bucket or ""}
    taken = view.credited or view.inserted
    match view.outcome:
        case CreditOutcome.CONFIRMED:
            charged = Line(_("{amount} was charged to {money}."), {"amount": taken}, money)
            if view.new_balance is None:
                return (charged,)
            return charged, _amount(_("The balance is {amount}."), amount=view.new_balance)
        case CreditOutcome.BEING_CREDITED:
            took = _amount(_("We took {amount}."), amount=taken)
            return took, Line(_("It is being credited to {money}."), moneys=money), NOTHING_LOST
        case CreditOutcome.REFUSED:
            refused = _amount(_("We took {amount} but could not credit it."), amount=taken)
            return refused, Line(_("Please show the reference on the screen at the co-op store."))
        case CreditOutcome.NOTHING_TAKEN:
            return (NOTHING_TAKEN,)
        case CreditOutcome.NOTE_HELD:
            return _held(view.held or view.notice_amount or 0), ASK_STAFF
        case CreditOutcome.KIOSK_FAULT:
            took = _amount(_("We took {amount}."), amount=taken)
            later = Line(_("It will be credited once the kiosk is repaired."))
            return took, later, NOTHING_LOST, TELL_STORE
    return ()


def _accepting(view: SessionView) -> tuple[Line, ...]:
    largest = _largest(view)
    if largest is FULL:
        return (FULL,)
    return (INSERT, largest) if largest is not None else (INSERT,)


def _held(amount: int) -> Line:
    if amount:
        return _amount(_("A {amount} note is still inside the machine."), amount=amount)
    return Line(_("A note is still inside the machine."))


def _moved(view: SessionView) -> tuple[Line, ...]:
    result, move = view.move_result, view.move
    if result is None:
        return ()
    if result.outcome is MoveOutcome.MOVED:
        lines = [Line(_("Moved."))]
        if move is not None and result.source_balance is not None:
            lines.append(_balance_of(move.source, result.source_balance))
        if move is not None and result.target_balance is not None:
            lines.append(_balance_of(move.target, result.target_balance))
        return tuple(lines)
    if result.outcome is MoveOutcome.REFUSED:
        reason = MOVE_REFUSALS.get(result.refusal) if result.refusal else None
        return (NOT_MOVED, reason) if reason else (NOT_MOVED,)
    if result.outcome is MoveOutcome.NOT_STARTED:
        return (NOT_STARTED,)
    return (MOVE_PENDING,)


def _balance_of(bucket: str, amount: int) -> Line:
    return Line(_("{money}: the balance is {amount}."), {"amount": amount}, {"money": bucket})


# What entering each state says (the member's session table's states, every one). IDLE and
# OUT_OF_SERVICE speak only when a member may be there (:func:`_nobody_there`).
ENTERED: dict[State, Callable[[SessionView], tuple[Line, ...]]] = {
    State.IDLE: lambda view: (THANKS,),
    State.LOOKING_UP: lambda view: (READING,),
    State.ACCOUNT: lambda view: (ACCOUNT,),
    State.HISTORY: lambda view: (HISTORY,),
    State.CHOOSE_MONEY: lambda view: (CHOOSE,),
    State.ACCEPTING: lambda view: _accepting(view),
    State.CREDITING: lambda view: (CREDITING,),
    State.DONE: _result,
    State.MOVE_ROUTE: lambda view: (MOVE_ROUTE,),
    State.MOVE_AMOUNT: lambda view: (MOVE_AMOUNT,),
    State.MOVE_CONFIRM: lambda view: (MOVE_CONFIRM,),
    State.MOVING: lambda view: (MOVING,),
    State.MOVED: _moved,
    State.UNKNOWN_CARD: lambda view: (
        (UNREADABLE,) if view.notice is Notice.CARD_UNREADABLE else (UNKNOWN,)
    ),
    State.ACCOUNT_SUSPENDED: lambda view: (SUSPENDED,),
    State.WALLET_UNAVAILABLE: lambda view: (UNAVAILABLE, TRY_LATER),
    State.OUT_OF_SERVICE: lambda view: (
        (OUT_OF_SERVICE, _held(view.held), ASK_STAFF) if view.held else (OUT_OF_SERVICE,)
    ),
}
PAUSES = {
    State.LOOKING_UP: LOOKUP_PAUSE_S,
    State.CREDITING: WAIT_PAUSE_S,
    State.MOVING: WAIT_PAUSE_S,
}
# A member is at the kiosk in these: leaving them for IDLE or OUT_OF_SERVICE is said.
_IN_USE = frozenset(
    {
        State.LOOKING_UP,
        State.ACCOUNT,
        State.HISTORY,
        State.CHOOSE_MONEY,
        State.ACCEPTING,
        State.CREDITING,
        State.MOVE_ROUTE,
        State.MOVE_AMOUNT,
        State.MOVE_CONFIRM,
        State.MOVING,
    }
)
_TAKING = frozenset({State.ACCEPTING, State.CREDITING})
_RETURNS = frozenset({Notice.NOTE_RETURNED, Notice.NOTE_REJECTED})


def prompt_for(previous: SessionView | None, view: SessionView) -> Prompt | None:
    """What the change from ``previous`` to ``view`` says, if anything. ``previous`` None or the
    same view (the language toggled): the current screen's prompt again, where a member is."""
    if previous is None or previous is view:
        return None if _nobody_there(None, view) else _entered(view)
    if view.state is not previous.state:
        return None if _nobody_there(previous, view) else _entered(view)
    lines: list[Line] = []
    if view.notice in _RETURNS and (
        view.notice is not previous.notice or view.notice_amount != previous.notice_amount
    ):
        lines.append(_returned(view))
    elif view.notice is Notice.MONEY_NOT_CHARGEABLE and previous.notice is not view.notice:
        lines.append(NOT_CHARGEABLE)
    if view.state in _TAKING and view.inserted > previous.inserted:
        lines.append(_amount(_("{amount} in total."), amount=view.inserted))
        if view.largest_note != previous.largest_note and (largest := _largest(view)):
            lines.append(largest)
        if previous.inserted == 0 and view.state is State.ACCEPTING and view.largest_note:
            lines.append(WHEN_DONE)
    if view.state is State.DONE and view.outcome is not previous.outcome:
        lines.extend(_result(view))
    if view.state is State.MOVED and view.move_result != previous.move_result:
        lines.extend(_moved(view))
    return Prompt(tuple(lines)) if lines else None


def _nobody_there(previous: SessionView | None, view: SessionView) -> bool:
    """IDLE and OUT_OF_SERVICE speak only when a member just left a screen of theirs (start-up,
    staff, a result or an error screen timing out: nobody, or they have heard it all), or when a
    note of theirs is left inside the machine."""
    if view.state not in (State.IDLE, State.OUT_OF_SERVICE):
        return False
    if view.state is State.OUT_OF_SERVICE and view.held:
        return False
    return previous is None or previous.state not in _IN_USE


def _entered(view: SessionView) -> Prompt | None:
    lines = ENTERED[view.state](view)
    if view.state is State.ACCEPTING and view.inserted:
        lines = (_amount(_("{amount} in total."), amount=view.inserted), *lines[1:])
    return Prompt(lines, PAUSES.get(view.state, 0.0)) if lines else None


def warning_for(view: SessionView) -> Prompt | None:
    """What is said :data:`WARN_S` before ``view``'s screen gives up on a member who went quiet:
    a screen that waits for the member's touch, and the notes' wait (the charge then finishes
    by itself)."""
    wait = TIMEOUTS.get(view.state)
    if view.deadline is None or wait not in (Wait.SCREEN, Wait.IDLE_FINISH):
        return None
    if view.state in (State.UNKNOWN_CARD, State.ACCOUNT_SUSPENDED, State.WALLET_UNAVAILABLE):
        return None  # an error screen closing on its own loses nothing
    if wait is Wait.IDLE_FINISH:
        return Prompt((FINISH_WARNING,)) if view.inserted else Prompt((WARNING,))
    return Prompt((WARNING,))


def phrases() -> tuple[Line, ...]:
    """Every sentence said the same way each time (no amount, no money name): what the cache
    renders ahead, so a Pi does not synthesize them while a member waits."""
    return FIXED


# The module's fixed sentences, gathered once: every constant :class:`Line` above without values.
FIXED: tuple[Line, ...] = tuple(
    {
        line.message: line
        for line in (*list(globals().values()), *MOVE_REFUSALS.values())
        if isinstance(line, Line) and not line.amounts and not line.moneys
    }.values()
)
