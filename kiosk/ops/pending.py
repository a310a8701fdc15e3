"""``paykiosk pending`` and ``paykiosk journal``: the journal, read from a shell."""

from __future__ import annotations

from datetime import datetime

from kiosk.core.money import yen
from kiosk.journal import Journal
from kiosk.journal.records import Credit, CreditKind


def _when(at: float | None) -> str:
    return datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M:%S") if at else "-"


def pending(journal: Journal) -> str:
    """Cash in the box not yet in a confirmed credit (a refused one: while its case is open),
    cash credits not yet confirmed, moves (マネー移動 moves: no cash) not yet confirmed, open
    staff cases. Reads what is pending only (through the indexes), not the journal's years."""
    lines = ["cash in the box not yet in a confirmed credit:"]
    # Whatever its session's state: stacked notes whose credit is not confirmed, notes being
    # stacked that the journal could not yet record as stacked (a full disk at VEND VALID:
    # the unit holds them, or has put them in the box), and notes of unknown fate (a case)
    # The notes are picked through the indexes (no credit yet; a credit on its way; a credit
    # refused whose case is open; being stacked; of unknown fate), never by reading every note
    # of the journal's years. A refused credit whose case staff resolved (the cash handed back,
    # or credited by hand) is settled: not pending, however many years of them there are
    rows = journal.db.query(
        "WITH picked (id) AS ("
        " SELECT id FROM notes WHERE state = 'stacked' AND credit_id IS NULL"
        # CROSS JOIN: from the few credits not confirmed to their notes, never the other way
        " UNION SELECT n.id FROM credits c CROSS JOIN notes n ON n.state = 'stacked'"
        "  AND n.credit_id = c.id WHERE c.state IN ('pending', 'sent')"
        " UNION SELECT n.id FROM cases k CROSS JOIN credits c ON c.id = k.credit_id"
        "  CROSS JOIN notes n ON n.state = 'stacked' AND n.credit_id = c.id"
        "  WHERE k.state = 'open' AND c.state = 'refused'"
        " UNION SELECT id FROM notes WHERE state = 'stack_sent'"
        " UNION SELECT n.id FROM cases k JOIN notes n ON n.id = k.note_id"
        "  WHERE k.state = 'open' AND n.state = 'unresolved')"
        "SELECT n.session_id, n.state AS note_state, s.state AS session_state,"
        " c.state AS credit_state, COUNT(*) AS notes, SUM(n.value) AS amount"
        " FROM picked p JOIN notes n ON n.id = p.id LEFT JOIN sessions s ON s.id = n.session_id"
        " LEFT JOIN credits c ON c.id = n.credit_id"
        " GROUP BY n.session_id, n.state, s.state, c.state ORDER BY n.session_id, n.state DESC"
    )
    for row in rows:
        held = _held(row["note_state"], row["credit_state"])
        lines.append(
            f"  session #{row['session_id']} ({row['session_state'] or '-'}): {row['notes']}"
            f" notes, {yen(int(row['amount']))} — {held}"
        )
    if rows:
        total = sum(int(r["amount"]) for r in rows)
        unsure = sum(int(r["amount"]) for r in rows if r["note_state"] != "stacked")
        unsure_text = f" (of which {yen(unsure)} may be in the box or still in the unit)"
        lines.append(f"  total {yen(total)}" + (unsure_text if unsure else ""))
    else:
        lines.append("  none")
    lines.append("credits not yet confirmed:")
    open_credits = journal.credits.open_credits(kind=CreditKind.CASH)
    lines.extend(_open_line(c, f"{yen(c.amount)} → {c.bucket}") for c in open_credits)
    if not open_credits:
        lines.append("  none")
    lines.append("moves (マネー移動, no cash) not yet confirmed:")
    moves = journal.credits.open_credits(kind=CreditKind.MOVE)
    lines.extend(
        _open_line(c, f"move {yen(c.amount)} {c.source_bucket} → {c.bucket}") for c in moves
    )
    if not moves:
        lines.append("  none")
    lines.append("open staff cases:")
    cases = journal.cases.list()
    for case in cases:
        amount = yen(case.amount) if case.amount is not None else "value unknown"
        if case.kind == "journal_file":
            amount = "no money"
        lines.append(
            f"  {case.reference} {case.kind} {amount} ({_when(case.created_at)}): {case.detail}"
        )
    if not cases:
        lines.append("  none")
    return "\n".join(lines)


def _held(note_state: str, credit_state: str | None) -> str:
    if note_state == "stack_sent":
        return "being stacked: not yet recorded as stacked (may be in the box)"
    if note_state == "unresolved":
        return "fate unknown: a staff case (may be in the box)"
    return f"credit {credit_state}" if credit_state else "no credit yet"


def _open_line(credit: Credit, what: str) -> str:
    c = credit
    return (
        f"  #{c.id} {what} ({c.state}, {c.attempts} attempts, since {_when(c.created_at)})"
        f" request {c.request_id}" + (f" — last error: {c.last_error}" if c.last_error else "")
    )


def journal_report(journal: Journal, limit: int = 20) -> str:
    """Recent sessions, notes, credits, events and the cash box."""
    count = journal.cashbox.count()
    box = ", ".join(f"{yen(v)}×{n}" for v, n in sorted(count.counts.items())) or "empty"
    lines = [
        f"cash box since last collection: {box} — {count.notes} notes, {yen(count.total)}",
        f"cash box ledger equals stacked notes: {journal.cashbox.matches_notes()}",
        f"credits by state: {journal.credits.counts() or 'none'}",
        f"moves (マネー移動) by state: {journal.moves.counts() or 'none'}",
        f"recent sessions (last {limit}):",
    ]
    for s in journal.sessions.recent(limit):
        notes = journal.notes.of_session(s.id)
        taken = sum(n.value for n in notes if n.state.value == "stacked")
        lines.append(
            f"  #{s.id} {_when(s.started_at)} card {s.card_tag} {s.bucket}"
            f" {s.state}/{s.outcome or '-'} notes in {yen(taken)}"
        )
    lines.append(f"recent events (last {limit}):")
    for row in journal.db.query("SELECT * FROM events ORDER BY id DESC LIMIT ?", (limit,)):
        lines.append(f"  {_when(row['at'])} {row['kind']}: {row['detail']}")
    return "\n".join(lines)
