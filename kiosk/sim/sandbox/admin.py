"""``paykiosk sandbox-admin``: members, cards and faults of a sandbox, live while it runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kiosk.sim.sandbox import faults as fault_settings
from kiosk.sim.sandbox.certs import ensure_certs
from kiosk.sim.sandbox.seed import MONEYS, add_member, ensure_seeded, write_sandbox_json
from kiosk.sim.sandbox.store import SandboxStore, new_id


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", required=True, help="the sandbox's data directory")
    commands = parser.add_subparsers(dest="admin_command", required=True)
    commands.add_parser("members", help="members, cards, statuses and balances")
    add = commands.add_parser("add-member", help="add a member with a card")
    add.add_argument("name")
    add.add_argument("card", help="card id (FeliCa IDm, 16 hex digits)")
    for bucket in MONEYS:
        add.add_argument(f"--{bucket}", type=int, default=0, help=f"{bucket} money balance")
    for verb in ("suspend", "resume", "close"):
        one = commands.add_parser(verb, help=f"{verb} every account of a member")
        one.add_argument("who", help="card id or user id")
    plant = commands.add_parser(
        "plant-topup", help="a top-up under the kiosk's shop that no kiosk made (reconciliation)"
    )
    plant.add_argument("who", help="card id or user id")
    plant.add_argument("amount", type=int)
    plant.add_argument("--money", choices=list(MONEYS), default="base")
    cancel = commands.add_parser(
        "cancel", help="cancel a done top-up or move in the back office (is_modified)"
    )
    cancel.add_argument("transaction", help="transaction id, or request id with --request")
    cancel.add_argument("--request", action="store_true", help="the id is a request_id")
    correct = commands.add_parser(
        "correct", help="change a transaction's amount in the back office"
    )
    correct.add_argument("transaction", help="transaction id, or request id with --request")
    correct.add_argument("amount", type=int)
    correct.add_argument("--request", action="store_true", help="the id is a request_id")
    style = commands.add_parser("not-found-style", help="answer for an unknown request_id")
    style.add_argument("status", type=int, choices=[404, 422])
    faults = commands.add_parser("faults", help="show or change injected faults")
    faults.add_argument("--latency-ms", type=int)
    faults.add_argument("--rate-503", type=float)
    faults.add_argument("--next-503", type=int)
    faults.add_argument("--drop-after-commit", type=int)
    faults.add_argument("--corrupt-responses", type=int)
    faults.add_argument("--hold-after-commit-ms", type=int)
    faults.add_argument("--refuse", choices=["on", "off"])
    faults.add_argument(
        "--clock-offset-s", type=float, help="run the sandbox's clock this far ahead (or -behind)"
    )
    faults.add_argument("--clear", action="store_true", help="remove every fault")


def main(argv: list[str]) -> int:
    """``paykiosk sandbox-admin ARGS``."""
    parser = argparse.ArgumentParser(prog="paykiosk sandbox-admin")
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = SandboxStore(data_dir / "sandbox.sqlite3")
    try:
        ensure_seeded(store)
        return _command(store, data_dir, args)
    finally:
        store.close()


def _command(store: SandboxStore, data_dir: Path, args: argparse.Namespace) -> int:
    command = args.admin_command
    if command == "members":
        print(members_table(store))
    elif command == "add-member":
        card = args.card.upper()
        if store.user_by_card(card):
            print(f"card {card} is already linked to a member")
            return 1
        balances = {bucket: getattr(args, bucket) for bucket in MONEYS}
        print(f"added {args.name}: user {add_member(store, args.name, card, balances)}")
    elif command in ("suspend", "resume", "close"):
        user = store.user_by_card(args.who.upper()) or args.who
        status = {"suspend": "suspended", "resume": "active", "close": "closed"}[command]
        if not store.set_user_status(user, status):
            print(f"no member with card or user id {args.who}")
            return 1
        print(f"{args.who}: {status}")
    elif command == "plant-topup":
        member = store.user_by_card(args.who.upper()) or args.who
        transaction_id = store.topup(
            shop_id=store.get_meta("shop_id"),
            customer_id=member,
            money_id=store.moneys()[args.money],
            money_amount=args.amount,
            request_id=new_id(),
            description="planted: made outside the kiosk",
            metadata="{}",
        )
        print(transaction_id)
    elif command in ("cancel", "correct"):
        target = _transaction_id(store, args.transaction, args.request)
        done = target is not None and (
            store.cancel(target)
            if command == "cancel"
            else store.correct_amount(target, args.amount)
        )
        if not done:
            print(f"no transaction {args.transaction} to {command}")
            return 1
        print(f"{target}: {'cancelled' if command == 'cancel' else 'corrected'}")
    elif command == "not-found-style":
        store.set_meta("missing_request_status", args.status)
    elif command == "faults":
        print(json.dumps(_faults(store, args).__dict__))
        return 0
    _refresh_json(store, data_dir)
    return 0


def _transaction_id(store: SandboxStore, given: str, by_request: bool) -> str | None:
    column = "request_id" if by_request else "id"
    row = store.one(f"SELECT id FROM transactions WHERE {column} = ?", (given,))
    return None if row is None else str(row["id"])


def _faults(store: SandboxStore, args: argparse.Namespace) -> fault_settings.Faults:
    if args.clear:
        return fault_settings.clear(store)
    changes: dict[str, object] = {
        name: value
        for name in (
            "latency_ms",
            "rate_503",
            "next_503",
            "drop_after_commit",
            "corrupt_responses",
            "hold_after_commit_ms",
            "clock_offset_s",
        )
        if (value := getattr(args, name)) is not None
    }
    if args.refuse:
        changes["refuse"] = args.refuse == "on"
    return fault_settings.update(store, **changes) if changes else fault_settings.load(store)


def members_table(store: SandboxStore) -> str:
    lines = [f"{'name':<14} {'card':<17} {'status':<10} " + " ".join(f"{b:>10}" for b in MONEYS)]
    for user in store.query("SELECT id, name FROM users WHERE is_merchant = 0 ORDER BY rowid"):
        accounts = {
            r["bucket"]: r
            for r in store.query(
                "SELECT a.*, m.bucket FROM accounts a JOIN moneys m ON m.id = a.money_id"
                " WHERE a.user_id = ?",
                (user["id"],),
            )
        }
        card = next((a["external_id"] for a in accounts.values() if a["external_id"]), "-")
        status = next(iter(accounts.values()))["status"] if accounts else "-"
        balances = " ".join(
            f"{accounts[b]['money_balance']:>10,}" if b in accounts else f"{'-':>10}"
            for b in MONEYS
        )
        lines.append(f"{user['name']:<14} {card:<17} {status:<10} {balances}")
    return "\n".join(lines)


def _refresh_json(store: SandboxStore, data_dir: Path) -> None:
    """Keep sandbox.json's member list current (the port stays what the server wrote)."""
    existing = data_dir / "sandbox.json"
    port = 0
    if existing.exists():
        port = int(json.loads(existing.read_text())["base_url"].rsplit(":", 1)[1])
    write_sandbox_json(store, data_dir, ensure_certs(data_dir), port)
