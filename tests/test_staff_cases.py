"""Staff cases against the wallet sandbox and real journal files: a refused credit retried with
its same request (credited at most once), resolved by hand with who and a note, and the race
between staff and the delivery worker (whichever comes first wins, never both). The shell
commands run as real ``python -m kiosk`` processes."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hardware.card import mask_card_id
from kiosk.engine.delivery import Delivery
from kiosk.journal import Journal
from kiosk.journal.cases import CaseRefused
from kiosk.journal.records import Credit
from kiosk.sim.config import write_sandbox_config
from kiosk.wallet.client import WalletClient
from tests.support.common import one_line_error
from tests.support.engine import FAST_DELIVERY
from tests.support.kiosk_process import run_kiosk
from tests.support.wallet import FAST_RETRY, Sandbox, stacked_credit, with_client

CARD = "0123456789ABCDEF"
STAFF = "tanaka"


def _add_staff(journal: Journal, name: str = STAFF) -> None:
    """A staff member on record (as ``staff set-pin`` leaves one; the PIN plays no part here)."""
    with journal.db.write() as tx:
        tx.execute("INSERT INTO staff (name, created_at, updated_at) VALUES (?, 0, 0)", (name,))


def _credit(journal: Journal, wallet: Sandbox, user: str, amount: int) -> Credit:
    """A finished session of one stacked note (a member's masked card): its pending credit."""
    return stacked_credit(journal, wallet, user, amount, mask_card_id(CARD), "生協 太郎")


def _drain(journal: Journal, wallet: Sandbox) -> None:
    """One round of a delivery worker on this journal connection."""

    async def go() -> None:
        async with WalletClient(wallet.settings(), FAST_RETRY) as client:
            await Delivery(journal, client, FAST_DELIVERY).drain_once()

    asyncio.run(go())


def _refused_case(journal: Journal, wallet: Sandbox, amount: int = 2000) -> tuple[str, Credit, str]:
    """A suspended member's credit, refused for good by the wallet: (user, credit, case), the
    member active again (a retry would now go through)."""
    user = wallet.member(status="suspended")
    credit = _credit(journal, wallet, user, amount)
    _drain(journal, wallet)
    refused = journal.credits.get(credit.id)
    assert refused.state == "refused" and refused.reference is not None
    wallet.store.set_user_status(user, "active")
    return user, credit, refused.reference


def _topups(wallet: Sandbox, request_id: str) -> int:
    row = wallet.store.one(
        "SELECT COUNT(*) AS n FROM transactions WHERE request_id = ?", (request_id,)
    )
    assert row is not None
    return int(row["n"])


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = Journal(tmp_path / "journal.sqlite3", "K01")
    _add_staff(opened)
    yield opened
    opened.close()


def test_a_retried_credit_goes_with_its_same_request_and_closes_its_case(
    journal: Journal, wallet: Sandbox
) -> None:
    user, credit, reference = _refused_case(journal, wallet)
    assert wallet.balance(user, "base") == 0
    journal.cases.retry(reference, STAFF)
    assert journal.credits.get(credit.id).state == "pending"
    assert journal.cases.get(reference).state == "open"  # until the wallet has it
    _drain(journal, wallet)
    done = journal.credits.get(credit.id)
    assert (done.state, done.request_id) == ("confirmed", credit.request_id)
    assert wallet.balance(user, "base") == 2000
    assert _topups(wallet, credit.request_id) == 1
    case = journal.cases.get(reference)
    assert (case.state, case.resolution, case.resolved_by) == (
        "resolved",
        "credited_on_retry",
        "delivery",
    )
    with pytest.raises(CaseRefused, match="credited on retry"):
        journal.cases.retry(reference, STAFF)
    with pytest.raises(CaseRefused, match="credited on retry"):
        journal.cases.resolve(reference, "refunded", STAFF, "cash back")


def test_a_retry_after_the_wallet_had_committed_is_not_credited_twice(
    journal: Journal, wallet: Sandbox
) -> None:
    """The wallet created the top-up for this request (its answer never counted here): the
    retry, with the same request_id, finds it and credits nothing more."""
    user, credit, reference = _refused_case(journal, wallet, 5000)
    earlier = with_client(
        wallet.settings(),
        lambda client: client.topup(
            request_id=credit.request_id,
            customer_id=user,
            private_money_id=wallet.moneys["base"],
            money_amount=5000,
        ),
    )
    journal.cases.retry(reference, STAFF)
    _drain(journal, wallet)
    assert journal.credits.get(credit.id).transaction_id == earlier.id
    assert wallet.balance(user, "base") == 5000  # once, not 10,000
    assert journal.cases.get(reference).resolution == "credited_on_retry"


def test_refused_again_on_retry_the_case_stays_open_for_staff(
    journal: Journal, wallet: Sandbox
) -> None:
    user, credit, reference = _refused_case(journal, wallet)
    wallet.store.set_user_status(user, "suspended")  # still suspended when retried
    journal.cases.retry(reference, STAFF)
    _drain(journal, wallet)
    assert journal.credits.get(credit.id).state == "refused"
    assert [c.reference for c in journal.cases.list()] == [reference]  # the same one case
    events = [r["detail"] for r in journal.db.query("SELECT detail FROM events")]
    assert f"case {reference}: credit #{credit.id} refused again (account_suspended)" in events
    case = journal.cases.resolve(reference, "refunded", STAFF, "¥2,000 back in cash")
    assert (case.resolution, case.resolved_by) == ("refunded", STAFF)
    assert journal.cases.note_of(case) == "¥2,000 back in cash"
    with pytest.raises(CaseRefused, match="already resolved as refunded by tanaka"):
        journal.cases.retry(reference, STAFF)
    _drain(journal, wallet)
    assert journal.credits.get(credit.id).state == "refused"
    assert wallet.balance(user, "base") == 0


def test_a_worker_holding_a_stale_credit_sends_nothing_once_it_was_resolved_by_hand(
    journal: Journal, wallet: Sandbox
) -> None:
    """A worker read the credit while it was pending; before it sends, the credit was refused
    (by another round) and resolved by hand: its claim on the journal fails and nothing goes
    to the wallet, even though the wallet would now take it."""
    user = wallet.member(status="suspended")
    stale = _credit(journal, wallet, user, 1000)  # as a worker's due() saw it
    _drain(journal, wallet)
    reference = journal.credits.get(stale.id).reference
    assert reference is not None
    journal.cases.resolve(reference, "refunded", STAFF, "cash back")
    wallet.store.set_user_status(user, "active")

    async def late_worker() -> str:
        async with WalletClient(wallet.settings(), FAST_RETRY) as client:
            return (await Delivery(journal, client, FAST_DELIVERY).deliver(stale)).state

    assert asyncio.run(late_worker()) == "refused"
    assert wallet.balance(user, "base") == 0 and _topups(wallet, stale.request_id) == 0
    assert journal.credits.get(stale.id).state == "refused"


@dataclass
class _Round:
    offset_ms: float  # the resolve's start after the retry's (negative: before it)
    retry: str = ""  # "ok" or the refusal
    resolve: str = ""
    committed_unanswered: bool = False  # just after the resolve: at the wallet, still "sent" here


def _act(action: str, journal: Journal, reference: str) -> str:
    """One staff action on its own journal connection (as a ``paykiosk staff`` process)."""
    try:
        if action == "retry":
            journal.cases.retry(reference, STAFF)
        else:
            journal.cases.resolve(reference, "refunded", STAFF, "cash back at the counter")
    except CaseRefused as refused:
        return str(refused)
    return "ok"


def test_resolving_by_hand_while_the_worker_retries_credits_or_resolves_never_both(
    tmp_path: Path, wallet: Sandbox
) -> None:
    """Each round: a refused credit; staff retry it (then wake the worker, as the service menu
    does) and another staff member resolves it by hand, from 30 ms before to 250 ms after the
    retry. The kiosk's worker (``Delivery.run``) has its own connection; each staff action
    runs in a thread on its own. The wallet answers late, after committing (50 ms), so some
    resolves land while the top-up is committed there and not yet answered. Each round exactly
    one of {credited at the sandbox, resolved by hand} happens; the other action is refused."""
    path = tmp_path / "journal.sqlite3"
    setup, worker_journal = Journal(path, "K01"), Journal(path, "K01")
    _add_staff(setup)
    staff_retry, staff_resolve = Journal(path, "K01"), Journal(path, "K01")
    wallet.faults(latency_ms=20, hold_after_commit_ms=50)
    offsets = [-30, -10, -3, 0, 0, 3, 10, 25, 40, 55, 70, 90, 120, 250] * 2

    async def one_round(delivery: Delivery, offset_ms: float) -> _Round:
        user = wallet.member(status="suspended")
        credit = _credit(setup, wallet, user, 1000)
        delivery.wake()
        while setup.credits.get(credit.id).state != "refused":
            await asyncio.sleep(0.01)
        reference = str(setup.credits.get(credit.id).reference)
        wallet.store.set_user_status(user, "active")
        out = _Round(offset_ms)

        async def retry() -> None:
            await asyncio.sleep(max(0, -offset_ms) / 1000)
            out.retry = await asyncio.to_thread(_act, "retry", staff_retry, reference)
            delivery.wake()

        def resolve_and_look() -> None:
            out.resolve = _act("resolve", staff_resolve, reference)
            sent = staff_resolve.credits.get(credit.id).state == "sent"
            out.committed_unanswered = sent and _topups(wallet, credit.request_id) == 1

        async def resolve() -> None:
            await asyncio.sleep(max(0, offset_ms) / 1000)
            await asyncio.to_thread(resolve_and_look)

        await asyncio.gather(retry(), resolve())
        while setup.credits.get(credit.id).state not in ("confirmed", "refused"):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # anything the worker would still do, it does now
        credited = wallet.balance(user, "base")
        case = setup.cases.get(reference)
        by_hand = case.resolution == "refunded"
        assert credited in (0, 1000), out
        assert (credited == 1000) != by_hand, out  # exactly one, never both
        assert _topups(wallet, credit.request_id) == (1 if credited else 0), out
        if by_hand:
            assert out.resolve == "ok" and "already resolved" in out.retry, out
            assert setup.credits.get(credit.id).state == "refused", out
        else:
            assert out.retry == "ok" and "cannot be resolved" in out.resolve, out
            assert setup.credits.get(credit.id).state == "confirmed", out
            assert case.resolution == "credited_on_retry", out
        return out

    async def race() -> list[_Round]:
        async with WalletClient(wallet.settings(), FAST_RETRY) as client:
            delivery = Delivery(worker_journal, client, FAST_DELIVERY)
            worker = asyncio.create_task(delivery.run())
            try:
                return [await asyncio.wait_for(one_round(delivery, o), 20) for o in offsets]
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

    try:
        rounds = asyncio.run(race())
    finally:
        for journal in (setup, worker_journal, staff_retry, staff_resolve):
            journal.close()
    # the timings covered every order: resolve first, resolve while the top-up was on its way
    # (committed at the wallet and not answered yet, too), resolve after it was credited
    assert any(r.resolve == "ok" for r in rounds), rounds
    assert any("being retried" in r.resolve for r in rounds), rounds
    assert any(r.committed_unanswered and r.resolve != "ok" for r in rounds), rounds
    assert any("credited on retry" in r.resolve for r in rounds), rounds


def test_two_retries_at_once_credit_once(tmp_path: Path, wallet: Sandbox) -> None:
    """Two staff retry the same case at the same moment, each followed by a delivery round on
    its own connection (two workers: harsher than the kiosk's one): one retry is taken, the
    other refused, and the sandbox credits once."""
    path = tmp_path / "journal.sqlite3"
    setup = Journal(path, "K01")
    _add_staff(setup)
    wallet.faults(latency_ms=30)
    user, credit, reference = _refused_case(setup, wallet, 3000)
    barrier = threading.Barrier(2)
    said: list[str] = []

    def staff_then_worker() -> None:
        journal = Journal(path, "K01")
        try:
            barrier.wait(5)
            try:
                journal.cases.retry(reference, STAFF)
                said.append("ok")
            except CaseRefused as refused:
                said.append(str(refused))
            _drain(journal, wallet)
        finally:
            journal.close()

    threads = [threading.Thread(target=staff_then_worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert said.count("ok") == 1, said
    [refusal] = [s for s in said if s != "ok"]
    assert "being retried" in refusal or "credited on retry" in refusal, refusal
    assert wallet.balance(user, "base") == 3000
    assert _topups(wallet, credit.request_id) == 1
    assert setup.credits.get(credit.id).state == "confirmed"
    assert setup.cases.get(reference).resolution == "credited_on_retry"
    retried = setup.db.query(
        "SELECT detail FROM events WHERE kind = 'staff' AND detail LIKE ?",
        (f"case {reference} retried by {STAFF}%",),
    )
    assert len(retried) == 1
    setup.close()


# ---- the shell commands, as real processes -------------------------------------------------


def _ok(config: Path, *args: str) -> str:
    result = run_kiosk(config, "staff", *args)
    assert result.returncode == 0 and result.stderr == "", result
    assert CARD not in result.stdout
    return result.stdout


def _snapshot(config: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(config.parent / "data" / "journal.sqlite3")
    try:
        return [
            tuple(row)
            for table in ("cases", "credits", "events")
            for row in db.execute(f"SELECT * FROM {table} ORDER BY id")
        ]
    finally:
        db.close()


@pytest.fixture
def kiosk(tmp_path: Path, wallet: Sandbox) -> Iterator[tuple[Path, Journal]]:
    # staff commands open no device: the acceptor and reader in the config are never used
    config = write_sandbox_config(tmp_path, wallet.info, str(tmp_path / "acc"), "udp:127.0.0.1:9")
    journal = Journal(config.parent / "data" / "journal.sqlite3", "T01")
    _add_staff(journal)
    yield config, journal
    journal.close()


def test_staff_list_retry_and_resolve_cases_from_a_shell(
    kiosk: tuple[Path, Journal], wallet: Sandbox
) -> None:
    config, journal = kiosk
    assert _ok(config, "cases").splitlines() == ["open staff cases: 0"]
    user, credit, refused = _refused_case(journal, wallet)
    note_case = journal.cases.open("unresolved_note", amount=5000, detail="jam, then cleared")
    listing = _ok(config, "cases")
    assert listing.splitlines()[0] == "open staff cases: 2"
    [line] = [x for x in listing.splitlines() if refused in x]
    for shown in ("credit refused", "¥2,000", "生協 太郎", mask_card_id(CARD), "can be retried"):
        assert shown in line, line
    assert "account_suspended" in line
    assert "open: resolve by hand" in next(x for x in listing.splitlines() if note_case in x)

    said = _ok(config, "retry", refused, "--by", STAFF)
    assert f"case {refused}: credit #{credit.id} (¥2,000) goes to the wallet again" in said
    assert "being retried (pending)" in _ok(config, "cases")
    _drain(journal, wallet)  # the kiosk's worker
    assert wallet.balance(user, "base") == 2000

    said = _ok(
        config,
        *f"resolve {note_case} --as no_money_involved --by {STAFF} --note".split(),
        "note found in the stacker, counted at collection",
    )
    assert said.strip() == f"case {note_case} resolved as no_money_involved by {STAFF}"
    assert _ok(config, "cases").splitlines() == ["open staff cases: 0"]
    everything = _ok(config, "cases", "--all")
    assert everything.splitlines()[0] == "staff cases: 2"
    assert "credited on retry" in next(x for x in everything.splitlines() if refused in x)
    resolved = next(x for x in everything.splitlines() if note_case in x)
    assert f"resolved as no_money_involved by {STAFF}" in resolved
    assert "note found in the stacker, counted at collection" in resolved
    staff_events = [
        r["detail"] for r in journal.db.query("SELECT detail FROM events WHERE kind = 'staff'")
    ]
    assert any(f"case {refused} retried by {STAFF}" in e for e in staff_events), staff_events
    assert any(
        f"case {note_case} resolved as no_money_involved by {STAFF}" in e for e in staff_events
    )

    # a card id typed into a note is masked in the journal and in what is shown
    case = journal.cases.open("uncredited_note", amount=1000, detail="note after a restart")
    _ok(config, "resolve", case, "--as", "refunded", "--by", STAFF, "--note", f"card {CARD} paid")
    assert f"card {mask_card_id(CARD)} paid" in _ok(config, "cases", "--all")
    assert CARD not in str(_snapshot(config))


BAD = [  # the command line (cases by name), the words its one-line error says
    ("retry T01-20000101-0001 --by tanaka", "no case T01-20000101-0001"),
    ("retry {note} --by tanaka", "only a refused credit or move can be retried"),
    ("retry {refused}", "--by NAME is required"),
    ("retry {refused} --by suzuki", "suzuki|no such staff member"),
    ("resolve {refused} --as cash --by tanaka --note x", "--as must be one of|'cash'"),
    ("resolve {refused} --by tanaka --note x", "--as must be one of"),
    ("resolve {refused} --as refunded --by tanaka", "--note"),
    ("resolve {refused} --as refunded --by tanaka --note " + "x" * 201, "at most 200"),
    ("resolve {retrying} --as refunded --by tanaka --note cash", "being retried (pending)|wait"),
    ("retry {retrying} --by tanaka", "being retried"),
    ("resolve {done} --as refunded --by tanaka --note again", "already resolved as refunded"),
]


def test_pending_shows_a_refused_credits_cash_while_its_case_is_open(
    kiosk: tuple[Path, Journal], wallet: Sandbox
) -> None:
    config, journal = kiosk
    _user, credit, refused = _refused_case(journal, wallet)

    def pending() -> list[str]:
        result = run_kiosk(config, "pending")
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    shown = pending()
    cash = shown[shown.index("cash in the box not yet in a confirmed credit:") + 1]
    assert f"session #{credit.session_id}" in cash and "¥2,000 — credit refused" in cash, shown
    assert any(line.startswith(f"  {refused} refused_credit ¥2,000") for line in shown), shown

    journal.cases.resolve(refused, "refunded", STAFF, "cash handed back at the counter")
    shown = pending()  # the cash went back to the member: nothing of it is pending
    assert shown[1] == "  none" and shown[-2:] == ["open staff cases:", "  none"], shown


@pytest.mark.parametrize(("line", "words"), BAD)
def test_bad_staff_input_is_one_line_and_changes_nothing(
    kiosk: tuple[Path, Journal], wallet: Sandbox, line: str, words: str
) -> None:
    config, journal = kiosk
    cases = {
        "refused": _refused_case(journal, wallet)[2],
        "retrying": _refused_case(journal, wallet)[2],
        "done": _refused_case(journal, wallet)[2],
        "note": journal.cases.open("unresolved_note", amount=None, detail="lost in a power cut"),
    }
    journal.cases.retry(cases["retrying"], STAFF)  # waits for the kiosk's worker
    journal.cases.resolve(cases["done"], "refunded", STAFF, "paid out")
    before = _snapshot(config)
    args = line.format(**cases).split()
    one_line_error(run_kiosk(config, "staff", *args), *words.split("|"))
    assert _snapshot(config) == before


def test_the_staff_view_carries_what_staff_may_do_with_each_case(journal: Journal) -> None:
    from kiosk.staff.desk_pages import open_case, open_cases
    from kiosk.staff.view import CaseAction

    kinds = ("refused_credit", "refused_move", "uncredited_note", "journal_file")
    references = [journal.cases.open(kind, amount=1000, detail="") for kind in kinds]
    actions = {case.kind: case.actions for case in open_cases(journal)}
    retry, refunded = CaseAction.RETRY, CaseAction.REFUNDED
    by_hand, checked = CaseAction.CREDITED_MANUALLY, CaseAction.NO_MONEY_INVOLVED
    assert actions == {
        "refused_credit": (retry, refunded, by_hand),
        "refused_move": (retry, by_hand),  # a move took no cash: never refunded
        "uncredited_note": (refunded, by_hand),  # only a refused credit is sent again
        "journal_file": (checked,),  # nothing to pay back
    }
    journal.cases.resolve(references[0], "refunded", STAFF)
    assert open_case(journal, references[0]) is None  # settled: no longer offered at all
