"""The staff menu's controller (the "desk"): entry with a staff card or the service key and a
PIN, then status, cash box, collection and staff cases, on the kiosk's own journal.

It runs on the engine's loop. While it is open the kiosk is out of service for members (the
acceptor inhibited) through the engine's fault sources; it closes itself after
``[staff] menu_timeout_s`` untouched. Every staff action is journaled with who did it; the PIN
typed lives only here, as digits, until it is checked, and never reaches a view or a log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from hardware.acceptor import AcceptorEvent, BillAcceptor
from hardware.card import CardReader
from kiosk.config.settings import Config, wallet_settings
from kiosk.core.cues import SpeakerSettings
from kiosk.core.faults import FaultSource
from kiosk.core.money import DENOMINATIONS
from kiosk.core.session import State
from kiosk.core.view import SessionView
from kiosk.journal import Journal
from kiosk.journal.cases import CaseRefused
from kiosk.journal.note_choice import NoteChoiceRefused
from kiosk.journal.reconciliations import Run
from kiosk.journal.speaker import VOLUME_STEP
from kiosk.ops.archives import listing
from kiosk.ops.reconcile import reconcile_now, summary
from kiosk.staff.acceptor_tools import AcceptorTools
from kiosk.staff.access import Entry, Lock, StaffAccess
from kiosk.staff.archive_export import export_month_for_staff
from kiosk.staff.cashbox_report import collection_event, summary_text
from kiosk.staff.credentials import PIN_MAX, PIN_MIN
from kiosk.staff.day_close import DayClose, close_day, day_text
from kiosk.staff.desk_pages import cashbox_fields, open_case, open_cases, recent_events
from kiosk.staff.export import export_day, export_for_staff
from kiosk.staff.menu_timer import MenuTimer
from kiosk.staff.status_rows import live_rows, status_rows
from kiosk.staff.view import ARCHIVE_LINES, ArchiveRow, CaseAction, Desk, StaffView
from kiosk.wallet.client import WalletClient

log = logging.getLogger("paykiosk.staff")

KIOSK_NOTE = "recorded at the kiosk's staff menu"
RESTING = (State.IDLE, State.OUT_OF_SERVICE)


class EngineInbox(Protocol):
    """What the desk posts to the engine (from any thread)."""

    def device_fault(self, source: FaultSource, detail: str | None) -> None: ...
    def card_touched(self, card_id: str) -> None: ...
    def stop(self) -> None: ...


class EngineSide(Protocol):
    """What the desk needs of the engine."""

    @property
    def inbox(self) -> EngineInbox: ...
    @property
    def wallet(self) -> WalletClient: ...


Listener = Callable[[StaffView], None]
T = TypeVar("T")
SpeakerListener = Callable[[SpeakerSettings], None]


class StaffDesk:
    """The staff menu's state; ``listeners`` get each new :class:`StaffView`."""

    def __init__(
        self,
        journal: Journal,
        config: Config,
        engine: EngineSide,
        acceptor: BillAcceptor,
        wake_delivery: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.journal, self.config, self.engine = journal, config, engine
        self.acceptor = AcceptorTools(acceptor, journal)
        self.settings = config.staff
        self.access = StaffAccess(journal, config.staff, clock)
        self.listeners: list[Listener] = []
        self.speaker_listeners: list[SpeakerListener] = []  # the speaker, told of each change
        self.view = StaffView(Desk.CLOSED)
        self.member_state = State.OUT_OF_SERVICE
        self._wake_delivery = wake_delivery
        self._clock = clock
        self._pin = ""
        self._card: str | None = None  # the staff card that asked for the PIN
        self._who = ""
        self._counted: dict[int, int] = {}
        self._day = date.today()  # the daily close shown (set when its page opens)
        self._checking = False  # the shown day is being checked against the wallet
        self._archives: tuple[ArchiveRow, ...] = ()  # ARCHIVES: as last checked
        self._archive_first = 0
        self._archive_busy = False  # the archives are being checked, or one exported
        self._archive_work = ("", "")  # what the page says meanwhile (msgid, value)
        self.timer = MenuTimer(config.staff.menu_timeout_s, self._timed_out)
        self._switched_off = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.reader: CardReader | None = None  # the card reader, once started (status)

    # ---- what the kiosk tells the desk ---------------------------------------------------
    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop the desk runs on (card touches arrive from the reader's thread)."""
        self._loop = self.timer.loop = loop

    def member_view(self, view: SessionView) -> None:
        """The engine's listener: a staff card is taken only while no member is at the kiosk."""
        self.member_state = view.state

    def card_from_reader(self, card_id: str) -> None:
        """The card reader's thread: a touch goes to the desk's loop, then to the desk (a
        staff card) or on to the engine (a member's)."""
        if self._loop is None:
            self.engine.inbox.card_touched(card_id)
            return
        self._loop.call_soon_threadsafe(self.card_touched, card_id)

    def card_touched(self, card_id: str) -> None:
        if self.view.desk is not Desk.CLOSED:
            return  # the menu is open: a card means nothing here
        owner = self.access.card_owner(card_id) if self.member_state in RESTING else None
        if owner is None:
            self.engine.inbox.card_touched(card_id)
            return
        self._card, self._who = card_id, owner
        self._open()
        self._ask_pin(via="card")

    def acceptor_from_driver(self, event: AcceptorEvent) -> None:
        """The acceptor's thread: its events go to the desk's loop (the acceptor screens)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.acceptor_event, event)

    def acceptor_event(self, event: AcceptorEvent) -> None:
        if self.acceptor.heard(event) and self.view.desk in (Desk.ACCEPTOR, Desk.ACCEPTOR_TEST):
            self._show(self._acceptor_view(self.view.desk, self.view.message))

    def key_from_switch(self, on: bool) -> None:
        """The GPIO thread: the service key's change, handed to the desk's loop."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.key_turned, on)

    def key_turned(self, on: bool) -> None:
        """The service key: on opens the name choice (then a PIN); off closes a menu it opened."""
        if on and self.view.desk is Desk.CLOSED:
            self._card, self._who = None, ""
            self._open()
            if self._locked():
                return
            names = tuple(m.name for m in self.access.members() if m.has_pin)
            self._show(StaffView(Desk.CHOOSE_NAME, via="key", names=names))
        elif not on and self.view.via == "key":
            self._close("the service key turned off")

    # ---- entry -------------------------------------------------------------------------
    def staff_name(self, name: str) -> None:
        if self.view.desk is Desk.CHOOSE_NAME and name in self.view.names:
            self._who = name
            self._ask_pin(via="key")

    def staff_digit(self, digit: str) -> None:
        if self.view.desk is Desk.PIN and digit.isdigit() and len(digit) == 1:
            if len(self._pin) < PIN_MAX:
                self._pin += digit
            self._show(replace(self.view, pin_digits=len(self._pin), message=""))

    def staff_erase(self) -> None:
        if self.view.desk is Desk.PIN:
            self._pin = self._pin[:-1]
            self._show(replace(self.view, pin_digits=len(self._pin), message=""))

    def staff_enter(self) -> None:
        if self.view.desk is not Desk.PIN or len(self._pin) < PIN_MIN:
            return
        pin, self._pin = self._pin, ""
        if self._card is not None:
            entry = self.access.enter_with_card(self._card, pin)
        else:
            entry = self.access.enter_with_key(self._who, pin)
        self._entered(entry)

    def _entered(self, entry: Entry) -> None:
        if entry.granted and entry.name:
            self._who = entry.name
            log.info("staff menu: %s entered (%s)", entry.name, self.view.via)
            self._menu("")
            return
        lock = self.access.lock()
        if self._show_if_locked(lock):  # this attempt locked entry, or a lock held already
            return
        left = self.settings.max_pin_attempts - lock.wrong_in_row
        self._show(
            replace(
                self.view,
                pin_digits=0,
                message="Wrong PIN: {value} tries left",
                message_arg=str(left),
            )
        )

    def _locked(self) -> bool:
        return self._show_if_locked(self.access.lock())

    def _show_if_locked(self, lock: Lock) -> bool:
        if not lock.holds(self._clock()):
            return False
        self._show(StaffView(Desk.LOCKED, via=self.view.via, locked_until=lock.until))
        return True

    # ---- the menu ----------------------------------------------------------------------
    def staff_open(self, desk: Desk) -> None:
        if not self._inside():
            return
        if desk is Desk.STATUS:
            rows = status_rows(self.config, self.journal, self._clock())
            rows[-1:-1] = live_rows(self.acceptor.panel(), self.engine.wallet, self.reader)
            self._show(self._base(Desk.STATUS, status=tuple(rows)))
        elif desk is Desk.CASHBOX:
            self._show(self._cashbox_view(Desk.CASHBOX))
        elif desk is Desk.COUNT:
            self._counted = {}
            self._show(self._cashbox_view(Desk.COUNT))
        elif desk is Desk.CASES:
            self._show(self._cases_view(""))
        elif desk is Desk.EVENTS:
            self._show(self._base(Desk.EVENTS, events=tuple(recent_events(self.journal))))
        elif desk is Desk.RESTART:
            self._show(self._base(Desk.RESTART))
        elif desk is Desk.ACCEPTOR:
            self._show(self._acceptor_view(Desk.ACCEPTOR, ""))
        elif desk is Desk.DAY_CLOSE:
            self._day = self._today()
            self._show(self._day_view(""))
        elif desk is Desk.SPEAKER:
            self._show(self._base(Desk.SPEAKER, speaker=self.speaker_settings()))
        elif desk is Desk.ARCHIVES:
            self._check_archives()
        elif desk is Desk.MENU:
            self._menu("")

    def staff_back(self) -> None:
        desk = self.view.desk
        if desk is Desk.CASE:
            self._show(self._cases_view(""))
        elif desk is Desk.COUNT:
            self._show(self._cashbox_view(Desk.CASHBOX))
        elif desk is Desk.ACCEPTOR_TEST:
            self.staff_test(False)
        elif self._inside() and desk is not Desk.MENU:
            self._menu("")
        elif desk in (Desk.CHOOSE_NAME, Desk.PIN, Desk.LOCKED, Desk.MENU):
            self.staff_close()

    def staff_activity(self) -> None:
        """A touch the desk has nothing to do with (the language): the menu's time starts over."""
        if self.view.desk is not Desk.CLOSED:
            self._show(self.view)

    def staff_close(self) -> None:
        if self.view.desk is not Desk.CLOSED:
            self._close("closed by staff" if self._inside() else "entry cancelled")

    def staff_service(self, out_of_service: bool) -> None:
        if not self._inside() or out_of_service == self._switched_off:
            return
        self._switched_off = out_of_service
        detail = "taken out of service by staff" if out_of_service else None
        self.engine.inbox.device_fault(FaultSource.STAFF_SWITCH, detail)
        what = "out of service" if out_of_service else "back in service"
        self.journal.log("staff", f"{self._who}: kiosk {what} (staff menu)")
        self._menu("The kiosk is out of service" if out_of_service else "The kiosk is in service")

    def staff_export(self) -> None:
        """The cash ledger, credits, cases and collections as CSV to ``[staff] export_dir``."""
        if self.view.desk is Desk.MENU:
            folder = self.settings.export_dir
            self._menu(*export_for_staff(self.journal, self.config.kiosk.id, folder, self._who))

    def staff_restart(self) -> None:
        """Stop the app (systemd's ``Restart=always`` starts it again); the engine closes what
        is open first, as on SIGTERM."""
        if self.view.desk is not Desk.RESTART:
            return
        self.journal.log("staff", f"{self._who}: restart of the app (staff menu)")
        log.warning("restart asked by staff (%s)", self._who)
        self._close("restarting the app")
        self.engine.inbox.stop()

    # ---- the daily close -----------------------------------------------------------------
    def staff_day(self, delta: int) -> None:
        """The day before (``delta`` < 0) or after; never past today."""
        if self.view.desk is Desk.DAY_CLOSE:
            day = self._day + timedelta(days=1 if delta > 0 else -1)
            self._day = min(day, self._today())
            self._show(self._day_view(""))

    def staff_day_export(self) -> None:
        """The shown day's close as CSV to ``[staff] export_dir`` (the USB stick)."""
        if self.view.desk is not Desk.DAY_CLOSE:
            return
        close = self._close_of_day()
        folder = self.config.staff.export_dir
        try:
            if folder is None:
                raise ValueError("no [staff] export_dir in the configuration")
            written = export_day(close, folder)
        except ValueError as error:
            self.journal.log("staff", f"{self._who}: daily close export failed: {error}")
            self._show(self._day_view("Export failed: {value}", str(error)))
            return
        self.journal.log(
            "staff",
            f"{self._who}: daily close of {self._day.isoformat()} exported to {written.path}",
        )
        self._show(self._day_view("Exported {value} files", "1"))

    def staff_day_reconcile(self) -> None:
        """Check the shown day against the wallet's ledger now: on a worker thread with its own
        wallet client (never on the engine's loop); the page says the result when it is in
        (a mismatch opens its case). The menu is open only while no member is at the kiosk."""
        if self.view.desk is not Desk.DAY_CLOSE or self._checking:
            return
        day, zone = self._day, self.config.kiosk.time_zone
        buckets = {money: bucket for bucket, money in self.config.moneys.items()}
        settings, who = wallet_settings(self.config), self._who

        def check() -> Run:
            return reconcile_now(self.journal, settings, day, zone, buckets, who)

        def shown(result: Run | BaseException) -> None:
            self._checking = False
            if isinstance(result, BaseException):
                message, arg = "Not done: {value}", str(result)
            elif result.result == "postponed":
                message, arg = "Postponed: {value}", result.detail
            else:
                message, arg = "Checked with the wallet: {value}", summary(result)
            if self.view.desk is Desk.DAY_CLOSE and self._day == day:
                self._show(self._day_view(message, arg))

        self._checking = True
        self._show(self._day_view("Checking with the wallet…"))
        self._in_worker(check, shown)

    def _in_worker(self, work: Callable[[], T], then: Callable[[T | BaseException], None]) -> None:
        """``work`` on a worker thread (never on the engine's loop: a wallet call, files read
        or written), ``then`` with its result or error on the desk's loop; done here when the
        desk is bound to no loop (a test's desk)."""
        if self._loop is None:
            try:
                result: T | BaseException = work()
            except Exception as error:
                result = error
            then(result)
            return
        future = self._loop.run_in_executor(None, work)
        future.add_done_callback(
            lambda done: then(done.exception() or done.result())  # on the desk's loop
        )

    def _today(self) -> date:
        return datetime.fromtimestamp(self._clock(), ZoneInfo(self.config.kiosk.time_zone)).date()

    def _close_of_day(self) -> DayClose:
        zone = self.config.kiosk.time_zone
        return close_day(self.journal, self.config.kiosk.id, self._day, zone)

    def _day_view(self, message: str, arg: str = "") -> StaffView:
        text = day_text(self._close_of_day())
        last = self._day >= self._today()
        return self._base(
            Desk.DAY_CLOSE,
            day=self._day.isoformat(),
            last_day=last,
            record_text=text,
            message=message,
            message_arg=arg,
        )

    # ---- the journal's archives ------------------------------------------------------------
    def _check_archives(self) -> None:
        """The archive page: every month's archive checked against its checksum file on a
        worker thread (each file is read whole), the page saying so meanwhile."""
        if self._archive_busy:  # back on the page while its work goes on: it says which
            self._show(self._archives_view(*self._archive_work))
            return
        folder = self.config.archive_dir

        def check() -> tuple[ArchiveRow, ...]:
            return tuple(
                ArchiveRow(
                    e.month, e.rows, e.size, None if e.problem is None else e.problem.fault.value
                )
                for e in listing(folder, rows_too=False)  # the checksums: an export checks all
            )

        def shown(result: tuple[ArchiveRow, ...] | BaseException) -> None:
            self._archive_busy = False
            if isinstance(result, BaseException):
                message, arg = "Not done: {value}", str(result)
            else:
                self._archives, message, arg = result, "", ""
            if self.view.desk is Desk.ARCHIVES:
                self._show(self._archives_view(message, arg))

        self._archives, self._archive_first = (), 0
        self._archive_started("Checking the archives…", "")
        self._in_worker(check, shown)

    def staff_archive_page(self, delta: int) -> None:
        """The newer (``delta`` < 0) or older page of months."""
        if self.view.desk is Desk.ARCHIVES:
            step = ARCHIVE_LINES if delta > 0 else -ARCHIVE_LINES
            last = max(0, len(self._archives) - 1) // ARCHIVE_LINES * ARCHIVE_LINES
            self._archive_first = min(max(0, self._archive_first + step), last)
            self._show(self._archives_view(self.view.message, self.view.message_arg))

    def staff_archive_export(self, month: str) -> None:
        """A verified month's archive, its checksum and its CSV files to ``[staff] export_dir``
        (the USB stick), on a worker thread; journaled with who asked."""
        if self.view.desk is not Desk.ARCHIVES or self._archive_busy:
            return
        if not any(r.month == month and r.problem is None for r in self._archives):
            return  # only a month the page offers (verified)
        folder, who = self.settings.export_dir, self._who
        archive_dir, kiosk_id = self.config.archive_dir, self.config.kiosk.id

        def export() -> tuple[str, str]:
            return export_month_for_staff(self.journal, archive_dir, month, kiosk_id, folder, who)

        def shown(result: tuple[str, str] | BaseException) -> None:
            self._archive_busy = False
            if isinstance(result, BaseException):
                result = ("Export failed: {value}", str(result))
            if self.view.desk is Desk.ARCHIVES:
                self._show(self._archives_view(*result))

        self._archive_started("Exporting {value}…", month)
        self._in_worker(export, shown)

    def _archive_started(self, message: str, arg: str) -> None:
        self._archive_busy, self._archive_work = True, (message, arg)
        self._show(self._archives_view(message, arg))

    def _archives_view(self, message: str, arg: str = "") -> StaffView:
        return self._base(
            Desk.ARCHIVES,
            archives=self._archives,
            archive_first=self._archive_first,
            busy=self._archive_busy,
            message=message,
            message_arg=arg,
        )

    # ---- the speaker ---------------------------------------------------------------------
    def speaker_settings(self) -> SpeakerSettings:
        """The voice and volume now: staff's (journaled) over the configuration's."""
        return self.journal.speaker.settings(self._speaker_defaults())

    def staff_voice(self, on: bool) -> None:
        if self.view.desk is Desk.SPEAKER:
            defaults = self._speaker_defaults()
            self._speaker(self.journal.speaker.set_voice(on, self._who, defaults))

    def staff_volume(self, delta: int) -> None:
        """The volume one step up (``delta`` > 0) or down."""
        if self.view.desk is Desk.SPEAKER:
            now = self.speaker_settings().volume
            volume = now + (VOLUME_STEP if delta > 0 else -VOLUME_STEP)
            volume = max(0, min(100, volume))
            if volume != now:
                defaults = self._speaker_defaults()
                self._speaker(self.journal.speaker.set_volume(volume, self._who, defaults))

    def _speaker_defaults(self) -> SpeakerSettings:
        return SpeakerSettings(self.config.ui.voice, self.config.ui.volume)

    def _speaker(self, settings: SpeakerSettings) -> None:
        for listener in self.speaker_listeners:
            listener(settings)
        self._show(self._base(Desk.SPEAKER, speaker=settings))

    # ---- the acceptor --------------------------------------------------------------------
    def staff_note(self, value: int, on: bool) -> None:
        if self.view.desk is not Desk.ACCEPTOR:
            return
        try:
            self.acceptor.switch(value, on, self._who)
        except NoteChoiceRefused as error:
            self._show(self._acceptor_view(Desk.ACCEPTOR, "Not done: {value}", str(error)))
            return
        self._show(self._acceptor_view(Desk.ACCEPTOR, ""))

    def staff_acceptor_reset(self) -> None:
        if self.view.desk is not Desk.ACCEPTOR:
            return
        done = self.acceptor.reset(self._who)
        said = "The acceptor is resetting" if done else "The acceptor is offline"
        self._show(self._acceptor_view(Desk.ACCEPTOR, said))

    def staff_test(self, on: bool) -> None:
        """The test mode: notes fed are checked and handed back (ACCEPTOR_TEST) until off."""
        if on and self.view.desk is Desk.ACCEPTOR:
            if self.acceptor.start_test(self._who):
                self._show(self._acceptor_view(Desk.ACCEPTOR_TEST, ""))
            else:
                self._show(self._acceptor_view(Desk.ACCEPTOR, "The acceptor is offline"))
        elif not on and self.view.desk is Desk.ACCEPTOR_TEST:
            self.acceptor.end_test(self._who)
            self._show(self._acceptor_view(Desk.ACCEPTOR, ""))

    # ---- collection --------------------------------------------------------------------
    def staff_count(self, value: int, delta: int) -> None:
        if self.view.desk is Desk.COUNT and value in DENOMINATIONS:
            self._counted[value] = max(0, self._counted.get(value, 0) + delta)
            self._show(self._cashbox_view(Desk.COUNT))

    def staff_count_save(self) -> None:
        if self.view.desk is not Desk.COUNT:
            return
        counted = {v: n for v, n in self._counted.items() if n}
        record = self.journal.cashbox.record_collection(
            self._who, counted, KIOSK_NOTE, event=collection_event
        )
        self._counted = {}
        text = summary_text(record, self.config.kiosk.id)
        self._show(self._base(Desk.RECORD, record=record, record_text=text))

    # ---- staff cases -------------------------------------------------------------------
    def staff_case(self, reference: str) -> None:
        if self.view.desk is Desk.CASES:
            self._show_case(reference, "")

    def staff_retry(self, reference: str) -> None:
        if not self._offered(reference, CaseAction.RETRY):
            return
        try:
            self.journal.cases.retry(reference, self._who)
        except (CaseRefused, KeyError) as error:
            self._show_case(reference, "Not done: {value}", str(error))
            return
        self._wake_delivery()
        self._show(self._cases_view("Case {value} is being sent again", reference))

    def staff_resolve(self, reference: str, resolution: CaseAction) -> None:
        if resolution is CaseAction.RETRY or not self._offered(reference, resolution):
            return
        try:
            self.journal.cases.resolve(reference, resolution, self._who, KIOSK_NOTE)
        except (CaseRefused, KeyError, ValueError) as error:
            self._show_case(reference, "Not done: {value}", str(error))
            return
        self._show(self._cases_view("Case {value} resolved", reference))

    def _offered(self, reference: str, action: CaseAction) -> bool:
        """The case on screen offers this action (a press from a screen that has changed
        since, or for another case, does nothing)."""
        case = self.view.case if self.view.desk is Desk.CASE else None
        return case is not None and case.reference == reference and action in case.actions

    # ---- views -------------------------------------------------------------------------
    def _base(self, desk: Desk, **fields: object) -> StaffView:
        view = StaffView(
            desk, staff=self._who, via=self.view.via, out_of_service=self._switched_off
        )
        return replace(view, **fields)  # type: ignore[arg-type]

    def _menu(self, message: str, arg: str = "") -> None:
        full = cashbox_fields(self.journal, self.settings, {})["near_full"]
        cases = open_cases(self.journal)
        view = self._base(Desk.MENU, message=message, near_full=full, cases=cases)
        self._show(replace(view, message_arg=arg))

    def _cashbox_view(self, desk: Desk) -> StaffView:
        return self._base(desk, **cashbox_fields(self.journal, self.settings, self._counted))

    def _acceptor_view(self, desk: Desk, message: str, arg: str = "") -> StaffView:
        panel = self.acceptor.panel()
        return self._base(desk, acceptor=panel, message=message, message_arg=arg)

    def _cases_view(self, message: str, arg: str = "") -> StaffView:
        cases = open_cases(self.journal)
        return self._base(Desk.CASES, cases=cases, message=message, message_arg=arg)

    def _show_case(self, reference: str, message: str, arg: str = "") -> None:
        found = open_case(self.journal, reference)
        if found is None:
            self._show(self._cases_view("Case {value} is no longer open", reference))
            return
        self._show(self._base(Desk.CASE, case=found, message=message, message_arg=arg))

    def _ask_pin(self, via: str) -> None:
        if self._locked():
            return
        self._pin = ""
        self._show(StaffView(Desk.PIN, staff=self._who, via=via, pin_length=PIN_MIN))

    # ---- open, close, time-out ---------------------------------------------------------
    def _inside(self) -> bool:
        return self.view.desk not in (Desk.CLOSED, Desk.CHOOSE_NAME, Desk.PIN, Desk.LOCKED)

    def _open(self) -> None:
        self.engine.inbox.device_fault(FaultSource.STAFF_MENU, "staff menu open")

    def _close(self, why: str) -> None:
        if self._inside():
            self.journal.log("staff", f"{self._who}: staff menu closed ({why})")
        self.acceptor.end_test(self._who)
        self._pin, self._card, self._who, self._counted = "", None, "", {}
        self.timer.cancel()
        self.engine.inbox.device_fault(FaultSource.STAFF_MENU, None)
        self._show(StaffView(Desk.CLOSED, out_of_service=self._switched_off), timer=False)

    def _show(self, view: StaffView, timer: bool = True) -> None:
        if timer:
            view = replace(view, deadline=self.timer.restart())
        self.view = view
        for listener in self.listeners:
            listener(view)

    def _timed_out(self) -> None:
        if self.view.desk is not Desk.CLOSED:
            self._close("untouched for a while")
