"""A kiosk configuration pointing at a local wallet sandbox (demo, tests, benchmarks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_sandbox_config(
    directory: Path,
    sandbox_info: dict[str, Any],
    acceptor_port: str,
    card_device: str,
    *,
    kiosk_id: str = "T01",
    idle_finish_s: float = 1.5,
    screen_timeout_s: float | None = 10.0,
    no_ui_money: str = "base",
    no_ui_move: tuple[str, int] | None = None,
    min_free_mb: float | None = None,
    lookup_timeout_s: float | None = None,
    wallet_timeout_s: float = 3.0,
    metrics_port: int | None = None,
    card_poll_timeout_s: float | None = None,
    reconcile_at: str | None = "off",
    archive_at: str | None = "off",
    extra: str = "",
) -> Path:
    """Write ``directory/paykiosk.toml`` (and its secret file) from a ``sandbox.json``;
    ``extra`` is appended (more sections, e.g. ``[gpio]``). No metrics endpoint unless
    ``metrics_port`` (kiosks in parallel tests would fight over the default port).
    ``no_ui_move``: (target bucket, amount): ``--no-ui`` moves that much from base at each
    member's touch instead of charging (``[no_ui] move_to``, ``move_amount``).
    ``card_poll_timeout_s``: ``[card] poll_timeout_s``; this and any other key given None is
    left out (the kiosk's own default holds). ``reconcile_at``: ``[staff] reconcile_at``, off
    unless asked (a daily run's wallet calls would take the faults a test sets up for the
    kiosk's credits), put into ``extra``'s ``[staff]`` table if it has one; ``archive_at``:
    ``[journal] archive_at``, off unless asked (its journal writes would come at any time of
    a crash test's run), put into ``extra``'s ``[journal]`` table if it has one."""
    metrics = "enabled = false" if metrics_port is None else f"port = {metrics_port}"
    card = _line("poll_timeout_s", card_poll_timeout_s)
    info = sandbox_info
    secret = directory / "client_secret"
    secret.write_text(info["client_secret"] + "\n")
    secret.chmod(0o600)
    moneys = info["moneys"]
    move = ""
    if no_ui_move is not None:
        move = f'move_to = "{no_ui_move[0]}"\nmove_amount = {no_ui_move[1]}\n'
    if reconcile_at is not None:
        extra = _into_table(extra, "staff", f'reconcile_at = "{reconcile_at}"')
    if archive_at is not None:
        extra = _into_table(extra, "journal", f'archive_at = "{archive_at}"')
    path = directory / "paykiosk.toml"
    path.write_text(f"""\
[kiosk]
id = "{kiosk_id}"
data_dir = "{directory / "data"}"
{_line("min_free_mb", min_free_mb)}
[wallet]
base_url = "{info["base_url"]}"
client_id = "{info["client_id"]}"
client_secret_file = "{secret}"
client_cert = "{info["client_cert"]}"
client_key = "{info["client_key"]}"
ca_file = "{info["ca_file"]}"
shop_id = "{info["shop_id"]}"
timeout_s = {wallet_timeout_s}

[moneys]
base = "{moneys["base"]}"
cafeteria = "{moneys["cafeteria"]}"
textbook = "{moneys["textbook"]}"

[card]
device = "{card_device}"
{card}
[acceptor]
port = "{acceptor_port}"
poll_ms = 100

[charge]
idle_finish_s = {idle_finish_s}
{_line("screen_timeout_s", screen_timeout_s)}{_line("lookup_timeout_s", lookup_timeout_s)}
[no_ui]
money = "{no_ui_money}"
{move}
[metrics]
{metrics}
{extra}""")
    return path


def _line(key: str, value: float | None) -> str:
    """``key = value`` and a newline; nothing for None (the kiosk's default)."""
    return "" if value is None else f"{key} = {value}\n"


def _into_table(extra: str, table: str, line: str) -> str:
    """``line`` into ``extra``'s ``[table]``, or that table added with it."""
    head = f"[{table}]\n"
    if head in extra:
        return extra.replace(head, f"{head}{line}\n", 1)
    return f"{extra}\n{head}{line}\n"
